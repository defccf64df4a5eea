//! Building a Secret from `--from-literal`, `--from-file` and `--from-env-file`, with kubectl's
//! rules, so nobody has to pipe `kubectl create secret --dry-run` into the sealer.

use std::collections::BTreeMap;
use std::path::Path;

use sealant_core::{ObjectMeta, SecretBytes};
use zeroize::Zeroize;

pub use crate::error::ALLOW_ENV_VAR;
use crate::error::Result;

pub use crate::error::LiteralError;

/// The items given on the command line.
pub struct LiteralSources<'a> {
    /// `KEY=VALUE`.
    pub literals: &'a [String],
    /// `[KEY=]PATH`.
    pub files: &'a [String],
    /// Env files.
    pub env_files: &'a [std::path::PathBuf],
}

impl LiteralSources<'_> {
    /// True when no item source was given.
    pub fn is_empty(&self) -> bool {
        self.literals.is_empty() && self.files.is_empty() && self.env_files.is_empty()
    }
}

/// Where a bare `KEY` line of an env file (a line without `=`) takes its value from.
#[derive(Debug, Clone, Copy)]
pub enum EnvLookup<'a> {
    /// Any variable of the process environment: kubectl's rule, for env files the user names on
    /// their own command line (`sealant seal --from-env-file`).
    Process,
    /// Only the variables named here, which the user listed in `SEALANT_ALLOW_ENV`; none when
    /// empty. Generators read env files that a remote base may have written, so a bare
    /// `GITHUB_TOKEN` line must not seal the developer's token (docs/workflow.md).
    Only(&'a [String]),
}

/// Builds the Secret `name` in `namespace` (if known) of `secret_type`, with kubectl's rule for
/// bare `KEY` lines in env files ([`EnvLookup::Process`]).
///
/// # Errors
/// Bad keys, duplicate keys, unreadable files.
pub fn build_secret(
    name: &str,
    namespace: Option<String>,
    secret_type: &str,
    sources: &LiteralSources<'_>,
) -> Result<sealant_core::Secret> {
    build_secret_with(name, namespace, secret_type, sources, EnvLookup::Process)
}

/// [`build_secret`], with bare `KEY` lines in env files looked up as `env` allows.
///
/// No error shows a value, an env-file line or a literal: only file names, line numbers, and
/// keys that certainly are keys (valid ones, split off at a `=`), since a line without `=` may
/// be a pasted value (docs/bad-input.md).
///
/// # Errors
/// Bad keys, duplicate keys, unreadable files, bare `KEY` lines that `env` does not allow.
pub fn build_secret_with(
    name: &str,
    namespace: Option<String>,
    secret_type: &str,
    sources: &LiteralSources<'_>,
    env: EnvLookup<'_>,
) -> Result<sealant_core::Secret> {
    let mut data = BTreeMap::new();
    for (index, literal) in sources.literals.iter().enumerate() {
        let origin = format!("--from-literal #{}", index + 1);
        // The literal is never shown: without `=` it may be the value alone.
        let (key, value) = literal
            .split_once('=')
            .ok_or(LiteralError::LiteralWithoutEquals)?;
        insert(
            &mut data,
            key,
            SecretBytes::from_slice(value.as_bytes()),
            &origin,
            KeyShown::IfValid,
        )?;
    }
    for spec in sources.files {
        let (key, path) = match spec.split_once('=') {
            Some((key, path)) => (Some(key), Path::new(path)),
            None => (None, Path::new(spec.as_str())),
        };
        if path.is_dir() {
            if key.is_some() {
                return Err(LiteralError::DirectoryWithKey(spec.clone()).into());
            }
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| crate::io::IoError::file("cannot read directory", path, e))?
                .filter_map(std::result::Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
                .collect();
            entries.sort_by_key(std::fs::DirEntry::file_name);
            for entry in entries {
                let file_name = entry.file_name().to_string_lossy().into_owned();
                let bytes = crate::io::read_file_bytes(&entry.path())?;
                insert(
                    &mut data,
                    &file_name,
                    SecretBytes::from_slice(&bytes),
                    "--from-file",
                    KeyShown::Always,
                )?;
            }
            continue;
        }
        let key = match key {
            Some(key) => key.to_owned(),
            None => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| LiteralError::NoKeyFromPath(spec.clone()))?,
        };
        let bytes = crate::io::read_file_bytes(path)?;
        insert(
            &mut data,
            &key,
            SecretBytes::from_slice(&bytes),
            "--from-file",
            KeyShown::Always,
        )?;
    }
    for path in sources.env_files {
        let text = crate::io::read_file_text(path)?;
        for (number, line) in text.text.lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let origin = format!("{}:{}", path.display(), number + 1);
            match line.split_once('=') {
                Some((key, value)) => insert(
                    &mut data,
                    key,
                    SecretBytes::from_slice(value.as_bytes()),
                    &origin,
                    KeyShown::IfValid,
                )?,
                None => {
                    let value = bare_key_value(line.trim_end(), env, &origin)?;
                    // A bare line may be a pasted value, even when it looks like a key.
                    insert(&mut data, line.trim_end(), value, &origin, KeyShown::Never)?;
                }
            }
        }
    }
    let mut secret = sealant_core::Secret::new(ObjectMeta::named(name, namespace));
    secret.type_ = Some(secret_type.to_owned());
    secret.data = Some(data);
    Ok(secret)
}

/// The value of a bare `KEY` line: kubectl takes it from the environment, where `env` allows.
/// Errors name the line, never its text.
fn bare_key_value(key: &str, env: EnvLookup<'_>, origin: &str) -> Result<SecretBytes> {
    // `PASSWORD hunter2` (a missing `=`) is no key.
    if !is_valid_key(key) {
        return Err(LiteralError::NotKeyValue {
            origin: origin.to_owned(),
        }
        .into());
    }
    let allowed = match env {
        EnvLookup::Process => true,
        EnvLookup::Only(names) => names.iter().any(|name| name == key),
    };
    if !allowed {
        return Err(LiteralError::EnvNotAllowed {
            origin: origin.to_owned(),
        }
        .into());
    }
    let mut value = std::env::var_os(key)
        .ok_or_else(|| LiteralError::EnvNotSet {
            origin: origin.to_owned(),
        })?
        .into_encoded_bytes();
    let secret = SecretBytes::from_slice(&value);
    value.zeroize();
    Ok(secret)
}

/// Whether an error may show a key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyShown {
    /// A file name or a `KEY=PATH` key: never a value.
    Always,
    /// Split off at a `=`: a key if it is a valid one; an invalid one may be part of a value
    /// (`c2Vj+cmV0=` is base64).
    IfValid,
    /// A line without `=`: possibly a pasted value.
    Never,
}

fn insert(
    data: &mut BTreeMap<String, SecretBytes>,
    key: &str,
    value: SecretBytes,
    origin: &str,
    shown: KeyShown,
) -> Result<()> {
    if !is_valid_key(key) {
        return Err(LiteralError::InvalidKey {
            key: (shown == KeyShown::Always).then(|| key.to_owned()),
            origin: origin.to_owned(),
        }
        .into());
    }
    if data.contains_key(key) {
        return Err(LiteralError::DuplicateKey {
            key: (shown != KeyShown::Never).then(|| key.to_owned()),
            origin: origin.to_owned(),
        }
        .into());
    }
    data.insert(key.to_owned(), value);
    Ok(())
}

/// Kubernetes' rule for Secret data keys.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_kubernetes_rules() {
        assert!(is_valid_key("tls.crt") && is_valid_key("A_b-1"));
        assert!(
            !is_valid_key("")
                && !is_valid_key("a/b")
                && !is_valid_key("..")
                && !is_valid_key("a b")
        );
    }

    #[test]
    fn literals_files_and_env_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw.txt"), "s3cret\n").unwrap();
        std::fs::write(
            dir.path().join("app.env"),
            "# comment\n\nUSER=app\n  MODE=a=b\n",
        )
        .unwrap();
        let literals = vec!["token=abc=def".to_owned()];
        let files = vec![
            format!("password={}", dir.path().join("pw.txt").display()),
            dir.path().join("pw.txt").display().to_string(),
        ];
        let env_files = vec![dir.path().join("app.env")];
        let sources = LiteralSources {
            literals: &literals,
            files: &files,
            env_files: &env_files,
        };
        let secret = build_secret("s", Some("ns".into()), "Opaque", &sources).unwrap();
        let data = secret.data.unwrap();
        let get = |k: &str| String::from_utf8(data[k].expose_secret().to_vec()).unwrap();
        assert_eq!(get("token"), "abc=def");
        assert_eq!(get("password"), "s3cret\n");
        assert_eq!(get("pw.txt"), "s3cret\n");
        assert_eq!(get("USER"), "app");
        assert_eq!(get("MODE"), "a=b");
    }

    #[test]
    fn duplicates_and_bad_literals_are_usage_errors() {
        let literals = vec!["a=1".to_owned(), "a=2".to_owned()];
        let sources = LiteralSources {
            literals: &literals,
            files: &[],
            env_files: &[],
        };
        let err = build_secret("s", None, "Opaque", &sources).err().unwrap();
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
        let literals = vec!["novalue-hunter2".to_owned()];
        let sources = LiteralSources {
            literals: &literals,
            files: &[],
            env_files: &[],
        };
        let err = build_secret("s", None, "Opaque", &sources).err().unwrap();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    fn env_file_secret(
        lines: &str,
        env: EnvLookup<'_>,
    ) -> (tempfile::TempDir, Result<sealant_core::Secret>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.env"), lines).unwrap();
        let env_files = vec![dir.path().join("x.env")];
        let sources = LiteralSources {
            literals: &[],
            files: &[],
            env_files: &env_files,
        };
        let secret = build_secret_with("s", None, "Opaque", &sources, env);
        (dir, secret)
    }

    #[test]
    fn bare_keys_read_only_the_environment_they_are_allowed() {
        // cargo sets CARGO_MANIFEST_DIR for the test process too.
        let expected = env!("CARGO_MANIFEST_DIR");
        let line = "# comment\nCARGO_MANIFEST_DIR\n";
        for env in [
            EnvLookup::Process,
            EnvLookup::Only(&["OTHER".to_owned(), "CARGO_MANIFEST_DIR".to_owned()]),
        ] {
            let (_dir, secret) = env_file_secret(line, env);
            let data = secret.unwrap().data.unwrap();
            assert_eq!(
                data["CARGO_MANIFEST_DIR"].expose_secret(),
                expected.as_bytes()
            );
        }
        for env in [EnvLookup::Only(&[]), EnvLookup::Only(&["OTHER".to_owned()])] {
            let (_dir, secret) = env_file_secret(line, env);
            let err = secret.err().unwrap();
            assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
            assert!(err.message().contains("x.env:2"), "{err}");
            assert!(err.hint_text().unwrap().contains(ALLOW_ENV_VAR), "{err}");
            let shown = err.to_string();
            assert!(
                !shown.contains("CARGO_MANIFEST_DIR") && !shown.contains(expected),
                "{shown}"
            );
        }
    }

    #[test]
    fn env_file_lines_and_literals_are_never_echoed() {
        let unset = "hunter2NotSetAnywhere";
        let cases = [
            format!("{unset}\n"),
            "PASSWORD hunter2\n".to_owned(),
            "c2Vj+hunter2=\n".to_owned(),
            "=hunter2\n".to_owned(),
        ];
        for lines in &cases {
            for env in [EnvLookup::Process, EnvLookup::Only(&[])] {
                let (_dir, secret) = env_file_secret(lines, env);
                let err = secret.err().unwrap().to_string();
                assert!(!err.contains("hunter2"), "{lines:?}: {err}");
                assert!(err.contains("x.env:1"), "{lines:?}: {err}");
            }
        }
        // A bare line that names a set variable is still not shown when it comes twice.
        let lines = "CARGO_MANIFEST_DIR=a\nCARGO_MANIFEST_DIR\n";
        let (_dir, secret) = env_file_secret(lines, EnvLookup::Process);
        let err = secret.err().unwrap().to_string();
        assert!(
            err.contains("x.env:2") && !err.contains("CARGO_MANIFEST_DIR"),
            "{err}"
        );

        for literal in ["c2Vj+hunter2=", "hun", "hunter2/x=1"] {
            let literals = vec![literal.to_owned()];
            let sources = LiteralSources {
                literals: &literals,
                files: &[],
                env_files: &[],
            };
            let err = build_secret("s", None, "Opaque", &sources)
                .err()
                .unwrap()
                .to_string();
            assert!(!err.contains("hun"), "{literal}: {err}");
        }
    }
}
