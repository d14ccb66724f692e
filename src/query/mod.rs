//! The filter language of the Logs and Timeline panes.
//!
//! ```text
//! timeout                    a word anywhere (summary, kind, level, source, data)
//! "connection lost"          a phrase
//! /time.?out/                a regular expression
//! level>=warn                levels are ordered: trace < debug < info < warn < error
//! source=room  kind~otel     fields: source, kind (or type), level, msg (the summary), data
//! data.user.id=42            a JSON path into the entry's data (a.b[0].c); numbers compare as numbers
//! data.msg~/time.?out/       ~ contains (or matches a /regex/); = != < <= > >= compare
//! a b  a and b  a && b       and (also by juxtaposition)
//! a or b  a || b             or
//! not a  !a  -a              not
//! (a or b) and not c         parentheses
//! ```
//! Matching ignores case unless the query is parsed case-sensitive (the
//! prompt toggles it). A bad query is an error with the column where it
//! went wrong, never a panic.

pub mod path;

use std::fmt;

use regex::{Regex, RegexBuilder};

use crate::event::Level;
use path::{Found, Seg};

/// What a query reads from an entry.
pub trait Record {
    fn source(&self) -> &str;
    /// Kind of a log line; action type on the timeline.
    fn kind(&self) -> &str;
    fn level(&self) -> Option<Level>;
    /// The one-line summary.
    fn summary(&self) -> &str;
    /// Raw JSON data (a log line's data, an action's fields).
    fn data(&self) -> Option<&str>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the query where it went wrong.
    pub pos: usize,
    /// The same place in characters, from 1 (what the user counts).
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.column, self.message)
    }
}

/// Deepest nesting of parentheses and `not`s accepted (deeper input is
/// an error, not a stack overflow).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    /// `~` or `:`: contains, or matches a regex.
    Has,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Source,
    Kind,
    Level,
    Summary,
    /// `data` alone (the raw JSON text) or a path into it.
    Data(Vec<Seg>),
}

#[derive(Debug, Clone)]
pub struct Matcher {
    re: Regex,
    /// The literal as typed (for `=` on text and numbers).
    literal: Option<String>,
    /// Case is ignored.
    ci: bool,
    /// The literal lowercased once (case-insensitive `=` on non-ASCII).
    lower: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// A word, phrase or regex anywhere.
    Text(Matcher),
    Pred {
        field: Field,
        op: Op,
        value: Value,
    },
}

#[derive(Debug, Clone)]
pub enum Value {
    Text(Matcher),
    Number(f64, Matcher),
    Level(Level),
}

#[derive(Debug, Clone)]
pub struct Query {
    pub root: Node,
    pub case_sensitive: bool,
    /// The text as typed.
    pub source: String,
}

impl Query {
    pub fn parse(text: &str, case_sensitive: bool) -> Result<Query, ParseError> {
        Self::parse_bytes(text, case_sensitive).map_err(|mut e| {
            e.pos = e.pos.min(text.len());
            while !text.is_char_boundary(e.pos) {
                e.pos -= 1;
            }
            e.column = text[..e.pos].chars().count() + 1;
            e
        })
    }

    fn parse_bytes(text: &str, case_sensitive: bool) -> Result<Query, ParseError> {
        let toks = lex(text)?;
        let mut p = Parser {
            toks: &toks,
            i: 0,
            case_sensitive,
            end: text.len(),
            depth: 0,
        };
        if toks.is_empty() {
            return Err(ParseError {
                pos: 0,
                column: 1,
                message: "empty query".into(),
            });
        }
        let root = p.or()?;
        if let Some(t) = p.toks.get(p.i) {
            return Err(ParseError {
                pos: t.pos,
                column: 0,
                message: match t.kind {
                    Tok::RParen => "unbalanced ')'".into(),
                    _ => "unexpected token".into(),
                },
            });
        }
        Ok(Query {
            root,
            case_sensitive,
            source: text.to_string(),
        })
    }

    pub fn matches(&self, r: &dyn Record) -> bool {
        eval(&self.root, r)
    }

    /// Byte ranges of `text` that the query's positive text terms match
    /// (for highlighting), sorted and merged.
    pub fn highlights(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        collect_highlights(&self.root, false, text, &mut out);
        out.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(out.len());
        for (a, b) in out {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged
    }
}

fn collect_highlights(n: &Node, negated: bool, text: &str, out: &mut Vec<(usize, usize)>) {
    match n {
        Node::And(v) | Node::Or(v) => v
            .iter()
            .for_each(|c| collect_highlights(c, negated, text, out)),
        Node::Not(c) => collect_highlights(c, !negated, text, out),
        Node::Text(m)
        | Node::Pred {
            field: Field::Summary | Field::Data(_),
            op: Op::Has | Op::Eq,
            value: Value::Text(m),
        } if !negated => {
            out.extend(
                m.re.find_iter(text)
                    .filter(|x| x.start() < x.end())
                    .take(64)
                    .map(|x| (x.start(), x.end())),
            );
        }
        _ => {}
    }
}

// ---- evaluation ----

fn eval(n: &Node, r: &dyn Record) -> bool {
    match n {
        Node::And(v) => v.iter().all(|c| eval(c, r)),
        Node::Or(v) => v.iter().any(|c| eval(c, r)),
        Node::Not(c) => !eval(c, r),
        Node::Text(m) => {
            m.re.is_match(r.summary())
                || m.re.is_match(r.kind())
                || m.re.is_match(r.source())
                || r.level().is_some_and(|l| m.re.is_match(l.label()))
                || r.data().is_some_and(|d| {
                    m.re.is_match(d) || (d.contains('\\') && m.re.is_match(&path::unescape_all(d)))
                })
        }
        Node::Pred { field, op, value } => pred(field, *op, value, r),
    }
}

fn pred(field: &Field, op: Op, value: &Value, r: &dyn Record) -> bool {
    match field {
        Field::Level => {
            let Some(l) = r.level() else {
                return op == Op::Ne;
            };
            match value {
                Value::Level(want) => compare_ord(l.cmp(want), op),
                Value::Text(m) | Value::Number(_, m) => text_op(l.label(), op, m),
            }
        }
        Field::Source => value_text(value).is_some_and(|m| text_op(r.source(), op, m)),
        Field::Kind => value_text(value).is_some_and(|m| text_op(r.kind(), op, m)),
        Field::Summary => value_text(value).is_some_and(|m| text_op(r.summary(), op, m)),
        Field::Data(p) => {
            let Some(d) = r.data() else {
                return op == Op::Ne;
            };
            if p.is_empty() {
                return value_text(value).is_some_and(|m| text_op(d, op, m));
            }
            match path::find(d, p) {
                None => op == Op::Ne,
                Some(found) => found_op(found, op, value),
            }
        }
    }
}

fn value_text(v: &Value) -> Option<&Matcher> {
    match v {
        Value::Text(m) | Value::Number(_, m) => Some(m),
        Value::Level(_) => None,
    }
}

fn compare_ord(o: std::cmp::Ordering, op: Op) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq | Op::Has => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
    }
}

fn text_op(s: &str, op: Op, m: &Matcher) -> bool {
    match op {
        Op::Has => m.re.is_match(s),
        Op::Eq | Op::Ne => {
            let eq = match &m.literal {
                Some(lit) if m.ci => {
                    s.eq_ignore_ascii_case(lit)
                        || (!s.is_ascii() && m.lower.as_deref() == Some(&*s.to_lowercase()))
                }
                Some(lit) => s == lit,
                // `=` with a regex: the whole text matches it.
                None => {
                    m.re.find(s)
                        .is_some_and(|x| x.start() == 0 && x.end() == s.len())
                }
            };
            eq == (op == Op::Eq)
        }
        _ => match &m.literal {
            Some(lit) => compare_ord(s.cmp(lit.as_str()), op),
            None => false,
        },
    }
}

fn found_op(found: Found<'_>, op: Op, value: &Value) -> bool {
    if let Value::Number(n, m) = value
        && op != Op::Has
    {
        let lit = m.literal.as_deref().unwrap_or("");
        let raw = match found {
            Found::Scalar(t) | Found::Str(t) => t.trim(),
            Found::Container(_) => return op == Op::Ne,
        };
        if raw == lit {
            return compare_ord(std::cmp::Ordering::Equal, op);
        }
        // Integers exactly (ids beyond 2^53 stay distinct), else as numbers.
        let ord = match (raw.parse::<i128>(), lit.parse::<i128>()) {
            (Ok(a), Ok(b)) => Some(a.cmp(&b)),
            _ if is_json_number(raw) => raw.parse::<f64>().ok().and_then(|x| x.partial_cmp(n)),
            _ => None,
        };
        return match ord {
            Some(o) => compare_ord(o, op),
            // Not a number: equal to no number, and never in order with one.
            None => op == Op::Ne,
        };
    }
    match value_text(value) {
        Some(m) => text_op(&found.text(), op, m),
        None => false,
    }
}

/// JSON number syntax (no `inf`, `nan`, `+1`, `.5`).
fn is_json_number(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    !b.is_empty()
        && b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
}

// ---- lexing ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Not,
    And,
    Or,
    Word(String),
    Phrase(String),
    Regex(String),
    Pred {
        field: String,
        op: Op,
        value: Box<Tok>,
        /// Where the value starts (errors about it point there).
        vpos: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Tok,
    pos: usize,
}

fn err<T>(pos: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        pos,
        column: 0,
        message: message.into(),
    })
}

fn is_field(name: &str) -> bool {
    let head = name.split(['.', '[']).next().unwrap_or("");
    matches!(
        head,
        "source"
            | "src"
            | "kind"
            | "type"
            | "level"
            | "lvl"
            | "msg"
            | "summary"
            | "data"
            | "action"
    ) && (!name.contains(['.', '[']) || matches!(head, "data" | "action"))
}

fn op_at(s: &str) -> Option<(Op, usize)> {
    for (t, op) in [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("==", Op::Eq),
        ("=", Op::Eq),
        ("~", Op::Has),
        (":", Op::Has),
        (">", Op::Gt),
        ("<", Op::Lt),
    ] {
        if s.starts_with(t) {
            return Some((op, t.len()));
        }
    }
    None
}

fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let pos = i;
        match c {
            b'(' => {
                out.push(Token {
                    kind: Tok::LParen,
                    pos,
                });
                i += 1;
            }
            b')' => {
                out.push(Token {
                    kind: Tok::RParen,
                    pos,
                });
                i += 1;
            }
            b'!' if b.get(i + 1) != Some(&b'=') => {
                out.push(Token {
                    kind: Tok::Not,
                    pos,
                });
                i += 1;
            }
            b'-' if i + 1 < b.len()
                && !b[i + 1].is_ascii_whitespace()
                && b[i + 1] != b')'
                && (i == 0 || b[i - 1].is_ascii_whitespace() || b[i - 1] == b'(') =>
            {
                out.push(Token {
                    kind: Tok::Not,
                    pos,
                });
                i += 1;
            }
            b'&' if b.get(i + 1) == Some(&b'&') => {
                out.push(Token {
                    kind: Tok::And,
                    pos,
                });
                i += 2;
            }
            b'|' if b.get(i + 1) == Some(&b'|') => {
                out.push(Token { kind: Tok::Or, pos });
                i += 2;
            }
            b'"' => {
                let (s, next) = quoted(src, i)?;
                out.push(Token {
                    kind: Tok::Phrase(s),
                    pos,
                });
                i = next;
            }
            b'/' => {
                let (s, next) = regex_lit(src, i)?;
                out.push(Token {
                    kind: Tok::Regex(s),
                    pos,
                });
                i = next;
            }
            _ => {
                // A field name followed by an operator is a predicate.
                let mut j = i;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric()
                        || b[j] >= 0x80
                        || matches!(b[j], b'_' | b'.' | b'[' | b']' | b'-' | b'@' | b'$'))
                {
                    j += 1;
                }
                let name = &src[i..j];
                if is_field(name)
                    && let Some((op, n)) = op_at(&src[j..])
                {
                    let vpos = j + n;
                    let (value, next) = match b.get(vpos) {
                        Some(b'"') => {
                            let (s, next) = quoted(src, vpos)?;
                            (Tok::Phrase(s), next)
                        }
                        Some(b'/') => {
                            let (s, next) = regex_lit(src, vpos)?;
                            (Tok::Regex(s), next)
                        }
                        Some(c) if !c.is_ascii_whitespace() && *c != b')' && *c != b'(' => {
                            let mut k = vpos;
                            while k < b.len()
                                && !b[k].is_ascii_whitespace()
                                && b[k] != b')'
                                && b[k] != b'('
                            {
                                k += 1;
                            }
                            (Tok::Word(src[vpos..k].to_string()), k)
                        }
                        _ => {
                            return err(
                                vpos,
                                format!("{name}: a value is missing after the operator"),
                            );
                        }
                    };
                    out.push(Token {
                        kind: Tok::Pred {
                            field: name.to_string(),
                            op,
                            value: Box::new(value),
                            vpos,
                        },
                        pos,
                    });
                    i = next;
                    continue;
                }
                // A bare word: up to whitespace or a parenthesis.
                let mut k = i;
                while k < b.len() && !b[k].is_ascii_whitespace() && b[k] != b'(' && b[k] != b')' {
                    k += 1;
                }
                let w = &src[i..k];
                let kind = match w.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Word(w.to_string()),
                };
                out.push(Token { kind, pos });
                i = k;
            }
        }
    }
    Ok(out)
}

/// `"..."` with `\"` and `\\` escapes: the text and the index after it.
fn quoted(src: &str, start: usize) -> Result<(String, usize), ParseError> {
    let mut s = String::new();
    let mut it = src[start + 1..].char_indices();
    while let Some((k, c)) = it.next() {
        match c {
            '"' => return Ok((s, start + 1 + k + 1)),
            // `\"` and `\\` are escapes; any other backslash is itself.
            '\\' => match it.next() {
                Some((_, e @ ('"' | '\\'))) => s.push(e),
                Some((_, e)) => {
                    s.push('\\');
                    s.push(e);
                }
                None => break,
            },
            c => s.push(c),
        }
    }
    err(start, "unterminated \"phrase\"")
}

/// `/.../` with `\/` for a slash: the pattern and the index after it.
fn regex_lit(src: &str, start: usize) -> Result<(String, usize), ParseError> {
    let mut s = String::new();
    let mut it = src[start + 1..].char_indices();
    while let Some((k, c)) = it.next() {
        match c {
            '/' => {
                if s.is_empty() {
                    return err(start, "empty /regex/");
                }
                return Ok((s, start + 1 + k + 1));
            }
            '\\' => match it.next() {
                Some((_, '/')) => s.push('/'),
                Some((_, e)) => {
                    s.push('\\');
                    s.push(e);
                }
                None => break,
            },
            c => s.push(c),
        }
    }
    err(start, "unterminated /regex/")
}

// ---- parsing ----

struct Parser<'a> {
    toks: &'a [Token],
    i: usize,
    case_sensitive: bool,
    end: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.kind)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.end, |t| t.pos)
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        let mut v = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.i += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Node::Or(v)
        })
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        let mut v = vec![self.not()?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.i += 1;
                    v.push(self.not()?);
                }
                Some(Tok::Or | Tok::RParen) | None => break,
                Some(_) => v.push(self.not()?),
            }
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Node::And(v)
        })
    }

    fn not(&mut self) -> Result<Node, ParseError> {
        if self.peek() == Some(&Tok::Not) {
            let pos = self.pos();
            self.i += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return err(pos, format!("nested more than {MAX_DEPTH} deep"));
            }
            let inner = self.not();
            self.depth -= 1;
            return Ok(Node::Not(Box::new(inner?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Node, ParseError> {
        let pos = self.pos();
        let Some(t) = self.toks.get(self.i) else {
            return err(pos, "the query ends where a term was expected");
        };
        self.i += 1;
        match &t.kind {
            Tok::LParen => {
                if self.peek() == Some(&Tok::RParen) {
                    return err(pos, "empty parentheses");
                }
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return err(pos, format!("nested more than {MAX_DEPTH} deep"));
                }
                let n = self.or();
                self.depth -= 1;
                let n = n?;
                if self.peek() != Some(&Tok::RParen) {
                    return err(self.pos(), "missing ')'");
                }
                self.i += 1;
                Ok(n)
            }
            Tok::RParen => err(pos, "unbalanced ')'"),
            Tok::And | Tok::Or => err(pos, "'and'/'or' needs a term on each side"),
            Tok::Not => err(pos, "'not' needs a term"),
            Tok::Word(w) => Ok(Node::Text(self.literal(w, pos)?)),
            Tok::Phrase(w) => Ok(Node::Text(self.literal(w, pos)?)),
            Tok::Regex(r) => Ok(Node::Text(self.regex(r, pos)?)),
            Tok::Pred {
                field,
                op,
                value,
                vpos,
            } => self.pred(field, *op, value, pos, *vpos),
        }
    }

    fn literal(&self, w: &str, pos: usize) -> Result<Matcher, ParseError> {
        let re = RegexBuilder::new(&regex::escape(w))
            .case_insensitive(!self.case_sensitive)
            .build()
            .or_else(|e| err(pos, e.to_string()))?;
        Ok(Matcher {
            re,
            literal: Some(w.to_string()),
            ci: !self.case_sensitive,
            lower: (!self.case_sensitive).then(|| w.to_lowercase()),
        })
    }

    fn regex(&self, r: &str, pos: usize) -> Result<Matcher, ParseError> {
        let re = RegexBuilder::new(r)
            .case_insensitive(!self.case_sensitive)
            .size_limit(1 << 20)
            .build()
            .or_else(|e| {
                let first = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                err(pos, format!("bad /regex/: {first}"))
            })?;
        Ok(Matcher {
            re,
            literal: None,
            ci: !self.case_sensitive,
            lower: None,
        })
    }

    fn pred(
        &self,
        field: &str,
        op: Op,
        value: &Tok,
        pos: usize,
        vpos: usize,
    ) -> Result<Node, ParseError> {
        let f = match field.split(['.', '[']).next().unwrap_or("") {
            "source" | "src" => Field::Source,
            "kind" | "type" => Field::Kind,
            "level" | "lvl" => Field::Level,
            "msg" | "summary" => Field::Summary,
            _ => Field::Data(parse_path(field, pos)?),
        };
        let (text, is_regex) = match value {
            Tok::Word(w) | Tok::Phrase(w) => (w.as_str(), false),
            Tok::Regex(r) => (r.as_str(), true),
            _ => return err(pos, "bad value"),
        };
        let m = if is_regex {
            self.regex(text, vpos)?
        } else {
            self.literal(text, vpos)?
        };
        let value = if f == Field::Level && !is_regex {
            match parse_level(text) {
                Some(l) => Value::Level(l),
                None => {
                    return err(
                        vpos,
                        format!("unknown level {text:?} (trace, debug, info, warn, error)"),
                    );
                }
            }
        } else if matches!(value, Tok::Word(_))
            && is_json_number(text)
            && let Ok(n) = text.parse::<f64>()
        {
            Value::Number(n, m)
        } else {
            if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && is_regex {
                return err(vpos, "< <= > >= compare with a value, not a /regex/");
            }
            Value::Text(m)
        };
        Ok(Node::Pred {
            field: f,
            op,
            value,
        })
    }
}

fn parse_level(s: &str) -> Option<Level> {
    Some(match s.to_ascii_lowercase().as_str() {
        "trace" => Level::Trace,
        "debug" => Level::Debug,
        "info" => Level::Info,
        "warn" | "warning" => Level::Warn,
        "error" | "err" => Level::Error,
        _ => return None,
    })
}

/// `data.a.b[0].c` (or `action....`) → path segments after the head.
fn parse_path(field: &str, pos: usize) -> Result<Vec<Seg>, ParseError> {
    let mut segs = Vec::new();
    let rest = field
        .strip_prefix("data")
        .or_else(|| field.strip_prefix("action"))
        .unwrap_or(field);
    let mut s = rest;
    while !s.is_empty() {
        if let Some(r) = s.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return err(pos, format!("{field}: empty key in the path"));
            }
            if r[..end].contains(']') {
                return err(pos, format!("{field}: a ']' without its '['"));
            }
            segs.push(Seg::Key(r[..end].to_string()));
            s = &r[end..];
        } else if let Some(r) = s.strip_prefix('[') {
            let Some(close) = r.find(']') else {
                return err(pos, format!("{field}: missing ']'"));
            };
            let n = r[..close]
                .parse()
                .or_else(|_| err(pos, format!("{field}: [{}] is not an index", &r[..close])))?;
            segs.push(Seg::Index(n));
            s = &r[close + 1..];
        } else {
            return err(pos, format!("{field}: bad path"));
        }
    }
    Ok(segs)
}

#[cfg(test)]
mod tests;
