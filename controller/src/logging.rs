//! Logging with `tracing`: text or JSON, and upstream's split of INFO and below to stdout,
//! WARN and above to stderr.

use tracing::Level;
use tracing_subscriber::fmt::writer::MakeWriterExt as _;

/// Installs the global subscriber.
///
/// # Errors
/// An unknown level or format.
pub fn init(level: &str, format: &str, info_to_stdout: bool) -> Result<(), String> {
    let level: Level = level
        .parse()
        .map_err(|_| format!("invalid --log-level {level:?}: use DEBUG, INFO, WARN or ERROR"))?;
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false);
    let result = match (format, info_to_stdout) {
        ("text", true) => builder
            .with_writer(
                std::io::stdout
                    .with_min_level(Level::INFO)
                    .and(std::io::stderr.with_max_level(Level::WARN)),
            )
            .try_init(),
        ("text", false) => builder.with_writer(std::io::stderr).try_init(),
        ("json", true) => builder
            .json()
            .with_writer(
                std::io::stdout
                    .with_min_level(Level::INFO)
                    .and(std::io::stderr.with_max_level(Level::WARN)),
            )
            .try_init(),
        ("json", false) => builder.json().with_writer(std::io::stderr).try_init(),
        (other, _) => return Err(format!("invalid --log-format {other:?}: use text or json")),
    };
    result.map_err(|e| format!("cannot set up logging: {e}"))
}
