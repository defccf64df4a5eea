//! The subcommands. Every crypto and format step is `sealant_core`'s; this is I/O and flags.

use std::path::Path;

use sealant_core::object::{read_sealed_secrets, read_secrets, to_text, to_text_stream};
use sealant_core::sealing::{SealOptions, seal_raw};
use sealant_core::{
    Format, KeyRing, Scope, SealedSecret, UnsealOptions, merge_into, seal_secret, unseal,
};

use crate::args::{CertArgs, ReencryptArgs, SealArgs, UnsealArgs, ValidateArgs};
use crate::certsrc::{self, LoadedCert};
use crate::error::{CliError, Hinted, Result};
use crate::io::{emit, output_format, read_inputs};
use crate::literal::{LiteralSources, build_secret};

/// Parses `--scope`.
///
/// # Errors
/// A usage error for unknown names.
pub fn parse_scope(scope: Option<&str>) -> Result<Option<Scope>> {
    scope.map(|s| s.parse::<Scope>()).transpose().map_err(|e| {
        CliError::usage(e.to_string())
            .hint("use --scope strict, --scope namespace-wide or --scope cluster-wide")
    })
}

/// Loads the sealing certificate and refuses an expired one.
fn sealing_cert(args: &SealArgs) -> Result<LoadedCert> {
    let loaded = certsrc::load(&args.cert, &args.cluster)?;
    certsrc::check_usable(&loaded)?;
    Ok(loaded)
}

/// `sealant seal`.
///
/// # Errors
/// See the error texts; usage errors exit 2.
pub fn seal(args: &SealArgs) -> Result<()> {
    let scope = parse_scope(args.scope.as_deref())?;
    let sources = LiteralSources {
        literals: &args.from_literal,
        files: &args.from_file,
        env_files: &args.from_env_file,
    };
    if args.raw {
        return seal_raw_value(args, scope.unwrap_or_default());
    }
    let building = args.name.is_some() || !sources.is_empty();
    if building && !args.files.is_empty() {
        return Err(CliError::usage(
            "give either -f FILE or a NAME with --from-literal/--from-file/--from-env-file, not both",
        ));
    }

    let secrets = if building {
        let name = args.name.as_deref().ok_or_else(|| {
            CliError::usage(
                "a Secret built from --from-literal/--from-file/--from-env-file needs a NAME",
            )
            .hint("sealant seal NAME -n NAMESPACE --from-literal key=value")
        })?;
        vec![build_secret(
            name,
            args.cluster.namespace.clone(),
            &args.secret_type,
            &sources,
        )?]
    } else {
        let mut secrets = Vec::new();
        for input in read_inputs(&args.files)? {
            let mut read =
                read_secrets(&input.text).map_err(|e| e.into_cli().context(&input.origin))?;
            secrets.append(&mut read);
        }
        if secrets.is_empty() {
            return Err(CliError::new("no secrets found. Ensure the input is valid and UTF-8 encoded")
                .hint("give a Secret manifest with -f FILE or on stdin, or build one: sealant seal NAME --from-literal k=v"));
        }
        secrets
    };

    let mut options = SealOptions {
        name: args.name_override.clone(),
        scope,
        namespace_flag: args.cluster.namespace.clone(),
        default_namespace: crate::cluster::default_namespace(&args.cluster)?,
        allow_empty_data: args.allow_empty_data,
    };

    if let Some(target_path) = &args.merge_into {
        return seal_merge(args, target_path, secrets, &mut options);
    }

    let loaded = sealing_cert(args)?;
    let sealed = secrets
        .into_iter()
        .map(|secret| {
            seal_secret(secret, loaded.cert.public_key(), &options).map_err(Hinted::into_cli)
        })
        .collect::<Result<Vec<_>>>()?;
    let format = output_format(
        args.output.output,
        args.output.output_file.as_deref(),
        Format::Yaml,
    );
    let text = to_text_stream(&sealed, format).map_err(Hinted::into_cli)?;
    emit(args.output.output_file.as_deref(), text.as_bytes())
}

fn seal_merge(
    args: &SealArgs,
    target_path: &Path,
    mut secrets: Vec<sealant_core::Secret>,
    options: &mut SealOptions,
) -> Result<()> {
    if secrets.len() != 1 {
        return Err(CliError::usage(format!(
            "--merge-into takes one input Secret, got {}",
            secrets.len()
        )));
    }
    let target_text = crate::io::read_file_text(target_path)?;
    let mut targets = read_sealed_secrets(&target_text.text).map_err(|e| {
        e.into_cli()
            .context(format!("--merge-into {}", target_path.display()))
            .hint("--merge-into needs an existing SealedSecret file (apiVersion bitnami.com/v1alpha1, kind SealedSecret)")
    })?;
    if targets.len() != 1 {
        return Err(CliError::new(format!(
            "{} holds {} SealedSecrets; --merge-into needs exactly one",
            target_path.display(),
            targets.len()
        )));
    }
    let mut target = targets.remove(0);

    // New items must be bound exactly as the existing ones, or the controller (which reads the
    // scope from the top-level metadata) could not open them: the target's scope and identity win.
    let target_scope = Scope::from_annotations(target.metadata.annotations.as_ref());
    let mut secret = secrets.remove(0);
    let input_scope = options
        .scope
        .unwrap_or_else(|| Scope::from_annotations(secret.metadata.annotations.as_ref()));
    if input_scope != target_scope && (options.scope.is_some() || input_scope != Scope::Strict) {
        return Err(CliError::usage(format!(
            "scope mismatch: {} is {target_scope}, the input asks for {input_scope}",
            target_path.display()
        ))
        .hint("leave --scope out to use the file's scope"));
    }
    options.scope = Some(target_scope);
    options.name = target.metadata.name.clone();
    if target_scope != Scope::ClusterWide || target.metadata.namespace.is_some() {
        secret.metadata.namespace = target.metadata.namespace.clone();
    }

    let loaded = sealing_cert(args)?;
    let update =
        seal_secret(secret, loaded.cert.public_key(), options).map_err(Hinted::into_cli)?;
    merge_into(&mut target, update);
    let format = output_format(args.output.output, None, Format::detect(&target_text.text));
    let text = to_text(&target, format).map_err(Hinted::into_cli)?;
    crate::io::write_file_atomic(target_path, text.as_bytes())
}

fn seal_raw_value(args: &SealArgs, scope: Scope) -> Result<()> {
    if !args.from_literal.is_empty()
        || !args.from_env_file.is_empty()
        || args.name.is_some()
        || !args.files.is_empty()
    {
        return Err(CliError::usage("--raw seals one value from stdin or one --from-file; it takes no NAME, -f, --from-literal or --from-env-file")
            .hint("sealant seal --raw --name NAME -n NAMESPACE --from-file value.txt"));
    }
    if args.from_file.len() > 1 {
        return Err(CliError::usage(
            "must provide only one --from-file when encrypting a single item with --raw",
        ));
    }
    let namespace = match scope {
        Scope::ClusterWide => String::new(),
        _ => crate::cluster::default_namespace(&args.cluster)?,
    };
    if scope != Scope::ClusterWide && namespace.is_empty() {
        return Err(CliError::usage(format!(
            "must provide the --namespace flag with --raw and --scope {scope}"
        )));
    }
    let name = args.name_override.clone().unwrap_or_default();
    if scope == Scope::Strict && name.is_empty() {
        return Err(
            CliError::usage("must provide the --name flag with --raw and --scope strict")
                .hint("or seal for any name in the namespace with --scope namespace-wide"),
        );
    }
    let value = match args.from_file.first() {
        // The KEY= part of a raw --from-file is ignored, as upstream ignores it.
        Some(spec) => crate::io::read_file_bytes(Path::new(
            spec.split_once('=').map_or(spec.as_str(), |(_, path)| path),
        ))?,
        None => crate::io::read_stdin_bytes()?,
    };
    let loaded = sealing_cert(args)?;
    let sealed = seal_raw(loaded.cert.public_key(), scope, &namespace, &name, &value)
        .map_err(|e| CliError::new(e.to_string()))?;
    emit(args.output.output_file.as_deref(), sealed.as_bytes())
}

/// Reads every private key a recovery run was given.
///
/// # Errors
/// Unreadable or unusable key files, naming the file.
pub fn load_keys(paths: &[std::path::PathBuf]) -> Result<KeyRing> {
    let mut ring = KeyRing::new();
    for path in paths {
        let bytes = crate::io::read_file_bytes(path)?;
        let keys = sealant_core::keysecret::read_private_keys(&bytes).map_err(|e| {
            CliError::new(format!("{}: {e}", path.display())).hint(
                "give a PEM RSA private key, a key Secret (YAML/JSON) or a List of key Secrets",
            )
        })?;
        for key in keys {
            ring.insert(key);
        }
    }
    Ok(ring)
}

/// `sealant unseal`.
///
/// # Errors
/// Unusable keys or inputs; `no key could decrypt secret` when the keys do not fit.
pub fn unseal_cmd(args: &UnsealArgs) -> Result<()> {
    let ring = load_keys(&args.recovery_private_key)?;
    let mut secrets = Vec::new();
    for input in read_inputs(&args.files)? {
        let sealed =
            read_sealed_secrets(&input.text).map_err(|e| e.into_cli().context(&input.origin))?;
        for sealed in sealed {
            let unsealed = unseal(
                &sealed,
                &ring,
                UnsealOptions {
                    accept_v1_data: args.accept_deprecated_v1_data,
                },
            )
            .map_err(|e| e.into_cli().context(describe(&sealed)))?;
            if let Some(templates) = sealed.spec.template.data.as_ref().filter(|t| !t.is_empty()) {
                let keys: Vec<_> = templates.keys().map(String::as_str).collect();
                eprintln!(
                    "warning: {}: template data not rendered offline; left out: {}",
                    describe(&sealed),
                    keys.join(", ")
                );
            }
            secrets.push(unsealed.secret);
        }
    }
    if secrets.is_empty() {
        return Err(CliError::new("no SealedSecret found in the input"));
    }
    let format = output_format(
        args.output.output,
        args.output.output_file.as_deref(),
        Format::Yaml,
    );
    let text = zeroize::Zeroizing::new(to_text_stream(&secrets, format).map_err(Hinted::into_cli)?);
    emit(args.output.output_file.as_deref(), text.as_bytes())
}

fn describe(sealed: &SealedSecret) -> String {
    match &sealed.metadata.namespace {
        Some(ns) => format!("{ns}/{}", sealed.metadata.name_or_empty()),
        None => sealed.metadata.name_or_empty().to_owned(),
    }
}

/// `sealant cert`.
///
/// # Errors
/// The certificate cannot be loaded or saved.
pub fn cert(args: &CertArgs) -> Result<()> {
    let loaded = certsrc::load(&args.cert, &args.cluster)?;
    let cert = &loaded.cert;
    let now = time::OffsetDateTime::now_utc();
    let days_left = (cert.not_after() - now).whole_days();
    let validity = if days_left < 0 {
        format!(
            "EXPIRED on {} (sealing to it is refused)",
            cert.not_after().date()
        )
    } else {
        format!("until {} ({days_left} days left)", cert.not_after().date())
    };
    eprintln!(
        "source:      {}\nfingerprint: {}\nkey:         RSA {} bits\nvalid:       from {} {validity}",
        loaded.origin,
        cert.public_key().fingerprint(),
        cert.public_key().bits(),
        cert.not_before().date(),
    );
    emit(args.output_file.as_deref(), &loaded.pem)
}

fn read_all_sealed(files: &[std::path::PathBuf]) -> Result<Vec<SealedSecret>> {
    let mut all = Vec::new();
    for input in read_inputs(files)? {
        let mut sealed =
            read_sealed_secrets(&input.text).map_err(|e| e.into_cli().context(&input.origin))?;
        all.append(&mut sealed);
    }
    if all.is_empty() {
        return Err(CliError::new("no SealedSecret found in the input"));
    }
    Ok(all)
}

fn compact_json(sealed: &SealedSecret) -> Result<Vec<u8>> {
    serde_json::to_vec(sealed)
        .map_err(|e| CliError::new(format!("cannot encode SealedSecret: {e}")))
}

/// `sealant validate`.
///
/// # Errors
/// `unable to decrypt sealed secret: NAME` for the first one the controller cannot open.
pub fn validate(args: &ValidateArgs) -> Result<()> {
    let all = read_all_sealed(&args.files)?;
    crate::runtime()?.block_on(async {
        let controller = crate::cluster::Controller::connect(&args.cluster).await?;
        for sealed in &all {
            if !controller.verify(compact_json(sealed)?).await? {
                return Err(CliError::new(format!("unable to decrypt sealed secret: {}", sealed.metadata.name_or_empty()))
                    .hint("it was sealed for another cluster or key, or its name, namespace or scope changed"));
            }
            eprintln!("ok: {}", describe(sealed));
        }
        Ok(())
    })
}

/// `sealant reencrypt` through the controller.
///
/// # Errors
/// The controller refuses or cannot be reached.
pub fn reencrypt(args: &ReencryptArgs) -> Result<()> {
    let all = read_all_sealed(&args.files)?;
    let rotated = crate::runtime()?.block_on(async {
        let controller = crate::cluster::Controller::connect(&args.cluster).await?;
        let mut rotated = Vec::with_capacity(all.len());
        for sealed in &all {
            let body = controller.rotate(compact_json(sealed)?).await?;
            let mut value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                CliError::new(format!(
                    "cannot re-encrypt secret: the controller's answer is not JSON: {e}"
                ))
            })?;
            // Upstream's answer lacks apiVersion/kind and carries server fields.
            if let Some(object) = value.as_object_mut() {
                object.insert(
                    "apiVersion".into(),
                    sealant_core::object::SEALED_SECRET_API_VERSION.into(),
                );
                object.insert(
                    "kind".into(),
                    sealant_core::object::SEALED_SECRET_KIND.into(),
                );
                if let Some(meta) = object
                    .get_mut("metadata")
                    .and_then(serde_json::Value::as_object_mut)
                {
                    for field in ["creationTimestamp", "deletionTimestamp", "generation"] {
                        meta.remove(field);
                    }
                }
            }
            rotated.push(
                sealant_core::object::sealed_secret_from_value(value, rotated.len() + 1)
                    .map_err(Hinted::into_cli)?,
            );
        }
        Ok::<_, CliError>(rotated)
    })?;
    let format = output_format(
        args.output.output,
        args.output.output_file.as_deref(),
        Format::Yaml,
    );
    let text = to_text_stream(&rotated, format).map_err(Hinted::into_cli)?;
    emit(args.output.output_file.as_deref(), text.as_bytes())
}
