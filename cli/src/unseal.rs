//! `sealant unseal`: offline recovery with private keys, key backups (plain or m-of-n with
//! `--share` files, docs/recovery.md), and the steps kubeseal mode and
//! `diff`/`--merge-into` share: [`load_keys`], [`unseal_inputs`], [`open_item`].

use std::path::PathBuf;

use sealant_core::age::plugin::FileIdentity;
use sealant_core::{KeyRing, Secret, UnsealOptions, unseal};

use crate::args::UnsealArgs;
use crate::error::Result;
use crate::inputs::{describe, parse_sealed};
use crate::io::{Input, emit_to_output, read_inputs};

pub use crate::error::UnsealError;

/// Reads every private key a recovery run was given.
///
/// # Errors
/// Unreadable or unusable key files, naming the file.
pub fn load_keys(paths: &[PathBuf]) -> Result<KeyRing> {
    let mut ring = KeyRing::new();
    for path in paths {
        let bytes = crate::io::read_file_bytes(path)?;
        match sealant_core::keysecret::read_private_keys(&bytes) {
            Ok(keys) => {
                for key in keys {
                    ring.insert(key);
                }
            }
            // Upstream's formats first (and their errors); then age identity files and key
            // Secret lists that hold age keys too (a decrypted backup).
            Err(source) => {
                let keys =
                    sealant_core::keysecret::age::read_recovery_keys(&bytes).map_err(|_| {
                        UnsealError::KeyFile {
                            path: path.clone(),
                            source,
                        }
                    })?;
                crate::keys::merge_rings(&mut ring, keys);
            }
        }
    }
    Ok(ring)
}

/// `sealant unseal`.
///
/// # Errors
/// Unusable keys or inputs; `no key could decrypt secret` when the keys do not fit.
pub fn run(args: &UnsealArgs) -> Result<()> {
    let mut ring = load_keys(&args.recovery_private_key)?;
    // Identity files may hold age plugin identities: they open backups and shares; the native
    // ones also unseal age items directly.
    let identities = crate::keys::load_file_identities(&args.recovery_identity)?;
    for path in &args.backup {
        let secrets = crate::keys::open_any_backup(path, &identities, &args.share)?;
        let keys =
            sealant_core::backup::key_ring(&secrets).map_err(|source| UnsealError::Backup {
                path: path.clone(),
                source,
            })?;
        crate::keys::merge_rings(&mut ring, keys);
    }
    for identity in identities {
        if let FileIdentity::Native(identity) = identity {
            ring.insert_age(identity);
        }
    }
    let secrets = unseal_inputs(
        read_inputs(&args.files)?,
        &ring,
        args.accept_deprecated_v1_data,
    )?;
    emit_to_output(&secrets, &args.output)
}

/// Unseals every SealedSecret of the inputs with `ring` (offline recovery). Template data is
/// rendered as the controller would.
///
/// # Errors
/// Malformed inputs, no SealedSecret, or one that the keys cannot open.
pub fn unseal_inputs(
    inputs: Vec<Input>,
    ring: &KeyRing,
    accept_v1_data: bool,
) -> Result<Vec<Secret>> {
    let mut secrets = Vec::new();
    for sealed in parse_sealed(inputs)? {
        // Offline recovery renders template data as the controller would: the person running
        // it holds the private keys, so there is no oracle to guard against.
        let options = UnsealOptions {
            accept_v1_data,
            render_templates: true,
        };
        let unsealed = unseal(&sealed, ring, options).map_err(|source| UnsealError::Open {
            name: describe(&sealed),
            has_templates: sealed
                .spec
                .template
                .data
                .as_ref()
                .is_some_and(|data| !data.is_empty()),
            source,
        })?;
        secrets.push(unsealed.secret);
    }
    Ok(secrets)
}

/// Opens one item offline (core's rule, shared with `diff` and `--merge-into`).
pub(crate) use sealant_core::items::open_sealed_item as open_item;
