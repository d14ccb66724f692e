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

mod ast;
mod eval;
mod lex;
mod needs;
mod parse;
pub mod path;

use std::fmt;

pub use ast::{Field, Matcher, Node, Op, Value};
pub use needs::{EntryText, Needs};

use crate::event::Level;

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

#[derive(Debug, Clone)]
pub struct Query {
    pub root: Node,
    pub case_sensitive: bool,
    /// The text as typed.
    pub source: String,
}

impl Query {
    pub fn parse(text: &str, case_sensitive: bool) -> Result<Query, ParseError> {
        parse::parse(text, case_sensitive).map_err(|mut e| {
            e.pos = e.pos.min(text.len());
            while !text.is_char_boundary(e.pos) {
                e.pos -= 1;
            }
            e.column = text[..e.pos].chars().count() + 1;
            e
        })
    }

    pub fn matches(&self, r: &dyn Record) -> bool {
        eval::eval(&self.root, r)
    }

    /// What an entry must have for this query to keep it, tested on its
    /// text before it is parsed (see [`Needs`]); `labels` are the
    /// sources' labels.
    pub fn needs(&self, labels: &[&str]) -> Needs {
        Needs::of(&self.root, labels)
    }

    /// Byte ranges of `text` that the query's positive text terms match
    /// (for highlighting), sorted and merged.
    pub fn highlights(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        eval::collect_highlights(&self.root, false, text, &mut out);
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

fn err<T>(pos: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        pos,
        column: 0,
        message: message.into(),
    })
}

#[cfg(test)]
mod tests;
