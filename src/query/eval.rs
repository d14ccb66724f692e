//! Matching an entry against a parsed query, and what of a text the
//! query's terms highlight.

use super::Record;
use super::ast::{Field, Matcher, Node, Op, Value};
use super::path::{self, Found};

pub(super) fn eval(n: &Node, r: &dyn Record) -> bool {
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

pub(super) fn compare_ord(o: std::cmp::Ordering, op: Op) -> bool {
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
pub(super) fn is_json_number(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    !b.is_empty()
        && b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
}

pub(super) fn collect_highlights(
    n: &Node,
    negated: bool,
    text: &str,
    out: &mut Vec<(usize, usize)>,
) {
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
