//! What a parsed query is: a tree of and/or/not over text terms and
//! field predicates.

use regex::Regex;

use super::path::Seg;
use crate::event::Level;

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
    pub(super) re: Regex,
    /// The literal as typed (for `=` on text and numbers).
    pub(super) literal: Option<String>,
    /// Case is ignored.
    pub(super) ci: bool,
    /// The literal lowercased once (case-insensitive `=` on non-ASCII).
    pub(super) lower: Option<String>,
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
