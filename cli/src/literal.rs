//! Building a Secret from `--from-literal`, `--from-file` and `--from-env-file`, with kubectl's
//! rules, so nobody has to pipe `kubectl create secret --dry-run` into the sealer.

use std::collections::BTreeMap;
use std::path::Path;

use sealant_core::{ObjectMeta, SecretBytes};

use crate::error::{CliError, Result};

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

/// Builds the Secret `name` in `namespace` (if known) of `secret_type`.
///
/// # Errors
/// Bad keys, duplicate keys, unreadable files.
pub fn build_secret(
    name: &str,
    namespace: Option<String>,
    secret_type: &str,
    sources: &LiteralSources<'_>,
) -> Result<sealant_core::Secret> {
    let mut data = BTreeMap::new();
    for literal in sources.literals {
        let (key, value) = literal.split_once('=').ok_or_else(|| {
            CliError::usage(format!(
                "invalid --from-literal {:?}: expected KEY=VALUE",
                redacted(literal)
            ))
            .hint("write --from-literal KEY=VALUE, e.g. --from-literal user=app")
        })?;
        insert(
            &mut data,
            key,
            SecretBytes::from_slice(value.as_bytes()),
            "--from-literal",
        )?;
    }
    for spec in sources.files {
        let (key, path) = match spec.split_once('=') {
            Some((key, path)) => (Some(key), Path::new(path)),
            None => (None, Path::new(spec.as_str())),
        };
        if path.is_dir() {
            if key.is_some() {
                return Err(CliError::usage(format!(
                    "--from-file {spec}: a directory cannot take a KEY="
                )));
            }
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| crate::error::io_error("cannot read directory", path, e))?
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
                )?;
            }
            continue;
        }
        let key = match key {
            Some(key) => key.to_owned(),
            None => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "--from-file {spec}: cannot derive a key from this path"
                    ))
                })?,
        };
        let bytes = crate::io::read_file_bytes(path)?;
        insert(
            &mut data,
            &key,
            SecretBytes::from_slice(&bytes),
            "--from-file",
        )?;
    }
    for path in sources.env_files {
        let text = crate::io::read_file_text(path)?;
        for (number, line) in text.text.lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = match line.split_once('=') {
                Some((key, value)) => (key.to_owned(), SecretBytes::from_slice(value.as_bytes())),
                // kubectl takes a bare KEY's value from the environment.
                None => {
                    // `PASSWORD hunter2` (a missing `=`) is no key: do not echo what may be a value.
                    if !is_valid_key(line.trim_end()) {
                        return Err(CliError::usage(format!(
                            "{}:{}: expected KEY=VALUE (the line is not shown: it may hold a secret)",
                            path.display(),
                            number + 1
                        ))
                        .hint("env files hold KEY=VALUE lines; a bare KEY takes its value from the environment"));
                    }
                    let line = line.trim_end();
                    let value = std::env::var(line).map_err(|_| {
                        CliError::usage(format!(
                            "{}:{}: {line} has no value and is not set in the environment",
                            path.display(),
                            number + 1
                        ))
                    })?;
                    (line.to_owned(), SecretBytes::from_slice(value.as_bytes()))
                }
            };
            insert(
                &mut data,
                &key,
                value,
                &format!("{}:{}", path.display(), number + 1),
            )?;
        }
    }
    let mut secret = sealant_core::Secret::new(ObjectMeta::named(name, namespace));
    secret.type_ = Some(secret_type.to_owned());
    secret.data = Some(data);
    Ok(secret)
}

fn insert(
    data: &mut BTreeMap<String, SecretBytes>,
    key: &str,
    value: SecretBytes,
    origin: &str,
) -> Result<()> {
    if !is_valid_key(key) {
        return Err(CliError::usage(format!(
            "invalid key {key:?} ({origin}): keys may only contain letters, digits, '-', '_' and '.'"
        ))
        .hint("choose another key; a file's key can be set with --from-file KEY=PATH"));
    }
    if data.insert(key.to_owned(), value).is_some() {
        return Err(
            CliError::usage(format!("key {key:?} is given twice ({origin})")).hint(
                "each key may appear once across --from-literal, --from-file and --from-env-file",
            ),
        );
    }
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

/// Shows a literal's key but not its value.
fn redacted(literal: &str) -> String {
    match literal.split_once('=') {
        Some((key, _)) => format!("{key}=…"),
        None if literal.len() > 3 => "…".to_owned(),
        None => literal.to_owned(),
    }
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
}
