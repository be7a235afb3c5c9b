//! `terraform-provider-defender render`: prints the requests the provider would send for a
//! policy assignment (the assignment, its identity's role assignments, remediations), for
//! review in a pull request. Offline: no credentials, no ARM calls.

use serde_json::{Map, Value};

use super::render::{
    self, AssignmentInput, Identity, PolicyRef, RemediationInput, RemediationMode, RenderError,
};

/// Placeholder for the identity's principal ID, which ARM assigns when the assignment is created.
pub const PRINCIPAL_PLACEHOLDER: &str =
    "(principal ID of the assignment's identity, known after apply)";

/// Arguments of `render`.
#[derive(clap::Args, Debug, Clone)]
pub struct RenderArgs {
    /// Catalog key (e.g. kubernetes-policy-addon, mde, ama-windows) or a catalog definition ID.
    #[arg(long)]
    pub policy: String,
    /// Scope ID: /providers/Microsoft.Management/managementGroups/{name}, /subscriptions/{id}
    /// or /subscriptions/{id}/resourceGroups/{name}.
    #[arg(long)]
    pub scope: String,
    /// Parameter values as a JSON object, e.g. '{"effect":"Disabled"}'.
    #[arg(long)]
    pub parameters: Option<String>,
    /// Assignment name; defaults to the provider's default for the key and scope.
    #[arg(long)]
    pub name: Option<String>,
    /// Location of the assignment's managed identity (required when the policy deploys).
    #[arg(long)]
    pub location: Option<String>,
    /// Identity: "system" (default for policies that deploy), "none", or a user-assigned
    /// identity's resource ID.
    #[arg(long)]
    pub identity: Option<String>,
    /// Principal ID to show in role assignments instead of the placeholder.
    #[arg(long)]
    pub principal_id: Option<String>,
    /// Remediation mode: ExistingNonCompliant (default) or ReEvaluateCompliance.
    #[arg(long)]
    pub remediation_mode: Option<String>,
    /// Leave out the remediation tasks.
    #[arg(long)]
    pub no_remediation: bool,
}

/// Errors of the command, printed as they are.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Render(#[from] RenderError),
    #[error("{0}; pass --location (or --identity none for an assignment that only audits)")]
    Location(String),
    #[error("--parameters: {0}")]
    Parameters(String),
    #[error(
        "--remediation-mode: {0:?} is not a mode; allowed: ExistingNonCompliant, ReEvaluateCompliance"
    )]
    Mode(String),
}

/// Renders the requests as pretty JSON.
pub fn run(args: &RenderArgs) -> Result<String, CliError> {
    let policy = PolicyRef::parse(&args.policy)?;
    let Some(entry) = policy.entry() else {
        return Err(RenderError::UnknownKey {
            key: args.policy.clone(),
        }
        .into());
    };
    let parameters: Map<String, Value> = match &args.parameters {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(CliError::Parameters("expected a JSON object".into())),
            Err(e) => return Err(CliError::Parameters(e.to_string())),
        },
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| render::default_assignment_name(entry.key, &args.scope));
    let mut input = AssignmentInput::new(policy, &args.scope, name);
    input.parameters = parameters;
    input.location = args.location.clone();
    if let Some(id) = &args.identity {
        input.identity = match id.to_ascii_lowercase().as_str() {
            "system" | "systemassigned" => Identity::SystemAssigned,
            "none" => Identity::None,
            _ => Identity::UserAssigned(id.clone()),
        };
    }
    let remediation = if args.no_remediation {
        None
    } else {
        let mode = match &args.remediation_mode {
            None => RemediationMode::default(),
            Some(m) => RemediationMode::parse(m).ok_or_else(|| CliError::Mode(m.clone()))?,
        };
        Some(RemediationInput {
            mode,
            ..RemediationInput::default()
        })
    };
    let generation = render::remediation_generation(&input);
    let requests = render::assignment_requests(
        &input,
        args.principal_id
            .as_deref()
            .unwrap_or(PRINCIPAL_PLACEHOLDER),
        remediation.as_ref(),
        &generation,
    )
    .map_err(|e| match e {
        RenderError::Location(m) => CliError::Location(m),
        e => CliError::Render(e),
    })?;
    Ok(serde_json::to_string_pretty(&requests).expect("requests serialise"))
}
