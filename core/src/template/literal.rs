//! Positions and literals: Go's string, character and number syntax.

use super::*;

pub(super) fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let before = src.as_bytes().get(..pos).unwrap_or(src.as_bytes());
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let column = before.len()
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    (line, column)
}

/// Go's `strconv.Unquote` for interpreted and raw string literals, as bytes.
pub(super) fn unquote(text: &str) -> Option<Vec<u8>> {
    if let Some(raw) = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        return Some(raw.bytes().filter(|&b| b != b'\r').collect());
    }
    let body = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let (unit, tail) = unescape(rest, '"')?;
            unit.push_to(&mut out);
            rest = tail;
        } else {
            if c == '"' || c == '\n' {
                return None;
            }
            let mut utf8 = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            rest = &rest[c.len_utf8()..];
        }
    }
    Some(out)
}

enum Unit {
    Byte(u8),
    Char(char),
}

impl Unit {
    fn push_to(&self, out: &mut Vec<u8>) {
        match self {
            Unit::Byte(b) => out.push(*b),
            Unit::Char(c) => {
                let mut utf8 = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }

    pub(super) fn code(&self) -> u32 {
        match self {
            Unit::Byte(b) => u32::from(*b),
            Unit::Char(c) => u32::from(*c),
        }
    }
}

/// One Go escape sequence at the start of `text` (which starts with a backslash).
fn unescape(text: &str, quote: char) -> Option<(Unit, &str)> {
    let mut chars = text.chars();
    chars.next();
    let c = chars.next()?;
    let rest = chars.as_str();
    let simple = |b: u8| Some((Unit::Byte(b), rest));
    match c {
        'a' => simple(7),
        'b' => simple(8),
        'f' => simple(12),
        'n' => simple(b'\n'),
        'r' => simple(b'\r'),
        't' => simple(b'\t'),
        'v' => simple(11),
        '\\' => simple(b'\\'),
        '\'' | '"' if c == quote => simple(c as u8),
        'x' | 'u' | 'U' => {
            let len = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex = rest.get(..len)?;
            let value = u32::from_str_radix(hex, 16).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let tail = &rest[len..];
            if c == 'x' {
                Some((Unit::Byte(u8::try_from(value).ok()?), tail))
            } else {
                Some((Unit::Char(char::from_u32(value)?), tail))
            }
        }
        '0'..='7' => {
            let digits = text.get(1..4)?;
            if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return None;
            }
            let value = u32::from_str_radix(digits, 8).ok()?;
            Some((Unit::Byte(u8::try_from(value).ok()?), &text[4..]))
        }
        _ => None,
    }
}

/// Go's `ParseInt(text, 0, 64)` / `ParseUint`: sign, base prefixes, underscores.
pub(super) fn parse_go_int(text: &str, allow_sign: bool) -> Option<(bool, u64)> {
    let bytes = text.as_bytes();
    let (negative, body) = match bytes.first() {
        Some(b'-') if allow_sign => (true, &bytes[1..]),
        Some(b'+') if allow_sign => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if body.is_empty() {
        return None;
    }
    let lower = |b: u8| b | 0x20;
    let (base, digits) = if body.len() >= 3 && body[0] == b'0' && lower(body[1]) == b'x' {
        (16, &body[2..])
    } else if body.len() >= 3 && body[0] == b'0' && lower(body[1]) == b'o' {
        (8, &body[2..])
    } else if body.len() >= 3 && body[0] == b'0' && lower(body[1]) == b'b' {
        (2, &body[2..])
    } else if body.len() >= 2 && body[0] == b'0' {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if !underscores_ok(body) {
        return None;
    }
    let mut value: u64 = 0;
    let mut any = false;
    for &b in digits {
        if b == b'_' {
            continue;
        }
        let digit = char::from(b).to_digit(base)?;
        value = value
            .checked_mul(u64::from(base))?
            .checked_add(u64::from(digit))?;
        any = true;
    }
    if !any {
        return None;
    }
    Some((negative, value))
}

/// Go's rule for `_` in number literals: only between digits, or after a base prefix.
fn underscores_ok(body: &[u8]) -> bool {
    let lower = |b: u8| b | 0x20;
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if body.len() >= 2 && body[0] == b'0' && matches!(lower(body[1]), b'x' | b'o' | b'b') {
        hex = lower(body[1]) == b'x';
        saw = b'0';
        i = 2;
    }
    while i < body.len() {
        let b = body[i];
        if b.is_ascii_digit() || (hex && b.is_ascii_hexdigit()) {
            saw = b'0';
        } else if b == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

pub(super) fn signed(negative: bool, magnitude: u64) -> Option<i64> {
    if negative {
        if magnitude == 1 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(magnitude).ok().map(|v| -v)
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseFloat` for decimal text (hexadecimal floats are not supported).
pub(super) fn parse_go_float(text: &str) -> Option<f64> {
    let body = text.trim_start_matches(['+', '-']);
    let lowered = Zeroizing::new(body.to_ascii_lowercase());
    if lowered.starts_with("0x") {
        return None;
    }
    if text.contains('_') && !underscores_ok(body.as_bytes()) {
        return None;
    }
    let cleaned: Zeroizing<String> = Zeroizing::new(text.chars().filter(|&c| c != '_').collect());
    let value: f64 = cleaned.parse().ok()?;
    if value.is_infinite() && !lowered.starts_with("inf") {
        return None;
    }
    Some(value)
}

pub(super) fn parse_number(text: &str, kind: Tk) -> Result<Num, String> {
    let mut num = Num {
        text: text.to_owned(),
        int: None,
        float: None,
        uint_only: false,
        is_char: false,
    };
    if kind == Tk::CharConst {
        let body = text.strip_prefix('\'').ok_or("invalid syntax")?;
        let (unit, tail) = if body.starts_with('\\') {
            unescape(body, '\'').ok_or("invalid syntax")?
        } else {
            let c = body.chars().next().ok_or("invalid syntax")?;
            if c == '\'' {
                return Err("invalid syntax".into());
            }
            (Unit::Char(c), &body[c.len_utf8()..])
        };
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        let code = unit.code();
        num.int = Some(i64::from(code));
        num.float = Some(f64::from(code));
        num.is_char = true;
        return Ok(num);
    }
    if kind == Tk::Complex || text.ends_with('i') {
        return Err(format!("complex number {text} is not supported by sealant"));
    }
    let unsigned = parse_go_int(text, false).map(|(_, v)| v);
    if let Some((negative, magnitude)) = parse_go_int(text, true) {
        num.int = signed(negative, magnitude);
    }
    if let Some(int) = num.int {
        num.float = Some(int as f64);
    } else if let Some(unsigned) = unsigned {
        num.uint_only = true;
        num.float = Some(unsigned as f64);
    } else if let Some(float) = parse_go_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", go_quote_str(text)));
        }
        num.float = Some(float);
        if float.fract() == 0.0
            && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&float)
        {
            num.int = Some(float as i64);
        }
    }
    if num.int.is_none() && num.float.is_none() && !num.uint_only {
        return Err(format!("illegal number syntax: {}", go_quote_str(text)));
    }
    Ok(num)
}

impl Num {
    /// Go's `idealConstant`: the value a number literal has where any type is accepted.
    pub(super) fn ideal(&self) -> Result<Value, String> {
        if self.is_char {
            return Ok(Value::Int(self.int.unwrap_or(0)));
        }
        let hex_int = {
            let b = self.text.as_bytes();
            b.len() > 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' && !self.text.contains(['p', 'P'])
        };
        if let Some(float) = self.float
            && !hex_int
            && self.text.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Value::Float(float));
        }
        if let Some(int) = self.int {
            return Ok(Value::Int(int));
        }
        if self.uint_only {
            return Err(format!("{} overflows int", self.text));
        }
        Ok(self.float.map_or(Value::Nil, Value::Float))
    }
}
