//! What the emulator's long-running operations share (a Log Analytics workspace's PUT and
//! DELETE, an Azure Policy evaluation scan): a record stored under the operation's URL that
//! counts its observations down (`_emulator.observationsLeft`) and then finishes, so clients
//! exercise their polling without the emulator running timers (arm-api.md 13.4).

use std::time::SystemTime;

use axum::http::HeaderValue;
use serde_json::{Value, json};

use crate::state::EmulatorState;
use crate::util::rfc3339;

/// The URL of an operation's status or result (`Azure-AsyncOperation`, `Location`).
pub fn url(state: &EmulatorState, id: &str, api_version: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{}{id}?api-version={api_version}", state.base_url)).ok()
}

/// One observation of the operation record stored under `id`: counts down, or, when no
/// observations are left, runs `finish` with the record's `_emulator` member and marks the
/// record `Succeeded`. Returns the record after the observation; a finished record is left as
/// it is.
pub fn observe(
    state: &EmulatorState,
    id: &str,
    mut record: Value,
    finish: impl FnOnce(&Value),
) -> Value {
    if record["status"] != "InProgress" {
        return record;
    }
    let left = record["_emulator"]["observationsLeft"]
        .as_u64()
        .unwrap_or(0);
    if left > 0 {
        record["_emulator"]["observationsLeft"] = json!(left - 1);
    } else {
        finish(&record["_emulator"]);
        record["status"] = json!("Succeeded");
        record["endTime"] = json!(rfc3339(SystemTime::now()));
    }
    state.store.put(id, record.clone());
    state.store.save_or_log();
    record
}
