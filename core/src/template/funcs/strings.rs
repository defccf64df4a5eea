//! String helpers with Go's byte-string semantics.

use super::*;

// ---------------------------------------------------------------------------------------------
// String helpers with Go's byte-string semantics.

/// Characters of a byte string as Go's `range` sees them: invalid bytes one at a time (`None`).
pub(in crate::template) fn runes(bytes: &[u8]) -> impl Iterator<Item = (Option<char>, &[u8])> {
    bytes.utf8_chunks().flat_map(|chunk| {
        let valid = chunk.valid();
        let chars = valid
            .char_indices()
            .map(move |(i, c)| (Some(c), &valid.as_bytes()[i..i + c.len_utf8()]));
        let invalid = chunk.invalid();
        let bad = (0..invalid.len()).map(move |i| (None, &invalid[i..=i]));
        chars.chain(bad)
    })
}

/// The first character (`None` for an invalid byte) and its width, looking at 4 bytes at most.
pub(in crate::template) fn first_rune(bytes: &[u8]) -> Option<(Option<char>, usize)> {
    let first = *bytes.first()?;
    if first.is_ascii() {
        return Some((Some(char::from(first)), 1));
    }
    let window = &bytes[..bytes.len().min(4)];
    let valid = match std::str::from_utf8(window) {
        Ok(text) => text,
        Err(err) => std::str::from_utf8(&window[..err.valid_up_to()]).unwrap_or(""),
    };
    Some(match valid.chars().next() {
        Some(c) => (Some(c), c.len_utf8()),
        None => (None, 1),
    })
}

fn last_rune(bytes: &[u8]) -> Option<(Option<char>, usize)> {
    if bytes.is_empty() {
        return None;
    }
    for width in 1..=4.min(bytes.len()) {
        if let Ok(text) = std::str::from_utf8(&bytes[bytes.len() - width..]) {
            let mut chars = text.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                return Some((Some(c), width));
            }
        }
    }
    Some((None, 1))
}

/// Go's `strings.TrimSpace`.
pub(in crate::template) fn trim_space(mut s: &[u8]) -> &[u8] {
    while let Some((Some(c), width)) = first_rune(s) {
        if !c.is_whitespace() {
            break;
        }
        s = &s[width..];
    }
    while let Some((Some(c), width)) = last_rune(s) {
        if !c.is_whitespace() {
            break;
        }
        s = &s[..s.len() - width];
    }
    s
}

/// Go's `strings.Trim(s, cutset)`.
pub(in crate::template) fn trim_cutset<'s>(
    m: &Budget,
    s: &'s [u8],
    cutset: &[u8],
) -> Result<&'s [u8], Overflow> {
    if s.is_empty() || cutset.is_empty() {
        return Ok(s);
    }
    if cutset.is_ascii() {
        let mut set = [false; 256];
        for &b in cutset {
            set[usize::from(b)] = true;
        }
        let start = s
            .iter()
            .position(|&b| !set[usize::from(b)])
            .unwrap_or(s.len());
        let end = s
            .iter()
            .rposition(|&b| !set[usize::from(b)])
            .map_or(start, |i| i + 1);
        return Ok(s.get(start..end.max(start)).unwrap_or(&[]));
    }
    m.alloc_n(cutset.len(), std::mem::size_of::<char>())?;
    let mut set: Vec<char> = runes(cutset)
        .map(|(c, _)| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    set.sort_unstable();
    set.dedup();
    let contains = |c: Option<char>| {
        set.binary_search(&c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .is_ok()
    };
    let mut rest = s;
    while let Some((c, width)) = first_rune(rest) {
        if !contains(c) {
            break;
        }
        rest = &rest[width..];
    }
    while let Some((c, width)) = last_rune(rest) {
        if !contains(c) {
            break;
        }
        rest = &rest[..rest.len() - width];
    }
    Ok(rest)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(in crate::template) enum Case {
    Upper,
    Lower,
    Title,
}

/// Go's `strings.ToUpper`/`ToLower`: simple case mapping; invalid bytes become U+FFFD.
pub(in crate::template) fn map_case(out: &mut Sink, s: &[u8], case: Case) -> Result<(), Overflow> {
    if s.is_ascii() {
        for &b in s {
            out.byte(match case {
                Case::Upper | Case::Title => b.to_ascii_uppercase(),
                Case::Lower => b.to_ascii_lowercase(),
            })?;
        }
        return Ok(());
    }
    for (c, _) in runes(s) {
        out.char(match c {
            Some(c) => simple_case(c, case),
            None => char::REPLACEMENT_CHARACTER,
        })?;
    }
    Ok(())
}

fn simple_case(c: char, case: Case) -> char {
    let code = u32::from(c);
    match case {
        Case::Title => match c {
            'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
            'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
            'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
            'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
            '\u{10D0}'..='\u{10FA}' | '\u{10FD}'..='\u{10FF}' => c,
            '\u{1F88}'..='\u{1F8F}' | '\u{1F98}'..='\u{1F9F}' | '\u{1FA8}'..='\u{1FAF}' => c,
            '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}' => c,
            _ => simple_case(c, Case::Upper),
        },
        // Greek letters with ypogegrammeni: full upper-casing gives two letters, Go's simple
        // mapping one.
        Case::Upper if matches!(code, 0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7) => {
            char::from_u32(code + 8).unwrap_or(c)
        }
        Case::Upper if matches!(c, '\u{1FB3}' | '\u{1FC3}' | '\u{1FF3}') => {
            char::from_u32(code + 9).unwrap_or(c)
        }
        Case::Upper => {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        }
        Case::Lower => c.to_lowercase().next().unwrap_or(c),
    }
}

/// Go's `strings.Title`: upper-cases the first letter of every word.
pub(in crate::template) fn title(out: &mut Sink, s: &[u8]) -> Result<(), Overflow> {
    let mut prev = ' ';
    for (c, _) in runes(s) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        let separator = if prev.is_ascii() {
            !(prev.is_ascii_alphanumeric() || prev == '_')
        } else if prev.is_alphabetic() || prev.is_numeric() {
            false
        } else {
            prev.is_whitespace()
        };
        out.char(if separator {
            simple_case(c, Case::Title)
        } else {
            c
        })?;
        prev = c;
    }
    Ok(())
}

/// Sprig's `nospace` (goutils `DeleteWhiteSpace`): works byte by byte, so it drops the bytes
/// 0x85 and 0xA0 too and re-encodes other non-ASCII bytes as Latin-1 when it removes anything.
pub(in crate::template) fn nospace(m: &Budget, s: &[u8]) -> FnResult {
    let is_space = |b: u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0);
    if !s.iter().any(|&b| is_space(b)) {
        return Ok(m.str(s)?);
    }
    m.alloc(s.len().saturating_mul(2))?;
    let mut out = Vec::with_capacity(s.len() * 2);
    for &b in s.iter().filter(|&&b| !is_space(b)) {
        let mut utf8 = [0; 4];
        out.extend_from_slice(char::from(b).encode_utf8(&mut utf8).as_bytes());
    }
    let value = m.str(&out);
    out.zeroize();
    Ok(value?)
}

/// Knuth–Morris–Pratt: start offsets of the non-overlapping matches of `needle` in `haystack`
/// (none for an empty needle).
struct Matches<'h> {
    haystack: &'h [u8],
    needle: &'h [u8],
    pub(in crate::template) fail: Vec<usize>,
    pub(in crate::template) pos: usize,
    pub(in crate::template) k: usize,
}

fn matches_of<'h>(
    m: &Budget,
    haystack: &'h [u8],
    needle: &'h [u8],
) -> Result<Matches<'h>, Overflow> {
    let mut matches = Matches {
        haystack,
        needle,
        fail: Vec::new(),
        pos: haystack.len(),
        k: 0,
    };
    if needle.is_empty() || needle.len() > haystack.len() {
        return Ok(matches);
    }
    m.alloc_n(needle.len(), std::mem::size_of::<usize>())?;
    let mut fail = vec![0usize; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        while k > 0 && needle[i] != needle[k] {
            k = fail[k - 1];
        }
        if needle[i] == needle[k] {
            k += 1;
        }
        fail[i] = k;
    }
    matches.fail = fail;
    matches.pos = 0;
    Ok(matches)
}

impl Iterator for Matches<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while let Some(&b) = self.haystack.get(self.pos) {
            self.pos += 1;
            while self.k > 0 && Some(&b) != self.needle.get(self.k) {
                self.k = self.fail.get(self.k - 1).copied().unwrap_or(0);
            }
            if Some(&b) == self.needle.get(self.k) {
                self.k += 1;
            }
            if self.k == self.needle.len() {
                self.k = 0;
                return Some(self.pos - self.needle.len());
            }
        }
        None
    }
}

pub(in crate::template) fn find(
    m: &Budget,
    haystack: &[u8],
    needle: &[u8],
) -> Result<Option<usize>, Overflow> {
    if needle.is_empty() {
        return Ok(Some(0));
    }
    Ok(matches_of(m, haystack, needle)?.next())
}

/// Go's `strings.Replace(s, old, new, -1)`.
pub(in crate::template) fn replace(
    m: &Budget,
    out: &mut Sink,
    s: &[u8],
    old: &[u8],
    new: &[u8],
) -> Result<(), Overflow> {
    if old.is_empty() {
        out.put(new)?;
        for (_, raw) in runes(s) {
            out.put(raw)?;
            out.put(new)?;
        }
        return Ok(());
    }
    let mut start = 0;
    for at in matches_of(m, s, old)? {
        out.put(&s[start..at])?;
        out.put(new)?;
        start = at + old.len();
    }
    out.put(&s[start..])
}

/// Go's `strings.Split(s, sep)`.
pub(in crate::template) fn split(m: &Budget, s: &[u8], sep: &[u8]) -> Result<Vec<Value>, Overflow> {
    let mut parts = Vec::new();
    if sep.is_empty() {
        for (c, raw) in runes(s) {
            if parts.len() >= MAX_OUTPUT {
                return Err(Overflow(LimitKind::Value));
            }
            m.grow(&mut parts, ITEM_COST)?;
            parts.push(match c {
                Some(_) => m.str(raw)?,
                None => m.str("\u{fffd}".as_bytes())?,
            });
        }
        return Ok(parts);
    }
    let mut start = 0;
    for at in matches_of(m, s, sep)? {
        m.grow(&mut parts, ITEM_COST)?;
        parts.push(m.str(&s[start..at])?);
        start = at + sep.len();
    }
    m.grow(&mut parts, ITEM_COST)?;
    parts.push(m.str(&s[start..])?);
    Ok(parts)
}
