//! Every documentation example applies against the emulator and plans empty after (DESIGN.md
//! §4/§5): each `examples/resources/*/resource.tf`, `data-sources/*/data-source.tf`,
//! `functions/*/function.tf`, `actions/*/action.tf` and `provider/provider.tf` is copied
//! unchanged into a working directory of its own and run through `apply`, `plan
//! -detailed-exitcode` (empty), for resources the commands of `import.sh` (after `state rm`)
//! and another empty plan, for actions `apply -invoke=` of each action, and `destroy`.
//!
//! The examples are found by listing the folders, so a new one is tested without a change
//! here. The examples are written for the subscription `00000000-0000-0000-0000-000000000000`,
//! which the emulator accepts like any GUID: it is the provider's subscription here too, so
//! their IDs (and those of `import.sh`) are used as written. What they reference but do not
//! create is put in the emulator first (see [`seed`]); the azurerm resources they build on
//! are not run (there is no azurerm here) but replaced, in the copy only, by the ID of an
//! object seeded in their place (see [`STANDINS`]). The plan after import must be empty too,
//! except where [`AFTER_IMPORT`] records, precisely, why it is not.
//!
//! Each case has its own emulator (the examples share one subscription, so they would collide
//! in one); a few cases run at a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arm_emulator::Config;
use serde_json::{Value, json};

use crate::common::{TfEnv, TfOutput, standin_dir};

/// The subscription the examples are written for, and the provider's here.
const SUB: &str = "00000000-0000-0000-0000-000000000000";

/// How many cases run at once (one Terraform + provider process each).
const PARALLEL: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Resource,
    DataSource,
    Function,
    Action,
    Provider,
}

/// One example file.
#[derive(Clone, Debug)]
struct Example {
    kind: Kind,
    /// The folder's name: the resource, data source, function or action type.
    name: String,
    /// The example file.
    path: PathBuf,
}

impl Example {
    /// The path relative to the repository root, for messages.
    fn display(&self) -> String {
        self.path
            .strip_prefix(root())
            .unwrap_or(&self.path)
            .display()
            .to_string()
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// Every example file, sorted by kind and name.
fn examples() -> Vec<Example> {
    let examples = root().join("examples");
    let mut out = Vec::new();
    for (kind, folder, file) in [
        (Kind::Resource, "resources", "resource.tf"),
        (Kind::DataSource, "data-sources", "data-source.tf"),
        (Kind::Function, "functions", "function.tf"),
        (Kind::Action, "actions", "action.tf"),
    ] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(examples.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let path = dir.join(file);
            assert!(path.exists(), "{} has no {file}", dir.display());
            out.push(Example {
                kind,
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                path,
            });
        }
    }
    out.push(Example {
        kind: Kind::Provider,
        name: "provider".into(),
        path: examples.join("provider/provider.tf"),
    });
    out
}

// ---------------------------------------------------------------------------------------------
// What the examples reference

/// A Log Analytics workspace the examples take from azurerm (`azurerm_log_analytics_workspace`
/// or `azurerm_sentinel_log_analytics_workspace_onboarding`): seeded in the emulator, and the
/// references to the azurerm resource replaced by its ID in the copy.
#[derive(Debug)]
struct Standin {
    /// The azurerm resource's address.
    address: &'static str,
    resource_group: &'static str,
    workspace: &'static str,
    location: &'static str,
    /// Microsoft Sentinel onboarded (what the onboarding resource does).
    sentinel: bool,
}

const STANDINS: &[Standin] = &[
    Standin {
        address: "azurerm_log_analytics_workspace.security",
        resource_group: "rg-security",
        workspace: "law-security",
        location: "westeurope",
        sentinel: false,
    },
    Standin {
        address: "azurerm_log_analytics_workspace.free",
        resource_group: "rg-security",
        workspace: "law-free",
        location: "northeurope",
        sentinel: false,
    },
    Standin {
        address: "azurerm_log_analytics_workspace.sentinel",
        resource_group: "rg-sentinel",
        workspace: "law-sentinel",
        location: "westeurope",
        sentinel: false,
    },
    Standin {
        address: "azurerm_sentinel_log_analytics_workspace_onboarding.this",
        resource_group: "rg-sentinel",
        workspace: "law-sentinel",
        location: "westeurope",
        sentinel: true,
    },
];

fn workspace_id(resource_group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{resource_group}/providers/Microsoft.OperationalInsights/workspaces/{name}"
    )
}

impl Standin {
    fn id(&self) -> String {
        workspace_id(self.resource_group, self.workspace)
    }

    /// The azurerm attributes the examples read, and their values.
    fn attributes(&self) -> Vec<(&'static str, String)> {
        if self.sentinel {
            vec![("workspace_id", self.id()), ("id", self.id())]
        } else {
            vec![
                ("id", self.id()),
                ("name", self.workspace.to_owned()),
                ("resource_group_name", self.resource_group.to_owned()),
                ("location", self.location.to_owned()),
            ]
        }
    }
}

/// The example as run here: the blocks of azurerm resources left out and the references to
/// them replaced by the seeded object's ID. Errors when an azurerm reference has no stand-in.
fn adapt(text: &str) -> Result<(String, Vec<&'static Standin>), String> {
    let mut out = text.to_owned();
    let mut used = Vec::new();
    for s in STANDINS {
        let (kind, name) = s.address.split_once('.').unwrap();
        let removed = remove_block(&out, &format!("resource \"{kind}\" \"{name}\""));
        let mut hit = removed.is_some();
        if let Some(r) = removed {
            out = r;
        }
        for (attr, value) in s.attributes() {
            let reference = format!("{}.{attr}", s.address);
            if out.contains(&reference) {
                out = out.replace(&reference, &format!("\"{value}\""));
                hit = true;
            }
        }
        if hit {
            used.push(s);
        }
    }
    if let Some(line) = out.lines().find(|l| {
        let code = l.split('#').next().unwrap_or_default();
        code.contains("azurerm_")
    }) {
        return Err(format!(
            "references an azurerm resource with no stand-in in doc_examples.rs STANDINS: {:?}",
            line.trim()
        ));
    }
    Ok((out, used))
}

/// `text` without the block that starts with `header` at the start of a line (through its
/// matching closing brace), or None when there is no such block.
fn remove_block(text: &str, header: &str) -> Option<String> {
    let start = text
        .match_indices(header)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')?;
    let open = start + text[start..].find('{')?;
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    let end = open + i + 1;
                    let end = end + usize::from(text[end..].starts_with('\n'));
                    return Some(format!("{}{}", &text[..start], &text[end..]));
                }
            }
            _ => {}
        }
    }
    None
}

fn workspace_body(id: &str, name: &str, location: &str) -> Value {
    json!({
        "id": id, "name": name, "type": "Microsoft.OperationalInsights/workspaces",
        "location": location, "tags": {},
        "properties": {"customerId": uuid::Uuid::new_v4().to_string(),
                       "provisioningState": "Succeeded", "sku": {"name": "PerGB2018"},
                       "retentionInDays": 30}
    })
}

/// Puts what an example names but does not create into its emulator, and returns the
/// configuration the example builds on (resources it references by address but leaves to the
/// rest of the user's configuration), written to `support.tf` beside it.
fn seed(env: &TfEnv, example: &Example, standins: &[&Standin]) -> String {
    for s in standins {
        let id = s.id();
        if env.emulator.get_resource(&id).is_none() {
            env.emulator
                .set_resource(&id, workspace_body(&id, s.workspace, s.location));
        }
        if s.sentinel {
            let onboarding =
                format!("{id}/providers/Microsoft.SecurityInsights/onboardingStates/default");
            env.emulator.set_resource(
                &onboarding,
                json!({"id": onboarding, "name": "default",
                       "type": "Microsoft.SecurityInsights/onboardingStates",
                       "properties": {"customerManagedKey": false}}),
            );
        }
    }
    match (example.kind, example.name.as_str()) {
        (Kind::Resource, "defender_policy_assignment") => {
            // The central workspace the Defender for Containers assignment sends to, and (below)
            // the user-assigned identity of the third: the emulator does not check that these
            // exist, Azure does.
            let central = workspace_id("security", "central");
            env.emulator
                .set_resource(&central, workspace_body(&central, "central", "westeurope"));
            // The custom definition the third assignment names, with the parameter it sets.
            let definition = format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/policyDefinitions/deploy-diagnostics"
            );
            env.emulator.set_resource(
                &definition,
                json!({
                    "id": definition, "name": "deploy-diagnostics",
                    "type": "Microsoft.Authorization/policyDefinitions",
                    "properties": {
                        "displayName": "Deploy diagnostic settings to a Log Analytics workspace",
                        "policyType": "Custom", "mode": "Indexed",
                        "parameters": {
                            "effect": {"type": "String",
                                       "allowedValues": ["DeployIfNotExists", "Disabled"],
                                       "defaultValue": "DeployIfNotExists"},
                            "workspaceId": {"type": "String",
                                            "metadata": {"strongType": "omsWorkspace",
                                                         "assignPermissions": true}}
                        },
                        "policyRule": {
                            "if": {"field": "type", "equals": "Microsoft.KeyVault/vaults"},
                            "then": {"effect": "[parameters('effect')]",
                                     "details": {"type": "Microsoft.Insights/diagnosticSettings",
                                                 "roleDefinitionIds": [
                                                     "/providers/Microsoft.Authorization/roleDefinitions/749f88d5-cbae-40b8-bcfc-e573ddc772fa",
                                                     "/providers/Microsoft.Authorization/roleDefinitions/92aaf0da-9dab-42b6-94a3-d43ce8d16293"
                                                 ]}}
                        }
                    }
                }),
            );
            let identity = format!(
                "/subscriptions/{SUB}/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/policy"
            );
            env.emulator.set_resource(
                &identity,
                json!({
                    "id": identity, "name": "policy",
                    "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                    "location": "westeurope",
                    "properties": {"principalId": uuid::Uuid::new_v4().to_string(),
                                   "clientId": uuid::Uuid::new_v4().to_string(),
                                   "tenantId": env.emulator.state().tenant_id()}
                }),
            );
            String::new()
        }
        // The task belongs to an assignment of the Defender for Endpoint initiative, made
        // elsewhere in the user's configuration.
        (Kind::Resource, "defender_policy_remediation") => format!(
            "resource \"defender_policy_assignment\" \"mde\" {{\n  policy   = \"mde\"\n  scope    = \"/subscriptions/{SUB}\"\n  location = \"westeurope\"\n}}\n"
        ),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// import.sh

/// The `terraform import ADDRESS ID` commands of an import.sh, as (address, ID).
fn imports(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match shell_words(line).as_slice() {
            [tf, import, address, id] if tf == "terraform" && import == "import" => {
                out.push((address.clone(), id.clone()))
            }
            _ => return Err(format!("not `terraform import ADDRESS ID`: {line:?}")),
        }
    }
    if out.is_empty() {
        return Err("no `terraform import` command".into());
    }
    Ok(out)
}

/// A command line split as the shell splits it (quotes, no expansions).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Examples whose import.sh names an object of the user's own rather than the one the example
/// creates: the emulator gets a copy of the created one under the imported ID.
const IMPORTS_ANOTHER_OBJECT: &[&str] = &[
    // Any task, by its name; import-by-identity.tf says to write that name in the block.
    "defender_policy_remediation",
];

/// A resource whose first plan after import.sh is not empty: what it must show, so that a
/// fix, or another difference, fails here.
struct AfterImport {
    resource: &'static str,
    /// Text the plan shows (compared with whitespace collapsed).
    shows: &'static [&'static str],
    /// Why, and where that is documented or reported.
    why: &'static str,
    /// Apply that plan; the plan after must be empty.
    apply: bool,
    /// That apply sends no write to ARM (it only records what the configuration adds).
    no_writes: bool,
}

const AFTER_IMPORT: &[AfterImport] = &[
    AfterImport {
        resource: "defender_plan",
        shows: &[
            "- \"MdeDesignatedSubscription\" = {",
            "Plan: 0 to add, 1 to change, 0 to destroy.",
        ],
        why: "import brings in every extension Azure reports; those the configuration leaves \
              out leave the state on the next apply (notes.md, Import)",
        apply: true,
        no_writes: false,
    },
    AfterImport {
        resource: "defender_policy_assignment",
        shows: &[
            "+ remediation = {",
            "No remediation task for an adopted assignment",
            "Plan: 0 to add, 1 to change, 0 to destroy.",
        ],
        why: "`remediation` is not stored in Azure, so import leaves it null and the next plan \
              records it, with a warning that no task starts for an imported assignment \
              (notes.md, Import)",
        apply: true,
        no_writes: true,
    },
    AfterImport {
        resource: "defender_policy_remediation",
        shows: &[
            "must be replaced",
            "Plan: 1 to add, 0 to change, 1 to destroy.",
        ],
        why: "the example has `triggers` (not stored in Azure) and no `name`, so the imported \
              task is replaced by a new one (import-by-identity.tf says so)",
        apply: false,
        no_writes: false,
    },
];

/// Terraform wraps its output at its terminal width: compare with whitespace collapsed.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// Running a case

/// Names of the `action "TYPE" "NAME"` blocks of an example, as `action.TYPE.NAME`.
fn actions(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let words = shell_words(l.strip_prefix("action ")?);
            match words.as_slice() {
                [kind, name, brace] if brace == "{" => Some(format!("action.{kind}.{name}")),
                _ => None,
            }
        })
        .collect()
}

/// The `id` of each resource in the state, by address.
async fn state_ids(env: &TfEnv) -> Result<Vec<(String, String)>, String> {
    let out = env.tf(&["show", "-json", "-no-color"]).await;
    if out.code != 0 {
        return Err(format!(
            "`terraform show -json` exited {}:\n{}",
            out.code,
            out.all()
        ));
    }
    let state: Value = serde_json::from_str(&out.stdout)
        .map_err(|e| format!("`terraform show -json`: {e}:\n{}", out.stdout))?;
    Ok(state["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["mode"] == "managed")
        .map(|r| {
            (
                r["address"].as_str().unwrap_or_default().to_owned(),
                r["values"]["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

/// One case's Terraform commands, each checked for its exit code.
struct Run<'a> {
    env: &'a TfEnv,
    file: String,
    /// The commands run so far, for messages.
    steps: Vec<String>,
}

impl Run<'_> {
    async fn tf(&mut self, args: &[&str], want: i32) -> Result<TfOutput, String> {
        let shown = format!("terraform {}", args.join(" "));
        let started = Instant::now();
        let out = self.env.tf(args).await;
        self.steps.push(format!(
            "{shown} -> {} ({:.1}s)",
            out.code,
            started.elapsed().as_secs_f64()
        ));
        if out.code == want {
            Ok(out)
        } else {
            Err(format!(
                "{}: `{shown}` exited {}, want {want}{}\nsteps: {:#?}\n{}",
                self.file,
                out.code,
                if want == 0 && out.code == 2 {
                    " (the plan is not empty)"
                } else {
                    ""
                },
                self.steps,
                out.all()
            ))
        }
    }
}

fn config() -> Config {
    Config {
        pricing_write_ms: 20,
        remediation_step_ms: 100,
        principal_replication_ms: 200,
        ..Config::default()
    }
}

async fn run_case(example: &Example) -> Result<Duration, String> {
    let started = Instant::now();
    let file = example.display();
    let text = std::fs::read_to_string(&example.path).unwrap();
    let (adapted, standins) = adapt(&text).map_err(|e| format!("{file}: {e}"))?;
    let mut env = TfEnv::with_config(config()).await;
    env.extra_env
        .push(("ARM_SUBSCRIPTION_ID".into(), SUB.into()));
    // The example under its own file name; the provider set-up beside it unless the example
    // has its own (provider.tf).
    let has_terraform = adapted.lines().any(|l| l.starts_with("terraform {"));
    let has_provider = adapted
        .lines()
        .any(|l| l.starts_with("provider \"defender\""));
    let mut setup = String::new();
    if !has_terraform {
        setup.push_str(
            "terraform {\n  required_providers {\n    defender = { source = \"defenderops/defender\" }\n  }\n}\n\n",
        );
    }
    if !has_provider {
        setup.push_str("provider \"defender\" {}\n");
    }
    if !setup.is_empty() {
        std::fs::write(env.path().join("providers.tf"), setup).unwrap();
    }
    let name = example.path.file_name().unwrap();
    std::fs::write(env.path().join(name), &adapted).unwrap();
    let support = seed(&env, example, &standins);
    if !support.is_empty() {
        std::fs::write(env.path().join("support.tf"), support).unwrap();
    }

    let mut run = Run {
        env: &env,
        file: file.clone(),
        steps: Vec::new(),
    };
    if example.kind == Kind::Action {
        run.tf(&["validate", "-no-color"], 0).await?;
    }
    run.tf(&["apply", "-auto-approve", "-no-color"], 0).await?;
    run.tf(&["plan", "-detailed-exitcode", "-no-color"], 0)
        .await?;

    if example.kind == Kind::Action {
        let invokes = actions(&adapted);
        if invokes.is_empty() {
            return Err(format!("{file}: no `action \"TYPE\" \"NAME\" {{` block"));
        }
        for action in invokes {
            let invoke = format!("-invoke={action}");
            run.tf(&["apply", "-auto-approve", "-no-color", &invoke], 0)
                .await?;
        }
        run.tf(&["plan", "-detailed-exitcode", "-no-color"], 0)
            .await?;
    }

    if example.kind == Kind::Resource {
        let import_sh = example.path.with_file_name("import.sh");
        let display = import_sh
            .strip_prefix(root())
            .unwrap_or(&import_sh)
            .display()
            .to_string();
        let script = std::fs::read_to_string(&import_sh)
            .map_err(|e| format!("{display}: {e} (every resource example needs one)"))?;
        let commands = imports(&script).map_err(|e| format!("{display}: {e}"))?;
        let ids = state_ids(&env).await.map_err(|e| format!("{file}: {e}"))?;
        run.file = format!("{display} (after applying {file})");
        for (address, id) in &commands {
            let Some((_, applied)) = ids.iter().find(|(a, _)| a == address) else {
                return Err(format!(
                    "{display}: imports {address}, which {file} does not create (state: {ids:?})"
                ));
            };
            if !applied.eq_ignore_ascii_case(id) {
                if !IMPORTS_ANOTHER_OBJECT.contains(&example.name.as_str()) {
                    return Err(format!(
                        "{display}: imports {address} as {id:?}, but {file} creates it as \
                         {applied:?}: the import would not find it, or find another object"
                    ));
                }
                // The user's own object of that name: the one the example made, under it.
                let mut body = env.emulator.get_resource(applied).ok_or_else(|| {
                    format!("{file}: {applied} is not in the emulator after apply")
                })?;
                body["id"] = json!(id);
                body["name"] = json!(id.rsplit('/').next().unwrap());
                env.emulator.set_resource(id, body);
            }
            run.tf(&["state", "rm", address], 0).await?;
            run.tf(&["import", "-no-color", address, id], 0).await?;
        }
        match AFTER_IMPORT.iter().find(|a| a.resource == example.name) {
            None => {
                run.tf(&["plan", "-detailed-exitcode", "-no-color"], 0)
                    .await?;
            }
            Some(known) => {
                let plan = run
                    .tf(&["plan", "-detailed-exitcode", "-no-color"], 2)
                    .await
                    .map_err(|e| {
                        format!(
                            "{e}\n(doc_examples.rs AFTER_IMPORT expects this plan to show {:?}: \
                             {}; remove the entry if that is no longer so)",
                            known.shows, known.why
                        )
                    })?;
                let text = flat(&plan.all());
                if let Some(missing) = known.shows.iter().find(|l| !text.contains(&flat(l))) {
                    return Err(format!(
                        "{}: the plan after import does not show {missing:?} (doc_examples.rs \
                         AFTER_IMPORT: {}):\n{}",
                        run.file,
                        known.why,
                        plan.all()
                    ));
                }
                if known.apply {
                    env.emulator.clear_requests();
                    run.tf(&["apply", "-auto-approve", "-no-color"], 0).await?;
                    let writes: Vec<String> = env
                        .emulator
                        .requests()
                        .into_iter()
                        .filter(|r| {
                            r.method != "GET"
                                && (r.path.starts_with("/subscriptions")
                                    || r.path.starts_with("/providers"))
                        })
                        .map(|r| format!("{} {}", r.method, r.path))
                        .collect();
                    if known.no_writes && !writes.is_empty() {
                        return Err(format!(
                            "{display}: the apply after import must only record what the \
                             configuration adds, but it wrote: {writes:#?}"
                        ));
                    }
                    run.tf(&["plan", "-detailed-exitcode", "-no-color"], 0)
                        .await?;
                }
            }
        }
    }
    run.tf(&["destroy", "-auto-approve", "-no-color"], 0)
        .await?;
    Ok(started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_doc_example_applies_plans_empty_imports_and_destroys() {
    let examples = Arc::new(examples());
    assert!(examples.len() >= 20, "{} examples", examples.len());
    // Built once here rather than by the first cases at the same time.
    standin_dir();
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = Vec::new();
    for i in 0..examples.len() {
        let (examples, sem) = (examples.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            run_case(&examples[i]).await
        }));
    }
    let mut failures = Vec::new();
    for (example, task) in examples.iter().zip(tasks) {
        match task.await.unwrap() {
            Ok(took) => eprintln!("ok   {} ({:.1}s)", example.display(), took.as_secs_f64()),
            Err(e) => {
                eprintln!("FAIL {}", example.display());
                failures.push(e);
            }
        }
    }
    eprintln!(
        "{} doc examples in {:.1}s",
        examples.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n\n--------\n\n")
    );
}

#[test]
fn adapting_replaces_azurerm_workspaces_and_refuses_unknown_azurerm() {
    let text = "resource \"azurerm_log_analytics_workspace\" \"security\" {\n  name = \"law-security\"\n  tags = { a = \"b\" }\n}\n\nresource \"defender_workspace_setting\" \"this\" {\n  workspace_id = azurerm_log_analytics_workspace.security.id\n}\n";
    let (out, used) = adapt(text).unwrap();
    assert_eq!(
        out,
        format!(
            "\nresource \"defender_workspace_setting\" \"this\" {{\n  workspace_id = \"{}\"\n}}\n",
            workspace_id("rg-security", "law-security")
        )
    );
    assert_eq!(used.len(), 1);
    let err = adapt("x = azurerm_key_vault.this.id\n").unwrap_err();
    assert!(err.contains("azurerm_key_vault.this.id"), "{err}");
    assert_eq!(
        shell_words(r#"terraform import a.b "/x/Security(law)" 'c d'"#),
        ["terraform", "import", "a.b", "/x/Security(law)", "c d"]
    );
    assert_eq!(
        actions("action \"defender_remediate\" \"deps\" {\n  config {}\n}\n"),
        ["action.defender_remediate.deps"]
    );
}
