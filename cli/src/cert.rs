//! `sealant cert`: the sealing certificate and the controller's age recipient.

use crate::args::{CertArgs, CertSourceArgs, ClusterArgs};
use crate::certsrc;
use crate::cluster::KubeOverrides;
use crate::error::Result;

pub use crate::error::CertError;

/// `--cert ""` (also an empty `SEALED_SECRETS_CERT`) means no certificate was given, as upstream
/// (its default is `""`): fetch it from the controller rather than fail to read a file named "".
fn cert_source(args: &CertSourceArgs) -> CertSourceArgs {
    CertSourceArgs {
        cert: args.cert.clone().filter(|cert| !cert.is_empty()),
        ..args.clone()
    }
}

/// `sealant cert`: the certificate on stdout (or `-w`), its details on stderr, and, when it
/// comes from a controller that publishes one, the controller's age recipient on stderr too.
/// With `--age`, only the recipient, on stdout (or `-w`).
///
/// # Errors
/// The certificate cannot be loaded or saved; with `--age`, no recipient.
pub fn run(args: &CertArgs) -> Result<()> {
    let source = cert_source(&args.cert);
    if args.age {
        if source.cert.is_some() {
            return Err(CertError::AgeWithCert.into());
        }
        let recipient =
            controller_recipient(&args.cluster)?.ok_or_else(|| CertError::NoAgeRecipient {
                namespace: args.cluster.controller_namespace.clone(),
                name: args.cluster.controller_name.clone(),
            })?;
        eprintln!("age:         {recipient} ({})", recipient.fingerprint());
        return crate::io::emit(
            args.output_file.as_deref(),
            format!("{recipient}\n").as_bytes(),
        );
    }
    let loaded = certsrc::load(&source, &args.cluster, &KubeOverrides::default())?;
    let cert = &loaded.cert;
    let now = time::OffsetDateTime::now_utc();
    let days_left = (cert.not_after() - now).whole_days();
    let validity = if days_left < 0 {
        format!(
            "EXPIRED on {} (sealing to it is refused)",
            cert.not_after().date()
        )
    } else {
        format!("until {} ({days_left} days left)", cert.not_after().date())
    };
    eprintln!(
        "source:      {}\nfingerprint: {}\nkey:         RSA {} bits\nvalid:       from {} {validity}",
        loaded.origin,
        cert.public_key().fingerprint(),
        cert.public_key().bits(),
        cert.not_before().date(),
    );
    if source.cert.is_none() {
        // Informational: a controller without age keys, or a failed lookup, is no error here.
        match controller_recipient(&args.cluster) {
            Ok(Some(recipient)) => eprintln!(
                "age:         {recipient}\nage key:     {} (print it alone: sealant cert --age)",
                recipient.fingerprint()
            ),
            Ok(None) => eprintln!("age:         none (the controller publishes no age recipient)"),
            Err(err) => eprintln!("warning: {err}"),
        }
    }
    crate::io::emit(args.output_file.as_deref(), &loaded.pem)
}

fn controller_recipient(cluster: &ClusterArgs) -> Result<Option<sealant_core::AgeRecipient>> {
    crate::runtime()?.block_on(async {
        let controller =
            crate::cluster::Controller::connect(cluster, &KubeOverrides::default()).await?;
        Ok(controller.recipient().await?)
    })
}
