//! The directory (Entra ID) as ARM's role assignments see it: the service principals of the
//! managed identities the emulator created, and when each appeared.
//!
//! A new system-assigned identity's service principal takes a while to replicate to the
//! directory replicas role assignments check: meanwhile a role assignment for it answers
//! 400 `PrincipalNotFound`, unless the request says `principalType: ServicePrincipal`, which
//! skips that lookup (arm-api.md 9 [3p]). The delay is `principal_replication_ms`.
//!
//! Principals the emulator did not create (users, groups, apps of the caller's tenant) are
//! not modelled: role assignments for them are accepted as they are.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Where a principal stands for a role assignment made now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replication {
    /// Not a principal the emulator created.
    Unknown,
    /// Created less than the replication delay ago.
    Replicating,
    /// Visible everywhere.
    Replicated,
}

#[derive(Clone, Debug)]
struct Principal {
    appeared: Instant,
    /// The resource the identity belongs to (a policy assignment, a user-assigned identity).
    owner: String,
}

/// The service principals of the emulator's managed identities. Not persisted: after a
/// restart they are [`Replication::Unknown`], which role assignments accept.
#[derive(Default)]
pub struct Directory {
    principals: Mutex<HashMap<String, Principal>>,
}

impl Directory {
    /// A service principal created now (a new system-assigned identity).
    pub fn add_new(&self, object_id: &str, owner: &str) {
        self.principals.lock().insert(
            object_id.to_ascii_lowercase(),
            Principal {
                appeared: Instant::now(),
                owner: owner.to_owned(),
            },
        );
    }

    /// A service principal that has existed for long (a user-assigned identity created
    /// before it was attached).
    pub fn add_existing(&self, object_id: &str, owner: &str) {
        let now = Instant::now();
        let appeared = now.checked_sub(Duration::from_secs(86_400)).unwrap_or(now);
        self.principals
            .lock()
            .entry(object_id.to_ascii_lowercase())
            .or_insert(Principal {
                appeared,
                owner: owner.to_owned(),
            });
    }

    /// Forgets a principal (its identity was deleted).
    pub fn remove(&self, object_id: &str) {
        self.principals
            .lock()
            .remove(&object_id.to_ascii_lowercase());
    }

    /// The resource a principal belongs to, if the emulator created it.
    pub fn owner(&self, object_id: &str) -> Option<String> {
        self.principals
            .lock()
            .get(&object_id.to_ascii_lowercase())
            .map(|p| p.owner.clone())
    }

    /// Whether a role assignment made now sees the principal.
    pub fn replication(&self, object_id: &str, delay: Duration) -> Replication {
        match self.principals.lock().get(&object_id.to_ascii_lowercase()) {
            None => Replication::Unknown,
            Some(p) if p.appeared.elapsed() < delay => Replication::Replicating,
            Some(_) => Replication::Replicated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_runs_out() {
        let d = Directory::default();
        d.add_new("ABC", "/a");
        assert_eq!(
            d.replication("abc", Duration::from_secs(60)),
            Replication::Replicating
        );
        assert_eq!(
            d.replication("abc", Duration::ZERO),
            Replication::Replicated
        );
        assert_eq!(d.replication("other", Duration::ZERO), Replication::Unknown);
        d.add_existing("uai", "/u");
        assert_eq!(
            d.replication("UAI", Duration::from_secs(60)),
            Replication::Replicated
        );
        assert_eq!(d.owner("abc").as_deref(), Some("/a"));
        d.remove("abc");
        assert_eq!(d.replication("abc", Duration::ZERO), Replication::Unknown);
    }
}
