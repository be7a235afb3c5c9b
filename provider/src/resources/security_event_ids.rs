//! The Windows security event sets and the data source `defender_security_event_ids`.
//!
//! The event IDs each set stores, as the Microsoft Learn reference "Windows security event sets
//! that can be sent to Microsoft Sentinel" lists them (MicrosoftDocs/azure-docs
//! `articles/sentinel/windows-security-event-id-reference.md`, unchanged from 2021-09 to today's
//! revision). Defender for Cloud's "Windows security events" tiers Minimal and Common
//! (`Recommended` in the API, arm-api.md §11.2) store the same sets; All stores every Windows
//! security and AppLocker event and None none. Kept sorted ascending here (the reference lists
//! Common almost, not quite, in order).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::framework::{Ctx, DataSource, Diagnostics};

/// Event IDs stored by the Minimal set (39).
pub const MINIMAL: &[u32] = &[
    1102, 4624, 4625, 4657, 4663, 4688, 4700, 4702, 4719, 4720, 4722, 4723, 4724, 4727, 4728, 4732,
    4735, 4737, 4739, 4740, 4754, 4755, 4756, 4767, 4799, 4825, 4946, 4948, 4956, 5024, 5033, 8001,
    8002, 8003, 8004, 8005, 8006, 8007, 8222,
];

/// Event IDs stored by the Common set (`Recommended` in the API; 143).
pub const COMMON: &[u32] = &[
    1, 299, 300, 324, 340, 403, 404, 410, 411, 412, 413, 431, 500, 501, 1100, 1102, 1107, 1108,
    4608, 4610, 4611, 4614, 4622, 4624, 4625, 4634, 4647, 4648, 4649, 4657, 4661, 4662, 4663, 4665,
    4666, 4667, 4670, 4672, 4673, 4674, 4675, 4688, 4689, 4697, 4700, 4702, 4704, 4705, 4716, 4717,
    4718, 4719, 4720, 4722, 4723, 4724, 4725, 4726, 4727, 4728, 4729, 4732, 4733, 4735, 4737, 4738,
    4739, 4740, 4742, 4744, 4745, 4746, 4750, 4751, 4752, 4754, 4755, 4756, 4757, 4760, 4761, 4762,
    4764, 4767, 4768, 4771, 4774, 4778, 4779, 4781, 4793, 4797, 4798, 4799, 4800, 4801, 4802, 4803,
    4825, 4826, 4870, 4886, 4887, 4888, 4893, 4898, 4902, 4904, 4905, 4907, 4931, 4932, 4933, 4946,
    4948, 4956, 4985, 5024, 5033, 5059, 5136, 5137, 5140, 5145, 5632, 6144, 6145, 6272, 6273, 6278,
    6416, 6423, 6424, 8001, 8002, 8003, 8004, 8005, 8006, 8007, 8222, 26401, 30004,
];

/// A set as a Markdown paragraph, for the docs.
pub fn markdown_list(ids: &[u32]) -> String {
    ids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Windows security event IDs that the Minimal and Common tiers of
/// `defender_security_events` store, as Microsoft documents the event sets. `All` stores every
/// Windows security and AppLocker event; `None` stores none.
///
/// The lists are data of this provider (no ARM call), for use in queries, data collection rules
/// or documentation of what a tier keeps.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_security_event_ids")]
pub struct SecurityEventIdsModel {
    /// Event IDs stored by the Minimal tier, ascending.
    #[schemars(extend("computed" = true))]
    pub minimal: Option<Vec<u32>>,
    /// Event IDs stored by the Common tier (`Recommended` in the API), ascending.
    #[schemars(extend("computed" = true))]
    pub common: Option<Vec<u32>>,
}

pub struct SecurityEventIdsDataSource;

impl DataSource for SecurityEventIdsDataSource {
    type Model = SecurityEventIdsModel;
    const TYPE_NAME: &'static str = "defender_security_event_ids";

    async fn read(&self, _ctx: &Ctx, _config: Self::Model) -> Result<Self::Model, Diagnostics> {
        Ok(SecurityEventIdsModel {
            minimal: Some(MINIMAL.to_vec()),
            common: Some(COMMON.to_vec()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strictly_ascending(ids: &[u32]) -> bool {
        ids.windows(2).all(|w| w[0] < w[1])
    }

    #[test]
    fn sets_are_sorted_without_duplicates() {
        assert!(strictly_ascending(MINIMAL));
        assert!(strictly_ascending(COMMON));
        assert_eq!(MINIMAL.len(), 39);
        assert_eq!(COMMON.len(), 143);
    }

    #[test]
    fn the_documented_examples_hold() {
        // The reference's own examples: Minimal has logons (4624, 4625) but not sign-out
        // (4634); Common has both sign-in and sign-out; both have process creation (4688).
        assert!(MINIMAL.contains(&4624) && MINIMAL.contains(&4625));
        assert!(!MINIMAL.contains(&4634));
        assert!(COMMON.contains(&4624) && COMMON.contains(&4634));
        assert!(MINIMAL.contains(&4688) && COMMON.contains(&4688));
        // Every Minimal event is also in Common.
        for id in MINIMAL {
            assert!(COMMON.contains(id), "{id} is in Minimal but not in Common");
        }
        assert!(markdown_list(&MINIMAL[..3]).starts_with("1102, 4624, 4625"));
    }
}
