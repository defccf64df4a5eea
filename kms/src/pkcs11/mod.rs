//! PKCS#11 provider: DEKs wrapped with AES-256-GCM (`C_Encrypt`, `CKM_AES_GCM`) under an AES key
//! that lives on the token, sensitive and non-extractable (docs/key-protection.md, "PKCS#11").
//!
//! Wrapped DEK layout: `0x01` (the mechanism: AES-GCM) || 12-byte IV || 32-byte ciphertext ||
//! 16-byte tag, the envelope's associated data bound as GCM AAD.
//!
//! PKCS#11 calls block, so each runs on tokio's blocking pool. One logged-in session is kept and
//! calls go through it one at a time; a session-level failure drops it and the next call opens
//! a new one, so a restarted HSM is picked up without a restart of the controller.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sealant_core::keysecret::wrapped::{DEK_LEN, Protection};
use sealant_core::{SecretBytes, SecretString};

use crate::{CallFuture, ErrorKind, KeyProvider, KmsError, WrappedDek};

/// The provider kind in the key Secret's annotation.
pub const PROVIDER: &str = "pkcs11";
/// First byte of a wrapped DEK: AES-GCM under the KEK.
const BLOB_AES_GCM: u8 = 1;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const TAG_BITS: std::ffi::c_ulong = 128;
const BLOB_LEN: usize = 1 + IV_LEN + DEK_LEN + TAG_LEN;

/// Where the HSM is and how to log in.
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 module (a shared library), e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The user PIN (read with [`read_pin_file`] or from the environment; never logged).
    pub pin: SecretString,
    /// The label of the AES-256 key-encryption key on the token.
    pub kek_label: String,
}

impl fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("kek_label", &self.kek_label)
            .finish_non_exhaustive()
    }
}

/// Reads a PIN file (one line; a trailing newline is dropped).
///
/// # Errors
/// [`ErrorKind::Config`] if the file cannot be read or is empty.
pub fn read_pin_file(path: &Path) -> Result<SecretString, KmsError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        KmsError::new(
            ErrorKind::Config,
            PROVIDER,
            format!("PIN file {}", path.display()),
        )
        .with_source(err)
    })?;
    let pin = SecretString::new(text);
    let trimmed = pin.expose_secret().trim_end_matches(['\r', '\n']);
    if trimmed.is_empty() {
        return Err(KmsError::new(
            ErrorKind::Config,
            PROVIDER,
            format!("PIN file {} is empty", path.display()),
        ));
    }
    Ok(SecretString::new(trimmed.to_owned()))
}

/// A connected PKCS#11 token.
pub struct Pkcs11Provider {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: Pkcs11,
    slot: Slot,
    pin: AuthPin,
    protection: Protection,
    session: Mutex<Option<Session>>,
}

impl fmt::Debug for Pkcs11Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Provider")
            .field("protection", &self.inner.protection)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Provider {
    /// Loads the module, finds the token, logs in and checks the KEK: present, AES-256,
    /// sensitive and not extractable.
    ///
    /// # Errors
    /// [`ErrorKind::Unreachable`] (module or token missing), [`ErrorKind::Auth`] (wrong PIN),
    /// [`ErrorKind::KekMissing`], [`ErrorKind::Config`] (an extractable or non-AES KEK).
    pub async fn connect(config: Pkcs11Config) -> Result<Self, KmsError> {
        blocking(move || {
            let inner = Inner::open(config)?;
            inner.with_session(|session| inner.check_kek(session))?;
            Ok(Pkcs11Provider {
                inner: Arc::new(inner),
            })
        })
        .await
    }

    /// Creates the KEK on the token (AES-256, sensitive, non-extractable, encrypt/decrypt
    /// only): for setting up a token, as `softhsm2-util` cannot.
    ///
    /// # Errors
    /// As [`Pkcs11Provider::connect`]; [`ErrorKind::Config`] if the label is taken.
    pub async fn create_kek(config: Pkcs11Config) -> Result<(), KmsError> {
        blocking(move || {
            let inner = Inner::open(config)?;
            let session = inner.ctx.open_rw_session(inner.slot).map_err(classify)?;
            login(&session, &inner.pin)?;
            let label = inner.protection.kek.as_bytes().to_vec();
            if !find_kek(&session, &label)?.is_empty() {
                return Err(KmsError::new(
                    ErrorKind::Config,
                    PROVIDER,
                    format!("a key labelled '{}' already exists", inner.protection.kek),
                ));
            }
            let template = [
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::Label(label),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Wrap(false),
                Attribute::Unwrap(false),
                Attribute::ValueLen(32.into()),
            ];
            session
                .generate_key(&Mechanism::AesKeyGen, &template)
                .map_err(classify)?;
            Ok(())
        })
        .await
    }
}

impl KeyProvider for Pkcs11Provider {
    fn describe(&self) -> &Protection {
        &self.inner.protection
    }

    fn wrap<'a>(&'a self, dek: &'a SecretBytes, aad: &'a [u8]) -> CallFuture<'a, WrappedDek> {
        let inner = Arc::clone(&self.inner);
        let dek = dek.duplicate();
        let aad = aad.to_vec();
        Box::pin(blocking(move || {
            inner.with_session(|session| {
                let kek = inner.kek(session, &inner.protection.kek)?;
                let mut iv = random_iv()?;
                let mut blob = Vec::with_capacity(BLOB_LEN);
                blob.push(BLOB_AES_GCM);
                blob.extend_from_slice(&iv);
                let params = GcmParams::new(&mut iv, &aad, TAG_BITS.into()).map_err(classify)?;
                let sealed = session
                    .encrypt(&Mechanism::AesGcm(params), kek, dek.expose_secret())
                    .map_err(classify)?;
                blob.extend_from_slice(&sealed);
                if blob.len() != BLOB_LEN {
                    return Err(KmsError::new(
                        ErrorKind::Config,
                        PROVIDER,
                        "the token's AES-GCM output has an unexpected length",
                    ));
                }
                Ok(WrappedDek {
                    kek: inner.protection.kek.clone(),
                    blob,
                })
            })
        }))
    }

    fn unwrap<'a>(&'a self, wrapped: &'a WrappedDek, aad: &'a [u8]) -> CallFuture<'a, SecretBytes> {
        let inner = Arc::clone(&self.inner);
        let wrapped = wrapped.clone();
        let aad = aad.to_vec();
        Box::pin(blocking(move || {
            let refused = |what: &str| KmsError::new(ErrorKind::Refused, PROVIDER, what.to_owned());
            let body = match wrapped.blob.split_first() {
                Some((&BLOB_AES_GCM, body)) if wrapped.blob.len() == BLOB_LEN => body,
                _ => return Err(refused("not an AES-GCM wrapped data key of this format")),
            };
            let (iv, sealed) = body.split_at(IV_LEN);
            let mut iv = iv.to_vec();
            inner.with_session(|session| {
                let kek = inner.kek(session, &wrapped.kek)?;
                let params = GcmParams::new(&mut iv, &aad, TAG_BITS.into()).map_err(classify)?;
                let dek = match session.decrypt(&Mechanism::AesGcm(params), kek, sealed) {
                    Ok(dek) => dek,
                    Err(err) => return Err(decrypt_failure(session, kek, err)),
                };
                // Moved into a wiping buffer at once; cryptoki hands a plain Vec.
                let dek = SecretBytes::new(dek);
                if dek.len() != DEK_LEN {
                    return Err(refused("the unwrapped data key has the wrong length"));
                }
                Ok(dek)
            })
        }))
    }
}

impl Inner {
    fn open(config: Pkcs11Config) -> Result<Self, KmsError> {
        let protection = Protection::new(PROVIDER, &config.kek_label).map_err(|err| {
            KmsError::new(ErrorKind::Config, PROVIDER, "KEK label").with_source(err)
        })?;
        let ctx = context(&config.module)?;
        let slot = find_token(&ctx, &config.token_label)?;
        Ok(Inner {
            ctx,
            slot,
            pin: AuthPin::from(config.pin.expose_secret().to_owned()),
            protection,
            session: Mutex::new(None),
        })
    }

    /// Runs `call` on the kept session, opening and logging in first if there is none; drops
    /// the session after a failure that may have ended it.
    fn with_session<T>(
        &self,
        call: impl FnOnce(&Session) -> Result<T, KmsError>,
    ) -> Result<T, KmsError> {
        let mut kept = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let session = match kept.take() {
            Some(session) => session,
            None => {
                let session = self.ctx.open_ro_session(self.slot).map_err(classify)?;
                login(&session, &self.pin)?;
                session
            }
        };
        let result = call(&session);
        match &result {
            Err(err) if matches!(err.kind(), ErrorKind::Unreachable | ErrorKind::Auth) => {}
            _ => *kept = Some(session),
        }
        result
    }

    fn kek(&self, session: &Session, label: &str) -> Result<ObjectHandle, KmsError> {
        let found = find_kek(session, label.as_bytes())?;
        match found.as_slice() {
            [handle] => Ok(*handle),
            [] => Err(KmsError::new(
                ErrorKind::KekMissing,
                PROVIDER,
                format!("no AES key labelled '{label}' on the token"),
            )),
            _ => Err(KmsError::new(
                ErrorKind::Config,
                PROVIDER,
                format!("several AES keys are labelled '{label}'"),
            )),
        }
    }

    /// Refuses a KEK that could leave the token or is not AES-256.
    fn check_kek(&self, session: &Session) -> Result<(), KmsError> {
        let kek = self.kek(session, &self.protection.kek)?;
        let attributes = session
            .get_attributes(
                kek,
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::ValueLen,
                ],
            )
            .map_err(classify)?;
        let ok = attributes.iter().all(|a| match a {
            Attribute::Sensitive(v) => *v,
            Attribute::Extractable(v) => !*v,
            Attribute::ValueLen(len) => usize::from(*len) == 32,
            _ => true,
        }) && attributes.len() == 3;
        if ok {
            Ok(())
        } else {
            Err(KmsError::new(
                ErrorKind::Config,
                PROVIDER,
                format!(
                    "the KEK '{}' must be AES-256, sensitive and not extractable",
                    self.protection.kek
                ),
            ))
        }
    }
}

/// A failed AES-GCM decryption. Tokens report a tag mismatch with a generic code (SoftHSM
/// 2.6.1: `CKR_GENERAL_ERROR`), the same code as a device fault. A fresh round trip under the
/// same KEK tells them apart: if it works, the token is sound and the blob was refused.
fn decrypt_failure(session: &Session, kek: ObjectHandle, err: CkError) -> KmsError {
    let generic = matches!(
        err,
        CkError::Pkcs11(RvError::GeneralError | RvError::FunctionFailed, _)
    );
    if generic && self_test(session, kek).is_ok() {
        return KmsError::new(
            ErrorKind::Refused,
            PROVIDER,
            "the token could not authenticate the wrapped data key (AES-GCM tag mismatch)",
        )
        .with_source(err);
    }
    classify(err)
}

fn self_test(session: &Session, kek: ObjectHandle) -> Result<(), CkError> {
    // A fresh IV: the KEK must never see one IV twice.
    let mut iv = random_iv().map_err(|_| CkError::InvalidValue)?;
    let probe = [0u8; DEK_LEN];
    let sealed = session.encrypt(
        &Mechanism::AesGcm(GcmParams::new(&mut iv, b"probe", TAG_BITS.into())?),
        kek,
        &probe,
    )?;
    let opened = session.decrypt(
        &Mechanism::AesGcm(GcmParams::new(&mut iv, b"probe", TAG_BITS.into())?),
        kek,
        &sealed,
    )?;
    if opened == probe {
        Ok(())
    } else {
        Err(CkError::InvalidValue)
    }
}

fn random_iv() -> Result<[u8; IV_LEN], KmsError> {
    let mut iv = [0u8; IV_LEN];
    rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, &mut iv).map_err(|err| {
        KmsError::new(ErrorKind::Config, PROVIDER, "no random IV").with_source(err)
    })?;
    Ok(iv)
}

fn find_kek(session: &Session, label: &[u8]) -> Result<Vec<ObjectHandle>, KmsError> {
    session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Label(label.to_vec()),
        ])
        .map_err(classify)
}

fn login(session: &Session, pin: &AuthPin) -> Result<(), KmsError> {
    match session.login(UserType::User, Some(pin)) {
        // Login is per application in PKCS#11: another session of this process logged in.
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(err) => Err(classify(err)),
    }
}

/// One initialized context per module for the whole process: `C_Initialize` may run once.
fn context(module: &Path) -> Result<Pkcs11, KmsError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut contexts = CONTEXTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(ctx) = contexts.get(module) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(module).map_err(|err| {
        KmsError::new(
            ErrorKind::Unreachable,
            PROVIDER,
            if cfg!(target_env = "musl") {
                // A static musl binary has no dynamic loader (docs/key-protection.md,
                // "The pkcs11 image").
                format!(
                    "cannot load the PKCS#11 module {}: this controller is statically linked and cannot load shared libraries; use the pkcs11 image variant",
                    module.display()
                )
            } else {
                format!("cannot load the PKCS#11 module {}", module.display())
            },
        )
        .with_source(err)
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(err) => return Err(classify(err)),
    }
    contexts.insert(module.to_owned(), ctx.clone());
    Ok(ctx)
}

fn find_token(ctx: &Pkcs11, label: &str) -> Result<Slot, KmsError> {
    for slot in ctx.get_slots_with_initialized_token().map_err(classify)? {
        let info = ctx.get_token_info(slot).map_err(classify)?;
        if info.label().trim_end() == label {
            return Ok(slot);
        }
    }
    Err(KmsError::new(
        ErrorKind::Unreachable,
        PROVIDER,
        format!("no token labelled '{label}'"),
    ))
}

/// Runs a blocking PKCS#11 call on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, KmsError> + Send + 'static,
) -> Result<T, KmsError> {
    tokio::task::spawn_blocking(call).await.map_err(|err| {
        KmsError::new(
            ErrorKind::Unreachable,
            PROVIDER,
            "the PKCS#11 call did not finish",
        )
        .with_source(err)
    })?
}

/// Classifies a PKCS#11 failure (docs/key-protection.md, "Errors"). Unknown codes count as
/// unreachable: retried, never taken as proof that a key is gone.
fn classify(err: CkError) -> KmsError {
    let (kind, what) = match &err {
        CkError::Pkcs11(rv, function) => (rv_kind(*rv), format!("{function}: {rv}")),
        CkError::LibraryLoading(_) => (ErrorKind::Unreachable, "module".to_owned()),
        other => (ErrorKind::Config, format!("{other}")),
    };
    KmsError::new(kind, PROVIDER, what).with_source(err)
}

fn rv_kind(rv: RvError) -> ErrorKind {
    use RvError as R;
    match rv {
        R::PinIncorrect
        | R::PinInvalid
        | R::PinLenRange
        | R::PinExpired
        | R::PinLocked
        | R::UserNotLoggedIn
        | R::UserPinNotInitialized
        | R::UserTypeInvalid => ErrorKind::Auth,
        R::KeyHandleInvalid | R::ObjectHandleInvalid => ErrorKind::KekMissing,
        R::EncryptedDataInvalid | R::EncryptedDataLenRange | R::DataInvalid | R::DataLenRange => {
            ErrorKind::Refused
        }
        R::KeyFunctionNotPermitted
        | R::KeyTypeInconsistent
        | R::KeySizeRange
        | R::MechanismInvalid
        | R::MechanismParamInvalid
        | R::ArgumentsBad
        | R::TemplateIncomplete
        | R::TemplateInconsistent
        | R::AttributeValueInvalid => ErrorKind::Config,
        _ => ErrorKind::Unreachable,
    }
}
