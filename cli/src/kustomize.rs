//! `sealant kustomize`: a `SealedSecretGenerator` for kustomize, sealing a generator spec
//! (literals, files, env files) against a given certificate at build time.
//!
//! Two protocols, one generator:
//! - exec plugin (`kustomize build --enable-alpha-plugins`, also `kubectl kustomize`): called
//!   with the path of the generator config, prints the SealedSecret;
//! - KRM function (`kustomize build --enable-alpha-plugins --enable-exec`): reads a
//!   `ResourceList` on stdin, writes it back on stdout with the SealedSecret added.
//!
//! Files are read only from inside the kustomization's directory, as kustomize's own
//! generators do: a remote base must not be able to seal `~/.ssh/id_rsa` to its own key. For
//! the same reason a bare `KEY` line in an env file reads the environment only for the names
//! the user lists in `SEALANT_ALLOW_ENV`, which no kustomization can set (docs/workflow.md).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use sealant_core::object::{read_documents, to_text};
use sealant_core::sealing::SealOptions;
use sealant_core::{Format, ObjectMeta, seal_secret};
use serde::Deserialize;
use serde_json::Value;

use crate::args::{CertSourceArgs, ClusterArgs, KustomizeArgs};
use crate::error::Result;
pub use crate::error::{GENERATOR_API_VERSION, GENERATOR_KIND};
use crate::io::IoError;

pub use crate::error::KustomizeError;
use crate::literal::{ALLOW_ENV_VAR, EnvLookup, LiteralSources, build_secret_with};

/// The generator config (kustomize's `secretGenerator` fields, plus `cert` and `scope`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GeneratorConfig {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    /// Certificate: a path (relative to the kustomization), or an http(s)/file URL.
    #[serde(default)]
    cert: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    literals: Vec<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    envs: Vec<String>,
    #[serde(default)]
    options: GeneratorOptions,
}

#[derive(Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GeneratorOptions {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    immutable: Option<bool>,
}

/// `sealant kustomize [CONFIG]`.
///
/// # Errors
/// Bad configs, files outside the kustomization, an unusable certificate, sealing errors.
pub fn run(args: &KustomizeArgs) -> Result<()> {
    let allow_env = allowed_env_names();
    match &args.config {
        Some(path) => {
            let text = crate::io::read_file_text(path)?;
            // kustomize names the kustomization's directory; run by hand, the config's own
            // directory is the root.
            let root = match std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_ROOT") {
                Some(root) if !root.is_empty() => PathBuf::from(root),
                _ => match path.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                    _ => current_dir()?,
                },
            };
            let config = parse_config(&text.text, &path.display().to_string())?;
            let sealed = generate(config, &root, &allow_env)?;
            let text = to_text(&sealed, Format::Yaml)?;
            crate::io::write_stdout(text.as_bytes())
        }
        None => {
            let input = crate::io::read_stdin()?;
            let output = krm(&input.text, &current_dir()?, &allow_env)?;
            crate::io::write_stdout(output.as_bytes())
        }
    }
}

/// The environment variables a generator may read for bare `KEY` lines: the names listed,
/// comma-separated, in `SEALANT_ALLOW_ENV` (none without it).
fn allowed_env_names() -> Vec<String> {
    std::env::var(ALLOW_ENV_VAR)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

fn current_dir() -> Result<PathBuf> {
    Ok(std::env::current_dir().map_err(IoError::CurrentDir)?)
}

/// The KRM function: `ResourceList` in, the same list with the SealedSecret appended out.
/// `root` is the working directory, which must be the kustomization that declares the generator.
fn krm(input: &str, root: &Path, allow_env: &[String]) -> Result<String> {
    let mut documents: Vec<Value> = read_documents(input).map_err(KustomizeError::KrmInput)?;
    let mut list = match (documents.len(), documents.pop()) {
        (1, Some(list)) if list.get("kind").and_then(Value::as_str) == Some("ResourceList") => list,
        _ => {
            return Err(KustomizeError::NotResourceList.into());
        }
    };
    let config = list
        .get("functionConfig")
        .cloned()
        .ok_or(KustomizeError::NoFunctionConfig)?;
    let config: GeneratorConfig = serde_json::from_value(config)
        .map_err(|e| KustomizeError::InvalidFunctionConfig(redact_quoted(&e.to_string())))?;
    check_declared(root, &config)?;
    let sealed = generate(config, root, allow_env)?;
    let sealed = serde_json::to_value(&sealed).map_err(|source| IoError::Encode {
        what: "the SealedSecret",
        source,
    })?;
    let object = list
        .as_object_mut()
        .ok_or(KustomizeError::ResourceListNotObject)?;
    // The config may hold literals: they are not echoed back.
    object.remove("functionConfig");
    match object.get_mut("items") {
        Some(Value::Array(items)) => items.push(sealed),
        _ => {
            object.insert("items".into(), Value::Array(vec![sealed]));
        }
    }
    Ok(to_text(&list, Format::Yaml)?)
}

fn parse_config(text: &str, origin: &str) -> Result<GeneratorConfig> {
    let mut configs: Vec<GeneratorConfig> =
        read_documents(text).map_err(|source| KustomizeError::ConfigMalformed {
            origin: origin.to_owned(),
            source,
        })?;
    match (configs.len(), configs.pop()) {
        (1, Some(config)) => Ok(config),
        (count, _) => Err(KustomizeError::ConfigCount {
            origin: origin.to_owned(),
            count,
        }
        .into()),
    }
}

/// The names of a kustomization file, as kustomize looks for them.
const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// KRM mode resolves files against the working directory. kustomize runs an exec function in
/// the directory of the kustomization that lists it under `generators:`; another runner (an
/// older kustomize, kpt, a shell elsewhere) may leave it in the user's overlay while the
/// generator comes from a remote base, whose `files:` would then read the overlay's files. So
/// the working directory must hold a kustomization that declares this very generator, inline or
/// as a file inside it (docs/workflow.md).
fn check_declared(root: &Path, config: &GeneratorConfig) -> Result<()> {
    for file in KUSTOMIZATION_FILES {
        let path = root.join(file);
        if !path.is_file() {
            continue;
        }
        let text = crate::io::read_file_text(&path)?;
        let documents: Vec<Value> = read_documents(&text.text).map_err(|source| {
            KustomizeError::KustomizationMalformed {
                path: path.clone(),
                source,
            }
        })?;
        let entries = documents
            .iter()
            .filter_map(|document| document.get("generators").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str);
        for entry in entries {
            if declared_generators(root, entry)
                .iter()
                .any(|declared| declared.same_generator(config))
            {
                return Ok(());
            }
        }
    }
    Err(KustomizeError::NotDeclared {
        root: root.to_path_buf(),
        name: config
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| "(unnamed)".to_owned()),
    }
    .into())
}

/// The generator configs a `generators:` entry declares: inline YAML, or a file inside `root`
/// (kustomize's rule: an entry that parses as objects is inline, anything else a path).
/// Directories, URLs and paths that leave `root` declare nothing here.
fn declared_generators(root: &Path, entry: &str) -> Vec<GeneratorConfig> {
    let parse = |text: &str| -> Option<Vec<Value>> {
        let documents: Vec<Value> = read_documents(text).ok()?;
        let documents: Vec<Value> = documents.into_iter().filter(|d| !d.is_null()).collect();
        (!documents.is_empty() && documents.iter().all(Value::is_object)).then_some(documents)
    };
    let documents = match parse(entry) {
        Some(inline) => inline,
        None => {
            let Ok(path) = resolve(root, entry) else {
                return Vec::new();
            };
            if !path.is_file() {
                return Vec::new();
            }
            match crate::io::read_file_text(&path) {
                Ok(text) => parse(&text.text).unwrap_or_default(),
                Err(_) => return Vec::new(),
            }
        }
    };
    documents
        .into_iter()
        .filter_map(|document| serde_json::from_value(document).ok())
        .collect()
}

impl GeneratorConfig {
    /// The same generator, whatever annotations and labels kustomize added on the way.
    fn same_generator(&self, other: &Self) -> bool {
        self.api_version == other.api_version
            && self.kind == other.kind
            && self.metadata.name == other.metadata.name
            && self.metadata.namespace == other.metadata.namespace
            && self.cert == other.cert
            && self.scope == other.scope
            && self.type_ == other.type_
            && self.literals == other.literals
            && self.files == other.files
            && self.envs == other.envs
            && self.options == other.options
    }
}

/// Seals the Secret the config describes; bare `KEY` lines in its env files read only the
/// environment variables named in `allow_env`.
fn generate(
    config: GeneratorConfig,
    root: &Path,
    allow_env: &[String],
) -> Result<sealant_core::SealedSecret> {
    if config.kind.as_deref() != Some(GENERATOR_KIND)
        || config.api_version.as_deref() != Some(GENERATOR_API_VERSION)
    {
        return Err(KustomizeError::NotGenerator.into());
    }
    let name = config
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or(KustomizeError::NoName)?;
    let scope = crate::seal::parse_scope(config.scope.as_deref())?;
    let files = config
        .files
        .iter()
        .map(|spec| {
            let (key, path) = match spec.split_once('=') {
                Some((key, path)) => (Some(key), path),
                None => (None, spec.as_str()),
            };
            let resolved = resolve(root, path)?;
            Ok(match key {
                Some(key) => format!("{key}={}", resolved.display()),
                None => resolved.display().to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let envs = config
        .envs
        .iter()
        .map(|path| resolve(root, path))
        .collect::<Result<Vec<_>>>()?;
    let sources = LiteralSources {
        literals: &config.literals,
        files: &files,
        env_files: &envs,
    };
    if sources.is_empty() {
        return Err(KustomizeError::NoSources(name).into());
    }
    let mut secret = build_secret_with(
        &name,
        config.metadata.namespace.clone(),
        config.type_.as_deref().unwrap_or("Opaque"),
        &sources,
        EnvLookup::Only(allow_env),
    )?;
    if !config.options.labels.is_empty() {
        secret.metadata.labels = Some(config.options.labels);
    }
    if !config.options.annotations.is_empty() {
        secret.metadata.annotations = Some(config.options.annotations);
    }
    secret.immutable = config.options.immutable;

    let cert_source = config
        .cert
        .or_else(|| std::env::var("SEALED_SECRETS_CERT").ok())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| KustomizeError::NoCert(name.clone()))?;
    let cert_source = if cert_source.contains("://") || Path::new(&cert_source).is_absolute() {
        cert_source
    } else {
        root.join(&cert_source).display().to_string()
    };
    let loaded = crate::certsrc::load(
        &CertSourceArgs {
            cert: Some(cert_source),
            no_cert_cache: true,
        },
        &offline_cluster(),
        &crate::cluster::KubeOverrides::default(),
    )?;
    crate::certsrc::check_usable(&loaded)?;
    let options = SealOptions {
        name: None,
        scope,
        namespace_flag: None,
        default_namespace: String::new(),
        allow_empty_data: false,
    };
    seal_secret(secret, loaded.cert.public_key(), &options).map_err(|e| match e {
        sealant_core::SealingError::MissingNamespace => KustomizeError::MissingNamespace(e).into(),
        e => e.into(),
    })
}

/// Cluster settings for `certsrc::load`, which only uses them without a certificate (never here).
fn offline_cluster() -> ClusterArgs {
    ClusterArgs {
        kubeconfig: None,
        context: None,
        namespace: None,
        controller_name: "sealed-secrets-controller".into(),
        controller_namespace: "kube-system".into(),
    }
}

/// `root/path`, refused unless `path` is relative and stays inside `root` (symlinks included).
fn resolve(root: &Path, path: &str) -> Result<PathBuf> {
    let outside = || KustomizeError::Outside {
        path: path.to_owned(),
        root: root.to_path_buf(),
    };
    let relative = Path::new(path);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        return Err(outside().into());
    }
    let joined = root.join(relative);
    let canonical = joined
        .canonicalize()
        .map_err(|e| IoError::file("cannot read", &joined, e))?;
    let canonical_root = root
        .canonicalize()
        .map_err(|e| IoError::file("cannot read", root, e))?;
    if !canonical.starts_with(&canonical_root) {
        return Err(outside().into());
    }
    Ok(canonical)
}

/// Replaces double-quoted parts of a parser message (`invalid type: string "hunter2"`).
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for ch in message.chars() {
        if ch == '"' {
            if quoted {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(ch);
        }
    }
    if quoted {
        out.push_str("…\"");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("k");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("pw.txt"), "x").unwrap();
        std::fs::write(dir.path().join("outside.txt"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), root.join("link")).unwrap();
        assert!(resolve(&root, "pw.txt").is_ok());
        for bad in [
            "../outside.txt",
            "/etc/passwd",
            "link",
            "a/../../outside.txt",
        ] {
            let err = resolve(&root, bad).unwrap_err();
            assert!(err.message().contains("outside"), "{bad}: {err}");
        }
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "hunter2", expected a sequence"#),
            r#"invalid type: string "…", expected a sequence"#
        );
    }

    const GENERATOR: &str = "apiVersion: sealant.dev/v1alpha1\nkind: SealedSecretGenerator\nmetadata:\n  name: a\n  namespace: prod\ncert: cert.pem\nfiles:\n- pw.txt\n";

    fn config(text: &str) -> GeneratorConfig {
        parse_config(text, "test").unwrap()
    }

    #[test]
    fn krm_runs_only_where_the_generator_is_declared() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let wanted = config(GENERATOR);
        // kustomize adds annotations on the way: they do not matter.
        let mut annotated = config(GENERATOR);
        annotated.metadata.annotations = Some(BTreeMap::from([(
            "config.kubernetes.io/local-config".to_owned(),
            "true".to_owned(),
        )]));
        let other = config(&GENERATOR.replace("pw.txt", "other.txt"));

        let err = check_declared(root, &wanted).unwrap_err();
        assert!(err.message().contains("not the kustomization"), "{err}");

        std::fs::write(root.join("gen.yaml"), GENERATOR).unwrap();
        std::fs::write(root.join("kustomization.yaml"), "generators:\n- gen.yaml\n").unwrap();
        assert!(check_declared(root, &wanted).is_ok());
        assert!(check_declared(root, &annotated).is_ok());
        assert!(
            check_declared(root, &other).is_err(),
            "another generator's files"
        );

        let inline = format!(
            "generators:\n- |-\n{}",
            GENERATOR
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>()
        );
        std::fs::remove_file(root.join("gen.yaml")).unwrap();
        std::fs::write(root.join("kustomization.yaml"), &inline).unwrap();
        assert!(check_declared(root, &wanted).is_ok(), "{inline}");

        // A listed directory or a path out of the kustomization declares nothing here.
        let sub = root.join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("gen.yaml"), GENERATOR).unwrap();
        std::fs::write(sub.join("kustomization.yaml"), "resources:\n- gen.yaml\n").unwrap();
        std::fs::write(root.join("kustomization.yaml"), "generators:\n- sub\n").unwrap();
        assert!(check_declared(root, &wanted).is_err());
        std::fs::write(
            sub.join("kustomization.yaml"),
            "generators:\n- ../gen.yaml\n",
        )
        .unwrap();
        std::fs::write(root.join("gen.yaml"), GENERATOR).unwrap();
        assert!(check_declared(&sub, &wanted).is_err());
    }
}
