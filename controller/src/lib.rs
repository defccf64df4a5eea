//! sealant-controller: the in-cluster half of sealant.
//!
//! So far: the `SealedSecret` custom resource, with a schema equivalent to upstream's so that
//! both controllers can serve the same objects.
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

pub mod crd;
