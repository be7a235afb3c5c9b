//! Type erasure for the Terraform 1.14+ capabilities: list resources (`terraform query`) and
//! actions. Streams come out as framework events; the protocol server encodes them.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::convert::{ConvertError, from_value, to_value};
use super::registry::{BoxFuture, IdentitySchema, convert_diag};
use super::{
    Action, Config, Ctx, Diagnostic, Diagnostics, ListResource, ListSink, Progress, Schema,
};
use crate::protocol::value::{Type, Value};

/// One ListResource result (or, with no identity, diagnostics only).
#[derive(Debug, Clone, PartialEq)]
pub struct ListEvent {
    /// A value of the resource's identity type; `None` only on a diagnostics-only event.
    pub identity: Option<Value>,
    pub display_name: String,
    /// The full resource object, when Terraform asked for it (`include_resource`).
    pub object: Option<Value>,
    pub diags: Diagnostics,
}

impl ListEvent {
    fn diags(diags: Diagnostics) -> Self {
        ListEvent {
            identity: None,
            display_name: String::new(),
            object: None,
            diags,
        }
    }
}

/// What InvokeAction streams: progress messages, then one completion.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionEvent {
    Progress(String),
    Completed(Diagnostics),
}

// ---------------------------------------------------------------------------------------------
// List resources

/// A list resource behind the registry.
pub trait ErasedListResource: Send + Sync {
    fn type_name(&self) -> &'static str;
    /// What the list finds (Markdown).
    fn description(&self) -> &'static str;
    /// The schema of the `config` block.
    fn schema(&self) -> &Schema;
    fn value_type(&self) -> &Type;
    /// The managed resource's type and identity type, which results are encoded with.
    fn resource_type(&self) -> &Type;
    fn identity_schema(&self) -> &IdentitySchema;
    fn validate(&self, config: &Value) -> Diagnostics;
    /// Lists into `out` until done, `limit` results are sent, or the receiver hangs up.
    fn list<'a>(
        &'a self,
        ctx: &'a Ctx,
        config: Value,
        include_object: bool,
        limit: i64,
        out: mpsc::Sender<ListEvent>,
    ) -> BoxFuture<'a, ()>;
}

/// A typed list resource.
pub struct ListResourceEntry<L: ListResource> {
    list: L,
    schema: Schema,
    ty: Type,
    resource_ty: Type,
    identity: IdentitySchema,
}

impl<L: ListResource> ListResourceEntry<L> {
    /// Wraps a list resource. Panics on a schema that cannot be derived (a programming error
    /// the registry's tests catch).
    pub fn new(list: L) -> Self {
        let schema =
            Schema::of::<L::ListConfig>().unwrap_or_else(|e| panic!("{} list: {e}", L::TYPE_NAME));
        let ty = schema.value_type();
        let resource_ty = super::registry::resource_schema::<L>().value_type();
        let identity = IdentitySchema::of::<L::Identity>(L::IDENTITY_VERSION)
            .unwrap_or_else(|e| panic!("{} identity: {e}", L::TYPE_NAME));
        ListResourceEntry {
            list,
            schema,
            ty,
            resource_ty,
            identity,
        }
    }

    fn decode(&self, v: &Value) -> Result<L::ListConfig, ConvertError> {
        // A `list` block without a `config` block sends null: every attribute unset.
        if v.is_null() {
            return serde_json::from_value(serde_json::json!({})).map_err(|e| ConvertError {
                path: String::new(),
                message: e.to_string(),
            });
        }
        from_value(v, &self.ty)
    }

    /// A listed state as an event: its identity and, when asked, the object itself.
    fn event(&self, item: super::Listed<L::Model>, include_object: bool) -> ListEvent {
        let mut diags = Diagnostics::new();
        let identity = self
            .list
            .identity(&item.state)
            .and_then(|i| serde_json::to_value(i).ok())
            .and_then(|j| super::convert::json_to_value(&j, &self.identity.ty).ok());
        if identity.is_none() {
            diags.push(Diagnostic::error(
                "Listed resource without identity",
                format!(
                    "{} {:?} was listed without a complete identity. This is a bug in the \
                     provider.",
                    L::TYPE_NAME,
                    item.display_name
                ),
            ));
        }
        let object = if include_object {
            match to_value(&item.state, &self.resource_ty) {
                Ok(v) => Some(v),
                Err(e) => {
                    diags.push(convert_diag("listed resource", e));
                    None
                }
            }
        } else {
            None
        };
        ListEvent {
            identity,
            display_name: item.display_name,
            object,
            diags,
        }
    }
}

impl<L: ListResource> ErasedListResource for ListResourceEntry<L> {
    fn type_name(&self) -> &'static str {
        L::TYPE_NAME
    }

    fn description(&self) -> &'static str {
        L::LIST_DESCRIPTION
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn value_type(&self) -> &Type {
        &self.ty
    }

    fn resource_type(&self) -> &Type {
        &self.resource_ty
    }

    fn identity_schema(&self) -> &IdentitySchema {
        &self.identity
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Ok(model) = self.decode(config) {
            self.list
                .validate_list(&Config { model, raw: config }, &mut diags);
        }
        diags
    }

    fn list<'a>(
        &'a self,
        ctx: &'a Ctx,
        config: Value,
        include_object: bool,
        limit: i64,
        out: mpsc::Sender<ListEvent>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let model = match self.decode(&config) {
                Ok(m) => m,
                Err(e) => {
                    let _ = out
                        .send(ListEvent::diags(
                            convert_diag("list configuration", e).into(),
                        ))
                        .await;
                    return;
                }
            };
            let mut diags = Diagnostics::new();
            self.list.validate_list(
                &Config {
                    model: model.clone(),
                    raw: &config,
                },
                &mut diags,
            );
            if diags.has_errors() {
                let _ = out.send(ListEvent::diags(diags)).await;
                return;
            }
            let (tx, mut rx) = mpsc::channel(16);
            let sink = ListSink::new(tx, limit.max(0));
            let listing = self.list.list(ctx, model, sink);
            let forward = async {
                while let Some(item) = rx.recv().await {
                    if out.send(self.event(item, include_object)).await.is_err() {
                        break;
                    }
                }
            };
            let (result, ()) = tokio::join!(listing, forward);
            diags.extend(match result {
                Ok(()) => Diagnostics::new(),
                Err(d) => d,
            });
            if !diags.is_empty() {
                let _ = out.send(ListEvent::diags(diags)).await;
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Actions

/// An action behind the registry.
pub trait ErasedAction: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    fn value_type(&self) -> &Type;
    fn validate(&self, config: &Value) -> Diagnostics;
    fn plan<'a>(&'a self, ctx: &'a Ctx, config: Value) -> BoxFuture<'a, Diagnostics>;
    /// Runs the action; progress and the completion go to `out`.
    fn invoke<'a>(
        &'a self,
        ctx: &'a Ctx,
        config: Value,
        out: mpsc::UnboundedSender<ActionEvent>,
    ) -> BoxFuture<'a, ()>;
}

/// A typed action.
pub struct ActionEntry<A: Action> {
    action: Arc<A>,
    schema: Schema,
    ty: Type,
}

impl<A: Action> ActionEntry<A> {
    pub fn new(action: A) -> Self {
        let schema = Schema::of::<A::Model>().unwrap_or_else(|e| panic!("{}: {e}", A::TYPE_NAME));
        let ty = schema.value_type();
        ActionEntry {
            action: Arc::new(action),
            schema,
            ty,
        }
    }

    fn typed_validate(&self, config: &Value, diags: &mut Diagnostics) -> Option<A::Model> {
        let model = from_value::<A::Model>(config, &self.ty).ok()?;
        self.action.validate(
            &Config {
                model: model.clone(),
                raw: config,
            },
            diags,
        );
        Some(model)
    }
}

impl<A: Action> ErasedAction for ActionEntry<A> {
    fn type_name(&self) -> &'static str {
        A::TYPE_NAME
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

    fn plan<'a>(&'a self, ctx: &'a Ctx, config: Value) -> BoxFuture<'a, Diagnostics> {
        Box::pin(async move {
            let mut diags = Diagnostics::new();
            let Some(model) = self.typed_validate(&config, &mut diags) else {
                return diags;
            };
            if diags.has_errors() {
                return diags;
            }
            self.action
                .plan(
                    ctx,
                    &Config {
                        model,
                        raw: &config,
                    },
                    &mut diags,
                )
                .await;
            diags
        })
    }

    fn invoke<'a>(
        &'a self,
        ctx: &'a Ctx,
        config: Value,
        out: mpsc::UnboundedSender<ActionEvent>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut diags = Diagnostics::new();
            let model = match from_value::<A::Model>(&config, &self.ty) {
                Ok(m) => m,
                Err(e) => {
                    let _ = out.send(ActionEvent::Completed(
                        convert_diag("action configuration", e).into(),
                    ));
                    return;
                }
            };
            self.action.validate(
                &Config {
                    model: model.clone(),
                    raw: &config,
                },
                &mut diags,
            );
            if diags.has_errors() {
                let _ = out.send(ActionEvent::Completed(diags));
                return;
            }
            let (tx, mut rx) = mpsc::unbounded_channel();
            let running = self.action.invoke(ctx, model, Progress::new(tx));
            let forward = async {
                while let Some(message) = rx.recv().await {
                    let _ = out.send(ActionEvent::Progress(message));
                }
            };
            let (result, ()) = tokio::join!(running, forward);
            if let Err(d) = result {
                diags.extend(d);
            }
            let _ = out.send(ActionEvent::Completed(diags));
        })
    }
}
