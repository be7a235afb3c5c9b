//! The typed layer between the wire and the resources.
//!
//! A resource implements the small core trait [`Resource`] (schema from its model, validate,
//! plan, create, read, update, delete) and opts into more with [`Import`], [`UpgradeState`]
//! and [`MoveState`], wired in the registry with [`ResourceEntry`]'s builder methods
//! (the terraform-plugin-framework shape: a small core plus capability traits). Data sources
//! implement [`DataSource`], functions [`Function`], the provider itself [`ProviderDef`].
//!
//! Terraform 1.14+ capabilities: a resource opts into a resource identity with [`Identity`]
//! (`import { identity = { … } }`, identity in read/plan/apply), into `terraform query` with
//! [`ListResource`] (a `list` block lists what exists, with identities and full objects for
//! `-generate-config-out`); [`Action`]s are `action` blocks run by `terraform apply -invoke`
//! or an `action_trigger`, reporting progress while they run.
//!
//! Plan logic is pure and offline: validation, defaults, requires-replace and unknowns are
//! worked out here from the schema; resources only add what is theirs.

mod capabilities;
pub mod convert;
mod registry;
pub mod schema;
pub mod timeouts;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

pub use crate::protocol::diag::{AttrPath, Diagnostic, Diagnostics, Severity};
pub use crate::protocol::value::{Type, Value};
pub use capabilities::{
    ActionEntry, ActionEvent, ErasedAction, ErasedListResource, ListEvent, ListResourceEntry,
};
pub use registry::{
    DataSourceEntry, ErasedDataSource, ErasedFunction, ErasedProvider, ErasedResource,
    FunctionEntry, IdentitySchema, MoveSource, PlanOutcome, ProviderEntry, Registry, ResourceEntry,
};
pub use schema::{AttrType, Attribute, Nesting, Schema};

use crate::provider::ProviderData;

/// A model: a serde struct whose schema comes from the same type.
pub trait Model:
    Serialize + DeserializeOwned + schemars::JsonSchema + Clone + Send + Sync + 'static
{
}
impl<T> Model for T where
    T: Serialize + DeserializeOwned + schemars::JsonSchema + Clone + Send + Sync + 'static
{
}

/// The wall clock in Unix seconds (the private state's `defender_written_at`).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What an operation runs with: the configured provider and the stop signal.
#[derive(Clone)]
pub struct Ctx {
    data: Option<Arc<ProviderData>>,
    pub cancel: CancellationToken,
    adopted: bool,
    written_at: Option<u64>,
}

impl Ctx {
    pub fn new(data: Option<Arc<ProviderData>>, cancel: CancellationToken) -> Self {
        Ctx {
            data,
            cancel,
            adopted: false,
            written_at: None,
        }
    }

    /// The same context for a resource an apply last wrote at `written_at` (Unix seconds;
    /// the framework's private-state mark, `protocol::server`).
    pub fn with_written_at(mut self, written_at: Option<u64>) -> Self {
        self.written_at = written_at;
        self
    }

    /// When an apply last wrote the resource (Unix seconds), if the state says.
    pub fn written_at(&self) -> Option<u64> {
        self.written_at
    }

    /// The same context for a resource that came into state by import or `moved {}` and has
    /// not been applied since (the framework's private-state mark, `protocol::server`).
    pub fn with_adopted(mut self, adopted: bool) -> Self {
        self.adopted = adopted;
        self
    }

    /// Whether the resource was imported or moved in and not applied since: what Azure has was
    /// taken as it is, so settings that only act on a change (a remediation task) do not act
    /// on their first appearance in state.
    pub fn adopted(&self) -> bool {
        self.adopted
    }

    /// The configured provider; an error diagnostic before ConfigureProvider.
    pub fn provider(&self) -> Result<&ProviderData, Diagnostic> {
        self.data.as_deref().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "The defender provider was used before Terraform configured it. This is a bug in \
                 Terraform or the provider; please report it.",
            )
        })
    }

    /// The configured provider, when there is one (plan may run unconfigured).
    pub fn provider_opt(&self) -> Option<&ProviderData> {
        self.data.as_deref()
    }

    /// A context for one operation under its own limit: its token is a child of this one
    /// (StopProvider still cancels it), and cancelling it stops only this operation.
    pub fn for_operation(&self) -> (Ctx, CancellationToken) {
        let token = self.cancel.child_token();
        (
            Ctx {
                data: self.data.clone(),
                cancel: token.clone(),
                adopted: self.adopted,
                written_at: self.written_at,
            },
            token,
        )
    }
}

/// A configuration as validation sees it: a model with unknowns read as `None`, and the raw
/// value to ask what is unknown.
pub struct Config<'a, M> {
    pub model: M,
    pub raw: &'a Value,
}

impl<M> Config<'_, M> {
    /// True when the top-level attribute's value is not known yet.
    pub fn is_unknown(&self, attr: &str) -> bool {
        self.raw.attr(attr).is_some_and(|v| !v.is_wholly_known())
    }
}

/// What planning works on. `planned` starts as Terraform's proposed new state (config values,
/// computed attributes carried over from prior state); the resource adjusts it and marks
/// attributes whose values are only known after apply.
pub struct Plan<'a, M> {
    pub config: M,
    pub prior: Option<M>,
    pub planned: M,
    pub raw_config: &'a Value,
    pub(crate) unknown: BTreeSet<String>,
}

impl<M> Plan<'_, M> {
    /// Marks a top-level attribute as known only after apply.
    pub fn set_unknown(&mut self, attr: &str) {
        self.unknown.insert(attr.to_string());
    }
    /// True when the configured value of a top-level attribute is not known yet.
    pub fn config_unknown(&self, attr: &str) -> bool {
        self.raw_config
            .attr(attr)
            .is_some_and(|v| !v.is_wholly_known())
    }
    /// True when this plan creates the resource.
    pub fn is_create(&self) -> bool {
        self.prior.is_none()
    }
}

/// A failed operation: diagnostics, and what exists despite the failure, so state keeps it
/// and the next apply repairs instead of orphaning (DESIGN.md §4).
#[derive(Debug)]
pub struct Failed<M> {
    pub diags: Diagnostics,
    pub partial: Option<M>,
}

impl<M> Failed<M> {
    pub fn with_partial(diags: impl Into<Diagnostics>, partial: M) -> Self {
        Failed {
            diags: diags.into(),
            partial: Some(partial),
        }
    }
}

impl<M> From<Diagnostic> for Failed<M> {
    fn from(d: Diagnostic) -> Self {
        Failed {
            diags: d.into(),
            partial: None,
        }
    }
}

impl<M> From<Diagnostics> for Failed<M> {
    fn from(d: Diagnostics) -> Self {
        Failed {
            diags: d,
            partial: None,
        }
    }
}

pub type OpResult<T, M> = Result<T, Failed<M>>;

/// The core of every managed resource.
pub trait Resource: Send + Sync + 'static {
    type Model: Model;
    /// The Terraform type name, e.g. `defender_auto_provisioning`.
    const TYPE_NAME: &'static str;
    /// Schema version stored in state; bump with an [`UpgradeState`] implementation.
    const SCHEMA_VERSION: i64 = 0;
    /// Limits of each operation when the `timeouts` block sets none (the block itself is the
    /// framework's: see [`timeouts`]).
    const DEFAULT_TIMEOUTS: timeouts::DefaultTimeouts = timeouts::DefaultTimeouts::STANDARD;

    /// Offline checks of a configuration. Unknown values read as `None`.
    fn validate(&self, _config: &Config<'_, Self::Model>, _diags: &mut Diagnostics) {}

    /// Adjusts the planned state: defaults, values known at plan time, equivalences.
    fn plan(
        &self,
        _ctx: &Ctx,
        _plan: &mut Plan<'_, Self::Model>,
        _diags: &mut Diagnostics,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }

    fn create(
        &self,
        ctx: &Ctx,
        planned: Self::Model,
    ) -> impl Future<Output = OpResult<Self::Model, Self::Model>> + Send;

    /// Reads the remote object; `None` when it no longer exists.
    fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> impl Future<Output = OpResult<Option<Self::Model>, Self::Model>> + Send;

    fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> impl Future<Output = OpResult<Self::Model, Self::Model>> + Send;

    fn delete(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> impl Future<Output = OpResult<(), Self::Model>> + Send;
}

/// Opt-in: `terraform import` / `import {}` by ID.
pub trait Import: Resource {
    /// Builds the state for an imported ID; Terraform reads it right after.
    fn import(
        &self,
        ctx: &Ctx,
        id: &str,
    ) -> impl Future<Output = Result<Self::Model, Diagnostics>> + Send;
}

/// Opt-in: state written by an older schema version.
pub trait UpgradeState: Resource {
    /// Rewrites state JSON of `version` into the current version's shape.
    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics>;
}

/// Opt-in: `moved {}` from another resource type (e.g. azurerm's equivalent).
pub trait MoveState: Resource {
    /// `None` when the source is not a type this resource knows how to take over.
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>>;
}

/// Opt-in: a resource identity (protocol 6.9+). Terraform stores it beside the state, shows it
/// in `terraform query`, and imports by it: `import { to = …, identity = { … } }`.
///
/// The identity model is a flat serde struct (strings); its doc comments describe the
/// attributes, required fields are required for import and `Option` fields optional (the
/// resource fills them in, e.g. the provider's subscription).
pub trait Identity: Import {
    type Identity: Model;
    /// Version of the identity schema; bump with [`Identity::upgrade_identity`].
    const IDENTITY_VERSION: i64 = 0;

    /// The identity of a state or planned state; `None` while a part is not known yet. It must
    /// be canonical (the same spelling however the configuration spells it), so plan, apply
    /// and read agree.
    fn identity(&self, state: &Self::Model) -> Option<Self::Identity>;

    /// The import ID an identity names (then [`Import::import`] builds the state). Optional
    /// parts take their defaults here.
    fn import_id(&self, ctx: &Ctx, identity: &Self::Identity) -> Result<String, Diagnostics>;

    /// Rewrites identity JSON of an older `version` into the current shape.
    fn upgrade_identity(
        &self,
        version: i64,
        _identity: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        Err(Diagnostic::error(
            "Unsupported identity version",
            format!(
                "{} cannot upgrade identity data from version {version}.",
                Self::TYPE_NAME
            ),
        )
        .into())
    }
}

/// One resource a list found: what `terraform query` shows (`display_name`) and the state
/// `-generate-config-out` writes configuration from (and whose identity the import block
/// gets). The state must be what [`Import::import`] builds for the same resource, so the
/// generated configuration plans empty.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed<M> {
    pub display_name: String,
    pub state: M,
}

/// Where a list sends what it finds, as it finds it.
pub struct ListSink<M> {
    tx: tokio::sync::mpsc::Sender<Listed<M>>,
    remaining: std::sync::atomic::AtomicI64,
}

impl<M> ListSink<M> {
    pub(crate) fn new(tx: tokio::sync::mpsc::Sender<Listed<M>>, limit: i64) -> Self {
        ListSink {
            tx,
            remaining: std::sync::atomic::AtomicI64::new(limit),
        }
    }

    /// Sends one result; false once Terraform wants no more (its `limit`, or it hung up), so
    /// the list can stop reading ARM.
    pub async fn send(&self, display_name: impl Into<String>, state: M) -> bool {
        use std::sync::atomic::Ordering;
        if self.remaining.load(Ordering::SeqCst) <= 0 {
            return false;
        }
        let item = Listed {
            display_name: display_name.into(),
            state,
        };
        if self.tx.send(item).await.is_err() {
            return false;
        }
        self.remaining.fetch_sub(1, Ordering::SeqCst) > 1
    }
}

/// Opt-in: `terraform query` (protocol 6.10 ListResource). The list resource has the managed
/// resource's type name; its configuration (the `config` block of a `list` block) is
/// [`ListResource::ListConfig`].
pub trait ListResource: Identity {
    type ListConfig: Model;
    /// What the list finds, in Markdown (the docs' description of the list resource).
    const LIST_DESCRIPTION: &'static str;

    /// Offline checks of a list configuration. Unknown values read as `None`.
    fn validate_list(&self, _config: &Config<'_, Self::ListConfig>, _diags: &mut Diagnostics) {}

    /// Lists what exists, sending each resource to `sink` as it is found (stop when `send`
    /// answers false). An error ends the list with its diagnostics.
    fn list(
        &self,
        ctx: &Ctx,
        config: Self::ListConfig,
        sink: ListSink<Self::Model>,
    ) -> impl Future<Output = Result<(), Diagnostics>> + Send;
}

/// Progress messages of a running action; Terraform prints each as it arrives
/// (`Action action.defender_remediate.x (triggered by CLI): <message>`).
#[derive(Clone)]
pub struct Progress {
    tx: tokio::sync::mpsc::UnboundedSender<String>,
}

impl Progress {
    pub(crate) fn new(tx: tokio::sync::mpsc::UnboundedSender<String>) -> Self {
        Progress { tx }
    }

    pub fn report(&self, message: impl Into<String>) {
        let message = message.into();
        tracing::info!(progress = %message, "action progress");
        // Terraform gone: the action still finishes what it started.
        let _ = self.tx.send(message);
    }
}

/// An action (protocol 6.10): an `action "TYPE" "name" { config { … } }` block, run by
/// `terraform apply -invoke=action.TYPE.name` or from a resource's `lifecycle { action_trigger
/// { … } }`. Actions change nothing in state.
pub trait Action: Send + Sync + 'static {
    type Model: Model;
    const TYPE_NAME: &'static str;

    /// Offline checks of the `config` block. Unknown values read as `None`.
    fn validate(&self, _config: &Config<'_, Self::Model>, _diags: &mut Diagnostics) {}

    /// Checks at plan time, with the provider configured (may read ARM; must not write).
    fn plan(
        &self,
        _ctx: &Ctx,
        _config: &Config<'_, Self::Model>,
        _diags: &mut Diagnostics,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Runs the action, reporting progress; an error fails the apply.
    fn invoke(
        &self,
        ctx: &Ctx,
        config: Self::Model,
        progress: Progress,
    ) -> impl Future<Output = Result<(), Diagnostics>> + Send;
}

/// A data source.
pub trait DataSource: Send + Sync + 'static {
    type Model: Model;
    const TYPE_NAME: &'static str;

    fn validate(&self, _config: &Config<'_, Self::Model>, _diags: &mut Diagnostics) {}

    fn read(
        &self,
        ctx: &Ctx,
        config: Self::Model,
    ) -> impl Future<Output = Result<Self::Model, Diagnostics>> + Send;
}

/// A parameter of a provider function.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
    pub allow_null: bool,
}

/// A provider function's signature.
#[derive(Clone, Debug)]
pub struct Signature {
    pub summary: &'static str,
    pub description: &'static str,
    pub params: Vec<Param>,
    pub variadic: Option<Param>,
    pub returns: Type,
}

/// An error from a function call, optionally blaming one argument.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<i64>,
}

/// A provider function, called as `provider::defender::NAME(...)`.
pub trait Function: Send + Sync + 'static {
    const NAME: &'static str;
    fn signature(&self) -> Signature;
    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError>;
}

/// The provider's own configuration block and how it configures.
pub trait ProviderDef: Send + Sync + 'static {
    type Model: Model;

    fn validate(&self, _config: &Config<'_, Self::Model>, _diags: &mut Diagnostics) {}

    fn configure(
        &self,
        config: Self::Model,
        terraform_version: &str,
        cancel: CancellationToken,
    ) -> impl Future<Output = Result<ProviderData, Diagnostics>> + Send;
}

#[cfg(test)]
mod tests;
