//! Where the sealing certificate comes from: `--cert` (file or URL) or the controller, with a
//! per-context cache that pins the fingerprint and warns when it changes unexpectedly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sealant_core::Certificate;
use time::OffsetDateTime;

use crate::args::{CertSourceArgs, ClusterArgs};
use crate::cluster::KubeOverrides;
use crate::error::Result;
use crate::io::IoError;

pub use crate::error::CertSourceError;

/// Reads certificate files (`lint --cert`, `diff --cert`): no URLs, no controller.
///
/// # Errors
/// An unreadable or unparsable certificate, naming it.
pub fn load_files(paths: &[PathBuf]) -> Result<Vec<Certificate>> {
    paths
        .iter()
        .map(|path| {
            let pem = std::fs::read(path)
                .map_err(|e| IoError::file("cannot read certificate", path, e))?;
            Ok(
                Certificate::from_pem(&pem).map_err(|source| CertSourceError::Unusable {
                    path: path.clone(),
                    source,
                })?,
            )
        })
        .collect()
}

/// A certificate and a description of where it came from.
pub struct LoadedCert {
    /// The parsed certificate.
    pub cert: Certificate,
    /// The bytes as served or read (what `sealant cert` prints).
    pub pem: Vec<u8>,
    /// `file cert.pem`, `https://…`, or `controller kube-system/sealed-secrets-controller`.
    pub origin: String,
}

/// Loads the certificate the arguments name. Expiry is not checked here (see [`check_usable`]).
/// `overrides` only matter when the certificate comes from the controller.
///
/// # Errors
/// Unreadable or unparsable certificates, unreachable controllers.
pub fn load(
    cert_args: &CertSourceArgs,
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
) -> Result<LoadedCert> {
    match &cert_args.cert {
        Some(source) if is_url(source) => {
            let pem = fetch_url(source)?;
            parse(pem, source.clone())
        }
        Some(path) => {
            let pem = std::fs::read(path).map_err(|source| CertSourceError::Read {
                path: PathBuf::from(path),
                source,
            })?;
            parse(pem, format!("file {path}"))
        }
        None => load_from_controller(cluster, overrides, !cert_args.no_cert_cache),
    }
}

/// Refuses expired certificates, as upstream does, with the date.
///
/// # Errors
/// An expired certificate.
pub fn check_usable(loaded: &LoadedCert) -> Result<()> {
    Ok(loaded.cert.check_not_expired(OffsetDateTime::now_utc())?)
}

fn parse(pem: Vec<u8>, origin: String) -> Result<LoadedCert> {
    let cert = match Certificate::from_pem(&pem) {
        Ok(cert) => cert,
        Err(source) => return Err(CertSourceError::Parse { origin, source }.into()),
    };
    Ok(LoadedCert { cert, pem, origin })
}

/// Upstream treats `--cert` as a URL when it has a scheme of more than one letter (one letter
/// is a Windows drive).
fn is_url(source: &str) -> bool {
    match source.split_once("://") {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn fetch_url(url: &str) -> Result<Vec<u8>> {
    if let Some(path) = url.strip_prefix("file://") {
        return Ok(std::fs::read(path)
            .map_err(|e| IoError::file("cannot read certificate", Path::new(path), e))?);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|source| CertSourceError::Fetch {
            url: url.to_owned(),
            source,
        })?;
    if response.status() != 200 {
        return Err(CertSourceError::FetchStatus {
            url: url.to_owned(),
            status: response.status(),
        }
        .into());
    }
    Ok(response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .map_err(|source| CertSourceError::FetchBody {
            url: url.to_owned(),
            source,
        })?)
}

fn load_from_controller(
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
    use_cache: bool,
) -> Result<LoadedCert> {
    let origin = format!(
        "controller {}/{}",
        cluster.controller_namespace, cluster.controller_name
    );
    let cache = use_cache.then(|| cache_path(cluster, overrides)).flatten();
    let fetched = crate::runtime()?.block_on(async {
        let controller = crate::cluster::Controller::connect(cluster, overrides).await?;
        controller.cert_pem().await
    });
    let pem = match (fetched, &cache) {
        (Ok(pem), _) => pem,
        (Err(err), Some(path)) if path.exists() => {
            let cached = parse(
                std::fs::read(path).map_err(|e| IoError::file("cannot read", path, e))?,
                "cache".into(),
            )?;
            eprintln!(
                "warning: {}\nwarning: sealing with the cached certificate of {origin} (fingerprint {}, seen before)",
                err,
                cached.cert.public_key().fingerprint()
            );
            return Ok(LoadedCert {
                origin: format!("{origin} (cached)"),
                ..cached
            });
        }
        (Err(err), _) => return Err(err.into()),
    };
    let loaded = parse(pem, origin)?;
    if let Some(path) = cache {
        pin(&path, &loaded);
    }
    Ok(loaded)
}

/// Compares with the pinned certificate and stores the new one. Never fails the command: the
/// cache is a convenience and a tripwire, not a requirement.
fn pin(path: &Path, loaded: &LoadedCert) {
    if let Ok(previous) = std::fs::read(path)
        .map_err(drop)
        .and_then(|pem| Certificate::from_pem(&pem).map_err(drop))
    {
        let (old, new) = (
            previous.public_key().fingerprint(),
            loaded.cert.public_key().fingerprint(),
        );
        if old != new {
            if loaded.cert.not_before() >= previous.not_before() {
                eprintln!(
                    "note: the controller's certificate changed since last time ({old} -> {new}); it is newer (from {}), as after a routine key renewal",
                    loaded.cert.not_before().date()
                );
            } else {
                eprintln!(
                    "WARNING: the controller's certificate changed to an OLDER one than seen before ({old} -> {new}).\n\
                     WARNING: this is not a routine renewal: someone may be impersonating the controller, or keys were restored.\n\
                     WARNING: check the fingerprint with your cluster admins before committing what you seal."
                );
            }
        }
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = crate::io::write_file_atomic(path, &loaded.pem);
}

fn cache_path(cluster: &ClusterArgs, overrides: &KubeOverrides) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    let context = cluster
        .context
        .clone()
        .or_else(|| current_context(cluster))
        .unwrap_or_else(|| "in-cluster".into());
    let key = format!(
        "{context}_{}_{}{}",
        cluster.controller_namespace,
        cluster.controller_name,
        overrides.cache_key()
    );
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(base.join("sealant/certs").join(format!("{safe}.pem")))
}

/// The current context of the kubeconfig in use (`--kubeconfig`, else the default one).
fn current_context(cluster: &ClusterArgs) -> Option<String> {
    match &cluster.kubeconfig {
        Some(path) => {
            kube::config::Kubeconfig::read_from(path)
                .ok()?
                .current_context
        }
        None => kube::config::Kubeconfig::read().ok()?.current_context,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_detection_matches_upstream() {
        assert!(is_url("https://example.invalid/v1/cert.pem"));
        assert!(is_url("file:///tmp/cert.pem"));
        assert!(!is_url("cert.pem"));
        assert!(!is_url("C://cert.pem"));
        assert!(!is_url("./dir/with://colon"));
    }
}
