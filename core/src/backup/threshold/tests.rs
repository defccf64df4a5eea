use super::*;
use crate::age::plugin::no_messages;
use crate::age::{AgeIdentity, IdentityKind};

fn key_secret() -> Secret {
    crate::backup::tests::new_age_key(IdentityKind::X25519).1
}

fn key_text(secret: &Secret) -> Vec<u8> {
    secret.data.as_ref().unwrap()["age.key"]
        .expose_secret()
        .to_vec()
}

fn holders(n: usize) -> (Vec<AgeIdentity>, Vec<Holder>) {
    let ids: Vec<AgeIdentity> = (0..n)
        .map(|_| AgeIdentity::generate(IdentityKind::X25519).unwrap())
        .collect();
    let holders = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Holder {
            label: Some(format!("holder{i}")),
            recipients: vec![id.recipient().clone().into()],
        })
        .collect();
    (ids, holders)
}

fn open_one(backup: &ThresholdBackup, id: &AgeIdentity) -> Share {
    let mut shares = backup
        .open_shares(&[id.clone().into()], no_messages)
        .unwrap();
    assert_eq!(shares.len(), 1);
    shares.remove(0)
}

#[test]
fn any_two_of_three_restore_and_one_does_not() {
    let secret = key_secret();
    let (ids, holders) = holders(3);
    let text =
        seal_threshold_backup(&holders, 2, std::slice::from_ref(&secret), no_messages).unwrap();
    assert!(is_threshold_backup(text.as_bytes()));
    let backup = ThresholdBackup::parse(text.as_bytes()).unwrap();
    assert_eq!(backup.to_text(), text);
    assert_eq!(backup.threshold(), 2);
    let shares: Vec<Share> = ids.iter().map(|id| open_one(&backup, id)).collect();
    for pair in [[0, 1], [1, 2], [0, 2]] {
        let chosen = [shares[pair[0]].clone(), shares[pair[1]].clone()];
        let restored = backup.combine(&chosen).unwrap();
        assert_eq!(key_text(&restored[0]), key_text(&secret));
    }
    assert_eq!(
        key_text(&backup.combine(&shares).unwrap()[0]),
        key_text(&secret)
    );
    // One share, even given twice, is not enough.
    let one = [shares[0].clone(), shares[0].clone()];
    assert_eq!(
        backup.combine(&one).unwrap_err(),
        BackupError::Threshold(ThresholdError::NotEnoughShares { have: 1, need: 2 })
    );
    // Shares pass through their file form.
    let text = shares[2].to_text();
    assert!(is_share(text.expose_secret().as_bytes()));
    let parsed = Share::parse(text.expose_secret().as_bytes()).unwrap();
    assert_eq!(parsed, shares[2]);
    assert!(!format!("{parsed:?}").contains(text.expose_secret().lines().last().unwrap()));
    // Plain backup readers refuse it with the reason.
    assert_eq!(
        super::super::open_backup_with(
            &[ids[0].clone().into()],
            text.expose_secret().as_bytes(),
            no_messages
        )
        .unwrap_err(),
        BackupError::Decrypt
    );
}

#[test]
fn shares_of_another_backup_or_altered_ones_are_refused() {
    let secret = key_secret();
    let (ids, holders) = holders(2);
    let seal = || {
        ThresholdBackup::parse(
            seal_threshold_backup(&holders, 2, std::slice::from_ref(&secret), no_messages)
                .unwrap()
                .as_bytes(),
        )
        .unwrap()
    };
    let (a, b) = (seal(), seal());
    let from_b = open_one(&b, &ids[0]);
    let from_a = open_one(&a, &ids[1]);
    assert!(matches!(
        a.combine(&[from_a.clone(), from_b]).unwrap_err(),
        BackupError::Threshold(ThresholdError::ForeignShare { index: 1, .. })
    ));
    let mut altered = open_one(&a, &ids[0]);
    altered.value[0] ^= 1;
    assert_eq!(
        a.combine(&[from_a, altered]).unwrap_err(),
        BackupError::Threshold(ThresholdError::SharesDoNotCombine)
    );
    // Nobody else opens a share.
    let stranger = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    assert!(
        a.open_shares(&[stranger.into()], no_messages)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn bad_thresholds_and_holders_are_refused() {
    let secret = key_secret();
    let (_, holders) = holders(3);
    for threshold in [0, 1, 4, 300] {
        assert_eq!(
            seal_threshold_backup(
                &holders,
                threshold,
                std::slice::from_ref(&secret),
                no_messages
            ),
            Err(BackupError::Threshold(ThresholdError::BadThreshold {
                threshold,
                holders: 3
            }))
        );
    }
    let mut empty = holders.clone();
    empty[1].recipients.clear();
    assert_eq!(
        seal_threshold_backup(&empty, 2, std::slice::from_ref(&secret), no_messages),
        Err(BackupError::Threshold(ThresholdError::EmptyHolder(2)))
    );
    let mut labelled = holders;
    labelled[0].label = Some("two words".into());
    assert!(matches!(
        seal_threshold_backup(&labelled, 2, &[secret], no_messages),
        Err(BackupError::Threshold(ThresholdError::BadLabel(_)))
    ));
}

/// docs/format.md's vectors: a 2-of-3 backup made once, its identities and a decrypted share.
#[test]
fn test_vectors_still_open() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/threshold");
    let read = |name: &str| std::fs::read(format!("{dir}/{name}")).unwrap();
    let backup = ThresholdBackup::parse(&read("backup-2-of-3.txt")).unwrap();
    let identities =
        crate::age::parse_identities(std::str::from_utf8(&read("identities.txt")).unwrap())
            .unwrap();
    let from_file = Share::parse(&read("share-3.txt")).unwrap();
    assert_eq!(from_file.index(), 3);
    let first = open_one(&backup, &identities[0]);
    let secrets = backup.combine(&[first.clone(), from_file]).unwrap();
    assert_eq!(secrets.len(), 1);
    assert!(crate::keysecret::age::is_age_key_secret(&secrets[0]));
    assert!(matches!(
        backup.combine(&[first]),
        Err(BackupError::Threshold(ThresholdError::NotEnoughShares {
            have: 1,
            need: 2
        }))
    ));
    for bad in ["bad-index.txt", "bad-threshold.txt", "trailing.txt"] {
        assert!(
            matches!(
                ThresholdBackup::parse(&read(bad)),
                Err(ThresholdError::Malformed { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn numbers_and_lines_are_canonical() {
    assert_eq!(number("2"), Some(2));
    for bad in ["", "02", "+2", "-1", "1000", "2 ", "x"] {
        assert_eq!(number(bad), None, "{bad:?}");
    }
    assert!(ThresholdBackup::parse(b"").is_err());
    assert!(ThresholdBackup::parse(b"# only a comment\n").is_err());
    assert!(Share::parse(b"sealant-backup-share v1\nid AAAA\n").is_err());
    assert!(matches!(
        Share::parse(&[0xff, 0xfe]),
        Err(ThresholdError::Malformed { line: 1, .. })
    ));
}
