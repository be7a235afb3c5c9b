//! Registry documentation from the schemas (their doc-comment descriptions) and `examples/`,
//! in the Terraform registry layout tfplugindocs writes: `docs/index.md`,
//! `docs/resources/<name>.md`, `docs/data-sources/<name>.md`, `docs/functions/<name>.md`,
//! `docs/list-resources/<name>.md` (`terraform query`, examples from
//! `examples/list-resources/<type>/*.tfquery.hcl`) and `docs/actions/<name>.md` (examples from
//! `examples/actions/<type>/action.tf`). Resource pages with a resource identity show its
//! schema and the `import { identity = { … } }` syntax
//! (`examples/resources/<type>/import-by-identity.tf`, else one made from the identity schema).
//!
//! `run(root, check = true)` fails when `docs/` is stale; the test command runs it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::framework::{AttrType, Attribute, IdentitySchema, Nesting, Registry, Schema, Type};

/// Errors writing or checking docs.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "docs/ is stale; run `cargo run -p terraform-provider-defender -- docs` and commit:\n{0}"
    )]
    Stale(String),
}

const PROVIDER_NAME: &str = "defender";

/// Writes (or checks) every page; returns a one-line report.
pub fn run(root: &Path, check: bool) -> Result<String, DocsError> {
    let registry = crate::resources::registry();
    let pages = render_all(&registry, root)?;
    let docs = root.join("docs");
    let mut stale = Vec::new();
    // Pages on disk that nothing generates any more are stale too.
    for dir in [
        "resources",
        "data-sources",
        "functions",
        "list-resources",
        "actions",
    ] {
        let d = docs.join(dir);
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let rel = PathBuf::from(dir).join(e.file_name());
                if !pages.contains_key(&rel) {
                    if check {
                        stale.push(format!("  {} is not generated any more", rel.display()));
                    } else {
                        std::fs::remove_file(e.path()).map_err(|source| DocsError::Io {
                            path: e.path(),
                            source,
                        })?;
                    }
                }
            }
        }
    }
    for (rel, text) in &pages {
        let path = docs.join(rel);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if check {
            stale.push(format!(
                "  {} {}",
                rel.display(),
                if current.is_some() {
                    "differs"
                } else {
                    "is missing"
                }
            ));
        } else {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| DocsError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(&path, text).map_err(|source| DocsError::Io {
                path: path.clone(),
                source,
            })?;
        }
    }
    if !stale.is_empty() {
        return Err(DocsError::Stale(stale.join("\n")));
    }
    Ok(format!(
        "docs: {} pages {}",
        pages.len(),
        if check { "up to date" } else { "written" }
    ))
}

fn read_example(root: &Path, rel: &str) -> Result<Option<String>, DocsError> {
    let path = root.join(rel);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s.trim_end().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DocsError::Io { path, source }),
    }
}

/// Renders every page, keyed by path relative to `docs/`.
pub fn render_all(
    registry: &Registry,
    root: &Path,
) -> Result<BTreeMap<PathBuf, String>, DocsError> {
    let mut pages = BTreeMap::new();
    pages.insert(PathBuf::from("index.md"), render_index(registry, root)?);
    for (name, r) in &registry.resources {
        let dir = format!("examples/resources/{name}");
        let page = Page {
            kind: "Resource",
            name,
            schema: r.schema(),
            example: read_example(root, &format!("{dir}/resource.tf"))?,
            import: read_example(root, &format!("{dir}/import.sh"))?,
            extra: read_example(root, &format!("{dir}/notes.md"))?,
        };
        let mut text = page.render();
        if let Some(identity) = r.identity_schema() {
            let example = match read_example(root, &format!("{dir}/import-by-identity.tf"))? {
                Some(ex) => ex,
                None => identity_example(name, identity),
            };
            write_identity(&mut text, identity, &example);
        }
        pages.insert(
            PathBuf::from("resources").join(format!("{}.md", short(name))),
            text,
        );
    }
    for (name, l) in &registry.list_resources {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "---\npage_title: \"{name} List Resource - terraform-provider-{PROVIDER_NAME}\""
        );
        let _ = writeln!(
            s,
            "subcategory: \"\"\ndescription: |-\n{}\n---\n",
            indent(first_paragraph(l.description()))
        );
        let _ = writeln!(s, "# {name} (List Resource)\n\n{}\n", l.description());
        let _ = writeln!(
            s,
            "A `list` block in a `.tfquery.hcl` file, run with `terraform query` (Terraform \
             1.14+). Each result carries the [`{name}`](../resources/{}.md) resource's \
             identity; with `include_resource = true` (needed by \
             `terraform query -generate-config-out=FILE`) also the resource itself.\n",
            short(name)
        );
        for ex in read_examples(
            root,
            &format!("examples/list-resources/{name}"),
            ".tfquery.hcl",
        )? {
            let _ = writeln!(s, "## Example Usage\n\n```terraform\n{ex}\n```\n");
        }
        let _ = writeln!(
            s,
            "## Configuration\n\nThe attributes of the `config` block.\n"
        );
        let mut body = String::new();
        write_schema(&mut body, l.schema());
        s.push_str(body.trim_start_matches("## Schema\n\n"));
        pages.insert(
            PathBuf::from("list-resources").join(format!("{}.md", short(name))),
            s,
        );
    }
    for (name, a) in &registry.actions {
        let dir = format!("examples/actions/{name}");
        let page = Page {
            kind: "Action",
            name,
            schema: a.schema(),
            example: read_example(root, &format!("{dir}/action.tf"))?,
            import: None,
            extra: read_example(root, &format!("{dir}/notes.md"))?,
        };
        let text = page.render().replacen(
            "## Schema\n",
            "## Schema\n\nThe attributes of the action's `config` block.\n",
            1,
        );
        pages.insert(
            PathBuf::from("actions").join(format!("{}.md", short(name))),
            text,
        );
    }
    for (name, d) in &registry.data_sources {
        let dir = format!("examples/data-sources/{name}");
        let page = Page {
            kind: "Data Source",
            name,
            schema: d.schema(),
            example: read_example(root, &format!("{dir}/data-source.tf"))?,
            import: None,
            extra: read_example(root, &format!("{dir}/notes.md"))?,
        };
        pages.insert(
            PathBuf::from("data-sources").join(format!("{}.md", short(name))),
            page.render(),
        );
    }
    for (name, f) in &registry.functions {
        let sig = f.signature();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "---\npage_title: \"{name} function - terraform-provider-{PROVIDER_NAME}\""
        );
        let _ = writeln!(
            s,
            "subcategory: \"\"\ndescription: |-\n  {}\n---\n",
            sig.summary
        );
        let _ = writeln!(s, "# function: {name}\n\n{}\n", sig.description);
        if let Some(ex) = read_example(root, &format!("examples/functions/{name}/function.tf"))? {
            let _ = writeln!(s, "## Example Usage\n\n```terraform\n{ex}\n```\n");
        }
        let params: Vec<String> = sig
            .params
            .iter()
            .map(|p| format!("{} {}", p.name, type_name(&p.ty)))
            .collect();
        let _ = writeln!(
            s,
            "## Signature\n\n```text\n{name}({}) {}\n```\n",
            params.join(", "),
            type_name(&sig.returns)
        );
        let _ = writeln!(s, "## Arguments\n");
        for (i, p) in sig.params.iter().enumerate() {
            let _ = writeln!(
                s,
                "{}. `{}` ({}) {}",
                i + 1,
                p.name,
                type_name(&p.ty),
                p.description
            );
        }
        pages.insert(PathBuf::from("functions").join(format!("{name}.md")), s);
    }
    Ok(pages)
}

/// Every example file in `dir` ending in `suffix`, in name order.
fn read_examples(root: &Path, dir: &str, suffix: &str) -> Result<Vec<String>, DocsError> {
    let path = root.join(dir);
    let mut names: Vec<String> = match std::fs::read_dir(&path) {
        Ok(entries) => entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(suffix))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(DocsError::Io { path, source }),
    };
    names.sort();
    let mut out = Vec::new();
    for n in names {
        if let Some(text) = read_example(root, &format!("{dir}/{n}"))? {
            out.push(text);
        }
    }
    Ok(out)
}

/// An `import` block by identity made from the identity schema: required attributes with a
/// placeholder, optional ones as a comment.
fn identity_example(name: &str, identity: &IdentitySchema) -> String {
    let mut s = format!("import {{\n  to = {name}.example\n  identity = {{\n");
    for a in &identity.schema.attributes {
        if a.required {
            let _ = writeln!(s, "    {} = \"…\"", a.name);
        } else {
            let _ = writeln!(s, "    # {} = \"…\" (optional)", a.name);
        }
    }
    s.push_str("  }\n}");
    s
}

fn write_identity(s: &mut String, identity: &IdentitySchema, example: &str) {
    if !s.contains("## Import\n") {
        s.push_str("\n## Import\n");
    }
    let _ = writeln!(
        s,
        "\nIn Terraform 1.12 and later, an `import` block can name the resource by its \
         identity instead of its ID:\n\n```terraform\n{example}\n```\n"
    );
    let _ = writeln!(s, "### Identity Schema\n");
    for (title, required) in [("Required", true), ("Optional", false)] {
        let mut members: Vec<&Attribute> = identity
            .schema
            .attributes
            .iter()
            .filter(|a| a.required == required)
            .collect();
        if members.is_empty() {
            continue;
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        let _ = writeln!(s, "#### {title}\n");
        for a in members {
            let _ = writeln!(
                s,
                "- `{}` ({}) {}",
                a.name,
                attr_type_name(a),
                a.description.replace('\n', " ")
            );
        }
        let _ = writeln!(s);
    }
    let trimmed = s.trim_end().len();
    s.truncate(trimmed);
    s.push('\n');
}

fn short(type_name: &str) -> &str {
    type_name.strip_prefix("defender_").unwrap_or(type_name)
}

fn render_index(registry: &Registry, root: &Path) -> Result<String, DocsError> {
    let schema = registry.provider.schema();
    let mut s = String::new();
    let _ = writeln!(s, "---\npage_title: \"{PROVIDER_NAME} Provider\"");
    let _ = writeln!(
        s,
        "description: |-\n{}\n---\n",
        indent(first_paragraph(&schema.description))
    );
    let _ = writeln!(s, "# {PROVIDER_NAME} Provider\n\n{}\n", schema.description);
    if let Some(ex) = read_example(root, "examples/provider/provider.tf")? {
        let _ = writeln!(s, "## Example Usage\n\n```terraform\n{ex}\n```\n");
    }
    if let Some(extra) = read_example(root, "examples/provider/notes.md")? {
        let _ = writeln!(s, "{extra}\n");
    }
    write_schema(&mut s, schema);
    Ok(s)
}

struct Page<'a> {
    kind: &'a str,
    name: &'a str,
    schema: &'a Schema,
    example: Option<String>,
    import: Option<String>,
    extra: Option<String>,
}

impl Page<'_> {
    fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "---\npage_title: \"{} {} - terraform-provider-{PROVIDER_NAME}\"",
            self.name, self.kind
        );
        let _ = writeln!(
            s,
            "subcategory: \"\"\ndescription: |-\n{}\n---\n",
            indent(first_paragraph(&self.schema.description))
        );
        let _ = writeln!(
            s,
            "# {} ({})\n\n{}\n",
            self.name, self.kind, self.schema.description
        );
        if let Some(ex) = &self.example {
            let _ = writeln!(s, "## Example Usage\n\n```terraform\n{ex}\n```\n");
        }
        // A `## Import` section of notes.md joins the generated one: one Import section a page.
        let (extra, import_notes) = match &self.extra {
            Some(extra) => split_section(extra, "Import"),
            None => (String::new(), None),
        };
        if !extra.is_empty() {
            let _ = writeln!(s, "{extra}\n");
        }
        write_schema(&mut s, self.schema);
        if let Some(imp) = &self.import {
            let _ = writeln!(
                s,
                "## Import\n\nImport is supported using the following syntax:\n\n```shell\n{imp}\n```"
            );
        }
        if let Some(notes) = import_notes {
            if self.import.is_none() {
                let _ = writeln!(s, "## Import");
            }
            let _ = writeln!(s, "\n{notes}");
        }
        s
    }
}

/// Takes the `## {title}` section (heading to the next `## ` heading or the end) out of
/// Markdown: the rest, and the section's body without its heading.
fn split_section(markdown: &str, title: &str) -> (String, Option<String>) {
    let heading = format!("## {title}");
    let mut rest: Vec<&str> = Vec::new();
    let mut body: Option<Vec<&str>> = None;
    let mut inside = false;
    let mut fenced = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && line.starts_with("## ") {
            inside = line.trim_end() == heading;
            if inside {
                body.get_or_insert_with(Vec::new);
                continue;
            }
        }
        match (&mut body, inside) {
            (Some(b), true) => b.push(line),
            _ => rest.push(line),
        }
    }
    let body = body
        .map(|b| b.join("\n").trim().to_owned())
        .filter(|b| !b.is_empty());
    (rest.join("\n").trim().to_owned(), body)
}

fn first_paragraph(text: &str) -> &str {
    text.split("\n\n").next().unwrap_or("").trim()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn write_schema(s: &mut String, schema: &Schema) {
    let _ = writeln!(s, "## Schema\n");
    let mut nested: Vec<(String, &[Attribute])> = Vec::new();
    write_groups(s, "", &schema.attributes, &mut nested);
    while !nested.is_empty() {
        let pending = std::mem::take(&mut nested);
        for (path, attrs) in pending {
            let anchor = format!("nestedatt--{}", path.replace('.', "--"));
            let _ = writeln!(
                s,
                "<a id=\"{anchor}\"></a>\n### Nested Schema for `{path}`\n"
            );
            write_groups(s, &format!("{path}."), attrs, &mut nested);
        }
    }
}

fn write_groups<'a>(
    s: &mut String,
    prefix: &str,
    attrs: &'a [Attribute],
    nested: &mut Vec<(String, &'a [Attribute])>,
) {
    type Pick = fn(&Attribute) -> bool;
    let groups: [(&str, Pick); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional),
    ];
    for (title, pick) in &groups {
        let mut members: Vec<&Attribute> = attrs.iter().filter(|a| pick(a)).collect();
        if members.is_empty() {
            continue;
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        if prefix.is_empty() {
            let _ = writeln!(s, "### {title}\n");
        } else {
            let _ = writeln!(s, "{title}:\n");
        }
        for a in members {
            let mut line = format!("- `{}` ({})", a.name, attr_type_name(a));
            if a.sensitive {
                line.push_str(", Sensitive");
            }
            if a.write_only {
                line.push_str(", Write-only");
            }
            let desc = a.description.replace('\n', " ");
            if !desc.is_empty() {
                line.push(' ');
                line.push_str(&desc);
            }
            if !a.allowed.is_empty() {
                let vals: Vec<String> = a.allowed.iter().map(|v| format!("`{v}`")).collect();
                let _ = write!(line, " Allowed values: {}.", vals.join(", "));
            }
            if a.requires_replace {
                line.push_str(" Changing this forces a new resource.");
                if a.case_insensitive {
                    line.push_str(" A change of case alone is an in-place update.");
                }
            }
            if let Some(dep) = &a.deprecation {
                let _ = write!(line, " **Deprecated**: {dep}");
            }
            if let AttrType::Nested(_, inner) = &a.ty {
                let path = format!("{prefix}{}", a.name);
                let _ = write!(
                    line,
                    " (see [below for nested schema](#nestedatt--{}))",
                    path.replace('.', "--")
                );
                nested.push((path, inner));
            }
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(s);
    }
}

fn attr_type_name(a: &Attribute) -> String {
    if a.block {
        // Written `timeouts { … }`, as in azurerm.
        return "Block".into();
    }
    match &a.ty {
        AttrType::Plain(t) => type_name(t),
        AttrType::Nested(Nesting::Single, _) => "Attributes".into(),
        AttrType::Nested(Nesting::List, _) => "Attributes List".into(),
        AttrType::Nested(Nesting::Set, _) => "Attributes Set".into(),
        AttrType::Nested(Nesting::Map, _) => "Attributes Map".into(),
    }
}

fn type_name(t: &Type) -> String {
    match t {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object { .. } => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn an_import_section_of_the_notes_is_taken_out_whole() {
        let notes = "## Destroy\n\nResets.\n\n## Import\n\nBrings extensions.\n\n```md\n## not a heading\n```\n\n## Moving\n\nmoved {}";
        let (rest, import) = super::split_section(notes, "Import");
        assert_eq!(rest, "## Destroy\n\nResets.\n\n## Moving\n\nmoved {}");
        assert_eq!(
            import.as_deref(),
            Some("Brings extensions.\n\n```md\n## not a heading\n```")
        );
        assert_eq!(super::split_section("## Destroy\n\nx", "Import").1, None);
    }

    /// Every resource page has one Import section, whatever its notes.md holds.
    #[test]
    fn one_import_section_a_page() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let pages = super::render_all(&crate::resources::registry(), &root).unwrap();
        for (path, text) in &pages {
            let n = text.lines().filter(|l| l.trim_end() == "## Import").count();
            assert!(n <= 1, "{}: {n} Import sections", path.display());
        }
    }

    /// The checked-in docs match what the schemas and examples generate.
    #[test]
    fn docs_are_up_to_date() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        if let Err(e) = super::run(&root, true) {
            panic!("{e}");
        }
    }
}
