//! sealant's Kubernetes layer: what the CLI and the controller both need to talk to a cluster,
//! written once (docs/architecture.md).
//!
//! - [`crd`]: the SealedSecret custom resource (the typed object, its CRD and `deploy/crd.yaml`'s
//!   text) and its conversion to core's model;
//! - [`convert`]: core Secrets to and from `k8s_openapi`'s, typed, values kept in zeroizing
//!   buffers ([`plain::PlainSecret`]);
//! - [`error`]: what a `kube::Error` means (status code, message, whether retrying can help);
//! - [`keys`]: key Secrets: listing, reading them into typed records, and the one rule for
//!   which key seals.
//!
//! No tokio runtime, no clap: I/O stays with the callers.

#![forbid(unsafe_code)]

pub mod convert;
pub mod crd;
pub mod error;
pub mod keys;
pub mod plain;

pub use convert::ConvertError;
pub use error::KubeError;
pub use plain::PlainSecret;
