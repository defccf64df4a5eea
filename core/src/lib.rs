//! sealant-core: the sealing format, keys and object model of sealant.
//!
//! Byte-compatible with upstream Bitnami Sealed Secrets. This crate does no I/O: it takes bytes
//! and types and returns bytes and types, so the CLI and the controller share one
//! implementation of every format, key rule and scope rule.
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

pub mod age;
pub mod backup;
pub mod base64;
pub mod error;
pub mod inspect;
pub mod item;
pub mod items;
pub mod keys;
pub mod keysecret;
pub mod object;
pub mod rollout;
pub mod rotate;
pub mod scope;
pub mod sealing;
pub mod secret;
pub mod selector;
pub mod sync;
pub mod template;
pub mod tenant;
pub mod yaml;

pub use age::{AgeIdentity, AgeRecipient, IdentityKind};
pub use error::{DecryptError, SealError};
pub use item::{KeyRing, open_item, seal_item};
pub use keys::{
    Certificate, Fingerprint, KeyError, KeyGenOptions, PrivateKey, PublicKey, generate_key,
};
pub use object::{Format, FormatError, ObjectMeta, SealedSecret, Secret};
pub use scope::Scope;
pub use sealing::{
    Layout, Recipients, SealOptions, SealingError, UnsealError, UnsealOptions, Unsealed,
    merge_into, seal_secret, seal_secret_for, unseal,
};
pub use secret::{SecretBytes, SecretString};
pub use selector::{Selector, SelectorError};
pub use tenant::{KeyOwner, TenantName, TenantNameError};
