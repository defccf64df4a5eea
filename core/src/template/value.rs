//! The value model: Go values as templates see them.

use super::*;

// ---------------------------------------------------------------------------------------------
// Values.

#[derive(Clone)]
pub(super) enum Value {
    /// A missing value or a nil interface.
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<Bytes>),
    List(Rc<ListVal>),
    Map(Rc<MapVal>),
}

pub(super) struct ListVal {
    pub(super) items: Vec<Value>,
    pub(super) depth: usize,
    /// A Go `[]string` rather than `[]interface{}` (only changes type names).
    pub(super) strings: bool,
}

pub(super) struct MapVal {
    pub(super) entries: BTreeMap<Bytes, Value>,
    pub(super) depth: usize,
    /// A Go `map[string]string`: `index` of a missing key gives `""` rather than nil.
    pub(super) strings: bool,
}

impl Value {
    pub(super) fn str(bytes: &[u8]) -> Value {
        Value::Str(Rc::new(Bytes::from_slice(bytes)))
    }

    pub(super) fn depth(&self) -> usize {
        match self {
            Value::List(list) => list.depth,
            Value::Map(map) => map.depth,
            _ => 0,
        }
    }

    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(list) if list.strings => "[]string",
            Value::List(_) => "[]interface {}",
            Value::Map(map) if map.strings => "map[string]string",
            Value::Map(_) => "map[string]interface {}",
        }
    }

    /// Cost of handling the value without looking inside its elements.
    pub(super) fn shallow_size(&self) -> u64 {
        let size = match self {
            Value::Str(bytes) => bytes.len(),
            Value::List(list) => list.items.len().saturating_mul(16),
            Value::Map(map) => map.entries.len().saturating_mul(32),
            _ => 1,
        };
        u64::try_from(size).unwrap_or(u64::MAX)
    }
}

/// A list of `items`, whose storage the caller has charged.
pub(super) fn list_value(
    budget: &Budget,
    items: Vec<Value>,
    strings: bool,
) -> Result<Value, Overflow> {
    let depth = 1 + items.iter().map(Value::depth).max().unwrap_or(0);
    if depth > MAX_DEPTH {
        return Err(Overflow(LimitKind::Nesting));
    }
    if items.len() > MAX_OUTPUT {
        return Err(Overflow(LimitKind::Value));
    }
    budget.alloc(LIST_COST)?;
    Ok(Value::List(Rc::new(ListVal {
        items,
        depth,
        strings,
    })))
}

/// A map of `entries`, whose storage the caller has charged.
pub(super) fn map_value(
    budget: &Budget,
    entries: BTreeMap<Bytes, Value>,
    strings: bool,
) -> Result<Value, Overflow> {
    let depth = 1 + entries.values().map(Value::depth).max().unwrap_or(0);
    if depth > MAX_DEPTH {
        return Err(Overflow(LimitKind::Nesting));
    }
    budget.alloc(LIST_COST)?;
    Ok(Value::Map(Rc::new(MapVal {
        entries,
        depth,
        strings,
    })))
}

/// A nil `map[string]interface{}`: what a missing value becomes where a map is expected.
pub(super) fn empty_map() -> Value {
    Value::Map(Rc::new(MapVal {
        entries: BTreeMap::new(),
        depth: 1,
        strings: false,
    }))
}

/// Go's truth: false, 0, "", empty lists and maps, nil and missing values are false.
pub(super) fn truth(value: &Value) -> bool {
    match value {
        Value::Nil => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::List(list) => !list.items.is_empty(),
        Value::Map(map) => !map.entries.is_empty(),
    }
}
