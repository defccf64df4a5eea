//! What the page is told about the certificate: computed by sealant-core, so the browser never
//! parses X.509 itself; it imports the SPKI given here with WebCrypto. The facts also say whose
//! key it is (docs/multi-tenancy.md, "Tenant keys"), so the page can show what it seals for.

use sealant_core::sealing::KEY_HINT_ANNOTATION;
use sealant_core::{Certificate, KeyOwner};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The certificate as the page sees it (the JSON at [`crate::FACTS_PATH`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertFacts {
    /// The certificate, PEM (shown, and offered for download).
    pub pem: String,
    /// The `SubjectPublicKeyInfo` DER, standard base64: what WebCrypto imports.
    pub spki: String,
    /// `SHA256:…`, as `sealant cert --fingerprint` prints it.
    pub fingerprint: String,
    /// RSA modulus size.
    pub bits: usize,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// True when the server's clock is past `not_after`: the page refuses to seal (it checks
    /// its own clock too).
    pub expired: bool,
    /// The key-hint annotation and its value, exactly as `sealant seal` writes them.
    pub key_hint_annotation: &'static str,
    /// The key hint (the fingerprint).
    pub key_hint: String,
    /// Whose key it is: `cluster`, `tenant=T` (as the controller's `Sealant-Key-Owner`
    /// header), or `given certificate` (`sealant web --cert`).
    pub owner: String,
}

/// Whose key the page is given (the `owner` of [`CertFacts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The cluster's or a tenant's key, as the controller chose it for the namespace.
    Key(KeyOwner),
    /// A certificate given as it is (`--cert`): no namespace changes it.
    Given,
}

impl Owner {
    /// The text of the facts' `owner`.
    pub fn text(&self) -> String {
        match self {
            Owner::Key(owner) => owner.wire_name(),
            Owner::Given => "given certificate".to_owned(),
        }
    }
}

/// The facts about `cert`, `owner`'s key, at `now`.
pub fn cert_facts(cert: &Certificate, owner: &Owner, now: OffsetDateTime) -> CertFacts {
    let key = cert.public_key();
    let rfc3339 = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    CertFacts {
        pem: cert.pem().to_owned(),
        spki: sealant_core::base64::encode(key.spki_der()),
        fingerprint: key.fingerprint().to_string(),
        bits: key.bits(),
        not_before: rfc3339(cert.not_before()),
        not_after: rfc3339(cert.not_after()),
        expired: cert.check_not_expired(now).is_err(),
        key_hint_annotation: KEY_HINT_ANNOTATION,
        key_hint: key.fingerprint().to_string(),
        owner: owner.text(),
    }
}
