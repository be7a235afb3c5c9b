//! Terraform schemas, derived from the same serde model structs that carry the values.
//!
//! A model derives `schemars::JsonSchema`; doc comments become descriptions (and docs), and
//! Terraform-only marks ride along as schema extensions on the field:
//!
//! ```ignore
//! /// The subscription, defaulting to the provider's.
//! #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
//! subscription_id: Option<String>,
//! ```
//!
//! Marks: `computed` (alone: computed-only), `optional` + `computed` (optional+computed),
//! `sensitive`, `write_only`, `requires_replace`. Without marks a field is required unless it
//! is an `Option` (or has a serde default). Nested structs become nested attributes
//! (protocol 6 `nested_type`), never blocks; the one block is the framework's own `timeouts`
//! (see `timeouts.rs`).

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};

use crate::protocol::tfplugin6 as pb;
use crate::protocol::value::Type;

/// Nesting of a nested attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
}

/// What an attribute holds: a plain cty type or nested attributes.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrType {
    Plain(Type),
    Nested(Nesting, Vec<Attribute>),
}

/// One attribute of a schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: AttrType,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    /// Framework-only: a change forces replacement.
    pub requires_replace: bool,
    /// Framework-only: the service compares this string without regard to case (an ARM ID),
    /// so a change of case alone is an in-place update, never a replacement.
    pub case_insensitive: bool,
    pub deprecation: Option<String>,
    /// Allowed string values, from a Rust enum (used by docs and validation).
    pub allowed: Vec<String>,
    /// Served as a nested block rather than an attribute: only the framework's `timeouts`
    /// (azurerm users write `timeouts { … }`, block syntax). Same value shape as a single
    /// nested attribute: an object, or null when the block is absent.
    pub block: bool,
}

/// A resource, data source or provider schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub version: i64,
    pub description: String,
    pub attributes: Vec<Attribute>,
}

/// Errors in a model's schema: programming errors, caught by tests over the registry.
#[derive(Debug, thiserror::Error)]
#[error("schema of {model}: {message}")]
pub struct SchemaError {
    pub model: String,
    pub message: String,
}

impl Attribute {
    /// This (single nested) attribute served as a nested block.
    pub fn as_block(mut self) -> Self {
        debug_assert!(matches!(self.ty, AttrType::Nested(Nesting::Single, _)));
        self.block = true;
        self
    }

    /// The nested block of a single nested attribute marked [`Attribute::block`].
    fn to_block_proto(&self) -> pb::schema::NestedBlock {
        let attributes = match &self.ty {
            AttrType::Nested(_, attrs) => attrs.iter().map(Attribute::to_proto).collect(),
            AttrType::Plain(_) => Vec::new(),
        };
        pb::schema::NestedBlock {
            type_name: self.name.clone(),
            block: Some(pb::schema::Block {
                version: 0,
                attributes,
                block_types: Vec::new(),
                description: self.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: false,
                deprecation_message: String::new(),
            }),
            nesting: pb::schema::nested_block::NestingMode::Single as i32,
            min_items: 0,
            max_items: 0,
        }
    }

    /// The cty type of the attribute's value.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttrType::Plain(t) => t.clone(),
            AttrType::Nested(nesting, attrs) => {
                let obj = object_type(attrs);
                match nesting {
                    Nesting::Single => obj,
                    Nesting::List => Type::list(obj),
                    Nesting::Set => Type::set(obj),
                    Nesting::Map => Type::map(obj),
                }
            }
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested) = match &self.ty {
            AttrType::Plain(t) => (t.to_json_bytes(), None),
            AttrType::Nested(nesting, attrs) => (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attrs.iter().map(Attribute::to_proto).collect(),
                    nesting: match nesting {
                        Nesting::Single => pb::schema::object::NestingMode::Single,
                        Nesting::List => pb::schema::object::NestingMode::List,
                        Nesting::Set => pb::schema::object::NestingMode::Set,
                        Nesting::Map => pb::schema::object::NestingMode::Map,
                    } as i32,
                }),
            ),
        };
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: ty,
            nested_type: nested,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecation.is_some(),
            write_only: self.write_only,
            deprecation_message: self.deprecation.clone().unwrap_or_default(),
        }
    }
}

fn object_type(attrs: &[Attribute]) -> Type {
    Type::object(attrs.iter().map(|a| (a.name.clone(), a.value_type())))
}

impl Schema {
    /// Derives the schema of a model type.
    pub fn of<M: schemars::JsonSchema>() -> Result<Schema, SchemaError> {
        let root = schemars::SchemaGenerator::default().into_root_schema_for::<M>();
        let json = root.to_value();
        let model = M::schema_name().to_string();
        let defs = json
            .get("$defs")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        let cx = Cx {
            defs: &defs,
            model: &model,
        };
        // The root's title is only the schema's name.
        let mut root = json.clone();
        if root.get("title").and_then(Json::as_str) == Some(model.as_str())
            && let Some(o) = root.as_object_mut()
        {
            o.remove("title");
        }
        let description = describe(&root);
        let attributes = cx.attributes(&json, 0)?;
        Ok(Schema {
            version: 0,
            description,
            attributes,
        })
    }

    pub fn with_version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The cty object type of a whole value of this schema.
    pub fn value_type(&self) -> Type {
        object_type(&self.attributes)
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(pb::schema::Block {
                version: self.version,
                attributes: self
                    .attributes
                    .iter()
                    .filter(|a| !a.block)
                    .map(Attribute::to_proto)
                    .collect(),
                block_types: self
                    .attributes
                    .iter()
                    .filter(|a| a.block)
                    .map(Attribute::to_block_proto)
                    .collect(),
                description: self.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: false,
                deprecation_message: String::new(),
            }),
        }
    }
}

/// Title and description of a JSON schema node, joined the way the doc comment was written,
/// with the doc comment's hard line wraps undone.
fn describe(node: &Json) -> String {
    let title = node.get("title").and_then(Json::as_str).unwrap_or("");
    let desc = node.get("description").and_then(Json::as_str).unwrap_or("");
    let text = match (title.is_empty(), desc.is_empty()) {
        (true, _) => desc.to_string(),
        (false, true) => title.to_string(),
        (false, false) => format!("{title}\n\n{desc}"),
    };
    unwrap_lines(&text)
}

/// Joins wrapped lines of a paragraph; keeps blank lines, list items, tables and code fences.
fn unwrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    // Whether the next line must start on a line of its own.
    let mut break_next = true;
    for line in text.lines() {
        let t = line.trim_start();
        let fence = t.starts_with("```");
        let numbered = t
            .split_once(". ")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let block_start = t.is_empty()
            || t.starts_with("- ")
            || t.starts_with("* ")
            || t.starts_with('|')
            || t.starts_with('#')
            || numbered;
        let joined = !(out.is_empty() || in_fence || fence || block_start || break_next);
        if !out.is_empty() {
            out.push(if joined { ' ' } else { '\n' });
        }
        // A wrapped line's indentation is layout, not content.
        out.push_str(if in_fence {
            line
        } else if joined {
            t.trim_end()
        } else {
            line.trim_end()
        });
        if fence {
            in_fence = !in_fence;
        }
        break_next = t.is_empty() || fence || in_fence || t.starts_with('|');
    }
    out
}

struct Cx<'a> {
    defs: &'a Map<String, Json>,
    model: &'a str,
}

const MAX_DEPTH: usize = 16;

/// JSON schema keys that describe a node without constraining its type.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "computed",
    "optional",
    "sensitive",
    "write_only",
    "requires_replace",
    "case_insensitive",
    "deprecation_message",
];

impl Cx<'_> {
    fn err(&self, message: impl Into<String>) -> SchemaError {
        SchemaError {
            model: self.model.to_string(),
            message: message.into(),
        }
    }

    /// Follows `$ref` and strips `Option`'s null alternative.
    fn resolve<'b>(&'b self, node: &'b Json) -> Result<&'b Json, SchemaError> {
        if let Some(r) = node.get("$ref").and_then(Json::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r);
            return self
                .defs
                .get(name)
                .ok_or_else(|| self.err(format!("unresolved $ref {r}")));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = node.get(key).and_then(Json::as_array) {
                let non_null: Vec<&Json> = alts.iter().filter(|a| !is_null_schema(a)).collect();
                if non_null.len() == 1 {
                    return self.resolve(non_null[0]);
                }
            }
        }
        Ok(node)
    }

    fn attributes(&self, node: &Json, depth: usize) -> Result<Vec<Attribute>, SchemaError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        let node = self.resolve(node)?;
        let empty = Map::new();
        let props = match node.get("properties").and_then(Json::as_object) {
            Some(p) => p,
            // A struct without fields: an empty block.
            None if primary_type(node) == Some("object")
                && node.get("additionalProperties").is_none() =>
            {
                &empty
            }
            None => return Err(self.err("a model must be a struct with named fields")),
        };
        let required: BTreeSet<&str> = node
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(props.len());
        for (name, prop) in props {
            if !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(self.err(format!("attribute name {name:?} is not [a-z0-9_]")));
            }
            let flag = |k: &str| prop.get(k).and_then(Json::as_bool).unwrap_or(false);
            let computed = flag("computed");
            let optional_mark = flag("optional");
            let (required, optional) = if computed {
                (false, optional_mark)
            } else if required.contains(name.as_str()) {
                (true, false)
            } else {
                (false, true)
            };
            let ty = self.attr_type(prop, depth)?;
            let deprecation = if flag("deprecated") {
                Some(
                    prop.get("deprecation_message")
                        .and_then(Json::as_str)
                        .unwrap_or("This attribute is deprecated.")
                        .to_string(),
                )
            } else {
                None
            };
            let resolved = self.resolve(prop)?;
            let mut description = describe(prop);
            if description.is_empty() {
                description = describe(resolved);
            }
            out.push(Attribute {
                name: name.clone(),
                ty,
                description,
                required,
                optional,
                computed,
                sensitive: flag("sensitive"),
                write_only: flag("write_only"),
                requires_replace: flag("requires_replace"),
                case_insensitive: flag("case_insensitive"),
                deprecation,
                allowed: enum_values(resolved),
                block: false,
            });
        }
        Ok(out)
    }

    fn attr_type(&self, prop: &Json, depth: usize) -> Result<AttrType, SchemaError> {
        let node = self.resolve(prop)?;
        if is_object_with_properties(node) {
            return Ok(AttrType::Nested(
                Nesting::Single,
                self.attributes(node, depth + 1)?,
            ));
        }
        match primary_type(node) {
            Some("array") => {
                let items = node.get("items").unwrap_or(&Json::Bool(true));
                let items_node = self.resolve(items)?;
                let set = node
                    .get("uniqueItems")
                    .and_then(Json::as_bool)
                    .unwrap_or(false);
                if is_object_with_properties(items_node) {
                    let attrs = self.attributes(items_node, depth + 1)?;
                    Ok(AttrType::Nested(
                        if set { Nesting::Set } else { Nesting::List },
                        attrs,
                    ))
                } else {
                    let t = self.plain_type(items, depth + 1)?;
                    Ok(AttrType::Plain(if set {
                        Type::set(t)
                    } else {
                        Type::list(t)
                    }))
                }
            }
            Some("object") => {
                let values = node
                    .get("additionalProperties")
                    .unwrap_or(&Json::Bool(true));
                let values_node = self.resolve(values)?;
                if is_object_with_properties(values_node) {
                    Ok(AttrType::Nested(
                        Nesting::Map,
                        self.attributes(values_node, depth + 1)?,
                    ))
                } else {
                    Ok(AttrType::Plain(Type::map(
                        self.plain_type(values, depth + 1)?,
                    )))
                }
            }
            _ => Ok(AttrType::Plain(self.plain_type(prop, depth)?)),
        }
    }

    fn plain_type(&self, node: &Json, depth: usize) -> Result<Type, SchemaError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        let node = self.resolve(node)?;
        // `true`, `{}`, or only annotations (a `serde_json::Value` field with a doc comment or
        // marks): any value.
        if node.as_bool() == Some(true)
            || node
                .as_object()
                .is_some_and(|o| o.keys().all(|k| ANNOTATIONS.contains(&k.as_str())))
        {
            return Ok(Type::Dynamic);
        }
        if is_object_with_properties(node) {
            let attrs = self.attributes(node, depth + 1)?;
            return Ok(object_type(&attrs));
        }
        match primary_type(node) {
            Some("string") => Ok(Type::String),
            Some("boolean") => Ok(Type::Bool),
            Some("integer") | Some("number") => Ok(Type::Number),
            Some("array") => {
                let items = node.get("items").unwrap_or(&Json::Bool(true));
                let t = self.plain_type(items, depth + 1)?;
                let set = node
                    .get("uniqueItems")
                    .and_then(Json::as_bool)
                    .unwrap_or(false);
                Ok(if set { Type::set(t) } else { Type::list(t) })
            }
            Some("object") => {
                let values = node
                    .get("additionalProperties")
                    .unwrap_or(&Json::Bool(true));
                Ok(Type::map(self.plain_type(values, depth + 1)?))
            }
            None if !enum_values(node).is_empty() => Ok(Type::String),
            other => Err(self.err(format!("unsupported JSON schema type {other:?} in {node}"))),
        }
    }
}

fn is_null_schema(node: &Json) -> bool {
    node.get("type").and_then(Json::as_str) == Some("null")
        || node.get("const").is_some_and(Json::is_null)
}

fn is_object_with_properties(node: &Json) -> bool {
    node.get("properties").is_some_and(Json::is_object)
}

/// The non-null `type` of a node (`["string","null"]` → `string`).
fn primary_type(node: &Json) -> Option<&str> {
    match node.get("type")? {
        Json::String(s) => Some(s.as_str()),
        Json::Array(ts) => ts.iter().filter_map(Json::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

/// String values of an enum schema (`enum: [...]` or `oneOf` of `const`s).
fn enum_values(node: &Json) -> Vec<String> {
    if let Some(vals) = node.get("enum").and_then(Json::as_array) {
        return vals
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_string)
            .collect();
    }
    if let Some(alts) = node.get("oneOf").and_then(Json::as_array) {
        let consts: Vec<String> = alts
            .iter()
            .filter_map(|a| a.get("const").and_then(Json::as_str).map(str::to_string))
            .collect();
        if consts.len() == alts.len() {
            return consts;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A test model.
    #[derive(schemars::JsonSchema, serde::Deserialize)]
    #[allow(dead_code)]
    struct Thing {
        /// The thing's name.
        #[schemars(extend("requires_replace" = true))]
        name: String,
        /// Tier.
        tier: Option<Tier>,
        #[schemars(extend("computed" = true))]
        id: Option<String>,
        #[schemars(extend("optional" = true, "computed" = true))]
        subscription_id: Option<String>,
        #[schemars(extend("sensitive" = true))]
        secret: Option<String>,
        tags: Option<BTreeMap<String, String>>,
        emails: Option<Vec<String>>,
        roles: Option<std::collections::BTreeSet<String>>,
        extensions: Option<BTreeMap<String, Ext>>,
        identity: Option<Ident>,
        parameters: Option<serde_json::Value>,
        /// Any value, documented.
        #[schemars(extend("optional" = true, "computed" = true))]
        documented_any: Option<serde_json::Value>,
        count: Option<i64>,
    }

    #[derive(schemars::JsonSchema, serde::Deserialize)]
    #[allow(dead_code)]
    enum Tier {
        Free,
        Standard,
    }

    #[derive(schemars::JsonSchema, serde::Deserialize)]
    #[allow(dead_code)]
    struct Ext {
        enabled: bool,
        properties: Option<BTreeMap<String, String>>,
    }

    #[derive(schemars::JsonSchema, serde::Deserialize)]
    #[allow(dead_code)]
    struct Ident {
        r#type: String,
    }

    #[test]
    fn wrapped_doc_lines_are_joined_but_blocks_kept() {
        assert_eq!(
            unwrap_lines("- sign-in\n  and sign-out\n- next"),
            "- sign-in and sign-out\n- next"
        );
        assert_eq!(
            unwrap_lines("one\ntwo\n\nthree\n- a\n- b"),
            "one two\n\nthree\n- a\n- b"
        );
        assert_eq!(
            unwrap_lines("x\n```hcl\na = 1\nb = 2\n```\ny"),
            "x\n```hcl\na = 1\nb = 2\n```\ny"
        );
    }

    #[test]
    fn derives_attributes_with_marks_and_types() {
        let s = Schema::of::<Thing>().unwrap();
        let a = |n: &str| s.attribute(n).unwrap().clone();
        assert_eq!(s.description, "A test model.");
        let name = a("name");
        assert!(name.required && !name.optional && name.requires_replace);
        assert_eq!(name.description, "The thing's name.");
        let tier = a("tier");
        assert!(tier.optional && !tier.required);
        assert_eq!(tier.allowed, vec!["Free", "Standard"]);
        assert_eq!(tier.value_type(), Type::String);
        let id = a("id");
        assert!(id.computed && !id.optional && !id.required);
        let sub = a("subscription_id");
        assert!(sub.computed && sub.optional);
        assert!(a("secret").sensitive);
        assert_eq!(a("tags").value_type(), Type::map(Type::String));
        assert_eq!(a("emails").value_type(), Type::list(Type::String));
        assert_eq!(a("roles").value_type(), Type::set(Type::String));
        assert_eq!(a("parameters").value_type(), Type::Dynamic);
        assert_eq!(a("documented_any").value_type(), Type::Dynamic);
        assert_eq!(a("documented_any").description, "Any value, documented.");
        assert_eq!(a("count").value_type(), Type::Number);
        match a("extensions").ty {
            AttrType::Nested(Nesting::Map, attrs) => {
                assert_eq!(attrs.len(), 2);
                assert!(attrs[0].required);
                assert_eq!(attrs[1].value_type(), Type::map(Type::String));
            }
            other => panic!("extensions: {other:?}"),
        }
        assert!(matches!(
            a("identity").ty,
            AttrType::Nested(Nesting::Single, _)
        ));
        let proto = s.to_proto();
        assert_eq!(proto.block.unwrap().attributes.len(), 13);
    }
}
