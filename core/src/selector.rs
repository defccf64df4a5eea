//! The namespace-selector scope (a sealant extension, docs/multi-tenancy.md "Namespace-selector
//! scope"): items bound to a namespace label selector instead of a namespace.
//!
//! The selector is kubectl's syntax (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`,
//! `!a`), bounded in size. It is recorded in one annotation, and the OAEP label is a fixed prefix
//! plus the *canonical* form (requirements and set values sorted, duplicates dropped, `==` written
//! `=`, no spaces), so equivalent spellings bind equally and a tenant cannot change which
//! namespaces are selected without re-sealing. The prefix holds a `.`, which no namespace name
//! may, so the label never equals an upstream label (`ns/name`, `ns` or empty): upstream
//! controllers fail such items with their ordinary "cannot decrypt".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// Annotation that binds a SealedSecret's items to the namespaces its selector matches.
pub const ANNOTATION_NAMESPACE_SELECTOR: &str = "sealant.dev/namespace-selector";
/// The OAEP label of a selector-scoped item is this prefix followed by the canonical selector.
pub const LABEL_PREFIX: &str = "sealant.dev/namespace-selector:";
/// Longest selector text accepted, in bytes.
pub const MAX_SELECTOR_LEN: usize = 2048;
/// Most requirements in one selector.
pub const MAX_REQUIREMENTS: usize = 32;
/// Most values in one `in`/`notin` set.
pub const MAX_SET_VALUES: usize = 32;

/// One requirement of a selector, ordered as it is in the canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Requirement {
    /// `key` : the label is set.
    Exists(String),
    /// `!key`: the label is not set.
    DoesNotExist(String),
    /// `key=value`.
    Equals(String, String),
    /// `key!=value` (also true when the label is not set).
    NotEquals(String, String),
    /// `key in (values)`.
    In(String, BTreeSet<String>),
    /// `key notin (values)` (also true when the label is not set).
    NotIn(String, BTreeSet<String>),
}

impl Requirement {
    fn key(&self) -> &str {
        match self {
            Requirement::Exists(k)
            | Requirement::DoesNotExist(k)
            | Requirement::Equals(k, _)
            | Requirement::NotEquals(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _) => k,
        }
    }

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(self.key()).map(String::as_str);
        match self {
            Requirement::Exists(_) => value.is_some(),
            Requirement::DoesNotExist(_) => value.is_none(),
            Requirement::Equals(_, want) => value == Some(want.as_str()),
            Requirement::NotEquals(_, want) => value != Some(want.as_str()),
            Requirement::In(_, set) => value.is_some_and(|v| set.contains(v)),
            Requirement::NotIn(_, set) => value.is_none_or(|v| !set.contains(v)),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |f: &mut fmt::Formatter<'_>, set: &BTreeSet<String>| {
            let values: Vec<&str> = set.iter().map(String::as_str).collect();
            write!(f, "({})", values.join(","))
        };
        match self {
            Requirement::Exists(k) => f.write_str(k),
            Requirement::DoesNotExist(k) => write!(f, "!{k}"),
            Requirement::Equals(k, v) => write!(f, "{k}={v}"),
            Requirement::NotEquals(k, v) => write!(f, "{k}!={v}"),
            Requirement::In(k, values) => {
                write!(f, "{k} in ")?;
                set(f, values)
            }
            Requirement::NotIn(k, values) => {
                write!(f, "{k} notin ")?;
                set(f, values)
            }
        }
    }
}

/// A parsed, canonicalised namespace label selector (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: BTreeSet<Requirement>,
}

/// Why a selector was refused. Selectors are not secret, so errors quote them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    /// Nothing to select on (it would match every namespace: use cluster-wide instead).
    #[error(
        "empty namespace selector: it would match every namespace (use --scope cluster-wide for that)"
    )]
    Empty,
    /// Longer than [`MAX_SELECTOR_LEN`].
    #[error("namespace selector is {len} bytes long, over the limit of {MAX_SELECTOR_LEN}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// More than [`MAX_REQUIREMENTS`] requirements or [`MAX_SET_VALUES`] values in a set.
    #[error("namespace selector has too many {what} (at most {max})")]
    TooMany {
        /// `requirements` or `values in a set`.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// Not kubectl's selector syntax.
    #[error("namespace selector: expected {expected} at byte {at}")]
    Syntax {
        /// Byte offset of the problem.
        at: usize,
        /// What was expected there.
        expected: &'static str,
    },
    /// An operator kubectl has but this scope does not (`<`, `>`).
    #[error(
        "namespace selector: operator {0:?} is not supported (use =, !=, in, notin, exists or !)"
    )]
    Unsupported(String),
    /// Not a valid label key.
    #[error("namespace selector: {0:?} is not a valid label key")]
    InvalidKey(String),
    /// Not a valid label value.
    #[error("namespace selector: {0:?} is not a valid label value")]
    InvalidValue(String),
}

impl Selector {
    /// Parses kubectl's label selector syntax and canonicalises it.
    ///
    /// # Errors
    /// [`SelectorError`] for anything kubectl would refuse, an empty selector, `<`/`>`, or one
    /// over the size bounds.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        if text.len() > MAX_SELECTOR_LEN {
            return Err(SelectorError::TooLong { len: text.len() });
        }
        let mut parser = Parser {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        let mut requirements = BTreeSet::new();
        parser.skip_ws();
        if parser.at == parser.bytes.len() {
            return Err(SelectorError::Empty);
        }
        loop {
            requirements.insert(parser.requirement()?);
            if requirements.len() > MAX_REQUIREMENTS {
                return Err(SelectorError::TooMany {
                    what: "requirements",
                    max: MAX_REQUIREMENTS,
                });
            }
            parser.skip_ws();
            match parser.peek() {
                None => break,
                Some(b',') => parser.at += 1,
                Some(_) => {
                    return Err(parser.syntax("',' or the end"));
                }
            }
        }
        Ok(Self { requirements })
    }

    /// The canonical form (what the annotation holds and the label binds).
    pub fn canonical(&self) -> String {
        self.to_string()
    }

    /// The OAEP label of items bound to this selector.
    pub fn label(&self) -> Vec<u8> {
        format!("{LABEL_PREFIX}{self}").into_bytes()
    }

    /// Whether a namespace with `labels` is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The requirements, in canonical order.
    pub fn requirements(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter()
    }

    /// The selector an object's annotations bind it to: `None` without the annotation.
    ///
    /// # Errors
    /// [`SelectorError`] if the annotation does not parse.
    pub fn from_annotations(
        annotations: Option<&BTreeMap<String, String>>,
    ) -> Result<Option<Self>, SelectorError> {
        annotations
            .and_then(|a| a.get(ANNOTATION_NAMESPACE_SELECTOR))
            .map(|text| Self::parse(text))
            .transpose()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Bytes that end a word, as kubectl's lexer has them.
fn is_special(b: u8) -> bool {
    matches!(b, b'!' | b'=' | b'(' | b')' | b',' | b'<' | b'>') || b.is_ascii_whitespace()
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn syntax(&self, expected: &'static str) -> SelectorError {
        SelectorError::Syntax {
            at: self.at,
            expected,
        }
    }

    /// A run of non-special bytes (possibly empty). Special bytes are ASCII, so the slice
    /// always falls on character boundaries.
    fn word(&mut self) -> &str {
        self.skip_ws();
        let start = self.at;
        while self.peek().is_some_and(|b| !is_special(b)) {
            self.at += 1;
        }
        &self.text[start..self.at]
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        let word = self.word();
        if word.is_empty() {
            return Err(self.syntax("a label key"));
        }
        if !valid_key(word) {
            return Err(SelectorError::InvalidKey(word.to_owned()));
        }
        Ok(word.to_owned())
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        let word = self.word();
        if !valid_value(word) {
            return Err(SelectorError::InvalidValue(word.to_owned()));
        }
        Ok(word.to_owned())
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        self.skip_ws();
        if self.eat(b'!') {
            return Ok(Requirement::DoesNotExist(self.key()?));
        }
        let key = self.key()?;
        self.skip_ws();
        match self.peek() {
            None | Some(b',') => Ok(Requirement::Exists(key)),
            Some(b'=') => {
                self.at += 1;
                self.eat(b'=');
                Ok(Requirement::Equals(key, self.value()?))
            }
            Some(b'!') => {
                self.at += 1;
                if !self.eat(b'=') {
                    return Err(self.syntax("'=' after '!'"));
                }
                Ok(Requirement::NotEquals(key, self.value()?))
            }
            Some(op @ (b'<' | b'>')) => Err(SelectorError::Unsupported(char::from(op).into())),
            Some(_) => {
                let at = self.at;
                match self.word() {
                    "in" => Ok(Requirement::In(key, self.set()?)),
                    "notin" => Ok(Requirement::NotIn(key, self.set()?)),
                    _ => Err(SelectorError::Syntax {
                        at,
                        expected: "an operator (=, ==, !=, in, notin), ',' or the end",
                    }),
                }
            }
        }
    }

    fn set(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        self.skip_ws();
        if !self.eat(b'(') {
            return Err(self.syntax("'('"));
        }
        let mut values = BTreeSet::new();
        loop {
            values.insert(self.value()?);
            if values.len() > MAX_SET_VALUES {
                return Err(SelectorError::TooMany {
                    what: "values in a set",
                    max: MAX_SET_VALUES,
                });
            }
            self.skip_ws();
            if self.eat(b')') {
                return Ok(values);
            }
            if !self.eat(b',') {
                return Err(self.syntax("',' or ')'"));
            }
        }
    }
}

/// A label name or value part: at most 63 bytes of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// A DNS subdomain: at most 253 bytes of lowercase labels of `[a-z0-9-]` joined by dots.
fn valid_prefix(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

fn valid_key(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => valid_prefix(prefix) && valid_name(name),
        None => valid_name(s),
    }
}

fn valid_value(s: &str) -> bool {
    s.is_empty() || valid_name(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn equivalent_spellings_share_one_canonical_form_and_label() {
        let canonical = Selector::parse("env in (prod),team=payments").unwrap();
        for spelling in [
            "team=payments,env in (prod)",
            " team == payments , env in ( prod , prod ) ",
            "env in (prod),team=payments,team=payments",
        ] {
            let parsed = Selector::parse(spelling).unwrap();
            assert_eq!(parsed, canonical, "{spelling:?}");
            assert_eq!(parsed.label(), canonical.label());
        }
        assert_eq!(canonical.canonical(), "team=payments,env in (prod)");
        assert_eq!(
            canonical.label(),
            b"sealant.dev/namespace-selector:team=payments,env in (prod)"
        );
        // The canonical form parses back to itself.
        assert_eq!(Selector::parse(&canonical.canonical()).unwrap(), canonical);
    }

    #[test]
    fn different_selectors_bind_differently() {
        let a = Selector::parse("team=payments").unwrap();
        for other in [
            "team=billing",
            "team!=payments",
            "team in (payments,x)",
            "team",
        ] {
            assert_ne!(
                a.label(),
                Selector::parse(other).unwrap().label(),
                "{other}"
            );
        }
    }

    #[test]
    fn every_operator_matches_as_kubernetes_does() {
        let ns = labels(&[("team", "payments"), ("env", "prod")]);
        let cases = [
            ("team=payments", true),
            ("team==payments", true),
            ("team=billing", false),
            ("team!=billing", true),
            ("team!=payments", false),
            ("missing!=x", true),
            ("env in (prod,staging)", true),
            ("env in (dev)", false),
            ("env notin (dev)", true),
            ("env notin (prod)", false),
            ("missing notin (x)", true),
            ("missing in (x)", false),
            ("team", true),
            ("missing", false),
            ("!missing", true),
            ("!team", false),
            ("team=payments,env=dev", false),
            ("example.com/tier=", false),
        ];
        for (text, want) in cases {
            assert_eq!(Selector::parse(text).unwrap().matches(&ns), want, "{text}");
        }
        let tiered = labels(&[("example.com/tier", "")]);
        assert!(
            Selector::parse("example.com/tier=")
                .unwrap()
                .matches(&tiered)
        );
    }

    #[test]
    fn bad_selectors_are_refused_with_their_reason() {
        assert_eq!(Selector::parse(""), Err(SelectorError::Empty));
        assert_eq!(Selector::parse("   "), Err(SelectorError::Empty));
        assert!(matches!(
            Selector::parse("a<3"),
            Err(SelectorError::Unsupported(_))
        ));
        assert!(matches!(
            Selector::parse("-a=b"),
            Err(SelectorError::InvalidKey(_))
        ));
        assert!(matches!(
            Selector::parse("Example.com/a=b"),
            Err(SelectorError::InvalidKey(_))
        ));
        assert!(matches!(
            Selector::parse("a=b-"),
            Err(SelectorError::InvalidValue(_))
        ));
        for text in [
            "a=b,", "a in x", "a in (x", "a !x", "a b", ",a", "a=(b)", "!",
        ] {
            assert!(
                matches!(Selector::parse(text), Err(SelectorError::Syntax { .. })),
                "{text}: {:?}",
                Selector::parse(text)
            );
        }
        let long = "a".repeat(MAX_SELECTOR_LEN + 1);
        assert!(matches!(
            Selector::parse(&long),
            Err(SelectorError::TooLong { .. })
        ));
        let many: Vec<String> = (0..=MAX_REQUIREMENTS).map(|i| format!("k{i}")).collect();
        assert!(matches!(
            Selector::parse(&many.join(",")),
            Err(SelectorError::TooMany { .. })
        ));
        let values: Vec<String> = (0..=MAX_SET_VALUES).map(|i| format!("v{i}")).collect();
        assert!(matches!(
            Selector::parse(&format!("k in ({})", values.join(","))),
            Err(SelectorError::TooMany { .. })
        ));
    }

    #[test]
    fn the_label_never_equals_an_upstream_label() {
        // Upstream labels are "ns/name", "ns" or "", with ns a DNS label (no '.').
        let label = Selector::parse("a").unwrap().label();
        let text = String::from_utf8(label).unwrap();
        let first = text.split('/').next().unwrap();
        assert!(first.contains('.'));
    }

    #[test]
    fn annotations_select_the_scope() {
        assert_eq!(Selector::from_annotations(None), Ok(None));
        let a = labels(&[(ANNOTATION_NAMESPACE_SELECTOR, "team = payments")]);
        assert_eq!(
            Selector::from_annotations(Some(&a))
                .unwrap()
                .unwrap()
                .canonical(),
            "team=payments"
        );
        let bad = labels(&[(ANNOTATION_NAMESPACE_SELECTOR, "")]);
        assert_eq!(
            Selector::from_annotations(Some(&bad)),
            Err(SelectorError::Empty)
        );
    }
}
