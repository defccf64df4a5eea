//! kubeseal mode: upstream `kubeseal`'s command line on top of `sealant`'s own code paths.
//!
//! Chosen when the binary runs as `kubeseal` (argv\[0\], e.g. through a symlink) or as
//! `sealant kubeseal …`. It takes kubeseal's flags with Go pflag's conventions (`--flag value`,
//! `--flag=value`, booleans as `--raw` or `--raw=false`, repeated flags: last wins, lists
//! comma-separated or repeated, positional arguments ignored), the `SEALED_SECRETS_*`
//! environment variables (the command line wins), kubeseal's defaults (JSON output, controller
//! `kube-system/sealed-secrets-controller`), its mode order, messages and exit codes: 0 success,
//! 1 any runtime error (`error: …`), 2 a flag error (message and usage on stderr).
//!
//! Every mode calls the functions that `sealant`'s subcommands call ([`crate::seal`],
//! [`crate::unseal`], [`crate::validate`], [`crate::reencrypt`]); only flag resolution
//! ([`flags`]) and mode order live here. See `docs/kubeseal-compat.md`.

mod flags;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::error::ErrorKind;
use sealant_core::Scope;
use sealant_core::sealing::Recipients;

use crate::args::CertSourceArgs;
use crate::certsrc::{self, LoadedCert};
use crate::cluster;
use crate::error::{EXIT_FAILURE, EXIT_USAGE, Result};
use crate::inputs::{parse_sealed, parse_secrets};
use crate::io::{self, Input, emit_objects};

pub use flags::{Flags, command, env_name, parse};
use flags::{parse_format, pflag_message};

pub use crate::error::KubesealError;

/// The upstream kubeseal release whose flags and behaviour kubeseal mode follows
/// (docs/upstream.md).
pub const UPSTREAM_VERSION: &str = "0.36.6";

/// What `--version` reports after `kubeseal version: `: upstream's version, so that scripts
/// gating on it (`awk '{print $3}'`, `sed 's/^kubeseal version: \([^,]*\).*/\1/'`) keep
/// working, with sealant's own as semver build metadata (one word: no space to split on).
pub const VERSION: &str = concat!("0.36.6+sealant.", env!("CARGO_PKG_VERSION"));

/// Prefix of the environment variable of each flag: `--controller-name` is read from
/// `SEALED_SECRETS_CONTROLLER_NAME`.
pub const ENV_PREFIX: &str = "SEALED_SECRETS_";

/// Runs kubeseal mode with these arguments (the first is the program name) and returns the
/// exit code.
pub fn run(argv: Vec<OsString>) -> ExitCode {
    ExitCode::from(run_code(argv))
}

/// [`run`], with the exit code as a number.
pub fn run_code(argv: Vec<OsString>) -> u8 {
    let flags = match parse(argv, |name| std::env::var_os(name)) {
        Ok(flags) => flags,
        Err(err) if err.kind() == ErrorKind::DisplayHelp => {
            let _ = err.print();
            return crate::error::EXIT_SUCCESS;
        }
        Err(err) => {
            // pflag's ExitOnError: the error, then the usage, on stderr; exit 2.
            let usage = command().about(None).after_help(None).render_help();
            eprint!("{}\n{usage}", pflag_message(&err));
            return EXIT_USAGE;
        }
    };
    match dispatch(&flags) {
        Ok(()) => crate::error::EXIT_SUCCESS,
        Err(err) => {
            // Upstream exits 1 for every error once the flags are parsed.
            eprintln!("{}", err.render());
            EXIT_FAILURE
        }
    }
}

/// What a kubeseal run does, chosen in upstream's order (first match wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--version`.
    Version,
    /// `--recovery-unseal`: offline, with private keys.
    RecoveryUnseal,
    /// `--validate`, through the controller.
    Validate,
    /// `--re-encrypt`/`--rotate`, through the controller.
    ReEncrypt,
    /// `--fetch-cert`.
    FetchCert,
    /// `--merge-into FILE`.
    MergeInto,
    /// `--raw`.
    Raw,
    /// Seal every input Secret.
    Seal,
}

/// Chooses the mode.
///
/// # Errors
/// `--from-file requires --raw`.
pub fn mode(flags: &Flags) -> Result<Mode> {
    if !flags.from_file.is_empty() && !flags.raw {
        return Err(KubesealError::FromFileWithoutRaw.into());
    }
    Ok(if flags.version {
        Mode::Version
    } else if flags.recovery_unseal {
        Mode::RecoveryUnseal
    } else if flags.validate {
        Mode::Validate
    } else if flags.re_encrypt {
        Mode::ReEncrypt
    } else if flags.fetch_cert {
        Mode::FetchCert
    } else if flags.merge_into.is_some() {
        Mode::MergeInto
    } else if flags.raw {
        Mode::Raw
    } else {
        Mode::Seal
    })
}

/// Where the input comes from: `-f FILE` (read at once, as upstream opens it first) or stdin
/// (read when a mode needs it, with the terminal note).
enum Source {
    File(Input),
    Stdin,
}

impl Source {
    fn open(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(path) => io::read_file_text(path)
                .map(Self::File)
                .map_err(|e| KubesealError::SecretFile(Box::new(e)).into()),
            None => Ok(Self::Stdin),
        }
    }

    fn read(self) -> Result<Input> {
        match self {
            Self::File(input) => Ok(input),
            Self::Stdin => io::read_stdin(),
        }
    }
}

fn dispatch(flags: &Flags) -> Result<()> {
    if flags.rotate {
        eprintln!("Flag --rotate has been deprecated, use --re-encrypt instead");
    }
    let mode = mode(flags)?;
    if mode == Mode::Version {
        return io::write_stdout(format!("kubeseal version: {VERSION}\n").as_bytes());
    }
    let scope = flags.scope()?;
    let input = Source::open(flags.input_file.as_deref())?;
    let output_file = flags.output_file(mode);
    let out = output_file.as_deref();
    let cluster = &flags.cluster;
    if mode != Mode::RecoveryUnseal
        && !flags.recovery_private_keys.is_empty()
        && std::io::stderr().is_terminal()
    {
        eprintln!(
            "warning: --recovery-private-key is only used with --recovery-unseal; ignoring it"
        );
    }
    match mode {
        Mode::RecoveryUnseal => {
            let ring = crate::unseal::load_keys(&flags.recovery_private_keys)?;
            // kubeseal never accepts the deprecated v1 format offline.
            let secrets = crate::unseal::unseal_inputs(vec![input.read()?], &ring, false)?;
            emit_objects(&secrets, flags.object_format(out)?, out)
        }
        Mode::Validate => {
            let all = parse_sealed(vec![input.read()?])
                .map_err(|e| KubesealError::ValidateInput(Box::new(e)))?;
            crate::validate::validate_sealed(&all, cluster, &flags.overrides, false)
        }
        Mode::ReEncrypt => {
            let all = parse_sealed(vec![input.read()?])?;
            let rotated = crate::reencrypt::reencrypt_sealed(&all, cluster, &flags.overrides)?;
            emit_objects(&rotated, flags.object_format(out)?, out)
        }
        Mode::Version | Mode::FetchCert | Mode::MergeInto | Mode::Raw | Mode::Seal => {
            // Upstream's plain `/v1/cert.pem` (the cluster certificate) unless `-n` names the
            // namespace: then the certificate of its owner (docs/multi-tenancy.md, "Tenant
            // keys"), which upstream controllers answer as the plain call.
            let namespace = cluster.namespace.as_deref().filter(|ns| !ns.is_empty());
            let loaded = certsrc::load_for(
                &CertSourceArgs {
                    cert: flags.cert.clone(),
                    no_cert_cache: false,
                },
                cluster,
                &flags.overrides,
                namespace,
            )?;
            if mode == Mode::FetchCert {
                return crate::io::emit(out, &loaded.pem);
            }
            if let (Some(tenant), Some(namespace)) = (loaded.owner.tenant(), namespace) {
                eprintln!(
                    "note: namespace {namespace} belongs to tenant {tenant}: sealed with tenant {tenant}'s certificate"
                );
            }
            certsrc::check_usable(&loaded)?;
            seal_with(flags, mode, scope, input, out, loaded)
        }
    }
}

/// The sealing modes (`--merge-into`, `--raw`, or every input Secret), once the certificate is
/// loaded and checked.
fn seal_with(
    flags: &Flags,
    mode: Mode,
    scope: Scope,
    input: Source,
    out: Option<&Path>,
    loaded: LoadedCert,
) -> Result<()> {
    let cluster = &flags.cluster;
    match (mode, &flags.merge_into) {
        (Mode::MergeInto, Some(target)) => {
            if out.is_some() {
                eprintln!("warning: -w is not used with --merge-into, which rewrites its own file");
            }
            let secrets = parse_secrets(vec![input.read()?])?;
            // Upstream rewrites the file as JSON unless -o says otherwise; the file's own
            // format is kept instead, so that a YAML file stays YAML.
            let format = flags.format.as_deref().map(parse_format).transpose()?;
            crate::seal::merge_sealed(
                target,
                secrets,
                flags.seal_options(cluster)?,
                format,
                None,
                false,
                |_| Ok(Recipients::rsa(loaded.cert.public_key())),
            )
        }
        (Mode::Raw, _) => {
            let namespace = match scope {
                Scope::ClusterWide => String::new(),
                // Unlike a Secret, a raw value carries no namespace to check later: never
                // guess `default` when there is neither -n nor a kubeconfig.
                _ => cluster::configured_namespace(cluster)?.unwrap_or_default(),
            };
            let name = flags.name.as_deref().unwrap_or_default();
            let sealed =
                crate::seal::seal_raw_item(scope, &namespace, name, &flags.from_file, || {
                    Ok(Recipients::rsa(loaded.cert.public_key()))
                })?;
            crate::io::emit(out, sealed.as_bytes())
        }
        _ => {
            let secrets = parse_secrets(vec![input.read()?])?;
            let sealed =
                crate::seal::seal_all(secrets, &loaded.cert, &flags.seal_options(cluster)?)?;
            emit_objects(&sealed, flags.object_format(out)?, out)
        }
    }
}

#[cfg(test)]
mod tests;
