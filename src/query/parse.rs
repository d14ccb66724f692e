//! Tokens into a query tree: or of ands of (not) atoms, literals and
//! regexes compiled once, levels and numbers recognised.

use regex::RegexBuilder;

use super::ast::{Field, Matcher, Node, Op, Value};
use super::eval::is_json_number;
use super::lex::{Tok, Token, lex};
use super::path::Seg;
use super::{ParseError, Query, err};
use crate::event::Level;

/// Deepest nesting of parentheses and `not`s accepted (deeper input is
/// an error, not a stack overflow).
const MAX_DEPTH: usize = 64;

/// Tokens into a tree; errors carry a byte offset (`Query::parse` turns
/// it into a column).
pub(super) fn parse(text: &str, case_sensitive: bool) -> Result<Query, ParseError> {
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
