//! Unit tests of the rollout decisions (tests/tests/rollout.rs runs them on a cluster).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sealant_core::object::{SealedSecretCondition, SealedSecretStatus};
use sealant_core::rollout::{WorkloadKind, digest_annotation_key, rollout_digest};
use serde_json::json;

use super::patch::{Mode, needs_patch, template_digest};
use super::*;

fn key(byte: u8) -> SyncKey {
    SyncKey::from_bytes(&[byte; 32]).unwrap()
}

fn target(kind: WorkloadKind, name: &str) -> Target {
    Target {
        kind,
        name: name.into(),
    }
}

#[test]
fn force_patches_unless_current_catch_up_only_an_older_digest_of_ours() {
    let (ours, other) = (key(1), key(2));
    let new = rollout_digest(&ours, "prod", "db", &[1; 32]);
    let old = rollout_digest(&ours, "prod", "db", &[2; 32]);
    let foreign = rollout_digest(&other, "prod", "db", &[2; 32]);
    // (mode, what the template carries, patched?)
    let cases = [
        (Mode::Force, None, true),
        (Mode::Force, Some(old.as_str()), true),
        (Mode::Force, Some(foreign.as_str()), true),
        (Mode::Force, Some("hand-written"), true),
        (Mode::Force, Some(new.as_str()), false),
        // Nothing changed: first opt-in, and digests under a lost sync key, roll nothing.
        (Mode::CatchUp, None, false),
        (Mode::CatchUp, Some(foreign.as_str()), false),
        (Mode::CatchUp, Some("hand-written"), false),
        (Mode::CatchUp, Some(new.as_str()), false),
        // A change whose patch was missed.
        (Mode::CatchUp, Some(old.as_str()), true),
    ];
    for (mode, current, patched) in cases {
        assert_eq!(
            needs_patch(&ours, mode, current, &new),
            patched,
            "{mode:?} {current:?}"
        );
    }
}

#[test]
fn the_digest_is_read_from_the_pod_template_only() {
    let key = digest_annotation_key("db");
    let workload = json!({
        "metadata": { "annotations": { key.clone(): "v1:on-the-workload" } },
        "spec": { "template": { "metadata": { "annotations": {
            key.clone(): "v1:aa:bb", "other": "x"
        } } } }
    });
    assert_eq!(template_digest(&workload, &key), Some("v1:aa:bb"));
    assert_eq!(
        template_digest(&workload, "rollout.sealant.dev/cache"),
        None
    );
    assert_eq!(template_digest(&json!({ "spec": {} }), &key), None);
    assert_eq!(
        template_digest(
            &json!({ "spec": { "template": { "metadata": { "annotations": { key.clone(): 1 } } } } }),
            &key
        ),
        None
    );
}

#[test]
fn plans_touch_only_what_is_owed() {
    let (web, db) = (
        target(WorkloadKind::Deployment, "web"),
        target(WorkloadKind::StatefulSet, "db"),
    );
    let targets = vec![web.clone(), db.clone()];
    let fresh = Entry::default();
    assert_eq!(
        fresh.plan(&targets, true),
        vec![(web.clone(), Mode::Force), (db.clone(), Mode::Force)]
    );
    assert_eq!(
        fresh.plan(&targets, false),
        vec![(web.clone(), Mode::CatchUp), (db.clone(), Mode::CatchUp)]
    );
    // Known at this digest: a resync costs nothing; owed ones are forced, failed ones checked.
    let mut known = Entry {
        done: targets.iter().cloned().collect(),
        ..Entry::default()
    };
    assert_eq!(known.plan(&targets, false), vec![]);
    known.pending.insert(web.clone());
    known.problems.insert(db.clone(), "not found".into());
    assert_eq!(
        known.plan(&targets, false),
        vec![(web.clone(), Mode::Force), (db.clone(), Mode::CatchUp)]
    );
    // A workload added to the annotation is checked, not forced.
    let known = Entry {
        done: [web.clone()].into(),
        ..Entry::default()
    };
    assert_eq!(known.plan(&targets, false), vec![(db, Mode::CatchUp)]);
}

fn with_conditions(conditions: Vec<SealedSecretCondition>) -> SealedSecret {
    let mut object = SealedSecret::new("app", Default::default());
    object.metadata = ObjectMeta {
        name: Some("app".into()),
        namespace: Some("prod".into()),
        ..ObjectMeta::default()
    };
    object.status = Some(SealedSecretStatus {
        conditions: Some(conditions),
        ..SealedSecretStatus::default()
    });
    object
}

fn condition(type_: &str, status: &str, reason: &str, message: &str) -> SealedSecretCondition {
    SealedSecretCondition {
        type_: type_.into(),
        status: status.into(),
        last_update_time: None,
        last_transition_time: None,
        reason: Some(reason.into()),
        message: Some(message.into()),
    }
}

#[test]
fn the_current_condition_is_read_back_and_carried() {
    let object = with_conditions(vec![
        condition("Synced", "True", "", ""),
        condition(
            CONDITION_ROLLOUT,
            "True",
            REASON_TARGET,
            "deployment/web: not found",
        ),
    ]);
    let expected = Condition {
        reason: REASON_TARGET,
        message: "deployment/web: not found".into(),
    };
    assert_eq!(current(object.status.as_ref()), Some(expected.clone()));
    assert_eq!(
        Report::carried(&object),
        Report {
            condition: Some(expected),
            retry: false
        }
    );
    // Not ours to carry: another status, an unknown reason, no condition.
    for other in [
        condition(CONDITION_ROLLOUT, "False", REASON_TARGET, "x"),
        condition(CONDITION_ROLLOUT, "True", "Forged", "x"),
        condition("Synced", "True", REASON_TARGET, "x"),
    ] {
        assert_eq!(current(with_conditions(vec![other]).status.as_ref()), None);
    }
    assert_eq!(current(None), None);
}

#[test]
fn errors_say_what_to_do_and_decide_by_code() {
    let api = |code: u16| {
        sealant_k8s::KubeError::from(kube::Error::Api(
            kube::core::Status::failure("refused", "")
                .with_code(code)
                .boxed(),
        ))
    };
    let web = target(WorkloadKind::Deployment, "web");
    let unavailable = RolloutError::Api {
        target: web.clone(),
        source: api(503),
    };
    assert!(unavailable.is_transient() && unavailable.owed());
    let invalid = RolloutError::Api {
        target: web.clone(),
        source: api(422),
    };
    assert!(!invalid.is_transient() && !invalid.owed());
    let forbidden = RolloutError::Forbidden {
        target: web.clone(),
        resource: "deployments",
        namespace: "prod".into(),
        source: api(403),
    };
    assert!(!forbidden.is_transient() && forbidden.owed());
    let message = forbidden.to_string();
    assert!(
        message.starts_with("deployment/web: forbidden"),
        "{message}"
    );
    assert!(message.contains("docs/rollout.md"), "{message}");
    let missing = RolloutError::NotFound {
        target: web,
        namespace: "prod".into(),
    };
    assert!(!missing.owed());
    assert_eq!(
        missing.to_string(),
        "deployment/web: not found in namespace prod"
    );
}

#[test]
fn messages_are_cut_on_a_character_boundary() {
    assert_eq!(truncate("short"), "short");
    let long = "é".repeat(600);
    let cut = truncate(&long);
    assert!(cut.len() <= 1024 && cut.ends_with("..."), "{}", cut.len());
    assert!(long.starts_with(cut.trim_end_matches("...")));
}
