//! Execution of a parsed template against the budget.

use super::*;

// ---------------------------------------------------------------------------------------------
// Execution.

/// An execution failure: where it points, the template text it quotes, and why.
pub(super) struct Fail {
    pub(super) pos: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) message: String,
    pub(super) limit: Option<LimitKind>,
}

impl Fail {
    pub(super) fn new(start: usize, end: usize, message: impl Into<String>) -> Self {
        Fail {
            pos: start,
            start,
            end,
            message: message.into(),
            limit: None,
        }
    }

    pub(super) fn at(operand: &Operand, message: impl Into<String>) -> Self {
        Fail {
            pos: operand.pos,
            start: operand.start,
            end: operand.end,
            message: message.into(),
            limit: None,
        }
    }

    pub(super) fn limit(start: usize, end: usize, Overflow(kind): Overflow) -> Self {
        Fail {
            pos: start,
            start,
            end,
            message: kind.message(),
            limit: Some(kind),
        }
    }

    pub(super) fn into_error(self, src: &str, name: &str) -> TemplateError {
        let (line, column) = line_col(src, self.pos);
        let text = src.get(self.start..self.end).unwrap_or("");
        let context = if text.chars().count() > CONTEXT_CHARS {
            let head: String = text.chars().take(CONTEXT_CHARS).collect();
            format!("{head}...")
        } else {
            text.to_owned()
        };
        let name = name.to_owned();
        if let Some(limit) = self.limit {
            TemplateError::Limit {
                name,
                line,
                column,
                context,
                message: self.message,
                limit,
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

pub(super) enum Flow {
    Normal,
    Break,
    Continue,
}

/// A function's failure: a message (never containing values) or a limit.
pub(super) enum FnErr {
    Msg(String),
    Limit(Overflow),
}

impl From<Overflow> for FnErr {
    fn from(overflow: Overflow) -> Self {
        FnErr::Limit(overflow)
    }
}

pub(super) type FnResult = Result<Value, FnErr>;

pub(super) struct Exec<'t> {
    pub(super) src: &'t str,
    pub(super) vars: Vec<(&'t str, Value)>,
    pub(super) out: Sink<'t>,
    /// Shared by all templates of the object.
    pub(super) budget: &'t Budget,
}

impl<'t> Exec<'t> {
    pub(super) fn new(src: &'t str, root: Value, budget: &'t Budget) -> Self {
        Exec {
            src,
            vars: vec![("$", root)],
            out: Sink::output(budget),
            budget,
        }
    }

    pub(super) fn step(&mut self, start: usize, end: usize) -> XResult<()> {
        self.budget
            .step()
            .map_err(|overflow| Fail::limit(start, end, overflow))
    }

    pub(super) fn charge(&mut self, amount: u64, start: usize, end: usize) -> XResult<()> {
        self.budget
            .charge(amount)
            .map_err(|overflow| Fail::limit(start, end, overflow))
    }

    pub(super) fn walk_list(&mut self, dot: &Value, list: &'t [Node]) -> XResult<Flow> {
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
                    .map_err(|overflow| Fail::limit(*start, *end, overflow))?;
            }
            Node::Action(pipe) => {
                self.step(pipe.start, pipe.end)?;
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    let before = self.out.buf.len();
                    print_value(&mut self.out, &value)
                        .map_err(|overflow| Fail::limit(pipe.start, pipe.end, overflow))?;
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
                    let key = self
                        .budget
                        .str(key)
                        .map_err(|overflow| Fail::limit(pipe.start, pipe.end, overflow))?;
                    if self.iteration(range, key, item.clone(), body_mark)? {
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

    pub(super) fn var(&mut self, name: &str, start: usize, end: usize) -> XResult<Value> {
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
            limit: None,
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
        // What the function builds is charged as it allocates.
        call(self.budget, func, &argv).map_err(|err| match err {
            FnErr::Msg(message) => {
                Fail::new(start, end, format!("error calling {name}: {message}"))
            }
            FnErr::Limit(overflow) => Fail::limit(start, end, overflow),
        })
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
pub(super) enum P {
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
