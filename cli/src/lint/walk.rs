//! Which files `lint` reads: the given files, and the manifests under the given directories.

use std::path::{Path, PathBuf};

use super::{Finding, LintError, unreadable};
use crate::error::Result;

/// Adds `path` (a file, or every manifest under a directory) to `files`, skipping excluded
/// paths, hidden entries and `node_modules` below the given directory.
pub(super) fn collect(
    path: &Path,
    exclude: &[String],
    files: &mut Vec<PathBuf>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    if path == Path::new("-") {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|source| LintError::Path {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        if !is_excluded(path, exclude) {
            files.push(path.to_path_buf());
        }
        return Ok(());
    }
    walk(path, exclude, files, findings);
    Ok(())
}

pub(super) fn walk(
    dir: &Path,
    exclude: &[String],
    files: &mut Vec<PathBuf>,
    findings: &mut Vec<Finding>,
) {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(std::result::Result::ok).collect(),
        Err(err) => {
            findings.push(unreadable(dir, &err.to_string()));
            return;
        }
    };
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        let path = if dir == Path::new(".") {
            PathBuf::from(&*name)
        } else {
            entry.path()
        };
        if is_excluded(&path, exclude) {
            continue;
        }
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        // Directory symlinks are not followed (no loops, no walking out of the tree); file
        // symlinks are read like files.
        if file_type.is_dir() {
            walk(&path, exclude, files, findings);
        } else if (file_type.is_file() || (file_type.is_symlink() && path.is_file()))
            && is_manifest_name(&name)
        {
            files.push(path);
        }
    }
}

/// The path as reports show it (`stdin` for `-`).
pub(super) fn display(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    }
}

pub(super) fn is_manifest_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml")
        || lower.ends_with(".yml")
        || lower.ends_with(".json")
        || name == "Kustomization"
}

pub(super) fn is_kustomization_name(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        matches!(
            n,
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        )
    })
}

/// True when a pattern matches the path or one of its trailing parts (after a `/`).
pub(super) fn is_excluded(path: &Path, patterns: &[String]) -> bool {
    if patterns.is_empty() {
        return false;
    }
    let text = path.to_string_lossy();
    let text = text.strip_prefix("./").unwrap_or(&text);
    let mut suffixes = vec![text];
    suffixes.extend(
        text.match_indices('/')
            .map(|(index, _)| &text[index + 1..])
            .filter(|s| !s.is_empty()),
    );
    patterns.iter().any(|pattern| {
        suffixes
            .iter()
            .any(|s| glob_match(pattern.as_bytes(), s.as_bytes()))
    })
}

/// Glob match: `**` any text, `*` any text without `/`, `?` one character other than `/`.
/// Dynamic programming over positions, so no pattern can make it slow.
pub(super) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // reachable[j]: the pattern read so far can match text[..j].
    let mut reachable = vec![false; text.len() + 1];
    reachable[0] = true;
    let mut p = 0;
    while p < pattern.len() {
        let mut next = vec![false; text.len() + 1];
        match pattern[p] {
            b'*' if pattern.get(p + 1) == Some(&b'*') => {
                // `**/` also matches nothing at all, so `**/x` matches `x`.
                let skip_slash = pattern.get(p + 2) == Some(&b'/');
                let mut any = false;
                for j in 0..=text.len() {
                    any |= reachable[j];
                    next[j] = any;
                }
                p += 2;
                if skip_slash {
                    let mut after = vec![false; text.len() + 1];
                    for j in 0..=text.len() {
                        after[j] = reachable[j] || (j > 0 && next[j - 1] && text[j - 1] == b'/');
                    }
                    next = after;
                    p += 1;
                }
            }
            b'*' => {
                let mut carry = false;
                for j in 0..=text.len() {
                    carry = reachable[j] || (carry && j > 0 && text[j - 1] != b'/');
                    next[j] = carry;
                }
                p += 1;
            }
            c => {
                for j in 1..=text.len() {
                    next[j] = reachable[j - 1]
                        && ((c == b'?' && text[j - 1] != b'/') || (c != b'?' && text[j - 1] == c));
                }
                p += 1;
            }
        }
        reachable = next;
    }
    reachable[text.len()]
}
