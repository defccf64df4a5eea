//! Errors of the kustomize generator.

use std::path::PathBuf;

/// apiVersion of the generator config.
pub const GENERATOR_API_VERSION: &str = "sealant.dev/v1alpha1";

/// kind of the generator config.
pub const GENERATOR_KIND: &str = "SealedSecretGenerator";

/// What a generator config holds (in hints).
pub(crate) const CONFIG_HINT: &str = "fields: metadata.name, metadata.namespace, cert, scope, type, literals, files, envs, options (labels, annotations, immutable); see docs/workflow.md";

/// Why the generator could not produce its SealedSecret. Messages never quote config values
/// (they may be literals).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KustomizeError {
    /// Stdin is not YAML or JSON.
    #[error("stdin: {0}")]
    KrmInput(#[source] sealant_core::FormatError),
    /// Stdin is not one `ResourceList`.
    #[error("stdin is not one ResourceList")]
    NotResourceList,
    /// The `ResourceList` has no `functionConfig`.
    #[error("the ResourceList has no functionConfig")]
    NoFunctionConfig,
    /// The `functionConfig` is not a generator config (the message has its quoted parts
    /// redacted).
    #[error("functionConfig: invalid {GENERATOR_KIND}: {0}")]
    InvalidFunctionConfig(String),
    /// The `ResourceList` is not a mapping.
    #[error("the ResourceList is not an object")]
    ResourceListNotObject,
    /// The config file is not YAML or JSON.
    #[error("{origin}: {source}")]
    ConfigMalformed {
        /// The file.
        origin: String,
        /// Why.
        #[source]
        source: sealant_core::FormatError,
    },
    /// The config file holds more or less than one document.
    #[error("{origin}: expected one {GENERATOR_KIND}, found {count} documents")]
    ConfigCount {
        /// The file.
        origin: String,
        /// How many documents it holds.
        count: usize,
    },
    /// A kustomization file that is not YAML.
    #[error("{}: {source}", path.display())]
    KustomizationMalformed {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: sealant_core::FormatError,
    },
    /// The working directory is not the kustomization that declares the generator.
    #[error(
        "the working directory {} is not the kustomization that declares {GENERATOR_KIND} {name}",
        root.display()
    )]
    NotDeclared {
        /// The working directory.
        root: PathBuf,
        /// The generator's name.
        name: String,
    },
    /// The config is of another kind.
    #[error("the config is not a {GENERATOR_KIND} ({GENERATOR_API_VERSION})")]
    NotGenerator,
    /// The config has no name.
    #[error("{GENERATOR_KIND} has no metadata.name")]
    NoName,
    /// The config names nothing to seal.
    #[error("{GENERATOR_KIND} {0} has no literals, files or envs")]
    NoSources(String),
    /// The config names no certificate.
    #[error("{GENERATOR_KIND} {0} names no certificate")]
    NoCert(String),
    /// A namespaced scope without a namespace: a build never guesses it.
    #[error("{0}")]
    MissingNamespace(#[source] sealant_core::SealingError),
    /// A path that leaves the kustomization directory.
    #[error("{path:?} is outside the kustomization directory {}", root.display())]
    Outside {
        /// The path as given.
        path: String,
        /// The kustomization directory.
        root: PathBuf,
    },
}

impl KustomizeError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::KrmInput(_) => {
                "the KRM function protocol sends a ResourceList on stdin; to run the exec plugin protocol, pass the config file"
            }
            Self::NotResourceList => {
                "run this as a kustomize plugin (see docs/workflow.md), or pass the generator config file"
            }
            Self::NoFunctionConfig => {
                "kustomize passes the SealedSecretGenerator as functionConfig"
            }
            Self::InvalidFunctionConfig(_) | Self::ConfigMalformed { .. } | Self::NoSources(_) => {
                CONFIG_HINT
            }
            Self::KustomizationMalformed { source, .. } => {
                return super::format_hint(source).map(str::to_owned);
            }
            Self::NotDeclared { .. } => {
                "a KRM function reads files relative to the kustomization that lists it under `generators:` (inline, or as a file next to it), and kustomize runs it there; run by hand, run it in that directory, or use the exec plugin layout (docs/workflow.md)"
            }
            Self::NotGenerator => {
                return Some(format!(
                    "start it with apiVersion: {GENERATOR_API_VERSION} and kind: {GENERATOR_KIND}"
                ));
            }
            Self::NoName => "metadata.name is the name of the SealedSecret (and of the Secret)",
            Self::NoCert(_) => {
                "set `cert:` to the controller's certificate (a file next to the kustomization, or a URL), or export SEALED_SECRETS_CERT; a build never asks the cluster"
            }
            Self::MissingNamespace(_) => {
                "set metadata.namespace on the generator to the namespace the kustomization deploys to (or scope: cluster-wide): a build never guesses it"
            }
            Self::Outside { .. } => {
                "generators read only files inside the kustomization's directory, as kustomize's own do"
            }
            Self::ResourceListNotObject | Self::ConfigCount { .. } => return None,
        };
        Some(hint.to_owned())
    }
}
