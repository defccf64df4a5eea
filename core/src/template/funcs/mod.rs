//! The function table and its dispatch, with the helpers split by family.

mod convert;
mod escape;
mod float;
mod json;
mod printf;
mod strings;

pub(super) use convert::*;
pub(super) use escape::*;
pub(super) use float::*;
pub(super) use json::*;
pub(super) use printf::*;
pub(super) use strings::*;

use super::*;

// ---------------------------------------------------------------------------------------------
// The function table.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Func {
    And,
    Or,
    Not,
    Len,
    Index,
    Print,
    Printf,
    Println,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Html,
    Js,
    Urlquery,
    ToJson,
    ToPrettyJson,
    ToRawJson,
    FromJson,
    B64enc,
    B64dec,
    Quote,
    Squote,
    Upper,
    Lower,
    Title,
    Trim,
    TrimAll,
    TrimPrefix,
    TrimSuffix,
    Replace,
    Contains,
    HasPrefix,
    HasSuffix,
    Default,
    Empty,
    Coalesce,
    Ternary,
    Indent,
    Nindent,
    Nospace,
    Repeat,
    Substr,
    Trunc,
    Split,
    SplitList,
    Join,
    List,
    Dict,
    Get,
    HasKey,
    Keys,
    Sha256sum,
    Sha1sum,
    Adler32sum,
    Cat,
    ToString,
    Atoi,
    Int,
    Int64,
    Float64,
    Add,
    Add1,
    Sub,
    Mul,
    Div,
    Mod,
    Max,
    Min,
}

const FUNCS: &[(&str, Func)] = &[
    ("and", Func::And),
    ("or", Func::Or),
    ("not", Func::Not),
    ("len", Func::Len),
    ("index", Func::Index),
    ("print", Func::Print),
    ("printf", Func::Printf),
    ("println", Func::Println),
    ("eq", Func::Eq),
    ("ne", Func::Ne),
    ("lt", Func::Lt),
    ("le", Func::Le),
    ("gt", Func::Gt),
    ("ge", Func::Ge),
    ("html", Func::Html),
    ("js", Func::Js),
    ("urlquery", Func::Urlquery),
    ("toJson", Func::ToJson),
    ("toPrettyJson", Func::ToPrettyJson),
    ("toRawJson", Func::ToRawJson),
    ("fromJson", Func::FromJson),
    ("b64enc", Func::B64enc),
    ("b64dec", Func::B64dec),
    ("quote", Func::Quote),
    ("squote", Func::Squote),
    ("upper", Func::Upper),
    ("lower", Func::Lower),
    ("title", Func::Title),
    ("trim", Func::Trim),
    ("trimAll", Func::TrimAll),
    ("trimall", Func::TrimAll),
    ("trimPrefix", Func::TrimPrefix),
    ("trimSuffix", Func::TrimSuffix),
    ("replace", Func::Replace),
    ("contains", Func::Contains),
    ("hasPrefix", Func::HasPrefix),
    ("hasSuffix", Func::HasSuffix),
    ("default", Func::Default),
    ("empty", Func::Empty),
    ("coalesce", Func::Coalesce),
    ("ternary", Func::Ternary),
    ("indent", Func::Indent),
    ("nindent", Func::Nindent),
    ("nospace", Func::Nospace),
    ("repeat", Func::Repeat),
    ("substr", Func::Substr),
    ("trunc", Func::Trunc),
    ("split", Func::Split),
    ("splitList", Func::SplitList),
    ("join", Func::Join),
    ("list", Func::List),
    ("dict", Func::Dict),
    ("get", Func::Get),
    ("hasKey", Func::HasKey),
    ("keys", Func::Keys),
    ("sha256sum", Func::Sha256sum),
    ("sha1sum", Func::Sha1sum),
    ("adler32sum", Func::Adler32sum),
    ("cat", Func::Cat),
    ("toString", Func::ToString),
    ("atoi", Func::Atoi),
    ("int", Func::Int),
    ("int64", Func::Int64),
    ("float64", Func::Float64),
    ("add", Func::Add),
    ("add1", Func::Add1),
    ("sub", Func::Sub),
    ("mul", Func::Mul),
    ("div", Func::Div),
    ("mod", Func::Mod),
    ("max", Func::Max),
    ("min", Func::Min),
];

pub(super) fn lookup(name: &str) -> Option<(Func, &'static str)> {
    FUNCS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, f)| (*f, *n))
}

impl Func {
    /// Fixed parameters, then the type of the variadic ones if any.
    pub(super) fn signature(self) -> (&'static [P], Option<P>) {
        use Func::*;
        use P::{Any, Bool as B, Int as I, Map as M, Str as S};
        match self {
            And | Or | Index | Eq | Mul | Max | Min | Default => (&[Any], Some(Any)),
            Not | Len | ToJson | ToPrettyJson | ToRawJson | Empty | ToString | Int | Int64
            | Float64 | Add1 => (&[Any], None),
            Print | Println | Html | Js | Urlquery | Quote | Squote | Coalesce | List | Dict
            | Cat | Add => (&[], Some(Any)),
            Printf => (&[S], Some(Any)),
            Ne | Lt | Le | Gt | Ge | Sub | Div | Mod => (&[Any, Any], None),
            FromJson | B64enc | B64dec | Upper | Lower | Title | Trim | Nospace | Sha256sum
            | Sha1sum | Adler32sum | Atoi => (&[S], None),
            TrimAll | TrimPrefix | TrimSuffix | Contains | HasPrefix | HasSuffix | Split
            | SplitList => (&[S, S], None),
            Replace => (&[S, S, S], None),
            Ternary => (&[Any, Any, B], None),
            Indent | Nindent | Repeat | Trunc => (&[I, S], None),
            Substr => (&[I, I, S], None),
            Join => (&[S, Any], None),
            Get | HasKey => (&[M, S], None),
            Keys => (&[], Some(M)),
        }
    }
}

pub(super) fn arg(args: &[Value], i: usize) -> &Value {
    const NIL: &Value = &Value::Nil;
    args.get(i).unwrap_or(NIL)
}

fn str_arg(args: &[Value], i: usize) -> &[u8] {
    match args.get(i) {
        Some(Value::Str(s)) => s,
        _ => &[],
    }
}

fn int_arg(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::Int(n)) => *n,
        _ => 0,
    }
}

pub(super) fn string<'b>(
    m: &'b Budget,
    build: impl FnOnce(&mut Sink<'b>) -> Result<(), Overflow>,
) -> FnResult {
    let mut sink = Sink::new(m);
    build(&mut sink)?;
    Ok(sink.into_value()?)
}

/// Runs a function. Every allocation it makes is charged to `m` first; its arguments have been.
pub(super) fn call(m: &Budget, func: Func, a: &[Value]) -> FnResult {
    use Func::*;
    let value = match func {
        And | Or => arg(a, 0).clone(),
        Not => Value::Bool(!truth(arg(a, 0))),
        Len => match arg(a, 0) {
            Value::Str(s) => Value::Int(len_int(s.len())),
            Value::List(list) => Value::Int(len_int(list.items.len())),
            Value::Map(map) => Value::Int(len_int(map.entries.len())),
            Value::Nil => return Err(FnErr::Msg("len of nil pointer".into())),
            other => return Err(FnErr::Msg(format!("len of type {}", other.type_name()))),
        },
        Index => index(m, arg(a, 0), a.get(1..).unwrap_or(&[]))?,
        Print => string(m, |out| sprint(out, a))?,
        Println => string(m, |out| {
            for (i, value) in a.iter().enumerate() {
                if i > 0 {
                    out.byte(b' ')?;
                }
                write_v(out, value)?;
            }
            out.byte(b'\n')
        })?,
        Printf => string(m, |out| {
            sprintf(out, str_arg(a, 0), a.get(1..).unwrap_or(&[]))
        })?,
        Eq => Value::Bool(eq(arg(a, 0), a.get(1..).unwrap_or(&[]))?),
        Ne => Value::Bool(!eq(arg(a, 0), a.get(1..2).unwrap_or(&[]))?),
        Lt => Value::Bool(less(arg(a, 0), arg(a, 1))?),
        Le => {
            Value::Bool(less(arg(a, 0), arg(a, 1))? || eq(arg(a, 0), a.get(1..2).unwrap_or(&[]))?)
        }
        Gt => Value::Bool(
            !(less(arg(a, 0), arg(a, 1))? || eq(arg(a, 0), a.get(1..2).unwrap_or(&[]))?),
        ),
        Ge => Value::Bool(!less(arg(a, 0), arg(a, 1))?),
        Html => escape_args(m, a, html_escape)?,
        Js => escape_args(m, a, js_escape)?,
        Urlquery => escape_args(m, a, query_escape)?,
        ToJson | ToPrettyJson | ToRawJson => {
            let mut sink = Sink::new(m);
            let indent = func == ToPrettyJson;
            match write_json(&mut sink, arg(a, 0), func != ToRawJson, indent, 0) {
                Ok(()) => sink.into_value()?,
                Err(JsonErr::Overflow(overflow)) => return Err(FnErr::Limit(overflow)),
                Err(JsonErr::Unsupported) => m.str(b"")?,
            }
        }
        FromJson => from_json(m, str_arg(a, 0))?,
        B64enc => {
            let input = str_arg(a, 0);
            let size = input.len().div_ceil(3).saturating_mul(4);
            if size > MAX_OUTPUT {
                return Err(FnErr::Limit(Overflow(LimitKind::Value)));
            }
            m.alloc(size)?;
            let encoded = Zeroizing::new(crate::base64::encode(input));
            m.str(encoded.as_bytes())?
        }
        B64dec => b64dec(m, str_arg(a, 0))?,
        Quote => string(m, |out| {
            let mut first = true;
            for value in a.iter().filter(|v| !matches!(v, Value::Nil)) {
                if !first {
                    out.byte(b' ')?;
                }
                first = false;
                match value {
                    Value::Str(text) => go_quote(out, text, false)?,
                    other => {
                        let mut text = out.scratch();
                        write_v(&mut text, other)?;
                        go_quote(out, &text.buf, false)?;
                    }
                }
            }
            Ok(())
        })?,
        Squote => string(m, |out| {
            let mut first = true;
            for value in a.iter().filter(|v| !matches!(v, Value::Nil)) {
                if !first {
                    out.byte(b' ')?;
                }
                first = false;
                out.byte(b'\'')?;
                write_v(out, value)?;
                out.byte(b'\'')?;
            }
            Ok(())
        })?,
        Upper => string(m, |out| map_case(out, str_arg(a, 0), Case::Upper))?,
        Lower => string(m, |out| map_case(out, str_arg(a, 0), Case::Lower))?,
        Title => string(m, |out| title(out, str_arg(a, 0)))?,
        Trim => m.str(trim_space(str_arg(a, 0)))?,
        TrimAll => m.str(trim_cutset(m, str_arg(a, 1), str_arg(a, 0))?)?,
        TrimPrefix => {
            let (prefix, s) = (str_arg(a, 0), str_arg(a, 1));
            m.str(s.strip_prefix(prefix).unwrap_or(s))?
        }
        TrimSuffix => {
            let (suffix, s) = (str_arg(a, 0), str_arg(a, 1));
            m.str(s.strip_suffix(suffix).unwrap_or(s))?
        }
        Replace => string(m, |out| {
            replace(m, out, str_arg(a, 2), str_arg(a, 0), str_arg(a, 1))
        })?,
        Contains => Value::Bool(find(m, str_arg(a, 1), str_arg(a, 0))?.is_some()),
        HasPrefix => Value::Bool(str_arg(a, 1).starts_with(str_arg(a, 0))),
        HasSuffix => Value::Bool(str_arg(a, 1).ends_with(str_arg(a, 0))),
        Default => match a.get(1) {
            Some(given) if truth(given) => given.clone(),
            _ => arg(a, 0).clone(),
        },
        Empty => Value::Bool(!truth(arg(a, 0))),
        Coalesce => a.iter().find(|v| truth(v)).cloned().unwrap_or(Value::Nil),
        Ternary => {
            if matches!(arg(a, 2), Value::Bool(true)) {
                arg(a, 0).clone()
            } else {
                arg(a, 1).clone()
            }
        }
        Indent | Nindent => {
            let spaces = usize::try_from(int_arg(a, 0))
                .map_err(|_| FnErr::Msg("strings: negative Repeat count".into()))?;
            let text = str_arg(a, 1);
            string(m, |out| {
                if func == Nindent {
                    out.byte(b'\n')?;
                }
                out.repeat(b' ', spaces)?;
                for &b in text {
                    out.byte(b)?;
                    if b == b'\n' {
                        out.repeat(b' ', spaces)?;
                    }
                }
                Ok(())
            })?
        }
        Nospace => nospace(m, str_arg(a, 0))?,
        Repeat => {
            let count = usize::try_from(int_arg(a, 0))
                .map_err(|_| FnErr::Msg("strings: negative Repeat count".into()))?;
            let text = str_arg(a, 1);
            if text.len().checked_mul(count).is_none_or(|n| n > MAX_OUTPUT) {
                return Err(FnErr::Limit(Overflow(LimitKind::Value)));
            }
            string(m, |out| {
                for _ in 0..count {
                    out.put(text)?;
                }
                Ok(())
            })?
        }
        Substr => substr(m, int_arg(a, 0), int_arg(a, 1), str_arg(a, 2))?,
        Trunc => {
            let (count, s) = (int_arg(a, 0), str_arg(a, 1));
            let len = len_int(s.len());
            let piece = if count < 0 && len.saturating_add(count) > 0 {
                s.get(usize::try_from(len.saturating_add(count)).unwrap_or(0)..)
            } else if count >= 0 && len > count {
                s.get(..usize::try_from(count).unwrap_or(0))
            } else {
                Some(s)
            };
            m.str(piece.unwrap_or(s))?
        }
        Split => {
            let parts = split(m, str_arg(a, 1), str_arg(a, 0))?;
            m.alloc_n(parts.len(), ENTRY_COST.saturating_add(STR_COST))?;
            let entries = parts
                .into_iter()
                .enumerate()
                .map(|(i, part)| (Bytes(format!("_{i}").into_bytes()), part))
                .collect();
            map_value(m, entries, true)?
        }
        SplitList => list_value(m, split(m, str_arg(a, 1), str_arg(a, 0))?, true)?,
        Join => {
            let sep = str_arg(a, 0);
            string(m, |out| {
                let mut first = true;
                strslice(arg(a, 1), |part| {
                    if !first {
                        out.put(sep)?;
                    }
                    first = false;
                    match part {
                        Value::Str(s) => out.put(s),
                        other => write_v(out, other),
                    }
                })
            })?
        }
        List => {
            m.alloc_n(a.len(), ITEM_COST)?;
            list_value(m, a.to_vec(), false)?
        }
        Dict => {
            let mut entries = BTreeMap::new();
            for pair in a.chunks(2) {
                m.alloc(ENTRY_COST)?;
                let key = strval(m, arg(pair, 0))?;
                let value = match pair.get(1) {
                    Some(value) => value.clone(),
                    None => m.str(b"")?,
                };
                entries.insert(key, value);
            }
            map_value(m, entries, false)?
        }
        Get => match arg(a, 0) {
            Value::Map(map) => match map.entries.get(str_arg(a, 1)) {
                Some(found) => found.clone(),
                None => m.str(b"")?,
            },
            _ => m.str(b"")?,
        },
        HasKey => Value::Bool(match arg(a, 0) {
            Value::Map(map) => map.entries.contains_key(str_arg(a, 1)),
            _ => false,
        }),
        Keys => {
            let mut keys: Vec<Bytes> = Vec::new();
            for value in a {
                if let Value::Map(map) = value {
                    for key in map.entries.keys() {
                        m.grow(&mut keys, std::mem::size_of::<Bytes>())?;
                        keys.push(m.bytes(key)?);
                    }
                }
            }
            keys.sort();
            m.alloc_n(keys.len(), ITEM_COST)?;
            let items = keys.into_iter().map(|k| Value::Str(Rc::new(k))).collect();
            list_value(m, items, true)?
        }
        Sha256sum => {
            let input = str_arg(a, 0);
            m.read(input.len().saturating_mul(HASH_WEIGHT))?;
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input);
            m.str(hex(digest.as_ref()).as_bytes())?
        }
        Sha1sum => {
            let input = str_arg(a, 0);
            m.read(input.len().saturating_mul(HASH_WEIGHT))?;
            let digest =
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, input);
            m.str(hex(digest.as_ref()).as_bytes())?
        }
        Adler32sum => m.str(adler32(str_arg(a, 0)).to_string().as_bytes())?,
        Cat => string(m, |out| {
            let mut first = true;
            for value in a.iter().filter(|v| !matches!(v, Value::Nil)) {
                if !first {
                    out.byte(b' ')?;
                }
                first = false;
                write_v(out, value)?;
            }
            Ok(())
        })?,
        ToString => Value::Str(Rc::new(strval(m, arg(a, 0))?)),
        Atoi => Value::Int(atoi(str_arg(a, 0))),
        Int | Int64 => Value::Int(to_int64(arg(a, 0))),
        Float64 => {
            if let Value::Str(text) = arg(a, 0) {
                // Parsing copies the text twice.
                m.alloc(text.len().saturating_mul(2))?;
            }
            Value::Float(to_float64(arg(a, 0)))
        }
        Add => Value::Int(a.iter().map(to_int64).fold(0, i64::wrapping_add)),
        Add1 => Value::Int(to_int64(arg(a, 0)).wrapping_add(1)),
        Sub => Value::Int(to_int64(arg(a, 0)).wrapping_sub(to_int64(arg(a, 1)))),
        Mul => Value::Int(a.iter().map(to_int64).fold(1, i64::wrapping_mul)),
        Div | Mod => {
            let (x, y) = (to_int64(arg(a, 0)), to_int64(arg(a, 1)));
            if y == 0 {
                return Err(FnErr::Msg("runtime error: integer divide by zero".into()));
            }
            Value::Int(if func == Div {
                x.wrapping_div(y)
            } else {
                x.wrapping_rem(y)
            })
        }
        Max => Value::Int(a.iter().map(to_int64).max().unwrap_or(0)),
        Min => Value::Int(a.iter().map(to_int64).min().unwrap_or(0)),
    };
    Ok(value)
}
