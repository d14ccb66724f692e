//! Filtering benchmark (issue #5): 1 M log entries with ~200 B of JSON
//! data each, filtered with a field predicate plus a regex, against
//! `grep -c` on the same entries as a JSON Lines file, in the same run.
//!
//! `cargo bench --bench filter` prints medians of 7 runs and the ratio.
//! Targets: the filter ≤ 50 ms; within 2× of grep; plus ingest with an
//! active filter (msgs/s) and a render of the filtered view.

use std::io::Write;
use std::time::{Duration, Instant};

use roomtap::app::App;
use roomtap::event::SourceEvent;
use roomtap::query::Query;
use roomtap::store::StoreConfig;
use roomtap::ui::theme::Theme;

#[path = "sc/entries.rs"]
mod entries;

use entries::{GREP, QUERY, entry, record};

const N: usize = 1_000_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A query with no level in it: every sealed frame is unpacked.
const TEXT_ONLY: &str = "data.msg~/time.?out/";

/// An app with a room source that keeps `N` entries, older ones sealed
/// compact or not.
fn empty(compact: bool) -> App {
    let cfg = StoreConfig {
        max_log_entries: N,
        max_bytes: usize::MAX,
        compact,
        ..Default::default()
    };
    let mut app = App::new(&cfg, Theme::builtin("dark").unwrap());
    app.store.add_source(
        "room",
        roomtap::protocols::room::CLIENT,
        "ws://127.0.0.1/rooms/demo",
    );
    app
}

/// An app holding the `N` entries, older ones sealed compact or not.
fn filled(compact: bool) -> App {
    let mut app = empty(compact);
    for i in 0..N {
        app.apply(record(i));
    }
    app
}

/// The median of 7 full rescans with `q`, and what it matched.
fn rescan(app: &mut App, q: &Query) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..7 {
        app.store.logs.set_query(None);
        let t = Instant::now();
        app.store.logs.set_query(Some(q.clone()));
        times.push(t.elapsed());
        count = app.store.logs.view_len();
    }
    app.store.logs.set_query(None);
    (median(times), count)
}

/// Entries per second applied with `q` active (each tested on arrival).
fn ingest(compact: bool, q: &Query) -> f64 {
    let mut fresh = empty(compact);
    fresh.store.logs.set_query(Some(q.clone()));
    let events: Vec<SourceEvent> = (0..200_000).map(record).collect();
    let t = Instant::now();
    for e in events {
        fresh.apply(e);
    }
    200_000.0 / t.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let mut app = filled(true);
    let bytes: usize = (0..N).map(|i| entry(i).3.len()).sum();
    eprintln!(
        "filter: {N} entries, {:.0} B of JSON data each on average",
        bytes as f64 / N as f64
    );

    // The JSON Lines file grep reads: the same entries.
    let dir = std::env::temp_dir().join(format!("roomtap-filter-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("entries.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for i in 0..N {
            writeln!(f, "{}", entries::plain_line(i)).unwrap();
        }
    }
    let file_mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;

    let q = Query::parse(QUERY, false).unwrap();
    let text_only = Query::parse(TEXT_ONLY, false).unwrap();
    let (ours, count) = rescan(&mut app, &q);
    let (ours_text, count_text) = rescan(&mut app, &text_only);
    let mut grep = Vec::new();
    let mut grep_count = 0;
    for _ in 0..7 {
        let t = Instant::now();
        let out = std::process::Command::new("grep")
            .args(["-c", "-E", GREP])
            .arg(&path)
            .env("LC_ALL", "C")
            .output()
            .expect("grep runs");
        grep.push(t.elapsed());
        grep_count = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
    }
    assert_eq!(
        count, grep_count,
        "roomtap and grep must find the same entries"
    );
    let grep = median(grep);

    // The same entries kept whole (no sealing): what sealing costs.
    let held = app.store.logs.bytes();
    let (whole_q, whole_text, whole_held) = {
        let mut whole = filled(false);
        let a = rescan(&mut whole, &q);
        let b = rescan(&mut whole, &text_only);
        assert_eq!((a.1, b.1), (count, count_text), "sealed and whole agree");
        (a.0, b.0, whole.store.logs.bytes())
    };
    let ingest_rate = ingest(true, &q);
    let ingest_whole = ingest(false, &q);

    // Render the filtered view of 1 M entries.
    app.store.logs.set_query(Some(q.clone()));
    app.after_events();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 50)).unwrap();
    let mut renders = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        app.prepare();
        term.draw(|f| app.draw(f)).unwrap();
        renders.push(t.elapsed());
    }
    let render = median(renders);
    let _ = std::fs::remove_dir_all(&dir);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mb = |b: usize| b as f64 / 1e6;
    println!("query: {QUERY}");
    println!("grep:  grep -c -E '{GREP}' ({file_mb:.0} MB JSON Lines)");
    println!("matches: {count} (grep: {grep_count})");
    println!(
        "filter 1M entries: {:.1} ms (target ≤ 50 ms) | grep -c: {:.1} ms | roomtap/grep time ratio {:.2} (goal ≤ 2)",
        ms(ours),
        ms(grep),
        ours.as_secs_f64() / grep.as_secs_f64()
    );
    println!(
        "filter 1M entries with no level in the query ({TEXT_ONLY}, {count_text} matches): {:.1} ms",
        ms(ours_text)
    );
    println!(
        "the same kept whole (no sealing): {:.1} ms and {:.1} ms; the store holds {:.0} MB sealed, {:.0} MB whole",
        ms(whole_q),
        ms(whole_text),
        mb(held),
        mb(whole_held)
    );
    println!(
        "ingest with the filter active: {:.0} k entries/s ({:.2} µs/entry); kept whole: {:.0} k entries/s",
        ingest_rate / 1000.0,
        1e6 / ingest_rate,
        ingest_whole / 1000.0
    );
    println!(
        "render 200x50, 1M entries, filtered view: {:.2} ms (target ≤ 1 ms)",
        ms(render)
    );
}
