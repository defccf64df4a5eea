//! Go's float formatting (`strconv.FormatFloat`) for printing and `printf`.

/// Decimal digits `d` of a number 0.d × 10^dp, without trailing zeros.
struct Digits {
    pub(in crate::template) d: Vec<u8>,
    dp: i32,
}

fn digits_from_scientific(text: &str) -> Digits {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let mut d: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let exp: i32 = exponent.parse().unwrap_or(0);
    while d.last() == Some(&b'0') {
        d.pop();
    }
    if d.is_empty() {
        return Digits { d, dp: 0 };
    }
    Digits { d, dp: exp + 1 }
}

/// Go's `strconv.FormatFloat(v, fmt, prec, 64)` for `e`, `E`, `f`, `g`, `G`.
pub(in crate::template) fn format_float(v: f64, fmt: u8, prec: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let negative = v.is_sign_negative();
    let a = v.abs();
    let mut out = String::new();
    if fmt == b'f' && prec >= 0 {
        let p = usize::try_from(prec).unwrap_or(0);
        if negative {
            out.push('-');
        }
        out.push_str(&format!("{:.*}", p.min(1100), a));
        for _ in 1100..p {
            out.push('0');
        }
        return out;
    }
    let shortest = prec < 0;
    let (digits, prec) = if shortest {
        let digits = if a == 0.0 {
            Digits {
                d: Vec::new(),
                dp: 0,
            }
        } else {
            digits_from_scientific(&format!("{a:e}"))
        };
        let nd = i32::try_from(digits.d.len()).unwrap_or(0);
        let prec = match fmt {
            b'e' | b'E' => (nd - 1).max(0),
            b'f' => (nd - digits.dp).max(0),
            _ => nd,
        };
        (digits, prec)
    } else {
        let (count, prec) = match fmt {
            b'e' | b'E' => (prec.saturating_add(1), prec),
            _ => {
                let p = prec.max(1);
                (p, p)
            }
        };
        let count = usize::try_from(count.clamp(1, 800)).unwrap_or(1);
        let digits = if a == 0.0 {
            Digits {
                d: Vec::new(),
                dp: 0,
            }
        } else {
            digits_from_scientific(&format!("{:.*e}", count - 1, a))
        };
        (digits, prec)
    };
    if negative {
        out.push('-');
    }
    let nd = i32::try_from(digits.d.len()).unwrap_or(0);
    match fmt {
        b'e' | b'E' => fmt_e(&mut out, &digits, prec, fmt),
        b'f' => fmt_f(&mut out, &digits, prec),
        _ => {
            let mut eprec = prec;
            if eprec > nd && nd >= digits.dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = digits.dp - 1;
            if exp < -4 || exp >= eprec {
                let p = prec.min(nd);
                fmt_e(
                    &mut out,
                    &digits,
                    p - 1,
                    if fmt == b'G' { b'E' } else { b'e' },
                );
            } else {
                let p = if prec > digits.dp { nd } else { prec };
                fmt_f(&mut out, &digits, (p - digits.dp).max(0));
            }
        }
    }
    out
}

fn fmt_e(out: &mut String, digits: &Digits, prec: i32, e: u8) {
    out.push(char::from(digits.d.first().copied().unwrap_or(b'0')));
    if prec > 0 {
        out.push('.');
        let prec = usize::try_from(prec).unwrap_or(0);
        for i in 1..=prec {
            out.push(char::from(digits.d.get(i).copied().unwrap_or(b'0')));
        }
    }
    out.push(char::from(e));
    let mut exp = if digits.d.is_empty() {
        0
    } else {
        digits.dp - 1
    };
    if exp < 0 {
        out.push('-');
        exp = -exp;
    } else {
        out.push('+');
    }
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

fn fmt_f(out: &mut String, digits: &Digits, prec: i32) {
    if digits.dp > 0 {
        let dp = usize::try_from(digits.dp).unwrap_or(0);
        for i in 0..dp {
            out.push(char::from(digits.d.get(i).copied().unwrap_or(b'0')));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec {
            let j = digits.dp + i;
            let c = usize::try_from(j)
                .ok()
                .and_then(|j| digits.d.get(j))
                .copied()
                .unwrap_or(b'0');
            out.push(char::from(c));
        }
    }
}
