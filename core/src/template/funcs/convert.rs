//! Indexing, comparison, conversions, base64 and checksums used by the function table.

use super::*;

pub(in crate::template) fn len_int(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

pub(in crate::template) fn index(m: &Budget, item: &Value, indexes: &[Value]) -> FnResult {
    if matches!(item, Value::Nil) {
        return Err(FnErr::Msg("index of untyped nil".into()));
    }
    let mut item = item.clone();
    for key in indexes {
        item = match &item {
            Value::Nil => return Err(FnErr::Msg("index of nil pointer".into())),
            Value::Str(s) => {
                let i = index_arg(key, s.len())?;
                Value::Int(i64::from(s[i]))
            }
            Value::List(list) => {
                let i = index_arg(key, list.items.len())?;
                list.items[i].clone()
            }
            Value::Map(map) => match key {
                Value::Str(k) => match map.entries.get(&***k) {
                    Some(found) => found.clone(),
                    None if map.strings => m.str(b"")?,
                    None => Value::Nil,
                },
                Value::Nil => {
                    return Err(FnErr::Msg("value is nil; should be of type string".into()));
                }
                other => {
                    return Err(FnErr::Msg(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    )));
                }
            },
            other => {
                return Err(FnErr::Msg(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

fn index_arg(key: &Value, len: usize) -> Result<usize, FnErr> {
    match key {
        Value::Int(i) => usize::try_from(*i)
            .ok()
            .filter(|&i| i < len)
            .ok_or_else(|| FnErr::Msg("index out of range".into())),
        Value::Nil => Err(FnErr::Msg("cannot index slice/array with nil".into())),
        other => Err(FnErr::Msg(format!(
            "cannot index slice/array with type {}",
            other.type_name()
        ))),
    }
}

#[derive(PartialEq, Eq)]
pub(in crate::template) enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Other,
}

pub(in crate::template) fn kind(value: &Value) -> Kind {
    match value {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

/// Go's `eq`: true when `left` equals any of `rights`.
pub(in crate::template) fn eq(left: &Value, rights: &[Value]) -> Result<bool, FnErr> {
    if rights.is_empty() {
        return Err(FnErr::Msg("missing argument for comparison".into()));
    }
    for right in rights {
        let equal = match (left, right) {
            (Value::Nil, Value::Nil) => true,
            (Value::Nil, _) | (_, Value::Nil) => false,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::Str(x), Value::Str(y)) => x == y,
            (x, y) if kind(x) != kind(y) => {
                return Err(FnErr::Msg("incompatible types for comparison".into()));
            }
            (x, _) => {
                return Err(FnErr::Msg(format!("non-comparable type {}", x.type_name())));
            }
        };
        if equal {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub(in crate::template) fn less(left: &Value, right: &Value) -> Result<bool, FnErr> {
    let bad_type = || FnErr::Msg("invalid type for comparison".into());
    if kind(left) == Kind::Other || kind(right) == Kind::Other {
        return Err(bad_type());
    }
    match (left, right) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::Str(x), Value::Str(y)) => Ok(x < y),
        (Value::Bool(_), Value::Bool(_)) => Err(bad_type()),
        _ => Err(FnErr::Msg("incompatible types for comparison".into())),
    }
}

/// `html`, `js` or `urlquery`: escapes one string as is, else `fmt.Sprint` of the arguments
/// with missing values shown as `<no value>`.
pub(in crate::template) fn escape_args(
    m: &Budget,
    args: &[Value],
    escape: fn(&mut Sink<'_>, &[u8]) -> Result<(), Overflow>,
) -> FnResult {
    if let [Value::Str(s)] = args {
        return string(m, |out| escape(out, s));
    }
    let no_value = m.str(b"<no value>")?;
    m.alloc_n(args.len(), ITEM_COST)?;
    let shown: Vec<Value> = args
        .iter()
        .map(|v| match v {
            Value::Nil => no_value.clone(),
            other => other.clone(),
        })
        .collect();
    let mut text = Sink::new(m);
    sprint(&mut text, &shown)?;
    string(m, |out| escape(out, &text.buf))
}

/// Sprig's `strval`: a string as is, anything else as `%v`.
pub(in crate::template) fn strval(m: &Budget, value: &Value) -> Result<Bytes, Overflow> {
    if let Value::Str(s) = value {
        return m.bytes(s);
    }
    let mut out = Sink::new(m);
    write_v(&mut out, value)?;
    m.alloc(STR_COST)?;
    Ok(Bytes(out.take()))
}

/// Sprig's `strslice` (for `join`): calls `each` on the list elements, nil skipped, whose
/// `strval` are the strings.
pub(in crate::template) fn strslice(
    value: &Value,
    mut each: impl FnMut(&Value) -> Result<(), Overflow>,
) -> Result<(), Overflow> {
    match value {
        Value::List(list) => list
            .items
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .try_for_each(each),
        Value::Nil => Ok(()),
        other => each(other),
    }
}

/// spf13/cast's `ToInt64` as Sprig uses it: 0 for anything it cannot convert.
pub(in crate::template) fn to_int64(value: &Value) -> i64 {
    match value {
        Value::Int(i) => *i,
        // Go's conversion on amd64: NaN and out-of-range values become the minimum.
        Value::Float(f) if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(f) => {
            i64::MIN
        }
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(|text| parse_go_int(trim_zero_decimal(text), true))
            .and_then(|(negative, magnitude)| signed(negative, magnitude))
            .unwrap_or(0),
        _ => 0,
    }
}

/// `12.000` → `12` (cast's tolerance for integral decimals).
fn trim_zero_decimal(text: &str) -> &str {
    let mut found_zero = false;
    for (i, b) in text.bytes().enumerate().rev() {
        match b {
            b'.' if found_zero => return &text[..i],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return text,
        }
    }
    text
}

pub(in crate::template) fn to_float64(value: &Value) -> f64 {
    match value {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(parse_go_float)
            .unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Go's `strconv.Atoi` with the error ignored: 0 for syntax errors, clamped on overflow.
pub(in crate::template) fn atoi(text: &[u8]) -> i64 {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return 0;
    }
    let mut value: i64 = 0;
    for &d in digits {
        let digit = i64::from(d - b'0');
        value = match value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        }) {
            Some(v) => v,
            None => return if negative { i64::MIN } else { i64::MAX },
        };
    }
    value
}

pub(in crate::template) fn substr(m: &Budget, start: i64, end: i64, s: &[u8]) -> FnResult {
    let len = len_int(s.len());
    let bad = || FnErr::Msg("runtime error: slice bounds out of range".into());
    let to_usize = |i: i64| usize::try_from(i).map_err(|_| bad());
    let piece = if start < 0 {
        s.get(..to_usize(end)?)
    } else if end < 0 || end > len {
        s.get(to_usize(start)?..)
    } else {
        s.get(to_usize(start)?..to_usize(end)?)
    };
    Ok(m.str(piece.ok_or_else(bad)?)?)
}

pub(in crate::template) fn b64dec(m: &Budget, input: &[u8]) -> FnResult {
    // The ASCII copy and the decoded bytes.
    m.alloc(input.len().saturating_mul(2))?;
    // Non-ASCII bytes are never base64; an ASCII stand-in keeps Go's error positions.
    let text: String = input
        .iter()
        .map(|&b| if b.is_ascii() { char::from(b) } else { '!' })
        .collect();
    let text = Zeroizing::new(text);
    Ok(match crate::base64::decode(&text) {
        Ok(bytes) => m.str(bytes.expose_secret())?,
        Err(err) => m.str(err.to_string().as_bytes())?,
    })
}

pub(in crate::template) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(in crate::template) fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}
