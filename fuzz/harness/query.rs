//! The query language (the `/` filter and `tail --filter`) on arbitrary
//! text: the first line is the query, the rest the entry it is matched
//! against (its data and summary). A query parses or is an error whose
//! position is a character boundary inside the text and whose column counts
//! characters; a parsed query matches (case-sensitive or not) and
//! highlights without panicking, its highlights are sorted, disjoint,
//! non-empty ranges on character boundaries, and every path it names is
//! looked up in the data without panicking.

use roomtap::event::Level;
use roomtap::query::path::{find, unescape_all};
use roomtap::query::{Field, Node, Query, Record};

struct Entry<'a> {
    level: Option<Level>,
    summary: &'a str,
    data: &'a str,
}

impl Record for Entry<'_> {
    fn source(&self) -> &str {
        "room"
    }
    fn kind(&self) -> &str {
        "indexer"
    }
    fn level(&self) -> Option<Level> {
        self.level
    }
    fn summary(&self) -> &str {
        self.summary
    }
    fn data(&self) -> Option<&str> {
        Some(self.data)
    }
}

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (q, rest) = text.split_once('\n').unwrap_or((text, ""));
    let levels = [
        None,
        Some(Level::Trace),
        Some(Level::Debug),
        Some(Level::Info),
        Some(Level::Warn),
        Some(Level::Error),
    ];
    let entry = Entry {
        level: levels[rest.len() % levels.len()],
        summary: rest.lines().next().unwrap_or(""),
        data: rest,
    };
    let _ = unescape_all(rest);
    for cs in [false, true] {
        match Query::parse(q, cs) {
            Ok(query) => {
                let _ = query.matches(&entry);
                for t in [q, rest, entry.summary] {
                    let h = query.highlights(t);
                    let mut last = 0;
                    for &(a, b) in &h {
                        assert!(a < b && (last == 0 || a > last), "highlights {h:?}");
                        assert!(t.get(a..b).is_some(), "highlight {a}..{b} in {t:?}");
                        last = b;
                    }
                }
                paths(&query.root, rest);
            }
            Err(e) => {
                assert!(e.pos <= q.len() && q.is_char_boundary(e.pos), "{e:?}");
                assert_eq!(e.column, q[..e.pos].chars().count() + 1, "{e:?}");
                let _ = e.to_string();
            }
        }
    }
}

fn paths(n: &Node, data: &str) {
    match n {
        Node::And(v) | Node::Or(v) => v.iter().for_each(|c| paths(c, data)),
        Node::Not(c) => paths(c, data),
        Node::Pred {
            field: Field::Data(segs),
            ..
        } => {
            if let Some(f) = find(data, segs) {
                let _ = (f.text(), f.number());
            }
        }
        _ => {}
    }
}
