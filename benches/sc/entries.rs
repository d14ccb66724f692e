//! The log entries the `filter` and `recordings` benches use (each
//! includes this with `#[path = "sc/entries.rs"] mod entries;`): ~200 B of
//! JSON data each, a tenth at WARN and a tenth at ERROR, some of whose
//! messages say time-out; the query the benches ask, and the same question
//! for grep on the entries as plain JSON Lines.

#![allow(dead_code)]

use roomtap::event::{EventKind, Level, LogRecord, SourceEvent};

pub const QUERY: &str = "level>=warn and data.msg~/time.?out/";
/// The same question for grep (and ripgrep, lnav), on [`plain_line`]s.
pub const GREP: &str =
    r#""level":"(WARN|ERROR)".*"data":\{"msg":"[^"]*[Tt][Ii][Mm][Ee].?[Oo][Uu][Tt]"#;

/// Entry `i`: its level, kind, summary and data.
pub fn entry(i: usize) -> (Level, &'static str, String, String) {
    let level = match i % 10 {
        0..=5 => Level::Info,
        6 | 7 => Level::Debug,
        8 => Level::Warn,
        _ => Level::Error,
    };
    let kind = ["indexer", "assistant", "otel.log", "agent.turn"][i % 4];
    let msg = match i % 7 {
        0 => "upstream request timed out after 5000 ms",
        1 => "embedding timeout, retrying",
        2 => "cache stats collected for the shard",
        3 => "connection reset by peer while reading",
        4 => "turn completed with tool calls",
        5 => "indexed a batch of documents",
        _ => "Time-Out waiting for the queue lease",
    };
    let data = format!(
        r#"{{"msg":"{msg}","user":{{"id":{},"name":"user-{}"}},"attempt":{},"path":"/api/v1/rooms/demo/items/{}","took_ms":{},"trace_id":"{:032x}","region":"eu-west-1"}}"#,
        i % 5000,
        i % 97,
        i % 4,
        i,
        (i * 37) % 9000,
        (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    );
    let summary = format!("{msg} attempt={}", i % 4);
    (level, kind, summary, data)
}

/// Entry `i` as source 0's event.
pub fn record(i: usize) -> SourceEvent {
    let (level, kind, summary, data) = entry(i);
    SourceEvent {
        source: 0,
        at_ms: 1_795_000_000_000 + i as u64,
        kind: EventKind::Log(LogRecord {
            level,
            kind: kind.into(),
            summary,
            data: Some(data),
            bytes: None,
        }),
    }
}

/// Entry `i` as a plain JSON line (what grep, ripgrep and lnav read).
pub fn plain_line(i: usize) -> String {
    let (level, kind, summary, data) = entry(i);
    format!(
        r#"{{"level":"{}","kind":"{kind}","summary":"{summary}","data":{data}}}"#,
        level.label()
    )
}
