//! Go `text/template` with the Sprig functions SealedSecrets use: renders `spec.template.data`.
//!
//! Upstream's controller parses every `spec.template.data` entry as a Go `text/template` named
//! after its key, with Sprig's "generic" function map minus `env`, `expandenv` and
//! `getHostByName`, and executes it with `.` bound to a map of the decrypted items as strings
//! (docs/upstream.md, "Unsealing and templates"). The output bytes replace or add the item. This
//! module is a reimplementation of that engine from its documented behaviour: [`render`] runs one
//! template, [`render_all`] runs a SealedSecret's templates the way the controller does.
//!
//! Values are byte strings, as in Go: `{{ .cert }}` copies a binary item byte for byte.
//!
//! Compatibility was checked by running several hundred templates through Go's `text/template`
//! (Go 1.19, with Sprig's functions restated from Sprig's source) and comparing output and error
//! texts; the agreeing cases are kept as vectors in `core/tests/vectors/template/` (read by `core/tests/template/`). Upstream builds
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
//! intermediate buffers are wiped when dropped.
//!
//! Parsing and execution are bounded. Nesting is limited by [`MAX_DEPTH`] and every string or list
//! by [`MAX_OUTPUT`] (1 MiB). All templates of one object share one budget, spent in key order:
//! together they output at most [`MAX_OUTPUT`] bytes (what a Secret holds), take at most
//! [`MAX_STEPS`] (1,000,000) evaluation steps and do at most [`MAX_WORK`] (64 Mi) units of work. A
//! byte read or written costs one unit, a byte allocated four (so an object's templates allocate at
//! most 16 MiB in total, which bounds their peak memory), a byte hashed by `sha256sum` or `sha1sum`
//! two, a template token about 860 (the token and its share of the syntax tree, measured at up to
//! 210 bytes). Every buffer is charged before it is allocated. The output of a failed template does
//! not count. Once the budget is spent, the remaining templates fail with a
//! [`TemplateError::Limit`] whose [`LimitKind`] and message name the per-object limit. `bcrypt`,
//! `htpasswd` and other deliberately slow functions are not available (they need randomness).
//!
//! Measured on a 2-core AMD EPYC: 300 templates of `{{ repeat 1048576 "x" }}` rendered 300 MiB (305
//! MiB peak, 2.4 s) and now fail after the first in 40 ms at 6 MiB peak; 300 templates each hashing
//! a generated mebibyte 64 times took 16 s and now fail in 25 ms; spending the whole budget on the
//! costliest functions (`urlquery`, `js`, `%q` escaping) takes at most 0.2 s, on steps 0.05 s; no
//! hostile object measured peaks above 16 MiB. A 650 KB JSON item re-indented by `toPrettyJson
//! (fromJson .x)` uses 62% of the work budget; 50 templates of 40 lines with two actions each use
//! 55%, mostly parsing.
//!
//! Whether a template fails can still depend on the secret values (`div 1 .x` fails when `x` is
//! `0`), so only run templates where their result goes to whoever may read the Secret, never in
//! verify or rotate paths.

use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use zeroize::{Zeroize, Zeroizing};

use crate::secret::SecretBytes;

mod budget;
mod exec;
mod funcs;
mod lex;
mod literal;
mod parse;
mod value;

use budget::*;
use exec::*;
use funcs::*;
use lex::*;
use literal::*;
use parse::*;
use value::*;

/// Largest output of all templates of an object together, and largest string or list any
/// function may build (1 MiB, the size limit of a Kubernetes Secret).
pub const MAX_OUTPUT: usize = 1 << 20;
/// Deepest nesting of control structures, parentheses and values.
pub const MAX_DEPTH: usize = 100;
/// Most evaluation steps (actions, commands, arguments, loop iterations) all templates of an
/// object may take together.
pub const MAX_STEPS: u64 = 1_000_000;
/// Most work all templates of an object may do together: bytes read and written, bytes
/// allocated and bytes hashed, the last two weighted by their cost (docs/templates.md, Safety).
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
        /// Which limit, in words.
        message: String,
        /// Which limit.
        limit: LimitKind,
    },
}

/// The resource limit a template exceeded. Output, steps and work are budgets of the whole
/// object, shared by all its templates: see [`render_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// A string or list bigger than [`MAX_OUTPUT`].
    Value,
    /// A value nesting deeper than [`MAX_DEPTH`].
    Nesting,
    /// The object's templates together output more than [`MAX_OUTPUT`] bytes.
    Output,
    /// The object's templates together took more than [`MAX_STEPS`] steps.
    Steps,
    /// The object's templates together did more than [`MAX_WORK`] work.
    Work,
}

impl LimitKind {
    /// What was exceeded, in words (never a value).
    fn message(self) -> String {
        match self {
            LimitKind::Value => format!("a value exceeds the limit of {MAX_OUTPUT} bytes"),
            LimitKind::Nesting => {
                format!("values nest deeper than the limit of {MAX_DEPTH} levels")
            }
            LimitKind::Output => format!(
                "output exceeds the per-object limit of {MAX_OUTPUT} bytes (all templates \
                 of the object together)"
            ),
            LimitKind::Steps => format!(
                "templates exceed the per-object limit of {MAX_STEPS} evaluation steps (all \
                 templates of the object together)"
            ),
            LimitKind::Work => format!(
                "templates exceed the per-object limit of {MAX_WORK} units of work (all \
                 templates of the object together)"
            ),
        }
    }
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
    /// [`ItemErrors`](crate::sealing::ItemErrors).
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

/// Renders one template over the decrypted items, as upstream's controller does for one
/// `spec.template.data` entry named `name`, with a budget of its own (as an object holding
/// only this template).
///
/// # Errors
/// [`TemplateError`] when the template does not parse, fails or exceeds a limit.
pub fn render(
    source: &str,
    name: &str,
    data: &BTreeMap<String, SecretBytes>,
) -> Result<SecretBytes, TemplateError> {
    render_value(source, name, &data_value(data), &Budget::new())
}

/// Renders every template of a SealedSecret: key → template source, each named after its key
/// and executed over `data` (the decrypted items, never other templates' output). Returns the
/// rendered items only; the caller inserts them over `data` (templates win).
///
/// The templates share one budget, in key order: together they output at most [`MAX_OUTPUT`]
/// bytes (what a Secret holds) and take at most [`MAX_STEPS`] steps and [`MAX_WORK`] work, so
/// an object costs the same bounded memory and time however many templates it has.
///
/// # Errors
/// [`TemplateErrors`] with every failing template when at least one fails.
pub fn render_all(
    templates: &BTreeMap<String, String>,
    data: &BTreeMap<String, SecretBytes>,
) -> Result<BTreeMap<String, SecretBytes>, TemplateErrors> {
    let root = data_value(data);
    let budget = Budget::new();
    let mut rendered = BTreeMap::new();
    let mut errors = TemplateErrors::default();
    for (key, source) in templates {
        match render_value(source, key, &root, &budget) {
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
    Parser::new(source, name, None).parse().map(drop)
}

fn render_value(
    source: &str,
    name: &str,
    root: &Value,
    budget: &Budget,
) -> Result<SecretBytes, TemplateError> {
    let tree = Parser::new(source, name, Some(budget)).parse()?;
    let mut exec = Exec::new(source, root.clone(), budget);
    match exec.walk_list(root, &tree) {
        Ok(_) => {
            let output = exec.out.take();
            // Kept output counts against the object's budget; a failed template's does not.
            budget
                .output
                .set(budget.output.get().saturating_add(output.len()));
            Ok(SecretBytes::new(output))
        }
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
