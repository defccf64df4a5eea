//! age recipients and identities given on the command line, and opening key backups.

use std::path::{Path, PathBuf};

use sealant_core::age::{AgeIdentity, AgeRecipient, parse_identities, parse_recipients};
use sealant_core::backup::open_backup;
use sealant_core::{KeyRing, Secret};

use crate::error::{CliError, Result, with_sources};

/// Parses `--recipient` values and `--recipients-file` files.
///
/// # Errors
/// A recipient that does not parse (with the file and line), an unreadable or empty file.
pub fn age_recipients(values: &[String], files: &[PathBuf]) -> Result<Vec<AgeRecipient>> {
    let hint = "an age recipient is age1… (X25519, e.g. from `sealant cert --age` or age-keygen) or age1pq1… (post-quantum)";
    let mut recipients = Vec::new();
    for value in values {
        let recipient = value.trim().parse::<AgeRecipient>().map_err(|e| {
            CliError::usage(format!(
                "--recipient {}: {}",
                shorten(value),
                with_sources(&e)
            ))
            .hint(hint)
        })?;
        recipients.push(recipient);
    }
    for path in files {
        let input = crate::io::read_file_text(path)?;
        let parsed = parse_recipients(&input.text).map_err(|e| {
            CliError::new(format!("{}: {}", path.display(), with_sources(&e))).hint(hint)
        })?;
        recipients.extend(parsed);
    }
    Ok(recipients)
}

/// A recipient as typed, cut short: a pasted post-quantum recipient is 1,900 characters.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(24).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    format!("{short:?}")
}

/// Reads age identity files (`--recovery-identity`, `--identity`). Errors name the file and
/// line, never the key text.
///
/// # Errors
/// Unreadable files or identities that do not parse.
pub fn load_identities(paths: &[PathBuf]) -> Result<Vec<AgeIdentity>> {
    let mut identities = Vec::new();
    for path in paths {
        let bytes = crate::io::read_file_bytes(path)?;
        let parsed = std::str::from_utf8(&bytes)
            .map_err(|_| CliError::new(format!("{}: not a text file", path.display())))
            .and_then(|text| {
                parse_identities(text)
                    .map_err(|e| CliError::new(format!("{}: {}", path.display(), with_sources(&e))))
            })
            .map_err(|e| {
                e.hint(
                    "give an age identity file: AGE-SECRET-KEY-1… lines, as age-keygen writes them",
                )
            })?;
        identities.extend(parsed);
    }
    Ok(identities)
}

/// Decrypts a backup file with `identities` and returns its key Secrets.
///
/// # Errors
/// Unreadable file, no identity fits, or contents that are not key Secrets.
pub fn open_backup_file(path: &Path, identities: &[AgeIdentity]) -> Result<Vec<Secret>> {
    let bytes = if path == Path::new("-") {
        crate::io::read_stdin_bytes()?
    } else {
        crate::io::read_file_bytes(path)?
    };
    open_backup(identities, &bytes).map_err(|e| {
        let err = CliError::new(format!("{}: {}", path.display(), with_sources(&e)));
        match e {
            sealant_core::backup::BackupError::Decrypt => err.hint(
                "give the identity of the backup's recipient (the offline key), and check the file is a `sealant keys backup` output",
            ),
            _ => err,
        }
    })
}

/// Adds every key of `from` to `ring`.
pub fn merge_rings(ring: &mut KeyRing, from: KeyRing) {
    for key in from.iter() {
        ring.insert(key.clone());
    }
    for identity in from.age_identities() {
        ring.insert_age(identity.clone());
    }
}
