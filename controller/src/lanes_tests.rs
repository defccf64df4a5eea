use futures::{FutureExt as _, StreamExt as _};

use super::*;

fn key(name: &str) -> LaneKey {
    ObjectRef::new(name).within("ns")
}

type Source = futures::channel::mpsc::UnboundedSender<(Lane, LaneKey)>;

fn lanes(
    limit: usize,
) -> (
    Source,
    LaneStream<impl Stream<Item = (Lane, LaneKey)>>,
    Gate,
) {
    let (tx, rx) = futures::channel::mpsc::unbounded();
    let gate = Gate::new(limit);
    (tx, LaneStream::new(rx, gate.clone()), gate)
}

/// The next key if one is ready now.
fn next<S: Stream<Item = (Lane, LaneKey)>>(stream: &mut LaneStream<S>) -> Option<LaneKey> {
    stream.next().now_or_never().flatten()
}

/// Queues `b0` … `b{n-1}` in the backlog lane.
fn fill_backlog(tx: &Source, n: usize) {
    for i in 0..n {
        tx.unbounded_send((Lane::Backlog, key(&format!("b{i}"))))
            .unwrap();
    }
}

#[tokio::test]
async fn a_new_object_passes_a_full_backlog() {
    let (tx, mut stream, gate) = lanes(2);
    fill_backlog(&tx, 100);
    // Two released (the limit), first in first out; then nothing until a slot frees up.
    assert_eq!(next(&mut stream), Some(key("b0")));
    assert_eq!(next(&mut stream), Some(key("b1")));
    assert_eq!(next(&mut stream), None);
    assert_eq!(stream.backlog_len(), 98);
    // A new object goes through at once, ahead of the 98.
    tx.unbounded_send((Lane::New, key("newcomer"))).unwrap();
    assert_eq!(next(&mut stream), Some(key("newcomer")));
    assert_eq!(next(&mut stream), None);
    // b0's reconcile ends, but the newcomer is not done: the backlog waits for it.
    drop(gate.working(key("b0")));
    assert_eq!(next(&mut stream), None);
    // A deferred newcomer still holds the backlog back; a done one does not.
    gate.working(key("newcomer")).keep();
    assert_eq!(next(&mut stream), None);
    drop(gate.working(key("newcomer")));
    assert_eq!(next(&mut stream), Some(key("b2")));
    assert_eq!(gate.in_flight(), 2);
}

#[tokio::test]
async fn a_backlog_object_that_changes_takes_the_new_lane_once() {
    let (tx, mut stream, gate) = lanes(1);
    for name in ["b0", "b1", "b2"] {
        tx.unbounded_send((Lane::Backlog, key(name))).unwrap();
    }
    // Triggered again while waiting: keeps its place, not queued twice.
    tx.unbounded_send((Lane::Backlog, key("b1"))).unwrap();
    assert_eq!(next(&mut stream), Some(key("b0")));
    tx.unbounded_send((Lane::New, key("b2"))).unwrap();
    assert_eq!(next(&mut stream), Some(key("b2")));
    drop(gate.working(key("b2")));
    drop(gate.working(key("b0")));
    assert_eq!(next(&mut stream), Some(key("b1")));
    drop(gate.working(key("b1")));
    // b2 already went through the New lane: the backlog is empty.
    assert_eq!(next(&mut stream), None);
    assert_eq!(stream.backlog_len(), 0);
}

#[tokio::test]
async fn a_deferred_object_keeps_its_slot_and_a_deleted_one_frees_it() {
    let (tx, mut stream, gate) = lanes(1);
    for name in ["b0", "b1", "b2"] {
        tx.unbounded_send((Lane::Backlog, key(name))).unwrap();
    }
    assert_eq!(next(&mut stream), Some(key("b0")));
    gate.working(key("b0")).keep();
    assert_eq!(next(&mut stream), None, "a deferral keeps the slot");
    gate.forget(&key("b0"));
    assert_eq!(next(&mut stream), Some(key("b1")));
    // A reconcile of an object that was never released frees nothing.
    drop(gate.working(key("other")));
    assert_eq!(next(&mut stream), None);
}

#[tokio::test(start_paused = true)]
async fn a_slot_never_given_back_frees_up_after_a_while() {
    let (tx, mut stream, _gate) = lanes(1);
    tx.unbounded_send((Lane::Backlog, key("b0"))).unwrap();
    tx.unbounded_send((Lane::Backlog, key("b1"))).unwrap();
    assert_eq!(next(&mut stream), Some(key("b0")));
    assert_eq!(next(&mut stream), None);
    // The stream's own timer wakes it: the backlog goes on without b0's reconcile ending.
    let next = tokio::time::timeout(STALE_AFTER * 2, stream.next()).await;
    assert_eq!(next.unwrap(), Some(key("b1")));
}

#[tokio::test]
async fn the_stream_ends_when_the_source_ends_and_the_backlog_is_empty() {
    let (tx, mut stream, gate) = lanes(1);
    tx.unbounded_send((Lane::Backlog, key("b0"))).unwrap();
    tx.unbounded_send((Lane::Backlog, key("b1"))).unwrap();
    drop(tx);
    assert_eq!(next(&mut stream), Some(key("b0")));
    assert!(stream.next().now_or_never().is_none(), "b1 still waits");
    drop(gate.working(key("b0")));
    assert_eq!(next(&mut stream), Some(key("b1")));
    assert_eq!(stream.next().now_or_never(), Some(None));
}

#[test]
fn initial_list_decides_the_lane() {
    let initial = InitialList::default();
    assert_eq!(initial.lane(), Lane::Backlog);
    initial.observe::<SealedSecret>(&Ok(watcher::Event::Init));
    assert_eq!(initial.lane(), Lane::Backlog);
    initial.observe::<SealedSecret>(&Ok(watcher::Event::InitDone));
    assert_eq!(initial.lane(), Lane::New);
    // A later re-list does not send the watch back to the backlog lane.
    initial.observe::<SealedSecret>(&Ok(watcher::Event::Init));
    assert_eq!(initial.lane(), Lane::New);
}

#[test]
fn owners_are_controller_references_of_kind_sealedsecret() {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    let reference = |kind: &str, controller: Option<bool>, name: &str| OwnerReference {
        api_version: SealedSecret::api_version(&()).into_owned(),
        kind: kind.into(),
        name: name.into(),
        uid: "u".into(),
        controller,
        ..OwnerReference::default()
    };
    let mut secret = K8sSecret::default();
    secret.metadata.namespace = Some("ns".into());
    secret.metadata.owner_references = Some(vec![
        reference("SealedSecret", Some(true), "mine"),
        reference("SealedSecret", None, "not-controller"),
        reference("ConfigMap", Some(true), "other-kind"),
    ]);
    assert_eq!(owners(&secret), vec![key("mine")]);
    secret.metadata.namespace = None;
    assert!(owners(&secret).is_empty());
}

/// A drained backlog gives its room back: its queue and set grew to the backlog's size and
/// would otherwise hold it for the controller's life.
#[tokio::test]
async fn a_drained_backlog_lets_its_room_go() {
    let (tx, mut stream, gate) = lanes(1);
    fill_backlog(&tx, 2000);
    let first = next(&mut stream).unwrap();
    assert!(stream.room() >= 2000, "{}", stream.room());
    drop(gate.working(first));
    for _ in 1..2000 {
        let key = next(&mut stream).unwrap();
        drop(gate.working(key));
    }
    assert_eq!(stream.backlog_len(), 0);
    assert!(stream.room() <= KEPT_ROOM, "{}", stream.room());
}
