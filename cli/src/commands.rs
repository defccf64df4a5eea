//! The subcommands. Every crypto and format step is `sealant_core`'s; this is I/O and flags.

//!
//! `sealant`'s subcommands and kubeseal mode (`crate::kubeseal`) are two front ends over the
//! same functions here: each front end resolves its flags and calls e.g. [`parse_secrets`],
//! [`seal_all`], [`merge_sealed`], [`seal_raw_item`], [`unseal_inputs`], [`validate_sealed`],
//! [`reencrypt_sealed`].

use std::io::IsTerminal;
use std::path::Path;

use sealant_core::object::{read_sealed_secrets, read_secrets, to_text, to_text_stream};
use sealant_core::sealing::{Recipients, SealOptions, seal_raw_for, seal_secret_for};
use sealant_core::{
    Certificate, Format, KeyRing, Scope, SealedSecret, Secret, UnsealOptions, merge_into, unseal,
};

use crate::args::{
    CertArgs, CertSourceArgs, ClusterArgs, OutputArgs, SealArgs, SealRecipientArgs, UnsealArgs,
    ValidateArgs,
};
use crate::certsrc;
use crate::cluster::KubeOverrides;
use crate::error::{CliError, Hinted, Result};
use crate::io::{Input, output_format, read_inputs};
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

/// `--cert ""` (also an empty `SEALED_SECRETS_CERT`) means no certificate was given, as upstream
/// (its default is `""`): fetch it from the controller rather than fail to read a file named "".
fn cert_source(args: &CertSourceArgs) -> CertSourceArgs {
    CertSourceArgs {
        cert: args.cert.clone().filter(|cert| !cert.is_empty()),
        ..args.clone()
    }
}

/// Whom `sealant seal` seals for: every `--cert` (each loaded and checked not expired), every
/// `--recipient` and `--recipients-file` entry, or, with none of them, the controller's
/// certificate fetched from the cluster (upstream's behaviour).
///
/// # Errors
/// Unreadable, unparsable or expired certificates, bad recipients, an unreachable controller.
pub fn seal_recipients(args: &SealRecipientArgs, cluster: &ClusterArgs) -> Result<Recipients> {
    let age = crate::keys::age_recipients(&args.recipient, &args.recipients_file)?;
    let sources: Vec<&String> = args.cert.iter().filter(|c| !c.is_empty()).collect();
    let mut certs = Vec::with_capacity(sources.len().max(1));
    let from_controller = sources.is_empty() && age.is_empty();
    let loads: Vec<CertSourceArgs> = if from_controller {
        vec![CertSourceArgs {
            cert: None,
            no_cert_cache: args.no_cert_cache,
        }]
    } else {
        sources
            .into_iter()
            .map(|cert| CertSourceArgs {
                cert: Some(cert.clone()),
                no_cert_cache: args.no_cert_cache,
            })
            .collect()
    };
    for source in &loads {
        let loaded = certsrc::load(source, cluster, &KubeOverrides::default())?;
        certsrc::check_usable(&loaded)?;
        certs.push(loaded.cert.public_key().clone());
    }
    Ok(Recipients {
        certs,
        age,
        layout: args.layout.into(),
    })
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
        )
        .hint("seal a manifest with `sealant seal -f FILE`, or build one with `sealant seal NAME --from-literal KEY=VALUE`"));
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
        parse_secrets(read_inputs(&args.files)?)?
    };

    let options = SealOptions {
        name: args.name_override.clone(),
        scope,
        namespace_flag: args.cluster.namespace.clone(),
        default_namespace: crate::cluster::default_namespace(&args.cluster)?,
        allow_empty_data: args.allow_empty_data,
    };

    if let Some(target_path) = &args.merge_into {
        let ring = if args.recovery_private_key.is_empty() {
            None
        } else {
            Some(load_keys(&args.recovery_private_key)?)
        };
        return merge_sealed(
            target_path,
            secrets,
            options,
            args.output.output.map(Format::from),
            ring.as_ref(),
            || seal_recipients(&args.recipients, &args.cluster),
        );
    }

    let recipients = seal_recipients(&args.recipients, &args.cluster)?;
    let sealed = seal_all_for(secrets, &recipients, &options)?;
    emit_to_output(&sealed, &args.output)
}

/// Reads every Secret of the inputs. None at all is upstream's `no secrets found` error.
///
/// # Errors
/// Malformed inputs (naming where), or no Secret.
pub fn parse_secrets(inputs: Vec<Input>) -> Result<Vec<Secret>> {
    let secrets = read_each(inputs, read_secrets)?;
    if secrets.is_empty() {
        return Err(CliError::new("no secrets found. Ensure the input is valid and UTF-8 encoded")
            .hint("give a Secret manifest with -f FILE or on stdin, or build one: sealant seal NAME --from-literal k=v"));
    }
    Ok(secrets)
}

/// Reads the objects of every input with `read`, naming the input in errors.
fn read_each<T>(
    inputs: Vec<Input>,
    read: fn(&str) -> std::result::Result<Vec<T>, sealant_core::FormatError>,
) -> Result<Vec<T>> {
    let mut all = Vec::new();
    for input in inputs {
        all.append(&mut read(&input.text).map_err(|e| e.into_cli().context(&input.origin))?);
    }
    Ok(all)
}

/// Seals each Secret to the certificate's key.
///
/// # Errors
/// The first Secret that cannot be sealed (empty data, no name, namespace mismatch…).
pub fn seal_all(
    secrets: Vec<Secret>,
    cert: &Certificate,
    options: &SealOptions,
) -> Result<Vec<SealedSecret>> {
    seal_all_for(secrets, &Recipients::rsa(cert.public_key()), options)
}

/// Seals each Secret for every recipient (see [`sealant_core::sealing::Layout`]).
///
/// # Errors
/// The first Secret that cannot be sealed, or recipients that cannot share a SealedSecret.
pub fn seal_all_for(
    secrets: Vec<Secret>,
    recipients: &Recipients,
    options: &SealOptions,
) -> Result<Vec<SealedSecret>> {
    secrets
        .into_iter()
        .map(|secret| seal_secret_for(secret, recipients, options).map_err(Hinted::into_cli))
        .collect()
}

/// Writes objects to `sealant`'s `-w`/`-o` choice: format from -o, else the file name, else YAML.
pub(crate) fn emit_to_output<T: serde::Serialize>(
    objects: &[T],
    output: &OutputArgs,
) -> Result<()> {
    let file = output.output_file.as_deref();
    emit_objects(
        objects,
        output_format(output.output, file, Format::Yaml),
        file,
    )
}

/// Writes objects as one YAML or JSON stream to `output_file` (atomically) or stdout. The text
/// is wiped afterwards, since it may hold unsealed Secrets.
///
/// # Errors
/// Serialization or write errors.
pub fn emit_objects<T: serde::Serialize>(
    objects: &[T],
    format: Format,
    output_file: Option<&Path>,
) -> Result<()> {
    let text = zeroize::Zeroizing::new(to_text_stream(objects, format).map_err(Hinted::into_cli)?);
    crate::io::emit(output_file, text.as_bytes())
}

/// `--merge-into`: seals the one input Secret with the target file's name, namespace and scope
/// and merges the items into that file, rewritten atomically in `format` (default: the file's
/// own). `recipients` is called only once the target has been read and checked.
///
/// With `ring` (recovery keys, used here and only here), each existing item the input also
/// has is opened and compared in constant time: an unchanged value keeps its ciphertext byte
/// for byte, and a file in which nothing changed is not rewritten at all, so GitOps tools see
/// no drift. The controller is never asked whether two values are equal: that would make it a
/// decryption oracle.
///
/// # Errors
/// Not exactly one input Secret, an unreadable target, a scope conflict, sealing errors.
pub fn merge_sealed(
    target_path: &Path,
    mut secrets: Vec<Secret>,
    mut options: SealOptions,
    format: Option<Format>,
    ring: Option<&KeyRing>,
    recipients: impl FnOnce() -> Result<Recipients>,
) -> Result<()> {
    if secrets.len() != 1 {
        return Err(CliError::usage(format!(
            "--merge-into takes one input Secret, got {}",
            secrets.len()
        )));
    }
    let target_text = crate::io::read_file_text(target_path).map_err(|e| {
        if target_path.exists() {
            e
        } else {
            e.hint("--merge-into changes an existing SealedSecret file; to create one, use -w FILE")
        }
    })?;
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

    let recipients = recipients()?;
    let plaintexts = ring.map(|_| secret.merged_data());
    let mut update = seal_secret_for(secret, &recipients, &options).map_err(Hinted::into_cli)?;
    if let (Some(ring), Some(plaintexts)) = (ring, &plaintexts) {
        let before = target.clone();
        let report = keep_unchanged_items(&target, &mut update, ring, plaintexts, target_path);
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
    let format = format.unwrap_or_else(|| Format::detect(&target_text.text));
    let text = to_text(&target, format).map_err(Hinted::into_cli)?;
    crate::io::write_file_atomic(target_path, text.as_bytes())
}

/// Puts the existing ciphertext back into `update` for every item whose value `ring` shows to
/// be unchanged, and returns what was kept, sealed again and added (names only). When every
/// item is kept, the key hint is left as it was too.
fn keep_unchanged_items(
    target: &SealedSecret,
    update: &mut SealedSecret,
    ring: &KeyRing,
    plaintexts: &std::collections::BTreeMap<String, sealant_core::SecretBytes>,
    target_path: &Path,
) -> String {
    let (mut kept, mut resealed, mut added) = (Vec::new(), Vec::new(), Vec::new());
    for (item, sealed) in &mut update.spec.encrypted_data {
        let Some(existing) = target.spec.encrypted_data.get(item) else {
            added.push(item.as_str());
            continue;
        };
        let old = crate::diff::open_item(target, ring, item, existing);
        match (old, plaintexts.get(item)) {
            (Some((old, _)), Some(new)) if old.ct_eq(new) => {
                sealed.clone_from(existing);
                kept.push(item.as_str());
            }
            (Some(_), _) => resealed.push(item.as_str()),
            (None, _) => {
                eprintln!(
                    "warning: the given keys cannot open item {item:?} of {}; it is sealed again",
                    target_path.display()
                );
                resealed.push(item.as_str());
            }
        }
    }
    if resealed.is_empty()
        && added.is_empty()
        && let Some(annotations) = update.metadata.annotations.as_mut()
    {
        annotations.remove(sealant_core::sealing::KEY_HINT_ANNOTATION);
    }
    let list = |names: &[&str]| {
        if names.is_empty() {
            "-".to_owned()
        } else {
            names.join(", ")
        }
    };
    format!(
        "{}: unchanged: {}; sealed again: {}; added: {}",
        target_path.display(),
        list(&kept),
        list(&resealed),
        list(&added)
    )
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
    let namespace = match scope {
        Scope::ClusterWide => String::new(),
        _ => crate::cluster::default_namespace(&args.cluster)?,
    };
    let name = args.name_override.clone().unwrap_or_default();
    let sealed = seal_raw_item(scope, &namespace, &name, &args.from_file, || {
        seal_recipients(&args.recipients, &args.cluster)
    })?;
    crate::io::emit(args.output.output_file.as_deref(), sealed.as_bytes())
}

/// `--raw`: seals one value (the single `--from-file`, else stdin) for `scope`, `namespace`
/// and `name`, and returns its base64, with upstream's checks and messages. `recipients` is
/// called after the value is read; several recipients give one age item for everyone.
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
        return Err(CliError::usage(format!(
            "must provide the --namespace flag with --raw and --scope {scope}"
        )));
    }
    if scope == Scope::Strict && name.is_empty() {
        return Err(
            CliError::usage("must provide the --name flag with --raw and --scope strict")
                .hint("or seal for any name in the namespace with --scope namespace-wide"),
        );
    }
    if from_file.len() > 1 {
        return Err(CliError::usage(
            "must provide only one --from-file when encrypting a single item with --raw",
        )
        .hint("seal each value with its own --raw run, or build a Secret: sealant seal NAME --from-file …"));
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
    seal_raw_for(&recipients, scope, namespace, name, &value).map_err(Hinted::into_cli)
}

/// Reads every private key a recovery run was given.
///
/// # Errors
/// Unreadable or unusable key files, naming the file.
pub fn load_keys(paths: &[std::path::PathBuf]) -> Result<KeyRing> {
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
            Err(err) => {
                let keys = sealant_core::age::keysecret::read_recovery_keys(&bytes).map_err(|_| {
                    CliError::new(format!("{}: {err}", path.display())).hint(
                        "give a PEM RSA private key, a key Secret (YAML/JSON), a List of key Secrets, or an age identity file",
                    )
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
pub fn unseal_cmd(args: &UnsealArgs) -> Result<()> {
    let mut ring = load_keys(&args.recovery_private_key)?;
    if !args.recovery_identity.is_empty() {
        let identities = crate::keys::load_identities(&args.recovery_identity)?;
        for path in &args.backup {
            let secrets = crate::keys::open_backup_file(path, &identities)?;
            let keys = sealant_core::age::backup::key_ring(&secrets).map_err(|e| {
                CliError::new(format!(
                    "{}: {}",
                    path.display(),
                    crate::error::with_sources(&e)
                ))
            })?;
            crate::keys::merge_rings(&mut ring, keys);
        }
        for identity in identities {
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
/// not rendered offline; a warning names what is left out.
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
        let unsealed =
            unseal(&sealed, ring, options).map_err(|e| e.into_cli().context(describe(&sealed)))?;
        secrets.push(unsealed.secret);
    }
    Ok(secrets)
}

fn describe(sealed: &SealedSecret) -> String {
    match &sealed.metadata.namespace {
        Some(ns) => format!("{ns}/{}", sealed.metadata.name_or_empty()),
        None => sealed.metadata.name_or_empty().to_owned(),
    }
}

/// `sealant cert`: the certificate on stdout (or `-w`), its details on stderr, and, when it
/// comes from a controller that publishes one, the controller's age recipient on stderr too.
/// With `--age`, only the recipient, on stdout (or `-w`).
///
/// # Errors
/// The certificate cannot be loaded or saved; with `--age`, no recipient.
pub fn cert(args: &CertArgs) -> Result<()> {
    let source = cert_source(&args.cert);
    if args.age {
        if source.cert.is_some() {
            return Err(CliError::usage(
                "--age asks the controller for its recipient; it takes no --cert",
            )
            .hint("drop --cert (or unset SEALED_SECRETS_CERT)"));
        }
        let recipient = controller_recipient(&args.cluster)?.ok_or_else(|| {
            CliError::new(format!(
                "the controller {}/{} publishes no age recipient",
                args.cluster.controller_namespace, args.cluster.controller_name
            ))
            .hint("it is an upstream or older controller, or runs with --age-keys=false: seal for it with its certificate (sealant cert -w FILE, then --cert FILE)")
        })?;
        eprintln!("age:         {recipient} ({})", recipient.fingerprint());
        return crate::io::emit(
            args.output_file.as_deref(),
            format!("{recipient}\n").as_bytes(),
        );
    }
    let loaded = certsrc::load(&source, &args.cluster, &KubeOverrides::default())?;
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
    if source.cert.is_none() {
        // Informational: a controller without age keys, or a failed lookup, is no error here.
        match controller_recipient(&args.cluster) {
            Ok(Some(recipient)) => eprintln!(
                "age:         {recipient}\nage key:     {} (print it alone: sealant cert --age)",
                recipient.fingerprint()
            ),
            Ok(None) => eprintln!("age:         none (the controller publishes no age recipient)"),
            Err(err) => eprintln!("warning: {}", err.message()),
        }
    }
    crate::io::emit(args.output_file.as_deref(), &loaded.pem)
}

fn controller_recipient(cluster: &ClusterArgs) -> Result<Option<sealant_core::AgeRecipient>> {
    crate::runtime()?.block_on(async {
        let controller =
            crate::cluster::Controller::connect(cluster, &KubeOverrides::default()).await?;
        controller.recipient().await
    })
}

/// Reads every SealedSecret of the inputs.
///
/// # Errors
/// Malformed inputs (naming where), or none at all.
pub fn parse_sealed(inputs: Vec<Input>) -> Result<Vec<SealedSecret>> {
    let all = read_each(inputs, read_sealed_secrets)?;
    if all.is_empty() {
        return Err(CliError::new("no SealedSecret found in the input")
            .hint("give SealedSecret manifests with -f FILE or on stdin"));
    }
    Ok(all)
}

pub(crate) fn compact_json(sealed: &SealedSecret) -> Result<Vec<u8>> {
    serde_json::to_vec(sealed)
        .map_err(|e| CliError::new(format!("cannot encode SealedSecret: {e}")))
}

/// `sealant validate`.
///
/// # Errors
/// `unable to decrypt sealed secret: NAME` for the first one the controller cannot open.
pub fn validate(args: &ValidateArgs) -> Result<()> {
    let all = parse_sealed(read_inputs(&args.files)?)?;
    validate_sealed(&all, &args.cluster, &KubeOverrides::default(), true)
}

/// Asks the controller whether it can unseal each SealedSecret; with `report_ok`, names each
/// one that passes on stderr.
///
/// # Errors
/// `unable to decrypt sealed secret: NAME` for the first one the controller cannot open, or
/// an unreachable controller.
pub fn validate_sealed(
    all: &[SealedSecret],
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
    report_ok: bool,
) -> Result<()> {
    crate::runtime()?.block_on(async {
        let controller = crate::cluster::Controller::connect(cluster, overrides).await?;
        for sealed in all {
            if !controller.verify(compact_json(sealed)?).await? {
                return Err(CliError::new(format!("unable to decrypt sealed secret: {}", sealed.metadata.name_or_empty()))
                    .hint("it was sealed for another cluster or key, or its name, namespace or scope changed"));
            }
            if report_ok {
                eprintln!("ok: {}", describe(sealed));
            }
        }
        Ok(())
    })
}

/// Has the controller re-encrypt each SealedSecret to its newest key; server-set fields are
/// cleared from the answers, as upstream does.
///
/// # Errors
/// The controller refuses or cannot be reached, or answers something else than a SealedSecret.
pub fn reencrypt_sealed(
    all: &[SealedSecret],
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
) -> Result<Vec<SealedSecret>> {
    crate::runtime()?.block_on(async {
        let controller = crate::cluster::Controller::connect(cluster, overrides).await?;
        let mut rotated = Vec::with_capacity(all.len());
        for sealed in all {
            let body = controller.rotate(compact_json(sealed)?).await?;
            rotated.push(rotated_from_answer(&body, rotated.len() + 1)?);
        }
        Ok(rotated)
    })
}

/// Reads the controller's `/v1/rotate` answer as a SealedSecret: upstream's answer lacks
/// apiVersion/kind and carries server-set fields, which are cleared as upstream does.
///
/// # Errors
/// An answer that is not a SealedSecret.
pub fn rotated_from_answer(body: &[u8], index: usize) -> Result<SealedSecret> {
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        CliError::new(format!(
            "cannot re-encrypt secret: the controller's answer is not JSON: {e}"
        ))
    })?;
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
    sealant_core::object::sealed_secret_from_value(value, index).map_err(Hinted::into_cli)
}
