//! The `sealant` command-line tool. `main` only calls [`run`]; everything else is here so that
//! it can be tested, and every crypto and format step comes from `sealant_core`.
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

pub mod args;
pub mod cert;
pub mod certsrc;
pub mod cluster;
pub mod diff;
pub mod error;
pub mod inputs;
pub mod inspect;
pub mod io;
pub mod keys;
pub mod kubeseal;
pub mod kustomize;
pub mod lint;
pub mod literal;
pub mod man;
pub mod manifest;
pub mod reencrypt;
pub mod seal;
pub mod unseal;
pub mod validate;
pub mod web;
pub mod yamledit;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::args::{Cli, Command};
use crate::error::Result;
use crate::io::IoError;

/// Runs the CLI with these arguments (the first is the program name) and returns the exit code.
///
/// Invoked as `kubeseal` (e.g. through a symlink) or as `sealant kubeseal …`, it runs
/// [`kubeseal::run`], with upstream kubeseal's flags and behaviour.
pub fn run(argv: Vec<OsString>) -> ExitCode {
    if invoked_as_kubeseal(&argv) {
        return kubeseal::run(argv);
    }
    // Linked as a kustomize plugin (`SealedSecretGenerator` for the exec plugin layout,
    // `sealant-kustomize` for a KRM exec function), kustomize calls the binary with the config
    // path or nothing at all.
    if invoked_as_kustomize_plugin(&argv) {
        let args = args::KustomizeArgs {
            config: argv.get(1).map(std::path::PathBuf::from),
        };
        return finish(kustomize::run(&args).map(|()| error::EXIT_SUCCESS), None);
    }
    // `sealant kubeseal …` goes to kubeseal mode before clap sees it, so that every argument,
    // `--help` and `--version` included, is kubeseal's.
    if argv.get(1).is_some_and(|arg| arg == "kubeseal") {
        return kubeseal::run(kubeseal_argv(argv.into_iter().skip(2)));
    }
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(error::EXIT_USAGE));
        }
    };
    let command = cli.command;
    // `lint`, `diff` and `reencrypt` exit 1 for findings and differences, so their errors
    // exit 2, as grep's and diff's do.
    let error_code = matches!(
        command,
        Command::Lint(_) | Command::Diff(_) | Command::Reencrypt(_)
    )
    .then_some(error::EXIT_USAGE);
    finish(dispatch(command), error_code)
}

/// Prints the error, if any, and turns the outcome into the exit code: the error's own, or
/// `error_code` for the commands that keep 1 for their findings.
fn finish(outcome: Result<u8>, error_code: Option<u8>) -> ExitCode {
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("{}", err.render());
            ExitCode::from(error_code.unwrap_or_else(|| err.exit_code()))
        }
    }
}

/// True when argv\[0\]'s file name is one a kustomize plugin link has.
fn invoked_as_kustomize_plugin(argv: &[OsString]) -> bool {
    argv.first()
        .and_then(|program| std::path::Path::new(program).file_name())
        .is_some_and(|name| name == kustomize::GENERATOR_KIND || name == "sealant-kustomize")
}

/// True when argv\[0\]'s file name is `kubeseal`.
fn invoked_as_kubeseal(argv: &[OsString]) -> bool {
    argv.first()
        .and_then(|program| std::path::Path::new(program).file_name())
        .is_some_and(|name| name == "kubeseal" || name == "kubeseal.exe")
}

/// kubeseal's arguments with `kubeseal` as the program name.
fn kubeseal_argv(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    std::iter::once(OsString::from("kubeseal"))
        .chain(args)
        .collect()
}

/// Runs a subcommand; `Ok` carries the exit code (`lint` and `diff` exit 1 for findings and
/// differences).
fn dispatch(command: Command) -> Result<u8> {
    let done = |outcome: Result<()>| outcome.map(|()| error::EXIT_SUCCESS);
    match command {
        Command::Lint(args) => lint::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Reencrypt(args) => reencrypt::run(&args),
        Command::Seal(args) => done(seal::run(&args)),
        Command::Unseal(args) => done(unseal::run(&args)),
        Command::Cert(args) => done(cert::run(&args)),
        Command::Keys(command) => done(keys::run(&command)),
        Command::Validate(args) => done(validate::run(&args)),
        Command::Inspect(args) => done(inspect::run(&args)),
        Command::Kustomize(args) => done(kustomize::run(&args)),
        Command::Web(args) => done(web::run(&args)),
        Command::Completions { shell, kubeseal } => {
            let mut out = Vec::new();
            if kubeseal {
                clap_complete::generate(shell, &mut kubeseal::command(), "kubeseal", &mut out);
            } else {
                clap_complete::generate(shell, &mut Cli::command(), "sealant", &mut out);
            }
            done(io::write_stdout(&out))
        }
        Command::Man { out_dir: None } => done(io::write_stdout(&man_page()?)),
        Command::Man { out_dir: Some(dir) } => man::write_pages(&dir)
            .map(|()| error::EXIT_SUCCESS)
            .map_err(|source| IoError::ManPages { dir, source }.into()),
        // Handled in `run`, before clap, so that every argument is kubeseal's.
        Command::Kubeseal { args } => Ok(kubeseal::run_code(kubeseal_argv(args))),
    }
}

/// The man page, generated from the clap definitions.
///
/// # Errors
/// Only if rendering fails.
pub fn man_page() -> Result<Vec<u8>> {
    Ok(man::page()?)
}

/// A single-threaded tokio runtime for the commands that talk to a cluster.
///
/// # Errors
/// Only if the OS refuses the runtime's resources.
pub fn runtime() -> Result<tokio::runtime::Runtime, IoError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(IoError::Runtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeseal_mode_by_program_name() {
        let is = |program: &str| invoked_as_kubeseal(&[OsString::from(program)]);
        assert!(is("kubeseal") && is("/usr/local/bin/kubeseal") && is("./kubeseal"));
        assert!(!is("sealant") && !is("kubeseal-old") && !is("/opt/kubeseal/sealant"));
        assert!(!invoked_as_kubeseal(&[]));
        assert_eq!(
            kubeseal_argv([OsString::from("--raw")]),
            [OsString::from("kubeseal"), OsString::from("--raw")]
        );
    }
}
