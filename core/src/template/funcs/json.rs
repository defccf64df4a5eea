//! JSON as Go's encoding/json writes and reads it.

use super::*;

// ---------------------------------------------------------------------------------------------
// JSON as Go's encoding/json writes and reads it.

pub(in crate::template) enum JsonErr {
    Overflow(Overflow),
    Unsupported,
}

impl From<Overflow> for JsonErr {
    fn from(overflow: Overflow) -> Self {
        JsonErr::Overflow(overflow)
    }
}

fn json_newline(out: &mut Sink, level: usize) -> Result<(), Overflow> {
    out.byte(b'\n')?;
    out.repeat(b' ', level.saturating_mul(2))
}

/// `json.Marshal` (or `MarshalIndent(v, "", "  ")`).
pub(in crate::template) fn write_json(
    out: &mut Sink,
    value: &Value,
    escape_html: bool,
    indent: bool,
    level: usize,
) -> Result<(), JsonErr> {
    match value {
        Value::Nil => out.text("null")?,
        Value::Bool(b) => out.text(if *b { "true" } else { "false" })?,
        Value::Int(i) => write_int(out, *i)?,
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(JsonErr::Unsupported);
            }
            let abs = f.abs();
            let fmt = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
                b'e'
            } else {
                b'f'
            };
            let mut text = Zeroizing::new(format_float(*f, fmt, -1));
            if fmt == b'e' {
                let n = text.len();
                let b = text.as_bytes();
                if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
                    text.remove(n - 2);
                }
            }
            out.text(&text)?;
        }
        Value::Str(s) => json_string(out, s, escape_html)?,
        Value::List(list) => {
            out.byte(b'[')?;
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.byte(b',')?;
                }
                if indent {
                    json_newline(out, level + 1)?;
                }
                write_json(out, item, escape_html, indent, level + 1)?;
            }
            if indent && !list.items.is_empty() {
                json_newline(out, level)?;
            }
            out.byte(b']')?;
        }
        Value::Map(map) => {
            out.byte(b'{')?;
            for (i, (key, item)) in map.entries.iter().enumerate() {
                if i > 0 {
                    out.byte(b',')?;
                }
                if indent {
                    json_newline(out, level + 1)?;
                }
                json_string(out, key, escape_html)?;
                out.text(if indent { ": " } else { ":" })?;
                write_json(out, item, escape_html, indent, level + 1)?;
            }
            if indent && !map.entries.is_empty() {
                json_newline(out, level)?;
            }
            out.byte(b'}')?;
        }
    }
    Ok(())
}

fn json_string(out: &mut Sink, s: &[u8], escape_html: bool) -> Result<(), Overflow> {
    out.byte(b'"')?;
    for (c, raw) in runes(s) {
        match c {
            None => out.text("\\ufffd")?,
            Some('"') => out.text("\\\"")?,
            Some('\\') => out.text("\\\\")?,
            Some('\n') => out.text("\\n")?,
            Some('\r') => out.text("\\r")?,
            Some('\t') => out.text("\\t")?,
            Some('\u{8}') => out.text("\\b")?,
            Some('\u{c}') => out.text("\\f")?,
            Some(c) if c < ' ' => out.text(&format!("\\u{:04x}", u32::from(c)))?,
            Some(c @ ('<' | '>' | '&')) if escape_html => {
                out.text(&format!("\\u{:04x}", u32::from(c)))?;
            }
            Some('\u{2028}') => out.text("\\u2028")?,
            Some('\u{2029}') => out.text("\\u2029")?,
            _ => out.put(raw)?,
        }
    }
    out.byte(b'"')
}

/// Sprig's `fromJson`: `json.Unmarshal` into `interface{}`, nil on any error.
pub(in crate::template) fn from_json(m: &Budget, text: &[u8]) -> Result<Value, Overflow> {
    let hit = Cell::new(None);
    let seed = JsonSeed { m, hit: &hit };
    let mut reader = serde_json::Deserializer::from_slice(text);
    let parsed = serde::de::DeserializeSeed::deserialize(seed, &mut reader).and_then(|value| {
        reader.end()?;
        Ok(value)
    });
    if let Some(overflow) = hit.get() {
        return Err(overflow);
    }
    Ok(parsed.unwrap_or(Value::Nil))
}

/// Reads one JSON value, charging what it builds to `m`; a budget overrun is kept in `hit`
/// (and fails the whole call) where other errors only make `fromJson` return nil.
#[derive(Clone, Copy)]
struct JsonSeed<'b> {
    pub(in crate::template) m: &'b Budget,
    hit: &'b Cell<Option<Overflow>>,
}

impl JsonSeed<'_> {
    pub(in crate::template) fn charged<T, E: serde::de::Error>(
        self,
        result: Result<T, Overflow>,
    ) -> Result<T, E> {
        result.map_err(|overflow| {
            if overflow.0 == LimitKind::Work {
                self.hit.set(Some(overflow));
            }
            E::custom("limit")
        })
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Float(v as f64))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Float(v as f64))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        if v.is_finite() {
            Ok(Value::Float(v))
        } else {
            Err(E::custom("number out of range"))
        }
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        self.charged(self.m.str(v.as_bytes()))
    }

    fn visit_string<E: serde::de::Error>(self, mut v: String) -> Result<Value, E> {
        let value = self.m.str(v.as_bytes());
        v.zeroize();
        self.charged(value)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            self.charged(self.m.grow(&mut items, ITEM_COST))?;
            items.push(item);
        }
        self.charged(list_value(self.m, items, false))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(key) = map.next_key::<Zeroizing<String>>()? {
            self.charged(self.m.alloc(ENTRY_COST))?;
            let key = self.charged(self.m.bytes(key.as_bytes()))?;
            let item = map.next_value_seed(self)?;
            entries.insert(key, item);
        }
        self.charged(map_value(self.m, entries, false))
    }
}
