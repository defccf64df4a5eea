//! `sealant`: see the library crate.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    sealant::run(std::env::args_os().collect())
}
