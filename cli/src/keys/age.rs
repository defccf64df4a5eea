//! age recipients and identities given on the command line (plugin ones too, for backups),
//! and opening key backups: plain, or m-of-n with shares (docs/recovery.md).

use std::path::{Path, PathBuf};

use sealant_core::age::plugin::{
    FileIdentity, FileRecipient, parse_file_identities, parse_file_recipients,
};
use sealant_core::age::{AgeIdentity, AgeRecipient, parse_identities, parse_recipients};
use sealant_core::backup::threshold::{is_share, is_threshold_backup};
use sealant_core::backup::{Share, ThresholdBackup, open_backup, open_backup_with};
use sealant_core::{KeyRing, Secret};

use crate::error::{CliError, KeyBackupError, Result, with_sources};

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
    load_key_files(
        paths,
        parse_identities,
        "give an age identity file: AGE-SECRET-KEY-1… lines, as age-keygen writes them",
    )
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

/// Shows an age plugin's messages (`touch your YubiKey`) on stderr.
pub fn plugin_message(text: &str) {
    eprintln!("age plugin: {text}");
}

/// Parses backup recipients, plugin recipients included: `--recipient` values and
/// `--recipients-file` files.
///
/// # Errors
/// A recipient that does not parse (with the file and line), an unreadable or empty file.
pub fn file_recipients(values: &[String], files: &[PathBuf]) -> Result<Vec<FileRecipient>> {
    let mut recipients = Vec::new();
    for value in values {
        let recipient = value.trim().parse::<FileRecipient>().map_err(|e| {
            KeyBackupError::recipient(format!(
                "--recipient {}: {}",
                shorten(value),
                with_sources(&e)
            ))
        })?;
        recipients.push(recipient);
    }
    for path in files {
        let input = crate::io::read_file_text(path)?;
        let parsed = parse_file_recipients(&input.text).map_err(|e| {
            KeyBackupError::recipient(format!("{}: {}", path.display(), with_sources(&e)))
        })?;
        recipients.extend(parsed);
    }
    Ok(recipients)
}

/// Reads identity files where age plugin identities (`AGE-PLUGIN-…`) are allowed. Errors name
/// the file and line, never the key text.
///
/// # Errors
/// Unreadable files or identities that do not parse.
pub fn load_file_identities(paths: &[PathBuf]) -> Result<Vec<FileIdentity>> {
    load_key_files(
        paths,
        parse_file_identities,
        "give an age identity file: AGE-SECRET-KEY-1… lines as age-keygen writes them, or AGE-PLUGIN-… lines from an age plugin",
    )
}

/// Every key of the files at `paths`, each read by `parse`; an error names the file (and the
/// line, through `parse`), never the key text, with `hint`.
fn load_key_files<T>(
    paths: &[PathBuf],
    parse: fn(&str) -> std::result::Result<Vec<T>, sealant_core::age::AgeKeyError>,
    hint: &'static str,
) -> Result<Vec<T>> {
    let mut keys = Vec::new();
    for path in paths {
        let bytes = crate::io::read_file_bytes(path)?;
        let parsed = std::str::from_utf8(&bytes)
            .map_err(|_| CliError::new(format!("{}: not a text file", path.display())))
            .and_then(|text| {
                parse(text)
                    .map_err(|e| CliError::new(format!("{}: {}", path.display(), with_sources(&e))))
            })
            .map_err(|e| e.hint(hint))?;
        keys.extend(parsed);
    }
    Ok(keys)
}

fn read_path(path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    if path == Path::new("-") {
        crate::io::read_stdin_bytes()
    } else {
        crate::io::read_file_bytes(path)
    }
}

/// A share file: plain (`keys share-decrypt` output) or age-encrypted to one of `identities`.
///
/// # Errors
/// Unreadable, not a share, or no identity opens it.
pub fn read_share_file(path: &Path, identities: &[FileIdentity]) -> Result<Share> {
    let open = |source| KeyBackupError::Open {
        path: path.to_owned(),
        source,
    };
    let bytes = read_path(path)?;
    if is_share(&bytes) {
        return Ok(Share::parse(&bytes).map_err(|e| open(e.into()))?);
    }
    let plaintext = sealant_core::age::plugin::decrypt_with(identities, &bytes, plugin_message)
        .map_err(|e| {
            open(match e {
                sealant_core::age::plugin::FileDecryptError::Plugin(e) => e.into(),
                _ => sealant_core::backup::BackupError::Decrypt,
            })
        })?;
    Ok(Share::parse(plaintext.expose_secret()).map_err(|e| open(e.into()))?)
}

/// Opens a backup, plain or m-of-n, with `identities` (native and plugin) and, for an m-of-n
/// backup, the `shares` files too. Returns its key Secrets.
///
/// # Errors
/// Unreadable files, no identity fits, too few shares (exit code 3), a share of another
/// backup, or contents that are not key Secrets.
pub fn open_any_backup(
    path: &Path,
    identities: &[FileIdentity],
    shares: &[PathBuf],
) -> Result<Vec<Secret>> {
    let open = |source| KeyBackupError::Open {
        path: path.to_owned(),
        source,
    };
    let bytes = read_path(path)?;
    if !is_threshold_backup(&bytes) {
        if !shares.is_empty() {
            return Err(KeyBackupError::usage(
                format!(
                    "{}: --share is for m-of-n backups, and this one is a plain age file",
                    path.display()
                ),
                "drop --share and open it with --identity",
            )
            .into());
        }
        return Ok(open_backup_with(identities, &bytes, plugin_message).map_err(open)?);
    }
    let backup = ThresholdBackup::parse(&bytes).map_err(|e| open(e.into()))?;
    let mut all = backup
        .open_shares(identities, plugin_message)
        .map_err(open)?;
    for share_path in shares {
        let share = read_share_file(share_path, identities)?;
        all.push(share);
    }
    let secrets = backup.combine(&all).map_err(open)?;
    eprintln!(
        "combined {} share(s) of backup {} (threshold {})",
        all.len(),
        backup.id(),
        backup.threshold()
    );
    Ok(secrets)
}
