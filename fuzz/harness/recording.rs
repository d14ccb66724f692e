//! The recording reader (`roomtap open FILE`, `roomtap tail open FILE`) on
//! arbitrary bytes: a file reads or is an error; what it reads names only
//! the sources its header declares, survives writing and reading again
//! unchanged, and replays into a store (as `open` does) without a panic.
//! Read whole (`read_from`) and streamed (`Reader`, as `open` reads) it is
//! the same, and each skipped line and stop is said with its line number.
//! An export (its first line an exported entry) reads as `open` reads one;
//! zstd-compressed bytes are decoded as `open` decodes them.

use roomtap::record::{Line, Reader, is_export_line, read_export_from, read_from};
use roomtap::store::{Store, StoreConfig};

pub fn run(data: &[u8]) {
    // A zstd-compressed recording (`.jsonl.zst`) reads as `open` reads
    // one: decoded (its window capped), then as any recording.
    if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let Ok(mut d) = roomtap::record::decoded(std::io::Cursor::new(data.to_vec()), "fuzz")
        else {
            return;
        };
        // At most 1 MiB of it (a frame may say it inflates far more).
        let mut plain = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(&mut d, 1 << 20), &mut plain);
        if !plain.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            run(&plain);
        }
        return;
    }
    // An export (`e`, `tail --json`) is read as `open` reads one, then
    // checked as any recording.
    let first = data.split(|&b| b == b'\n').next().unwrap_or(&[]);
    if is_export_line(first) {
        if let Ok(rec) = read_export_from(data, "fuzz") {
            check(rec);
        }
        return;
    }
    let Ok(rec) = read_from(data, "fuzz") else {
        return;
    };
    let streamed: Vec<Line> = Reader::new(data, "fuzz").expect("reads twice").collect();
    let mut events = rec.events.iter();
    let mut warnings = rec.warnings.iter();
    for line in &streamed {
        match line {
            Line::Event(ev) => assert_eq!(Some(ev), events.next(), "streamed event"),
            Line::Warning(w) => {
                assert_eq!(Some(w), warnings.next(), "streamed warning");
                assert!(w.starts_with("line "), "{w}");
            }
            Line::Stopped(why) => {
                assert_eq!(Some(why), rec.stopped.as_ref(), "streamed stop");
                assert!(why.starts_with("line "), "{why}");
            }
        }
    }
    assert!(events.next().is_none() && warnings.next().is_none());
    assert_eq!(
        rec.stopped.is_some(),
        matches!(streamed.last(), Some(Line::Stopped(_))),
        "a stop is the last thing said"
    );
    check(rec);
}

/// What any recording read must be: it names only the sources its header
/// declares, survives writing and reading again unchanged, and replays
/// into a store.
fn check(rec: roomtap::record::Recording) {
    let n = rec.header.sources.len();
    let mut store = Store::new(&StoreConfig {
        max_log_entries: 64,
        max_bytes: 1 << 20,
        max_actions: 16,
        compact: true,
        keep_raw: 0,
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
    assert!(back.stopped.is_none(), "{:?}", back.stopped);
    for ev in rec.events {
        store.apply(ev);
    }
}
