//! Parsing ARM request paths into scope + provider part.
//!
//! An ARM resource path is `{scope}/providers/{Namespace}/{type}/{name}[/{type}/{name}]...`
//! where `{scope}` is empty (tenant), `/subscriptions/{sub}`,
//! `/subscriptions/{sub}/resourceGroups/{rg}`, a management group
//! (`/providers/Microsoft.Management/managementGroups/{mg}`) or another resource's ID
//! (extension resources) — arm-api.md 7.1 lists all four for policy assignments. An odd
//! number of segments after the namespace addresses a collection (list), an even number an
//! instance. Segment names are case-insensitive (arm-api.md 13.6).

use crate::util::percent_decode;

/// Where a resource lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Tenant,
    ManagementGroup,
    Subscription,
    ResourceGroup,
    /// Another resource (extension resources, e.g. resource-level pricings).
    Resource,
}

/// The `/providers/{Namespace}/...` part of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderPart {
    pub namespace: String,
    /// The type segments (`["autoProvisioningSettings"]`).
    pub types: Vec<String>,
    /// The name segments; as many as `types` for an instance, one fewer for a collection.
    pub names: Vec<String>,
}

impl ProviderPart {
    pub fn is_collection(&self) -> bool {
        self.names.len() < self.types.len()
    }

    /// `Namespace/type[/subtype]` as given in the path.
    pub fn full_type(&self) -> String {
        format!("{}/{}", self.namespace, self.types.join("/"))
    }
}

/// A parsed ARM path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmPath {
    /// Decoded segments of the whole path.
    pub segments: Vec<String>,
    /// The scope's ID as given (`""` for the tenant, else `/subscriptions/...`).
    pub scope_id: String,
    pub scope: ScopeKind,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    pub provider: Option<ProviderPart>,
}

/// Parses a request path; `None` when its scope is not one ARM knows.
pub fn parse(path: &str) -> Option<ArmPath> {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    // The last `providers` followed by a namespace starts the provider part; anything before
    // it is the scope (which may itself contain a `providers`, for extension resources).
    let split = (0..segments.len())
        .rev()
        .find(|&i| segments[i].eq_ignore_ascii_case("providers") && i + 1 < segments.len());
    let (scope_segments, provider) = match split {
        Some(i) => {
            let rest = &segments[i + 2..];
            let types = rest.iter().step_by(2).cloned().collect();
            let names = rest.iter().skip(1).step_by(2).cloned().collect();
            (
                &segments[..i],
                Some(ProviderPart {
                    namespace: segments[i + 1].clone(),
                    types,
                    names,
                }),
            )
        }
        None => (&segments[..], None),
    };
    let eq = |s: &String, lit: &str| s.eq_ignore_ascii_case(lit);
    let (scope, subscription, resource_group) = match scope_segments {
        [] => (ScopeKind::Tenant, None, None),
        [s, sub] if eq(s, "subscriptions") => (ScopeKind::Subscription, Some(sub.clone()), None),
        [s, sub, r, rg] if eq(s, "subscriptions") && eq(r, "resourceGroups") => (
            ScopeKind::ResourceGroup,
            Some(sub.clone()),
            Some(rg.clone()),
        ),
        [p, ns, m, _mg]
            if eq(p, "providers")
                && eq(ns, "Microsoft.Management")
                && eq(m, "managementGroups") =>
        {
            (ScopeKind::ManagementGroup, None, None)
        }
        [s, sub, r, rg, p, ..]
            if eq(s, "subscriptions") && eq(r, "resourceGroups") && eq(p, "providers") =>
        {
            (ScopeKind::Resource, Some(sub.clone()), Some(rg.clone()))
        }
        // `/subscriptions` alone and `/subscriptions/{sub}/...` without a provider part are
        // answered by the built-in Microsoft.Resources handlers, not the type registry.
        [s] if eq(s, "subscriptions") && provider.is_none() => (ScopeKind::Tenant, None, None),
        [s, sub, ..] if eq(s, "subscriptions") && provider.is_none() => {
            (ScopeKind::Subscription, Some(sub.clone()), None)
        }
        _ => return None,
    };
    let scope_id = if scope_segments.is_empty() {
        String::new()
    } else {
        format!("/{}", scope_segments.join("/"))
    };
    Some(ArmPath {
        segments,
        scope_id,
        scope,
        subscription,
        resource_group,
        provider,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_resource() {
        let p = parse(
            "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Security/autoProvisioningSettings/default",
        )
        .unwrap();
        assert_eq!(p.scope, ScopeKind::Subscription);
        assert_eq!(
            p.subscription.as_deref(),
            Some("00000000-0000-0000-0000-000000000001")
        );
        let prov = p.provider.unwrap();
        assert_eq!(
            prov.full_type(),
            "Microsoft.Security/autoProvisioningSettings"
        );
        assert_eq!(prov.names, vec!["default"]);
        assert!(!prov.is_collection());
    }

    #[test]
    fn collection_and_case() {
        let p = parse("/SUBSCRIPTIONS/s/PROVIDERS/microsoft.security/pricings").unwrap();
        assert_eq!(p.scope_id, "/SUBSCRIPTIONS/s");
        assert!(p.provider.unwrap().is_collection());
    }

    #[test]
    fn other_scopes() {
        let rg = parse("/subscriptions/s/resourceGroups/rg/providers/NS/t/n").unwrap();
        assert_eq!(rg.scope, ScopeKind::ResourceGroup);
        assert_eq!(rg.resource_group.as_deref(), Some("rg"));

        let ext = parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Security/pricings/VirtualMachines",
        )
        .unwrap();
        assert_eq!(ext.scope, ScopeKind::Resource);
        assert_eq!(
            ext.scope_id,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
        );

        let mg = parse(
            "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/policyAssignments/a",
        )
        .unwrap();
        assert_eq!(mg.scope, ScopeKind::ManagementGroup);

        let tenant = parse("/providers/Microsoft.Authorization/policyDefinitions/x").unwrap();
        assert_eq!(tenant.scope, ScopeKind::Tenant);
        assert_eq!(tenant.scope_id, "");

        assert_eq!(parse("/subscriptions").unwrap().scope, ScopeKind::Tenant);
        assert!(parse("/subscriptions/s").unwrap().provider.is_none());
        assert!(parse("/bogus/x/providers/NS/t").is_none());
    }

    #[test]
    fn decodes_segments() {
        let p = parse("/subscriptions/s/providers/NS/t/a%20b").unwrap();
        assert_eq!(p.provider.unwrap().names, vec!["a b"]);
    }
}
