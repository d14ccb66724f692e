//! The recording reader (`roomtap open FILE`, `roomtap tail open FILE`) on
//! arbitrary bytes: a file reads or is an error; what it reads names only
//! the sources its header declares, survives writing and reading again
//! unchanged, and replays into a store (as `open` does) without a panic.

use roomtap::record::read_from;
use roomtap::store::{Store, StoreConfig};

pub fn run(data: &[u8]) {
    let Ok(rec) = read_from(data, "fuzz") else {
        return;
    };
    let n = rec.header.sources.len();
    let mut store = Store::new(&StoreConfig {
        max_log_entries: 64,
        max_bytes: 1 << 20,
        max_actions: 16,
    });
    for s in &rec.header.sources {
        store.add_source(&s.label, roomtap::protocols::kind_named(&s.kind), &s.url);
    }
    let mut again = serde_json::to_string(&rec.header).expect("header serializes");
    again.push('\n');
    for ev in &rec.events {
        assert!(usize::from(ev.source) < n, "event for an undeclared source");
        again.push_str(&serde_json::to_string(ev).expect("event serializes"));
        again.push('\n');
    }
    let back = read_from(again.as_bytes(), "again").expect("a written recording reads");
    assert_eq!(back.header, rec.header, "header round trip");
    assert_eq!(back.events, rec.events, "events round trip");
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    for ev in rec.events {
        store.apply(ev);
    }
}
