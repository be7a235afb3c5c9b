//! Authentication: the Entra token endpoint, IMDS, a GitHub OIDC issuer for federated flows,
//! the token store they share and ARM's bearer check.

pub mod assertion;
pub mod bearer;
pub mod entra;
pub mod imds;
pub mod jwt;
pub mod oidc;
pub mod tokens;
