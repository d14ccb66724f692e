//! What an entry must have for a query to keep it, tested on an entry's
//! text before it is parsed: a necessary condition, never a sufficient
//! one. `tail --filter Q open FILE` tests each recorded line with it and
//! parses only the lines that pass, so a query that keeps few lines reads
//! a large file at the speed of a scan.
//!
//! Soundness: every part is implied by the query. A text term or a `~` /
//! `=` on the kind, the summary or the data implies that its regex matches
//! the field's text, which is a substring of the line once its JSON string
//! escapes are undone (twice for the data, which a recording holds as a
//! JSON string of JSON). What cannot be decided from the text (numbers
//! compared, a source's label, anything under `not`, a regex anchored to
//! the start or end of its field) is [`Needs::Any`].

use regex::Regex;

use super::ast::{Field, Matcher, Node, Op, Value};
use crate::event::Level;

#[derive(Debug, Clone)]
pub enum Needs {
    /// Anything may match.
    Any,
    /// The regex matches the text (once or twice unescaped).
    Text(Regex),
    /// The entry's level compares so.
    Level(Op, Level),
    All(Vec<Needs>),
    OneOf(Vec<Needs>),
}

impl Needs {
    /// What `root` needs; `labels` are the sources' labels (a text term
    /// that matches one may match an entry through its source, which the
    /// line does not hold).
    pub fn of(root: &Node, labels: &[&str]) -> Needs {
        let n = needs(root, labels);
        simplify(n)
    }

    /// Nothing can be ruled out.
    pub fn is_any(&self) -> bool {
        matches!(self, Needs::Any)
    }

    /// Whether an entry at `level` is ruled out by its level alone,
    /// whatever its text.
    pub fn level_rules_out(&self, level: Level) -> bool {
        match self {
            Needs::Level(op, want) => !super::eval::compare_ord(level.cmp(want), *op),
            Needs::All(v) => v.iter().any(|n| n.level_rules_out(level)),
            Needs::OneOf(v) => v.iter().all(|n| n.level_rules_out(level)),
            Needs::Any | Needs::Text(_) => false,
        }
    }

    /// Whether an entry whose JSON text is `text`, at `level`, may match.
    pub fn holds(&self, text: &EntryText<'_>, level: Level) -> bool {
        match self {
            Needs::Any => true,
            // Text the panes show otherwise (a control character, a
            // bidi mark: the store keeps its replacement) is left to the
            // full test.
            Needs::Text(re) => {
                text.shown_differently()
                    || re.is_match(text.once())
                    || text.twice().is_some_and(|t| re.is_match(t))
            }
            Needs::Level(op, want) => super::eval::compare_ord(level.cmp(want), *op),
            Needs::All(v) => v.iter().all(|n| n.holds(text, level)),
            Needs::OneOf(v) => v.iter().any(|n| n.holds(text, level)),
        }
    }
}

/// An entry's JSON text, its string escapes undone once and twice when a
/// test first asks (a line the level rules out is never unescaped).
pub struct EntryText<'a> {
    raw: &'a str,
    once: std::cell::OnceCell<std::borrow::Cow<'a, str>>,
    twice: std::cell::OnceCell<Option<String>>,
    differs: std::cell::OnceCell<bool>,
}

impl<'a> EntryText<'a> {
    pub fn new(raw: &'a str) -> EntryText<'a> {
        EntryText {
            raw,
            once: std::cell::OnceCell::new(),
            twice: std::cell::OnceCell::new(),
            differs: std::cell::OnceCell::new(),
        }
    }

    /// Whether the text holds what the panes show otherwise
    /// (`crate::text::sanitize` replaces it).
    pub fn shown_differently(&self) -> bool {
        *self.differs.get_or_init(|| {
            matches!(
                crate::text::sanitize(self.once()),
                std::borrow::Cow::Owned(_)
            )
        })
    }

    /// The text with its JSON string escapes undone.
    pub fn once(&self) -> &str {
        self.once.get_or_init(|| {
            if self.raw.contains('\\') {
                std::borrow::Cow::Owned(super::path::unescape_all(self.raw))
            } else {
                std::borrow::Cow::Borrowed(self.raw)
            }
        })
    }

    /// Undone again, when anything was left to undo.
    pub fn twice(&self) -> Option<&str> {
        self.twice
            .get_or_init(|| {
                let once = self.once();
                once.contains('\\').then(|| super::path::unescape_all(once))
            })
            .as_deref()
    }
}

const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// A regex that matches inside a field's text also matches inside the
/// line, unless it is anchored to the field's start or end.
fn text(m: &Matcher) -> Needs {
    let p = m.re.as_str();
    if p.contains('^') || p.contains('$') || p.contains("\\A") || p.contains("\\z") {
        Needs::Any
    } else {
        Needs::Text(m.re.clone())
    }
}

fn needs(n: &Node, labels: &[&str]) -> Needs {
    match n {
        Node::And(v) => Needs::All(v.iter().map(|c| needs(c, labels)).collect()),
        Node::Or(v) => Needs::OneOf(v.iter().map(|c| needs(c, labels)).collect()),
        Node::Not(_) => Needs::Any,
        Node::Text(m) => {
            // The source's label and the level's name are not in the line.
            if labels.iter().chain(LEVELS.iter()).any(|l| m.re.is_match(l)) {
                Needs::Any
            } else {
                text(m)
            }
        }
        Node::Pred { field, op, value } => match (field, op, value) {
            (Field::Level, op, Value::Level(l)) => Needs::Level(*op, *l),
            (Field::Kind | Field::Summary | Field::Data(_), Op::Has | Op::Eq, Value::Text(m)) => {
                text(m)
            }
            (Field::Kind | Field::Summary | Field::Data(_), Op::Has, Value::Number(_, m)) => {
                text(m)
            }
            _ => Needs::Any,
        },
    }
}

/// `All` without its `Any`s, levels first (the cheapest test); `OneOf`
/// with an `Any` is `Any`.
fn simplify(n: Needs) -> Needs {
    match n {
        Needs::All(v) => {
            let mut v: Vec<Needs> = v
                .into_iter()
                .map(simplify)
                .filter(|n| !n.is_any())
                .collect();
            v.sort_by_key(|n| !matches!(n, Needs::Level(..)));
            match v.len() {
                0 => Needs::Any,
                1 => v.pop().unwrap_or(Needs::Any),
                _ => Needs::All(v),
            }
        }
        Needs::OneOf(v) => {
            let v: Vec<Needs> = v.into_iter().map(simplify).collect();
            if v.iter().any(Needs::is_any) || v.is_empty() {
                Needs::Any
            } else {
                Needs::OneOf(v)
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Query;

    fn needs(q: &str) -> Needs {
        Query::parse(q, false).unwrap().needs(&["room", "relay"])
    }

    #[test]
    fn what_a_query_needs_of_a_line() {
        let n = needs("level>=warn and data.msg~/time.?out/");
        let line =
            r#"{"kind":{"Log":{"level":"Warn","summary":"x","data":"{\"msg\":\"time-out\"}"}}}"#;
        assert!(n.holds(&EntryText::new(line), Level::Warn));
        assert!(
            !n.holds(&EntryText::new(line), Level::Info),
            "the level rules it out"
        );
        assert!(!n.holds(&EntryText::new("nothing here"), Level::Error));
        // A word that names a source or a level cannot be ruled out.
        assert!(needs("room").is_any());
        assert!(needs("warn").is_any());
        assert!(!needs("indexer").is_any());
        // Under `not`, compared numbers, anchored regexes: anything.
        assert!(needs("not indexer").is_any());
        assert!(needs("data.took_ms>100").is_any());
        assert!(needs("kind~/^agent/").is_any());
        assert!(needs("indexer or data.took_ms>100").is_any());
        assert!(!needs("indexer or timeout").is_any());
    }

    #[test]
    fn a_level_alone_can_rule_an_entry_out() {
        let n = needs("level>=warn and timeout");
        assert!(n.level_rules_out(Level::Info));
        assert!(!n.level_rules_out(Level::Warn), "its text decides");
        let n = needs("level=debug or timeout");
        assert!(!n.level_rules_out(Level::Info), "the text may match");
        let n = needs("level=debug or level=error");
        assert!(n.level_rules_out(Level::Info));
        assert!(!needs("timeout").level_rules_out(Level::Trace));
    }

    #[test]
    fn the_datas_own_strings_are_matched_unescaped_twice() {
        // `data.msg="say \"hi\""`: in the line the quotes are escaped twice.
        let n = needs(r#"data.msg~"say \"hi\"""#);
        let line = r#"{"data":"{\"msg\":\"say \\\"hi\\\"\"}"}"#;
        let t = EntryText::new(line);
        assert!(!n.holds(&EntryText::new("say \\\"hi"), Level::Info));
        assert!(n.holds(&t, Level::Info));
        assert!(t.twice().is_some_and(|x| x.contains("say \"hi\"")));
    }
}
