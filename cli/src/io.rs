//! Reading inputs and writing outputs: stdin or files, atomic 0600 output files, quiet exit on
//! a closed pipe.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::Result;

pub use crate::error::IoError;

fn io_error(action: &'static str, path: &Path, err: std::io::Error) -> IoError {
    IoError::file(action, path, err)
}

/// One input text and where it came from (for messages).
pub struct Input {
    /// `stdin` or the path.
    pub origin: String,
    /// The text; wiped on drop since it may be a plain Secret.
    pub text: Zeroizing<String>,
}

/// Reads the given files, or stdin when there are none (`-` also means stdin).
///
/// # Errors
/// Unreadable files, or input that is not UTF-8.
pub fn read_inputs(files: &[PathBuf]) -> Result<Vec<Input>> {
    if files.is_empty() {
        return Ok(vec![read_stdin()?]);
    }
    files
        .iter()
        .map(|path| {
            if path.as_os_str() == "-" {
                read_stdin()
            } else {
                read_file_text(path)
            }
        })
        .collect()
}

/// Reads stdin, telling a user at a terminal what it waits for.
///
/// # Errors
/// Read errors or input that is not UTF-8.
pub fn read_stdin() -> Result<Input> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("(tty detected: expecting json/yaml k8s resource in stdin)");
    }
    let mut bytes = Zeroizing::new(Vec::new());
    stdin.read_to_end(&mut bytes).map_err(IoError::Stdin)?;
    Ok(Input {
        origin: "stdin".into(),
        text: utf8(bytes, "stdin")?,
    })
}

/// Reads stdin as bytes (for `--raw`), without the terminal note.
///
/// # Errors
/// Read errors.
pub fn read_stdin_bytes() -> Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(IoError::Stdin)?;
    Ok(bytes)
}

/// Reads a file as bytes.
///
/// # Errors
/// An error naming the file.
pub fn read_file_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    Ok(std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| io_error("cannot read", path, e))?)
}

/// Reads a file as UTF-8 text.
///
/// # Errors
/// An error naming the file.
pub fn read_file_text(path: &Path) -> Result<Input> {
    let origin = path.display().to_string();
    let bytes = read_file_bytes(path)?;
    Ok(Input {
        text: utf8(bytes, &origin)?,
        origin,
    })
}

fn utf8(mut bytes: Zeroizing<Vec<u8>>, origin: &str) -> Result<Zeroizing<String>> {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(err) => {
            // Wipe the bytes we got back before reporting.
            drop(Zeroizing::new(err.into_bytes()));
            Err(IoError::NotUtf8 {
                origin: origin.to_owned(),
            }
            .into())
        }
    }
}

/// Writes `text` to stdout. A closed pipe (`sealant … | head`) is not an error.
///
/// # Errors
/// Other write errors.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(IoError::Stdout(err).into()),
    }
}

/// Writes a file atomically: a temporary file in the same directory, mode 0600, renamed over
/// the target only when complete. A failure leaves the old file as it was.
///
/// # Errors
/// An error naming the file.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with_mode(path, bytes, 0o600)
}

/// Rewrites an existing file atomically, as [`write_file_atomic`], keeping its permission bits
/// (a tracked manifest stays 0644): for files edited in place, whose mode the user chose.
///
/// # Errors
/// An error naming the file.
pub fn write_file_keeping_mode(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| io_error("cannot write", path, e))?
        .permissions()
        .mode()
        & 0o7777;
    write_atomic_with_mode(path, bytes, mode)
}

fn write_atomic_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    // `-w /dev/stdout` or a named pipe: renaming over it would replace the device (as root, even
    // /dev/stdout itself), so write straight through to anything that is not a regular file.
    if std::fs::metadata(path).is_ok_and(|meta| !meta.is_file()) {
        std::fs::write(path, bytes).map_err(|e| io_error("cannot write", path, e))?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".sealant-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| {
            // tempfile appends `at path "<dir>/.sealant-XXXXXX"`: a random name the user never
            // asked for. Name the output file and its directory instead.
            let text = e.to_string();
            let text = text
                .split_once(" at path ")
                .map_or(text.as_str(), |(t, _)| t);
            IoError::CreateTemp {
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
                source: std::io::Error::new(e.kind(), text),
            }
        })?;
    temp.write_all(bytes)
        .map_err(|e| io_error("cannot write", temp.path(), e))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| io_error("cannot write", temp.path(), e))?;
    temp.persist(path)
        .map_err(|e| io_error("cannot write", path, e.error))?;
    Ok(())
}

/// Output format chosen by -o, else by the file name, else `default`.
pub fn output_format(
    flag: Option<crate::args::OutputFormat>,
    file: Option<&Path>,
    default: sealant_core::Format,
) -> sealant_core::Format {
    if let Some(flag) = flag {
        return flag.into();
    }
    match file.and_then(Path::extension).and_then(|e| e.to_str()) {
        Some("json") => sealant_core::Format::Json,
        Some("yaml" | "yml") => sealant_core::Format::Yaml,
        _ => default,
    }
}

/// Sends output to `-w FILE` (atomically) or stdout.
///
/// # Errors
/// Write errors.
pub fn emit(output_file: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match output_file {
        Some(path) => write_file_atomic(path, bytes),
        None => write_stdout(bytes),
    }
}

/// Writes objects to `sealant`'s `-w`/`-o` choice: format from -o, else the file name, else YAML.
///
/// # Errors
/// Serialization or write errors.
pub(crate) fn emit_to_output<T: serde::Serialize>(
    objects: &[T],
    output: &crate::args::OutputArgs,
) -> Result<()> {
    let file = output.output_file.as_deref();
    emit_objects(
        objects,
        output_format(output.output, file, sealant_core::Format::Yaml),
        file,
    )
}

/// Writes objects as one YAML or JSON stream to `output_file` (atomically) or stdout. The text
/// is wiped afterwards, since it may hold unsealed Secrets.
///
/// # Errors
/// Serialization or write errors.
pub fn emit_objects<T: serde::Serialize>(
    objects: &[T],
    format: sealant_core::Format,
    output_file: Option<&Path>,
) -> Result<()> {
    let text = Zeroizing::new(sealant_core::object::to_text_stream(objects, format)?);
    emit(output_file, text.as_bytes())
}

/// A machine-readable report (`-o json` or `-o yaml` of lint, inspect and diff), ending in a
/// newline. `None` for `-o text`, which each command renders itself.
///
/// # Errors
/// Only if the report cannot be encoded.
pub fn render_report(
    report: &impl serde::Serialize,
    format: crate::args::ReportFormat,
) -> Result<Option<String>, IoError> {
    use crate::args::ReportFormat;
    let mut text = match format {
        ReportFormat::Text => return Ok(None),
        ReportFormat::Json => {
            serde_json::to_string_pretty(report).map_err(|source| IoError::Encode {
                what: "the report",
                source,
            })?
        }
        ReportFormat::Yaml => {
            sealant_core::yaml::to_string(report).map_err(|source| IoError::EncodeYaml {
                what: "the report",
                source,
            })?
        }
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn atomic_write_is_0600_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.yaml");
        std::fs::write(&path, "old").unwrap();
        write_file_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn format_follows_flag_then_extension() {
        use sealant_core::Format::{Json, Yaml};
        assert_eq!(output_format(None, Some(Path::new("a.json")), Yaml), Json);
        assert_eq!(output_format(None, Some(Path::new("a.yml")), Json), Yaml);
        assert_eq!(output_format(None, Some(Path::new("a.txt")), Json), Json);
        assert_eq!(
            output_format(
                Some(crate::args::OutputFormat::Yaml),
                Some(Path::new("a.json")),
                Json
            ),
            Yaml
        );
    }
}
