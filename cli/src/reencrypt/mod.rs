//! `sealant reencrypt`: re-encrypting SealedSecrets to the newest key, offline
//! (`--private-key OLD --cert NEW`) or through the controller (`/v1/rotate`).
//!
//! With PATHs, files are rewritten in place and only where needed: each SealedSecret document
//! that is stale gets its `encryptedData` values and `sealant.dev/key-hint` annotation replaced
//! inside the file's text, so comments, key order, quoting and the other documents stay byte
//! for byte. The edit is checked by parsing the document again; when it cannot be done that
//! way (a v1 `spec.data` blob, a value folded over several lines, a template that claimed
//! another scope) only that document is rendered anew.
//!
//! SealedSecrets inside a `kind: List` document (`kubectl get sealedsecrets -o yaml` prints
//! one) are found and edited the same way, within the lines of their list item; the whole
//! List is checked by parsing it again, and rendered anew (with a warning: its comments and
//! formatting go) only when the edit cannot be done in place, as for JSON Lists.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sealant_core::rotate::{Rotated, reencrypt};
use sealant_core::sealing::{KEY_HINT_ANNOTATION, key_hint};
use sealant_core::{
    Certificate, Fingerprint, Format, KeyRing, SealedSecret, UnsealOptions, unseal,
};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::args::{CertSourceArgs, ClusterArgs, ReencryptArgs};
use crate::cluster::KubeOverrides;
use crate::error::{CliError, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE, Result};
use crate::inputs::{compact_json, parse_sealed};
use crate::io::IoError;
use crate::io::emit_to_output;
use crate::unseal::load_keys;
use edit::rewrite;
use scan::{offline_outcome, online_outcomes, scan};

mod edit;
mod scan;

pub use crate::error::ReencryptError;
use crate::io::read_inputs;
use crate::manifest::{documents, is_sealed_secret_kind};

/// `sealant reencrypt`; returns the exit code.
///
/// # Errors
/// Bad flags, unreadable keys, certificate or paths, an unreachable controller.
pub fn run(args: &ReencryptArgs) -> Result<u8> {
    if args.paths.is_empty() && (args.check || args.dry_run) {
        return Err(ReencryptError::CheckWithoutPaths.into());
    }
    // `--check --cert NEW` needs no private key: key hints say what is stale.
    let hints_only = args.check && args.private_key.is_empty();
    let offline = if hints_only {
        None
    } else {
        offline_keys(args)?
    };
    if args.paths.is_empty() {
        stream(args, offline.as_ref())?;
        return Ok(EXIT_SUCCESS);
    }
    let files = collect_files(&args.paths)?;
    let mode = if args.check {
        Mode::Check
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    let newest = match (&offline, &args.cert) {
        (Some(keys), _) => Some(keys.cert.public_key().fingerprint().clone()),
        (None, Some(cert)) => Some(newest_cert(args, cert)?.public_key().fingerprint().clone()),
        (None, None) => None,
    };
    let progress = Progress::new();
    let scanned = parallel_map(&files, |path| scan(path), None);
    let mut jobs: Vec<(usize, usize)> = Vec::new();
    for (file_index, file) in scanned.iter().enumerate() {
        if let Ok(file) = file {
            jobs.extend((0..file.found.len()).map(|doc| (file_index, doc)));
        }
    }
    let newest = match newest {
        Some(one) => Newest::One(one),
        None => controller_certs(args, &scanned)?,
    };
    let outcomes: Vec<Outcome> = match (&offline, &newest) {
        (Some(keys), Newest::One(newest)) => parallel_map(
            &jobs,
            |&(file, doc)| match &scanned[file] {
                Ok(file) => offline_outcome(&file.found[doc], keys, newest, mode),
                Err(_) => Outcome::Failed("unreadable".into()),
            },
            Some(&progress),
        ),
        _ => online_outcomes(args, &scanned, &jobs, &newest, mode)?,
    };
    progress.finish();

    let mut per_file: Vec<Vec<(usize, Outcome)>> = scanned.iter().map(|_| Vec::new()).collect();
    for ((file, doc), outcome) in jobs.iter().zip(outcomes) {
        if let Some(list) = per_file.get_mut(*file) {
            list.push((*doc, outcome));
        }
    }
    let mut summary = Summary {
        files: files.len(),
        ..Summary::default()
    };
    let mut report = String::new();
    let mut errors = String::new();
    // Whether any error came with its own hint; if none did, the general one is added.
    let mut hinted = false;
    for ((path, file), outcomes) in files.iter().zip(&scanned).zip(per_file) {
        let file = match file {
            Ok(file) => file,
            Err(err) => {
                summary.failed += 1;
                hinted |= report_error(&mut errors, err);
                continue;
            }
        };
        let mut replacements = Vec::new();
        for (doc, outcome) in outcomes {
            let Some(found) = file.found.get(doc) else {
                continue;
            };
            let place = format!("{}:{} {}", path.display(), found.line, found.describe());
            summary.found += 1;
            match outcome {
                Outcome::Current => summary.current += 1,
                Outcome::Stale(why) => {
                    summary.stale += 1;
                    report.push_str(&format!("stale: {place} ({why})\n"));
                }
                Outcome::Rotated(rotated) => {
                    summary.stale += 1;
                    if rotated.template_aligned {
                        errors.push_str(&format!(
                            "warning: {place}: spec.template.metadata named another name, namespace or scope than the SealedSecret; using the SealedSecret's\n"
                        ));
                    }
                    let verb = if mode == Mode::DryRun {
                        "would re-encrypt"
                    } else {
                        "re-encrypted"
                    };
                    report.push_str(&format!("{verb}: {place}\n"));
                    replacements.push((doc, rotated));
                }
                Outcome::Failed(message) => {
                    summary.failed += 1;
                    errors.push_str(&format!("error: {place}: {message}\n"));
                }
            }
        }
        if mode == Mode::Write && !replacements.is_empty() {
            let mut warnings = Vec::new();
            let written = rewrite(
                &file.text,
                file.json,
                &file.found,
                &replacements,
                &mut warnings,
            )
            .and_then(|text| crate::io::write_file_keeping_mode(path, text.as_bytes()));
            for warning in warnings {
                errors.push_str(&format!("warning: {}:{warning}\n", path.display()));
            }
            if let Err(err) = written {
                summary.stale -= replacements.len();
                summary.failed += replacements.len();
                hinted |= report_error(&mut errors, &err);
            }
        }
    }
    if summary.failed > 0 && !hinted {
        errors.push_str(if offline.is_some() {
            "hint: check that --private-key holds the key each one was sealed to, and that its name, namespace and scope were not changed after sealing\n"
        } else {
            "hint: the rest were re-encrypted and written; if the controller did not answer, run the same command again once it does, or re-encrypt offline with --private-key and --cert\n"
        });
    }
    crate::io::write_stdout(report.as_bytes())?;
    let _ = std::io::stderr().lock().write_all(errors.as_bytes());
    summary.print(mode);
    if summary.found == 0 && summary.failed == 0 {
        return Err(ReencryptError::NoSealedSecrets.into());
    }
    Ok(if summary.failed > 0 {
        EXIT_USAGE
    } else if mode == Mode::Check && summary.stale > 0 {
        EXIT_FAILURE
    } else {
        EXIT_SUCCESS
    })
}

/// Adds the error to the report; true when it had a hint.
fn report_error(report: &mut String, err: &CliError) -> bool {
    report.push_str(&err.render());
    report.push('\n');
    err.hint_text().is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    DryRun,
    Write,
}

/// The old keys and the newest certificate of offline re-encryption.
struct OfflineKeys {
    ring: KeyRing,
    cert: Certificate,
}

fn offline_keys(args: &ReencryptArgs) -> Result<Option<OfflineKeys>> {
    let Some(cert) = &args.cert else {
        return Ok(None);
    };
    if args.private_key.is_empty() {
        return Err(ReencryptError::CertWithoutKey.into());
    }
    let ring = load_keys(&args.private_key)?;
    if ring.is_empty() {
        return Err(ReencryptError::NoRsaKey.into());
    }
    Ok(Some(OfflineKeys {
        ring,
        cert: newest_cert(args, cert)?,
    }))
}

/// The newest certificate given with `--cert`, checked usable (not expired).
fn newest_cert(args: &ReencryptArgs, cert: &str) -> Result<Certificate> {
    let loaded = crate::certsrc::load(
        &CertSourceArgs {
            cert: Some(cert.to_owned()),
            no_cert_cache: true,
        },
        &args.cluster,
        &KubeOverrides::default(),
    )?;
    crate::certsrc::check_usable(&loaded)?;
    Ok(loaded.cert)
}

/// The newest key a SealedSecret should be sealed to: the one `--cert` names, or, from the
/// controller, the sealing key of its namespace's owner (docs/multi-tenancy.md, "Tenant keys").
enum Newest {
    One(Fingerprint),
    /// Per namespace, as `/v1/cert.pem?namespace=NS` answered (or why it did not); objects
    /// without a namespace are looked up under `default`, the kubeconfig's namespace.
    PerNamespace {
        default: String,
        keys: BTreeMap<String, std::result::Result<Fingerprint, String>>,
    },
}

impl Newest {
    /// The newest key for `sealed`, or why it is not known.
    fn of(&self, sealed: &SealedSecret) -> std::result::Result<&Fingerprint, String> {
        match self {
            Newest::One(one) => Ok(one),
            Newest::PerNamespace { default, keys } => {
                let namespace = namespace_of(sealed, default);
                match keys.get(namespace) {
                    Some(Ok(newest)) => Ok(newest),
                    Some(Err(why)) => Err(why.clone()),
                    None => Err(format!("no certificate fetched for namespace {namespace}")),
                }
            }
        }
    }
}

/// The namespace whose owner's key seals `sealed`: its own, else `default`.
fn namespace_of<'a>(sealed: &'a SealedSecret, default: &'a str) -> &'a str {
    sealed
        .metadata
        .namespace
        .as_deref()
        .filter(|ns| !ns.is_empty())
        .unwrap_or(default)
}

/// The controller's sealing certificate for each namespace of the scanned SealedSecrets, one
/// request per distinct namespace. With tenant keys off (or an upstream controller) every
/// answer is the cluster certificate, as the plain call gives. A namespace whose answer is an
/// error (a tenant whose keys are not ready) fails only its objects.
///
/// # Errors
/// No cluster, or the controller cannot be reached at all.
fn controller_certs(args: &ReencryptArgs, scanned: &[Result<Scanned>]) -> Result<Newest> {
    let default = crate::cluster::default_namespace(&args.cluster)?;
    let namespaces: BTreeSet<String> = scanned
        .iter()
        .flatten()
        .flat_map(|file| &file.found)
        .map(|found| namespace_of(&found.sealed, &default).to_owned())
        .collect();
    let keys = crate::runtime()?.block_on(async {
        let controller =
            crate::cluster::Controller::connect(&args.cluster, &KubeOverrides::default()).await?;
        let mut keys = BTreeMap::new();
        for namespace in namespaces {
            let newest = match controller.cert_for(Some(&namespace)).await {
                Ok((pem, _)) => Certificate::from_pem(&pem)
                    .map(|cert| cert.public_key().fingerprint().clone())
                    .map_err(|e| {
                        format!("the controller's certificate for namespace {namespace}: {e}")
                    }),
                Err(err @ crate::error::ClusterError::TenantKeysNotReady { .. }) => {
                    Err(err.to_string())
                }
                Err(err) => return Err(CliError::from(err)),
            };
            keys.insert(namespace, newest);
        }
        Ok::<_, CliError>(keys)
    })?;
    Ok(Newest::PerNamespace { default, keys })
}

/// `-f FILE` (or stdin): the re-encrypted objects go to stdout or `-w`, as before.
fn stream(args: &ReencryptArgs, offline: Option<&OfflineKeys>) -> Result<()> {
    let all = parse_sealed(read_inputs(&args.files)?)?;
    let rotated = match offline {
        None => reencrypt_sealed(&all, &args.cluster, &KubeOverrides::default())?,
        Some(keys) => all
            .iter()
            .map(|sealed| {
                reencrypt(sealed, &keys.ring, keys.cert.public_key(), false)
                    .map(|rotated| rotated.sealed)
                    .map_err(|e| rotate_error(sealed, e))
            })
            .collect::<Result<_>>()?,
    };
    emit_to_output(&rotated, &args.output)
}

fn rotate_error(sealed: &SealedSecret, source: sealant_core::rotate::RotateError) -> CliError {
    ReencryptError::Rotate {
        name: sealed.metadata.name_or_empty().to_owned(),
        source,
    }
    .into()
}

/// Files to read: files as given, directories walked.
fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| IoError::file("cannot read", path, e))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| IoError::file("cannot read directory", dir, e))?
        .filter_map(std::result::Result::ok)
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            if name != "target" && name != "node_modules" {
                walk(&path, files)?;
            }
        } else if kind.is_file()
            && [".yaml", ".yml", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// A SealedSecret of a file: a document, or an item of a `List` document.
struct Found {
    /// Byte range of the document in the file's text (the whole List for a List item).
    start: usize,
    end: usize,
    /// Offset of its first content line inside the document (after `---` and comments).
    content: usize,
    line: usize,
    /// The SealedSecret's own value (the item's, for a List item).
    value: Value,
    sealed: SealedSecret,
    /// For a List item: its index, and the whole List (shared by its items) to check an edit.
    list: Option<(usize, Arc<Value>)>,
}

impl Found {
    fn describe(&self) -> String {
        let meta = &self.sealed.metadata;
        let name = match meta.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            Some(ns) => format!("SealedSecret {ns}/{}", meta.name_or_empty()),
            None => format!("SealedSecret {}", meta.name_or_empty()),
        };
        match &self.list {
            Some((index, _)) => format!("{name} (List item {})", index + 1),
            None => name,
        }
    }
}

struct Scanned {
    /// Wiped on drop: a file may hold a plain Secret next to its SealedSecrets.
    text: Zeroizing<String>,
    json: bool,
    found: Vec<Found>,
}

enum Outcome {
    Current,
    Stale(String),
    Rotated(Box<Rotated>),
    Failed(String),
}

/// Where one item of a block-style YAML sequence lies in its document.
#[derive(Debug, PartialEq, Eq)]
struct ItemSpan {
    /// Byte range, from the line of its `-` to the next item's (or the sequence's end).
    start: usize,
    end: usize,
    /// The column of the item's keys (after `- `).
    indent: usize,
}

#[derive(Default)]
struct Summary {
    files: usize,
    found: usize,
    stale: usize,
    current: usize,
    failed: usize,
}

impl Summary {
    fn print(&self, mode: Mode) {
        let stale = match mode {
            Mode::Check => "stale",
            Mode::DryRun => "would re-encrypt",
            Mode::Write => "re-encrypted",
        };
        let rows = [
            ("files scanned", self.files),
            ("SealedSecrets found", self.found),
            (stale, self.stale),
            ("already current", self.current),
            ("failed", self.failed),
        ];
        let mut text = String::new();
        for (label, count) in rows {
            text.push_str(&format!("{label:<20} {count:>6}\n"));
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// A one-line counter on stderr, only when stderr is a terminal.
struct Progress {
    enabled: bool,
    done: AtomicUsize,
}

impl Progress {
    fn new() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            done: AtomicUsize::new(0),
        }
    }

    fn tick(&self, done: usize, total: usize) {
        if self.enabled {
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            let _ = write!(
                std::io::stderr().lock(),
                "\r[{}{}] {done}/{total} SealedSecrets",
                "#".repeat(filled),
                " ".repeat(width - filled.min(width))
            );
        }
    }

    fn step(&self, total: usize) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.tick(done, total);
    }

    fn finish(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }
}

/// Maps `items` on at most `available_parallelism` threads, keeping their order.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    progress: Option<&Progress>,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else {
                        break;
                    };
                    let result = f(item);
                    if let Some(slot) = results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .get_mut(index)
                    {
                        *slot = Some(result);
                    }
                    if let Some(progress) = progress {
                        progress.step(items.len());
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

/// Has the controller re-encrypt each SealedSecret to its newest key; server-set fields are
/// cleared from the answers, as upstream does.
///
/// # Errors
/// The controller refuses or cannot be reached, or answers something else than a SealedSecret.
pub fn reencrypt_sealed(
    all: &[SealedSecret],
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
) -> Result<Vec<SealedSecret>> {
    crate::runtime()?.block_on(async {
        let controller = crate::cluster::Controller::connect(cluster, overrides).await?;
        let mut rotated = Vec::with_capacity(all.len());
        for sealed in all {
            let body = controller.rotate(compact_json(sealed)?).await?;
            rotated.push(rotated_from_answer(&body, rotated.len() + 1)?);
        }
        Ok(rotated)
    })
}

/// Reads the controller's `/v1/rotate` answer as a SealedSecret: upstream's answer lacks
/// apiVersion/kind and carries server-set fields, which are cleared as upstream does.
///
/// # Errors
/// An answer that is not a SealedSecret.
pub fn rotated_from_answer(body: &[u8], index: usize) -> Result<SealedSecret> {
    let mut value: serde_json::Value =
        serde_json::from_slice(body).map_err(ReencryptError::AnswerNotJson)?;
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "apiVersion".into(),
            sealant_core::object::SEALED_SECRET_API_VERSION.into(),
        );
        object.insert(
            "kind".into(),
            sealant_core::object::SEALED_SECRET_KIND.into(),
        );
        if let Some(meta) = object
            .get_mut("metadata")
            .and_then(serde_json::Value::as_object_mut)
        {
            for field in ["creationTimestamp", "deletionTimestamp", "generation"] {
                meta.remove(field);
            }
        }
    }
    Ok(sealant_core::object::sealed_secret_from_value(
        value, index,
    )?)
}

#[cfg(test)]
mod tests;
