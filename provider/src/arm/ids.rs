//! Typed ARM resource IDs: `parse` (segment names case-insensitive, as ARM is — arm-api.md
//! §13.6) and `Display` in the canonical form. Modelled on azurerm's `parse/*.go` IDs: one type
//! per shape, a test per shape.

use std::fmt;

use super::credentials::is_guid;

/// An ID that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parsing {input:?} as {kind} ID: {reason}{}", expected.map(|e| format!("; expected {e}")).unwrap_or_default())]
pub struct IdError {
    /// What was being parsed, e.g. `an Auto Provisioning Setting`.
    pub kind: &'static str,
    /// The input.
    pub input: String,
    /// What is wrong.
    pub reason: String,
    /// The expected form, when there is one.
    pub expected: Option<&'static str>,
}

fn id_err(kind: &'static str, input: &str, reason: impl Into<String>) -> IdError {
    IdError {
        kind,
        input: input.to_owned(),
        reason: reason.into(),
        expected: None,
    }
}

/// One `key/value` pair of an ARM ID, e.g. `resourceGroups/rg1` or `providers/Microsoft.Security`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Segment {
    /// The key (`subscriptions`, `resourceGroups`, `providers`, or a resource type).
    pub key: String,
    /// The value (a GUID, a name, or a namespace after `providers`).
    pub value: String,
}

/// Any ARM resource ID, as its `key/value` segments. The shapes below build on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceId {
    segments: Vec<Segment>,
}

impl ResourceId {
    /// Splits `/{key}/{value}/…`. ARM IDs always have an even number of segments; empty
    /// segments (`//`) and a missing leading `/` are errors. A trailing `/` is tolerated.
    pub fn parse(input: &str) -> Result<ResourceId, IdError> {
        const KIND: &str = "a resource";
        let s = input.trim();
        let Some(rest) = s.strip_prefix('/') else {
            return Err(id_err(KIND, input, "it does not start with '/'"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Err(id_err(KIND, input, "it is empty"));
        }
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.iter().any(|p| p.trim().is_empty()) {
            return Err(id_err(KIND, input, "it has an empty segment"));
        }
        // ARM names never hold control characters or start or end with white space. Refusing
        // them also keeps parse ∘ Display a fixed point: `/a/b\n/` trimmed to `/a/b\n` would
        // otherwise display a name that parses back without its newline (found by libFuzzer).
        if let Some(p) = parts
            .iter()
            .find(|p| p.trim() != **p || p.chars().any(char::is_control))
        {
            return Err(id_err(
                KIND,
                input,
                format!("segment {p:?} has white space at an end or a control character"),
            ));
        }
        if !parts.len().is_multiple_of(2) {
            return Err(id_err(
                KIND,
                input,
                format!(
                    "segment {:?} has no value (ARM IDs are /key/value pairs)",
                    parts[parts.len() - 1]
                ),
            ));
        }
        Ok(ResourceId {
            segments: parts
                .chunks(2)
                .map(|c| Segment {
                    key: c[0].to_owned(),
                    value: c[1].to_owned(),
                })
                .collect(),
        })
    }

    /// Builds an ID from segments.
    pub fn from_segments(segments: Vec<Segment>) -> ResourceId {
        ResourceId { segments }
    }

    /// The segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The value of the first segment whose key matches (case-insensitively).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.segments
            .iter()
            .find(|s| s.key.eq_ignore_ascii_case(key))
            .map(|s| s.value.as_str())
    }

    /// `/subscriptions/{id}` when the ID starts with it.
    pub fn subscription_id(&self) -> Option<&str> {
        self.segments
            .first()
            .filter(|s| s.key.eq_ignore_ascii_case("subscriptions"))
            .map(|s| s.value.as_str())
    }

    /// `/resourceGroups/{name}` right after the subscription.
    pub fn resource_group(&self) -> Option<&str> {
        self.segments
            .get(1)
            .filter(|s| s.key.eq_ignore_ascii_case("resourceGroups"))
            .filter(|_| self.subscription_id().is_some())
            .map(|s| s.value.as_str())
    }

    /// The namespace of the last `providers` segment, e.g. `Microsoft.Security`.
    pub fn provider_namespace(&self) -> Option<&str> {
        self.last_providers()
            .map(|i| self.segments[i].value.as_str())
    }

    /// `Namespace/type[/subtype…]` after the last `providers`, e.g. `Microsoft.Security/pricings`.
    pub fn resource_type(&self) -> Option<String> {
        let i = self.last_providers()?;
        let mut t = self.segments[i].value.clone();
        for s in &self.segments[i + 1..] {
            t.push('/');
            t.push_str(&s.key);
        }
        (i + 1 < self.segments.len()).then_some(t)
    }

    /// The last segment's value (the resource name).
    pub fn name(&self) -> Option<&str> {
        self.segments.last().map(|s| s.value.as_str())
    }

    /// The scope an extension or top-level resource lives at: the ID before the last
    /// `/providers/`, or `None` for an ID with no provider segment. For
    /// `/subscriptions/S/providers/Microsoft.Security/pricings/VirtualMachines` that is
    /// `/subscriptions/S`.
    pub fn scope(&self) -> Option<ResourceId> {
        let i = self.last_providers()?;
        Some(ResourceId {
            segments: self.segments[..i].to_vec(),
        })
    }

    fn last_providers(&self) -> Option<usize> {
        self.segments
            .iter()
            .rposition(|s| s.key.eq_ignore_ascii_case("providers"))
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for s in &self.segments {
            write!(f, "/{}/{}", s.key, s.value)?;
        }
        Ok(())
    }
}

/// A subscription ID: a validated GUID, kept as given. Displays as the bare GUID;
/// [`SubscriptionId::id`] is the ARM ID `/subscriptions/{guid}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(String);

impl SubscriptionId {
    const KIND: &'static str = "a Subscription";
    const EXPECTED: &'static str = "/subscriptions/{subscriptionId} or a bare GUID";

    /// Parses `/subscriptions/{guid}` or a bare GUID (ARM's 36-character form).
    pub fn parse(input: &str) -> Result<SubscriptionId, IdError> {
        let s = input.trim();
        if !s.starts_with('/') {
            return Self::from_guid(s, input);
        }
        let id = ResourceId::parse(s).map_err(|e| IdError {
            kind: Self::KIND,
            expected: Some(Self::EXPECTED),
            ..e
        })?;
        match id.segments() {
            [seg] if seg.key.eq_ignore_ascii_case("subscriptions") => {
                Self::from_guid(&seg.value, input)
            }
            _ => Err(IdError {
                kind: Self::KIND,
                input: input.to_owned(),
                reason: "it is not a subscription ID".into(),
                expected: Some(Self::EXPECTED),
            }),
        }
    }

    fn from_guid(guid: &str, input: &str) -> Result<SubscriptionId, IdError> {
        if !is_guid(guid) {
            return Err(IdError {
                kind: Self::KIND,
                input: input.to_owned(),
                reason: format!("{guid:?} is not a valid GUID"),
                expected: Some(Self::EXPECTED),
            });
        }
        Ok(SubscriptionId(guid.to_owned()))
    }

    /// The GUID, as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/subscriptions/{guid}`.
    pub fn id(&self) -> String {
        format!("/subscriptions/{}", self.0)
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for SubscriptionId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

/// Checks a `/subscriptions/{sub}/providers/{namespace}/{type}/{name}` ID segment by segment.
fn parse_subscription_provider_id(
    input: &str,
    kind: &'static str,
    expected: &'static str,
    namespace: &str,
    type_name: &str,
) -> Result<(String, String), IdError> {
    let err = |reason: String| IdError {
        kind,
        input: input.to_owned(),
        reason,
        expected: Some(expected),
    };
    let id = ResourceId::parse(input).map_err(|e| err(e.reason))?;
    let segs = id.segments();
    let want: [(&str, Option<&str>); 3] = [
        ("subscriptions", None),
        ("providers", Some(namespace)),
        (type_name, None),
    ];
    for (i, (key, value)) in want.iter().enumerate() {
        let Some(seg) = segs.get(i) else {
            return Err(err(format!("the segment {key:?} is missing")));
        };
        if !seg.key.eq_ignore_ascii_case(key) {
            return Err(err(format!(
                "segment {} is {:?}, expected {key:?}",
                i * 2 + 1,
                seg.key
            )));
        }
        if let Some(v) = value
            && !seg.value.eq_ignore_ascii_case(v)
        {
            return Err(err(format!(
                "the provider namespace is {:?}, expected {v:?}",
                seg.value
            )));
        }
    }
    if segs.len() > want.len() {
        return Err(err(format!(
            "unexpected segments after the name: {}",
            ResourceId::from_segments(segs[want.len()..].to_vec())
        )));
    }
    let sub = SubscriptionId::from_guid(&segs[0].value, input).map_err(|e| err(e.reason))?;
    Ok((sub.0, segs[2].value.clone()))
}

/// Defines a subscription-level `Microsoft.Security` singleton ID type.
macro_rules! security_subscription_id {
    ($(#[$doc:meta])* $name:ident, $type_name:literal, $kind:literal, $human:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name {
            /// The subscription GUID, as given (validated by `parse`).
            pub subscription_id: String,
            /// The name (last segment), as given.
            pub name: String,
        }

        impl $name {
            /// The canonical form.
            pub const FORMAT: &'static str = concat!(
                "/subscriptions/{subscriptionId}/providers/Microsoft.Security/",
                $type_name,
                "/{name}"
            );

            /// A new ID.
            pub fn new(subscription_id: impl Into<String>, name: impl Into<String>) -> Self {
                $name {
                    subscription_id: subscription_id.into(),
                    name: name.into(),
                }
            }

            /// Parses the ID; segment names and the namespace are case-insensitive.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                let (subscription_id, name) = parse_subscription_provider_id(
                    input,
                    $kind,
                    Self::FORMAT,
                    "Microsoft.Security",
                    $type_name,
                )?;
                Ok($name {
                    subscription_id,
                    name,
                })
            }

            /// azurerm's way of naming the resource in errors:
            #[doc = concat!("`", $human, " (Subscription \"…\" / Name \"…\")`.")]
            pub fn describe(&self) -> String {
                format!(
                    concat!($human, " (Subscription {:?} / Name {:?})"),
                    self.subscription_id,
                    self.name
                )
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    concat!("/subscriptions/{}/providers/Microsoft.Security/", $type_name, "/{}"),
                    self.subscription_id, self.name
                )
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

security_subscription_id!(
    /// `/subscriptions/{sub}/providers/Microsoft.Security/autoProvisioningSettings/{name}`
    /// (arm-api.md §1; the name used in practice is `default`).
    AutoProvisioningSettingId,
    "autoProvisioningSettings",
    "an Auto Provisioning Setting",
    "Auto Provisioning Setting"
);

security_subscription_id!(
    /// `/subscriptions/{sub}/providers/Microsoft.Security/pricings/{name}` (a Defender plan at
    /// subscription scope, arm-api.md §2).
    PricingId,
    "pricings",
    "a Pricing",
    "Pricing"
);

security_subscription_id!(
    /// `/subscriptions/{sub}/providers/Microsoft.Security/settings/{name}` (arm-api.md §5).
    SettingId,
    "settings",
    "a Security Setting",
    "Security Setting"
);

/// A scope policy assignments and role assignments live at (arm-api.md §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `/providers/Microsoft.Management/managementGroups/{name}`.
    ManagementGroup {
        /// The management group's name (ID).
        name: String,
    },
    /// `/subscriptions/{sub}`.
    Subscription {
        /// The subscription GUID.
        subscription_id: String,
    },
    /// `/subscriptions/{sub}/resourceGroups/{name}`.
    ResourceGroup {
        /// The subscription GUID.
        subscription_id: String,
        /// The resource group.
        resource_group: String,
    },
    /// Any resource under a subscription: `/subscriptions/{sub}/…/providers/{ns}/{type}/{name}…`.
    Resource {
        /// The subscription GUID.
        subscription_id: String,
        /// The full ID.
        id: ResourceId,
    },
}

impl Scope {
    const KIND: &'static str = "a scope";
    const EXPECTED: &'static str = "/providers/Microsoft.Management/managementGroups/{name}, /subscriptions/{subscriptionId}, /subscriptions/{subscriptionId}/resourceGroups/{name} or a resource ID";

    /// Parses a scope; segment names are case-insensitive.
    pub fn parse(input: &str) -> Result<Scope, IdError> {
        let err = |reason: String| IdError {
            kind: Self::KIND,
            input: input.to_owned(),
            reason,
            expected: Some(Self::EXPECTED),
        };
        let id = ResourceId::parse(input).map_err(|e| err(e.reason))?;
        let segs = id.segments();
        let first = &segs[0];
        if first.key.eq_ignore_ascii_case("providers") {
            return match segs {
                [p, mg]
                    if p.value.eq_ignore_ascii_case("Microsoft.Management")
                        && mg.key.eq_ignore_ascii_case("managementGroups") =>
                {
                    Ok(Scope::ManagementGroup {
                        name: mg.value.clone(),
                    })
                }
                _ => Err(err("it is not a management group ID".into())),
            };
        }
        if !first.key.eq_ignore_ascii_case("subscriptions") {
            return Err(err(format!(
                "it starts with {:?}, expected \"subscriptions\" or \"providers\"",
                first.key
            )));
        }
        let subscription_id = SubscriptionId::from_guid(&first.value, input)
            .map_err(|e| err(e.reason))?
            .0;
        match segs {
            [_] => Ok(Scope::Subscription { subscription_id }),
            [_, rg] if rg.key.eq_ignore_ascii_case("resourceGroups") => Ok(Scope::ResourceGroup {
                subscription_id,
                resource_group: rg.value.clone(),
            }),
            [_, second, ..] => {
                let rest = if second.key.eq_ignore_ascii_case("resourceGroups") {
                    &segs[2..]
                } else {
                    &segs[1..]
                };
                let ok = rest
                    .first()
                    .is_some_and(|s| s.key.eq_ignore_ascii_case("providers"))
                    && rest.len() >= 2;
                if !ok {
                    return Err(err(format!(
                        "{:?} is not followed by /providers/{{namespace}}/{{type}}/{{name}}",
                        ResourceId::from_segments(segs[..segs.len() - rest.len()].to_vec())
                            .to_string()
                    )));
                }
                Ok(Scope::Resource {
                    subscription_id,
                    id: canonical_resource(&id),
                })
            }
            [] => Err(err("it is empty".into())),
        }
    }

    /// The subscription, unless this is a management group.
    pub fn subscription_id(&self) -> Option<&str> {
        match self {
            Scope::ManagementGroup { .. } => None,
            Scope::Subscription { subscription_id }
            | Scope::ResourceGroup {
                subscription_id, ..
            }
            | Scope::Resource {
                subscription_id, ..
            } => Some(subscription_id),
        }
    }
}

/// `subscriptions`, `resourceGroups` and `providers` keys in canonical case (resource type
/// keys are kept as given: their case is the RP's).
fn canonical_resource(id: &ResourceId) -> ResourceId {
    ResourceId::from_segments(
        id.segments()
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let key = if s.key.eq_ignore_ascii_case("subscriptions") && i == 0 {
                    "subscriptions".to_owned()
                } else if s.key.eq_ignore_ascii_case("resourceGroups") && i == 1 {
                    "resourceGroups".to_owned()
                } else if s.key.eq_ignore_ascii_case("providers") {
                    "providers".to_owned()
                } else {
                    s.key.clone()
                };
                Segment {
                    key,
                    value: s.value.clone(),
                }
            })
            .collect(),
    )
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::ManagementGroup { name } => {
                write!(f, "/providers/Microsoft.Management/managementGroups/{name}")
            }
            Scope::Subscription { subscription_id } => {
                write!(f, "/subscriptions/{subscription_id}")
            }
            Scope::ResourceGroup {
                subscription_id,
                resource_group,
            } => write!(
                f,
                "/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
            ),
            Scope::Resource { id, .. } => write!(f, "{id}"),
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn segments_with_control_characters_or_outer_spaces_are_refused() {
        for bad in [
            "/subscriptions/x/resourceGroups/rg\n\n/",
            "/subscriptions/x/resourceGroups/ rg",
            "/subscriptions/x/resourceGroups/r\u{0}g",
        ] {
            assert!(ResourceId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ResourceId::parse("  /subscriptions/x/resourceGroups/rg/  ").is_ok());
        assert!(ResourceId::parse("/subscriptions/x/resourceGroups/my rg").is_ok());
    }

    const SUB: &str = "12345678-1234-9876-4563-123456789012";

    #[test]
    fn subscription_id() {
        let s = SubscriptionId::parse(SUB).unwrap();
        assert_eq!(s.to_string(), SUB);
        assert_eq!(s.id(), format!("/subscriptions/{SUB}"));
        assert_eq!(
            SubscriptionId::parse(&format!("/SUBSCRIPTIONS/{SUB}")).unwrap(),
            s
        );
        assert_eq!(
            SubscriptionId::parse(&SUB.to_ascii_uppercase())
                .unwrap()
                .to_string(),
            SUB.to_ascii_uppercase()
        );
        let e = SubscriptionId::parse("12345678-1234-9876-4563-12345678901").unwrap_err();
        assert!(e.reason.contains("not a valid GUID"), "{e}");
        assert!(SubscriptionId::parse("{12345678-1234-9876-4563-123456789012}").is_err());
        assert!(SubscriptionId::parse(&format!("/subscriptions/{SUB}/resourceGroups/x")).is_err());
        assert!(SubscriptionId::parse("/subscriptions").is_err());
    }

    #[test]
    fn auto_provisioning_setting_id() {
        let valid = format!(
            "/subscriptions/{SUB}/providers/Microsoft.Security/autoProvisioningSettings/default"
        );
        let id = AutoProvisioningSettingId::parse(&valid).unwrap();
        assert_eq!(id.name, "default");
        assert_eq!(id.subscription_id.to_string(), SUB);
        assert_eq!(id.to_string(), valid);
        assert_eq!(
            id.describe(),
            format!("Auto Provisioning Setting (Subscription \"{SUB}\" / Name \"default\")")
        );

        // Wrong case: ARM segment names and namespaces are case-insensitive.
        let shouty = format!(
            "/SUBSCRIPTIONS/{SUB}/PROVIDERS/microsoft.security/AUTOPROVISIONINGSETTINGS/default"
        );
        assert_eq!(AutoProvisioningSettingId::parse(&shouty).unwrap(), id);

        // Missing segments.
        for bad in [
            String::new(),
            "/".into(),
            format!("/subscriptions/{SUB}"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/autoProvisioningSettings"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/autoProvisioningSettings/"),
            format!(
                "subscriptions/{SUB}/providers/Microsoft.Security/autoProvisioningSettings/default"
            ),
        ] {
            assert!(AutoProvisioningSettingId::parse(&bad).is_err(), "{bad:?}");
        }
        // Extra segments.
        let extra = format!("{valid}/extra/thing");
        let e = AutoProvisioningSettingId::parse(&extra).unwrap_err();
        assert!(e.reason.contains("unexpected segments"), "{e}");
        // Wrong type and namespace.
        assert!(
            AutoProvisioningSettingId::parse(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.Security/pricings/default"
            ))
            .is_err()
        );
        let e = AutoProvisioningSettingId::parse(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Compute/autoProvisioningSettings/default"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("Microsoft.Compute"), "{e}");
        // Bad GUID.
        let e = AutoProvisioningSettingId::parse(
            "/subscriptions/not-a-guid/providers/Microsoft.Security/autoProvisioningSettings/default",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "parsing \"/subscriptions/not-a-guid/providers/Microsoft.Security/autoProvisioningSettings/default\" as an Auto Provisioning Setting ID: \"not-a-guid\" is not a valid GUID; expected /subscriptions/{subscriptionId}/providers/Microsoft.Security/autoProvisioningSettings/{name}"
        );
    }

    #[test]
    fn pricing_and_setting_ids() {
        let p = PricingId::parse(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Security/pricings/VirtualMachines"
        ))
        .unwrap();
        assert_eq!(
            p.describe(),
            format!("Pricing (Subscription \"{SUB}\" / Name \"VirtualMachines\")")
        );
        let s = SettingId::parse(&format!(
            "/subscriptions/{SUB}/providers/microsoft.security/SETTINGS/WDATP"
        ))
        .unwrap();
        assert_eq!(
            s.to_string(),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/settings/WDATP")
        );
        assert!(SettingId::parse(&p.to_string()).is_err());
    }

    #[test]
    fn resource_id_generic() {
        let id = ResourceId::parse(
            "/subscriptions/S/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws/providers/Microsoft.SecurityInsights/dataConnectors/c1",
        )
        .unwrap();
        assert_eq!(id.subscription_id(), Some("S"));
        assert_eq!(id.resource_group(), Some("rg"));
        assert_eq!(id.provider_namespace(), Some("Microsoft.SecurityInsights"));
        assert_eq!(
            id.resource_type().as_deref(),
            Some("Microsoft.SecurityInsights/dataConnectors")
        );
        assert_eq!(id.name(), Some("c1"));
        assert_eq!(
            id.scope().unwrap().to_string(),
            "/subscriptions/S/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws"
        );
        assert_eq!(id.get("RESOURCEGROUPS"), Some("rg"));
        assert!(ResourceId::parse("/a/b/c").is_err());
        assert!(ResourceId::parse("/a//b").is_err());
        assert!(ResourceId::parse("a/b").is_err());
        let builtin =
            ResourceId::parse("/providers/Microsoft.Authorization/policyDefinitions/abc").unwrap();
        assert_eq!(
            builtin.resource_type().as_deref(),
            Some("Microsoft.Authorization/policyDefinitions")
        );
        assert_eq!(builtin.scope().unwrap().to_string(), "/");
    }

    #[test]
    fn scopes() {
        let mg = Scope::parse("/providers/microsoft.management/MANAGEMENTGROUPS/root").unwrap();
        assert_eq!(
            mg.to_string(),
            "/providers/Microsoft.Management/managementGroups/root"
        );
        assert_eq!(mg.subscription_id(), None);
        let sub = Scope::parse(&format!("/Subscriptions/{SUB}")).unwrap();
        assert_eq!(sub.to_string(), format!("/subscriptions/{SUB}"));
        let rg = Scope::parse(&format!("/subscriptions/{SUB}/resourcegroups/My-RG")).unwrap();
        assert_eq!(
            rg.to_string(),
            format!("/subscriptions/{SUB}/resourceGroups/My-RG")
        );
        let res = Scope::parse(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        ))
        .unwrap();
        assert!(matches!(res, Scope::Resource { .. }));
        let sub_res = Scope::parse(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Security/pricings/VirtualMachines"
        ))
        .unwrap();
        assert!(matches!(sub_res, Scope::Resource { .. }));
        for bad in [
            "/providers/Microsoft.Management/managementGroups".to_owned(),
            "/providers/Microsoft.Compute/virtualMachines/x".to_owned(),
            "/subscriptions/nope".to_owned(),
            format!("/subscriptions/{SUB}/resourceGroups/rg/virtualMachines/vm"),
            format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute"),
            format!("/tenants/{SUB}"),
        ] {
            assert!(Scope::parse(&bad).is_err(), "{bad}");
        }
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9][A-Za-z0-9_.-]{0,30}"
    }

    fn sub() -> impl Strategy<Value = String> {
        (any::<u128>(), any::<bool>()).prop_map(|(n, upper)| {
            let g = uuid::Uuid::from_u128(n).to_string();
            if upper { g.to_ascii_uppercase() } else { g }
        })
    }

    proptest! {
        #[test]
        fn subscription_round_trip(s in sub()) {
            let id = SubscriptionId::parse(&s).unwrap();
            prop_assert_eq!(SubscriptionId::parse(&id.to_string()).unwrap(), id.clone());
            prop_assert_eq!(SubscriptionId::parse(&id.id()).unwrap(), id);
        }

        #[test]
        fn auto_provisioning_round_trip(s in sub(), n in name()) {
            let id = AutoProvisioningSettingId::new(s, n);
            prop_assert_eq!(AutoProvisioningSettingId::parse(&id.to_string()).unwrap(), id);
        }

        #[test]
        fn pricing_round_trip(s in sub(), n in name()) {
            let id = PricingId::new(s, n);
            prop_assert_eq!(PricingId::parse(&id.to_string()).unwrap(), id);
        }

        #[test]
        fn setting_round_trip(s in sub(), n in name()) {
            let id = SettingId::new(s, n);
            prop_assert_eq!(SettingId::parse(&id.to_string()).unwrap(), id);
        }

        #[test]
        fn scope_round_trip(s in sub(), rg in name(), mg in name(), vm in name(), pick in 0u8..4) {
            let scope = match pick {
                0 => Scope::ManagementGroup { name: mg },
                1 => Scope::Subscription { subscription_id: s },
                2 => Scope::ResourceGroup { subscription_id: s, resource_group: rg },
                _ => Scope::Resource {
                    subscription_id: s.clone(),
                    id: ResourceId::parse(&format!(
                        "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
                    )).unwrap(),
                },
            };
            prop_assert_eq!(Scope::parse(&scope.to_string()).unwrap(), scope);
        }

        #[test]
        fn resource_id_round_trip(parts in proptest::collection::vec((name(), name()), 1..6)) {
            let id = ResourceId::from_segments(
                parts.into_iter().map(|(key, value)| Segment { key, value }).collect(),
            );
            prop_assert_eq!(ResourceId::parse(&id.to_string()).unwrap(), id);
        }

        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = ResourceId::parse(&s);
            let _ = Scope::parse(&s);
            let _ = AutoProvisioningSettingId::parse(&s);
            let _ = SubscriptionId::parse(&s);
        }
    }
}
