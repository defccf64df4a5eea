//! Text the controller writes into objects with a size limit (event notes, condition
//! messages): one way to cut it.

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
