//! The framework's generic behaviour, through a small resource: planning (unknown computed
//! values, requires-replace, write-only), apply, partial failure, state upgrade and moves.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::protocol::value::Refinements;

/// A widget.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
struct Widget {
    /// ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// Name.
    #[schemars(extend("requires_replace" = true))]
    name: String,
    /// Size.
    #[schemars(extend("optional" = true, "computed" = true))]
    size: Option<i64>,
    /// Password.
    #[schemars(extend("write_only" = true))]
    password: Option<String>,
}

struct Widgets {
    fail_create: Arc<AtomicBool>,
}

impl Resource for Widgets {
    type Model = Widget;
    const TYPE_NAME: &'static str = "test_widget";
    const SCHEMA_VERSION: i64 = 1;

    fn validate(&self, config: &Config<'_, Widget>, diags: &mut Diagnostics) {
        if config.model.name.is_empty() && !config.is_unknown("name") {
            diags.error_at(
                AttrPath::root("name"),
                "Empty name",
                "name must not be empty",
            );
        }
    }

    async fn plan(&self, _ctx: &Ctx, plan: &mut Plan<'_, Widget>, _diags: &mut Diagnostics) {
        if plan.planned.size.is_none() && !plan.config_unknown("size") {
            plan.planned.size = Some(3);
        }
    }

    async fn create(&self, _ctx: &Ctx, planned: Widget) -> OpResult<Widget, Widget> {
        let created = Widget {
            id: Some(format!("w-{}", planned.name)),
            password: None,
            ..planned
        };
        if self.fail_create.load(Ordering::SeqCst) {
            return Err(Failed::with_partial(
                Diagnostic::error("half done", "the widget exists but its size was not set"),
                created,
            ));
        }
        Ok(created)
    }

    async fn read(&self, _ctx: &Ctx, state: Widget) -> OpResult<Option<Widget>, Widget> {
        Ok(Some(state))
    }

    async fn update(
        &self,
        _ctx: &Ctx,
        _prior: Widget,
        planned: Widget,
    ) -> OpResult<Widget, Widget> {
        Ok(planned)
    }

    async fn delete(&self, _ctx: &Ctx, _state: Widget) -> OpResult<(), Widget> {
        Ok(())
    }
}

impl UpgradeState for Widgets {
    fn upgrade_state(
        &self,
        version: i64,
        mut state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        assert_eq!(version, 0);
        // Version 0 called it "label".
        if let Some(label) = state.as_object_mut().and_then(|o| o.remove("label")) {
            state["name"] = label;
        }
        Ok(state)
    }
}

impl MoveState for Widgets {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Widget, Diagnostics>> {
        (source.type_name == "other_widget").then(|| {
            Ok(Widget {
                id: source.state["id"].as_str().map(str::to_string),
                name: source.state["title"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                size: None,
                password: None,
            })
        })
    }
}

fn entry() -> (ResourceEntry<Widgets>, Arc<AtomicBool>) {
    let fail = Arc::new(AtomicBool::new(false));
    (
        ResourceEntry::new(Widgets {
            fail_create: fail.clone(),
        })
        .upgradable()
        .movable(),
        fail,
    )
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut m: BTreeMap<String, Value> = ["id", "name", "size", "password"]
        .iter()
        .map(|k| (k.to_string(), Value::Null))
        .collect();
    for (k, v) in pairs {
        m.insert(k.to_string(), v.clone());
    }
    Value::Object(m)
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn ctx() -> Ctx {
    Ctx::new(None, CancellationToken::new())
}

#[tokio::test]
async fn create_plans_unknown_computed_defaults_and_null_write_only() {
    let (e, _) = entry();
    let config = obj(&[("name", s("a")), ("password", s("hunter2"))]);
    let out = e.plan(&ctx(), Value::Null, config.clone(), config).await;
    assert!(out.diags.is_empty(), "{:?}", out.diags);
    assert_eq!(
        out.planned.attr("id"),
        Some(&Value::Unknown(Refinements::default()))
    );
    assert_eq!(
        out.planned.attr("size"),
        Some(&Value::Number(crate::protocol::value::Number::Int(3)))
    );
    assert_eq!(
        out.planned.attr("password"),
        Some(&Value::Null),
        "write-only is never planned"
    );
    assert!(out.requires_replace.is_empty(), "no replacement on create");
}

#[tokio::test]
async fn changing_a_requires_replace_attribute_is_reported() {
    let (e, _) = entry();
    let prior = obj(&[
        ("id", s("w-a")),
        ("name", s("a")),
        (
            "size",
            Value::Number(crate::protocol::value::Number::Int(3)),
        ),
    ]);
    let config = obj(&[("name", s("b"))]);
    // Terraform's proposed state carries computed values over from prior.
    let proposed = obj(&[
        ("id", s("w-a")),
        ("name", s("b")),
        (
            "size",
            Value::Number(crate::protocol::value::Number::Int(3)),
        ),
    ]);
    let out = e.plan(&ctx(), prior, proposed, config).await;
    assert_eq!(out.requires_replace, vec![AttrPath::root("name")]);
    assert_eq!(out.planned.attr("id"), Some(&s("w-a")));
}

#[tokio::test]
async fn unknown_config_values_stay_unknown_and_validation_errors_stop_the_plan() {
    let (e, _) = entry();
    let config = obj(&[("name", s("a")), ("size", Value::unknown())]);
    let out = e.plan(&ctx(), Value::Null, config.clone(), config).await;
    assert_eq!(out.planned.attr("size"), Some(&Value::unknown()));

    let bad = obj(&[("name", s(""))]);
    let out = e.plan(&ctx(), Value::Null, bad.clone(), bad).await;
    assert!(out.diags.has_errors());
    assert_eq!(out.diags.0[0].path, Some(AttrPath::root("name")));
}

#[tokio::test]
async fn partial_failure_keeps_what_was_created_in_state() {
    let (e, fail) = entry();
    fail.store(true, Ordering::SeqCst);
    let planned = obj(&[
        ("id", Value::unknown()),
        ("name", s("a")),
        (
            "size",
            Value::Number(crate::protocol::value::Number::Int(3)),
        ),
    ]);
    let (state, diags) = e.apply(&ctx(), Value::Null, planned).await;
    assert!(diags.has_errors());
    assert_eq!(
        state.attr("id"),
        Some(&s("w-a")),
        "the created widget is in state"
    );
}

#[tokio::test]
async fn delete_returns_null_state() {
    let (e, _) = entry();
    let prior = obj(&[("id", s("w-a")), ("name", s("a"))]);
    let (state, diags) = e.apply(&ctx(), prior, Value::Null).await;
    assert!(diags.is_empty());
    assert!(state.is_null());
}

#[test]
fn state_is_upgraded_from_older_versions_and_refused_from_newer() {
    let (e, _) = entry();
    let (v, diags) = e.upgrade(0, br#"{"id":"w-a","label":"a","size":3,"gone":true}"#);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(v.attr("name"), Some(&s("a")));
    assert_eq!(
        v.attr("password"),
        Some(&Value::Null),
        "attributes added since are null"
    );
    let (_, diags) = e.upgrade(2, b"{}");
    assert!(diags.0[0].summary.contains("newer provider"));
}

#[test]
fn moves_only_from_known_types() {
    let (e, _) = entry();
    let src = |t: &str| MoveSource {
        provider_address: "registry.terraform.io/example/other".into(),
        type_name: t.into(),
        schema_version: 0,
        state: serde_json::json!({"id": "w-x", "title": "x"}),
    };
    let (v, diags) = e.move_from(&src("other_widget")).unwrap();
    assert!(diags.is_empty());
    assert_eq!(v.attr("name"), Some(&s("x")));
    assert!(e.move_from(&src("unrelated")).is_none());
}

// ---------------------------------------------------------------------------------------------
// Identity, list resources, actions

/// A widget's identity.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
struct WidgetIdentity {
    /// Name.
    name: String,
    /// Shelf; `a` when unset.
    shelf: Option<String>,
}

impl Import for Widgets {
    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Widget, Diagnostics> {
        let name = id
            .strip_prefix("w-")
            .ok_or_else(|| Diagnostic::error("Invalid import ID", format!("{id:?}")))?;
        Ok(Widget {
            id: Some(id.to_owned()),
            name: name.to_owned(),
            size: Some(3),
            password: None,
        })
    }
}

impl Identity for Widgets {
    type Identity = WidgetIdentity;
    const IDENTITY_VERSION: i64 = 1;

    fn identity(&self, state: &Widget) -> Option<WidgetIdentity> {
        state.id.as_ref()?;
        Some(WidgetIdentity {
            name: state.name.to_ascii_lowercase(),
            shelf: Some("a".into()),
        })
    }

    fn import_id(&self, _ctx: &Ctx, identity: &WidgetIdentity) -> Result<String, Diagnostics> {
        Ok(format!("w-{}", identity.name))
    }

    fn upgrade_identity(
        &self,
        version: i64,
        mut identity: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        assert_eq!(version, 0);
        // Version 0 had no shelf.
        identity["shelf"] = "a".into();
        Ok(identity)
    }
}

/// Which widgets to list.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
struct WidgetList {
    /// How many widgets there are.
    count: Option<i64>,
}

impl ListResource for Widgets {
    type ListConfig = WidgetList;
    const LIST_DESCRIPTION: &'static str = "Lists widgets.";

    fn validate_list(&self, config: &Config<'_, WidgetList>, diags: &mut Diagnostics) {
        if config.model.count.is_some_and(|c| c < 0) {
            diags.error_at(
                AttrPath::root("count"),
                "Negative count",
                "count must be >= 0",
            );
        }
    }

    async fn list(
        &self,
        _ctx: &Ctx,
        config: WidgetList,
        sink: ListSink<Widget>,
    ) -> Result<(), Diagnostics> {
        for i in 0..config.count.unwrap_or(2) {
            let w = Widget {
                id: Some(format!("w-n{i}")),
                name: format!("N{i}"),
                size: Some(i),
                password: None,
            };
            if !sink.send(format!("widget {i}"), w).await {
                return Ok(());
            }
        }
        Err(Diagnostic::warning("listed all", "every widget was listed").into())
    }
}

fn identity_entry() -> ResourceEntry<Widgets> {
    ResourceEntry::new(Widgets {
        fail_create: Arc::new(AtomicBool::new(false)),
    })
    .with_identity()
}

fn id_obj(name: &str) -> Value {
    Value::Object(
        [("name".to_owned(), s(name)), ("shelf".to_owned(), s("a"))]
            .into_iter()
            .collect(),
    )
}

#[test]
fn identity_schema_marks_required_and_optional_for_import() {
    let e = identity_entry();
    let schema = e.identity_schema().expect("identity schema");
    assert_eq!(schema.version, 1);
    let proto = schema.to_proto();
    let attr = |n: &str| {
        proto
            .identity_attributes
            .iter()
            .find(|a| a.name == n)
            .unwrap()
            .clone()
    };
    assert!(attr("name").required_for_import && !attr("name").optional_for_import);
    assert!(attr("shelf").optional_for_import && !attr("shelf").required_for_import);
    assert_eq!(attr("shelf").description, "Shelf; `a` when unset.");
    // Without the capability there is none.
    assert!(entry().0.identity_schema().is_none());
}

#[tokio::test]
async fn identity_follows_the_state_and_imports_by_identity() {
    let e = identity_entry();
    let state = obj(&[("id", s("w-Big")), ("name", s("Big"))]);
    assert_eq!(e.identity_of(&state), Some(id_obj("big")), "canonical");
    // Not known yet (no id), or no state: no identity.
    assert_eq!(e.identity_of(&obj(&[("name", s("Big"))])), None);
    assert_eq!(e.identity_of(&Value::Null), None);
    let (imported, diags) = e.import_identity(&ctx(), id_obj("big")).await;
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(imported.attr("id"), Some(&s("w-big")));
    assert_eq!(imported.attr("name"), Some(&s("big")));
}

#[test]
fn identity_is_upgraded_from_older_versions_and_refused_from_newer() {
    let e = identity_entry();
    let (v, diags) = e.upgrade_identity(0, br#"{"name":"x"}"#);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(v, id_obj("x"));
    let (v, diags) = e.upgrade_identity(1, br#"{"name":"x","shelf":"a"}"#);
    assert!(diags.is_empty());
    assert_eq!(v, id_obj("x"));
    let (_, diags) = e.upgrade_identity(2, b"{}");
    assert!(diags.0[0].summary.contains("newer provider"), "{diags:?}");
}

async fn collect_list(
    l: &ListResourceEntry<Widgets>,
    config: Value,
    include: bool,
    limit: i64,
) -> Vec<ListEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let ctx = ctx();
    let run = l.list(&ctx, config, include, limit, tx);
    let collect = async {
        let mut out = Vec::new();
        while let Some(ev) = rx.recv().await {
            out.push(ev);
        }
        out
    };
    let ((), events) = tokio::join!(run, collect);
    events
}

fn list_config(count: Option<i64>) -> Value {
    Value::Object(
        [(
            "count".to_owned(),
            count.map_or(Value::Null, |c| {
                Value::Number(crate::protocol::value::Number::Int(c))
            }),
        )]
        .into_iter()
        .collect(),
    )
}

#[tokio::test]
async fn a_list_streams_identities_objects_on_request_and_final_diagnostics() {
    let l = ListResourceEntry::new(Widgets {
        fail_create: Arc::new(AtomicBool::new(false)),
    });
    assert_eq!(l.type_name(), "test_widget");
    let events = collect_list(&l, list_config(Some(2)), true, 10).await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0].display_name, "widget 0");
    assert_eq!(events[0].identity, Some(id_obj("n0")));
    let object = events[1].object.as_ref().expect("object asked for");
    assert_eq!(object.attr("id"), Some(&s("w-n1")));
    assert!(events[1].diags.is_empty());
    // The list's own warning comes last, on an event without a result.
    assert!(events[2].identity.is_none());
    assert_eq!(events[2].diags.0[0].summary, "listed all");

    // Without include_resource: identities only. A null config block means defaults.
    let events = collect_list(&l, Value::Null, false, 10).await;
    assert_eq!(events.len(), 3);
    assert!(events[0].object.is_none() && events[0].identity.is_some());
}

#[tokio::test]
async fn a_list_stops_at_the_limit_and_refuses_bad_config_before_listing() {
    let l = ListResourceEntry::new(Widgets {
        fail_create: Arc::new(AtomicBool::new(false)),
    });
    let events = collect_list(&l, list_config(Some(50)), false, 3).await;
    assert_eq!(events.len(), 3, "stopped at the limit: {events:?}");
    assert!(events.iter().all(|e| e.diags.is_empty()));

    let diags = l.validate(&list_config(Some(-1)));
    assert_eq!(diags.0[0].path, Some(AttrPath::root("count")));
    let events = collect_list(&l, list_config(Some(-1)), false, 3).await;
    assert_eq!(events.len(), 1);
    assert!(events[0].identity.is_none() && events[0].diags.has_errors());
}

/// Counts to `to`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
struct CountConfig {
    /// Where to stop; more than 3 fails.
    to: i64,
}

struct Count;

impl Action for Count {
    type Model = CountConfig;
    const TYPE_NAME: &'static str = "test_count";

    fn validate(&self, config: &Config<'_, CountConfig>, diags: &mut Diagnostics) {
        if config.model.to < 0 {
            diags.error_at(AttrPath::root("to"), "Negative", "to must be >= 0");
        }
    }

    async fn invoke(
        &self,
        _ctx: &Ctx,
        config: CountConfig,
        progress: Progress,
    ) -> Result<(), Diagnostics> {
        for i in 1..=config.to.min(3) {
            progress.report(format!("{i}"));
        }
        if config.to > 3 {
            return Err(Diagnostic::error("Too far", "counted to 3 only").into());
        }
        Ok(())
    }
}

async fn invoke(a: &ActionEntry<Count>, to: i64) -> Vec<ActionEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let config = Value::Object(
        [(
            "to".to_owned(),
            Value::Number(crate::protocol::value::Number::Int(to)),
        )]
        .into_iter()
        .collect(),
    );
    a.invoke(&ctx(), config, tx).await;
    let mut out = Vec::new();
    while let Some(ev) = rx.recv().await {
        out.push(ev);
    }
    out
}

#[tokio::test]
async fn an_action_reports_progress_then_completes_once() {
    let a = ActionEntry::new(Count);
    assert_eq!(a.type_name(), "test_count");
    assert_eq!(
        invoke(&a, 2).await,
        vec![
            ActionEvent::Progress("1".into()),
            ActionEvent::Progress("2".into()),
            ActionEvent::Completed(Diagnostics::new()),
        ]
    );
    let failed = invoke(&a, 5).await;
    assert_eq!(failed.len(), 4);
    match failed.last() {
        Some(ActionEvent::Completed(d)) => assert_eq!(d.0[0].summary, "Too far"),
        other => panic!("{other:?}"),
    }
    // Invalid configuration: completed with the diagnostic, nothing run.
    match invoke(&a, -1).await.as_slice() {
        [ActionEvent::Completed(d)] => assert_eq!(d.0[0].path, Some(AttrPath::root("to"))),
        other => panic!("{other:?}"),
    }
    let config = Value::Object(
        [(
            "to".to_owned(),
            Value::Number(crate::protocol::value::Number::Int(-1)),
        )]
        .into_iter()
        .collect(),
    );
    assert!(a.plan(&ctx(), config).await.has_errors());
}
