//! What the resources of one configuration do with each Log Analytics workspace, collected
//! while Terraform plans them, so that a conflict between two resources shows as a plan-time
//! warning.
//!
//! The conflict: a workspace's Windows security events are collected either by Defender for
//! Cloud (its `SecurityEventCollectionConfiguration` data source, `defender_security_events`)
//! or by Microsoft Sentinel (Sentinel's own security events connector, on a workspace that has
//! Sentinel, which `defender_sentinel_connector` implies) — not by both (arm-api.md §11.2:
//! Sentinel has its own data source kind, `SecurityInsightsSecurityEventCollectionConfiguration`).
//!
//! How: Terraform plans every resource of a configuration in the same provider process, after
//! one ConfigureProvider, so the registry lives in that configuration's [`ProviderData`]
//! (`shared::<WorkspaceUses>()`). Each resource records its use when it plans; the second of a
//! conflicting pair sees the first and warns on its `workspace_id`. Limits: a `workspace_id`
//! unknown at plan time cannot be matched, and resources planned by different provider
//! configurations (aliases run as separate processes) do not see each other.
//!
//! [`ProviderData`]: crate::provider::ProviderData

use std::collections::HashMap;

use super::workspace_ids::WorkspaceId;
use crate::framework::{AttrPath, Ctx, Diagnostics};

/// One resource's use of a workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Use {
    /// `defender_security_events` with a tier other than None.
    DefenderSecurityEvents { tier: String },
    /// `defender_sentinel_connector`: the workspace has Microsoft Sentinel.
    SentinelConnector,
}

#[derive(Default, Debug)]
struct Uses {
    defender_events: Option<String>,
    sentinel: bool,
}

/// The registry (see the module docs).
#[derive(Default, Debug)]
pub struct WorkspaceUses(parking_lot::Mutex<HashMap<String, Uses>>);

impl WorkspaceUses {
    /// Records `what` for `workspace`; returns the warning's detail when the workspace now
    /// has both uses.
    pub fn note(&self, workspace: &WorkspaceId, what: &Use) -> Option<String> {
        let mut map = self.0.lock();
        let uses = map.entry(workspace.key()).or_default();
        match what {
            Use::DefenderSecurityEvents { tier } => {
                uses.defender_events = Some(tier.clone());
            }
            Use::SentinelConnector => uses.sentinel = true,
        }
        let tier = uses.defender_events.as_ref()?;
        uses.sentinel.then(|| {
            format!(
                "This configuration collects the Windows security events of workspace {:?} \
                 with Defender for Cloud (defender_security_events, tier {tier:?}) and also \
                 uses Microsoft Sentinel on it (defender_sentinel_connector). A workspace's \
                 security events are collected by Defender for Cloud or by Microsoft Sentinel, \
                 not both: with Sentinel on the workspace, collect them with Sentinel's Windows \
                 Security Events connector and set tier = \"None\" in defender_security_events \
                 (or remove it), or keep Defender for Cloud's collection and use another \
                 workspace for Sentinel.",
                workspace.name
            )
        })
    }
}

/// Records a use at plan time (when the workspace ID is known and the provider configured) and
/// warns on `workspace_id` when it conflicts with another resource's use.
pub fn note_use(ctx: &Ctx, workspace_id: Option<&str>, what: Use, diags: &mut Diagnostics) {
    let (Some(provider), Some(ws)) = (
        ctx.provider_opt(),
        workspace_id.and_then(|w| WorkspaceId::parse(w).ok()),
    ) else {
        return;
    };
    if let Some(detail) = provider.shared::<WorkspaceUses>().note(&ws, &what) {
        diags.warning_at(
            AttrPath::root("workspace_id"),
            "Security events collected by both Defender for Cloud and Microsoft Sentinel",
            detail,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    #[test]
    fn warns_once_both_uses_meet_whatever_the_order() {
        let a = WorkspaceId::new(SUB, "rg", "law-a");
        let a_other_case = WorkspaceId::new(SUB, "RG", "LAW-A");
        let b = WorkspaceId::new(SUB, "rg", "law-b");

        let uses = WorkspaceUses::default();
        assert!(uses.note(&a, &Use::SentinelConnector).is_none());
        assert!(
            uses.note(
                &b,
                &Use::DefenderSecurityEvents {
                    tier: "Common".into()
                }
            )
            .is_none(),
            "another workspace is no conflict"
        );
        let w = uses
            .note(
                &a_other_case,
                &Use::DefenderSecurityEvents {
                    tier: "Common".into(),
                },
            )
            .expect("same workspace, compared case-insensitively");
        assert!(w.contains("\"LAW-A\""), "{w}");
        assert!(w.contains("tier \"Common\""), "{w}");

        let reversed = WorkspaceUses::default();
        assert!(
            reversed
                .note(&a, &Use::DefenderSecurityEvents { tier: "All".into() })
                .is_none()
        );
        assert!(reversed.note(&a, &Use::SentinelConnector).is_some());
    }

    #[test]
    fn note_use_needs_a_configured_provider_and_a_known_workspace() {
        let ctx = Ctx::new(None, tokio_util::sync::CancellationToken::new());
        let mut diags = Diagnostics::new();
        note_use(&ctx, Some("bogus"), Use::SentinelConnector, &mut diags);
        assert!(diags.is_empty());

        let data = std::sync::Arc::new(crate::provider::ProviderData::offline());
        let ctx = Ctx::new(Some(data), tokio_util::sync::CancellationToken::new());
        let ws = WorkspaceId::new(SUB, "rg", "law-a").to_string();
        note_use(&ctx, Some(&ws), Use::SentinelConnector, &mut diags);
        note_use(&ctx, None, Use::SentinelConnector, &mut diags);
        assert!(diags.is_empty());
        note_use(
            &ctx,
            Some(&ws),
            Use::DefenderSecurityEvents {
                tier: "Minimal".into(),
            },
            &mut diags,
        );
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].path, Some(AttrPath::root("workspace_id")));
        assert!(!diags.has_errors(), "a warning, not an error");
    }
}
