//! `sealant keys …`: the controller's key Secrets from the command line.
//!
//! - `backup`: `keys backup|restore|share-decrypt`, the key Secrets as one age file for
//!   offline recipients, or as an m-of-n backup with one share per holder;
//! - `age`: age recipients and identities given on the command line, and opening backups;
//! - `inventory`: the key Secrets, their states and which one seals (by
//!   `sealant_k8s::keys::sealing_key`, the controller's rule), the SealedSecrets that still need
//!   each key, and the rules that refuse retiring or reactivating;
//! - `render`: the table and the JSON of `keys list`; `words`: their wording;
//! - `cluster`: reading all that with the user's credentials (key Secrets listed and read by
//!   `sealant_k8s::keys`), and writing key states;
//! - `state`: `keys list|rotate|retire|compromise|reactivate`;
//! - `protect`: `keys protect|unprotect`, keys wrapped by an HSM or KMS and back
//!   (docs/key-protection.md), and unwrapping them for `keys backup`.
//!
//! Everything goes through the Kubernetes API with the user's credentials; the controller is
//! never called. Which keys a SealedSecret needs is its `status.keyFingerprints`, which the
//! controller records each time it unseals the object. Only public data leaves the inventory:
//! fingerprints, names, times.

mod age;
mod backup;
mod cluster;
mod inventory;
mod protect;
mod render;
mod state;
#[cfg(test)]
mod tests;
mod words;

pub use age::{
    age_recipients, file_recipients, load_file_identities, load_identities, merge_rings,
    open_any_backup, open_backup_file, plugin_message, read_share_file,
};
pub use cluster::inventory;
pub use inventory::{
    Inventory, KeyEntry, SealedRecord, Selection, fingerprint_body, mark_sealing, owners_of,
};
pub use sealant_k8s::keys::KeyKind;
pub use state::{compromise, compromise_next_steps, list, reactivate, retire, rotate, rotate_cmd};

use crate::args::KeysCommand;
use crate::error::Result;

/// Runs `sealant keys …`.
///
/// # Errors
/// See the subcommands.
pub fn run(command: &KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Backup(args) => backup::backup(args),
        KeysCommand::Restore(args) => backup::restore(args),
        KeysCommand::ShareDecrypt(args) => backup::share_decrypt(args),
        KeysCommand::List(args) => list(args),
        KeysCommand::Rotate(args) => rotate_cmd(args),
        KeysCommand::Retire(args) => retire(args),
        KeysCommand::Compromise(args) => compromise(args),
        KeysCommand::Reactivate(args) => reactivate(args),
        KeysCommand::Protect(args) => protect::protect(args),
        KeysCommand::Unprotect(args) => protect::unprotect(args),
    }
}
