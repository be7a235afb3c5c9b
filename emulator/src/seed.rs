//! `--seed-examples DIR`: the GET answers of REST API example files (the
//! `rest-api-examples` layout, `x-ms-examples` JSON with `parameters` and `responses`)
//! become the bodies singletons have before any write, in every subscription.
//!
//! Only files whose name starts with `Get` or `List` are read (their 200 body is a GET
//! answer); filtered lists (a `$filter` parameter) are skipped; only subscription-scope
//! instances of registered singleton names are taken. Precedence when examples disagree: a
//! single-resource GET over a list item (INDEX.md of the examples states the same rule).
//! The example's `id` and `name` are replaced by the subscription's own; everything else is
//! kept as published.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::arm::path::{self, ScopeKind};
use crate::types::{self, ResourceRef, TypeSpec};

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("reading examples folder {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Seeded singleton bodies by (lowercased full type, lowercased name).
#[derive(Default, Debug)]
pub struct Seeds {
    bodies: HashMap<(String, String), (u8, Value)>,
}

const PRIORITY_LIST_ITEM: u8 = 1;
const PRIORITY_SINGLE_GET: u8 = 2;

impl Seeds {
    /// Reads every example under `dir` (recursively). Unreadable or unparsable files are
    /// skipped with a warning; an unreadable folder is an error.
    pub fn load(dir: &Path) -> Result<Self, SeedError> {
        let mut seeds = Seeds::default();
        let mut files = Vec::new();
        collect_json_files(dir, &mut files)?;
        files.sort();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if !(name.starts_with("get") || name.starts_with("list")) {
                continue;
            }
            let parsed: Value = match std::fs::read(&file)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                Some(v) => v,
                None => {
                    tracing::warn!(file = %file.display(), "skipping unreadable example");
                    continue;
                }
            };
            seeds.take_example(&parsed);
        }
        Ok(seeds)
    }

    fn take_example(&mut self, example: &Value) {
        if example
            .get("parameters")
            .and_then(|p| p.get("$filter"))
            .is_some()
        {
            return;
        }
        let Some(body) = example.pointer("/responses/200/body") else {
            return;
        };
        match body.get("value").and_then(Value::as_array) {
            Some(items) => {
                for item in items {
                    self.take_item(item, PRIORITY_LIST_ITEM);
                }
            }
            None => self.take_item(body, PRIORITY_SINGLE_GET),
        }
    }

    fn take_item(&mut self, item: &Value, priority: u8) {
        let Some(id) = item.get("id").and_then(Value::as_str) else {
            return;
        };
        // One published list item has an `id` without the leading '/' (INDEX.md quirks).
        let id = if id.starts_with('/') {
            id.to_owned()
        } else {
            format!("/{id}")
        };
        let Some(parsed) = path::parse(&id) else {
            return;
        };
        let Some(provider) = parsed.provider else {
            return;
        };
        if parsed.scope != ScopeKind::Subscription || provider.is_collection() {
            return;
        }
        let Some(spec) = types::find(&provider.namespace, &provider.types) else {
            return;
        };
        let Some(name) = provider.names.last().and_then(|n| spec.singleton_name(n)) else {
            return;
        };
        let key = (
            spec.full_type.to_ascii_lowercase(),
            name.to_ascii_lowercase(),
        );
        match self.bodies.get(&key) {
            Some((existing, _)) if *existing >= priority => {}
            _ => {
                self.bodies.insert(key, (priority, item.clone()));
            }
        }
    }

    /// The seeded body of a singleton, rewritten for `resource`.
    pub fn default_for(&self, spec: &TypeSpec, resource: &ResourceRef) -> Option<Value> {
        let key = (
            spec.full_type.to_ascii_lowercase(),
            resource.name.to_ascii_lowercase(),
        );
        let (_, body) = self.bodies.get(&key)?;
        let mut body = body.clone();
        if let Some(obj) = body.as_object_mut() {
            obj.insert("id".to_owned(), Value::String(resource.id.clone()));
            obj.insert("name".to_owned(), Value::String(resource.name.clone()));
        }
        Some(body)
    }

    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }
}

fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SeedError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SeedError::Read {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_get_beats_list_and_ids_are_rewritten() {
        let mut seeds = Seeds::default();
        let id = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/providers/Microsoft.Security/autoProvisioningSettings/default";
        seeds.take_example(&json!({"parameters": {}, "responses": {"200": {"body": {
            "value": [{"id": id, "name": "default", "properties": {"autoProvision": "Off"}}]}}}}));
        seeds.take_example(&json!({"parameters": {}, "responses": {"200": {"body":
            {"id": id, "name": "default", "properties": {"autoProvision": "On"}}}}}));
        seeds.take_example(&json!({"parameters": {}, "responses": {"200": {"body": {
            "value": [{"id": id, "name": "default", "properties": {"autoProvision": "X"}}]}}}}));
        let spec = &crate::types::auto_provisioning_settings::SPEC;
        let r = ResourceRef {
            id: "/subscriptions/mine/providers/Microsoft.Security/autoProvisioningSettings/default"
                .into(),
            name: "default".into(),
            resource_type: spec.full_type,
            scope_id: "/subscriptions/mine".into(),
            subscription: Some("mine".into()),
            resource_group: None,
        };
        let body = seeds.default_for(spec, &r).unwrap();
        assert_eq!(body["properties"]["autoProvision"], "On");
        assert_eq!(body["id"], r.id);
    }
}
