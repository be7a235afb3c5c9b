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
