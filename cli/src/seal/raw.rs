//! `--raw`: one value sealed for a name and namespace, printed as its base64.

use std::io::IsTerminal;
use std::path::Path;

use sealant_core::Scope;
use sealant_core::sealing::{Recipients, seal_raw_for};

use super::{SealError, seal_recipients};
use crate::args::{ClusterArgs, SealArgs};
use crate::error::Result;

/// `sealant seal --raw`.
pub(super) fn run(args: &SealArgs, cluster: &ClusterArgs, scope: Scope) -> Result<()> {
    if !args.from_literal.is_empty()
        || !args.from_env_file.is_empty()
        || args.name.is_some()
        || !args.files.is_empty()
    {
        return Err(SealError::RawWithSecretFlags.into());
    }
    let namespace = match scope {
        Scope::ClusterWide => String::new(),
        _ => crate::cluster::default_namespace(cluster)?,
    };
    let name = args.name_override.clone().unwrap_or_default();
    // A cluster-wide value is bound to no namespace; the certificate is still the one of the
    // namespace it will most likely live in (docs/multi-tenancy.md, "Tenant keys").
    let owner_namespace = match scope {
        Scope::ClusterWide => crate::cluster::default_namespace(cluster)?,
        _ => namespace.clone(),
    };
    let sealed = seal_raw_item(scope, &namespace, &name, &args.from_file, || {
        seal_recipients(&args.recipients, cluster, Some(&owner_namespace))
    })?;
    crate::io::emit(args.output.output_file.as_deref(), sealed.as_bytes())
}

/// Seals one value (the single `--from-file`, else stdin) for `scope`, `namespace` and
/// `name`, and returns its base64, with upstream's checks and messages. `recipients` is called
/// after the value is read; several recipients give one age item for everyone.
///
/// # Errors
/// A missing namespace or name for the scope, several `--from-file`, unreadable input.
pub fn seal_raw_item(
    scope: Scope,
    namespace: &str,
    name: &str,
    from_file: &[String],
    recipients: impl FnOnce() -> Result<Recipients>,
) -> Result<String> {
    if scope != Scope::ClusterWide && namespace.is_empty() {
        return Err(SealError::RawWithoutNamespace(scope).into());
    }
    if scope == Scope::Strict && name.is_empty() {
        return Err(SealError::RawWithoutName.into());
    }
    if from_file.len() > 1 {
        return Err(SealError::RawManyFiles.into());
    }
    let value = match from_file.first() {
        // The KEY= part of a raw --from-file is ignored, as upstream ignores it.
        Some(spec) => crate::io::read_file_bytes(Path::new(
            spec.split_once('=').map_or(spec.as_str(), |(_, path)| path),
        ))?,
        None => {
            if std::io::stdin().is_terminal() {
                eprintln!("(tty detected: expecting a secret to encrypt in stdin)");
            }
            crate::io::read_stdin_bytes()?
        }
    };
    let recipients = recipients()?;
    Ok(seal_raw_for(&recipients, scope, namespace, name, &value)?)
}
