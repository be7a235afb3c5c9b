//! Cloud metadata, `GET /metadata/endpoints?api-version=...`: how clients discover a custom
//! cloud (azurerm's `metadata_host`, `az cloud register --endpoint-resource-manager`).
//!
//! The shape depends on the api-version, as Azure's does:
//! - `2022-09-01`: ONE cloud object (not an array). Learned from hashicorp/go-azure-sdk
//!   `sdk/internal/metadata/client.go` (decodes a single object and its test stub serves the
//!   real AzureCloud document as an object) and from azure-cli's
//!   `_populate_from_metadata_endpoint` (passes the decoded body straight to
//!   `_arm_to_cli_mapper`, which indexes `['name']`).
//! - `2019-05-01` / `2020-06-01`: an ARRAY of cloud objects (go-azure-sdk's stub serves four
//!   clouds; azure-cli's `_convert_arm_to_cli` iterates it). The emulator lists only itself.
//! - `2018-01-01`, `2015-01-01`, `1.0`: the legacy single object with `*Endpoint` names
//!   (Azure Stack Hub still serves it).
//!
//! Field names are the real ones. Only Resource Manager and the login endpoint point at the
//! emulator; the services it does not emulate keep public-cloud values.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ArmError;
use crate::state::EmulatorState;
use crate::util::{query_get, query_pairs};

/// The cloud's `name`.
pub const CLOUD_NAME: &str = "ArmEmulator";

const SUPPORTED: &[&str] = &[
    "2022-09-01",
    "2020-06-01",
    "2019-05-01",
    "2018-01-01",
    "2015-01-01",
    "1.0",
];

pub async fn endpoints(State(state): State<Arc<EmulatorState>>, uri: Uri) -> Response {
    let query = query_pairs(uri.query());
    let Some(version) = query_get(&query, "api-version") else {
        return ArmError::MissingApiVersion.into_response();
    };
    match document(&state.base_url, version) {
        Some(doc) => Json(doc).into_response(),
        None => ArmError::InvalidApiVersion {
            given: version.to_owned(),
            supported: SUPPORTED.join(","),
        }
        .into_response(),
    }
}

/// The metadata document for `api_version`, `None` if that version is unknown.
pub fn document(base_url: &str, api_version: &str) -> Option<Value> {
    let root = format!("{base_url}/");
    match api_version {
        "2022-09-01" => Some(cloud(&root)),
        "2019-05-01" | "2020-06-01" => {
            let mut c = cloud(&root);
            c["gallery"] = json!("https://gallery.azure.com/");
            Some(json!([c]))
        }
        "2018-01-01" | "2015-01-01" | "1.0" => Some(json!({
            "galleryEndpoint": "https://gallery.azure.com/",
            "graphEndpoint": "https://graph.windows.net/",
            "portalEndpoint": "https://portal.azure.com/",
            "graphAudience": "https://graph.windows.net/",
            "authentication": {
                "loginEndpoint": root,
                "audiences": [root],
                "tenant": "common",
                "identityProvider": "AAD",
            },
        })),
        _ => None,
    }
}

fn cloud(root: &str) -> Value {
    json!({
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": root,
            "audiences": [root],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": CLOUD_NAME,
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": root,
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_by_version() {
        let base = "http://127.0.0.1:9";
        let obj = document(base, "2022-09-01").unwrap();
        assert_eq!(obj["resourceManager"], "http://127.0.0.1:9/");
        assert_eq!(obj["authentication"]["audiences"][0], "http://127.0.0.1:9/");
        assert_eq!(obj["name"], CLOUD_NAME);
        let arr = document(base, "2019-05-01").unwrap();
        assert_eq!(arr.as_array().unwrap().len(), 1);
        assert_eq!(arr[0]["authentication"]["identityProvider"], "AAD");
        assert!(document(base, "2018-01-01").unwrap()["graphEndpoint"].is_string());
        assert!(document(base, "2099-01-01").is_none());
    }
}
