//! `sealant validate`: asks the controller whether it can open each SealedSecret.

use sealant_core::SealedSecret;

use crate::args::{ClusterArgs, ValidateArgs};
use crate::cluster::KubeOverrides;
use crate::error::Result;
use crate::inputs::{compact_json, describe, parse_sealed};
use crate::io::read_inputs;

pub use crate::error::ValidateError;

/// `sealant validate`.
///
/// # Errors
/// `unable to decrypt sealed secret: NAME` for the first one the controller cannot open.
pub fn run(args: &ValidateArgs) -> Result<()> {
    let all = parse_sealed(read_inputs(&args.files)?)?;
    validate_sealed(&all, &args.cluster, &KubeOverrides::default(), true)
}

/// Asks the controller whether it can unseal each SealedSecret; with `report_ok`, names each
/// one that passes on stderr.
///
/// # Errors
/// `unable to decrypt sealed secret: NAME` for the first one the controller cannot open, or
/// an unreachable controller.
pub fn validate_sealed(
    all: &[SealedSecret],
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
    report_ok: bool,
) -> Result<()> {
    crate::runtime()?.block_on(async {
        let controller = crate::cluster::Controller::connect(cluster, overrides).await?;
        for sealed in all {
            if !controller.verify(compact_json(sealed)?).await? {
                return Err(ValidateError::CannotDecrypt(
                    sealed.metadata.name_or_empty().to_owned(),
                )
                .into());
            }
            if report_ok {
                eprintln!("ok: {}", describe(sealed));
            }
        }
        Ok(())
    })
}
