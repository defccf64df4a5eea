//! The `sealant` command-line tool. `main` only calls [`run`]; everything else is here so that
//! it can be tested, and every crypto and format step comes from `sealant_core`.
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

pub mod args;
pub mod certsrc;
pub mod cluster;
pub mod commands;
pub mod error;
pub mod io;
pub mod literal;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::args::{Cli, Command};
use crate::error::{CliError, Result};

/// Runs the CLI with these arguments (the first is the program name) and returns the exit code.
pub fn run(argv: Vec<OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(error::EXIT_USAGE));
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Seal(args) => commands::seal(&args),
        Command::Unseal(args) => commands::unseal_cmd(&args),
        Command::Cert(args) => commands::cert(&args),
        Command::Validate(args) => commands::validate(&args),
        Command::Reencrypt(args) => commands::reencrypt(&args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "sealant", &mut out);
            io::write_stdout(&out)
        }
        Command::Man => io::write_stdout(&man_page()?),
        Command::Kubeseal { args } => {
            let _ = args;
            Err(CliError::usage("kubeseal mode is not available yet"))
        }
    }
}

/// The man page, generated from the clap definitions.
///
/// # Errors
/// Only if rendering fails.
pub fn man_page() -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| CliError::new(format!("cannot render the man page: {e}")))?;
    Ok(out)
}

/// A single-threaded tokio runtime for the commands that talk to a cluster.
///
/// # Errors
/// Only if the OS refuses the runtime's resources.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))
}
