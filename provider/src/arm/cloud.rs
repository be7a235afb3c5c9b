//! Clouds: where ARM and Entra ID live, and which token scope ARM wants.
//!
//! Three well-known clouds (`public`, `usgovernment`, `china`: the values azurerm accepts for
//! `environment`) and discovery from a metadata host (`metadata_host` / `ARM_METADATA_HOSTNAME`)
//! for custom clouds, Azure Stack Hub and the local emulator.
//!
//! # The http rule
//!
//! Plain `http` is allowed only for loopback hosts (`127.0.0.0/8`, `::1`, `localhost`): a
//! bearer token must never cross a network in clear text. So:
//!
//! - `metadata_host = "https://host[:port]"`: https, always fine.
//! - `metadata_host = "http://127.0.0.1:8080"`: http, allowed because the host is loopback.
//! - `metadata_host = "host[:port]"` (azurerm's form, a bare host): https, unless the host is
//!   loopback, then http (the emulator serves plain http on loopback) — go-azure-sdk's
//!   `FromMetadataEndpoint` makes the same choice for `localhost`/`127.` prefixes.
//! - anything else (`http://` to a non-loopback host, `ftp://`, ...) is an error naming
//!   `metadata_host`.
//!
//! The same rule is applied to the `resourceManager` and `loginEndpoint` the metadata answer
//! names, so a metadata host cannot redirect tokens to a clear-text endpoint.

use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;
use url::{Host, Url};

/// The metadata API version whose answer shape we parse (go-azure-sdk
/// `sdk/internal/metadata/client.go` uses the same).
pub const METADATA_API_VERSION: &str = "2022-09-01";

/// An Azure cloud: the ARM endpoint, the Entra ID (login) endpoint and ARM's token audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    /// `public`, `usgovernment`, `china`, or the name the metadata host gave (`AzureCloud`, …).
    pub name: String,
    /// ARM endpoint, e.g. `https://management.azure.com/` (always ends with `/`).
    pub resource_manager: Url,
    /// Entra ID authority host, e.g. `https://login.microsoftonline.com/` (always ends with `/`).
    pub login: Url,
    /// The audience ARM tokens are issued for, without trailing `/`, e.g.
    /// `https://management.azure.com`. The scope is `{token_audience}/.default`.
    pub token_audience: String,
}

/// Errors resolving a cloud; each names the attribute it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// `environment` is not one of the known clouds.
    #[error(
        "environment: unknown cloud {0:?}; possible values are \"public\", \"usgovernment\", \"china\" and \"custom\" (with resource_manager_endpoint and active_directory_authority_host; or use metadata_host for a custom cloud)"
    )]
    UnknownEnvironment(String),
    /// A URL or host is malformed, or breaks the http rule.
    #[error("{attribute}: {message}")]
    InvalidEndpoint {
        /// The attribute, e.g. `metadata_host`.
        attribute: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The metadata host could not be reached or answered with an error.
    #[error("metadata_host: retrieving cloud metadata from {url}: {message}")]
    Discovery {
        /// The metadata URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}

impl CloudError {
    /// The provider attribute the error is about.
    pub fn attribute(&self) -> &'static str {
        match self {
            CloudError::UnknownEnvironment(_) => "environment",
            CloudError::InvalidEndpoint { attribute, .. } => attribute,
            CloudError::Discovery { .. } => "metadata_host",
        }
    }
}

impl Cloud {
    /// Azure public cloud.
    pub fn public() -> Cloud {
        Self::well_known(
            "public",
            "https://management.azure.com/",
            "https://login.microsoftonline.com/",
        )
    }

    /// Azure US Government.
    pub fn usgovernment() -> Cloud {
        Self::well_known(
            "usgovernment",
            "https://management.usgovcloudapi.net/",
            "https://login.microsoftonline.us/",
        )
    }

    /// Azure operated by 21Vianet (China).
    pub fn china() -> Cloud {
        Self::well_known(
            "china",
            "https://management.chinacloudapi.cn/",
            "https://login.chinacloudapi.cn/",
        )
    }

    fn well_known(name: &str, rm: &str, login: &str) -> Cloud {
        // Constants: parsing cannot fail.
        let resource_manager = Url::parse(rm).unwrap_or_else(|_| unreachable!("constant URL"));
        let login = Url::parse(login).unwrap_or_else(|_| unreachable!("constant URL"));
        Cloud {
            name: name.to_owned(),
            token_audience: rm.trim_end_matches('/').to_owned(),
            resource_manager,
            login,
        }
    }

    /// A cloud by azurerm's `environment` names (`public`, `usgovernment`, `china`; case does
    /// not matter), also accepting the Azure CLI names (`AzureCloud`, `AzureUSGovernment`,
    /// `AzureChinaCloud`).
    pub fn from_name(name: &str) -> Result<Cloud, CloudError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "public" | "azurecloud" | "azurepubliccloud" => Ok(Cloud::public()),
            "usgovernment" | "azureusgovernment" | "azureusgovernmentcloud" => {
                Ok(Cloud::usgovernment())
            }
            "china" | "azurechinacloud" => Ok(Cloud::china()),
            _ => Err(CloudError::UnknownEnvironment(name.to_owned())),
        }
    }

    /// A cloud from explicit endpoints (`resource_manager_endpoint`,
    /// `active_directory_authority_host` and `resource_manager_audience`, azapi's names, or
    /// tests): no discovery, no network. Both endpoints must satisfy the http rule; errors name
    /// the provider attribute. `token_audience` defaults to the resource manager's origin.
    pub fn custom(
        name: &str,
        resource_manager: &str,
        login: &str,
        token_audience: Option<&str>,
    ) -> Result<Cloud, CloudError> {
        let resource_manager = endpoint("resource_manager_endpoint", resource_manager)?;
        let login = endpoint("active_directory_authority_host", login)?;
        let token_audience = match token_audience.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => audience(a)?,
            None => resource_manager.as_str().trim_end_matches('/').to_owned(),
        };
        Ok(Cloud {
            name: name.to_owned(),
            resource_manager,
            login,
            token_audience,
        })
    }

    /// The token scope for ARM: `{audience}/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.token_audience)
    }

    /// Whether ARM is on a loopback host (the emulator): short poll intervals, no proxy.
    pub fn is_loopback(&self) -> bool {
        is_loopback_url(&self.resource_manager)
    }

    /// The metadata URL for `metadata_host`, applying the http rule (see the module docs).
    pub fn metadata_url(metadata_host: &str) -> Result<Url, CloudError> {
        let raw = metadata_host.trim();
        if raw.is_empty() {
            return Err(invalid("metadata_host", "must not be empty"));
        }
        let base = if raw.contains("://") {
            let url = Url::parse(raw).map_err(|e| {
                invalid("metadata_host", format!("{raw:?} is not a valid URL: {e}"))
            })?;
            check_scheme("metadata_host", &url)?;
            url
        } else {
            let https = Url::parse(&format!("https://{raw}")).map_err(|e| {
                invalid(
                    "metadata_host",
                    format!("{raw:?} is not a valid host name: {e}"),
                )
            })?;
            if https.path() != "/" || https.query().is_some() {
                return Err(invalid(
                    "metadata_host",
                    format!(
                        "{raw:?} should be a host name (optionally with a port), not a URL with a path"
                    ),
                ));
            }
            if is_loopback_url(&https) {
                let mut http = https;
                http.set_scheme("http")
                    .map_err(|_| invalid("metadata_host", "cannot use http"))?;
                http
            } else {
                https
            }
        };
        let mut url = base;
        url.set_path("/metadata/endpoints");
        url.set_query(Some(&format!("api-version={METADATA_API_VERSION}")));
        url.set_fragment(None);
        Ok(url)
    }

    /// Discovers the cloud from `metadata_host` (custom clouds, Azure Stack Hub, the emulator):
    /// `GET {scheme}://{host}/metadata/endpoints?api-version=2022-09-01`.
    pub async fn discover(metadata_host: &str) -> Result<Cloud, CloudError> {
        let url = Self::metadata_url(metadata_host)?;
        let mut builder = crate::crypto::https_client_builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true);
        if is_loopback_url(&url) {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| CloudError::Discovery {
            url: url.to_string(),
            message: super::error::chain(&e),
        })?;
        let mut last = String::new();
        // A few quick tries: the emulator may still be binding when Terraform starts us.
        for attempt in 1..=3u32 {
            match client.get(url.clone()).send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.map_err(|e| CloudError::Discovery {
                        url: url.to_string(),
                        message: super::error::chain(&e),
                    })?;
                    if status == 200 {
                        return Self::from_metadata(&url, &body);
                    }
                    last = format!(
                        "unexpected status {status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(512)])
                    );
                    if !(status >= 500 || status == 429) {
                        break;
                    }
                }
                Err(e) => last = super::error::chain(&e),
            }
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
        Err(CloudError::Discovery {
            url: url.to_string(),
            message: last,
        })
    }

    /// Parses a metadata answer fetched from `metadata_url`. The 2022-09-01 answer is one cloud
    /// object (go-azure-sdk's test fixture `metadata20220901`), the 2019-05-01 one an array of
    /// them; both are accepted. From an array, the entry whose `resourceManager` host matches the
    /// metadata host is taken, else the only entry.
    pub fn from_metadata(metadata_url: &Url, body: &[u8]) -> Result<Cloud, CloudError> {
        let discovery = |message: String| CloudError::Discovery {
            url: metadata_url.to_string(),
            message,
        };
        // Azure Stack Hub answers with a UTF-8 BOM (go-azure-sdk trims it too).
        let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| discovery(format!("the answer is not JSON: {e}")))?;
        let entries: Vec<MetadataEntry> = match value {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<_, _>>()
                .map_err(|e| discovery(format!("unexpected metadata shape: {e}")))?,
            obj @ serde_json::Value::Object(_) => vec![
                serde_json::from_value(obj)
                    .map_err(|e| discovery(format!("unexpected metadata shape: {e}")))?,
            ],
            _ => {
                return Err(discovery(
                    "expected a cloud object or an array of them".into(),
                ));
            }
        };
        let host = metadata_url.host_str().unwrap_or_default();
        let port = metadata_url.port_or_known_default();
        let matches_host = |e: &&MetadataEntry| {
            e.resource_manager
                .as_deref()
                .and_then(|rm| Url::parse(rm).ok())
                .is_some_and(|u| {
                    u.host_str().is_some_and(|h| h.eq_ignore_ascii_case(host))
                        && u.port_or_known_default() == port
                })
        };
        let entry = match entries.iter().find(matches_host) {
            Some(e) => e,
            None if entries.len() == 1 => &entries[0],
            None => {
                let names: Vec<&str> = entries
                    .iter()
                    .map(|e| e.name.as_deref().unwrap_or("?"))
                    .collect();
                return Err(discovery(format!(
                    "{} clouds listed ({}) and none has resourceManager on {host}",
                    entries.len(),
                    names.join(", ")
                )));
            }
        };
        // go-azure-sdk: "if resourceManager endpoint is empty, assume it's the same endpoint".
        let rm = match entry.resource_manager.as_deref().filter(|s| !s.is_empty()) {
            Some(rm) => rm.to_owned(),
            None => format!(
                "{}://{}/",
                metadata_url.scheme(),
                metadata_url
                    .host_str()
                    .map(|h| match metadata_url.port() {
                        Some(p) => format!("{h}:{p}"),
                        None => h.to_owned(),
                    })
                    .unwrap_or_default()
            ),
        };
        let login = entry
            .authentication
            .as_ref()
            .and_then(|a| a.login_endpoint.clone())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| discovery("authentication.loginEndpoint is missing".into()))?;
        let resource_manager = endpoint_named("metadata_host", "resourceManager", &rm)?;
        let login = endpoint_named("metadata_host", "authentication.loginEndpoint", &login)?;
        // Audience: the one on the resource manager's host if listed (public cloud lists
        // `management.core.windows.net/` first, the classic audience), else the first, else the
        // resource manager itself.
        let audiences: Vec<&str> = entry
            .authentication
            .as_ref()
            .map(|a| a.audiences.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let rm_host = resource_manager.host_str().unwrap_or_default();
        let audience = audiences
            .iter()
            .find(|a| {
                Url::parse(a)
                    .ok()
                    .and_then(|u| u.host_str().map(|h| h.eq_ignore_ascii_case(rm_host)))
                    .unwrap_or(false)
            })
            .or(audiences.first())
            .map(|a| a.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| resource_manager.as_str().trim_end_matches('/').to_owned());
        Ok(Cloud {
            name: entry
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| host.to_owned()),
            resource_manager,
            login,
            token_audience: audience,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataEntry {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    resource_manager: Option<String>,
    #[serde(default)]
    authentication: Option<MetadataAuthentication>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataAuthentication {
    #[serde(default)]
    login_endpoint: Option<String>,
    #[serde(default)]
    audiences: Vec<String>,
}

fn invalid(attribute: &'static str, message: impl Into<String>) -> CloudError {
    CloudError::InvalidEndpoint {
        attribute,
        message: message.into(),
    }
}

/// Whether the URL's host is loopback: `127.0.0.0/8`, `::1`, or `localhost`.
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        None => false,
    }
}

/// https always; http only to a loopback host; nothing else.
pub(crate) fn check_scheme(attribute: &'static str, url: &Url) -> Result<(), CloudError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_url(url) => Ok(()),
        "http" => Err(invalid(
            attribute,
            format!(
                "{url} uses plain http; http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost), use https"
            ),
        )),
        other => Err(invalid(
            attribute,
            format!(
                "{url} has scheme {other:?}; only https (or http to a loopback host) is allowed"
            ),
        )),
    }
}

pub(crate) fn endpoint(attribute: &'static str, raw: &str) -> Result<Url, CloudError> {
    let mut url = Url::parse(raw.trim())
        .map_err(|e| invalid(attribute, format!("{raw:?} is not a valid URL: {e}")))?;
    check_scheme(attribute, &url)?;
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// `resource_manager_audience`: an absolute URI (`https://management.core.windows.net/`) or an
/// application ID URI; kept without its trailing `/`, since the scope appends `/.default`.
pub(crate) fn audience(raw: &str) -> Result<String, CloudError> {
    let url = Url::parse(raw).map_err(|e| {
        invalid(
            "resource_manager_audience",
            format!("{raw:?} is not a URI (e.g. \"https://management.core.windows.net/\"): {e}"),
        )
    })?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "resource_manager_audience",
            format!("{raw:?} must not have a query or a fragment"),
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

fn endpoint_named(attribute: &'static str, field: &str, raw: &str) -> Result<Url, CloudError> {
    endpoint(attribute, raw).map_err(|e| match e {
        CloudError::InvalidEndpoint { attribute, message } => CloudError::InvalidEndpoint {
            attribute,
            message: format!("the metadata's {field}: {message}"),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_clouds() {
        let p = Cloud::from_name("public").unwrap();
        assert_eq!(p.resource_manager.as_str(), "https://management.azure.com/");
        assert_eq!(p.login.as_str(), "https://login.microsoftonline.com/");
        assert_eq!(p.scope(), "https://management.azure.com/.default");
        assert_eq!(
            Cloud::from_name("USGovernment").unwrap().scope(),
            "https://management.usgovcloudapi.net/.default"
        );
        assert_eq!(
            Cloud::from_name("china").unwrap().login.as_str(),
            "https://login.chinacloudapi.cn/"
        );
        let e = Cloud::from_name("german").unwrap_err().to_string();
        assert!(
            e.starts_with("environment: unknown cloud \"german\""),
            "{e}"
        );
    }

    #[test]
    fn metadata_url_http_rule() {
        let u = |s: &str| {
            Cloud::metadata_url(s)
                .map(|u| u.to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            u("management.local.azurestack.external").unwrap(),
            "https://management.local.azurestack.external/metadata/endpoints?api-version=2022-09-01"
        );
        assert_eq!(
            u("127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/metadata/endpoints?api-version=2022-09-01"
        );
        assert_eq!(
            u("localhost:1").unwrap(),
            "http://localhost:1/metadata/endpoints?api-version=2022-09-01"
        );
        assert_eq!(
            u("[::1]:9").unwrap(),
            "http://[::1]:9/metadata/endpoints?api-version=2022-09-01"
        );
        assert_eq!(
            u("http://127.0.0.2:80").unwrap(),
            "http://127.0.0.2/metadata/endpoints?api-version=2022-09-01"
        );
        assert_eq!(
            u("https://example.com").unwrap(),
            "https://example.com/metadata/endpoints?api-version=2022-09-01"
        );
        let e = u("http://example.com").unwrap_err();
        assert!(e.starts_with("metadata_host: "), "{e}");
        assert!(e.contains("only allowed for loopback"), "{e}");
        let e = u("http://10.0.0.1:8080").unwrap_err();
        assert!(e.contains("only allowed for loopback"), "{e}");
        assert!(u("ftp://127.0.0.1").is_err());
        assert!(u("").is_err());
    }

    // The 2022-09-01 public-cloud answer, as in go-azure-sdk's metadata client test fixture.
    const PUBLIC_2022: &str = r#"{"portal":"https://portal.azure.com","authentication":{"loginEndpoint":"https://login.microsoftonline.com","audiences":["https://management.core.windows.net/","https://management.azure.com/"],"tenant":"common","identityProvider":"AAD"},"name":"AzureCloud","resourceManager":"https://management.azure.com/","microsoftGraphResourceId":"https://graph.microsoft.com/"}"#;

    #[test]
    fn parses_single_object() {
        let url = Cloud::metadata_url("management.azure.com").unwrap();
        let c = Cloud::from_metadata(&url, PUBLIC_2022.as_bytes()).unwrap();
        assert_eq!(c.name, "AzureCloud");
        assert_eq!(c.resource_manager.as_str(), "https://management.azure.com/");
        assert_eq!(c.login.as_str(), "https://login.microsoftonline.com/");
        assert_eq!(c.scope(), "https://management.azure.com/.default");
    }

    #[test]
    fn picks_matching_entry_from_array_and_strips_bom() {
        let body = format!(
            "\u{feff}[{PUBLIC_2022},{}]",
            r#"{"name":"AzureChinaCloud","resourceManager":"https://management.chinacloudapi.cn","authentication":{"loginEndpoint":"https://login.chinacloudapi.cn","audiences":["https://management.core.chinacloudapi.cn","https://management.chinacloudapi.cn"]}}"#
        );
        let url = Cloud::metadata_url("management.chinacloudapi.cn").unwrap();
        let c = Cloud::from_metadata(&url, body.as_bytes()).unwrap();
        assert_eq!(c.name, "AzureChinaCloud");
        assert_eq!(
            c.resource_manager.as_str(),
            "https://management.chinacloudapi.cn/"
        );
        assert_eq!(c.scope(), "https://management.chinacloudapi.cn/.default");
        let other = Cloud::metadata_url("example.org").unwrap();
        assert!(Cloud::from_metadata(&other, body.as_bytes()).is_err());
    }

    #[test]
    fn discovered_endpoints_obey_http_rule() {
        let url = Cloud::metadata_url("127.0.0.1:9999").unwrap();
        let ok = r#"[{"name":"emu","resourceManager":"http://127.0.0.1:9999/","authentication":{"loginEndpoint":"http://127.0.0.1:9999/","audiences":["http://127.0.0.1:9999/"]}}]"#;
        let c = Cloud::from_metadata(&url, ok.as_bytes()).unwrap();
        assert!(c.is_loopback());
        assert_eq!(c.scope(), "http://127.0.0.1:9999/.default");
        let bad = r#"{"name":"evil","resourceManager":"http://127.0.0.1:9999/","authentication":{"loginEndpoint":"http://login.example.com/"}}"#;
        let e = Cloud::from_metadata(&url, bad.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("loginEndpoint"), "{e}");
    }
}
