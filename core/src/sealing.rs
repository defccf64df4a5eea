//! Secret → SealedSecret (docs/upstream.md, "Sealing rules (kubeseal)") and SealedSecret → Secret
//! (docs/upstream.md, "Unsealing and templates"), with template data rendered only where the caller
//! asks for it (reconcile and offline recovery, never the verify/rotate paths: that would be an
//! oracle).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::age::envelope::Binding;
use crate::age::{AgeRecipient, MixedRecipients, check_post_quantum_mix, seal_age_item};
use crate::error::{DecryptError, SealError};
use crate::item::{KeyRing, seal_item};
use crate::keys::{Fingerprint, PublicKey};
use crate::object::{
    ObjectMeta, OwnerReference, SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND, SealedSecret,
    SealedSecretSpec, Secret, SecretTemplateSpec,
};
use crate::scope::Scope;
use crate::secret::SecretBytes;
use crate::selector::{ANNOTATION_NAMESPACE_SELECTOR, SelectorError};
use crate::template::TemplateErrors;

/// Top-level annotation naming the fingerprint of the key a SealedSecret was sealed to. It is
/// outside the ciphertext (upstream ignores it) and only a hint: the controller tries that key
/// first, and every other key after it.
pub const KEY_HINT_ANNOTATION: &str = "sealant.dev/key-hint";
/// Top-level annotation with the age items for every recipient the `encryptedData` values do
/// not serve ([`Layout::Compatible`]): compact JSON, item name → base64 age item. Upstream
/// ignores it; sealant tries it when an item's `encryptedData` value does not open.
pub const AGE_ITEMS_ANNOTATION: &str = "sealant.dev/age-items";
/// Kubernetes' limit on the total size of an object's annotations (keys and values).
pub const ANNOTATIONS_SIZE_LIMIT: usize = 256 * 1024;
/// Template annotation: the Secret gets no ownerReference.
pub const SKIP_SET_OWNER_REFERENCES_ANNOTATION: &str =
    "sealedsecrets.bitnami.com/skip-set-owner-references";

/// How to seal a Secret: the command-line choices that override or complete the input.
#[derive(Debug, Clone, Default)]
pub struct SealOptions {
    /// Replaces the input's name (`--name`).
    pub name: Option<String>,
    /// Rewrites the input's scope annotations (`--scope`). `None` keeps what the input says.
    pub scope: Option<Scope>,
    /// A namespace the user gave explicitly (`-n`); it must agree with the input's.
    pub namespace_flag: Option<String>,
    /// The namespace for inputs that name none (from kubeconfig, else `default`).
    pub default_namespace: String,
    /// Seal a Secret with no data instead of refusing it.
    pub allow_empty_data: bool,
}

/// Why a Secret cannot be sealed. Texts are upstream's, since scripts match them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealingError {
    /// No `data` and no `stringData`.
    #[error(
        "secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used"
    )]
    EmptyData,
    /// No name in the input and none given.
    #[error("missing metadata.name in input Secret")]
    MissingName,
    /// `-n` disagrees with the input's namespace.
    #[error(
        "namespace mismatch: input secret is in namespace {input:?} but {flag:?} was specified"
    )]
    NamespaceMismatch {
        /// The input's namespace.
        input: String,
        /// The namespace given on the command line.
        flag: String,
    },
    /// A scope that needs a namespace, and none could be found.
    #[error("secret must declare a namespace")]
    MissingNamespace,
    /// Encryption failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The namespace-selector annotation does not parse.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// The namespace-selector annotation together with an upstream scope annotation.
    #[error(
        "the namespace-selector scope cannot be combined with the {0} scope annotation: remove one"
    )]
    SelectorWithScope(Scope),
    /// Nobody to seal for.
    #[error("no recipients: give at least one certificate or age recipient")]
    NoRecipients,
    /// Post-quantum and classical recipients together.
    #[error(transparent)]
    MixedRecipients(#[from] MixedRecipients),
    /// The per-recipient age items do not fit in the annotation.
    #[error(
        "the age items for the other recipients take {size} bytes of annotations, over Kubernetes' limit of {limit}"
    )]
    AnnotationsTooLarge {
        /// Bytes the annotations would take.
        size: usize,
        /// [`ANNOTATIONS_SIZE_LIMIT`].
        limit: usize,
    },
}

/// How several recipients share one SealedSecret. See `docs/format.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Upstream-compatible: with an RSA certificate, every `encryptedData` value is the classic
    /// RSA item for the first certificate (an upstream controller holding that key unseals the
    /// SealedSecret as usual), and the other recipients share one age item per value in the
    /// [`AGE_ITEMS_ANNOTATION`]. Without a certificate the age items are the values.
    #[default]
    Compatible,
    /// Every `encryptedData` value is one age item for all recipients (RSA certificates through
    /// age's `ssh-rsa` stanza): about half the size, but only sealant controllers unseal it.
    Combined,
}

impl Layout {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Compatible => "compatible",
            Layout::Combined => "combined",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown layout name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layout {0:?}: expected compatible or combined")]
pub struct UnknownLayout(pub String);

impl std::str::FromStr for Layout {
    type Err = UnknownLayout;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "compatible" => Ok(Layout::Compatible),
            "combined" => Ok(Layout::Combined),
            other => Err(UnknownLayout(other.to_owned())),
        }
    }
}

/// Whom a Secret is sealed for: RSA certificates' keys (`--cert`, in order; the first is the
/// primary) and age recipients (`--recipient`, `--recipients-file`).
#[derive(Debug, Clone, Default)]
pub struct Recipients {
    /// RSA public keys, in the order given.
    pub certs: Vec<PublicKey>,
    /// age recipients (X25519 or post-quantum).
    pub age: Vec<AgeRecipient>,
    /// How they share the SealedSecret.
    pub layout: Layout,
}

impl Recipients {
    /// One RSA key: exactly upstream's output.
    pub fn rsa(key: &PublicKey) -> Self {
        Self {
            certs: vec![key.clone()],
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), SealingError> {
        if self.certs.is_empty() && self.age.is_empty() {
            return Err(SealingError::NoRecipients);
        }
        check_post_quantum_mix(&self.age, self.certs.len())?;
        Ok(())
    }

    /// The RSA key whose classic item goes in `encryptedData`, if any.
    fn primary(&self) -> Option<&PublicKey> {
        match self.layout {
            Layout::Compatible => self.certs.first(),
            Layout::Combined => None,
        }
    }

    /// RSA keys served through age items.
    fn age_rsa(&self) -> &[PublicKey] {
        match self.primary() {
            Some(_) => &self.certs[1..],
            None => &self.certs,
        }
    }

    /// Seals one value: the `encryptedData` value and, if needed, the age item for everyone
    /// else.
    fn seal_value(
        &self,
        binding: &Binding,
        value: &[u8],
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), SealError> {
        let age_rsa = self.age_rsa();
        let needs_age = !age_rsa.is_empty() || !self.age.is_empty();
        match self.primary() {
            Some(primary) => {
                let main = seal_item(primary, binding.label(), value)?;
                let extra = needs_age
                    .then(|| seal_age_item(&self.age, age_rsa, binding, value))
                    .transpose()?;
                Ok((main, extra))
            }
            None => Ok((seal_age_item(&self.age, age_rsa, binding, value)?, None)),
        }
    }
}

/// Seals one Secret to `key`.
///
/// # Errors
/// See [`SealingError`].
pub fn seal_secret(
    secret: Secret,
    key: &PublicKey,
    options: &SealOptions,
) -> Result<SealedSecret, SealingError> {
    seal_secret_for(secret, &Recipients::rsa(key), options)
}

/// Seals one Secret for several recipients (RSA certificates and age recipients), laid out as
/// `recipients.layout` says. With one certificate and nothing else it is [`seal_secret`].
///
/// # Errors
/// See [`SealingError`].
pub fn seal_secret_for(
    mut secret: Secret,
    recipients: &Recipients,
    options: &SealOptions,
) -> Result<SealedSecret, SealingError> {
    recipients.check()?;
    if secret.has_no_data() && !options.allow_empty_data {
        return Err(SealingError::EmptyData);
    }
    if let Some(name) = &options.name {
        secret.metadata.name = Some(name.clone());
    }
    let name = secret
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or(SealingError::MissingName)?;
    if let Some(scope) = options.scope {
        scope.write_annotations(secret.metadata.annotations_mut());
        if secret
            .metadata
            .annotations
            .as_ref()
            .is_some_and(BTreeMap::is_empty)
        {
            secret.metadata.annotations = None;
        }
    }
    let scope = Scope::from_annotations(secret.metadata.annotations.as_ref());
    if scope != Scope::ClusterWide {
        let input_namespace = secret
            .metadata
            .namespace
            .clone()
            .filter(|ns| !ns.is_empty());
        match (&input_namespace, &options.namespace_flag) {
            (Some(input), Some(flag)) if input != flag => {
                return Err(SealingError::NamespaceMismatch {
                    input: input.clone(),
                    flag: flag.clone(),
                });
            }
            (Some(_), _) => {}
            (None, flag) => {
                let namespace = flag
                    .clone()
                    .unwrap_or_else(|| options.default_namespace.clone());
                secret.metadata.namespace = Some(namespace).filter(|ns| !ns.is_empty());
            }
        }
    }
    let namespace = secret.metadata.namespace.clone().unwrap_or_default();
    if scope != Scope::ClusterWide && namespace.is_empty() {
        return Err(SealingError::MissingNamespace);
    }

    let binding = Binding::of_metadata(secret.metadata.annotations.as_ref(), &namespace, &name)?;
    if binding.selector().is_some() && scope != Scope::Strict {
        return Err(SealingError::SelectorWithScope(scope));
    }
    let mut encrypted_data = BTreeMap::new();
    let mut age_items = BTreeMap::new();
    for (item, value) in secret.merged_items() {
        let (main, extra) = recipients.seal_value(&binding, value)?;
        encrypted_data.insert(item.to_owned(), crate::base64::encode(&main));
        if let Some(extra) = extra {
            age_items.insert(item.to_owned(), crate::base64::encode(&extra));
        }
    }

    let mut template_metadata = secret.metadata.clone();
    template_metadata.strip_for_template();
    let mut top = ObjectMeta::named(name, Some(namespace).filter(|ns| !ns.is_empty()));
    let top_annotations = top.annotations_mut();
    if let Some(annotation) = scope.annotation() {
        top_annotations.insert(annotation.to_owned(), "true".to_owned());
    }
    if let Some(selector) = binding.selector() {
        top_annotations.insert(
            ANNOTATION_NAMESPACE_SELECTOR.to_owned(),
            selector.canonical(),
        );
    }
    if let Some(primary) = recipients.primary() {
        top_annotations.insert(
            KEY_HINT_ANNOTATION.to_owned(),
            primary.fingerprint().to_string(),
        );
    }
    if !age_items.is_empty() {
        top_annotations.insert(AGE_ITEMS_ANNOTATION.to_owned(), age_items_json(&age_items));
        let size = annotations_size(top_annotations);
        if size > ANNOTATIONS_SIZE_LIMIT {
            return Err(SealingError::AnnotationsTooLarge {
                size,
                limit: ANNOTATIONS_SIZE_LIMIT,
            });
        }
    }

    Ok(SealedSecret::new(
        top,
        SealedSecretSpec {
            template: SecretTemplateSpec {
                metadata: Some(template_metadata),
                type_: secret.type_.clone(),
                immutable: secret.immutable,
                data: None,
            },
            encrypted_data,
            data: None,
        },
    ))
}

fn age_items_json(items: &BTreeMap<String, String>) -> String {
    // A map of strings always serializes.
    serde_json::to_string(items).unwrap_or_default()
}

fn annotations_size(annotations: &BTreeMap<String, String>) -> usize {
    annotations.iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// The age items of a SealedSecret's [`AGE_ITEMS_ANNOTATION`] (empty if absent or malformed:
/// its items then fail with the usual opaque error if nothing else opens them).
pub fn age_items(sealed: &SealedSecret) -> BTreeMap<String, String> {
    sealed
        .metadata
        .annotation(AGE_ITEMS_ANNOTATION)
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// Seals a single value for `--raw` to several recipients: the base64 of one item. A raw value
/// has no annotation to carry extra items, so it is the classic RSA item only for a single
/// certificate (in [`Layout::Compatible`]); otherwise one age item for everyone.
///
/// # Errors
/// No recipients, post-quantum mixed with classical ones, or a failed encryption.
pub fn seal_raw_for(
    recipients: &Recipients,
    scope: Scope,
    namespace: &str,
    name: &str,
    value: &[u8],
) -> Result<String, SealingError> {
    recipients.check()?;
    let binding = Binding::new(scope, namespace, name);
    let item = match recipients.primary() {
        Some(key) if recipients.certs.len() == 1 && recipients.age.is_empty() => {
            seal_item(key, binding.label(), value)?
        }
        _ => seal_age_item(&recipients.age, &recipients.certs, &binding, value)?,
    };
    Ok(crate::base64::encode(&item))
}

/// Seals a single value for `--raw`: the base64 of one item.
///
/// # Errors
/// [`SealError`] if encryption fails.
pub fn seal_raw(
    key: &PublicKey,
    scope: Scope,
    namespace: &str,
    name: &str,
    value: &[u8],
) -> Result<String, SealError> {
    Ok(crate::base64::encode(&seal_item(
        key,
        &scope.label(namespace, name),
        value,
    )?))
}

/// Merges freshly sealed items into an existing SealedSecret (`--merge-into`): encrypted items,
/// template labels, annotations and data are added or replaced, and the key hint follows the
/// newest seal. Never fails on missing maps (upstream panics there).
pub fn merge_into(target: &mut SealedSecret, update: SealedSecret) {
    // A replaced value must not live on in an old age item (other clusters would get it).
    let mut items = age_items(target);
    let had_items = !items.is_empty();
    for item in update.spec.encrypted_data.keys() {
        items.remove(item);
    }
    items.extend(age_items(&update));
    if !items.is_empty() {
        target
            .metadata
            .annotations_mut()
            .insert(AGE_ITEMS_ANNOTATION.to_owned(), age_items_json(&items));
    } else if had_items {
        target
            .metadata
            .annotations_mut()
            .remove(AGE_ITEMS_ANNOTATION);
    }
    target
        .spec
        .encrypted_data
        .extend(update.spec.encrypted_data);
    if let Some(hint) = update.metadata.annotation(KEY_HINT_ANNOTATION) {
        target
            .metadata
            .annotations_mut()
            .insert(KEY_HINT_ANNOTATION.to_owned(), hint.to_owned());
    }
    let Some(new_meta) = update.spec.template.metadata else {
        return;
    };
    let template_meta = target
        .spec
        .template
        .metadata
        .get_or_insert_with(ObjectMeta::default);
    if let Some(annotations) = new_meta.annotations {
        template_meta.annotations_mut().extend(annotations);
    }
    if let Some(labels) = new_meta.labels {
        template_meta.labels_mut().extend(labels);
    }
    if let Some(data) = update.spec.template.data {
        target
            .spec
            .template
            .data
            .get_or_insert_with(BTreeMap::new)
            .extend(data);
    }
}

/// How to unseal.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnsealOptions {
    /// Accept the deprecated v1 `spec.data` blob (the controller's default; recovery's is no).
    pub accept_v1_data: bool,
    /// Render `spec.template.data` over the decrypted items (templates win). Leave it off where
    /// the outcome is reported to someone who supplied the object (`/v1/verify`, `/v1/rotate`):
    /// a crafted template would turn success or failure into a decryption oracle.
    pub render_templates: bool,
}

/// The outcome of unsealing: the Secret and, per item, the key that opened it. Not `Clone`: it
/// holds plaintext.
#[derive(Debug)]
pub struct Unsealed {
    /// The Secret, with name, namespace and ownerReference set.
    pub secret: Secret,
    /// Item → fingerprint of the key that opened it (empty for v1 blobs' items).
    pub opened_with: BTreeMap<String, Fingerprint>,
}

impl Unsealed {
    /// The Secret's data (decrypted items).
    pub fn data(&self) -> &BTreeMap<String, SecretBytes> {
        static EMPTY: BTreeMap<String, SecretBytes> = BTreeMap::new();
        self.secret.data.as_ref().unwrap_or(&EMPTY)
    }
}

/// Per-item failures, grouped by message as upstream reports them:
/// `no key could decrypt secret (bar, foo)`, one line per distinct message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemErrors {
    /// Message → items it applies to, sorted.
    pub by_message: BTreeMap<String, Vec<String>>,
    /// The items that decoded but that no key could open (the opaque [`DecryptError`]): so a
    /// caller can tell "wrong keys" from bad input by type, not by message.
    pub undecryptable: BTreeSet<String>,
}

impl ItemErrors {
    fn push(&mut self, error: &ValueError, item: &str) {
        if matches!(error, ValueError::Decrypt(_)) {
            self.undecryptable.insert(item.to_owned());
        }
        self.by_message
            .entry(error.to_string())
            .or_default()
            .push(item.to_owned());
    }

    /// True when at least one item failed only because no key could open it.
    pub fn no_key_opened(&self) -> bool {
        !self.undecryptable.is_empty()
    }

    fn is_empty(&self) -> bool {
        self.by_message.is_empty()
    }
}

impl fmt::Display for ItemErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (message, items)) in self.by_message.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{message} ({})", items.join(", "))?;
        }
        Ok(())
    }
}

// Here rather than in template, so template does not depend on sealing.
impl From<TemplateErrors> for ItemErrors {
    fn from(errors: TemplateErrors) -> Self {
        ItemErrors {
            by_message: errors.by_message(),
            undecryptable: BTreeSet::new(),
        }
    }
}

/// Why a SealedSecret cannot be unsealed. Crypto failures are the one opaque message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnsealError {
    /// One or more items failed (bad base64, or no key could decrypt).
    #[error("{0}")]
    Items(ItemErrors),
    /// Both the v1 blob and `encryptedData` are present.
    #[error(
        "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time"
    )]
    V1Conflict,
    /// A v1 blob where v1 blobs are not accepted.
    #[error("using deprecated 'data' field, use 'encryptedData' or flip the feature flag")]
    V1Rejected,
    /// The v1 blob did not open.
    #[error(transparent)]
    V1Decrypt(#[from] DecryptError),
    /// The v1 blob opened but is not a Secret.
    #[error("the deprecated 'data' field does not hold a valid Secret")]
    V1Malformed,
}

/// The scope label a SealedSecret's items are checked against: from its top-level metadata,
/// never from the template (which anyone can edit without breaking the ciphertext).
pub fn unseal_label(sealed: &SealedSecret) -> Vec<u8> {
    Binding::of_sealed(sealed).label().to_vec()
}

/// The scope binding a SealedSecret's items are checked against (its top-level metadata): the
/// label of RSA items and the envelope of age items.
pub fn unseal_binding(sealed: &SealedSecret) -> Binding {
    Binding::of_sealed(sealed)
}

/// The key hint of a SealedSecret, if it carries a well-formed one.
pub fn key_hint(sealed: &SealedSecret) -> Option<Fingerprint> {
    sealed
        .metadata
        .annotation(KEY_HINT_ANNOTATION)
        .and_then(Fingerprint::parse)
}

/// Unseals with any key of `keys`: the Secret per upstream's rules, template data not executed.
///
/// # Errors
/// See [`UnsealError`]; any failing item fails the whole SealedSecret.
pub fn unseal(
    sealed: &SealedSecret,
    keys: &KeyRing,
    options: UnsealOptions,
) -> Result<Unsealed, UnsealError> {
    let binding = unseal_binding(sealed);
    let (mut secret, opened_with) = match &sealed.spec.data {
        Some(blob) => (
            unseal_v1(sealed, blob, binding.label(), keys, options)?,
            BTreeMap::new(),
        ),
        None => {
            let hint = key_hint(sealed);
            let extra_items = age_items(sealed);
            let mut errors = ItemErrors::default();
            let mut data = BTreeMap::new();
            let mut opened_with = BTreeMap::new();
            for (item, encoded) in &sealed.spec.encrypted_data {
                let opened = open_value(keys, &binding, encoded, hint.as_ref()).or_else(|err| {
                    extra_items
                        .get(item)
                        .and_then(|extra| open_value(keys, &binding, extra, None).ok())
                        .ok_or(err)
                });
                match opened {
                    Ok((plaintext, fingerprint)) => {
                        data.insert(item.clone(), plaintext);
                        opened_with.insert(item.clone(), fingerprint.clone());
                    }
                    Err(error) => errors.push(&error, item),
                }
            }
            if !errors.is_empty() {
                return Err(UnsealError::Items(errors));
            }
            if let Some(templates) = sealed
                .spec
                .template
                .data
                .as_ref()
                .filter(|t| options.render_templates && !t.is_empty())
            {
                let rendered = crate::template::render_all(templates, &data)
                    .map_err(|e| UnsealError::Items(e.into()))?;
                data.extend(rendered);
            }
            let mut secret = secret_shape(sealed);
            secret.data = Some(data);
            (secret, opened_with)
        }
    };

    set_identity(&mut secret, sealed);
    Ok(Unsealed {
        secret,
        opened_with,
    })
}

/// Why one value did not open.
#[derive(Debug, thiserror::Error)]
enum ValueError {
    #[error(transparent)]
    Base64(#[from] crate::base64::Base64Error),
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
}

/// Decodes and opens one value (RSA or age item).
fn open_value<'k>(
    keys: &'k KeyRing,
    binding: &Binding,
    encoded: &str,
    hint: Option<&Fingerprint>,
) -> Result<(SecretBytes, &'k Fingerprint), ValueError> {
    let bytes = crate::base64::decode(encoded)?;
    Ok(keys.open_scoped(binding, bytes.expose_secret(), hint)?)
}

/// The Secret that [`unseal`] builds from `sealed`, without its data and without decrypting
/// anything: template metadata, type and immutability, with name, namespace and
/// ownerReference set. For a v1 `spec.data` blob the real metadata is inside the ciphertext,
/// so only name, namespace and ownerReference are meaningful there.
pub fn secret_shape(sealed: &SealedSecret) -> Secret {
    let template = &sealed.spec.template;
    let mut secret = Secret::new(template.metadata.clone().unwrap_or_default());
    secret.type_ = template.type_.clone();
    secret.immutable = template.immutable;
    set_identity(&mut secret, sealed);
    secret
}

/// Name, namespace and ownerReference come from the SealedSecret, whatever the template says.
fn set_identity(secret: &mut Secret, sealed: &SealedSecret) {
    secret.metadata.name = sealed.metadata.name.clone();
    secret.metadata.namespace = sealed.metadata.namespace.clone();
    let skip_owner = sealed
        .spec
        .template
        .metadata
        .as_ref()
        .is_some_and(|m| m.annotation_is_true(SKIP_SET_OWNER_REFERENCES_ANNOTATION));
    secret.metadata.owner_references = if skip_owner {
        None
    } else {
        Some(vec![owner_reference(sealed)])
    };
}

/// The ownerReference a Secret gets from its SealedSecret.
pub fn owner_reference(sealed: &SealedSecret) -> OwnerReference {
    OwnerReference {
        api_version: SEALED_SECRET_API_VERSION.to_owned(),
        kind: SEALED_SECRET_KIND.to_owned(),
        name: sealed.metadata.name_or_empty().to_owned(),
        uid: sealed.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    }
}

fn unseal_v1(
    sealed: &SealedSecret,
    blob: &str,
    label: &[u8],
    keys: &KeyRing,
    options: UnsealOptions,
) -> Result<Secret, UnsealError> {
    if !options.accept_v1_data {
        return Err(UnsealError::V1Rejected);
    }
    if !sealed.spec.encrypted_data.is_empty() {
        return Err(UnsealError::V1Conflict);
    }
    let bytes = crate::base64::decode(blob).map_err(|_| UnsealError::V1Malformed)?;
    let (plaintext, _) = keys.open(label, bytes.expose_secret(), key_hint(sealed).as_ref())?;
    let text =
        std::str::from_utf8(plaintext.expose_secret()).map_err(|_| UnsealError::V1Malformed)?;
    let mut secrets = crate::object::read_secrets(text).map_err(|_| UnsealError::V1Malformed)?;
    if secrets.len() != 1 {
        return Err(UnsealError::V1Malformed);
    }
    let mut secret = secrets.remove(0);
    secret.merge_string_data();
    secret.data.get_or_insert_with(BTreeMap::new);
    secret.api_version = Some("v1".into());
    secret.kind = Some("Secret".into());
    Ok(secret)
}
