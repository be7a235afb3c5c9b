//! The typed layer between the wire and the resources.
//!
//! A resource implements the small core trait [`Resource`] (schema from its model, validate,
//! plan, create, read, update, delete) and opts into more with [`Import`], [`UpgradeState`]
//! and [`MoveState`], wired in the registry with [`ResourceEntry`]'s builder methods
//! (the terraform-plugin-framework shape: a small core plus capability traits). Data sources
//! implement [`DataSource`], functions [`Function`], the provider itself [`ProviderDef`].
//!
//! Plan logic is pure and offline: validation, defaults, requires-replace and unknowns are
//! worked out here from the schema; resources only add what is theirs.

pub mod convert;
mod registry;
pub mod schema;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

pub use crate::protocol::diag::{AttrPath, Diagnostic, Diagnostics, Severity};
pub use crate::protocol::value::{Type, Value};
pub use registry::{
    DataSourceEntry, ErasedDataSource, ErasedFunction, ErasedProvider, ErasedResource,
    FunctionEntry, MoveSource, PlanOutcome, ProviderEntry, Registry, ResourceEntry,
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

/// What an operation runs with: the configured provider and the stop signal.
#[derive(Clone)]
pub struct Ctx {
    data: Option<Arc<ProviderData>>,
    pub cancel: CancellationToken,
}

impl Ctx {
    pub fn new(data: Option<Arc<ProviderData>>, cancel: CancellationToken) -> Self {
        Ctx { data, cancel }
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
