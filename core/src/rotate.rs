//! Re-encrypting a SealedSecret to a newer key (`/v1/rotate` and `sealant reencrypt
//! --private-key`): one rule for the controller and the CLI, so the scope a re-sealed object is
//! bound to is decided in one place.

use std::collections::BTreeMap;

use crate::age::{ItemKind, item_kind};
use crate::item::{KeyRing, open_item};
use crate::keys::{Fingerprint, PublicKey};
use crate::object::{LAST_APPLIED_ANNOTATIONS, ObjectMeta, SealedSecret};
use crate::scope::{ANNOTATION_CLUSTER_WIDE, ANNOTATION_NAMESPACE_WIDE, Scope};
use crate::sealing::{
    KEY_HINT_ANNOTATION, SealOptions, SealingError, UnsealError, UnsealOptions, Unsealed,
    age_items, seal_secret, unseal, unseal_label,
};
use crate::selector::ANNOTATION_NAMESPACE_SELECTOR;

/// Why a SealedSecret could not be re-encrypted. Messages carry item and object names only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotateError {
    /// The SealedSecret does not unseal with any key.
    #[error(transparent)]
    Unseal(#[from] UnsealError),
    /// Sealing again failed (no name, no namespace for its scope, …).
    #[error(transparent)]
    Seal(#[from] SealingError),
}

/// A re-encrypted SealedSecret.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The new object.
    pub sealed: SealedSecret,
    /// Items opened (a lower bound of the RSA decryptions made; 1 for a v1 blob).
    pub opened: u64,
    /// `spec.template.metadata` claimed another name, namespace or scope than the top level
    /// and was aligned to it (worth a warning).
    pub template_aligned: bool,
}

/// Makes `spec.template.metadata`'s name, namespace and scope annotations those of the
/// top-level metadata, the only ones the ciphertext is bound to (CVE-2026-22728: upstream's
/// rotate took the scope from the template, so anyone could widen a strict secret). Other
/// template labels and annotations stay. Returns whether the template claimed something else.
pub fn align_template_metadata(sealed: &mut SealedSecret) -> bool {
    let top = &sealed.metadata;
    let top_scope = Scope::from_annotations(top.annotations.as_ref());
    let template = sealed
        .spec
        .template
        .metadata
        .get_or_insert_with(ObjectMeta::default);
    let differs =
        |template: &Option<String>, top: &Option<String>| template.is_some() && template != top;
    let changed = differs(&template.name, &top.name)
        || differs(&template.namespace, &top.namespace)
        || Scope::from_annotations(template.annotations.as_ref()) != top_scope
        || [
            ANNOTATION_CLUSTER_WIDE,
            ANNOTATION_NAMESPACE_WIDE,
            ANNOTATION_NAMESPACE_SELECTOR,
        ]
        .iter()
        .any(|key| {
            template.annotation(key).is_some() && template.annotation(key) != top.annotation(key)
        });
    template.name.clone_from(&top.name);
    template.namespace.clone_from(&top.namespace);
    top_scope.write_annotations(template.annotations_mut());
    // The selector binds like a scope annotation: the top-level one is what counts.
    match top.annotation(ANNOTATION_NAMESPACE_SELECTOR) {
        Some(selector) => {
            template.annotations_mut().insert(
                ANNOTATION_NAMESPACE_SELECTOR.to_owned(),
                selector.to_owned(),
            );
        }
        None => {
            template
                .annotations_mut()
                .remove(ANNOTATION_NAMESPACE_SELECTOR);
        }
    }
    if template
        .annotations
        .as_ref()
        .is_some_and(BTreeMap::is_empty)
    {
        template.annotations = None;
    }
    changed
}

/// Re-seals every item of `sealed` that `ring` opens to `newest`, keeping the scope of its
/// top-level metadata. Templates are not executed; `spec.template.data` is carried over
/// verbatim. Top-level labels and annotations are kept (upstream drops them), with the scope
/// annotation and key hint set afresh.
///
/// # Errors
/// See [`RotateError`].
pub fn reencrypt(
    sealed: &SealedSecret,
    ring: &KeyRing,
    newest: &PublicKey,
    accept_v1_data: bool,
) -> Result<Rotated, RotateError> {
    let mut sealed = sealed.clone();
    let template_aligned = align_template_metadata(&mut sealed);
    let options = UnsealOptions {
        accept_v1_data,
        render_templates: false,
    };
    let unsealed = unseal(&sealed, ring, options)?;
    let opened = opened_items(&sealed, &unsealed);
    let mut secret = unsealed.secret;
    secret.metadata.owner_references = None;
    let top = &sealed.metadata;
    let scope = Scope::from_annotations(top.annotations.as_ref());
    let seal_options = SealOptions {
        name: top.name.clone(),
        scope: Some(scope),
        namespace_flag: None,
        default_namespace: top.namespace.clone().unwrap_or_default(),
        allow_empty_data: true,
    };
    // A v1 blob's inner Secret names its own namespace; the top-level one is what counts.
    if scope != Scope::ClusterWide {
        secret.metadata.namespace.clone_from(&top.namespace);
    }
    let mut resealed = seal_secret(secret, newest, &seal_options)?;
    resealed
        .spec
        .template
        .data
        .clone_from(&sealed.spec.template.data);
    if let Some(labels) = &top.labels {
        resealed.metadata.labels = Some(labels.clone());
    }
    let kept: Vec<(String, String)> = top
        .annotations
        .iter()
        .flatten()
        .filter(|(key, _)| {
            ![
                ANNOTATION_CLUSTER_WIDE,
                ANNOTATION_NAMESPACE_WIDE,
                KEY_HINT_ANNOTATION,
            ]
            .contains(&key.as_str())
                && !LAST_APPLIED_ANNOTATIONS.contains(&key.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    resealed.metadata.annotations_mut().extend(kept);
    keep_other_recipients_items(&sealed, &unsealed.opened_with, ring, &mut resealed);
    Ok(Rotated {
        sealed: resealed,
        opened,
        template_aligned,
    })
}

/// Multi-recipient SealedSecrets: an age item does not say whom it is sealed for, so it cannot
/// be sealed again for the other clusters. Only a classic RSA `encryptedData` value that one of
/// `ring`'s RSA keys opens is re-sealed (to the newest certificate); every other value (age
/// items, and RSA items of another cluster's key opened through the `sealant.dev/age-items`
/// annotation) is kept byte for byte, as is the annotation. The values are the same, so the
/// other clusters still unseal. When nothing was re-sealed, the key hint stays as it was.
fn keep_other_recipients_items(
    sealed: &SealedSecret,
    opened_with: &BTreeMap<String, Fingerprint>,
    ring: &KeyRing,
    resealed: &mut SealedSecret,
) {
    if sealed.spec.data.is_some() {
        return;
    }
    let extra = age_items(sealed);
    let label = unseal_label(sealed);
    let mut any_resealed = false;
    for (item, original) in &sealed.spec.encrypted_data {
        let ours = crate::base64::decode(original).is_ok_and(|bytes| {
            let bytes = bytes.expose_secret();
            if item_kind(bytes) != ItemKind::RsaHybrid {
                return false;
            }
            if !extra.contains_key(item) {
                // The RSA value is the item's only source, and the unseal succeeded.
                return true;
            }
            opened_with
                .get(item)
                .and_then(|fingerprint| ring.get(fingerprint))
                .is_some_and(|key| open_item(key, &label, bytes).is_ok())
        });
        if ours {
            any_resealed = true;
        } else if let Some(value) = resealed.spec.encrypted_data.get_mut(item) {
            value.clone_from(original);
        }
    }
    if !any_resealed {
        let annotations = resealed.metadata.annotations_mut();
        match sealed.metadata.annotation(KEY_HINT_ANNOTATION) {
            Some(hint) => {
                annotations.insert(KEY_HINT_ANNOTATION.to_owned(), hint.to_owned());
            }
            None => {
                annotations.remove(KEY_HINT_ANNOTATION);
            }
        }
    }
}

/// Items opened by an unseal: a lower bound of the RSA decryptions made (failed attempts with
/// other keys are not counted).
fn opened_items(sealed: &SealedSecret, unsealed: &Unsealed) -> u64 {
    if sealed.spec.data.is_some() {
        1
    } else {
        u64::try_from(unsealed.opened_with.len()).unwrap_or(u64::MAX)
    }
}
