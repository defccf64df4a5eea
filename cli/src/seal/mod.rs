//! `sealant seal`, and the sealing steps kubeseal mode shares: [`seal_recipients`],
//! [`seal_all`], [`merge::merge_sealed`], [`raw::seal_raw_item`].

pub mod merge;
pub mod raw;
mod target;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use sealant_core::sealing::{Recipients, SealOptions, seal_secret_for};
use sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR;
use sealant_core::{Certificate, Format, KeyOwner, Scope, SealedSecret, Secret, Selector};

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

/// Whether [`seal_recipients`] asks the controller: no `--cert`, `--recipient` nor
/// `--recipients-file`.
pub fn from_controller(args: &SealRecipientArgs) -> bool {
    args.cert.iter().all(String::is_empty)
        && args.recipient.is_empty()
        && args.recipients_file.is_empty()
}

/// Whom `sealant seal` seals for: every `--cert` (each loaded and checked not expired), every
/// `--recipient` and `--recipients-file` entry, or, with none of them, the controller's
/// certificate fetched from the cluster (upstream's behaviour): the one of `namespace`'s owner
/// (docs/multi-tenancy.md, "Tenant keys"), said on stderr when it is a tenant's.
///
/// # Errors
/// Unreadable, unparsable or expired certificates, bad recipients, an unreachable controller,
/// a tenant whose keys are not ready.
pub fn seal_recipients(
    args: &SealRecipientArgs,
    cluster: &ClusterArgs,
    namespace: Option<&str>,
) -> Result<Recipients> {
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
        let loaded = certsrc::load_for(source, cluster, &KubeOverrides::default(), namespace)?;
        certsrc::check_usable(&loaded)?;
        if let (KeyOwner::Tenant(tenant), Some(namespace)) = (&loaded.owner, namespace) {
            eprintln!(
                "note: namespace {namespace} belongs to tenant {tenant}: sealed with tenant {tenant}'s certificate ({})",
                loaded.cert.public_key().fingerprint()
            );
        }
        certs.push(loaded.cert.public_key().clone());
    }
    Ok(Recipients {
        certs,
        age,
        layout: args.layout.into(),
    })
}

/// The namespace a Secret is sealed for: its own, else `-n`, else the default one (what core's
/// sealing gives it).
pub fn target_namespace(secret: &Secret, options: &SealOptions) -> String {
    secret
        .metadata
        .namespace
        .clone()
        .filter(|ns| !ns.is_empty())
        .or_else(|| options.namespace_flag.clone())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| options.default_namespace.clone())
}

/// Seals each Secret for the recipients of its namespace: from the controller, one certificate
/// fetch per distinct namespace (a stream may hold several); otherwise the same recipients for
/// all.
///
/// # Errors
/// As [`seal_recipients`] and [`seal_all_for`].
pub fn seal_per_namespace(
    secrets: Vec<Secret>,
    args: &SealRecipientArgs,
    cluster: &ClusterArgs,
    options: &SealOptions,
) -> Result<Vec<SealedSecret>> {
    if !from_controller(args) {
        let recipients = seal_recipients(args, cluster, None)?;
        return seal_all_for(secrets, &recipients, options);
    }
    let mut per_namespace: BTreeMap<String, Recipients> = BTreeMap::new();
    let mut sealed = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let namespace = target_namespace(&secret, options);
        let recipients = match per_namespace.entry(namespace) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let recipients = seal_recipients(args, cluster, Some(entry.key()))?;
                entry.insert(recipients)
            }
        };
        sealed.push(seal_secret_for(secret, recipients, options)?);
    }
    Ok(sealed)
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
            |namespace| seal_recipients(&args.recipients, &cluster, Some(namespace)),
        );
    }

    let sealed = seal_per_namespace(secrets, &args.recipients, &cluster, &options)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_namespace_is_the_secrets_then_the_flag_then_the_default() {
        let options = |flag: Option<&str>| SealOptions {
            name: None,
            scope: None,
            namespace_flag: flag.map(str::to_owned),
            default_namespace: "from-kubeconfig".into(),
            allow_empty_data: false,
        };
        let secret = |ns: Option<&str>| {
            let mut secret = Secret::default();
            secret.metadata.namespace = ns.map(str::to_owned);
            secret
        };
        assert_eq!(target_namespace(&secret(Some("a")), &options(None)), "a");
        assert_eq!(
            target_namespace(&secret(Some("")), &options(Some("b"))),
            "b"
        );
        assert_eq!(
            target_namespace(&secret(None), &options(None)),
            "from-kubeconfig"
        );
    }

    #[test]
    fn only_no_certificate_and_no_recipient_asks_the_controller() {
        let args = |cert: &[&str], recipient: &[&str]| SealRecipientArgs {
            cert: cert.iter().map(|c| (*c).to_owned()).collect(),
            recipient: recipient.iter().map(|r| (*r).to_owned()).collect(),
            recipients_file: Vec::new(),
            layout: crate::args::LayoutArg::Compatible,
            no_cert_cache: false,
        };
        assert!(from_controller(&args(&[], &[])));
        assert!(
            from_controller(&args(&[""], &[])),
            "--cert \"\" is no certificate"
        );
        assert!(!from_controller(&args(&["cert.pem"], &[])));
        assert!(!from_controller(&args(&[], &["age1x"])));
    }
}
