//! Go's fmt, for printing values and `printf`.

use super::*;

// ---------------------------------------------------------------------------------------------
// Go's fmt, for printing values and `printf`.

pub(in crate::template) fn write_int(out: &mut Sink, value: i64) -> Result<(), Overflow> {
    out.text(&Zeroizing::new(value.to_string()))
}

/// The text of an action's value: `<no value>` for a missing value, else `%v`.
pub(in crate::template) fn print_value(out: &mut Sink, value: &Value) -> Result<(), Overflow> {
    match value {
        Value::Nil => out.text("<no value>"),
        other => write_v(out, other),
    }
}

/// `%v`.
pub(in crate::template) fn write_v(out: &mut Sink, value: &Value) -> Result<(), Overflow> {
    match value {
        Value::Nil => out.text("<nil>"),
        Value::Bool(b) => out.text(if *b { "true" } else { "false" }),
        Value::Int(i) => write_int(out, *i),
        Value::Float(f) => out.text(&Zeroizing::new(format_float(*f, b'g', -1))),
        Value::Str(s) => out.put(s),
        Value::List(list) => {
            out.byte(b'[')?;
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.byte(b' ')?;
                }
                write_v(out, item)?;
            }
            out.byte(b']')
        }
        Value::Map(map) => {
            out.text("map[")?;
            for (i, (key, item)) in map.entries.iter().enumerate() {
                if i > 0 {
                    out.byte(b' ')?;
                }
                out.put(key)?;
                out.byte(b':')?;
                write_v(out, item)?;
            }
            out.byte(b']')
        }
    }
}

/// `fmt.Sprint`: spaces between operands when neither side is a string.
pub(in crate::template) fn sprint(out: &mut Sink, args: &[Value]) -> Result<(), Overflow> {
    let mut prev_string = false;
    for (i, value) in args.iter().enumerate() {
        let is_string = matches!(value, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.byte(b' ')?;
        }
        write_v(out, value)?;
        prev_string = is_string;
    }
    Ok(())
}

#[derive(Clone, Copy, Default)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    /// `%#v`: Go syntax.
    sharp_v: bool,
    space: bool,
    pub(in crate::template) zero: bool,
    wid: Option<usize>,
    pub(in crate::template) prec: Option<usize>,
}

/// Go's `parsenum`: digits at `start`, refusing numbers above 10⁶.
fn parse_num(format: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    let mut num = 0usize;
    let mut is_num = false;
    let mut i = start;
    while i < end && format[i].is_ascii_digit() {
        if num > 1_000_000 {
            return (0, false, end);
        }
        num = num * 10 + usize::from(format[i] - b'0');
        is_num = true;
        i += 1;
    }
    (num, is_num, i)
}

struct ArgIndex {
    arg_num: usize,
    pub(in crate::template) i: usize,
    pub(in crate::template) found: bool,
    good: bool,
}

/// An explicit argument index `[n]` at `i`, if any.
fn arg_number(arg_num: usize, format: &[u8], i: usize, num_args: usize) -> ArgIndex {
    if format.get(i) != Some(&b'[') {
        return ArgIndex {
            arg_num,
            i,
            found: false,
            good: true,
        };
    }
    let rest = &format[i..];
    let (index, width, ok) = 'parse: {
        if rest.len() < 3 {
            break 'parse (0, 1, false);
        }
        for j in 1..rest.len() {
            if rest[j] == b']' {
                let (n, is_num, next) = parse_num(rest, 1, j);
                if !is_num || next != j {
                    break 'parse (0, j + 1, false);
                }
                break 'parse (n.wrapping_sub(1), j + 1, true);
            }
        }
        (0, 1, false)
    };
    if ok && index < num_args {
        ArgIndex {
            arg_num: index,
            i: i + width,
            found: true,
            good: true,
        }
    } else {
        ArgIndex {
            arg_num,
            i: i + width,
            found: ok,
            good: false,
        }
    }
}

fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    match args.get(arg_num) {
        Some(Value::Int(n)) if n.unsigned_abs() <= 1_000_000 => (*n, true, arg_num + 1),
        Some(_) => (0, false, arg_num + 1),
        None => (0, false, arg_num),
    }
}

/// Go's `fmt.Sprintf`.
pub(in crate::template) fn sprintf(
    out: &mut Sink,
    format: &[u8],
    args: &[Value],
) -> Result<(), Overflow> {
    let end = format.len();
    let mut i = 0;
    let mut arg_num = 0;
    let mut reordered = false;
    while i < end {
        let literal = i;
        while i < end && format[i] != b'%' {
            i += 1;
        }
        out.put(&format[literal..i])?;
        if i >= end {
            break;
        }
        i += 1;
        let mut f = Flags::default();
        let mut good = true;
        while i < end {
            match format[i] {
                b'#' => f.sharp = true,
                b'0' => f.zero = !f.minus,
                b'+' => f.plus = true,
                b'-' => {
                    f.minus = true;
                    f.zero = false;
                }
                b' ' => f.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut index = arg_number(arg_num, format, i, args.len());
        reordered |= format.get(i) == Some(&b'[');
        arg_num = index.arg_num;
        i = index.i;
        good &= index.good;
        let mut after_index = index.found;
        if format.get(i) == Some(&b'*') {
            i += 1;
            let (width, ok, next) = int_from_arg(args, arg_num);
            arg_num = next;
            if !ok {
                out.text("%!(BADWIDTH)")?;
            } else if width < 0 {
                f.minus = true;
                f.zero = false;
                f.wid = usize::try_from(width.unsigned_abs()).ok();
            } else {
                f.wid = usize::try_from(width).ok();
            }
            after_index = false;
        } else {
            let (width, present, next) = parse_num(format, i, end);
            i = next;
            if present {
                f.wid = Some(width);
                if after_index {
                    good = false;
                }
            }
        }
        if i + 1 < end && format[i] == b'.' {
            i += 1;
            if after_index {
                good = false;
            }
            index = arg_number(arg_num, format, i, args.len());
            reordered |= format.get(i) == Some(&b'[');
            arg_num = index.arg_num;
            i = index.i;
            good &= index.good;
            after_index = index.found;
            if format.get(i) == Some(&b'*') {
                i += 1;
                let (prec, ok, next) = int_from_arg(args, arg_num);
                arg_num = next;
                if ok && prec >= 0 {
                    f.prec = usize::try_from(prec).ok();
                } else {
                    out.text("%!(BADPREC)")?;
                }
                after_index = false;
            } else {
                let (prec, present, next) = parse_num(format, i, end);
                i = next;
                f.prec = Some(if present { prec } else { 0 });
            }
        }
        if !after_index {
            index = arg_number(arg_num, format, i, args.len());
            reordered |= format.get(i) == Some(&b'[');
            arg_num = index.arg_num;
            i = index.i;
            good &= index.good;
        }
        let Some((verb, width)) = format.get(i..).and_then(first_rune) else {
            out.text("%!(NOVERB)")?;
            break;
        };
        let verb = verb.unwrap_or(char::REPLACEMENT_CHARACTER);
        i += width;
        if verb == '%' {
            out.byte(b'%')?;
        } else if !good {
            out.text("%!")?;
            out.char(verb)?;
            out.text("(BADINDEX)")?;
        } else if let Some(value) = args.get(arg_num) {
            if verb == 'v' {
                f.sharp_v = f.sharp;
                f.sharp = false;
                f.plus = false;
            }
            print_arg(out, value, verb, f)?;
            arg_num += 1;
        } else {
            out.text("%!")?;
            out.char(verb)?;
            out.text("(MISSING)")?;
        }
    }
    if !reordered && arg_num < args.len() {
        out.text("%!(EXTRA ")?;
        for (k, value) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                out.text(", ")?;
            }
            if matches!(value, Value::Nil) {
                out.text("<nil>")?;
            } else {
                out.text(value.type_name())?;
                out.byte(b'=')?;
                write_v(out, value)?;
            }
        }
        out.byte(b')')?;
    }
    Ok(())
}

fn bad_verb(out: &mut Sink, verb: char, value: &Value) -> Result<(), Overflow> {
    out.text("%!")?;
    out.char(verb)?;
    out.byte(b'(')?;
    if matches!(value, Value::Nil) {
        out.text("<nil>")?;
    } else {
        out.text(value.type_name())?;
        out.byte(b'=')?;
        write_v(out, value)?;
    }
    out.byte(b')')
}

/// Writes `text` padded to the width (counted in characters).
fn pad(out: &mut Sink, text: &[u8], f: Flags) -> Result<(), Overflow> {
    let chars = runes(text).count();
    let padding = f.wid.map_or(0, |w| w.saturating_sub(chars));
    let fill = if f.zero { b'0' } else { b' ' };
    if !f.minus {
        out.repeat(fill, padding)?;
        out.put(text)
    } else {
        out.put(text)?;
        out.repeat(b' ', padding)
    }
}

fn print_arg(out: &mut Sink, value: &Value, verb: char, f: Flags) -> Result<(), Overflow> {
    if verb == 'T' {
        let mut g = f;
        g.zero = false;
        return pad(out, value.type_name().as_bytes(), g);
    }
    match value {
        Value::Nil => match verb {
            'v' => pad(out, b"<nil>", f),
            _ => bad_verb(out, verb, value),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { b"true" } else { b"false" }, f),
            _ => bad_verb(out, verb, value),
        },
        Value::Int(n) => fmt_integer(out, *n, verb, f, value),
        Value::Float(x) => match verb {
            'v' | 'g' => fmt_float(out, *x, b'g', f.prec, f),
            'G' => fmt_float(out, *x, b'G', f.prec, f),
            'e' | 'E' | 'f' => fmt_float(out, *x, verb as u8, Some(f.prec.unwrap_or(6)), f),
            'F' => fmt_float(out, *x, b'f', Some(f.prec.unwrap_or(6)), f),
            _ => bad_verb(out, verb, value),
        },
        Value::Str(s) => fmt_string(out, s, verb, f),
        Value::List(list) => {
            let separator: &[u8] = if f.sharp_v {
                out.text(value.type_name())?;
                out.byte(b'{')?;
                b", "
            } else {
                out.byte(b'[')?;
                b" "
            };
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.put(separator)?;
                }
                print_nested(out, item, verb, f)?;
            }
            out.byte(if f.sharp_v { b'}' } else { b']' })
        }
        Value::Map(map) => {
            let separator: &[u8] = if f.sharp_v {
                out.text(value.type_name())?;
                out.byte(b'{')?;
                b", "
            } else {
                out.text("map[")?;
                b" "
            };
            for (i, (key, item)) in map.entries.iter().enumerate() {
                if i > 0 {
                    out.put(separator)?;
                }
                fmt_string(out, key, verb, f)?;
                out.byte(b':')?;
                print_nested(out, item, verb, f)?;
            }
            out.byte(if f.sharp_v { b'}' } else { b']' })
        }
    }
}

/// An element inside a list or map: nil prints as `<nil>` whatever the verb.
fn print_nested(out: &mut Sink, value: &Value, verb: char, f: Flags) -> Result<(), Overflow> {
    match value {
        Value::Nil if f.sharp_v => out.text("interface {}(nil)"),
        Value::Nil => pad(out, b"<nil>", f),
        other => print_arg(out, other, verb, f),
    }
}

fn fmt_string(out: &mut Sink, s: &[u8], verb: char, f: Flags) -> Result<(), Overflow> {
    let truncated = |s: &[u8]| -> usize {
        match f.prec {
            Some(p) => runes(s).take(p).map(|(_, raw)| raw.len()).sum(),
            None => s.len(),
        }
    };
    match verb {
        'v' | 's' if !f.sharp_v => pad(out, &s[..truncated(s)], f),
        'v' | 'q' => {
            let s = &s[..truncated(s)];
            let mut quoted = out.scratch();
            if f.sharp && can_backquote(s) {
                quoted.byte(b'`')?;
                quoted.put(s)?;
                quoted.byte(b'`')?;
            } else {
                go_quote(&mut quoted, s, f.plus)?;
            }
            pad(out, &quoted.buf, f)
        }
        'x' | 'X' => fmt_hex_string(out, s, verb == 'X', f),
        // What `bad_verb` writes for a string.
        _ => {
            out.text("%!")?;
            out.char(verb)?;
            out.text("(string=")?;
            out.put(s)?;
            out.byte(b')')
        }
    }
}

fn fmt_hex_string(out: &mut Sink, s: &[u8], upper: bool, f: Flags) -> Result<(), Overflow> {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let x = if upper { b'X' } else { b'x' };
    let length = f.prec.map_or(s.len(), |p| p.min(s.len()));
    let mut width = 2 * length;
    if width > 0 {
        if f.space {
            if f.sharp {
                width *= 2;
            }
            width += length - 1;
        } else if f.sharp {
            width += 2;
        }
    } else {
        return out.repeat(if f.zero { b'0' } else { b' ' }, f.wid.unwrap_or(0));
    }
    let padding = f.wid.map_or(0, |w| w.saturating_sub(width));
    if !f.minus {
        out.repeat(if f.zero { b'0' } else { b' ' }, padding)?;
    }
    if f.sharp {
        out.put(&[b'0', x])?;
    }
    for (i, &c) in s[..length].iter().enumerate() {
        if f.space && i > 0 {
            out.byte(b' ')?;
            if f.sharp {
                out.put(&[b'0', x])?;
            }
        }
        out.put(&[digits[usize::from(c >> 4)], digits[usize::from(c & 0xf)]])?;
    }
    if f.minus {
        out.repeat(b' ', padding)?;
    }
    Ok(())
}

fn fmt_integer(
    out: &mut Sink,
    n: i64,
    verb: char,
    f: Flags,
    value: &Value,
) -> Result<(), Overflow> {
    let (base, upper) = match verb {
        'v' | 'd' => (10u64, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut utf8 = [0; 4];
            return pad(out, c.encode_utf8(&mut utf8).as_bytes(), f);
        }
        'q' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut quoted = out.scratch();
            quoted.byte(b'\'')?;
            let mut utf8 = [0; 4];
            escape_rune(
                &mut quoted,
                c,
                c.encode_utf8(&mut utf8).as_bytes(),
                b'\'',
                f.plus,
            )?;
            quoted.byte(b'\'')?;
            return pad(out, &quoted.buf, f);
        }
        'U' => {
            let mut text = format!("U+{:04X}", n as u64);
            if f.sharp
                && let Some(c) = u32::try_from(n).ok().and_then(char::from_u32)
                && is_print(c)
            {
                text.push_str(&format!(" '{c}'"));
            }
            return pad(out, text.as_bytes(), f);
        }
        _ => return bad_verb(out, verb, value),
    };
    let negative = n < 0;
    let mut magnitude = n.unsigned_abs();
    let mut prec = 0usize;
    if let Some(p) = f.prec {
        prec = p;
        if p == 0 && magnitude == 0 {
            let mut g = f;
            g.zero = false;
            return pad(out, b"", g);
        }
    } else if f.zero && f.wid.is_some() {
        prec = f.wid.unwrap_or(0);
        if negative || f.plus || f.space {
            prec = prec.saturating_sub(1);
        }
    }
    let digit_set: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut digits = Zeroizing::new(Vec::new());
    loop {
        digits.push(digit_set[(magnitude % base) as usize]);
        magnitude /= base;
        if magnitude == 0 {
            break;
        }
    }
    if prec > MAX_OUTPUT {
        return Err(Overflow(LimitKind::Value));
    }
    out.alloc(prec)?;
    while digits.len() < prec {
        digits.push(b'0');
    }
    if f.sharp {
        match base {
            2 => digits.extend_from_slice(b"b0"),
            8 if digits.last() != Some(&b'0') => digits.push(b'0'),
            16 => digits.extend_from_slice(if upper { b"X0" } else { b"x0" }),
            _ => {}
        }
    }
    if verb == 'O' {
        digits.extend_from_slice(b"o0");
    }
    if negative {
        digits.push(b'-');
    } else if f.plus {
        digits.push(b'+');
    } else if f.space {
        digits.push(b' ');
    }
    digits.reverse();
    let mut g = f;
    g.zero = false;
    pad(out, &digits, g)
}

fn fmt_float(
    out: &mut Sink,
    x: f64,
    verb: u8,
    prec: Option<usize>,
    f: Flags,
) -> Result<(), Overflow> {
    let prec = prec.map_or(-1, |p| i32::try_from(p.min(1_000_000)).unwrap_or(-1));
    // The digits (at most 330 before the point, `prec` after) as a string, then as bytes.
    out.alloc(
        usize::try_from(prec)
            .unwrap_or(0)
            .saturating_add(400)
            .saturating_mul(2),
    )?;
    let mut num = Zeroizing::new(format_float(x, verb, prec).into_bytes());
    if num.first() != Some(&b'-') && num.first() != Some(&b'+') {
        num.insert(0, b'+');
    }
    if f.space && num[0] == b'+' && !f.plus {
        num[0] = b' ';
    }
    if num.get(1) == Some(&b'I') || num.get(1) == Some(&b'N') {
        let mut g = f;
        g.zero = false;
        if num[1] == b'N' && !f.space && !f.plus {
            num.remove(0);
        }
        return pad(out, &num, g);
    }
    if f.plus || num[0] != b'+' {
        if f.zero && f.wid.is_some_and(|w| w > num.len()) {
            out.byte(num[0])?;
            out.repeat(b'0', f.wid.unwrap_or(0) - num.len())?;
            return out.put(&num[1..]);
        }
        return pad(out, &num, f);
    }
    pad(out, &num[1..], f)
}
