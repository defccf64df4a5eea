//! `--git REV`: the working-tree files and their versions at a revision.

use std::path::PathBuf;
use std::process::Command;

use super::{DiffError, FilePair, Side};
use crate::error::Result;
use crate::io::IoError;

fn git(args: &[&str]) -> Result<std::process::Output> {
    Ok(Command::new("git")
        .args(args)
        .output()
        .map_err(DiffError::Git)?)
}

/// The working-tree files and their versions at `rev`.
pub(super) fn git_pairs(rev: &str, files: &[PathBuf]) -> Result<Vec<FilePair>> {
    let verify = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])?;
    if !verify.status.success() {
        return Err(DiffError::NotARevision(rev.to_owned()).into());
    }
    let explicit = !files.is_empty();
    let paths: Vec<PathBuf> = if explicit {
        files.to_vec()
    } else {
        let listed = git(&["diff", "--name-only", "-z", "--relative", rev, "--"])?;
        if !listed.status.success() {
            return Err(DiffError::GitDiff {
                rev: rev.to_owned(),
                stderr: String::from_utf8_lossy(&listed.stderr).trim().to_owned(),
            }
            .into());
        }
        listed
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .filter(|p| {
                let name = p.to_string_lossy().to_ascii_lowercase();
                name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
            })
            .collect()
    };
    let cwd = std::env::current_dir().map_err(IoError::CurrentDir)?;
    let mut pairs = Vec::new();
    for path in paths {
        let relative = match path.strip_prefix(&cwd) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) if path.is_absolute() => {
                return Err(DiffError::OutsideCurrentDir(path).into());
            }
            Err(_) => path.clone(),
        };
        let spec = format!("{rev}:./{}", relative.display());
        let shown = git(&["show", &spec])?;
        let old_text = if shown.status.success() {
            Some(zeroize::Zeroizing::new(
                String::from_utf8(shown.stdout).map_err(|_| DiffError::NotUtf8(spec.clone()))?,
            ))
        } else {
            None
        };
        let new_text = if path.exists() {
            Some(crate::io::read_file_text(&path)?.text)
        } else {
            None
        };
        if old_text.is_none() && new_text.is_none() {
            return Err(DiffError::Absent {
                path,
                rev: rev.to_owned(),
            }
            .into());
        }
        let absent = |origin: String, text: &Option<_>| {
            if text.is_some() {
                origin
            } else {
                format!("{origin} (absent)")
            }
        };
        pairs.push(FilePair {
            old: Side {
                origin: absent(spec, &old_text),
                text: old_text,
            },
            new: Side {
                origin: absent(path.display().to_string(), &new_text),
                text: new_text,
            },
            explicit,
        });
    }
    Ok(pairs)
}
