//! The age fixtures in `tests/fixtures/age/` are made here, with sealant-core's API, and checked
//! for consistency on every run. Regenerate (new random keys; then update the snapshot cases
//! that print fingerprints):
//!
//! ```text
//! cargo test -p sealant --test age_fixtures -- --ignored regenerate_age_fixtures
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sealant_core::age::{AgeIdentity, IdentityKind, parse_identities, parse_recipients};
use sealant_core::backup::{key_ring, open_backup, seal_backup};
use sealant_core::keysecret::age::{age_key_secret, read_age_key_secret};
use sealant_core::object::{read_secrets, to_text_stream};
use sealant_core::{Format, Secret};
use time::OffsetDateTime;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/age")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap()
}

fn identity(name: &str) -> AgeIdentity {
    parse_identities(&read(name)).unwrap().remove(0)
}

/// The RSA key Secret of the CLI fixtures (`keys/rsa4096.key`).
fn rsa_key_secret() -> Secret {
    let text = std::fs::read_to_string(dir().join("../key-secret.yaml")).unwrap();
    read_secrets(&text).unwrap().remove(0)
}

#[test]
#[ignore = "writes new random fixtures: run by hand (see the module docs)"]
fn regenerate_age_fixtures() {
    let created = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir().join(name), text).unwrap();
    std::fs::create_dir_all(dir()).unwrap();

    let cluster = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let other = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let offline = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let pq = AgeIdentity::generate(IdentityKind::PostQuantum).unwrap();
    write(
        "identity.txt",
        cluster.to_identity_file(created).expose_secret(),
    );
    write(
        "other-identity.txt",
        other.to_identity_file(created).expose_secret(),
    );
    write(
        "offline.txt",
        offline.to_identity_file(created).expose_secret(),
    );
    write("offline.pub", &format!("{}\n", offline.recipient()));
    write(
        "recipients.txt",
        &format!(
            "# the test cluster's age recipient (identity.txt)\n{}\n\n# another cluster (other-identity.txt)\n{}\n",
            cluster.recipient(),
            other.recipient()
        ),
    );
    write("pq.pub", &format!("{}\n", pq.recipient()));

    let mut age_secret = age_key_secret(
        "kube-system",
        "sealant-age-key",
        &cluster,
        created,
        &BTreeMap::new(),
        &BTreeMap::new(),
    );
    age_secret.metadata.name = Some("sealant-age-keyabcde".to_owned());
    age_secret.metadata.extra.remove("generateName");
    let secrets = vec![rsa_key_secret(), age_secret];
    write(
        "key-secrets.yaml",
        &to_text_stream(&secrets, Format::Yaml).unwrap(),
    );
    let backup = seal_backup(&[offline.recipient().clone()], &secrets, false).unwrap();
    std::fs::write(dir().join("backup.age"), backup).unwrap();
}

#[test]
fn age_fixtures_are_consistent() {
    let cluster = identity("identity.txt");
    let other = identity("other-identity.txt");
    let offline = identity("offline.txt");
    let recipients = parse_recipients(&read("recipients.txt")).unwrap();
    assert_eq!(
        recipients,
        vec![cluster.recipient().clone(), other.recipient().clone()]
    );
    assert_eq!(
        parse_recipients(&read("offline.pub")).unwrap(),
        vec![offline.recipient().clone()]
    );
    assert!(
        parse_recipients(&read("pq.pub")).unwrap()[0].is_post_quantum(),
        "pq.pub is a post-quantum recipient"
    );

    let secrets = sealant_core::backup::read_key_secrets(&read("key-secrets.yaml")).unwrap();
    assert_eq!(secrets.len(), 2);
    assert_eq!(
        read_age_key_secret(&secrets[1]).unwrap().recipient(),
        cluster.recipient()
    );
    let backup = std::fs::read(dir().join("backup.age")).unwrap();
    let restored = open_backup(std::slice::from_ref(&offline), &backup).unwrap();
    let names = |s: &[Secret]| -> Vec<String> {
        s.iter()
            .map(|s| s.metadata.name_or_empty().to_owned())
            .collect()
    };
    assert_eq!(names(&restored), names(&secrets));
    let ring = key_ring(&restored).unwrap();
    assert_eq!(ring.len(), 2, "one RSA and one age key");
    assert!(open_backup(&[cluster], &backup).is_err());
}
