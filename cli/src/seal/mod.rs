//! `sealant seal`, and the sealing steps kubeseal mode shares: [`seal_recipients`],
//! [`seal_all`], [`merge::merge_sealed`], [`raw::seal_raw_item`].

pub mod merge;
pub mod raw;
mod target;

use sealant_core::sealing::{Recipients, SealOptions, seal_secret_for};
use sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR;
use sealant_core::{Certificate, Format, Scope, SealedSecret, Secret, Selector};

use crate::args::{CertSourceArgs, ClusterArgs, SealArgs, SealRecipientArgs};
use crate::certsrc;
use crate::cluster::KubeOverrides;
use crate::error::Result;
use crate::inputs::parse_secrets;
use crate::io::{emit_to_output, read_inputs};
use crate::literal::{LiteralSources, build_secret};

pub use merge::merge_sealed;
pub use raw::seal_raw_item;

pub use crate::error::SealError;

/// Parses `--scope`.
///
/// # Errors
/// A usage error for unknown names.
pub fn parse_scope(scope: Option<&str>) -> Result<Option<Scope>> {
    Ok(scope
        .map(str::parse::<Scope>)
        .transpose()
        .map_err(SealError::from)?)
}

/// The name `--scope` takes for the namespace-selector scope (a sealant extension, not a
/// [`Scope`]: docs/multi-tenancy.md).
pub const SCOPE_NAMESPACE_SELECTOR: &str = "namespace-selector";

/// Parses `--scope` with `--namespace-selector`: the upstream scope to write, or the selector.
///
/// # Errors
/// A usage error for unknown names, a selector scope without a selector (or the reverse), or
/// a selector that does not parse.
pub fn parse_seal_scope(
    scope: Option<&str>,
    selector: Option<&str>,
) -> Result<(Option<Scope>, Option<Selector>)> {
    let parsed = selector
        .map(|text| Selector::parse(text).map_err(SealError::Selector))
        .transpose()?;
    match (scope, parsed) {
        (Some(SCOPE_NAMESPACE_SELECTOR), None) => Err(SealError::SelectorMissing.into()),
        (Some(SCOPE_NAMESPACE_SELECTOR) | None, Some(selector)) => Ok((None, Some(selector))),
        (Some(other), Some(_)) => Err(SealError::SelectorWithScope(other.to_owned()).into()),
        (scope, None) => Ok((parse_scope(scope)?, None)),
    }
}

/// Binds `secret` to `selector`: the selector annotation (canonical) replaces any upstream
/// scope annotation, and core seals for it.
pub fn bind_to_selector(secret: &mut Secret, selector: &Selector) {
    let annotations = secret.metadata.annotations_mut();
    Scope::Strict.write_annotations(annotations);
    annotations.insert(
        ANNOTATION_NAMESPACE_SELECTOR.to_owned(),
        selector.canonical(),
    );
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
/// See [`SealError`]; usage errors exit 2.
pub fn run(args: &SealArgs) -> Result<()> {
    // Only `seal` takes `-n`: the cluster arguments carry it from here on.
    let cluster = ClusterArgs {
        namespace: args.namespace.clone(),
        ..args.cluster.clone()
    };
    let (scope, selector) =
        parse_seal_scope(args.scope.as_deref(), args.namespace_selector.as_deref())?;
    let sources = LiteralSources {
        literals: &args.from_literal,
        files: &args.from_file,
        env_files: &args.from_env_file,
    };
    if args.raw {
        if selector.is_some() {
            return Err(SealError::RawWithSelector.into());
        }
        return raw::run(args, &cluster, scope.unwrap_or_default());
    }
    let building = args.name.is_some() || !sources.is_empty();
    if building && !args.files.is_empty() {
        return Err(SealError::FileAndName.into());
    }

    let mut secrets = if building {
        let name = args.name.as_deref().ok_or(SealError::BuiltWithoutName)?;
        vec![build_secret(
            name,
            cluster.namespace.clone(),
            &args.secret_type,
            &sources,
        )?]
    } else {
        parse_secrets(read_inputs(&args.files)?)?
    };
    if let Some(selector) = &selector {
        for secret in &mut secrets {
            bind_to_selector(secret, selector);
        }
    }

    let options = SealOptions {
        name: args.name_override.clone(),
        scope,
        namespace_flag: cluster.namespace.clone(),
        default_namespace: crate::cluster::default_namespace(&cluster)?,
        allow_empty_data: args.allow_empty_data,
    };

    if let Some(target_path) = &args.merge_into {
        let ring = if args.recovery_private_key.is_empty() {
            None
        } else {
            Some(crate::unseal::load_keys(&args.recovery_private_key)?)
        };
        return merge_sealed(
            target_path,
            secrets,
            options,
            args.output.output.map(Format::from),
            ring.as_ref(),
            true,
            || seal_recipients(&args.recipients, &cluster),
        );
    }

    let recipients = seal_recipients(&args.recipients, &cluster)?;
    let sealed = seal_all_for(secrets, &recipients, &options)?;
    emit_to_output(&sealed, &args.output)
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
    Ok(secrets
        .into_iter()
        .map(|secret| seal_secret_for(secret, recipients, options))
        .collect::<std::result::Result<_, _>>()?)
}
