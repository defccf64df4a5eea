//! `--merge-into`: new or changed items sealed into an existing SealedSecret file, in the one
//! document of the file that the input names (`target`).

use std::path::Path;

use sealant_core::items::{UnchangedItems, unchanged_items};
use sealant_core::sealing::{Recipients, SealOptions, seal_secret_for};
use sealant_core::{Format, KeyRing, Scope, SealedSecret, Secret, merge_into};

use super::SealError;
use super::target::TargetFile;
use crate::error::Result;

/// Seals the one input Secret with the target document's name, namespace and scope and merges
/// the items into that document: the file's only SealedSecret, or the one with the input's
/// name and namespace. Only that document changes, edited in place (comments, key order and
/// formatting kept; rendered anew with a warning when that cannot be done safely), and the
/// file is rewritten atomically; with a `format` other than the file's own, the whole file is
/// converted.
/// `recipients` is called only once the target has been read and checked, with the namespace
/// the document is sealed for.
///
/// With `ring` (recovery keys, used here and only here), each existing item the input also
/// has is opened and compared in constant time: an unchanged value keeps its ciphertext byte
/// for byte, and a file in which nothing changed is not rewritten at all, so GitOps tools see
/// no drift. The controller is never asked whether two values are equal: that would make it a
/// decryption oracle.
///
/// With `same_identity` (`sealant seal`), an input whose name or namespace (its metadata,
/// NAME, `--name`, `-n`) contradicts the file's is refused; without it (kubeseal mode, as
/// upstream) the file's are taken.
///
/// # Errors
/// Not exactly one input Secret, an unreadable target, no document or several for the input,
/// a scope or identity conflict, sealing errors.
pub fn merge_sealed(
    target_path: &Path,
    mut secrets: Vec<Secret>,
    mut options: SealOptions,
    format: Option<Format>,
    ring: Option<&KeyRing>,
    same_identity: bool,
    recipients: impl FnOnce(&str) -> Result<Recipients>,
) -> Result<()> {
    if secrets.len() != 1 {
        return Err(SealError::MergeInputCount(secrets.len()).into());
    }
    let target_text = match crate::io::read_file_text(target_path) {
        Ok(text) => text,
        Err(crate::error::CliError::Io(err)) if !target_path.exists() => {
            return Err(SealError::MergeTargetMissing(err).into());
        }
        Err(err) => return Err(err),
    };
    let file = TargetFile::read(target_path, &target_text.text)?;
    let mut secret = secrets.remove(0);
    let doc = file.select(
        target_path,
        options.name.as_deref().or(secret.metadata.name.as_deref()),
        options
            .namespace_flag
            .as_deref()
            .or(secret.metadata.namespace.as_deref())
            .filter(|ns| !ns.is_empty()),
    )?;
    let mut target = doc.sealed.clone();

    // New items must be bound exactly as the existing ones, or the controller (which reads the
    // scope from the top-level metadata) could not open them: the target's scope and identity win.
    let target_scope = Scope::from_annotations(target.metadata.annotations.as_ref());
    let input_scope = options
        .scope
        .unwrap_or_else(|| Scope::from_annotations(secret.metadata.annotations.as_ref()));
    if input_scope != target_scope && (options.scope.is_some() || input_scope != Scope::Strict) {
        return Err(SealError::ScopeMismatch {
            path: target_path.to_path_buf(),
            target: target_scope,
            input: input_scope,
        }
        .into());
    }
    if same_identity {
        check_identity(target_path, &target, &secret, &options, target_scope)?;
    }
    options.scope = Some(target_scope);
    options.name = target.metadata.name.clone();
    if target_scope != Scope::ClusterWide || target.metadata.namespace.is_some() {
        secret.metadata.namespace = target.metadata.namespace.clone();
    }

    let recipients = recipients(&super::target_namespace(&secret, &options))?;
    // Compared before sealing, which takes the Secret: no copy of its values is needed.
    let unchanged = ring.map(|ring| unchanged_items(&target, ring, &secret.merged_items()));
    let mut update = seal_secret_for(secret, &recipients, &options)?;
    if let Some(unchanged) = &unchanged {
        let before = target.clone();
        let report = keep_unchanged_items(&target, &mut update, unchanged, target_path);
        merge_into(&mut target, update);
        if target == before {
            eprintln!(
                "{}: unchanged (every value is the same; the file was not rewritten)",
                target_path.display()
            );
            return Ok(());
        }
        eprintln!("{report}");
    } else {
        merge_into(&mut target, update);
    }
    let (text, anew) = file.rewrite(doc, &target, format.unwrap_or(file.format()))?;
    crate::io::write_file_atomic(target_path, text.as_bytes())?;
    let path = target_path.display();
    if anew {
        eprintln!(
            "warning: document {} of {path} could not be edited in place and was rendered anew: its comments and formatting are not kept",
            doc.index
        );
    }
    eprintln!(
        "updated document {} ({}) in {path}",
        doc.index,
        doc.describe()
    );
    Ok(())
}

/// Refuses an input that names another Secret than the file: a name for a strict file, a
/// namespace for a strict or namespace-wide one (the scope decides what binds).
fn check_identity(
    path: &Path,
    target: &SealedSecret,
    secret: &Secret,
    options: &SealOptions,
    scope: Scope,
) -> Result<()> {
    let given = |flag: &Option<String>, meta: &Option<String>| {
        flag.clone()
            .or_else(|| meta.clone())
            .filter(|value| !value.is_empty())
    };
    let checks = [
        (
            "name",
            scope == Scope::Strict,
            given(&options.name, &secret.metadata.name),
            &target.metadata.name,
        ),
        (
            "namespace",
            scope != Scope::ClusterWide,
            given(&options.namespace_flag, &secret.metadata.namespace),
            &target.metadata.namespace,
        ),
    ];
    for (what, binds, input, target) in checks {
        if let (true, Some(input), Some(target)) = (binds, input, target)
            && &input != target
        {
            return Err(SealError::MergeIdentityMismatch {
                path: path.to_path_buf(),
                what,
                target: target.clone(),
                input,
            }
            .into());
        }
    }
    Ok(())
}

/// Puts the existing ciphertext back into `update` for every item found `unchanged`
/// (`sealant_core::items::keep_unchanged_items`), warns about items no key opens,
/// and returns what was kept, sealed again and added (names only).
fn keep_unchanged_items(
    target: &SealedSecret,
    update: &mut SealedSecret,
    unchanged: &UnchangedItems,
    target_path: &Path,
) -> String {
    let report = sealant_core::items::keep_unchanged_items(target, update, unchanged);
    for item in &report.unopened {
        eprintln!(
            "warning: the given keys cannot open item {item:?} of {}; it is sealed again",
            target_path.display()
        );
    }
    let list = |names: &[String]| {
        if names.is_empty() {
            "-".to_owned()
        } else {
            names.join(", ")
        }
    };
    format!(
        "{}: unchanged: {}; sealed again: {}; added: {}",
        target_path.display(),
        list(&report.kept),
        list(&report.resealed),
        list(&report.added)
    )
}
