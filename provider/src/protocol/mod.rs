//! The tfplugin6 server: handshake, AutoMTLS, gRPC services, logging and the value codec.
//! Knows nothing of Azure.

pub mod diag;
pub mod handshake;
pub mod logging;
pub mod server;
pub mod tls;
pub mod value;

/// Messages and services generated from `proto/tfplugin6.proto`.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's controller and stdio services, generated from `proto/goplugin.proto`.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod goplugin {
    tonic::include_proto!("plugin");
}
