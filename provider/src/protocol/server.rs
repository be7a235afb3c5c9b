//! `tfplugin6.Provider`: decodes requests against the registry's schemas, dispatches, and
//! encodes answers. Every user-facing problem travels as a diagnostic, never a gRPC error.

use std::sync::Arc;

use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::diag::{Diagnostic, Diagnostics};
use super::tfplugin6 as pb;
use super::tfplugin6::provider_server::Provider;
use super::value::{Type, Value, decode_json, decode_msgpack, encode_msgpack};
use crate::framework::{
    ActionEvent, Ctx, ErasedResource, ListEvent, MoveSource, Registry, Schema, Signature,
};
use crate::provider::ProviderData;

/// The provider service: the registry plus what ConfigureProvider produced.
#[derive(Clone)]
pub struct ProviderService {
    registry: Arc<Registry>,
    data: Arc<RwLock<Option<Arc<ProviderData>>>>,
    /// Cancelled by StopProvider; operations running under it return promptly.
    stop: Arc<RwLock<CancellationToken>>,
}

impl ProviderService {
    pub fn new(registry: Arc<Registry>) -> Self {
        ProviderService {
            registry,
            data: Arc::new(RwLock::new(None)),
            stop: Arc::new(RwLock::new(CancellationToken::new())),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn ctx(&self) -> Ctx {
        Ctx::new(self.data.read().clone(), self.stop.read().clone())
    }
}

/// The framework's private state of a resource, a JSON object Terraform keeps beside the state:
/// read and plan pass it on, apply rewrites it.
///
/// - `defender_adopted`: import or `moved {}` brought the resource in; a successful apply drops
///   it ([`Ctx::adopted`]).
/// - `defender_written_at`: when an apply last wrote the resource (Unix seconds), so that a
///   refresh right after it can tell ARM's 404-after-create lag from a deletion
///   ([`Ctx::written_at`]).
#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Private {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    defender_adopted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    defender_written_at: Option<u64>,
}

impl Private {
    /// Unreadable or foreign bytes count as empty (the mark is an optimisation, never a
    /// reason to fail).
    fn parse(bytes: &[u8]) -> Private {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn adopted() -> Vec<u8> {
        Private {
            defender_adopted: true,
            ..Private::default()
        }
        .to_bytes()
    }

    fn to_bytes(&self) -> Vec<u8> {
        if *self == Private::default() {
            return Vec::new();
        }
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn ctx(&self, ctx: Ctx) -> Ctx {
        ctx.with_adopted(self.defender_adopted)
            .with_written_at(self.defender_written_at)
    }
}

fn decode(dv: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let r = if !dv.msgpack.is_empty() {
        decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        decode_json(&dv.json, ty)
    } else {
        Ok(Value::Null)
    };
    r.map_err(|e| {
        Diagnostic::error(
            format!("Invalid {what}"),
            format!("The provider could not decode the {what} Terraform sent: {e}"),
        )
    })
}

fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostic> {
    encode_msgpack(v, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Provider produced an invalid value",
                format!("Encoding a value for Terraform: {e}. This is a bug in the provider."),
            )
        })
}

/// The identity of a state, encoded for Terraform; `None` for resources without an identity
/// (or a null state).
fn identity_data(r: &dyn ErasedResource, state: &Value) -> Option<pb::ResourceIdentityData> {
    let schema = r.identity_schema()?;
    let identity = r.identity_of(state)?;
    encode(&identity, &schema.ty)
        .ok()
        .map(|dv| pb::ResourceIdentityData {
            identity_data: Some(dv),
        })
}

/// An identity Terraform sent, decoded against the resource's identity type.
fn decode_identity(
    r: &dyn ErasedResource,
    data: Option<&pb::ResourceIdentityData>,
) -> Result<Option<Value>, Diagnostic> {
    let (Some(schema), Some(dv)) = (
        r.identity_schema(),
        data.and_then(|d| d.identity_data.as_ref()),
    ) else {
        return Ok(None);
    };
    let v = decode(Some(dv), &schema.ty, "identity")?;
    Ok((!v.is_null()).then_some(v))
}

fn unknown_type(kind: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        format!("Unknown {kind}"),
        format!("This provider has no {kind} named {name:?}."),
    )
}

fn function_proto(sig: Signature) -> pb::Function {
    let param = |p: &crate::framework::Param| pb::function::Parameter {
        name: p.name.to_string(),
        r#type: p.ty.to_json_bytes(),
        allow_null_value: p.allow_null,
        allow_unknown_values: false,
        description: p.description.to_string(),
        description_kind: pb::StringKind::Markdown as i32,
    };
    pb::Function {
        parameters: sig.params.iter().map(param).collect(),
        variadic_parameter: sig.variadic.as_ref().map(param),
        r#return: Some(pb::function::Return {
            r#type: sig.returns.to_json_bytes(),
        }),
        summary: sig.summary.to_string(),
        description: sig.description.to_string(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

fn schema_proto(s: &Schema) -> pb::Schema {
    s.to_proto()
}

impl ProviderService {
    fn server_capabilities(&self) -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: false,
            get_provider_schema_optional: true,
            move_resource_state: self.registry.any_movable(),
            generate_resource_config: false,
        }
    }

    fn functions(&self) -> std::collections::HashMap<String, pb::Function> {
        self.registry
            .functions
            .values()
            .map(|f| (f.name().to_string(), function_proto(f.signature())))
            .collect()
    }
}

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        use pb::get_metadata as m;
        let r = &self.registry;
        Ok(Response::new(m::Response {
            server_capabilities: Some(self.server_capabilities()),
            diagnostics: Vec::new(),
            data_sources: r
                .data_sources
                .keys()
                .map(|k| m::DataSourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            resources: r
                .resources
                .keys()
                .map(|k| m::ResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            functions: r
                .functions
                .keys()
                .map(|k| m::FunctionMetadata {
                    name: k.to_string(),
                })
                .collect(),
            list_resources: r
                .list_resources
                .keys()
                .map(|k| m::ListResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            actions: r
                .actions
                .keys()
                .map(|k| m::ActionMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let r = &self.registry;
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_proto(r.provider.schema())),
            resource_schemas: r
                .resources
                .iter()
                .map(|(k, v)| (k.to_string(), schema_proto(v.schema())))
                .collect(),
            data_source_schemas: r
                .data_sources
                .iter()
                .map(|(k, v)| (k.to_string(), schema_proto(v.schema())))
                .collect(),
            functions: self.functions(),
            list_resource_schemas: r
                .list_resources
                .iter()
                .map(|(k, v)| (k.to_string(), schema_proto(v.schema())))
                .collect(),
            action_schemas: r
                .actions
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        pb::ActionSchema {
                            schema: Some(schema_proto(v.schema())),
                        },
                    )
                })
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(self.server_capabilities()),
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        let p = &self.registry.provider;
        let diags = match decode(
            req.config.as_ref(),
            p.value_type(),
            "provider configuration",
        ) {
            Ok(v) => p.validate(&v),
            Err(d) => d.into(),
        };
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        let p = &self.registry.provider;
        let config = match decode(
            req.config.as_ref(),
            p.value_type(),
            "provider configuration",
        ) {
            Ok(v) => v,
            Err(d) => {
                return Ok(Response::new(pb::configure_provider::Response {
                    diagnostics: vec![d.to_proto()],
                }));
            }
        };
        let stop = self.stop.read().clone();
        let diags = match p.configure(config, &req.terraform_version, stop).await {
            Ok(data) => {
                *self.data.write() = Some(Arc::new(data));
                Diagnostics::new()
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let diags = match self.registry.resources.get(req.type_name.as_str()) {
            None => unknown_type("resource type", &req.type_name).into(),
            Some(r) => match decode(req.config.as_ref(), r.value_type(), "configuration") {
                Ok(v) => r.validate(&v),
                Err(d) => d.into(),
            },
        };
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let diags = match self.registry.data_sources.get(req.type_name.as_str()) {
            None => unknown_type("data source", &req.type_name).into(),
            Some(d) => match decode(req.config.as_ref(), d.value_type(), "configuration") {
                Ok(v) => d.validate(&v),
                Err(d) => d.into(),
            },
        };
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let mut resp = pb::upgrade_resource_state::Response::default();
        let Some(r) = self.registry.resources.get(req.type_name.as_str()) else {
            resp.diagnostics
                .push(unknown_type("resource type", &req.type_name).to_proto());
            return Ok(Response::new(resp));
        };
        let raw = req.raw_state.map(|s| s.json).unwrap_or_default();
        if raw.is_empty() {
            // Flatmap state predates Terraform 0.12; no state of ours was ever written so.
            resp.diagnostics.push(
                Diagnostic::error(
                    "Unsupported state format",
                    "Flatmap state is not supported.",
                )
                .to_proto(),
            );
            return Ok(Response::new(resp));
        }
        let (value, diags) = r.upgrade(req.version, &raw);
        resp.diagnostics = diags.to_proto();
        if !diags.has_errors() {
            match encode(&value, r.value_type()) {
                Ok(dv) => resp.upgraded_state = Some(dv),
                Err(d) => resp.diagnostics.push(d.to_proto()),
            }
        }
        Ok(Response::new(resp))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        let mut resp = pb::read_resource::Response {
            private: req.private.clone(),
            ..Default::default()
        };
        let Some(r) = self.registry.resources.get(req.type_name.as_str()) else {
            resp.diagnostics
                .push(unknown_type("resource type", &req.type_name).to_proto());
            return Ok(Response::new(resp));
        };
        let current = match decode(req.current_state.as_ref(), r.value_type(), "state") {
            Ok(v) => v,
            Err(d) => {
                resp.diagnostics.push(d.to_proto());
                return Ok(Response::new(resp));
            }
        };
        let ctx = Private::parse(&req.private).ctx(self.ctx());
        let (state, diags) = r.read(&ctx, current).await;
        resp.diagnostics = diags.to_proto();
        resp.new_identity = identity_data(r.as_ref(), &state).or(req.current_identity);
        if state.is_null() {
            resp.new_identity = None;
        }
        match encode(&state, r.value_type()) {
            Ok(dv) => resp.new_state = Some(dv),
            Err(d) => resp.diagnostics.push(d.to_proto()),
        }
        Ok(Response::new(resp))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let mut resp = pb::plan_resource_change::Response {
            planned_private: req.prior_private.clone(),
            ..Default::default()
        };
        let Some(r) = self.registry.resources.get(req.type_name.as_str()) else {
            resp.diagnostics
                .push(unknown_type("resource type", &req.type_name).to_proto());
            return Ok(Response::new(resp));
        };
        let ty = r.value_type();
        let values = (|| {
            Ok::<_, Diagnostic>((
                decode(req.prior_state.as_ref(), ty, "prior state")?,
                decode(req.proposed_new_state.as_ref(), ty, "proposed new state")?,
                decode(req.config.as_ref(), ty, "configuration")?,
            ))
        })();
        let (prior, proposed, config) = match values {
            Ok(v) => v,
            Err(d) => {
                resp.diagnostics.push(d.to_proto());
                return Ok(Response::new(resp));
            }
        };
        let ctx = Private::parse(&req.prior_private).ctx(self.ctx());
        let outcome = r.plan(&ctx, prior, proposed, config).await;
        resp.diagnostics = outcome.diags.to_proto();
        resp.requires_replace = outcome
            .requires_replace
            .iter()
            .map(|p| p.to_proto())
            .collect();
        // The identity is known at plan time when the planned state names the resource;
        // otherwise the prior one stands (a replacement gets its new identity at apply).
        resp.planned_identity = identity_data(r.as_ref(), &outcome.planned).or_else(|| {
            if outcome.requires_replace.is_empty() {
                req.prior_identity.clone()
            } else {
                None
            }
        });
        match encode(&outcome.planned, ty) {
            Ok(dv) => resp.planned_state = Some(dv),
            Err(d) => resp.diagnostics.push(d.to_proto()),
        }
        Ok(Response::new(resp))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let mut resp = pb::apply_resource_change::Response {
            private: req.planned_private.clone(),
            ..Default::default()
        };
        let Some(r) = self.registry.resources.get(req.type_name.as_str()) else {
            resp.diagnostics
                .push(unknown_type("resource type", &req.type_name).to_proto());
            return Ok(Response::new(resp));
        };
        let ty = r.value_type();
        let values = (|| {
            Ok::<_, Diagnostic>((
                decode(req.prior_state.as_ref(), ty, "prior state")?,
                decode(req.planned_state.as_ref(), ty, "planned state")?,
            ))
        })();
        let (prior, planned) = match values {
            Ok(v) => v,
            Err(d) => {
                resp.diagnostics.push(d.to_proto());
                return Ok(Response::new(resp));
            }
        };
        let mut private = Private::parse(&req.planned_private);
        let (state, diags) = r.apply(&private.ctx(self.ctx()), prior, planned).await;
        if !diags.has_errors() {
            private.defender_adopted = false;
        }
        // Also after a partial failure: what was created is in the state returned.
        private.defender_written_at = (!state.is_null()).then(crate::framework::unix_now);
        resp.private = if state.is_null() {
            Vec::new()
        } else {
            private.to_bytes()
        };
        resp.diagnostics = diags.to_proto();
        resp.new_identity = identity_data(r.as_ref(), &state);
        match encode(&state, ty) {
            Ok(dv) => resp.new_state = Some(dv),
            Err(d) => resp.diagnostics.push(d.to_proto()),
        }
        Ok(Response::new(resp))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let mut resp = pb::import_resource_state::Response::default();
        let Some(r) = self.registry.resources.get(req.type_name.as_str()) else {
            resp.diagnostics
                .push(unknown_type("resource type", &req.type_name).to_proto());
            return Ok(Response::new(resp));
        };
        // `import { identity = { … } }` sends the identity and no ID.
        let identity = match decode_identity(r.as_ref(), req.identity.as_ref()) {
            Ok(i) => i,
            Err(d) => {
                resp.diagnostics.push(d.to_proto());
                return Ok(Response::new(resp));
            }
        };
        let (state, diags) = match identity {
            Some(identity) if req.id.is_empty() => r.import_identity(&self.ctx(), identity).await,
            _ => r.import(&self.ctx(), &req.id).await,
        };
        resp.diagnostics = diags.to_proto();
        if !diags.has_errors() {
            match encode(&state, r.value_type()) {
                Ok(dv) => {
                    resp.imported_resources
                        .push(pb::import_resource_state::ImportedResource {
                            type_name: req.type_name.clone(),
                            state: Some(dv),
                            private: Private::adopted(),
                            identity: identity_data(r.as_ref(), &state),
                        })
                }
                Err(d) => resp.diagnostics.push(d.to_proto()),
            }
        }
        Ok(Response::new(resp))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = request.into_inner();
        let mut resp = pb::move_resource_state::Response::default();
        let Some(r) = self.registry.resources.get(req.target_type_name.as_str()) else {
            resp.diagnostics
                .push(unknown_type("resource type", &req.target_type_name).to_proto());
            return Ok(Response::new(resp));
        };
        let raw = req.source_state.map(|s| s.json).unwrap_or_default();
        let state = match serde_json::from_slice(&raw) {
            Ok(j) => j,
            Err(e) => {
                resp.diagnostics
                    .push(Diagnostic::error("Invalid source state", e.to_string()).to_proto());
                return Ok(Response::new(resp));
            }
        };
        let source = MoveSource {
            provider_address: req.source_provider_address,
            type_name: req.source_type_name,
            schema_version: req.source_schema_version,
            state,
        };
        match r.move_from(&source) {
            None => resp.diagnostics.push(
                Diagnostic::error(
                    "Unsupported move",
                    format!(
                        "{} cannot be moved from {} ({}).",
                        req.target_type_name, source.type_name, source.provider_address
                    ),
                )
                .to_proto(),
            ),
            Some((value, diags)) => {
                resp.diagnostics = diags.to_proto();
                if !diags.has_errors() {
                    resp.target_identity = identity_data(r.as_ref(), &value);
                    resp.target_private = Private::adopted();
                    match encode(&value, r.value_type()) {
                        Ok(dv) => resp.target_state = Some(dv),
                        Err(d) => resp.diagnostics.push(d.to_proto()),
                    }
                }
            }
        }
        Ok(Response::new(resp))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let mut resp = pb::read_data_source::Response::default();
        let Some(d) = self.registry.data_sources.get(req.type_name.as_str()) else {
            resp.diagnostics
                .push(unknown_type("data source", &req.type_name).to_proto());
            return Ok(Response::new(resp));
        };
        let config = match decode(req.config.as_ref(), d.value_type(), "configuration") {
            Ok(v) => v,
            Err(diag) => {
                resp.diagnostics.push(diag.to_proto());
                return Ok(Response::new(resp));
            }
        };
        let (state, diags) = d.read(&self.ctx(), config).await;
        resp.diagnostics = diags.to_proto();
        if !diags.has_errors() {
            match encode(&state, d.value_type()) {
                Ok(dv) => resp.state = Some(dv),
                Err(diag) => resp.diagnostics.push(diag.to_proto()),
            }
        }
        Ok(Response::new(resp))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self.functions(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = request.into_inner();
        let fail = |text: String, arg: Option<i64>| {
            Ok(Response::new(pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text,
                    function_argument: arg,
                }),
            }))
        };
        let Some(f) = self.registry.functions.get(req.name.as_str()) else {
            return fail(format!("unknown function {:?}", req.name), None);
        };
        let sig = f.signature();
        let mut args = Vec::with_capacity(req.arguments.len());
        for (i, dv) in req.arguments.iter().enumerate() {
            let ty = sig
                .params
                .get(i)
                .or(sig.variadic.as_ref())
                .map(|p| p.ty.clone())
                .unwrap_or(Type::Dynamic);
            match decode(Some(dv), &ty, "argument") {
                Ok(v) => args.push(v),
                Err(d) => return fail(d.detail, Some(i as i64)),
            }
        }
        match f.call(args) {
            Ok(v) => match encode(&v, &sig.returns) {
                Ok(dv) => Ok(Response::new(pb::call_function::Response {
                    result: Some(dv),
                    error: None,
                })),
                Err(d) => fail(d.detail, None),
            },
            Err(e) => fail(e.text, e.argument),
        }
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .registry
                .resources
                .iter()
                .filter_map(|(k, r)| Some((k.to_string(), r.identity_schema()?.to_proto())))
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = request.into_inner();
        let mut resp = pb::upgrade_resource_identity::Response::default();
        let Some(r) = self.registry.resources.get(req.type_name.as_str()) else {
            resp.diagnostics
                .push(unknown_type("resource type", &req.type_name).to_proto());
            return Ok(Response::new(resp));
        };
        let Some(schema) = r.identity_schema() else {
            resp.diagnostics.push(
                Diagnostic::error(
                    "No resource identity",
                    format!("{} has no resource identity.", req.type_name),
                )
                .to_proto(),
            );
            return Ok(Response::new(resp));
        };
        let raw = req.raw_identity.map(|s| s.json).unwrap_or_default();
        let (value, diags) = r.upgrade_identity(req.version, &raw);
        resp.diagnostics = diags.to_proto();
        if !diags.has_errors() {
            match encode(&value, &schema.ty) {
                Ok(dv) => {
                    resp.upgraded_identity = Some(pb::ResourceIdentityData {
                        identity_data: Some(dv),
                    })
                }
                Err(d) => resp.diagnostics.push(d.to_proto()),
            }
        }
        Ok(Response::new(resp))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = request.into_inner();
        let diags = match self.registry.list_resources.get(req.type_name.as_str()) {
            None => unknown_type("list resource", &req.type_name).into(),
            Some(l) => match decode(req.config.as_ref(), l.value_type(), "list configuration") {
                Ok(v) => l.validate(&v),
                Err(d) => d.into(),
            },
        };
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::list_resource::Event>>, Status> {
        use futures::StreamExt;
        let req = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel::<ListEvent>(16);
        let registry = self.registry.clone();
        let ctx = self.ctx();
        let type_name = req.type_name.clone();
        tokio::spawn(async move {
            let Some(l) = registry.list_resources.get(type_name.as_str()) else {
                let _ = tx
                    .send(ListEvent {
                        identity: None,
                        display_name: String::new(),
                        object: None,
                        diags: unknown_type("list resource", &type_name).into(),
                    })
                    .await;
                return;
            };
            let config = match decode(req.config.as_ref(), l.value_type(), "list configuration") {
                Ok(v) => v,
                Err(d) => {
                    let _ = tx
                        .send(ListEvent {
                            identity: None,
                            display_name: String::new(),
                            object: None,
                            diags: d.into(),
                        })
                        .await;
                    return;
                }
            };
            l.list(&ctx, config, req.include_resource_object, req.limit, tx)
                .await;
        });
        let registry = self.registry.clone();
        let type_name = req.type_name;
        let events = tokio_stream::wrappers::ReceiverStream::new(rx).map(move |ev| {
            let mut out = pb::list_resource::Event {
                display_name: ev.display_name,
                diagnostic: ev.diags.to_proto(),
                ..Default::default()
            };
            if let Some(l) = registry.list_resources.get(type_name.as_str()) {
                if let Some(identity) = &ev.identity {
                    match encode(identity, &l.identity_schema().ty) {
                        Ok(dv) => {
                            out.identity = Some(pb::ResourceIdentityData {
                                identity_data: Some(dv),
                            })
                        }
                        Err(d) => out.diagnostic.push(d.to_proto()),
                    }
                }
                if let Some(object) = &ev.object {
                    match encode(object, l.resource_type()) {
                        Ok(dv) => out.resource_object = Some(dv),
                        Err(d) => out.diagnostic.push(d.to_proto()),
                    }
                }
            }
            Ok(out)
        });
        Ok(Response::new(Box::pin(events)))
    }

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let req = request.into_inner();
        let diags = match self.registry.actions.get(req.type_name.as_str()) {
            None => unknown_type("action", &req.type_name).into(),
            Some(a) => match decode(req.config.as_ref(), a.value_type(), "action configuration") {
                Ok(v) => a.validate(&v),
                Err(d) => d.into(),
            },
        };
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = request.into_inner();
        let diags = match self.registry.actions.get(req.action_type.as_str()) {
            None => unknown_type("action", &req.action_type).into(),
            Some(a) => match decode(req.config.as_ref(), a.value_type(), "action configuration") {
                Ok(v) => a.plan(&self.ctx(), v).await,
                Err(d) => d.into(),
            },
        };
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: diags.to_proto(),
            deferred: None,
        }))
    }

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::invoke_action::Event>>, Status> {
        use futures::StreamExt;
        use pb::invoke_action::event;
        let req = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<ActionEvent>();
        let registry = self.registry.clone();
        let ctx = self.ctx();
        tokio::spawn(async move {
            let Some(a) = registry.actions.get(req.action_type.as_str()) else {
                let _ = tx.send(ActionEvent::Completed(
                    unknown_type("action", &req.action_type).into(),
                ));
                return;
            };
            match decode(req.config.as_ref(), a.value_type(), "action configuration") {
                Ok(config) => a.invoke(&ctx, config, tx).await,
                Err(d) => {
                    let _ = tx.send(ActionEvent::Completed(d.into()));
                }
            }
        });
        let events = tokio_stream::wrappers::UnboundedReceiverStream::new(rx).map(|ev| {
            Ok(pb::invoke_action::Event {
                r#type: Some(match ev {
                    ActionEvent::Progress(message) => {
                        event::Type::Progress(event::Progress { message })
                    }
                    ActionEvent::Completed(diags) => event::Type::Completed(event::Completed {
                        diagnostics: diags.to_proto(),
                    }),
                }),
            })
        });
        Ok(Response::new(Box::pin(events)))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!("StopProvider: cancelling in-flight operations");
        // Cancel what runs now; later operations (a new apply in a reattached process) get a
        // fresh token.
        let old = std::mem::replace(&mut *self.stop.write(), CancellationToken::new());
        old.cancel();
        if let Some(data) = self.data.read().as_ref() {
            data.stop();
        }
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The private state's JSON: the marks round-trip, an empty one is no bytes, states written
    /// before `defender_written_at` existed still read, and foreign bytes count as empty.
    #[test]
    fn private_state_marks() {
        assert_eq!(Private::adopted(), br#"{"defender_adopted":true}"#.to_vec());
        let old = Private::parse(br#"{"defender_adopted":true}"#);
        assert!(old.defender_adopted);
        assert_eq!(old.defender_written_at, None);
        let written = Private {
            defender_adopted: false,
            defender_written_at: Some(1_765_150_000),
        };
        assert_eq!(
            written.to_bytes(),
            br#"{"defender_written_at":1765150000}"#.to_vec()
        );
        assert_eq!(Private::parse(&written.to_bytes()), written);
        assert_eq!(Private::default().to_bytes(), Vec::<u8>::new());
        assert_eq!(Private::parse(b""), Private::default());
        assert_eq!(Private::parse(b"\x00not json"), Private::default());
        let ctx = written.ctx(Ctx::new(None, CancellationToken::new()));
        assert_eq!(ctx.written_at(), Some(1_765_150_000));
        assert!(!ctx.adopted());
    }
}
