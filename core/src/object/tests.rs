use super::*;

#[test]
fn redacts_quoted_values() {
    assert_eq!(
        redact_quoted(r#"invalid type: string "hunter2", expected a map"#),
        r#"invalid type: string "…", expected a map"#
    );
    assert_eq!(redact_quoted(r#"unterminated "abc"#), r#"unterminated "…""#);
    assert_eq!(
        redact_quoted("missing field `spec`"),
        "missing field `spec`"
    );
}

#[test]
fn reads_multi_document_yaml_and_skips_empty_documents() {
    let text = "---\n# only a comment\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {x: y}\n---\n---\nkind: Secret\nmetadata: {name: b}\n";
    let secrets = read_secrets(text).unwrap();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[1].metadata.name.as_deref(), Some("b"));
}

/// Regression (fuzzing campaign, object_reader): a plain scalar with more than 64 `[` or
/// `{` (an annotation, a value) was written by `to_text` unquoted and then refused on
/// reading, as if it were nesting. Brackets and quotes inside plain scalars are text.
#[test]
fn regression_fuzz_object_reader_brackets_in_plain_scalars_round_trip() {
    let json = format!(
        r#"{{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{{"name":"a","namespace":"b","annotations":{{"note":"x{}"}}}},"spec":{{"encryptedData":{{"k":"AAAA"}}}}}}"#,
        "[".repeat(65)
    );
    let objects = read_sealed_secrets(&json).unwrap();
    let yaml = to_text_stream(&objects, Format::Yaml).unwrap();
    let again = read_sealed_secrets(&yaml).unwrap();
    assert_eq!(
        to_text_stream(&again, Format::Yaml).unwrap(),
        yaml,
        "the written YAML reads back to the same objects"
    );
    // An apostrophe inside a plain scalar opens no quoted string that could hide nesting.
    let sneaky = format!("kind: Secret\nnote: don't\nx: {}", "[".repeat(200));
    assert!(
        matches!(
            read_secrets(&sneaky),
            Err(FormatError::Malformed { limit: true, .. })
        ),
        "nesting behind an apostrophe is still counted"
    );
}

/// Regression (fuzzing campaign): deeply nested YAML flow collections made the parser
/// quadratic; the YAML depth limit (crate::yaml::MAX_DEPTH) refuses them at the 65th level.
#[test]
fn regression_yaml_deep_flow_nesting_is_refused_quickly() {
    let deep = format!("kind: Secret\nx: {}", "[".repeat(200_000));
    let err = read_secrets(&deep).unwrap_err();
    let FormatError::Malformed {
        document,
        location,
        limit,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(limit, "{err}");
    assert_eq!(*document, 1);
    assert_eq!(location.map(|l| l.line), Some(2), "{err}");
    // Brackets in quoted values and comments do not count; ordinary nesting is fine.
    let quoted = format!(
        "kind: Secret\nmetadata: {{name: a}}\nstringData: {{k: '{0}', j: \"{0}\"}} # {0}\n",
        "[".repeat(500)
    );
    assert_eq!(read_secrets(&quoted).unwrap().len(), 1);
    let nested = format!(
        "kind: Secret\nmetadata: {{name: a, annotations: {{x: y}}}}\nstringData: {{k: v}}\nz: {}{}\n",
        "[".repeat(60),
        "]".repeat(60)
    );
    assert_eq!(read_secrets(&nested).unwrap().len(), 1);
}

#[test]
fn yaml_errors_are_located_and_name_the_document() {
    let text =
        "kind: Secret\nmetadata: {name: a}\n---\n---\nkind: Secret\nmetadata:\n  name: [x]\n";
    let err = read_secrets(text).unwrap_err();
    let FormatError::Malformed {
        document,
        location,
        limit,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*document, *limit), (3, false), "{err}");
    assert_eq!(location.map(|l| l.line), Some(7), "{err}");
    assert!(err.to_string().ends_with(" at line 7 column 9"), "{err}");
}

#[test]
fn empty_secret_values_read_as_empty() {
    let text = "kind: Secret\nmetadata:\n  name: a\n  labels: {l: }\n  annotations:\n    a:\nstringData:\n  empty:\n  tilde: ~\ndata:\n  nothing:\n";
    let secret = read_secrets(text).unwrap().remove(0);
    assert_eq!(
        secret.metadata.labels,
        Some([("l".into(), String::new())].into())
    );
    assert_eq!(
        secret.metadata.annotations,
        Some([("a".into(), String::new())].into())
    );
    let merged = secret.merged_items();
    assert_eq!(merged["empty"], b"");
    assert_eq!(merged["tilde"], b"");
    assert_eq!(merged["nothing"], b"");
}

#[test]
fn reads_concatenated_json() {
    let text = r#"{"kind":"Secret","metadata":{"name":"a"},"data":{"k":"dg=="}} {"metadata":{"name":"b"}}"#;
    let secrets = read_secrets(text).unwrap();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[0].merged_items()["k"], b"v");
}

#[test]
fn string_data_wins_over_data() {
    let text = "kind: Secret\nmetadata: {name: a}\ndata: {k: ZnJvbS1kYXRh, only: eA==}\nstringData: {k: from-string-data}\n";
    let mut secret = read_secrets(text).unwrap().remove(0);
    let merged = secret.merged_items();
    assert_eq!(merged["k"], b"from-string-data");
    assert_eq!(merged["only"], b"x");
    assert_eq!(merged.len(), 2);
    // Moving stringData into data gives the same result.
    secret.merge_string_data();
    assert!(secret.string_data.is_none());
    let data = secret.data.as_ref().unwrap();
    assert_eq!(data["k"].expose_secret(), b"from-string-data");
    assert_eq!(data["only"].expose_secret(), b"x");
    assert_eq!(data.len(), 2);
}

#[test]
fn merging_string_data_alone_fills_data() {
    let text = "kind: Secret\nmetadata: {name: a}\nstringData: {k: v}\n";
    let mut secret = read_secrets(text).unwrap().remove(0);
    secret.merge_string_data();
    assert!(secret.string_data.is_none());
    assert_eq!(secret.data.unwrap()["k"].expose_secret(), b"v");
}

#[test]
fn wrong_kind_is_refused() {
    let err = read_secrets("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "document 1 is a ConfigMap (v1), not a Secret"
    );
}

#[test]
fn bad_base64_names_item_not_value() {
    let err = read_secrets("kind: Secret\nmetadata: {name: a}\ndata: {password: hunter2!}\n")
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("\"password\""), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn malformed_input_does_not_echo_values() {
    let err = read_secrets("kind: Secret\nmetadata: {name: a}\nstringData: {k: [\"hunter2\"]}\n")
        .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn encrypted_data_decoding_never_fails() {
    let text = r#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"a"},"spec":{"encryptedData":{"ok":"AQ==","num":5,"nil":null}}}"#;
    let ss = read_sealed_secrets(text).unwrap().remove(0);
    assert_eq!(ss.spec.encrypted_data.keys().collect::<Vec<_>>(), ["ok"]);
    let text = r#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"a"},"spec":{"encryptedData":null}}"#;
    assert!(
        read_sealed_secrets(text).unwrap()[0]
            .spec
            .encrypted_data
            .is_empty()
    );
}

#[test]
fn sealed_secret_needs_api_version_and_kind() {
    let err = read_sealed_secrets("metadata: {name: a}\nspec: {encryptedData: {}}\n").unwrap_err();
    assert!(matches!(err, FormatError::WrongKind { .. }), "{err}");
}

#[test]
fn output_has_sorted_keys_and_round_trips() {
    let ss = SealedSecret::new(
        ObjectMeta::named("n", Some("ns".into())),
        SealedSecretSpec {
            encrypted_data: [
                ("b".to_owned(), "Ag==".to_owned()),
                ("a".to_owned(), "AQ==".to_owned()),
            ]
            .into(),
            ..Default::default()
        },
    );
    let yaml = to_text(&ss, Format::Yaml).unwrap();
    assert!(
        yaml.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n"),
        "{yaml}"
    );
    assert!(yaml.find("  a: AQ==").unwrap() < yaml.find("  b: Ag==").unwrap());
    assert_eq!(read_sealed_secrets(&yaml).unwrap(), vec![ss.clone()]);
    let json = to_text(&ss, Format::Json).unwrap();
    assert_eq!(read_sealed_secrets(&json).unwrap(), vec![ss]);
}

#[test]
fn strip_for_template_clears_server_fields() {
    let mut meta: ObjectMeta = serde_json::from_value(serde_json::json!({
        "name": "a", "namespace": "n", "uid": "u", "resourceVersion": "1", "generation": 2,
        "creationTimestamp": null, "finalizers": ["f"],
        "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "1"}],
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{secret}", "keep": "me"}
    }))
    .unwrap();
    meta.strip_for_template();
    let value = serde_json::to_value(&meta).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"name": "a", "namespace": "n", "finalizers": ["f"], "annotations": {"keep": "me"}})
    );
}
