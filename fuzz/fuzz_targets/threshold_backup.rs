//! m-of-n key backups and their shares (docs/format.md, "Threshold backups") on arbitrary
//! bytes.
//!
//! Properties (besides "never panics"):
//! - what parses as a backup is recognized as one, and re-reads equal from its own text;
//! - what parses as a share re-reads equal from its own text, and never shows its value in
//!   `Debug`;
//! - combining a parsed backup with the vector's share (core/tests/vectors/threshold) never
//!   succeeds with one share: too few, or foreign.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealant_core::backup::threshold::{is_share, is_threshold_backup};
use sealant_core::backup::{BackupError, Share, ThresholdBackup, ThresholdError};

fn vector_share() -> Share {
    Share::parse(include_bytes!(
        "../../core/tests/vectors/threshold/share-3.txt"
    ))
    .expect("the vector share parses")
}

fuzz_target!(|data: &[u8]| {
    if let Ok(backup) = ThresholdBackup::parse(data) {
        assert!(is_threshold_backup(data));
        let text = backup.to_text();
        assert_eq!(
            ThresholdBackup::parse(text.as_bytes()).as_ref(),
            Ok(&backup)
        );
        match backup.combine(&[vector_share()]) {
            Err(BackupError::Threshold(
                ThresholdError::NotEnoughShares { .. } | ThresholdError::ForeignShare { .. },
            )) => {}
            other => panic!("one share combined into {other:?}"),
        }
    }
    if let Ok(share) = Share::parse(data) {
        assert!(is_share(data));
        let text = share.to_text();
        assert_eq!(
            Share::parse(text.expose_secret().as_bytes()).as_ref(),
            Ok(&share)
        );
        let value = text.expose_secret().lines().last().unwrap_or_default();
        assert!(!format!("{share:?}").contains(value));
    }
});
