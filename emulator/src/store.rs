//! The resource store: bodies keyed by lowercased ARM ID (names and IDs are case-insensitive,
//! arm-api.md 13.6), each remembering the canonical casing it was created with; saved
//! atomically to the state file after every write.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::util::rfc3339;

const STATE_FORMAT: &str = "arm-emulator-state/1";

/// A stored resource.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StoredResource {
    /// The ID in the casing it was first written with.
    pub id: String,
    /// The body GET answers.
    pub body: Value,
    pub created: String,
    pub updated: String,
}

/// The state file's contents (and `GET /_emulator/state`'s `resources` part).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StateSnapshot {
    pub format: String,
    pub subscriptions: Vec<String>,
    pub resources: Vec<StoredResource>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("reading state file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing state file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("state file {path} has format '{found}', expected '{STATE_FORMAT}'")]
    Format { path: PathBuf, found: String },
    #[error("writing state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The lookup key of an ID: lowercased, without a trailing slash.
pub fn key_of(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

pub struct Store {
    resources: RwLock<BTreeMap<String, StoredResource>>,
    subscriptions: RwLock<BTreeSet<String>>,
    state_file: Option<PathBuf>,
    save_lock: Mutex<()>,
}

impl Store {
    /// An empty store, or the one in `state_file` when that file exists.
    pub fn open(state_file: Option<PathBuf>) -> Result<Self, StoreError> {
        let store = Store {
            resources: RwLock::new(BTreeMap::new()),
            subscriptions: RwLock::new(BTreeSet::new()),
            state_file,
            save_lock: Mutex::new(()),
        };
        if let Some(path) = &store.state_file
            && path.exists()
        {
            let snapshot = load(path)?;
            store.restore(snapshot);
        }
        Ok(store)
    }

    fn restore(&self, snapshot: StateSnapshot) {
        let mut resources = self.resources.write();
        for r in snapshot.resources {
            resources.insert(key_of(&r.id), r);
        }
        self.subscriptions.write().extend(
            snapshot
                .subscriptions
                .into_iter()
                .map(|s| s.to_ascii_lowercase()),
        );
    }

    pub fn get(&self, id: &str) -> Option<StoredResource> {
        self.resources.read().get(&key_of(id)).cloned()
    }

    /// Stores `body` under `id`; returns true when it did not exist before. The canonical ID
    /// of an existing resource is kept (ARM keeps the casing of the first write).
    pub fn put(&self, id: &str, body: Value) -> bool {
        let now = rfc3339(SystemTime::now());
        let mut resources = self.resources.write();
        match resources.get_mut(&key_of(id)) {
            Some(existing) => {
                existing.body = body;
                existing.updated = now;
                false
            }
            None => {
                resources.insert(
                    key_of(id),
                    StoredResource {
                        id: id.trim_end_matches('/').to_owned(),
                        body,
                        created: now.clone(),
                        updated: now,
                    },
                );
                true
            }
        }
    }

    pub fn delete(&self, id: &str) -> Option<StoredResource> {
        self.resources.write().remove(&key_of(id))
    }

    /// The stored resources directly under a collection ID (`{scope}/providers/NS/type`).
    pub fn children(&self, collection_id: &str) -> Vec<StoredResource> {
        let prefix = format!("{}/", key_of(collection_id));
        self.resources
            .read()
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains('/'))
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn note_subscription(&self, subscription_id: &str) -> bool {
        let key = subscription_id.to_ascii_lowercase();
        if self.subscriptions.read().contains(&key) {
            return false;
        }
        self.subscriptions.write().insert(key)
    }

    pub fn subscriptions(&self) -> Vec<String> {
        self.subscriptions.read().iter().cloned().collect()
    }

    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            format: STATE_FORMAT.to_owned(),
            subscriptions: self.subscriptions(),
            resources: self.resources.read().values().cloned().collect(),
        }
    }

    /// Writes the state file, if there is one: to a temporary file beside it, then renamed
    /// over it, so a reader never sees half a file.
    pub fn save(&self) -> Result<(), StoreError> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let _guard = self.save_lock.lock();
        let snapshot = self.snapshot();
        let text = serde_json::to_vec_pretty(&snapshot).map_err(|e| StoreError::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomically(path, &text).map_err(|source| StoreError::Write {
            path: path.clone(),
            source,
        })
    }

    /// [`Store::save`] after a request's write: a failure is logged, not answered (the
    /// emulator serves what it holds in memory).
    pub fn save_or_log(&self) {
        if let Err(e) = self.save() {
            tracing::error!(error = %e, "saving state");
        }
    }
}

fn load(path: &Path) -> Result<StateSnapshot, StoreError> {
    let text = std::fs::read(path).map_err(|source| StoreError::Read {
        path: path.to_owned(),
        source,
    })?;
    let snapshot: StateSnapshot =
        serde_json::from_slice(&text).map_err(|source| StoreError::Parse {
            path: path.to_owned(),
            source,
        })?;
    if snapshot.format != STATE_FORMAT {
        return Err(StoreError::Format {
            path: path.to_owned(),
            found: snapshot.format,
        });
    }
    Ok(snapshot)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state.json".to_owned());
    let tmp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_ids_keep_first_casing() {
        let store = Store::open(None).unwrap();
        assert!(store.put("/Subscriptions/A/providers/NS/t/Foo", json!({"v": 1})));
        assert!(!store.put("/subscriptions/a/PROVIDERS/ns/T/foo", json!({"v": 2})));
        let r = store.get("/SUBSCRIPTIONS/a/providers/ns/t/FOO").unwrap();
        assert_eq!(r.id, "/Subscriptions/A/providers/NS/t/Foo");
        assert_eq!(r.body, json!({"v": 2}));
    }

    #[test]
    fn children_are_direct_only() {
        let store = Store::open(None).unwrap();
        store.put("/s/x/providers/ns/t/a", json!(1));
        store.put("/s/x/providers/ns/t/b", json!(2));
        store.put("/s/x/providers/ns/t/b/sub/c", json!(3));
        store.put("/s/x/providers/ns/tt/d", json!(4));
        let ids: Vec<_> = store
            .children("/S/x/providers/NS/t")
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, vec!["/s/x/providers/ns/t/a", "/s/x/providers/ns/t/b"]);
    }

    #[test]
    fn save_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = Store::open(Some(path.clone())).unwrap();
        store.put("/a/B", json!({"x": true}));
        store.note_subscription("ABC");
        store.save().unwrap();
        let again = Store::open(Some(path.clone())).unwrap();
        assert_eq!(again.get("/a/b").unwrap().body, json!({"x": true}));
        assert_eq!(again.subscriptions(), vec!["abc"]);
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            Store::open(Some(path)),
            Err(StoreError::Parse { .. })
        ));
    }
}
