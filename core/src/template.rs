//! Go `text/template` with the Sprig functions SealedSecrets use: renders `spec.template.data`.
//!
//! Upstream's controller parses every `spec.template.data` entry as a Go `text/template` named
//! after its key, with Sprig's "generic" function map minus `env`, `expandenv` and
//! `getHostByName`, and executes it with `.` bound to a map of the decrypted items as strings
//! (§2.5 of the spec). The output bytes replace or add the item. This module is a
//! reimplementation of that engine from its documented behaviour: [`render`] runs one template,
//! [`render_all`] runs a SealedSecret's templates the way the controller does.
//!
//! Values are byte strings, as in Go: `{{ .cert }}` copies a binary item byte for byte.
//!
//! Compatibility was checked by running several hundred templates through Go's `text/template`
//! (Go 1.19, with Sprig's functions restated from Sprig's source) and comparing output and error
//! texts; the agreeing cases are kept as vectors in `core/tests/template.rs`. Upstream builds
//! with Go ≥ 1.22, whose behaviour this module follows where it changed: JSON escapes `\b` and
//! `\f` as such, `range` iterates over integers, and `else with` chains `with` blocks.
//!
//! # Language
//!
//! Text and `{{ }}` actions with the trim markers `{{- ` and ` -}}`; comments `{{/* */}}`;
//! pipelines `a | b | c`; fields `.a.b` (map keys); `.` and `$`; variables `$x := …` and
//! `$x = …`; parenthesized pipelines and `(…).field`; literals: interpreted strings with Go
//! escapes, raw strings, numbers (decimal, `0x`, `0o`, `0b`, `_`, floats, `'c'` characters),
//! `true`, `false`, `nil`; `if`/`else if`/`else`, `with`/`else with`/`else`, `range` (lists,
//! maps in sorted key order, integers; `$v :=` and `$k, $v :=` forms; `else`), `break` and
//! `continue`. Truth follows Go: `false`, `0`, `""`, empty lists and maps and missing values are
//! false. A missing map key prints `<no value>`; `index` of a missing item key gives `""`.
//!
//! # Functions
//!
//! | Function | Arguments (Go types) | Result |
//! |---|---|---|
//! | `and`, `or` | values… | first falsy (`and`) or truthy (`or`) argument, else the last; short-circuit |
//! | `not` | value | bool |
//! | `len` | string, list or map | int (bytes for strings) |
//! | `index` | item, keys or indexes… | element; `""` for a missing item key, `<no value>` for a missing `dict` key |
//! | `print`, `println`, `printf` | values… / format, values… | Go `fmt.Sprint`, `Sprintln`, `Sprintf` |
//! | `eq`, `ne`, `lt`, `le`, `gt`, `ge` | basic values | bool (`eq` takes several right-hand values) |
//! | `html`, `js`, `urlquery` | values… | escaped text |
//! | `toJson`, `toRawJson`, `toPrettyJson` | value | JSON like Go's `json.Marshal` (`<`, `>`, `&` escaped except in `toRawJson`; `""` on failure) |
//! | `fromJson` | string | decoded value (numbers are floats; nil on invalid JSON) |
//! | `b64enc`, `b64dec` | string | standard padded base64 (`b64dec` returns the decoder's error text on bad input, as Sprig does) |
//! | `quote`, `squote` | values… | `"…"` (Go `%q`) or `'…'`, space separated, nil skipped |
//! | `upper`, `lower`, `title`, `trim`, `nospace` | string | string |
//! | `trimAll` (`trimall`), `trimPrefix`, `trimSuffix` | cutset or affix, string | string |
//! | `replace` | old, new, string | string |
//! | `contains`, `hasPrefix`, `hasSuffix` | needle, string | bool |
//! | `default` | default, value | `value` unless empty |
//! | `empty` | value | bool |
//! | `coalesce` | values… | first non-empty value |
//! | `ternary` | if-true, if-false, bool | value |
//! | `indent`, `nindent` | spaces, string | every line indented (`nindent` adds a leading newline) |
//! | `repeat` | count, string | string |
//! | `substr` | start, end, string | bytes `start..end` (Sprig's rules for negative bounds) |
//! | `trunc` | count, string | first `count` bytes (last `-count` if negative) |
//! | `split` | separator, string | map `_0`, `_1`, … |
//! | `splitList` | separator, string | list |
//! | `join` | separator, list | string |
//! | `list`, `dict` | values… / key, value, … | list / map |
//! | `get`, `hasKey` | map, key | value (`""` when missing) / bool (maps from `dict` or `fromJson`: like Sprig, not `.` or `split`) |
//! | `keys` | maps… | sorted list of keys (Sprig leaves them in random order) |
//! | `sha256sum`, `sha1sum`, `adler32sum` | string | lowercase hex / decimal checksum |
//! | `cat` | values… | values joined by spaces, nil skipped |
//! | `toString` | value | string |
//! | `atoi` | string | int (0 when not a number) |
//! | `int`, `int64`, `float64` | value | number (Sprig's lenient conversions, 0 on failure) |
//! | `add`, `add1`, `sub`, `mul`, `div`, `mod`, `max`, `min` | values | 64-bit integer arithmetic |
//!
//! Not available: `env`, `expandenv` and `getHostByName` (upstream removed them so templates
//! cannot read the controller's environment), anything that reads files, the network, the clock
//! or randomness (`now`, `date`, `rand*`, `uuidv4`, `genPrivateKey`, `genCA`, …), `fail`, the
//! `must*` variants, regular expressions, the other list and dict helpers, and the template
//! actions `define`, `template` and `block`. Calling them is a parse error naming the function.
//!
//! Known differences from Go, all in corners SealedSecrets do not use: complex numbers and
//! hexadecimal float literals are rejected; `printf` has no `%p`, `%b`/`%x` on floats or
//! `%#` variants beyond `%#v`, `%#x`, `%#o`, `%#q` and `%#U`; non-ASCII case mapping and
//! "printable" tests (for `%q` and `js`) use Rust's Unicode tables, which differ from Go's for
//! unassigned code points; an `int64` result is accepted where Go wants an `int` parameter;
//! a nil element reached through a field (`(dict "a" nil).a.b`) gives `<no value>` where Go
//! fails; error texts leave out values Go would print (the index in "index out of range", the
//! value in "range can't iterate over"); errors quote at most 80 characters of template text.
//!
//! # Safety
//!
//! Templates are deterministic and read nothing but the decrypted items. Error messages name
//! the template, a position, the template text at fault and value *types*, never a value:
//! templates may come from anyone who can edit a SealedSecret, values are secrets. Output and
//! intermediate buffers are wiped when dropped. Parsing and execution are bounded: nesting by
//! [`MAX_DEPTH`], every value and the output by [`MAX_OUTPUT`], evaluation by [`MAX_STEPS`] and
//! [`MAX_WORK`]. Whether a template fails can still depend on the secret values (`div 1 .x`
//! fails when `x` is `0`), so only run templates where their result goes to whoever may read
//! the Secret, never in verify or rotate paths.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use zeroize::{Zeroize, Zeroizing};

use crate::sealing::ItemErrors;
use crate::secret::SecretBytes;

/// Largest output of a template, and largest string or list any function may build (1 MiB, the
/// size limit of a Kubernetes Secret).
pub const MAX_OUTPUT: usize = 1 << 20;
/// Deepest nesting of control structures, parentheses and values.
pub const MAX_DEPTH: usize = 100;
/// Most evaluation steps (actions, commands, arguments, loop iterations) one template may take.
pub const MAX_STEPS: u64 = 1_000_000;
/// Most bytes one template's functions may read and write in total.
pub const MAX_WORK: u64 = 64 << 20;

/// Why a template cannot be rendered. Messages never contain secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template source does not parse.
    #[error("template: {name}:{line}:{column}: {message}")]
    Parse {
        /// Template name (the item key).
        name: String,
        /// Line of the offending token, from 1.
        line: usize,
        /// Byte offset of the offending token in its line, from 0 (Go's convention).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The template calls a function sealant does not provide.
    #[error(
        "template: {name}:{line}:{column}: function \"{function}\" not defined ({})",
        undefined_hint(.function)
    )]
    UndefinedFunction {
        /// Template name (the item key).
        name: String,
        /// Line of the call, from 1.
        line: usize,
        /// Byte offset of the call in its line, from 0.
        column: usize,
        /// The function name.
        function: String,
    },
    /// Executing the template failed.
    #[error("template: {name}:{line}:{column}: executing \"{name}\" at <{context}>: {message}")]
    Exec {
        /// Template name (the item key).
        name: String,
        /// Line of the failing node, from 1.
        line: usize,
        /// Byte offset of the failing node in its line, from 0.
        column: usize,
        /// Template text of the failing node (at most 80 characters shown).
        context: String,
        /// What went wrong.
        message: String,
    },
    /// The template exceeded a resource limit.
    #[error("template: {name}:{line}:{column}: executing \"{name}\" at <{context}>: {message}")]
    Limit {
        /// Template name (the item key).
        name: String,
        /// Line of the node being executed, from 1.
        line: usize,
        /// Byte offset of that node in its line, from 0.
        column: usize,
        /// Template text of that node (at most 80 characters shown).
        context: String,
        /// Which limit.
        message: String,
    },
}

fn undefined_hint(function: &str) -> &'static str {
    match function {
        "env" | "expandenv" | "getHostByName" => {
            "templates may not read the controller's environment or network; the supported \
             functions are listed in the sealant_core::template documentation"
        }
        "now"
        | "date"
        | "dateInZone"
        | "date_in_zone"
        | "dateModify"
        | "date_modify"
        | "mustDateModify"
        | "must_date_modify"
        | "htmlDate"
        | "htmlDateInZone"
        | "ago"
        | "unixEpoch"
        | "randAlphaNum"
        | "randAlpha"
        | "randAscii"
        | "randNumeric"
        | "randBytes"
        | "randInt"
        | "shuffle"
        | "uuidv4"
        | "genPrivateKey"
        | "genCA"
        | "genCAWithKey"
        | "genSelfSignedCert"
        | "genSelfSignedCertWithKey"
        | "genSignedCert"
        | "genSignedCertWithKey"
        | "buildCustomCert"
        | "bcrypt"
        | "htpasswd"
        | "encryptAES" => {
            "templates must be deterministic: no clock, randomness or key generation; the \
             supported functions are listed in the sealant_core::template documentation"
        }
        _ => {
            "not supported by sealant; the supported functions are listed in the \
             sealant_core::template documentation"
        }
    }
}

/// Failures of several templates, by item key, reported like sealant's other per-item errors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateErrors {
    /// Item key → why its template failed.
    pub by_item: BTreeMap<String, TemplateError>,
}

impl TemplateErrors {
    /// Message → item keys that failed with it (sorted), as in
    /// [`ItemErrors`].
    pub fn by_message(&self) -> BTreeMap<String, Vec<String>> {
        let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (item, error) in &self.by_item {
            grouped
                .entry(error.to_string())
                .or_default()
                .push(item.clone());
        }
        grouped
    }

    /// True when no template failed.
    pub fn is_empty(&self) -> bool {
        self.by_item.is_empty()
    }
}

/// One line per distinct message: `message (item, item)`.
impl fmt::Display for TemplateErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (message, items)) in self.by_message().iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{message} ({})", items.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for TemplateErrors {}

impl From<TemplateErrors> for ItemErrors {
    fn from(errors: TemplateErrors) -> Self {
        ItemErrors {
            by_message: errors.by_message(),
        }
    }
}

/// Renders one template over the decrypted items, as upstream's controller does for one
/// `spec.template.data` entry named `name`.
///
/// # Errors
/// [`TemplateError`] when the template does not parse, fails or exceeds a limit.
pub fn render(
    source: &str,
    name: &str,
    data: &BTreeMap<String, SecretBytes>,
) -> Result<SecretBytes, TemplateError> {
    render_value(source, name, &data_value(data))
}

/// Renders every template of a SealedSecret: key → template source, each named after its key
/// and executed over `data` (the decrypted items, never other templates' output). Returns the
/// rendered items only; the caller inserts them over `data` (templates win).
///
/// # Errors
/// [`TemplateErrors`] with every failing template when at least one fails.
pub fn render_all(
    templates: &BTreeMap<String, String>,
    data: &BTreeMap<String, SecretBytes>,
) -> Result<BTreeMap<String, SecretBytes>, TemplateErrors> {
    let root = data_value(data);
    let mut rendered = BTreeMap::new();
    let mut errors = TemplateErrors::default();
    for (key, source) in templates {
        match render_value(source, key, &root) {
            Ok(bytes) => {
                rendered.insert(key.clone(), bytes);
            }
            Err(error) => {
                errors.by_item.insert(key.clone(), error);
            }
        }
    }
    if errors.is_empty() {
        Ok(rendered)
    } else {
        Err(errors)
    }
}

/// Checks that a template parses and calls only supported functions, without running it.
///
/// # Errors
/// [`TemplateError::Parse`] or [`TemplateError::UndefinedFunction`].
pub fn check(source: &str, name: &str) -> Result<(), TemplateError> {
    Parser::new(source, name).parse().map(drop)
}

fn render_value(source: &str, name: &str, root: &Value) -> Result<SecretBytes, TemplateError> {
    let tree = Parser::new(source, name).parse()?;
    let mut exec = Exec::new(source, root.clone());
    match exec.walk_list(root, &tree) {
        Ok(_) => Ok(SecretBytes::new(exec.out.take())),
        Err(fail) => Err(fail.into_error(source, name)),
    }
}

fn data_value(data: &BTreeMap<String, SecretBytes>) -> Value {
    let entries = data
        .iter()
        .map(|(key, value)| {
            (
                Bytes::from_slice(key.as_bytes()),
                Value::str(value.expose_secret()),
            )
        })
        .collect();
    Value::Map(Rc::new(MapVal {
        entries,
        depth: 1,
        strings: true,
    }))
}

// ---------------------------------------------------------------------------------------------
// Byte buffers that are wiped when dropped or regrown.

/// A byte string (a Go `string`): wiped on drop.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn from_slice(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<[u8]> for Bytes {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

/// A buffer was about to exceed its limit.
#[derive(Debug)]
struct Overflow;

/// An output buffer with a size limit; it wipes its old copy whenever it grows.
struct Sink {
    buf: Vec<u8>,
}

impl Sink {
    fn new() -> Self {
        Sink { buf: Vec::new() }
    }

    fn put(&mut self, data: &[u8]) -> Result<(), Overflow> {
        let need = self.buf.len().checked_add(data.len()).ok_or(Overflow)?;
        if need > MAX_OUTPUT {
            return Err(Overflow);
        }
        if need > self.buf.capacity() {
            let capacity = self
                .buf
                .capacity()
                .saturating_mul(2)
                .clamp(need.clamp(64, MAX_OUTPUT), MAX_OUTPUT);
            let mut grown = Vec::with_capacity(capacity);
            grown.extend_from_slice(&self.buf);
            self.buf.zeroize();
            self.buf = grown;
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    fn byte(&mut self, byte: u8) -> Result<(), Overflow> {
        self.put(&[byte])
    }

    fn text(&mut self, text: &str) -> Result<(), Overflow> {
        self.put(text.as_bytes())
    }

    fn char(&mut self, c: char) -> Result<(), Overflow> {
        let mut utf8 = [0; 4];
        self.put(c.encode_utf8(&mut utf8).as_bytes())
    }

    fn repeat(&mut self, byte: u8, count: usize) -> Result<(), Overflow> {
        if self.buf.len().saturating_add(count) > MAX_OUTPUT {
            return Err(Overflow);
        }
        for _ in 0..count {
            self.byte(byte)?;
        }
        Ok(())
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    fn into_value(mut self) -> Value {
        Value::Str(Rc::new(Bytes(self.take())))
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

// ---------------------------------------------------------------------------------------------
// Values.

#[derive(Clone)]
enum Value {
    /// A missing value or a nil interface.
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<Bytes>),
    List(Rc<ListVal>),
    Map(Rc<MapVal>),
}

struct ListVal {
    items: Vec<Value>,
    depth: usize,
    /// A Go `[]string` rather than `[]interface{}` (only changes type names).
    strings: bool,
}

struct MapVal {
    entries: BTreeMap<Bytes, Value>,
    depth: usize,
    /// A Go `map[string]string`: `index` of a missing key gives `""` rather than nil.
    strings: bool,
}

impl Value {
    fn str(bytes: &[u8]) -> Value {
        Value::Str(Rc::new(Bytes::from_slice(bytes)))
    }

    fn depth(&self) -> usize {
        match self {
            Value::List(list) => list.depth,
            Value::Map(map) => map.depth,
            _ => 0,
        }
    }

    fn type_name(&self) -> &'static str {
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
    fn shallow_size(&self) -> u64 {
        let size = match self {
            Value::Str(bytes) => bytes.len(),
            Value::List(list) => list.items.len().saturating_mul(16),
            Value::Map(map) => map.entries.len().saturating_mul(32),
            _ => 1,
        };
        u64::try_from(size).unwrap_or(u64::MAX)
    }
}

fn list_value(items: Vec<Value>, strings: bool) -> Result<Value, FnErr> {
    let depth = 1 + items.iter().map(Value::depth).max().unwrap_or(0);
    if depth > MAX_DEPTH {
        return Err(FnErr::Limit(NESTING_LIMIT));
    }
    if items.len() > MAX_OUTPUT {
        return Err(FnErr::Limit(SIZE_LIMIT));
    }
    Ok(Value::List(Rc::new(ListVal {
        items,
        depth,
        strings,
    })))
}

fn map_value(entries: BTreeMap<Bytes, Value>, strings: bool) -> Result<Value, FnErr> {
    let depth = 1 + entries.values().map(Value::depth).max().unwrap_or(0);
    if depth > MAX_DEPTH {
        return Err(FnErr::Limit(NESTING_LIMIT));
    }
    Ok(Value::Map(Rc::new(MapVal {
        entries,
        depth,
        strings,
    })))
}

/// A nil `map[string]interface{}`: what a missing value becomes where a map is expected.
fn empty_map() -> Value {
    Value::Map(Rc::new(MapVal {
        entries: BTreeMap::new(),
        depth: 1,
        strings: false,
    }))
}

/// Go's truth: false, 0, "", empty lists and maps, nil and missing values are false.
fn truth(value: &Value) -> bool {
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

const NESTING_LIMIT: &str = "values nest deeper than the limit of 100 levels";
const SIZE_LIMIT: &str = "a value exceeds the limit of 1048576 bytes";

// ---------------------------------------------------------------------------------------------
// Lexer (Go's text/template token rules).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kw {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tk {
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Field,
    Variable,
    Dot,
    Ident,
    Bool,
    Nil,
    Number,
    CharConst,
    Complex,
    Str,
    RawStr,
    Pipe,
    Assign,
    Declare,
    LParen,
    RParen,
    Char,
    Kw(Kw),
    Eof,
    Error,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    kind: Tk,
    start: usize,
    end: usize,
}

fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    toks: Vec<Tok>,
    error: Option<String>,
}

fn accept(bytes: &[u8], pos: &mut usize, set: &[u8]) -> bool {
    match bytes.get(*pos) {
        Some(b) if set.contains(b) => {
            *pos += 1;
            true
        }
        _ => false,
    }
}

fn accept_run(bytes: &[u8], pos: &mut usize, set: &[u8]) {
    while accept(bytes, pos, set) {}
}

impl<'s> Lexer<'s> {
    fn lex(src: &'s str) -> (Vec<Tok>, Option<String>) {
        let mut lexer = Lexer {
            src,
            pos: 0,
            toks: Vec::new(),
            error: None,
        };
        lexer.run();
        (lexer.toks, lexer.error)
    }

    fn bytes(&self) -> &'s [u8] {
        self.src.as_bytes()
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|rest| rest.chars().next())
    }

    fn emit(&mut self, kind: Tk, start: usize, end: usize) {
        self.toks.push(Tok { kind, start, end });
    }

    fn fail(&mut self, at: usize, message: String) {
        self.error = Some(message);
        self.emit(Tk::Error, at, at);
    }

    /// A right delimiter at `pos`: its length and whether it trims the following text.
    fn right_delim(&self, pos: usize) -> Option<(usize, bool)> {
        let rest = self.bytes().get(pos..)?;
        if rest.len() >= 4 && is_space_byte(rest[0]) && rest[1] == b'-' && &rest[2..4] == b"}}" {
            Some((4, true))
        } else if rest.starts_with(b"}}") {
            Some((2, false))
        } else {
            None
        }
    }

    fn run(&mut self) {
        let bytes = self.bytes();
        let mut trim_next = false;
        loop {
            let mut start = self.pos;
            if trim_next {
                while start < bytes.len() && is_space_byte(bytes[start]) {
                    start += 1;
                }
            }
            let Some(found) = self.src.get(start..).and_then(|rest| rest.find("{{")) else {
                if start < bytes.len() {
                    self.emit(Tk::Text, start, bytes.len());
                }
                self.emit(Tk::Eof, bytes.len(), bytes.len());
                return;
            };
            let delim = start + found;
            let after = &bytes[delim + 2..];
            let trim_left = after.len() >= 2 && after[0] == b'-' && is_space_byte(after[1]);
            let mut text_end = delim;
            if trim_left {
                while text_end > start && is_space_byte(bytes[text_end - 1]) {
                    text_end -= 1;
                }
            }
            if text_end > start {
                self.emit(Tk::Text, start, text_end);
            }
            let inner = delim + 2 + if trim_left { 2 } else { 0 };
            if bytes[inner..].starts_with(b"/*") {
                let Some(off) = self.src.get(inner + 2..).and_then(|rest| rest.find("*/")) else {
                    self.fail(delim, "unclosed comment".into());
                    return;
                };
                let close = inner + 2 + off + 2;
                match self.right_delim(close) {
                    Some((len, trim)) => {
                        self.pos = close + len;
                        trim_next = trim;
                        continue;
                    }
                    None => {
                        self.fail(close, "comment ends before closing delimiter".into());
                        return;
                    }
                }
            }
            self.emit(Tk::LeftDelim, delim, inner);
            self.pos = inner;
            match self.action() {
                Some(trim) => trim_next = trim,
                None => return,
            }
        }
    }

    /// Lexes inside `{{ }}`; returns whether the closing delimiter trims, or None after an error.
    fn action(&mut self) -> Option<bool> {
        let bytes = self.bytes();
        let mut parens = 0usize;
        loop {
            if let Some((len, trim)) = self.right_delim(self.pos) {
                if parens == 0 {
                    self.emit(Tk::RightDelim, self.pos, self.pos + len);
                    self.pos += len;
                    return Some(trim);
                }
                self.fail(self.pos, "unclosed left paren".into());
                return None;
            }
            let start = self.pos;
            let Some(c) = self.char_at(start) else {
                self.fail(start, "unclosed action".into());
                return None;
            };
            let next = start + c.len_utf8();
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    let mut end = start;
                    while end < bytes.len()
                        && is_space_byte(bytes[end])
                        && self.right_delim(end) != Some((4, true))
                    {
                        end += 1;
                    }
                    self.emit(Tk::Space, start, end.max(next));
                    self.pos = end.max(next);
                }
                '=' => {
                    self.emit(Tk::Assign, start, next);
                    self.pos = next;
                }
                ':' => {
                    if bytes.get(next) == Some(&b'=') {
                        self.emit(Tk::Declare, start, next + 1);
                        self.pos = next + 1;
                    } else {
                        self.fail(start, "expected :=".into());
                        return None;
                    }
                }
                '|' => {
                    self.emit(Tk::Pipe, start, next);
                    self.pos = next;
                }
                '"' => self.quoted(start, b'"', Tk::Str, "unterminated quoted string")?,
                '\'' => self.quoted(
                    start,
                    b'\'',
                    Tk::CharConst,
                    "unterminated character constant",
                )?,
                '`' => {
                    let Some(off) = self.src.get(next..).and_then(|rest| rest.find('`')) else {
                        self.fail(start, "unterminated raw quoted string".into());
                        return None;
                    };
                    self.emit(Tk::RawStr, start, next + off + 1);
                    self.pos = next + off + 1;
                }
                '$' => self.field_or_variable(start, Tk::Variable)?,
                '.' if bytes.get(next).is_some_and(|b| !b.is_ascii_digit()) => {
                    self.field_or_variable(start, Tk::Field)?;
                }
                '.' | '+' | '-' | '0'..='9' => self.number(start)?,
                '(' => {
                    parens += 1;
                    self.emit(Tk::LParen, start, next);
                    self.pos = next;
                }
                ')' => {
                    self.emit(Tk::RParen, start, next);
                    self.pos = next;
                    if parens == 0 {
                        self.fail(start, "unexpected right paren U+0029 ')'".into());
                        return None;
                    }
                    parens -= 1;
                }
                c if is_alnum(c) => self.identifier(start)?,
                c if c.is_ascii() && !c.is_ascii_control() => {
                    self.emit(Tk::Char, start, next);
                    self.pos = next;
                }
                c => {
                    self.fail(
                        start,
                        format!("unrecognized character in action: {}", go_char_name(c)),
                    );
                    return None;
                }
            }
        }
    }

    fn quoted(&mut self, start: usize, quote: u8, kind: Tk, unterminated: &str) -> Option<()> {
        let bytes = self.bytes();
        let mut pos = start + 1;
        loop {
            match bytes.get(pos) {
                None | Some(b'\n') => {
                    self.fail(start, unterminated.into());
                    return None;
                }
                Some(b'\\') => match bytes.get(pos + 1) {
                    None | Some(b'\n') => {
                        self.fail(start, unterminated.into());
                        return None;
                    }
                    Some(_) => pos += 2,
                },
                Some(&b) if b == quote => {
                    self.emit(kind, start, pos + 1);
                    self.pos = pos + 1;
                    return Some(());
                }
                Some(_) => pos += 1,
            }
        }
    }

    fn at_terminator(&self, pos: usize) -> bool {
        match self.char_at(pos) {
            None => true,
            Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.bytes()[pos..].starts_with(b"}}"),
        }
    }

    fn alnum_run(&self, mut pos: usize) -> usize {
        while let Some(c) = self.char_at(pos) {
            if !is_alnum(c) {
                break;
            }
            pos += c.len_utf8();
        }
        pos
    }

    fn bad_character(&mut self, start: usize, pos: usize) -> Option<()> {
        let name = self.char_at(pos).map(go_char_name).unwrap_or_default();
        self.fail(start, format!("bad character {name}"));
        None
    }

    fn field_or_variable(&mut self, start: usize, kind: Tk) -> Option<()> {
        let after = start + 1;
        if self.at_terminator(after) {
            self.emit(if kind == Tk::Field { Tk::Dot } else { kind }, start, after);
            self.pos = after;
            return Some(());
        }
        let end = self.alnum_run(after);
        if !self.at_terminator(end) {
            return self.bad_character(start, end);
        }
        self.emit(kind, start, end);
        self.pos = end;
        Some(())
    }

    fn identifier(&mut self, start: usize) -> Option<()> {
        let end = self.alnum_run(start);
        if !self.at_terminator(end) {
            return self.bad_character(start, end);
        }
        let kind = match &self.src[start..end] {
            "block" => Tk::Kw(Kw::Block),
            "break" => Tk::Kw(Kw::Break),
            "continue" => Tk::Kw(Kw::Continue),
            "define" => Tk::Kw(Kw::Define),
            "else" => Tk::Kw(Kw::Else),
            "end" => Tk::Kw(Kw::End),
            "if" => Tk::Kw(Kw::If),
            "range" => Tk::Kw(Kw::Range),
            "template" => Tk::Kw(Kw::Template),
            "with" => Tk::Kw(Kw::With),
            "nil" => Tk::Nil,
            "true" | "false" => Tk::Bool,
            _ => Tk::Ident,
        };
        self.emit(kind, start, end);
        self.pos = end;
        Some(())
    }

    /// Go's number scanner: sign, base prefix, digits, fraction, exponent, `i`.
    fn scan_number(&self, mut pos: usize) -> (bool, usize) {
        let bytes = self.bytes();
        accept(bytes, &mut pos, b"+-");
        let mut digits: &[u8] = b"0123456789_";
        if accept(bytes, &mut pos, b"0") {
            if accept(bytes, &mut pos, b"xX") {
                digits = b"0123456789abcdefABCDEF_";
            } else if accept(bytes, &mut pos, b"oO") {
                digits = b"01234567_";
            } else if accept(bytes, &mut pos, b"bB") {
                digits = b"01_";
            }
        }
        accept_run(bytes, &mut pos, digits);
        if accept(bytes, &mut pos, b".") {
            accept_run(bytes, &mut pos, digits);
        }
        if digits.len() == 11 && accept(bytes, &mut pos, b"eE") {
            accept(bytes, &mut pos, b"+-");
            accept_run(bytes, &mut pos, b"0123456789_");
        }
        if digits.len() == 23 && accept(bytes, &mut pos, b"pP") {
            accept(bytes, &mut pos, b"+-");
            accept_run(bytes, &mut pos, b"0123456789_");
        }
        accept(bytes, &mut pos, b"i");
        match self.char_at(pos) {
            Some(c) if is_alnum(c) => (false, pos + c.len_utf8()),
            _ => (true, pos),
        }
    }

    fn number(&mut self, start: usize) -> Option<()> {
        let (ok, end) = self.scan_number(start);
        if !ok {
            let text = go_quote_str(&self.src[start..end]);
            self.fail(start, format!("bad number syntax: {text}"));
            return None;
        }
        if matches!(self.bytes().get(end), Some(b'+' | b'-')) {
            let (ok, end2) = self.scan_number(end);
            if !ok || self.bytes().get(end2.wrapping_sub(1)) != Some(&b'i') {
                let text = go_quote_str(&self.src[start..end2]);
                self.fail(start, format!("bad number syntax: {text}"));
                return None;
            }
            self.emit(Tk::Complex, start, end2);
            self.pos = end2;
        } else {
            self.emit(Tk::Number, start, end);
            self.pos = end;
        }
        Some(())
    }
}

/// Go's `%#U` of a character: `U+0021 '!'`.
fn go_char_name(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{c}'", u32::from(c))
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree and parser.

enum Node {
    Text(usize, usize),
    Action(Pipe),
    If(Branches),
    With(Branches),
    Range(Box<RangeNode>),
    Break,
    Continue,
}

/// `if`/`with` with their `else if`/`else with` arms, then the final `else`.
struct Branches {
    arms: Vec<(Pipe, Vec<Node>)>,
    otherwise: Option<Vec<Node>>,
}

struct RangeNode {
    pipe: Pipe,
    body: Vec<Node>,
    otherwise: Option<Vec<Node>>,
}

struct Pipe {
    start: usize,
    end: usize,
    decl: Vec<String>,
    is_assign: bool,
    cmds: Vec<Cmd>,
}

struct Cmd {
    start: usize,
    end: usize,
    args: Vec<Operand>,
}

struct Operand {
    /// Where errors point: the start, or for field chains the second field (as Go does).
    pos: usize,
    start: usize,
    end: usize,
    kind: Op,
}

enum Op {
    Dot,
    Nil,
    Bool(bool),
    Number(Box<Num>),
    Str(Rc<Bytes>),
    Field(Vec<String>),
    Var(String, Vec<String>),
    Func(Func, &'static str),
    Pipe(Box<Pipe>),
    Chain(Box<Operand>, Vec<String>),
}

/// A number literal, with every reading Go accepts for it.
struct Num {
    text: String,
    int: Option<i64>,
    float: Option<f64>,
    uint_only: bool,
    is_char: bool,
}

enum Item {
    Node(Node),
    End,
    Else { chained: bool },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Control {
    If,
    With,
    Range,
}

type PResult<T> = Result<T, TemplateError>;

struct Parser<'s> {
    src: &'s str,
    name: &'s str,
    toks: Vec<Tok>,
    lex_error: Option<String>,
    i: usize,
    last: Tok,
    /// Variables in scope, innermost last, and how many times each name is in the list.
    vars: Vec<String>,
    declared: std::collections::HashMap<String, usize>,
    range_depth: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, name: &'s str) -> Self {
        let (toks, lex_error) = Lexer::lex(src);
        Parser {
            src,
            name,
            toks,
            lex_error,
            i: 0,
            last: Tok {
                kind: Tk::Eof,
                start: 0,
                end: 0,
            },
            vars: vec!["$".to_owned()],
            declared: std::collections::HashMap::from([("$".to_owned(), 1)]),
            range_depth: 0,
            depth: 0,
        }
    }

    fn declare(&mut self, name: String) {
        *self.declared.entry(name.clone()).or_default() += 1;
        self.vars.push(name);
    }

    fn pop_vars(&mut self, mark: usize) {
        while self.vars.len() > mark {
            let Some(name) = self.vars.pop() else { break };
            if let Some(count) = self.declared.get_mut(&name) {
                *count -= 1;
                if *count == 0 {
                    self.declared.remove(&name);
                }
            }
        }
    }

    fn tok(&self, index: usize) -> Tok {
        let end = Tok {
            kind: Tk::Eof,
            start: self.src.len(),
            end: self.src.len(),
        };
        match self.toks.get(index) {
            Some(tok) => *tok,
            None => self.toks.last().copied().unwrap_or(end),
        }
    }

    fn next(&mut self) -> Tok {
        let tok = self.tok(self.i);
        self.i = self.i.saturating_add(1);
        self.last = tok;
        tok
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn peek(&self) -> Tok {
        self.tok(self.i)
    }

    fn next_non_space(&mut self) -> Tok {
        loop {
            let tok = self.next();
            if tok.kind != Tk::Space {
                return tok;
            }
        }
    }

    fn peek_non_space(&mut self) -> Tok {
        let tok = self.next_non_space();
        self.backup();
        tok
    }

    fn text(&self, tok: Tok) -> &'s str {
        self.src.get(tok.start..tok.end).unwrap_or("")
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> TemplateError {
        let (line, column) = line_col(self.src, pos);
        TemplateError::Parse {
            name: self.name.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> TemplateError {
        self.error_at(self.last.start, message)
    }

    fn unexpected(&self, tok: Tok, context: &str) -> TemplateError {
        if tok.kind == Tk::Error {
            return self.error_at(tok.start, self.lex_error.clone().unwrap_or_default());
        }
        let text = self.text(tok);
        let shown = match tok.kind {
            Tk::Eof => "EOF".to_owned(),
            Tk::Kw(_) | Tk::Dot | Tk::Nil => format!("<{text}>"),
            _ if text.len() > 10 => {
                let head: String = text.chars().take(10).collect();
                format!("{}...", go_quote_str(&head))
            }
            _ => go_quote_str(text),
        };
        self.error_at(tok.start, format!("unexpected {shown} in {context}"))
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "template nesting exceeds the limit of {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }

    fn parse(mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Tk::Eof {
            if self.peek().kind == Tk::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().kind == Tk::Kw(Kw::Define) {
                    return Err(self.error("{{define}} is not supported by sealant"));
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::Node(node) => root.push(node),
                Item::End => return Err(self.error("unexpected {{end}}")),
                Item::Else { .. } => return Err(self.error("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let tok = self.next_non_space();
        match tok.kind {
            Tk::Text => Ok(Item::Node(Node::Text(tok.start, tok.end))),
            Tk::LeftDelim => self.action(),
            _ => Err(self.unexpected(tok, "input")),
        }
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Item)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Tk::Eof {
            match self.text_or_action()? {
                Item::Node(node) => list.push(node),
                other => return Ok((list, other)),
            }
        }
        Err(self.error("unexpected EOF"))
    }

    fn expect_right_delim(&mut self, context: &str) -> PResult<()> {
        let tok = self.next_non_space();
        if tok.kind == Tk::RightDelim {
            Ok(())
        } else {
            Err(self.unexpected(tok, context))
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let tok = self.next_non_space();
        match tok.kind {
            Tk::Kw(Kw::Block) => Err(self.error("{{block}} is not supported by sealant")),
            Tk::Kw(Kw::Define) => Err(self.error("{{define}} is not supported by sealant")),
            Tk::Kw(Kw::Template) => Err(self.error("{{template}} is not supported by sealant")),
            Tk::Kw(Kw::Break) => {
                self.expect_right_delim("{{break}}")?;
                if self.range_depth == 0 {
                    return Err(self.error("{{break}} outside {{range}}"));
                }
                Ok(Item::Node(Node::Break))
            }
            Tk::Kw(Kw::Continue) => {
                self.expect_right_delim("{{continue}}")?;
                if self.range_depth == 0 {
                    return Err(self.error("{{continue}} outside {{range}}"));
                }
                Ok(Item::Node(Node::Continue))
            }
            Tk::Kw(Kw::Else) => {
                let peek = self.peek_non_space();
                if matches!(peek.kind, Tk::Kw(Kw::If | Kw::With)) {
                    return Ok(Item::Else { chained: true });
                }
                self.expect_right_delim("else")?;
                Ok(Item::Else { chained: false })
            }
            Tk::Kw(Kw::End) => {
                self.expect_right_delim("end")?;
                Ok(Item::End)
            }
            Tk::Kw(Kw::If) => self.control(Control::If),
            Tk::Kw(Kw::With) => self.control(Control::With),
            Tk::Kw(Kw::Range) => self.control(Control::Range),
            _ => {
                self.backup();
                let pipe = self.pipeline("command", Tk::RightDelim)?;
                Ok(Item::Node(Node::Action(pipe)))
            }
        }
    }

    fn control(&mut self, control: Control) -> PResult<Item> {
        self.enter()?;
        let mark = self.vars.len();
        let (context, chain) = match control {
            Control::If => ("if", Some(Tk::Kw(Kw::If))),
            Control::With => ("with", Some(Tk::Kw(Kw::With))),
            Control::Range => ("range", None),
        };
        let mut arms = Vec::new();
        let otherwise;
        loop {
            let pipe = self.pipeline(context, Tk::RightDelim)?;
            if control == Control::Range {
                self.range_depth += 1;
            }
            let (list, next) = self.item_list()?;
            if control == Control::Range {
                self.range_depth -= 1;
            }
            arms.push((pipe, list));
            match next {
                Item::End => {
                    otherwise = None;
                    break;
                }
                Item::Else { chained } => {
                    if chained && chain == Some(self.peek().kind) {
                        self.next();
                        continue;
                    }
                    let (list, next) = self.item_list()?;
                    match next {
                        Item::End => {}
                        Item::Else { .. } => {
                            return Err(self.error("expected end; found {{else}}"));
                        }
                        Item::Node(_) => return Err(self.error("expected end")),
                    }
                    otherwise = Some(list);
                    break;
                }
                Item::Node(_) => return Err(self.error("expected end")),
            }
        }
        self.pop_vars(mark);
        self.depth -= 1;
        let node = match control {
            Control::If => Node::If(Branches { arms, otherwise }),
            Control::With => Node::With(Branches { arms, otherwise }),
            Control::Range => {
                let Some((pipe, body)) = arms.pop() else {
                    return Err(self.error("missing value for range"));
                };
                Node::Range(Box::new(RangeNode {
                    pipe,
                    body,
                    otherwise,
                }))
            }
        };
        Ok(Item::Node(node))
    }

    fn pipeline(&mut self, context: &'static str, end: Tk) -> PResult<Pipe> {
        let start = self.peek_non_space().start;
        let mut decl = Vec::new();
        let mut is_assign = false;
        loop {
            let var = self.peek_non_space();
            if var.kind != Tk::Variable {
                break;
            }
            let save = self.i;
            self.next();
            let next = self.peek_non_space();
            let name = self.text(var).to_owned();
            match next.kind {
                Tk::Assign | Tk::Declare => {
                    is_assign = next.kind == Tk::Assign;
                    self.next_non_space();
                    self.declare(name.clone());
                    decl.push(name);
                    break;
                }
                Tk::Char if self.text(next) == "," => {
                    self.next_non_space();
                    self.declare(name.clone());
                    decl.push(name);
                    if context == "range" && decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Tk::Variable | Tk::RightDelim | Tk::RParen => continue,
                            _ => return Err(self.error("range can only initialize variables")),
                        }
                    }
                    return Err(self.error(format!("too many declarations in {context}")));
                }
                _ => {
                    self.i = save;
                    break;
                }
            }
        }
        let mut cmds = Vec::new();
        loop {
            let tok = self.next_non_space();
            if tok.kind == end {
                if cmds.is_empty() {
                    return Err(self.error(format!("missing value for {context}")));
                }
                for (index, cmd) in cmds.iter().enumerate().skip(1) {
                    let Cmd { args, .. } = cmd;
                    if let Some(first) = args.first()
                        && matches!(
                            first.kind,
                            Op::Bool(_) | Op::Dot | Op::Nil | Op::Number(_) | Op::Str(_)
                        )
                    {
                        return Err(self.error(format!(
                            "non executable command in pipeline stage {}",
                            index + 1
                        )));
                    }
                }
                let end_pos = cmds.last().map_or(start, |cmd: &Cmd| cmd.end);
                return Ok(Pipe {
                    start,
                    end: end_pos,
                    decl,
                    is_assign,
                    cmds,
                });
            }
            match tok.kind {
                Tk::Bool
                | Tk::CharConst
                | Tk::Complex
                | Tk::Dot
                | Tk::Field
                | Tk::Ident
                | Tk::Number
                | Tk::Nil
                | Tk::RawStr
                | Tk::Str
                | Tk::Variable
                | Tk::LParen => {
                    self.backup();
                    cmds.push(self.command()?);
                }
                _ => return Err(self.unexpected(tok, context)),
            }
        }
    }

    fn command(&mut self) -> PResult<Cmd> {
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                args.push(operand);
            }
            let tok = self.next();
            match tok.kind {
                Tk::Space => continue,
                Tk::RightDelim | Tk::RParen => {
                    self.backup();
                    break;
                }
                Tk::Pipe => break,
                _ => return Err(self.unexpected(tok, "operand")),
            }
        }
        let (Some(first), Some(last)) = (args.first(), args.last()) else {
            return Err(self.error("empty command"));
        };
        Ok(Cmd {
            start: first.start,
            end: last.end,
            args,
        })
    }

    fn operand(&mut self) -> PResult<Option<Operand>> {
        let Some(mut node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind == Tk::Field {
            let mut fields = Vec::new();
            let mut end = node.end;
            let pos = self.peek().start;
            while self.peek().kind == Tk::Field {
                let tok = self.next();
                fields.push(self.text(tok).get(1..).unwrap_or("").to_owned());
                end = tok.end;
            }
            let start = node.start;
            let kind = match node.kind {
                Op::Field(mut names) => {
                    names.extend(fields);
                    Op::Field(names)
                }
                Op::Var(name, mut names) => {
                    names.extend(fields);
                    Op::Var(name, names)
                }
                Op::Bool(_) | Op::Str(_) | Op::Number(_) | Op::Nil | Op::Dot => {
                    let text = self.src.get(node.start..node.end).unwrap_or("");
                    return Err(
                        self.error(format!("unexpected . after term {}", go_quote_str(text)))
                    );
                }
                kind => Op::Chain(
                    Box::new(Operand {
                        pos: node.pos,
                        start: node.start,
                        end: node.end,
                        kind,
                    }),
                    fields,
                ),
            };
            node = Operand {
                pos,
                start,
                end,
                kind,
            };
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Operand>> {
        let tok = self.next_non_space();
        let text = self.text(tok);
        let kind = match tok.kind {
            Tk::Ident => match lookup(text) {
                Some((func, name)) => Op::Func(func, name),
                None => {
                    let (line, column) = line_col(self.src, tok.start);
                    return Err(TemplateError::UndefinedFunction {
                        name: self.name.to_owned(),
                        line,
                        column,
                        function: text.to_owned(),
                    });
                }
            },
            Tk::Dot => Op::Dot,
            Tk::Nil => Op::Nil,
            Tk::Variable => {
                if !self.declared.contains_key(text) {
                    return Err(self.error(format!("undefined variable {}", go_quote_str(text))));
                }
                Op::Var(text.to_owned(), Vec::new())
            }
            Tk::Field => Op::Field(vec![text.get(1..).unwrap_or("").to_owned()]),
            Tk::Bool => Op::Bool(text == "true"),
            Tk::CharConst | Tk::Complex | Tk::Number => {
                let num = parse_number(text, tok.kind).map_err(|message| self.error(message))?;
                Op::Number(Box::new(num))
            }
            Tk::LParen => {
                self.enter()?;
                let pipe = self.pipeline("parenthesized pipeline", Tk::RParen)?;
                self.depth -= 1;
                return Ok(Some(Operand {
                    pos: tok.start,
                    start: tok.start,
                    end: self.last.end,
                    kind: Op::Pipe(Box::new(pipe)),
                }));
            }
            Tk::Str | Tk::RawStr => {
                let value = unquote(text).ok_or_else(|| self.error("invalid syntax"))?;
                Op::Str(Rc::new(Bytes(value)))
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(Operand {
            pos: tok.start,
            start: tok.start,
            end: tok.end,
            kind,
        }))
    }
}

fn line_col(src: &str, pos: usize) -> (usize, usize) {
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
fn unquote(text: &str) -> Option<Vec<u8>> {
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

    fn code(&self) -> u32 {
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
fn parse_go_int(text: &str, allow_sign: bool) -> Option<(bool, u64)> {
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

fn signed(negative: bool, magnitude: u64) -> Option<i64> {
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
fn parse_go_float(text: &str) -> Option<f64> {
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

fn parse_number(text: &str, kind: Tk) -> Result<Num, String> {
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
    fn ideal(&self) -> Result<Value, String> {
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

// ---------------------------------------------------------------------------------------------
// Execution.

/// An execution failure: where it points, the template text it quotes, and why.
struct Fail {
    pos: usize,
    start: usize,
    end: usize,
    message: String,
    limit: bool,
}

impl Fail {
    fn new(start: usize, end: usize, message: impl Into<String>) -> Self {
        Fail {
            pos: start,
            start,
            end,
            message: message.into(),
            limit: false,
        }
    }

    fn at(operand: &Operand, message: impl Into<String>) -> Self {
        Fail {
            pos: operand.pos,
            start: operand.start,
            end: operand.end,
            message: message.into(),
            limit: false,
        }
    }

    fn limit(start: usize, end: usize, message: impl Into<String>) -> Self {
        Fail {
            pos: start,
            start,
            end,
            message: message.into(),
            limit: true,
        }
    }

    fn into_error(self, src: &str, name: &str) -> TemplateError {
        let (line, column) = line_col(src, self.pos);
        let text = src.get(self.start..self.end).unwrap_or("");
        let context = if text.chars().count() > CONTEXT_CHARS {
            let head: String = text.chars().take(CONTEXT_CHARS).collect();
            format!("{head}...")
        } else {
            text.to_owned()
        };
        let name = name.to_owned();
        if self.limit {
            TemplateError::Limit {
                name,
                line,
                column,
                context,
                message: self.message,
            }
        } else {
            TemplateError::Exec {
                name,
                line,
                column,
                context,
                message: self.message,
            }
        }
    }
}

type XResult<T> = Result<T, Fail>;

/// Longest template text quoted in an execution error.
const CONTEXT_CHARS: usize = 80;

enum Flow {
    Normal,
    Break,
    Continue,
}

/// A function's failure: a message (never containing values) or a limit.
enum FnErr {
    Msg(String),
    Limit(&'static str),
}

impl From<Overflow> for FnErr {
    fn from(_: Overflow) -> Self {
        FnErr::Limit(SIZE_LIMIT)
    }
}

type FnResult = Result<Value, FnErr>;

struct Exec<'t> {
    src: &'t str,
    vars: Vec<(&'t str, Value)>,
    out: Sink,
    steps: u64,
    work: u64,
}

impl<'t> Exec<'t> {
    fn new(src: &'t str, root: Value) -> Self {
        Exec {
            src,
            vars: vec![("$", root)],
            out: Sink::new(),
            steps: 0,
            work: 0,
        }
    }

    fn step(&mut self, start: usize, end: usize) -> XResult<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(Fail::limit(
                start,
                end,
                format!("template exceeds the limit of {MAX_STEPS} evaluation steps"),
            ));
        }
        Ok(())
    }

    fn charge(&mut self, amount: u64, start: usize, end: usize) -> XResult<()> {
        self.work = self.work.saturating_add(amount);
        if self.work > MAX_WORK {
            return Err(Fail::limit(
                start,
                end,
                format!("template exceeds the limit of {MAX_WORK} bytes of work"),
            ));
        }
        Ok(())
    }

    fn output_limit(start: usize, end: usize) -> Fail {
        Fail::limit(
            start,
            end,
            format!("output exceeds the limit of {MAX_OUTPUT} bytes"),
        )
    }

    fn walk_list(&mut self, dot: &Value, list: &'t [Node]) -> XResult<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> XResult<Flow> {
        match node {
            Node::Text(start, end) => {
                self.step(*start, *end)?;
                let src = self.src;
                let text = src.as_bytes().get(*start..*end).unwrap_or(&[]);
                self.charge(text.len() as u64, *start, *end)?;
                self.out
                    .put(text)
                    .map_err(|_| Self::output_limit(*start, *end))?;
            }
            Node::Action(pipe) => {
                self.step(pipe.start, pipe.end)?;
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    let before = self.out.buf.len();
                    print_value(&mut self.out, &value)
                        .map_err(|_| Self::output_limit(pipe.start, pipe.end))?;
                    let written = self.out.buf.len().saturating_sub(before);
                    self.charge(written as u64, pipe.start, pipe.end)?;
                }
            }
            Node::If(branches) => return self.walk_branches(dot, branches, false),
            Node::With(branches) => return self.walk_branches(dot, branches, true),
            Node::Range(range) => return self.walk_range(dot, range),
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_branches(&mut self, dot: &Value, branches: &'t Branches, with: bool) -> XResult<Flow> {
        let mark = self.vars.len();
        let mut flow = None;
        for (pipe, list) in &branches.arms {
            let value = self.eval_pipeline(dot, pipe)?;
            if truth(&value) {
                let inner = if with { value } else { dot.clone() };
                flow = Some(self.walk_list(&inner, list)?);
                break;
            }
        }
        let flow = match (flow, &branches.otherwise) {
            (Some(flow), _) => flow,
            (None, Some(list)) => self.walk_list(dot, list)?,
            (None, None) => Flow::Normal,
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Value, range: &'t RangeNode) -> XResult<Flow> {
        let pipe = &range.pipe;
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, pipe)?;
        let body_mark = self.vars.len();
        let mut ran = false;
        match &value {
            Value::List(list) => {
                for (index, item) in list.items.iter().enumerate() {
                    ran = true;
                    let index = Value::Int(i64::try_from(index).unwrap_or(i64::MAX));
                    if self.iteration(range, index, item.clone(), body_mark)? {
                        break;
                    }
                }
            }
            Value::Map(map) => {
                for (key, item) in &map.entries {
                    ran = true;
                    if self.iteration(range, Value::str(key), item.clone(), body_mark)? {
                        break;
                    }
                }
            }
            Value::Int(count) => {
                if pipe.decl.len() > 1 {
                    return Err(Fail::new(
                        pipe.start,
                        pipe.end,
                        "can't use an integer to iterate over more than one variable",
                    ));
                }
                for i in 0..*count {
                    ran = true;
                    if self.iteration(range, Value::Nil, Value::Int(i), body_mark)? {
                        break;
                    }
                }
            }
            Value::Nil => {}
            other => {
                return Err(Fail::new(
                    pipe.start,
                    pipe.end,
                    format!(
                        "range can't iterate over a value of type {}",
                        other.type_name()
                    ),
                ));
            }
        }
        if !ran && let Some(list) = &range.otherwise {
            self.walk_list(dot, list)?;
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    /// One loop iteration; true when the body broke out of the loop.
    fn iteration(
        &mut self,
        range: &'t RangeNode,
        index: Value,
        element: Value,
        body_mark: usize,
    ) -> XResult<bool> {
        let pipe = &range.pipe;
        self.step(pipe.start, pipe.end)?;
        match (pipe.is_assign, pipe.decl.as_slice()) {
            (_, []) => {}
            (true, [only]) => self.set_var(only, element.clone(), pipe)?,
            (true, [first, second, ..]) => {
                self.set_var(first, index, pipe)?;
                self.set_var(second, element.clone(), pipe)?;
            }
            (false, decl) => {
                if let Some(slot) = body_mark.checked_sub(1).and_then(|i| self.vars.get_mut(i)) {
                    slot.1 = element.clone();
                }
                if decl.len() > 1
                    && let Some(slot) = body_mark.checked_sub(2).and_then(|i| self.vars.get_mut(i))
                {
                    slot.1 = index;
                }
            }
        }
        let flow = self.walk_list(&element, &range.body)?;
        self.vars.truncate(body_mark);
        Ok(matches!(flow, Flow::Break))
    }

    fn var(&mut self, name: &str, start: usize, end: usize) -> XResult<Value> {
        self.charge(self.vars.len() as u64, start, end)?;
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Fail::new(start, end, format!("undefined variable: {name}")))
    }

    fn set_var(&mut self, name: &str, value: Value, pipe: &Pipe) -> XResult<()> {
        self.charge(self.vars.len() as u64, pipe.start, pipe.end)?;
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(Fail::new(
                pipe.start,
                pipe.end,
                format!("undefined variable: {name}"),
            )),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> XResult<Value> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value.take())?);
        }
        let value = value.unwrap_or(Value::Nil);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone(), pipe)?;
            } else {
                self.vars.push((name.as_str(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Cmd, piped: &Option<Value>) -> XResult<()> {
        if cmd.args.len() > 1 || piped.is_some() {
            let (start, end) = cmd
                .args
                .first()
                .map_or((cmd.start, cmd.end), operand_text_span);
            let text = self.src.get(start..end).unwrap_or("");
            return Err(Fail::new(
                start,
                end,
                format!("can't give argument to non-function {text}"),
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'t Cmd, piped: Option<Value>) -> XResult<Value> {
        self.step(cmd.start, cmd.end)?;
        let Some(first) = cmd.args.first() else {
            return Err(Fail::new(cmd.start, cmd.end, "empty command"));
        };
        let has_args = cmd.args.len() > 1 || piped.is_some();
        match &first.kind {
            Op::Field(names) => self.eval_fields(dot.clone(), names, has_args, first),
            Op::Chain(node, names) => {
                let receiver = self.eval_arg(dot, P::Any, node)?;
                self.eval_fields(receiver, names, has_args, first)
            }
            Op::Func(func, name) => self.eval_function(
                dot,
                *func,
                name,
                cmd.args.get(1..).unwrap_or(&[]),
                piped,
                cmd.start,
                cmd.end,
            ),
            Op::Pipe(pipe) => {
                self.not_a_function(cmd, &piped)?;
                self.eval_pipeline(dot, pipe)
            }
            Op::Var(name, names) => {
                let value = self.var(name, first.start, first.end)?;
                if names.is_empty() {
                    self.not_a_function(cmd, &piped)?;
                    Ok(value)
                } else {
                    self.eval_fields(value, names, has_args, first)
                }
            }
            Op::Nil => {
                self.not_a_function(cmd, &piped)?;
                Err(Fail::new(first.start, first.end, "nil is not a command"))
            }
            Op::Dot => {
                self.not_a_function(cmd, &piped)?;
                Ok(dot.clone())
            }
            Op::Bool(b) => {
                self.not_a_function(cmd, &piped)?;
                Ok(Value::Bool(*b))
            }
            Op::Number(num) => {
                self.not_a_function(cmd, &piped)?;
                num.ideal()
                    .map_err(|message| Fail::new(first.start, first.end, message))
            }
            Op::Str(s) => {
                self.not_a_function(cmd, &piped)?;
                Ok(Value::Str(s.clone()))
            }
        }
    }

    fn eval_fields(
        &mut self,
        mut receiver: Value,
        names: &[String],
        has_args: bool,
        at: &Operand,
    ) -> XResult<Value> {
        for (i, name) in names.iter().enumerate() {
            receiver = match receiver {
                Value::Nil => return Ok(Value::Nil),
                Value::Map(map) => {
                    if has_args && i + 1 == names.len() {
                        return Err(Fail::at(
                            at,
                            format!("{name} is not a method but has arguments"),
                        ));
                    }
                    map.entries
                        .get(name.as_bytes())
                        .cloned()
                        .unwrap_or(Value::Nil)
                }
                other => {
                    return Err(Fail::at(
                        at,
                        format!("can't evaluate field {name} in type {}", other.type_name()),
                    ));
                }
            };
        }
        Ok(receiver)
    }

    fn eval_arg(&mut self, dot: &Value, ty: P, arg: &'t Operand) -> XResult<Value> {
        self.step(arg.start, arg.end)?;
        let (text_start, text_end) = operand_text_span(arg);
        let fail = |message: String| Fail {
            pos: arg.pos.max(text_start),
            start: text_start,
            end: text_end,
            message,
            limit: false,
        };
        let src = self.src;
        let text = || src.get(arg.start..arg.end).unwrap_or("").to_owned();
        let value = match &arg.kind {
            Op::Dot => dot.clone(),
            Op::Nil => {
                return match ty {
                    P::Any => Ok(Value::Nil),
                    P::Map => Ok(empty_map()),
                    _ => Err(fail(format!("cannot assign nil to {}", ty.go_name()))),
                };
            }
            Op::Field(names) => self.eval_fields(dot.clone(), names, false, arg)?,
            Op::Var(name, names) => {
                let value = self.var(name, arg.start, arg.end)?;
                self.eval_fields(value, names, false, arg)?
            }
            Op::Pipe(pipe) => self.eval_pipeline(dot, pipe)?,
            Op::Func(func, name) => {
                self.eval_function(dot, *func, name, &[], None, arg.start, arg.end)?
            }
            Op::Chain(node, names) => {
                let receiver = self.eval_arg(dot, P::Any, node)?;
                self.eval_fields(receiver, names, false, arg)?
            }
            Op::Bool(b) => {
                return match ty {
                    P::Any | P::Bool => Ok(Value::Bool(*b)),
                    P::Str => Err(fail(format!("expected string; found {}", text()))),
                    P::Int => Err(fail(format!("expected integer; found {}", text()))),
                    P::Map => Err(fail(format!(
                        "can't handle {} for arg of type {}",
                        text(),
                        ty.go_name()
                    ))),
                };
            }
            Op::Number(num) => {
                return match ty {
                    P::Any => num.ideal().map_err(fail),
                    P::Int => num
                        .int
                        .map(Value::Int)
                        .ok_or_else(|| fail(format!("expected integer; found {}", text()))),
                    P::Str => Err(fail(format!("expected string; found {}", text()))),
                    P::Bool => Err(fail(format!("expected bool; found {}", text()))),
                    P::Map => Err(fail(format!(
                        "can't handle {} for arg of type {}",
                        text(),
                        ty.go_name()
                    ))),
                };
            }
            Op::Str(s) => {
                return match ty {
                    P::Any | P::Str => Ok(Value::Str(s.clone())),
                    P::Int => Err(fail(format!("expected integer; found {}", text()))),
                    P::Bool => Err(fail(format!("expected bool; found {}", text()))),
                    P::Map => Err(fail(format!(
                        "can't handle {} for arg of type {}",
                        text(),
                        ty.go_name()
                    ))),
                };
            }
        };
        validate(value, ty).map_err(fail)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_function(
        &mut self,
        dot: &Value,
        func: Func,
        name: &str,
        args: &'t [Operand],
        piped: Option<Value>,
        start: usize,
        end: usize,
    ) -> XResult<Value> {
        let (fixed, variadic) = func.signature();
        let count = args.len() + usize::from(piped.is_some());
        let name_end = start.saturating_add(name.len()).min(end);
        match variadic {
            Some(_) if count < fixed.len() => {
                return Err(Fail::new(
                    start,
                    name_end,
                    format!(
                        "wrong number of args for {name}: want at least {} got {}",
                        fixed.len(),
                        args.len()
                    ),
                ));
            }
            None if count != fixed.len() => {
                return Err(Fail::new(
                    start,
                    name_end,
                    format!(
                        "wrong number of args for {name}: want {} got {count}",
                        fixed.len()
                    ),
                ));
            }
            _ => {}
        }
        if matches!(func, Func::And | Func::Or) {
            let want = func == Func::Or;
            let mut value = Value::Nil;
            for arg in args {
                value = self.eval_arg(dot, P::Any, arg)?;
                if truth(&value) == want {
                    return Ok(value);
                }
            }
            if let Some(piped) = piped {
                value = piped;
            }
            return Ok(value);
        }
        let param = |i: usize| fixed.get(i).copied().or(variadic).unwrap_or(P::Any);
        let mut argv = Vec::with_capacity(count);
        for (i, arg) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, param(i), arg)?);
        }
        if let Some(piped) = piped {
            let ty = param(argv.len());
            argv.push(validate(piped, ty).map_err(|message| Fail::new(start, end, message))?);
        }
        let cost = argv
            .iter()
            .map(Value::shallow_size)
            .fold(0u64, u64::saturating_add);
        self.charge(cost, start, end)?;
        let result = call(func, &argv).map_err(|err| match err {
            FnErr::Msg(message) => {
                Fail::new(start, end, format!("error calling {name}: {message}"))
            }
            FnErr::Limit(message) => Fail::limit(start, end, message),
        })?;
        self.charge(result.shallow_size(), start, end)?;
        Ok(result)
    }
}

/// The template text Go quotes for an operand: a parenthesized pipeline without its parentheses.
fn operand_text_span(operand: &Operand) -> (usize, usize) {
    match &operand.kind {
        Op::Pipe(pipe) => (pipe.start, pipe.end),
        _ => (operand.start, operand.end),
    }
}

/// Go's `validateType`: a computed value against a parameter type.
fn validate(value: Value, ty: P) -> Result<Value, String> {
    match (ty, &value) {
        (P::Any, _)
        | (P::Str, Value::Str(_))
        | (P::Int, Value::Int(_))
        | (P::Bool, Value::Bool(_)) => Ok(value),
        (P::Map, Value::Map(map)) if !map.strings => Ok(value),
        (P::Map, Value::Nil) => Ok(empty_map()),
        (_, Value::Nil) => Err(format!("invalid value; expected {}", ty.go_name())),
        (_, other) => Err(format!(
            "wrong type for value; expected {}; got {}",
            ty.go_name(),
            other.type_name()
        )),
    }
}

/// Parameter types of functions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum P {
    Any,
    Str,
    Int,
    Bool,
    Map,
}

impl P {
    fn go_name(self) -> &'static str {
        match self {
            P::Any => "interface {}",
            P::Str => "string",
            P::Int => "int",
            P::Bool => "bool",
            P::Map => "map[string]interface {}",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The function table.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Func {
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

fn lookup(name: &str) -> Option<(Func, &'static str)> {
    FUNCS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, f)| (*f, *n))
}

impl Func {
    /// Fixed parameters, then the type of the variadic ones if any.
    fn signature(self) -> (&'static [P], Option<P>) {
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

fn arg(args: &[Value], i: usize) -> &Value {
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

fn string(build: impl FnOnce(&mut Sink) -> Result<(), Overflow>) -> FnResult {
    let mut sink = Sink::new();
    build(&mut sink)?;
    Ok(sink.into_value())
}

fn call(func: Func, a: &[Value]) -> FnResult {
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
        Index => index(arg(a, 0), a.get(1..).unwrap_or(&[]))?,
        Print => string(|out| sprint(out, a))?,
        Println => string(|out| {
            for (i, value) in a.iter().enumerate() {
                if i > 0 {
                    out.byte(b' ')?;
                }
                write_v(out, value)?;
            }
            out.byte(b'\n')
        })?,
        Printf => string(|out| sprintf(out, str_arg(a, 0), a.get(1..).unwrap_or(&[])))?,
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
        Html => {
            let text = eval_args(a)?;
            string(|out| html_escape(out, &text))?
        }
        Js => {
            let text = eval_args(a)?;
            string(|out| js_escape(out, &text))?
        }
        Urlquery => {
            let text = eval_args(a)?;
            string(|out| query_escape(out, &text))?
        }
        ToJson | ToPrettyJson | ToRawJson => {
            let mut sink = Sink::new();
            let indent = func == ToPrettyJson;
            match write_json(&mut sink, arg(a, 0), func != ToRawJson, indent, 0) {
                Ok(()) => sink.into_value(),
                Err(JsonErr::Overflow) => return Err(FnErr::Limit(SIZE_LIMIT)),
                Err(JsonErr::Unsupported) => Value::str(b""),
            }
        }
        FromJson => from_json(str_arg(a, 0)),
        B64enc => {
            let input = str_arg(a, 0);
            if input.len() / 3 * 4 + 4 > MAX_OUTPUT {
                return Err(FnErr::Limit(SIZE_LIMIT));
            }
            let encoded = Zeroizing::new(crate::base64::encode(input));
            Value::str(encoded.as_bytes())
        }
        B64dec => b64dec(str_arg(a, 0)),
        Quote => string(|out| {
            let mut first = true;
            for value in a.iter().filter(|v| !matches!(v, Value::Nil)) {
                if !first {
                    out.byte(b' ')?;
                }
                first = false;
                let text = strval(value)?;
                go_quote(out, &text, false)?;
            }
            Ok(())
        })?,
        Squote => string(|out| {
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
        Upper => string(|out| map_case(out, str_arg(a, 0), Case::Upper))?,
        Lower => string(|out| map_case(out, str_arg(a, 0), Case::Lower))?,
        Title => string(|out| title(out, str_arg(a, 0)))?,
        Trim => Value::str(trim_space(str_arg(a, 0))),
        TrimAll => Value::Str(Rc::new(trim_cutset(str_arg(a, 1), str_arg(a, 0)))),
        TrimPrefix => {
            let (prefix, s) = (str_arg(a, 0), str_arg(a, 1));
            Value::str(s.strip_prefix(prefix).unwrap_or(s))
        }
        TrimSuffix => {
            let (suffix, s) = (str_arg(a, 0), str_arg(a, 1));
            Value::str(s.strip_suffix(suffix).unwrap_or(s))
        }
        Replace => string(|out| replace(out, str_arg(a, 2), str_arg(a, 0), str_arg(a, 1)))?,
        Contains => Value::Bool(find(str_arg(a, 1), str_arg(a, 0)).is_some()),
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
            string(|out| {
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
        Nospace => nospace(str_arg(a, 0)),
        Repeat => {
            let count = usize::try_from(int_arg(a, 0))
                .map_err(|_| FnErr::Msg("strings: negative Repeat count".into()))?;
            let text = str_arg(a, 1);
            if text.len().checked_mul(count).is_none_or(|n| n > MAX_OUTPUT) {
                return Err(FnErr::Limit(SIZE_LIMIT));
            }
            string(|out| {
                for _ in 0..count {
                    out.put(text)?;
                }
                Ok(())
            })?
        }
        Substr => substr(int_arg(a, 0), int_arg(a, 1), str_arg(a, 2))?,
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
            Value::str(piece.unwrap_or(s))
        }
        Split => {
            let parts = split(str_arg(a, 1), str_arg(a, 0))?;
            let entries = parts
                .into_iter()
                .enumerate()
                .map(|(i, part)| (Bytes(format!("_{i}").into_bytes()), part))
                .collect();
            map_value(entries, true)?
        }
        SplitList => list_value(split(str_arg(a, 1), str_arg(a, 0))?, true)?,
        Join => {
            let sep = str_arg(a, 0);
            let parts = strslice(arg(a, 1))?;
            string(|out| {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        out.put(sep)?;
                    }
                    out.put(part)?;
                }
                Ok(())
            })?
        }
        List => list_value(a.to_vec(), false)?,
        Dict => {
            let mut entries = BTreeMap::new();
            for pair in a.chunks(2) {
                let key = strval(arg(pair, 0))?;
                let value = pair.get(1).cloned().unwrap_or_else(|| Value::str(b""));
                entries.insert(key, value);
            }
            map_value(entries, false)?
        }
        Get => match arg(a, 0) {
            Value::Map(map) => map
                .entries
                .get(str_arg(a, 1))
                .cloned()
                .unwrap_or_else(|| Value::str(b"")),
            _ => Value::str(b""),
        },
        HasKey => Value::Bool(match arg(a, 0) {
            Value::Map(map) => map.entries.contains_key(str_arg(a, 1)),
            _ => false,
        }),
        Keys => {
            let mut keys: Vec<Bytes> = Vec::new();
            for value in a {
                if let Value::Map(map) = value {
                    keys.extend(map.entries.keys().cloned());
                }
            }
            keys.sort();
            list_value(keys.iter().map(|k| Value::str(k)).collect(), true)?
        }
        Sha256sum => Value::str(
            hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, str_arg(a, 0)).as_ref())
                .as_bytes(),
        ),
        Sha1sum => Value::str(
            hex(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
                str_arg(a, 0),
            )
            .as_ref())
            .as_bytes(),
        ),
        Adler32sum => Value::str(adler32(str_arg(a, 0)).to_string().as_bytes()),
        Cat => string(|out| {
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
        ToString => Value::Str(Rc::new(strval(arg(a, 0))?)),
        Atoi => Value::Int(atoi(str_arg(a, 0))),
        Int | Int64 => Value::Int(to_int64(arg(a, 0))),
        Float64 => Value::Float(to_float64(arg(a, 0))),
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

fn len_int(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

fn index(item: &Value, indexes: &[Value]) -> FnResult {
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
                    None if map.strings => Value::str(b""),
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
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn kind(value: &Value) -> Kind {
    match value {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

/// Go's `eq`: true when `left` equals any of `rights`.
fn eq(left: &Value, rights: &[Value]) -> Result<bool, FnErr> {
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
fn less(left: &Value, right: &Value) -> Result<bool, FnErr> {
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

/// The text `html`, `js` and `urlquery` escape: one string as is, else `fmt.Sprint` of the
/// arguments with missing values shown as `<no value>`.
fn eval_args(args: &[Value]) -> Result<Bytes, FnErr> {
    if let [Value::Str(s)] = args {
        return Ok(Bytes::from_slice(s));
    }
    let shown: Vec<Value> = args
        .iter()
        .map(|v| match v {
            Value::Nil => Value::str(b"<no value>"),
            other => other.clone(),
        })
        .collect();
    let mut out = Sink::new();
    sprint(&mut out, &shown)?;
    Ok(Bytes(out.take()))
}

/// Sprig's `strval`: a string as is, anything else as `%v`.
fn strval(value: &Value) -> Result<Bytes, Overflow> {
    if let Value::Str(s) = value {
        return Ok(Bytes::from_slice(s));
    }
    let mut out = Sink::new();
    write_v(&mut out, value)?;
    Ok(Bytes(out.take()))
}

/// Sprig's `strslice` (for `join`): list elements as strings, nil skipped.
fn strslice(value: &Value) -> Result<Vec<Bytes>, Overflow> {
    match value {
        Value::List(list) => list
            .items
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(strval)
            .collect(),
        Value::Nil => Ok(Vec::new()),
        other => Ok(vec![strval(other)?]),
    }
}

/// spf13/cast's `ToInt64` as Sprig uses it: 0 for anything it cannot convert.
fn to_int64(value: &Value) -> i64 {
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

fn to_float64(value: &Value) -> f64 {
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
fn atoi(text: &[u8]) -> i64 {
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

fn substr(start: i64, end: i64, s: &[u8]) -> FnResult {
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
    piece.map(Value::str).ok_or_else(bad)
}

fn b64dec(input: &[u8]) -> Value {
    // Non-ASCII bytes are never base64; an ASCII stand-in keeps Go's error positions.
    let text: String = input
        .iter()
        .map(|&b| if b.is_ascii() { char::from(b) } else { '!' })
        .collect();
    let text = Zeroizing::new(text);
    match crate::base64::decode(&text) {
        Ok(bytes) => Value::str(bytes.expose_secret()),
        Err(err) => Value::str(err.to_string().as_bytes()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
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

// ---------------------------------------------------------------------------------------------
// String helpers with Go's byte-string semantics.

/// Characters of a byte string as Go's `range` sees them: invalid bytes one at a time (`None`).
fn runes(bytes: &[u8]) -> impl Iterator<Item = (Option<char>, &[u8])> {
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
fn first_rune(bytes: &[u8]) -> Option<(Option<char>, usize)> {
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
fn trim_space(mut s: &[u8]) -> &[u8] {
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
fn trim_cutset(s: &[u8], cutset: &[u8]) -> Bytes {
    if s.is_empty() || cutset.is_empty() {
        return Bytes::from_slice(s);
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
        return Bytes::from_slice(s.get(start..end.max(start)).unwrap_or(&[]));
    }
    let set: std::collections::BTreeSet<char> = runes(cutset)
        .map(|(c, _)| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    let contains = |c: Option<char>| set.contains(&c.unwrap_or(char::REPLACEMENT_CHARACTER));
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
    Bytes::from_slice(rest)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Upper,
    Lower,
    Title,
}

/// Go's `strings.ToUpper`/`ToLower`: simple case mapping; invalid bytes become U+FFFD.
fn map_case(out: &mut Sink, s: &[u8], case: Case) -> Result<(), Overflow> {
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
fn title(out: &mut Sink, s: &[u8]) -> Result<(), Overflow> {
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
fn nospace(s: &[u8]) -> Value {
    let is_space = |b: u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0);
    if !s.iter().any(|&b| is_space(b)) {
        return Value::str(s);
    }
    let mut out = Vec::with_capacity(s.len() * 2);
    for &b in s.iter().filter(|&&b| !is_space(b)) {
        let mut utf8 = [0; 4];
        out.extend_from_slice(char::from(b).encode_utf8(&mut utf8).as_bytes());
    }
    let value = Value::str(&out);
    out.zeroize();
    value
}

/// Knuth–Morris–Pratt: start offsets of the non-overlapping matches of `needle` (non-empty).
fn matches_of(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    if needle.is_empty() || needle.len() > haystack.len() {
        return found;
    }
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
    let mut k = 0;
    for (i, &b) in haystack.iter().enumerate() {
        while k > 0 && b != needle[k] {
            k = fail[k - 1];
        }
        if b == needle[k] {
            k += 1;
        }
        if k == needle.len() {
            found.push(i + 1 - k);
            k = 0;
        }
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    matches_of(haystack, needle).first().copied()
}

/// Go's `strings.Replace(s, old, new, -1)`.
fn replace(out: &mut Sink, s: &[u8], old: &[u8], new: &[u8]) -> Result<(), Overflow> {
    if old.is_empty() {
        out.put(new)?;
        for (_, raw) in runes(s) {
            out.put(raw)?;
            out.put(new)?;
        }
        return Ok(());
    }
    let mut start = 0;
    for at in matches_of(s, old) {
        out.put(&s[start..at])?;
        out.put(new)?;
        start = at + old.len();
    }
    out.put(&s[start..])
}

/// Go's `strings.Split(s, sep)`.
fn split(s: &[u8], sep: &[u8]) -> Result<Vec<Value>, FnErr> {
    if sep.is_empty() {
        let parts: Vec<Value> = runes(s)
            .map(|(c, raw)| match c {
                Some(_) => Value::str(raw),
                None => Value::str("\u{fffd}".as_bytes()),
            })
            .collect();
        return if parts.len() > MAX_OUTPUT {
            Err(FnErr::Limit(SIZE_LIMIT))
        } else {
            Ok(parts)
        };
    }
    let mut parts = Vec::new();
    let mut start = 0;
    for at in matches_of(s, sep) {
        parts.push(Value::str(&s[start..at]));
        start = at + sep.len();
    }
    parts.push(Value::str(&s[start..]));
    Ok(parts)
}

// ---------------------------------------------------------------------------------------------
// Go's fmt, for printing values and `printf`.

fn write_int(out: &mut Sink, value: i64) -> Result<(), Overflow> {
    out.text(&Zeroizing::new(value.to_string()))
}

/// The text of an action's value: `<no value>` for a missing value, else `%v`.
fn print_value(out: &mut Sink, value: &Value) -> Result<(), Overflow> {
    match value {
        Value::Nil => out.text("<no value>"),
        other => write_v(out, other),
    }
}

/// `%v`.
fn write_v(out: &mut Sink, value: &Value) -> Result<(), Overflow> {
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
fn sprint(out: &mut Sink, args: &[Value]) -> Result<(), Overflow> {
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
    zero: bool,
    wid: Option<usize>,
    prec: Option<usize>,
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
    i: usize,
    found: bool,
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
fn sprintf(out: &mut Sink, format: &[u8], args: &[Value]) -> Result<(), Overflow> {
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
        Value::Str(s) => fmt_string(out, s, verb, f, value),
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
                fmt_string(out, key, verb, f, &Value::str(key))?;
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

fn fmt_string(
    out: &mut Sink,
    s: &[u8],
    verb: char,
    f: Flags,
    value: &Value,
) -> Result<(), Overflow> {
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
            let mut quoted = Sink::new();
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
        _ => bad_verb(out, verb, value),
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
            let mut quoted = Sink::new();
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
        return Err(Overflow);
    }
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

/// Decimal digits `d` of a number 0.d × 10^dp, without trailing zeros.
struct Digits {
    d: Vec<u8>,
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
fn format_float(v: f64, fmt: u8, prec: i32) -> String {
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

/// Go's `unicode.IsPrint`, approximately: letters, marks, numbers, punctuation, symbols and the
/// ASCII space. Rust has no general-category table, so this rejects controls, separators,
/// format characters, private use and noncharacters, and accepts unassigned code points.
fn is_print(c: char) -> bool {
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

fn go_quote_str(text: &str) -> String {
    let mut out = Sink::new();
    match go_quote(&mut out, text.as_bytes(), false) {
        Ok(()) => String::from_utf8_lossy(&out.buf).into_owned(),
        Err(Overflow) => String::new(),
    }
}

/// Go's `strconv.Quote` (or `QuoteToASCII`).
fn go_quote(out: &mut Sink, s: &[u8], ascii_only: bool) -> Result<(), Overflow> {
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

fn escape_rune(
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

fn can_backquote(s: &[u8]) -> bool {
    runes(s).all(|(c, raw)| match c {
        None => false,
        Some('\u{FEFF}') => false,
        Some(_) if raw.len() > 1 => true,
        Some(c) => !((c < ' ' && c != '\t') || c == '`' || c == '\u{7f}'),
    })
}

/// Go's `template.HTMLEscape`.
fn html_escape(out: &mut Sink, s: &[u8]) -> Result<(), Overflow> {
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
fn js_escape(out: &mut Sink, s: &[u8]) -> Result<(), Overflow> {
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
fn query_escape(out: &mut Sink, s: &[u8]) -> Result<(), Overflow> {
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

// ---------------------------------------------------------------------------------------------
// JSON as Go's encoding/json writes and reads it.

enum JsonErr {
    Overflow,
    Unsupported,
}

impl From<Overflow> for JsonErr {
    fn from(_: Overflow) -> Self {
        JsonErr::Overflow
    }
}

fn json_newline(out: &mut Sink, level: usize) -> Result<(), Overflow> {
    out.byte(b'\n')?;
    out.repeat(b' ', level.saturating_mul(2))
}

/// `json.Marshal` (or `MarshalIndent(v, "", "  ")`).
fn write_json(
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
fn from_json(text: &[u8]) -> Value {
    match serde_json::from_slice::<JsonIn>(text) {
        Ok(JsonIn(value)) => value,
        Err(_) => Value::Nil,
    }
}

struct JsonIn(Value);

impl<'de> serde::Deserialize<'de> for JsonIn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor).map(JsonIn)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
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

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::str(v.as_bytes()))
    }

    fn visit_string<E>(self, mut v: String) -> Result<Value, E> {
        let value = Value::str(v.as_bytes());
        v.zeroize();
        Ok(value)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(JsonIn(item)) = seq.next_element()? {
            items.push(item);
        }
        list_value(items, false).map_err(|_| serde::de::Error::custom("too deep"))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some((key, JsonIn(item))) = map.next_entry::<Zeroizing<String>, JsonIn>()? {
            entries.insert(Bytes::from_slice(key.as_bytes()), item);
        }
        map_value(entries, false).map_err(|_| serde::de::Error::custom("too deep"))
    }
}
