//! Authentication: the Entra token endpoint, IMDS, a GitHub OIDC issuer for federated flows,
//! the token store they share and ARM's bearer check.

pub mod assertion;
pub mod bearer;
pub mod entra;
pub mod imds;
pub mod jwt;
pub mod oidc;
pub mod tokens;

use crate::state::EmulatorState;

/// Whether `url` points at this emulator: any loopback name (`localhost`, `127.0.0.1`, `[::1]`)
/// with the port it listens on.
pub(crate) fn is_own_url(state: &EmulatorState, url: &url::Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    loopback && url.port_or_known_default() == Some(state.port)
}
