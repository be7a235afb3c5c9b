//! Type erasure: typed resources, data sources and functions behind object-safe traits, so
//! one registry lists them all and the protocol server dispatches by type name.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

use tokio_util::sync::CancellationToken;

use super::capabilities::{ErasedAction, ErasedListResource};
use super::convert::{ConvertError, from_value, json_to_value, to_value, value_to_json};
use super::timeouts::{self, Limited, Operation};
use super::{
    AttrPath, Config, Ctx, DataSource, Diagnostic, Diagnostics, Failed, Function, FunctionError,
    Identity, Import, MoveState, OpResult, Plan, ProviderDef, Resource, Schema, Signature,
    UpgradeState,
};
use crate::protocol::value::{Type, Value};
use crate::provider::ProviderData;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a `moved {}` block comes from.
#[derive(Clone, Debug)]
pub struct MoveSource {
    pub provider_address: String,
    pub type_name: String,
    pub schema_version: i64,
    pub state: serde_json::Value,
}

impl MoveSource {
    /// A string attribute of the source state; an empty string (how azurerm stores unset
    /// optional strings) is none.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.state
            .get(key)
            .and_then(serde_json::Value::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The result of planning one resource change.
#[derive(Debug, Default)]
pub struct PlanOutcome {
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
    pub diags: Diagnostics,
}

/// A resource's identity schema: attributes from the identity model (required ones are
/// required for import, optional ones optional) and its version.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentitySchema {
    pub version: i64,
    pub schema: Schema,
    pub ty: Type,
}

impl IdentitySchema {
    pub fn of<I: schemars::JsonSchema>(version: i64) -> Result<Self, super::schema::SchemaError> {
        let schema = Schema::of::<I>()?;
        let ty = schema.value_type();
        Ok(IdentitySchema {
            version,
            schema,
            ty,
        })
    }

    pub fn to_proto(&self) -> crate::protocol::tfplugin6::ResourceIdentitySchema {
        use crate::protocol::tfplugin6::resource_identity_schema::IdentityAttribute;
        crate::protocol::tfplugin6::ResourceIdentitySchema {
            version: self.version,
            identity_attributes: self
                .schema
                .attributes
                .iter()
                .map(|a| IdentityAttribute {
                    name: a.name.clone(),
                    r#type: a.value_type().to_json_bytes(),
                    required_for_import: a.required,
                    optional_for_import: !a.required,
                    description: a.description.clone(),
                })
                .collect(),
        }
    }
}

pub(crate) fn convert_diag(what: &str, e: ConvertError) -> Diagnostic {
    Diagnostic::error(
        format!("Invalid {what}"),
        format!(
            "The provider could not read the {what} at {}: {}",
            e.path, e.message
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Resources

/// A resource behind the registry.
pub trait ErasedResource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    fn value_type(&self) -> &Type;
    fn validate(&self, config: &Value) -> Diagnostics;
    fn plan<'a>(
        &'a self,
        ctx: &'a Ctx,
        prior: Value,
        proposed: Value,
        config: Value,
    ) -> BoxFuture<'a, PlanOutcome>;
    /// Create, update or delete; returns the new state (null after delete).
    fn apply<'a>(
        &'a self,
        ctx: &'a Ctx,
        prior: Value,
        planned: Value,
    ) -> BoxFuture<'a, (Value, Diagnostics)>;
    fn read<'a>(&'a self, ctx: &'a Ctx, current: Value) -> BoxFuture<'a, (Value, Diagnostics)>;
    fn import<'a>(&'a self, ctx: &'a Ctx, id: &'a str) -> BoxFuture<'a, (Value, Diagnostics)>;
    fn upgrade(&self, version: i64, raw_json: &[u8]) -> (Value, Diagnostics);
    fn move_from(&self, source: &MoveSource) -> Option<(Value, Diagnostics)>;
    fn supports_move(&self) -> bool;
    /// The identity schema, for resources with an [`Identity`].
    fn identity_schema(&self) -> Option<&IdentitySchema>;
    /// The identity of a state or planned state (a value of the identity type); `None` without
    /// an identity capability, for a null state, or while a part is unknown.
    fn identity_of(&self, state: &Value) -> Option<Value>;
    /// `import { identity = { … } }`: the state for an identity value.
    fn import_identity<'a>(
        &'a self,
        ctx: &'a Ctx,
        identity: Value,
    ) -> BoxFuture<'a, (Value, Diagnostics)>;
    /// UpgradeResourceIdentity: identity JSON of `version` as a value of the current type.
    fn upgrade_identity(&self, version: i64, raw_json: &[u8]) -> (Value, Diagnostics);
}

type ImportFn<R> = for<'a> fn(
    &'a R,
    &'a Ctx,
    &'a str,
) -> BoxFuture<'a, Result<<R as Resource>::Model, Diagnostics>>;
type UpgradeFn<R> = fn(&R, i64, serde_json::Value) -> Result<serde_json::Value, Diagnostics>;
type MoveFn<R> = fn(&R, &MoveSource) -> Option<Result<<R as Resource>::Model, Diagnostics>>;

/// What an [`Identity`] gives the registry, type-erased (identity models travel as JSON).
struct IdentityCap<R: Resource> {
    schema: IdentitySchema,
    identity: fn(&R, &<R as Resource>::Model) -> Option<serde_json::Value>,
    import_id: fn(&R, &Ctx, serde_json::Value) -> Result<String, Diagnostics>,
    upgrade: UpgradeFn<R>,
}

/// A typed resource with the capabilities it opted into.
pub struct ResourceEntry<R: Resource> {
    resource: R,
    schema: Schema,
    ty: Type,
    import: Option<ImportFn<R>>,
    upgrade: Option<UpgradeFn<R>>,
    move_state: Option<MoveFn<R>>,
    identity: Option<IdentityCap<R>>,
}

fn import_thunk<'a, R: Import>(
    r: &'a R,
    ctx: &'a Ctx,
    id: &'a str,
) -> BoxFuture<'a, Result<R::Model, Diagnostics>> {
    Box::pin(r.import(ctx, id))
}

/// How long after an apply wrote a resource a refresh takes a 404 for ARM's lag.
pub const WRITE_LAG_WINDOW: std::time::Duration = std::time::Duration::from_secs(120);
/// How long such a refresh keeps reading before it takes the 404 as a deletion (5 s against
/// a loopback emulator, whose configured lags are shorter).
pub const WRITE_LAG_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
const WRITE_LAG_WAIT_LOOPBACK: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether the resource was written by an apply less than [`WRITE_LAG_WINDOW`] ago.
fn written_lately(ctx: &Ctx) -> bool {
    let Some(at) = ctx.written_at() else {
        return false;
    };
    super::unix_now().saturating_sub(at) < WRITE_LAG_WINDOW.as_secs()
}

impl<R: Resource> ResourceEntry<R> {
    /// Wraps a resource. Panics on a schema that cannot be derived: a programming error that
    /// the registry's tests catch.
    pub fn new(resource: R) -> Self {
        let schema = resource_schema::<R>();
        let ty = schema.value_type();
        ResourceEntry {
            resource,
            schema,
            ty,
            import: None,
            upgrade: None,
            move_state: None,
            identity: None,
        }
    }

    /// Declares the resource's identity (and makes it importable, which identity needs).
    pub fn with_identity(mut self) -> Self
    where
        R: Identity,
    {
        let schema = IdentitySchema::of::<R::Identity>(R::IDENTITY_VERSION)
            .unwrap_or_else(|e| panic!("{} identity: {e}", R::TYPE_NAME));
        self.identity = Some(IdentityCap {
            schema,
            identity: |r, m| r.identity(m).and_then(|i| serde_json::to_value(i).ok()),
            import_id: |r, ctx, json| {
                let identity: R::Identity = serde_json::from_value(json).map_err(|e| {
                    Diagnostics::from(Diagnostic::error(
                        "Invalid identity",
                        format!("The import identity of {}: {e}", R::TYPE_NAME),
                    ))
                })?;
                r.import_id(ctx, &identity)
            },
            upgrade: |r, v, json| r.upgrade_identity(v, json),
        });
        self.importable()
    }

    pub fn importable(mut self) -> Self
    where
        R: Import,
    {
        self.import = Some(import_thunk::<R>);
        self
    }

    pub fn upgradable(mut self) -> Self
    where
        R: UpgradeState,
    {
        self.upgrade = Some(|r, v, s| r.upgrade_state(v, s));
        self
    }

    pub fn movable(mut self) -> Self
    where
        R: MoveState,
    {
        self.move_state = Some(|r, s| r.move_state(s));
        self
    }

    fn decode(&self, v: &Value) -> Result<R::Model, ConvertError> {
        from_value(v, &self.ty)
    }

    fn encode(&self, m: &R::Model) -> Result<Value, Diagnostics> {
        let mut v =
            to_value(m, &self.ty).map_err(|e| Diagnostics::from(convert_diag("state", e)))?;
        self.null_write_only(&mut v);
        Ok(v)
    }

    /// A dynamic attribute read back from ARM as JSON gets inferred types (objects, tuples),
    /// while the state holds what the configuration typed (`list(string)`, `tomap(…)`, a
    /// set): Terraform compares types too, so the same value would plan as an update for
    /// ever. Where the value means the same JSON, the state's typed value stays.
    fn keep_dynamic_types(&self, new: &mut Value, current: &Value) {
        for a in &self.schema.attributes {
            if a.value_type() != Type::Dynamic {
                continue;
            }
            let (Some(before), Some(slot)) = (current.attr(&a.name), new.attr_mut(&a.name)) else {
                continue;
            };
            if before.is_null() || !before.is_wholly_known() || before == slot {
                continue;
            }
            if value_to_json(before, &Type::Dynamic) == value_to_json(slot, &Type::Dynamic) {
                *slot = before.clone();
            }
        }
    }

    /// Write-only attributes never reach state or plan (tfplugin6.md §5.2).
    fn null_write_only(&self, v: &mut Value) {
        for a in self.schema.attributes.iter().filter(|a| a.write_only) {
            if let Some(slot) = v.attr_mut(&a.name) {
                *slot = Value::Null;
            }
        }
    }

    fn typed_validate(&self, config: &Value, diags: &mut Diagnostics) {
        timeouts::validate(config, diags);
        // A configuration with unknown required values may not decode; the final plan at
        // apply time validates again once they are known.
        if let Ok(model) = self.decode(config) {
            self.resource
                .validate(&Config { model, raw: config }, diags);
        }
    }

    /// A read that found nothing within [`WRITE_LAG_WINDOW`] of the resource's last apply:
    /// ARM answers 404 for a while after a PUT (DESIGN.md §4), and dropping the resource from
    /// state then would make the next apply create it again. Reads again, every second for up
    /// to [`WRITE_LAG_WAIT`] (every 0.1 s for 5 s against a loopback emulator); what is still
    /// missing after that is gone.
    async fn read_again_after_write(
        &self,
        ctx: &Ctx,
        token: &CancellationToken,
        current: &Value,
    ) -> OpResult<Option<R::Model>, R::Model> {
        let loopback = match ctx.provider_opt() {
            Some(p) => p.arm().await.is_ok_and(|a| a.cloud().is_loopback()),
            None => false,
        };
        let (interval, wait) = if loopback {
            (
                std::time::Duration::from_millis(100),
                WRITE_LAG_WAIT_LOOPBACK,
            )
        } else {
            (std::time::Duration::from_secs(1), WRITE_LAG_WAIT)
        };
        let started = std::time::Instant::now();
        let mut attempt = 1u32;
        loop {
            if started.elapsed() >= wait {
                tracing::info!(
                    resource = R::TYPE_NAME,
                    attempts = attempt,
                    "still not found {wait:?} after the first 404: removed from state"
                );
                return Ok(None);
            }
            tracing::debug!(
                resource = R::TYPE_NAME,
                attempt,
                "not found right after the last apply wrote it: ARM may not have caught up, reading again"
            );
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = token.cancelled() => return Ok(None),
            }
            attempt += 1;
            let state = match self.decode(current) {
                Ok(m) => m,
                Err(e) => return Err(Failed::from(convert_diag("state", e))),
            };
            if let Some(m) = self.resource.read(ctx, state).await? {
                tracing::info!(
                    resource = R::TYPE_NAME,
                    attempts = attempt,
                    waited_ms = started.elapsed().as_millis() as u64,
                    "found after ARM's read-after-write lag"
                );
                return Ok(Some(m));
            }
        }
    }

    /// The state after a failure: the partial state the resource kept (with the `timeouts`
    /// block of `carry`), else `fallback`.
    fn failed_state(
        &self,
        f: Failed<R::Model>,
        fallback: Value,
        carry: &Value,
    ) -> (Value, Diagnostics) {
        let mut diags = f.diags;
        let state = match f.partial {
            Some(m) => match self.encode(&m) {
                Ok(mut v) => {
                    carry_timeouts(&mut v, carry);
                    v
                }
                Err(d) => {
                    diags.extend(d);
                    fallback
                }
            },
            None => fallback,
        };
        (state, diags)
    }
}

impl<R: Resource> ErasedResource for ResourceEntry<R> {
    fn type_name(&self) -> &'static str {
        R::TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn value_type(&self) -> &Type {
        &self.ty
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        self.typed_validate(config, &mut diags);
        diags
    }

    fn plan<'a>(
        &'a self,
        ctx: &'a Ctx,
        prior: Value,
        proposed: Value,
        config: Value,
    ) -> BoxFuture<'a, PlanOutcome> {
        Box::pin(async move {
            let mut out = PlanOutcome {
                planned: proposed.clone(),
                ..Default::default()
            };
            if proposed.is_null() {
                return out; // destroy: nothing to plan
            }
            let is_create = prior.is_null();
            self.typed_validate(&config, &mut out.diags);
            if out.diags.has_errors() {
                return out;
            }
            let mut unknown = BTreeSet::new();
            if let (Ok(config_m), Ok(planned_m)) = (self.decode(&config), self.decode(&proposed)) {
                let prior_m = if is_create {
                    None
                } else {
                    self.decode(&prior).ok()
                };
                let before = serde_json::to_value(&planned_m).unwrap_or_default();
                let mut plan = Plan {
                    config: config_m,
                    prior: prior_m,
                    planned: planned_m,
                    raw_config: &config,
                    unknown: BTreeSet::new(),
                };
                self.resource.plan(ctx, &mut plan, &mut out.diags).await;
                if out.diags.has_errors() {
                    return out;
                }
                unknown = plan.unknown;
                let after = serde_json::to_value(&plan.planned).unwrap_or_default();
                // Take only the attributes the resource changed, so unknowns it did not
                // touch stay unknown.
                for a in &self.schema.attributes {
                    let (b, n) = (before.get(&a.name), after.get(&a.name));
                    if b != n {
                        let j = n.cloned().unwrap_or_default();
                        match json_to_value(&j, &a.value_type()) {
                            Ok(v) => {
                                if let Some(slot) = out.planned.attr_mut(&a.name) {
                                    *slot = v;
                                }
                            }
                            Err(e) => out.diags.push(convert_diag("planned state", e)),
                        }
                    }
                }
            }
            for a in &self.schema.attributes {
                let config_null = config.attr(&a.name).is_none_or(Value::is_null);
                let Some(slot) = out.planned.attr_mut(&a.name) else {
                    continue;
                };
                if unknown.contains(&a.name)
                    || (is_create && a.computed && config_null && slot.is_null())
                {
                    *slot = Value::unknown();
                }
            }
            self.null_write_only(&mut out.planned);
            if !is_create {
                for a in self.schema.attributes.iter().filter(|a| a.requires_replace) {
                    let (before, after) = (prior.attr(&a.name), out.planned.attr(&a.name));
                    let same = before == after
                        || (a.case_insensitive
                            && matches!(
                                (before.and_then(Value::as_str), after.and_then(Value::as_str)),
                                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y)
                            ));
                    if !same {
                        out.requires_replace.push(AttrPath::root(a.name.clone()));
                    }
                }
            }
            out
        })
    }

    fn apply<'a>(
        &'a self,
        ctx: &'a Ctx,
        prior: Value,
        planned: Value,
    ) -> BoxFuture<'a, (Value, Diagnostics)> {
        Box::pin(async move {
            if planned.is_null() {
                let state = match self.decode(&prior) {
                    Ok(m) => m,
                    Err(e) => return (prior, convert_diag("prior state", e).into()),
                };
                let limit = timeouts::limit(&prior, Operation::Delete, &R::DEFAULT_TIMEOUTS);
                let (op_ctx, token) = ctx.for_operation();
                return match timeouts::run(limit, &token, self.resource.delete(&op_ctx, state))
                    .await
                {
                    Limited::Done(Ok(())) | Limited::TimedOut(Ok(())) => {
                        (Value::Null, Diagnostics::new())
                    }
                    Limited::Done(Err(f)) => self.failed_state(f, prior.clone(), &prior),
                    Limited::TimedOut(Err(f)) => {
                        let (v, mut d) = self.failed_state(f, prior.clone(), &prior);
                        d.push(timeouts::timed_out(
                            R::TYPE_NAME,
                            Operation::Delete,
                            limit,
                            true,
                        ));
                        (v, d)
                    }
                    Limited::Abandoned => (
                        prior,
                        timeouts::timed_out(R::TYPE_NAME, Operation::Delete, limit, true).into(),
                    ),
                };
            }
            let planned_m = match self.decode(&planned) {
                Ok(m) => m,
                Err(e) => return (prior, convert_diag("planned state", e).into()),
            };
            let op = if prior.is_null() {
                Operation::Create
            } else {
                Operation::Update
            };
            let limit = timeouts::limit(&planned, op, &R::DEFAULT_TIMEOUTS);
            let (op_ctx, token) = ctx.for_operation();
            let run = async {
                if prior.is_null() {
                    Ok(self.resource.create(&op_ctx, planned_m).await)
                } else {
                    match self.decode(&prior) {
                        Ok(prior_m) => Ok(self.resource.update(&op_ctx, prior_m, planned_m).await),
                        Err(e) => Err(convert_diag("prior state", e)),
                    }
                }
            };
            let (result, timed_out) = match timeouts::run(limit, &token, run).await {
                Limited::Done(r) => (r, false),
                Limited::TimedOut(r) => (r, true),
                Limited::Abandoned => {
                    return (
                        prior.clone(),
                        timeouts::timed_out(R::TYPE_NAME, op, limit, !prior.is_null()).into(),
                    );
                }
            };
            let result = match result {
                Ok(r) => r,
                Err(d) => return (prior, d.into()),
            };
            match result {
                Ok(m) => match self.encode(&m) {
                    Ok(mut v) => {
                        keep_known_planned(&mut v, &planned);
                        (v, Diagnostics::new())
                    }
                    Err(d) => (prior, d),
                },
                Err(f) => {
                    let (v, mut d) = self.failed_state(f, prior, &planned);
                    if timed_out {
                        d.push(timeouts::timed_out(R::TYPE_NAME, op, limit, !v.is_null()));
                    }
                    (v, d)
                }
            }
        })
    }

    fn read<'a>(&'a self, ctx: &'a Ctx, current: Value) -> BoxFuture<'a, (Value, Diagnostics)> {
        Box::pin(async move {
            let state = match self.decode(&current) {
                Ok(m) => m,
                Err(e) => return (current, convert_diag("state", e).into()),
            };
            let limit = timeouts::limit(&current, Operation::Read, &R::DEFAULT_TIMEOUTS);
            let (op_ctx, token) = ctx.for_operation();
            let read = async {
                match self.resource.read(&op_ctx, state).await {
                    Ok(None) if written_lately(&op_ctx) => {
                        self.read_again_after_write(&op_ctx, &token, &current).await
                    }
                    other => other,
                }
            };
            let (result, timed_out) = match timeouts::run(limit, &token, read).await {
                Limited::Done(r) => (r, false),
                Limited::TimedOut(r) => (r, true),
                Limited::Abandoned => {
                    let d = timeouts::timed_out(R::TYPE_NAME, Operation::Read, limit, true);
                    return (current, d.into());
                }
            };
            match result {
                Ok(Some(m)) => match self.encode(&m) {
                    Ok(mut v) => {
                        carry_timeouts(&mut v, &current);
                        self.keep_dynamic_types(&mut v, &current);
                        (v, Diagnostics::new())
                    }
                    Err(d) => (current, d),
                },
                Ok(None) => (Value::Null, Diagnostics::new()),
                Err(f) => {
                    let (v, mut d) = self.failed_state(f, current.clone(), &current);
                    if timed_out {
                        d.push(timeouts::timed_out(
                            R::TYPE_NAME,
                            Operation::Read,
                            limit,
                            true,
                        ));
                    }
                    (v, d)
                }
            }
        })
    }

    fn import<'a>(&'a self, ctx: &'a Ctx, id: &'a str) -> BoxFuture<'a, (Value, Diagnostics)> {
        Box::pin(async move {
            let Some(import) = self.import else {
                return (
                    Value::Null,
                    Diagnostic::error(
                        "Import not supported",
                        format!("{} cannot be imported.", R::TYPE_NAME),
                    )
                    .into(),
                );
            };
            match import(&self.resource, ctx, id).await {
                Ok(m) => match self.encode(&m) {
                    Ok(v) => (v, Diagnostics::new()),
                    Err(d) => (Value::Null, d),
                },
                Err(d) => (Value::Null, d),
            }
        })
    }

    fn upgrade(&self, version: i64, raw_json: &[u8]) -> (Value, Diagnostics) {
        use crate::protocol::value::decode_state_json;
        let fail = |summary: &str, detail: String| {
            (Value::Null, Diagnostic::error(summary, detail).into())
        };
        if version > R::SCHEMA_VERSION {
            return fail(
                "State from a newer provider",
                format!(
                    "The state of this {} was written by schema version {version}, newer than this \
                     provider's {}. Upgrade the provider.",
                    R::TYPE_NAME,
                    R::SCHEMA_VERSION
                ),
            );
        }
        let bytes = if version < R::SCHEMA_VERSION {
            let Some(upgrade) = self.upgrade else {
                return fail(
                    "Unsupported state version",
                    format!(
                        "{} cannot upgrade state from version {version}.",
                        R::TYPE_NAME
                    ),
                );
            };
            let json = match serde_json::from_slice(raw_json) {
                Ok(j) => j,
                Err(e) => return fail("Invalid state", e.to_string()),
            };
            match upgrade(&self.resource, version, json) {
                Ok(j) => j.to_string().into_bytes(),
                Err(d) => return (Value::Null, d),
            }
        } else {
            raw_json.to_vec()
        };
        match decode_state_json(&bytes, &self.ty) {
            Ok(v) => (v, Diagnostics::new()),
            Err(e) => fail("Invalid state", e.to_string()),
        }
    }

    fn move_from(&self, source: &MoveSource) -> Option<(Value, Diagnostics)> {
        let mv = self.move_state?;
        Some(match mv(&self.resource, source)? {
            Ok(m) => match self.encode(&m) {
                Ok(v) => (v, Diagnostics::new()),
                Err(d) => (Value::Null, d),
            },
            Err(d) => (Value::Null, d),
        })
    }

    fn supports_move(&self) -> bool {
        self.move_state.is_some()
    }

    fn identity_schema(&self) -> Option<&IdentitySchema> {
        self.identity.as_ref().map(|c| &c.schema)
    }

    fn identity_of(&self, state: &Value) -> Option<Value> {
        let cap = self.identity.as_ref()?;
        if state.is_null() {
            return None;
        }
        let model = self.decode(state).ok()?;
        let json = (cap.identity)(&self.resource, &model)?;
        let v = json_to_value(&json, &cap.schema.ty).ok()?;
        // Every part must be known and set: an identity with holes is no identity yet.
        let complete = match &v {
            Value::Object(m) => cap
                .schema
                .schema
                .attributes
                .iter()
                .filter(|a| a.required)
                .all(|a| m.get(&a.name).is_some_and(|x| !x.is_null())),
            _ => false,
        };
        complete.then_some(v)
    }

    fn import_identity<'a>(
        &'a self,
        ctx: &'a Ctx,
        identity: Value,
    ) -> BoxFuture<'a, (Value, Diagnostics)> {
        Box::pin(async move {
            let Some(cap) = self.identity.as_ref() else {
                return (
                    Value::Null,
                    Diagnostic::error(
                        "Import by identity not supported",
                        format!(
                            "{} has no resource identity; import it by ID.",
                            R::TYPE_NAME
                        ),
                    )
                    .into(),
                );
            };
            let json = super::convert::value_to_json(&identity, &cap.schema.ty);
            let id = match (cap.import_id)(&self.resource, ctx, json) {
                Ok(id) => id,
                Err(d) => return (Value::Null, d),
            };
            self.import(ctx, &id).await
        })
    }

    fn upgrade_identity(&self, version: i64, raw_json: &[u8]) -> (Value, Diagnostics) {
        use crate::protocol::value::decode_state_json;
        let fail = |summary: &str, detail: String| {
            (Value::Null, Diagnostic::error(summary, detail).into())
        };
        let Some(cap) = self.identity.as_ref() else {
            return fail(
                "No resource identity",
                format!("{} has no resource identity.", R::TYPE_NAME),
            );
        };
        if version > cap.schema.version {
            return fail(
                "Identity from a newer provider",
                format!(
                    "The identity of this {} was written by identity version {version}, newer \
                     than this provider's {}. Upgrade the provider.",
                    R::TYPE_NAME,
                    cap.schema.version
                ),
            );
        }
        let bytes = if version < cap.schema.version {
            let json = match serde_json::from_slice(raw_json) {
                Ok(j) => j,
                Err(e) => return fail("Invalid identity", e.to_string()),
            };
            match (cap.upgrade)(&self.resource, version, json) {
                Ok(j) => j.to_string().into_bytes(),
                Err(d) => return (Value::Null, d),
            }
        } else {
            raw_json.to_vec()
        };
        match decode_state_json(&bytes, &cap.schema.ty) {
            Ok(v) => (v, Diagnostics::new()),
            Err(e) => fail("Invalid identity", e.to_string()),
        }
    }
}

/// A resource's schema: its model's, plus the framework's `timeouts` block.
///
/// The model is decoded from and encoded to the whole value: serde ignores the extra
/// `timeouts` key and encoding fills it with null; the registry carries the configured block
/// from config to plan to state.
pub(crate) fn resource_schema<R: Resource>() -> Schema {
    let mut schema = Schema::of::<R::Model>()
        .unwrap_or_else(|e| panic!("{}: {e}", R::TYPE_NAME))
        .with_version(R::SCHEMA_VERSION);
    assert!(
        schema.attribute(timeouts::ATTRIBUTE).is_none(),
        "{}: `timeouts` is the framework's block, not a model attribute",
        R::TYPE_NAME
    );
    schema
        .attributes
        .push(timeouts::attribute(&R::DEFAULT_TIMEOUTS));
    schema
}

/// The configured `timeouts` block is Terraform's business, not Azure's: it goes from
/// `from` (plan or prior state) to the new state unchanged.
fn carry_timeouts(v: &mut Value, from: &Value) {
    if let (Some(slot), Some(t)) = (
        v.attr_mut(timeouts::ATTRIBUTE),
        from.attr(timeouts::ATTRIBUTE),
    ) {
        *slot = t.clone();
    }
}

/// Known planned values must come back identical (tfplugin6.md §5.3). Resources return
/// what ARM says; where ARM's answer differs only in ways the plan already judged
/// equivalent (case, ordering), the planned value stands.
fn keep_known_planned(new: &mut Value, planned: &Value) {
    if let (Value::Object(n), Value::Object(p)) = (new, planned) {
        for (k, pv) in p {
            if pv.is_wholly_known()
                && let Some(slot) = n.get_mut(k)
                && slot != pv
            {
                tracing::debug!(attribute = %k, "keeping the planned value of an attribute");
                *slot = pv.clone();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Data sources

pub trait ErasedDataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    fn value_type(&self) -> &Type;
    fn validate(&self, config: &Value) -> Diagnostics;
    fn read<'a>(&'a self, ctx: &'a Ctx, config: Value) -> BoxFuture<'a, (Value, Diagnostics)>;
}

pub struct DataSourceEntry<D: DataSource> {
    ds: D,
    schema: Schema,
    ty: Type,
}

impl<D: DataSource> DataSourceEntry<D> {
    pub fn new(ds: D) -> Self {
        let schema = Schema::of::<D::Model>().unwrap_or_else(|e| panic!("{}: {e}", D::TYPE_NAME));
        let ty = schema.value_type();
        DataSourceEntry { ds, schema, ty }
    }
}

impl<D: DataSource> ErasedDataSource for DataSourceEntry<D> {
    fn type_name(&self) -> &'static str {
        D::TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn value_type(&self) -> &Type {
        &self.ty
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Ok(model) = from_value::<D::Model>(config, &self.ty) {
            self.ds.validate(&Config { model, raw: config }, &mut diags);
        }
        diags
    }
    fn read<'a>(&'a self, ctx: &'a Ctx, config: Value) -> BoxFuture<'a, (Value, Diagnostics)> {
        Box::pin(async move {
            let model = match from_value::<D::Model>(&config, &self.ty) {
                Ok(m) => m,
                Err(e) => return (Value::Null, convert_diag("configuration", e).into()),
            };
            let mut diags = Diagnostics::new();
            self.ds.validate(
                &Config {
                    model: model.clone(),
                    raw: &config,
                },
                &mut diags,
            );
            if diags.has_errors() {
                return (Value::Null, diags);
            }
            match self.ds.read(ctx, model).await {
                Ok(m) => match to_value(&m, &self.ty) {
                    Ok(v) => (v, diags),
                    Err(e) => (Value::Null, convert_diag("result", e).into()),
                },
                Err(d) => (Value::Null, d),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Functions

pub trait ErasedFunction: Send + Sync {
    fn name(&self) -> &'static str;
    fn signature(&self) -> Signature;
    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError>;
}

pub struct FunctionEntry<F: Function>(pub F);

impl<F: Function> ErasedFunction for FunctionEntry<F> {
    fn name(&self) -> &'static str {
        F::NAME
    }
    fn signature(&self) -> Signature {
        self.0.signature()
    }
    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        self.0.call(args)
    }
}

// ---------------------------------------------------------------------------------------------
// The provider block

pub trait ErasedProvider: Send + Sync {
    fn schema(&self) -> &Schema;
    fn value_type(&self) -> &Type;
    fn validate(&self, config: &Value) -> Diagnostics;
    fn configure<'a>(
        &'a self,
        config: Value,
        terraform_version: &'a str,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<ProviderData, Diagnostics>>;
}

pub struct ProviderEntry<P: ProviderDef> {
    def: P,
    schema: Schema,
    ty: Type,
}

impl<P: ProviderDef> ProviderEntry<P> {
    pub fn new(def: P) -> Self {
        let schema = Schema::of::<P::Model>().unwrap_or_else(|e| panic!("provider: {e}"));
        let ty = schema.value_type();
        ProviderEntry { def, schema, ty }
    }
}

impl<P: ProviderDef> ErasedProvider for ProviderEntry<P> {
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn value_type(&self) -> &Type {
        &self.ty
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Ok(model) = from_value::<P::Model>(config, &self.ty) {
            self.def
                .validate(&Config { model, raw: config }, &mut diags);
        }
        diags
    }
    fn configure<'a>(
        &'a self,
        config: Value,
        terraform_version: &'a str,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<ProviderData, Diagnostics>> {
        Box::pin(async move {
            let model = from_value::<P::Model>(&config, &self.ty)
                .map_err(|e| Diagnostics::from(convert_diag("provider configuration", e)))?;
            let mut diags = Diagnostics::new();
            self.def.validate(
                &Config {
                    model: model.clone(),
                    raw: &config,
                },
                &mut diags,
            );
            if diags.has_errors() {
                return Err(diags);
            }
            self.def.configure(model, terraform_version, cancel).await
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The registry

/// Everything the provider serves, by name.
pub struct Registry {
    pub provider: Box<dyn ErasedProvider>,
    pub resources: BTreeMap<&'static str, Box<dyn ErasedResource>>,
    pub data_sources: BTreeMap<&'static str, Box<dyn ErasedDataSource>>,
    pub functions: BTreeMap<&'static str, Box<dyn ErasedFunction>>,
    pub list_resources: BTreeMap<&'static str, Box<dyn ErasedListResource>>,
    pub actions: BTreeMap<&'static str, Box<dyn ErasedAction>>,
}

impl Registry {
    pub fn new(provider: impl ErasedProvider + 'static) -> Self {
        Registry {
            provider: Box::new(provider),
            resources: BTreeMap::new(),
            data_sources: BTreeMap::new(),
            functions: BTreeMap::new(),
            list_resources: BTreeMap::new(),
            actions: BTreeMap::new(),
        }
    }

    /// A list resource for `terraform query`; its managed resource (same type name) must be
    /// registered with an identity (Terraform requires one).
    pub fn list_resource(mut self, l: impl ErasedListResource + 'static) -> Self {
        let name = l.type_name();
        assert!(
            self.list_resources.insert(name, Box::new(l)).is_none(),
            "duplicate list resource {name}"
        );
        self
    }

    pub fn action(mut self, a: impl ErasedAction + 'static) -> Self {
        let name = a.type_name();
        assert!(
            self.actions.insert(name, Box::new(a)).is_none(),
            "duplicate action {name}"
        );
        self
    }

    pub fn resource(mut self, r: impl ErasedResource + 'static) -> Self {
        let name = r.type_name();
        assert!(
            self.resources.insert(name, Box::new(r)).is_none(),
            "duplicate resource {name}"
        );
        self
    }

    pub fn data_source(mut self, d: impl ErasedDataSource + 'static) -> Self {
        let name = d.type_name();
        assert!(
            self.data_sources.insert(name, Box::new(d)).is_none(),
            "duplicate data source {name}"
        );
        self
    }

    pub fn function(mut self, f: impl ErasedFunction + 'static) -> Self {
        let name = f.name();
        assert!(
            self.functions.insert(name, Box::new(f)).is_none(),
            "duplicate function {name}"
        );
        self
    }

    pub fn any_movable(&self) -> bool {
        self.resources.values().any(|r| r.supports_move())
    }
}
