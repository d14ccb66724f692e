//! The query language (the `/` filter and `tail --filter`) on arbitrary
//! text: the first line is the query, the rest the entry it is matched
//! against (its data and summary). A query parses or is an error whose
//! position is a character boundary inside the text and whose column counts
//! characters; a parsed query matches (case-sensitive or not) and
//! highlights without panicking, its highlights are sorted, disjoint,
//! non-empty ranges on character boundaries, and every path it names is
//! found in the data as serde reads it (the first of duplicate keys, as
//! the README says) when the data is JSON; and what `tail --filter`
//! skips before parsing a recorded line is never an entry the query keeps.

use std::borrow::Cow;
use std::fmt;

use roomtap::event::Level;
use roomtap::query::path::{Found, Seg, find, unescape_all};
use roomtap::query::{Field, Node, Query, Record};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

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
                narrowing(&query, &entry);
            }
            Err(e) => {
                assert!(e.pos <= q.len() && q.is_char_boundary(e.pos), "{e:?}");
                assert_eq!(e.column, q[..e.pos].chars().count() + 1, "{e:?}");
                let _ = e.to_string();
            }
        }
    }
}

/// What `tail --filter` skips before parsing (`record::may_keep`, from the
/// query's `needs`) is never an entry the query keeps, as the store makes
/// the entry of the recorded line (its summary sanitized and cut).
fn narrowing(query: &Query, entry: &Entry) {
    use roomtap::event::{EventKind, LogRecord, SourceEvent};
    let Some(level) = entry.level else { return };
    let mut store = roomtap::store::Store::new(&roomtap::store::StoreConfig {
        max_log_entries: 4,
        max_bytes: 1 << 20,
        max_actions: 4,
        compact: true,
        keep_raw: 0,
    });
    store.add_source("room", roomtap::source::SourceKind::RECORDED, "x");
    let ev = SourceEvent {
        source: 0,
        at_ms: 0,
        kind: EventKind::Log(LogRecord {
            level,
            kind: "indexer".into(),
            summary: entry.summary.into(),
            data: Some(entry.data.into()),
            bytes: None,
        }),
    };
    let line = serde_json::to_string(&ev).expect("an event serializes");
    store.apply(ev);
    let logs = &store.logs;
    let Some(e) = logs.by_seq(logs.next_seq() - 1) else {
        return;
    };
    if query.matches(&logs.record(&e)) {
        assert!(
            roomtap::record::may_keep(&query.needs(&["room"]), &line),
            "{:?} keeps an entry its needs rule out: {line}",
            query.source
        );
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
            let got = find(data, segs);
            if let Some(f) = got {
                let _ = (f.text(), f.number());
            }
            if serde_json::from_str::<&RawValue>(data).is_ok() {
                let want = reference(data, segs);
                assert_eq!(
                    got.map(|f| match f {
                        Found::Str(s) => format!("\"{s}\""),
                        Found::Scalar(s) | Found::Container(s) => s.to_string(),
                    }),
                    want.map(|v| v.get().to_string()),
                    "path {segs:?}"
                );
                if let (Some(Found::Str(_)), Some(w)) = (got, want) {
                    let s: String = serde_json::from_str(w.get()).expect("a string");
                    assert_eq!(got.unwrap().text(), s, "path {segs:?} unescaped");
                }
            }
        }
        _ => {}
    }
}

/// The value at `path` as serde reads it: the first of duplicate keys.
fn reference<'a>(json: &'a str, path: &[Seg]) -> Option<&'a RawValue> {
    let mut cur: &'a RawValue = serde_json::from_str(json).ok()?;
    for seg in path {
        cur = match seg {
            Seg::Key(k) => {
                let Pairs(pairs) = serde_json::from_str(cur.get()).ok()?;
                pairs.into_iter().find(|(key, _)| key == k)?.1
            }
            Seg::Index(n) => {
                let items: Vec<&'a RawValue> = serde_json::from_str(cur.get()).ok()?;
                *items.get(*n)?
            }
        };
    }
    Some(cur)
}

/// An object's fields as serde reads them: every pair, in order.
struct Pairs<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Pairs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Pairs<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    out.push((k.into_owned(), m.next_value::<&'de RawValue>()?));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}
