//! Prints the SealedSecret CRD (defined in `sealant_k8s::crd`):
//! `cargo run -p sealant-controller --bin crdgen > deploy/crd.yaml`.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    match sealant_k8s::crd::crd_yaml() {
        Ok(yaml) => match std::io::stdout().write_all(yaml.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cannot write the CRD: {err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("error: cannot render the CRD: {err}");
            ExitCode::FAILURE
        }
    }
}
