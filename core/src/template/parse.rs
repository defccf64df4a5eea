//! The syntax tree and the parser.

use super::*;

// ---------------------------------------------------------------------------------------------
// Syntax tree and parser.

pub(super) enum Node {
    Text(usize, usize),
    Action(Pipe),
    If(Branches),
    With(Branches),
    Range(Box<RangeNode>),
    Break,
    Continue,
}

/// `if`/`with` with their `else if`/`else with` arms, then the final `else`.
pub(super) struct Branches {
    pub(super) arms: Vec<(Pipe, Vec<Node>)>,
    pub(super) otherwise: Option<Vec<Node>>,
}

pub(super) struct RangeNode {
    pub(super) pipe: Pipe,
    pub(super) body: Vec<Node>,
    pub(super) otherwise: Option<Vec<Node>>,
}

pub(super) struct Pipe {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) decl: Vec<String>,
    pub(super) is_assign: bool,
    pub(super) cmds: Vec<Cmd>,
}

pub(super) struct Cmd {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) args: Vec<Operand>,
}

pub(super) struct Operand {
    /// Where errors point: the start, or for field chains the second field (as Go does).
    pub(super) pos: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) kind: Op,
}

pub(super) enum Op {
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
pub(super) struct Num {
    pub(super) text: String,
    pub(super) int: Option<i64>,
    pub(super) float: Option<f64>,
    pub(super) uint_only: bool,
    pub(super) is_char: bool,
}

pub(super) enum Item {
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

/// What the lexer found.
pub(super) struct Lexed {
    pub(super) toks: Vec<Tok>,
    pub(super) error: Option<String>,
    /// The budget could not hold the tokens.
    pub(super) overflow: Option<Overflow>,
}

pub(super) struct Parser<'s> {
    pub(super) src: &'s str,
    pub(super) name: &'s str,
    pub(super) toks: Vec<Tok>,
    lex_error: Option<String>,
    /// Charged for every token the parser reads and what it builds from it; None when only
    /// checking a template.
    pub(super) budget: Option<&'s Budget>,
    /// Tokens charged so far.
    pub(super) charged: usize,
    /// Where the budget ran out and which limit: from that token on, the parser reads errors.
    pub(super) overflow: Option<(usize, Overflow)>,
    pub(super) i: usize,
    pub(super) last: Tok,
    /// Variables in scope, innermost last, and how many times each name is in the list.
    pub(super) vars: Vec<String>,
    declared: std::collections::HashMap<String, usize>,
    range_depth: usize,
    pub(super) depth: usize,
}

impl<'s> Parser<'s> {
    pub(super) fn new(src: &'s str, name: &'s str, budget: Option<&'s Budget>) -> Self {
        let Lexed {
            toks,
            error: lex_error,
            overflow,
        } = Lexer::lex(src, budget);
        Parser {
            src,
            name,
            toks,
            lex_error,
            budget,
            charged: 0,
            overflow: overflow.map(|overflow| (0, overflow)),
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
        let tok = match self.toks.get(index) {
            Some(tok) => *tok,
            None => self.toks.last().copied().unwrap_or(end),
        };
        match self.overflow {
            Some((cut, _)) if index >= cut => Tok {
                kind: Tk::Error,
                start: tok.start,
                end: tok.start,
            },
            _ => tok,
        }
    }

    /// Charges the token at `index` when the parser reads it for the first time: the syntax
    /// tree grows with the tokens read, and a nesting error can come before the budget runs out.
    pub(super) fn charge(&mut self, index: usize) {
        let Some(budget) = self.budget else { return };
        if index < self.charged || self.overflow.is_some() {
            return;
        }
        let tok = self.tok(index);
        let text = match tok.kind {
            Tk::Text => 0,
            _ => tok.end.saturating_sub(tok.start),
        };
        match budget.alloc(TREE_COST.saturating_add(text)) {
            Ok(()) => self.charged = index + 1,
            Err(overflow) => self.overflow = Some((index, overflow)),
        }
    }

    pub(super) fn next(&mut self) -> Tok {
        self.charge(self.i);
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

    pub(super) fn text(&self, tok: Tok) -> &'s str {
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

    pub(super) fn error(&self, message: impl Into<String>) -> TemplateError {
        self.error_at(self.last.start, message)
    }

    pub(super) fn unexpected(&self, tok: Tok, context: &str) -> TemplateError {
        if tok.kind == Tk::Error {
            if let Some((_, overflow)) = self.overflow {
                return self.limit_error(tok.start, overflow);
            }
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

    /// The budget ran out while parsing, at `pos`.
    fn limit_error(&self, pos: usize, Overflow(limit): Overflow) -> TemplateError {
        let (line, column) = line_col(self.src, pos);
        TemplateError::Limit {
            name: self.name.to_owned(),
            line,
            column,
            context: String::new(),
            message: limit.message(),
            limit,
        }
    }

    pub(super) fn parse(mut self) -> PResult<Vec<Node>> {
        if self.toks.is_empty()
            && let Some((pos, overflow)) = self.overflow
        {
            return Err(self.limit_error(pos, overflow));
        }
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

    pub(super) fn action(&mut self) -> PResult<Item> {
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

    pub(super) fn command(&mut self) -> PResult<Cmd> {
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

    pub(super) fn operand(&mut self) -> PResult<Option<Operand>> {
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
