//! Wording shared by the table, the refusals and the notes: counts, plurals, name lists,
//! times.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How many names an error or the table quotes before `… and N more`.
const NAMES_SHOWN: usize = 5;

pub(super) fn format_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}

pub(super) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `one` for 1, else `many`.
pub(super) fn agree<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `1 SealedSecret has`, `2 SealedSecrets have` (the noun's first word takes the plural).
pub(super) fn count_verb(n: usize, noun: &str, one: &str, many: &str) -> String {
    let noun = match noun.split_once(' ') {
        Some((head, rest)) if n != 1 => format!("{head}s {rest}"),
        _ if n != 1 => format!("{noun}s"),
        _ => noun.to_owned(),
    };
    format!("{n} {noun} {}", agree(n, one, many))
}

/// `a, b, c, d, e and 3 more`.
pub(super) fn quote_names<'a>(names: impl ExactSizeIterator<Item = &'a String>) -> String {
    let total = names.len();
    let shown: Vec<&str> = names.take(NAMES_SHOWN).map(String::as_str).collect();
    let mut text = shown.join(", ");
    if total > shown.len() {
        text.push_str(&format!(" and {} more", total - shown.len()));
    }
    text
}
