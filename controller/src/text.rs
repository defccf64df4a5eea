//! Text the controller writes into objects with a size limit (event notes, condition
//! messages): one way to cut it. And the one compact `namespace/name` key of the per-object
//! tables (reconcile's and the metrics').

/// `text` cut to at most `max` bytes on a character boundary, `...` marking the cut.
#[must_use]
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// The key of an object in the per-object tables: `namespace/name`, or the name alone without
/// a namespace (neither may contain a `/`). One allocation, where a kube `ObjectRef` holds two
/// strings and room for two more (docs/design/memory.md, "What is cut").
#[must_use]
pub fn object_path(namespace: Option<&str>, name: &str) -> Box<str> {
    match namespace {
        Some(namespace) => format!("{namespace}/{name}").into_boxed_str(),
        None => name.into(),
    }
}

/// The namespace (`None` without one) and name of an [`object_path`].
#[must_use]
pub fn split_object_path(path: &str) -> (Option<&str>, &str) {
    match path.split_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, path),
    }
}

#[cfg(test)]
mod path_tests {
    use super::*;

    #[test]
    fn object_paths_round_trip() {
        for (namespace, name) in [(Some("team-a"), "db"), (None, "cluster-wide")] {
            assert_eq!(
                split_object_path(&object_path(namespace, name)),
                (namespace, name)
            );
        }
    }
}
