//! The lexer, with Go's text/template token rules.

use super::*;

// ---------------------------------------------------------------------------------------------
// Lexer (Go's text/template token rules).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kw {
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
pub(super) enum Tk {
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
pub(super) struct Tok {
    pub(super) kind: Tk,
    pub(super) start: usize,
    pub(super) end: usize,
}

fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

pub(super) struct Lexer<'s> {
    pub(super) src: &'s str,
    pub(super) pos: usize,
    pub(super) toks: Vec<Tok>,
    pub(super) error: Option<String>,
    /// Only count the tokens (in `count`), to allocate them all at once.
    counting: bool,
    pub(super) count: usize,
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
    pub(super) fn lex(src: &'s str, budget: Option<&'s Budget>) -> Lexed {
        let mut lexer = Lexer {
            src,
            pos: 0,
            toks: Vec::new(),
            error: None,
            counting: budget.is_some(),
            count: 0,
        };
        if let Some(budget) = budget {
            // Counted first, so that the tokens are charged (and allocated) once, not doubling.
            lexer.run();
            if let Err(overflow) = budget.alloc_n(lexer.count, std::mem::size_of::<Tok>()) {
                return Lexed {
                    toks: Vec::new(),
                    error: None,
                    overflow: Some(overflow),
                };
            }
            lexer = Lexer {
                toks: Vec::with_capacity(lexer.count),
                error: None,
                counting: false,
                pos: 0,
                ..lexer
            };
        }
        lexer.run();
        Lexed {
            toks: lexer.toks,
            error: lexer.error,
            overflow: None,
        }
    }

    pub(super) fn bytes(&self) -> &'s [u8] {
        self.src.as_bytes()
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|rest| rest.chars().next())
    }

    fn emit(&mut self, kind: Tk, start: usize, end: usize) {
        if self.counting {
            self.count += 1;
        } else {
            self.toks.push(Tok { kind, start, end });
        }
    }

    pub(super) fn fail(&mut self, at: usize, message: String) {
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
    pub(super) fn action(&mut self) -> Option<bool> {
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

    pub(super) fn quoted(
        &mut self,
        start: usize,
        quote: u8,
        kind: Tk,
        unterminated: &str,
    ) -> Option<()> {
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

    pub(super) fn number(&mut self, start: usize) -> Option<()> {
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
