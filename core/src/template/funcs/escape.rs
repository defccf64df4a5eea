//! Quoting and escaping: Go `%q`, `html`, `js` and `urlquery`.

use super::*;

/// Go's `unicode.IsPrint`, approximately: letters, marks, numbers, punctuation, symbols and the
/// ASCII space. Rust has no general-category table, so this rejects controls, separators,
/// format characters, private use and noncharacters, and accepts unassigned code points.
pub(in crate::template) fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c,
            '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
            | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FDD0}'..='\u{FDEF}' | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}' | '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{10FFFF}')
        || (u32::from(c) & 0xFFFE) == 0xFFFE)
}

/// Go's `strconv.Quote` of template text, for parse errors.
pub(in crate::template) fn go_quote_str(text: &str) -> String {
    let mut out = Sink {
        buf: Vec::new(),
        budget: None,
        limit: MAX_OUTPUT,
        over: LimitKind::Value,
    };
    match go_quote(&mut out, text.as_bytes(), false) {
        Ok(()) => String::from_utf8_lossy(&out.buf).into_owned(),
        Err(Overflow(_)) => String::new(),
    }
}

/// Go's `strconv.Quote` (or `QuoteToASCII`).
pub(in crate::template) fn go_quote(
    out: &mut Sink,
    s: &[u8],
    ascii_only: bool,
) -> Result<(), Overflow> {
    out.byte(b'"')?;
    for (c, raw) in runes(s) {
        match c {
            None => {
                out.text("\\x")?;
                out.text(&format!("{:02x}", raw.first().copied().unwrap_or(0)))?;
            }
            Some(c) => escape_rune(out, c, raw, b'"', ascii_only)?,
        }
    }
    out.byte(b'"')
}

pub(in crate::template) fn escape_rune(
    out: &mut Sink,
    c: char,
    raw: &[u8],
    quote: u8,
    ascii_only: bool,
) -> Result<(), Overflow> {
    if u32::from(c) == u32::from(quote) || c == '\\' {
        out.byte(b'\\')?;
        return out.put(raw);
    }
    if ascii_only {
        if c.is_ascii() && is_print(c) {
            return out.put(raw);
        }
    } else if is_print(c) {
        return out.put(raw);
    }
    let code = u32::from(c);
    match c {
        '\u{7}' => out.text("\\a"),
        '\u{8}' => out.text("\\b"),
        '\u{c}' => out.text("\\f"),
        '\n' => out.text("\\n"),
        '\r' => out.text("\\r"),
        '\t' => out.text("\\t"),
        '\u{b}' => out.text("\\v"),
        _ if code < 0x20 || code == 0x7f => out.text(&format!("\\x{code:02x}")),
        _ if code < 0x10000 => out.text(&format!("\\u{code:04x}")),
        _ => out.text(&format!("\\U{code:08x}")),
    }
}

pub(in crate::template) fn can_backquote(s: &[u8]) -> bool {
    runes(s).all(|(c, raw)| match c {
        None => false,
        Some('\u{FEFF}') => false,
        Some(_) if raw.len() > 1 => true,
        Some(c) => !((c < ' ' && c != '\t') || c == '`' || c == '\u{7f}'),
    })
}

/// Go's `template.HTMLEscape`.
pub(in crate::template) fn html_escape(out: &mut Sink, s: &[u8]) -> Result<(), Overflow> {
    for &b in s {
        match b {
            b'"' => out.text("&#34;")?,
            b'\'' => out.text("&#39;")?,
            b'&' => out.text("&amp;")?,
            b'<' => out.text("&lt;")?,
            b'>' => out.text("&gt;")?,
            0 => out.text("\u{FFFD}")?,
            _ => out.byte(b)?,
        }
    }
    Ok(())
}

/// Go's `template.JSEscape`.
pub(in crate::template) fn js_escape(out: &mut Sink, s: &[u8]) -> Result<(), Overflow> {
    for (c, raw) in runes(s) {
        match c {
            Some('\\') => out.text("\\\\")?,
            Some('\'') => out.text("\\'")?,
            Some('"') => out.text("\\\"")?,
            Some('<') => out.text("\\u003C")?,
            Some('>') => out.text("\\u003E")?,
            Some('&') => out.text("\\u0026")?,
            Some('=') => out.text("\\u003D")?,
            Some(c) if c < ' ' => out.text(&format!("\\u{:04X}", u32::from(c)))?,
            Some(c) if !c.is_ascii() && !is_print(c) => {
                out.text(&format!("\\u{:04X}", u32::from(c)))?;
            }
            _ => out.put(raw)?,
        }
    }
    Ok(())
}

/// Go's `url.QueryEscape`.
pub(in crate::template) fn query_escape(out: &mut Sink, s: &[u8]) -> Result<(), Overflow> {
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.byte(b)?;
        } else if b == b' ' {
            out.byte(b'+')?;
        } else {
            out.text(&format!("%{b:02X}"))?;
        }
    }
    Ok(())
}
