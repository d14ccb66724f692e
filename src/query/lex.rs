//! Query text into tokens: parentheses, and/or/not, words, "phrases",
//! /regexes/ and `field OP value` predicates, each with its byte offset.

use super::ast::Op;
use super::{ParseError, err};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
pub(super) struct Token {
    pub(super) kind: Tok,
    pub(super) pos: usize,
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

pub(super) fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let (kind, next) = match c {
            b'(' => (Tok::LParen, i + 1),
            b')' => (Tok::RParen, i + 1),
            b'!' if b.get(i + 1) != Some(&b'=') => (Tok::Not, i + 1),
            b'-' if i + 1 < b.len()
                && !b[i + 1].is_ascii_whitespace()
                && b[i + 1] != b')'
                && (i == 0 || b[i - 1].is_ascii_whitespace() || b[i - 1] == b'(') =>
            {
                (Tok::Not, i + 1)
            }
            b'&' if b.get(i + 1) == Some(&b'&') => (Tok::And, i + 2),
            b'|' if b.get(i + 1) == Some(&b'|') => (Tok::Or, i + 2),
            b'"' => {
                let (s, next) = quoted(src, i)?;
                (Tok::Phrase(s), next)
            }
            b'/' => {
                let (s, next) = regex_lit(src, i)?;
                (Tok::Regex(s), next)
            }
            _ => word_or_pred(src, i)?,
        };
        out.push(Token { kind, pos: i });
        i = next;
    }
    Ok(out)
}

/// At `i`: a field name followed by an operator is a predicate; anything
/// else a bare word (or `and`/`or`/`not`) up to whitespace or a
/// parenthesis. Returns the token and the index after it.
fn word_or_pred(src: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
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
        let (value, next) = pred_value(src, name, vpos)?;
        let pred = Tok::Pred {
            field: name.to_string(),
            op,
            value: Box::new(value),
            vpos,
        };
        return Ok((pred, next));
    }
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
    Ok((kind, k))
}

/// The value of predicate `name` at `vpos`: a phrase, a regex or a word.
fn pred_value(src: &str, name: &str, vpos: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
    match b.get(vpos) {
        Some(b'"') => {
            let (s, next) = quoted(src, vpos)?;
            Ok((Tok::Phrase(s), next))
        }
        Some(b'/') => {
            let (s, next) = regex_lit(src, vpos)?;
            Ok((Tok::Regex(s), next))
        }
        Some(c) if !c.is_ascii_whitespace() && *c != b')' && *c != b'(' => {
            let mut k = vpos;
            while k < b.len() && !b[k].is_ascii_whitespace() && b[k] != b')' && b[k] != b'(' {
                k += 1;
            }
            Ok((Tok::Word(src[vpos..k].to_string()), k))
        }
        _ => err(
            vpos,
            format!("{name}: a value is missing after the operator"),
        ),
    }
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
