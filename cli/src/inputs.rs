//! Reading the Secrets and SealedSecrets of the inputs, naming the input in errors.

use sealant_core::object::{read_documents, read_key_secrets, read_sealed_secrets, read_secrets};
use sealant_core::{FormatError, SealedSecret, Secret};

use crate::error::Result;
use crate::io::Input;

pub use crate::error::InputError;

/// Reads every Secret of the inputs: Secret documents, or `kind: List` documents of Secrets
/// (what `kubectl get secret -o yaml` prints for several). None at all is upstream's
/// `no secrets found` error.
///
/// # Errors
/// Malformed inputs (naming where), or no Secret.
pub fn parse_secrets(inputs: Vec<Input>) -> Result<Vec<Secret>> {
    let secrets = read_each(inputs, read_secrets_or_lists)?;
    if secrets.is_empty() {
        return Err(InputError::NoSecrets.into());
    }
    Ok(secrets)
}

/// Reads every SealedSecret of the inputs.
///
/// # Errors
/// Malformed inputs (naming where), or none at all.
pub fn parse_sealed(inputs: Vec<Input>) -> Result<Vec<SealedSecret>> {
    let all = read_each(inputs, read_sealed_secrets)?;
    if all.is_empty() {
        return Err(InputError::NoSealedSecrets.into());
    }
    Ok(all)
}

/// Secrets of one input; a text holding a `List` is read item by item.
fn read_secrets_or_lists(text: &str) -> std::result::Result<Vec<Secret>, FormatError> {
    let is_list = |document: &serde_json::Value| {
        document.get("kind").and_then(serde_json::Value::as_str) == Some("List")
    };
    // A text that does not parse here fails the same way in `read_secrets`, with its message.
    let has_list = read_documents::<serde_json::Value>(text)
        .is_ok_and(|documents| documents.iter().any(is_list));
    if has_list {
        read_key_secrets(text)
    } else {
        read_secrets(text)
    }
}

/// Reads the objects of every input with `read`, naming the input in errors.
fn read_each<T>(
    inputs: Vec<Input>,
    read: fn(&str) -> std::result::Result<Vec<T>, FormatError>,
) -> Result<Vec<T>, InputError> {
    let mut all = Vec::new();
    for input in inputs {
        all.append(
            &mut read(&input.text).map_err(|source| InputError::Malformed {
                origin: input.origin.clone(),
                source,
            })?,
        );
    }
    Ok(all)
}

/// `namespace/name`, or the name alone, for messages.
pub(crate) fn describe(sealed: &SealedSecret) -> String {
    match &sealed.metadata.namespace {
        Some(ns) => format!("{ns}/{}", sealed.metadata.name_or_empty()),
        None => sealed.metadata.name_or_empty().to_owned(),
    }
}

/// The SealedSecret as compact JSON, as the controller's API takes it.
///
/// # Errors
/// Only if serialization fails.
pub(crate) fn compact_json(sealed: &SealedSecret) -> Result<Vec<u8>> {
    Ok(
        serde_json::to_vec(sealed).map_err(|source| crate::error::IoError::Encode {
            what: "SealedSecret",
            source,
        })?,
    )
}
