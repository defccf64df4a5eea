//! sealant's age layer against data files: the C2SP age test vectors (CCTV, from the npm package
//! `cctv-age` 0.2.0, checked in under `vectors/age/cctv/`) and sealant's own item vectors made by
//! an independent implementation (`vectors/age/vectors.json`, see `interop/make-vectors.mjs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use std::io::Read as _;

use age::armor::{ArmoredReadError, ArmoredReader};
use base64::Engine as _;
use common::{sha256_hex, vectors_dir};
use sealant_core::age::envelope::{self, Binding};
use sealant_core::age::{AgeIdentity, AgeRecipient, decrypt_file, open_age_item};
use sealant_core::{DecryptError, Scope};
use serde_json::Value;

/// What a CCTV vector says decrypting it must do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Success(String),
    ArmorFailure,
    HeaderFailure,
    HmacFailure,
    NoMatch,
    PayloadFailure(String),
}

struct Vector {
    name: String,
    expect: Expect,
    identities: Vec<String>,
    armored: bool,
    file: Vec<u8>,
}

fn read_cctv() -> Vec<Vector> {
    let dir = vectors_dir().join("age/cctv");
    let mut vectors = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let split = bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .unwrap_or_else(|| panic!("{name}: no blank line after the header"));
        let header = std::str::from_utf8(&bytes[..split]).unwrap();
        let mut fields: Vec<(&str, &str)> = Vec::new();
        for line in header.lines() {
            let (key, value) = line.split_once(": ").unwrap();
            fields.push((key, value.trim()));
        }
        let get = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        assert!(
            get("passphrase").is_none() && get("compressed").is_none(),
            "{name}"
        );
        let payload = || get("payload").unwrap().to_owned();
        let expect = match get("expect").unwrap() {
            "success" => Expect::Success(payload()),
            "armor failure" => Expect::ArmorFailure,
            "header failure" => Expect::HeaderFailure,
            "HMAC failure" => Expect::HmacFailure,
            "no match" => Expect::NoMatch,
            "payload failure" => Expect::PayloadFailure(payload()),
            other => panic!("{name}: unknown expectation {other}"),
        };
        vectors.push(Vector {
            identities: fields
                .iter()
                .filter(|(k, _)| *k == "identity")
                .map(|(_, v)| (*v).to_owned())
                .collect(),
            armored: get("armored") == Some("yes"),
            file: bytes[split + 2..].to_vec(),
            name,
            expect,
        });
    }
    vectors.sort_by(|a, b| a.name.cmp(&b.name));
    vectors
}

/// The outcome through `age`'s own decryptor with sealant's identities, classified as the
/// testkit does (age's `tests/testkit.rs`), so each identity's error category is checked too.
fn classify(vector: &Vector, identities: &[AgeIdentity]) -> Expect {
    let decryptor = match age::Decryptor::new_buffered(ArmoredReader::new(&vector.file[..])) {
        Ok(decryptor) => decryptor,
        Err(err) => return classify_error(vector, err),
    };
    let mut reader = match decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity)) {
        Ok(reader) => reader,
        Err(err) => return classify_error(vector, err),
    };
    let mut payload = Vec::new();
    match reader.read_to_end(&mut payload) {
        Ok(_) => Expect::Success(sha256_hex(&payload)),
        Err(err) if err.get_ref().is_some_and(|e| e.is::<ArmoredReadError>()) => {
            Expect::ArmorFailure
        }
        Err(_) => Expect::PayloadFailure(sha256_hex(&payload)),
    }
}

fn classify_error(vector: &Vector, err: age::DecryptError) -> Expect {
    match err {
        // ArmoredReader only de-armors behind a valid begin marker; a broken marker surfaces
        // as a header error (the same hard-coded list as age's testkit).
        age::DecryptError::InvalidHeader
            if vector.armored
                && [
                    "armor_garbage_leading",
                    "armor_lowercase",
                    "armor_whitespace_begin",
                    "armor_wrong_type",
                ]
                .contains(&vector.name.as_str()) =>
        {
            Expect::ArmorFailure
        }
        age::DecryptError::Io(e) if e.get_ref().is_some_and(|e| e.is::<ArmoredReadError>()) => {
            Expect::ArmorFailure
        }
        age::DecryptError::InvalidMac => Expect::HmacFailure,
        age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => Expect::NoMatch,
        _ => Expect::HeaderFailure,
    }
}

/// Vectors where the `age` crate (not sealant) knowingly differs from the testkit: it accepts
/// legacy stanzas without a short final line, and does not de-armor files with leading
/// whitespace. age's own testkit lists the same three.
const AGE_CRATE_EXCEPTIONS: [&str; 3] = [
    "stanza_missing_body",
    "stanza_missing_final_line",
    "armor_whitespace_outside",
];

#[test]
fn cctv_vectors_give_the_expected_outcome() {
    let vectors = read_cctv();
    assert!(vectors.len() >= 90, "only {} vectors", vectors.len());
    let hybrid = vectors
        .iter()
        .filter(|v| v.name.starts_with("hybrid"))
        .count();
    assert!(hybrid >= 15, "only {hybrid} hybrid vectors");
    let mut checked = 0;
    for vector in &vectors {
        let identities: Vec<AgeIdentity> = vector
            .identities
            .iter()
            .map(|text| {
                text.parse()
                    .unwrap_or_else(|e| panic!("{}: identity: {e}", vector.name))
            })
            .collect();
        let outcome = classify(vector, &identities);
        // The opaque API: opens exactly the files that succeed, with the same payload.
        let opaque = decrypt_file(&identities, &vector.file);
        if AGE_CRATE_EXCEPTIONS.contains(&vector.name.as_str()) {
            continue;
        }
        assert_eq!(outcome, vector.expect, "{}", vector.name);
        match &vector.expect {
            Expect::Success(sha) => {
                assert_eq!(
                    &sha256_hex(opaque.unwrap().expose_secret()),
                    sha,
                    "{}",
                    vector.name
                );
            }
            _ => assert_eq!(opaque.unwrap_err(), DecryptError, "{}", vector.name),
        }
        checked += 1;
    }
    assert!(checked >= 90);
}

fn vectors_json() -> Value {
    serde_json::from_slice(&common::read_vector("age/vectors.json")).unwrap()
}

fn unhex(value: &Value) -> Vec<u8> {
    let text = value.as_str().unwrap();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn binding(case: &Value) -> Binding {
    Binding::new(
        case["scope"].as_str().unwrap().parse::<Scope>().unwrap(),
        case["namespace"].as_str().unwrap(),
        case["name"].as_str().unwrap(),
    )
}

#[test]
fn envelope_bytes_match_the_documented_format() {
    let vectors = vectors_json();
    let cases = vectors["envelopes"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let value = unhex(&case["value_hex"]);
        let wrapped = envelope::wrap(&binding(case), &value).unwrap();
        assert_eq!(wrapped.to_vec(), unhex(&case["envelope_hex"]), "{case}");
        let unwrapped = envelope::unwrap(&binding(case), &wrapped).unwrap();
        assert_eq!(unwrapped.expose_secret(), value.as_slice());
    }
}

#[test]
fn identities_and_recipients_match_the_other_implementation() {
    let vectors = vectors_json();
    for kind in ["x25519", "pq", "spec_example"] {
        let entry = if kind == "spec_example" {
            &vectors["spec_example"]
        } else {
            &vectors["identities"][kind]
        };
        let identity: AgeIdentity = entry["identity"].as_str().unwrap().parse().unwrap();
        let recipient: AgeRecipient = entry["recipient"].as_str().unwrap().parse().unwrap();
        assert_eq!(identity.recipient(), &recipient, "{kind}");
        assert_eq!(
            identity.recipient().to_string(),
            entry["recipient"],
            "{kind}"
        );
        assert_eq!(
            identity.to_secret_string().expose_secret(),
            entry["identity"].as_str().unwrap()
        );
    }
    // The example in c2sp.org/age itself.
    assert!(
        vectors["spec_example"]["recipient"]
            .as_str()
            .unwrap()
            .starts_with("age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxshfg87pzf5zrqtzdxz95paef6caq5aapdmwjjqpjfdyxnzr2zampc3uxy0dg4z2n2gm9su72p0pc3u0jvev55l694v78snxg3yzvcl7yda0eyytqj6a0ec477lnhcy5hzpz4zq3pxanve4cn62gqj3pjy5lqj9c6kyj4v2z8alktn8zh99970x79gjkv7522hv9kfz35zsnxhsx8wwtmu9cy3ftzjgwcp4sshn3llnylnpdsyz5jm72vefv4x5vfwytrefxg4wq3mv42wcrvkj742479zrxzpvp2p3e9fed9f0739vcu80r7ma28qfhnvlv4gfzel9q654dj3zmuvvz893azhxdvs9fxd0r7jzchzcfcs5mkyyjxhw0n2z6dvp9yn9qfdp29h0azxqyjw6v7fhyuzj7zel0uq6j9rd7wgrpz7mf5dnj43jwsgvrc8qcnhy7tu6dkdujuxzkp9xj43xe8h92ktre2a3u3s8mm5mrp9nr9pwkgtz4mdlq9hgn4fps4k57ff6wddn2fy23t47sm20r8km8sd2pcyyafnet8f0dajsrlyjeah4n3mssr6aseevuuskdvq5lzguyvpgwpta742c6698vgutzqgny8usfg0w2he7kq5vyxjd0f9hqg8xk26y9e4th0gezq92q4cpp5p2y9hf5f2cje5l0c3sa3a2qxmm38pxxvhxh99yzmfz0zk7r2s64nnwjhkfgfr3gf8xnmppcgmaykvh5sh6g7vk9790rf8ws0axmr2t7z8aae5fq2029uvcn2ghgt4fu4wgwdc0k0cz52qkvwmuzj8p8k5jgf3xzk5zmrkavjekjrpeq408xz3zxazwkc6tyfmhayrkfpjhwtz5mp8j8guqe43k2q6m2kte03vrw27y3wmqyu5etmt9dnkwcnnpmu9gz9dekfhdevf42ucshphnrk38ra6hx8w5f8q5ru0xdhrjxmwqf6cused7zc5xvq43r0zscjglpwlptpwydhqw64xz7ptjdyeyzpq2zkxtmzg29gzjpvzva4d3l0cenn9xs297wf4y4ukwrunf57xj6pm7nvrkwvtrt8hwcmgv8x7ajw7258ugf9wvkmk4052ekg87tw5vnx8nq2swyzv77v8yqlwsenvamr0zssknwts8rrhfuwj7ykysnq9jxy0uv3kuyt22djszjdtvpz6d0s0kwh8ryynddzud92emeyvvyqktd0jtj7rvvg5gch25v8smlvny3kvn5gagyz475ze2y6q466xqmz2n3hs77lddeqyta2nch5k2u5yacuk9ywnwfdzvyejnucz724hj77hrrmakm7pr3kxsrxq22ejexlud9fy2kdqmkg5yncz7jm5wv2qjk5w5kvcpqsry2yqffh2la52dxfjkjq5rzhjzeyn6dupn0qwtyv7s4lwg3xdarsdlwe2y3tujy480y7z39q259fzx6jhd2j0f5hagqpcpees7hzc2yrk5cy788uk3s7qvp5cpepx24gvws3m2g433exgwppnkjscec8qu4y9z9r7vccexjcjaen42245lmgmxmuavg9alej92322gvvyy2t6267v09ch64y0m53jff0vjj96s0ypk60hr3jw4myd6m5hpn3xjstx7tl2szhpr5qe8jj08ydjc4wy2rch2fhuy3pdfjax5awe9j99ly5hkntzz9fe5zatgjvzdd0kgtxs25njnajyf6ssekp7gelxquusn4pt25czh3scj68kq79wdn5tgm6yvm9nzavrg043x3msnygf8dweknw5jmqd0uvny6ttsn09508k0c55zfnegrm9efhxpfqdkmhh6gjtqmwze9pyyzk3tlhl53k2ykx3qheyty7saeq0d3fzv49zc0k")
    );
}

#[test]
fn independently_made_items_open_only_under_their_binding() {
    let vectors = vectors_json();
    let identity = |kind: &str| -> AgeIdentity {
        vectors["identities"][kind]["identity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let x25519 = identity("x25519");
    let pq = identity("pq");
    let items = vectors["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    let bindings: Vec<Binding> = items.iter().map(binding).collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    for (index, case) in items.iter().enumerate() {
        let item = b64.decode(case["item_base64"].as_str().unwrap()).unwrap();
        let (right, wrong) = match case["identity"].as_str().unwrap() {
            "x25519" => (&x25519, &pq),
            _ => (&pq, &x25519),
        };
        let opened = open_age_item(std::slice::from_ref(right), &bindings[index], &item).unwrap();
        assert_eq!(opened.expose_secret(), unhex(&case["value_hex"]).as_slice());
        assert_eq!(
            open_age_item(std::slice::from_ref(wrong), &bindings[index], &item).unwrap_err(),
            DecryptError
        );
        for (other, other_binding) in bindings.iter().enumerate() {
            if *other_binding != bindings[index] {
                let result = open_age_item(&[x25519.clone(), pq.clone()], other_binding, &item);
                assert_eq!(result.unwrap_err(), DecryptError, "item {index} as {other}");
            }
        }
        // One flipped byte anywhere: the same opaque error.
        for at in [30, item.len() / 2, item.len() - 1] {
            let mut tampered = item.clone();
            tampered[at] ^= 0x40;
            let result = open_age_item(std::slice::from_ref(right), &bindings[index], &tampered);
            assert_eq!(result.unwrap_err(), DecryptError, "item {index} byte {at}");
        }
    }
}
