//! Recipients and identities of age files that leave the cluster (key backups, their shares):
//! the native ones ([`AgeRecipient`], [`AgeIdentity`]) and those held by age plugins
//! (`age1<name>1…` recipients, `AGE-PLUGIN-<NAME>-1…` identities: YubiKeys, TPMs, …).
//!
//! A plugin is the program `age-plugin-<name>` found on `PATH`, run by the `age` crate when a
//! file is encrypted to, or opened with, one of its keys: the one place sealant-core starts a
//! process, and only for callers that pass a plugin key. SealedSecrets never take plugin
//! recipients (the controller cannot press a YubiKey); docs/recovery.md tells who uses what.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use age_core::format::{FileKey, Stanza};

use super::{AgeIdentity, AgeKeyError, AgeRecipient, MAX_STANZAS, identity::parse_key_file};
use crate::error::DecryptError;
use crate::secret::SecretBytes;

/// Where a plugin's messages to the user go (`insert your YubiKey`, …). Plugins that ask for
/// input (a PIN typed into sealant) get no answer: use a plugin that prompts on its own.
pub type PluginMessages = fn(&str);

/// Drops plugin messages.
pub fn no_messages(_: &str) {}

/// A recipient handled by an age plugin: `age1<name>1…`.
#[derive(Clone)]
pub struct PluginRecipient(age::plugin::Recipient);

impl PluginRecipient {
    /// The plugin's name (`yubikey` for `age1yubikey1…`); its program is `age-plugin-<name>`.
    pub fn plugin(&self) -> &str {
        self.0.plugin()
    }
}

impl fmt::Display for PluginRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for PluginRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginRecipient({})", self.0)
    }
}

impl PartialEq for PluginRecipient {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for PluginRecipient {}

/// An identity handled by an age plugin: `AGE-PLUGIN-<NAME>-1…`. It usually names a key on a
/// device rather than holding one, but is kept secret all the same: `Debug` shows the plugin
/// only.
#[derive(Clone)]
pub struct PluginIdentity(age::plugin::Identity);

impl PluginIdentity {
    /// The plugin's name, lowercase.
    pub fn plugin(&self) -> &str {
        self.0.plugin()
    }
}

impl fmt::Debug for PluginIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginIdentity({}, [redacted])", self.0.plugin())
    }
}

/// Whom a file that leaves the cluster is encrypted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRecipient {
    /// `age1…` or `age1pq1…`.
    Native(AgeRecipient),
    /// `age1<plugin>1…`.
    Plugin(PluginRecipient),
}

impl fmt::Display for FileRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Native(r) => fmt::Display::fmt(r, f),
            Self::Plugin(r) => fmt::Display::fmt(r, f),
        }
    }
}

impl From<AgeRecipient> for FileRecipient {
    fn from(recipient: AgeRecipient) -> Self {
        Self::Native(recipient)
    }
}

impl FromStr for FileRecipient {
    type Err = AgeKeyError;

    /// A native recipient, or any other `age1<name>1…` as a plugin recipient.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<AgeRecipient>() {
            Ok(native) => Ok(Self::Native(native)),
            Err(AgeKeyError::UnsupportedRecipient(hrp)) if hrp.starts_with("age1") => text
                .parse::<age::plugin::Recipient>()
                .map(|r| Self::Plugin(PluginRecipient(r)))
                .map_err(AgeKeyError::InvalidRecipient),
            Err(e) => Err(e),
        }
    }
}

/// What opens a file that left the cluster.
#[derive(Debug, Clone)]
pub enum FileIdentity {
    /// `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…`.
    Native(AgeIdentity),
    /// `AGE-PLUGIN-<NAME>-1…`.
    Plugin(PluginIdentity),
}

impl From<AgeIdentity> for FileIdentity {
    fn from(identity: AgeIdentity) -> Self {
        Self::Native(identity)
    }
}

impl FromStr for FileIdentity {
    type Err = AgeKeyError;

    /// A native identity, or `AGE-PLUGIN-…`. The error never contains the input.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() > 11 && text[..11].eq_ignore_ascii_case("AGE-PLUGIN-") {
            return text
                .parse::<age::plugin::Identity>()
                .map(|i| Self::Plugin(PluginIdentity(i)))
                .map_err(AgeKeyError::InvalidIdentity);
        }
        text.parse().map(Self::Native)
    }
}

/// Parses a recipients file where plugin recipients are allowed (see [`super::parse_recipients`]).
///
/// # Errors
/// The first bad line (with its number), or no recipient at all.
pub fn parse_file_recipients(text: &str) -> Result<Vec<FileRecipient>, AgeKeyError> {
    parse_key_file(text, AgeKeyError::NoRecipient)
}

/// Parses an identity file where plugin identities are allowed (`age-plugin-yubikey
/// --identity` output, say).
///
/// # Errors
/// The first bad line (its number only), or no identity at all.
pub fn parse_file_identities(text: &str) -> Result<Vec<FileIdentity>, AgeKeyError> {
    parse_key_file(text, AgeKeyError::NoIdentity)
}

/// A file that could not be encrypted to, or opened with, plugin keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// `age-plugin-<name>` is not on `PATH`.
    #[error("age plugin program {binary} not found on PATH")]
    NotFound {
        /// The program's name.
        binary: String,
    },
    /// The plugin ran and reported errors (its own words; plugins never echo key material).
    #[error("age plugin failed: {message}")]
    Failed {
        /// What it said.
        message: String,
    },
}

/// `age`'s localized messages wrap names in Unicode isolation marks; a terminal shows them as
/// noise.
fn plain(message: &str) -> String {
    message.replace(['\u{2068}', '\u{2069}'], "")
}

fn binary(name: &str) -> String {
    format!("age-plugin-{name}")
}

#[derive(Clone, Copy)]
struct Messages(PluginMessages);

impl age::Callbacks for Messages {
    fn display_message(&self, message: &str) {
        (self.0)(message);
    }

    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }

    fn request_public_string(&self, _: &str) -> Option<String> {
        None
    }

    fn request_passphrase(&self, _: &str) -> Option<age::secrecy::SecretString> {
        None
    }
}

/// Why [`encrypt_to`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileEncryptError {
    /// No recipient, mixed post-quantum and classical, or no randomness.
    #[error(transparent)]
    Seal(#[from] crate::error::SealError),
    /// A plugin recipient's plugin.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// Encrypts `plaintext` to native and plugin recipients as one age file, binary or armored.
///
/// # Errors
/// No recipients, post-quantum mixed with classical ones, a plugin that is missing or fails.
pub fn encrypt_to(
    recipients: &[FileRecipient],
    plaintext: &[u8],
    armor: bool,
    messages: PluginMessages,
) -> Result<Vec<u8>, FileEncryptError> {
    let native: Vec<AgeRecipient> = recipients
        .iter()
        .filter_map(|r| match r {
            FileRecipient::Native(n) => Some(n.clone()),
            FileRecipient::Plugin(_) => None,
        })
        .collect();
    let plugged: Vec<age::plugin::Recipient> = recipients
        .iter()
        .filter_map(|r| match r {
            FileRecipient::Plugin(p) => Some(p.0.clone()),
            FileRecipient::Native(_) => None,
        })
        .collect();
    if plugged.is_empty() {
        return Ok(super::encrypt_file(&native, plaintext, armor)?);
    }
    super::check_post_quantum_mix(&native, 0).map_err(|_| {
        crate::error::SealError::new("post-quantum and classical recipients cannot share a file")
    })?;
    let names: BTreeSet<&str> = plugged.iter().map(age::plugin::Recipient::plugin).collect();
    let mut plugins = Vec::with_capacity(names.len());
    for name in names {
        let plugin = age::plugin::RecipientPluginV1::new(name, &plugged, &[], Messages(messages))
            .map_err(|_| PluginError::NotFound {
            binary: binary(name),
        })?;
        plugins.push(plugin);
    }
    let extra: Vec<&dyn age::Recipient> =
        plugins.iter().map(|p| p as &dyn age::Recipient).collect();
    super::encrypt_with(&native, &extra, plaintext, armor).map_err(|e| match e {
        super::EncryptFailure::Seal(e) => FileEncryptError::Seal(e),
        super::EncryptFailure::Plugin(message) => PluginError::Failed {
            message: plain(&message),
        }
        .into(),
    })
}

/// Why [`decrypt_with`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileDecryptError {
    /// No identity opens it, or it was tampered with (the one opaque message).
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// A plugin identity's plugin.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// Tries native identities, then each plugin, and remembers what the plugins said.
struct Chain<'a> {
    keys: Vec<&'a dyn age::Identity>,
    plugin_errors: RefCell<Vec<String>>,
}

impl age::Identity for Chain<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        if stanzas.len() > MAX_STANZAS {
            return Some(Err(age::DecryptError::InvalidHeader));
        }
        for key in &self.keys {
            match key.unwrap_stanzas(stanzas) {
                Some(Err(age::DecryptError::Plugin(errors))) => {
                    let mut seen = self.plugin_errors.borrow_mut();
                    seen.extend(errors.iter().map(|e| plain(&e.to_string())));
                }
                Some(result) => return Some(result),
                None => {}
            }
        }
        None
    }
}

/// Decrypts an age file, binary or armored, with native and plugin identities.
///
/// # Errors
/// [`DecryptError`] when no identity opens it; [`PluginError`] when a plugin is missing, or
/// failed and nothing else opened the file.
pub fn decrypt_with(
    identities: &[FileIdentity],
    file: &[u8],
    messages: PluginMessages,
) -> Result<SecretBytes, FileDecryptError> {
    let plugged: Vec<age::plugin::Identity> = identities
        .iter()
        .filter_map(|i| match i {
            FileIdentity::Plugin(p) => Some(p.0.clone()),
            FileIdentity::Native(_) => None,
        })
        .collect();
    let names: BTreeSet<&str> = plugged.iter().map(age::plugin::Identity::plugin).collect();
    let mut plugins = Vec::with_capacity(names.len());
    for name in names {
        let plugin = age::plugin::IdentityPluginV1::new(name, &plugged, Messages(messages))
            .map_err(|_| PluginError::NotFound {
                binary: binary(name),
            })?;
        plugins.push(plugin);
    }
    let keys: Vec<&dyn age::Identity> = identities
        .iter()
        .filter_map(|i| match i {
            FileIdentity::Native(n) => Some(n.as_age()),
            FileIdentity::Plugin(_) => None,
        })
        .chain(plugins.iter().map(|p| p as &dyn age::Identity))
        .collect();
    if keys.is_empty() {
        return Err(DecryptError.into());
    }
    let chain = Chain {
        keys,
        plugin_errors: RefCell::new(Vec::new()),
    };
    match super::decrypt(&chain, file, true) {
        Ok(plaintext) => Ok(SecretBytes::from(plaintext)),
        Err(e) => {
            let errors = chain.plugin_errors.into_inner();
            if errors.is_empty() {
                Err(e.into())
            } else {
                Err(PluginError::Failed {
                    message: errors.join("; "),
                }
                .into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::age::IdentityKind;

    #[test]
    fn plugin_keys_parse_beside_native_ones_and_stay_redacted() {
        let native = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let plugin = age_core::primitives::bech32_encode(
            bech32::Hrp::parse_unchecked("age1example"),
            b"key",
        );
        let text = format!("# holders\n{}\n{plugin}\n", native.recipient());
        let parsed = parse_file_recipients(&text).unwrap();
        assert_eq!(parsed[0], FileRecipient::Native(native.recipient().clone()));
        match &parsed[1] {
            FileRecipient::Plugin(p) => assert_eq!(p.plugin(), "example"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            "ssh-ed25519 AAAA".parse::<FileRecipient>(),
            Err(AgeKeyError::UnsupportedRecipient(_))
        ));

        let identity = age_core::primitives::bech32_encode(
            bech32::Hrp::parse_unchecked("AGE-PLUGIN-EXAMPLE-"),
            b"HUNTER2",
        )
        .to_ascii_uppercase();
        let parsed = parse_file_identities(&format!(
            "{identity}\n{}\n",
            native.to_secret_string().expose_secret()
        ))
        .unwrap();
        let debug = format!("{parsed:?}");
        assert!(debug.contains("example"), "{debug}");
        assert!(!debug.contains(&identity), "{debug}");
        assert!(matches!(
            parse_file_identities("x\nAGE-PLUGIN-BAD\n"),
            Err(AgeKeyError::Line { line: 1, .. })
        ));
    }

    #[test]
    fn missing_plugins_are_named() {
        let recipient: FileRecipient = age_core::primitives::bech32_encode(
            bech32::Hrp::parse_unchecked("age1sealantmissing"),
            b"key",
        )
        .parse()
        .unwrap();
        assert_eq!(
            encrypt_to(&[recipient], b"x", false, no_messages),
            Err(FileEncryptError::Plugin(PluginError::NotFound {
                binary: "age-plugin-sealantmissing".into()
            }))
        );
        let native = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let file = encrypt_to(
            &[native.recipient().clone().into()],
            b"hello",
            true,
            no_messages,
        )
        .unwrap();
        let opened = decrypt_with(&[native.into()], &file, no_messages).unwrap();
        assert_eq!(opened.expose_secret(), b"hello");
    }
}
