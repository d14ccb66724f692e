//! Ingest and render benchmarks.
//!
//! `cargo bench --bench store` prints, per benchmark, the time per message
//! or frame and the throughput (elements/s). Targets (issue #2): ingest of
//! 1.2 KB ACTION frames ≥ 500 k msgs/s on one core; a 200×50 frame with 1 M
//! stored entries ≤ 1 ms.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use roomtap::app::App;
use roomtap::event::{EventKind, Level, LogRecord, SourceEvent};
use roomtap::protocols::redux::wire::codec::{self, Frame};
use roomtap::store::{Store, StoreConfig};
use roomtap::ui::theme::Theme;
use serde_json::json;

/// A `#publish` frame carrying an ACTION shaped like the captured ones,
/// with a stringified state of about 1 KB.
fn action_frame(i: u64) -> String {
    let todos: Vec<_> = (0..12)
        .map(|t| json!({"text": format!("todo number {t} for run {i}"), "done": t % 3 == 0}))
        .collect();
    let state = json!({
        "count": i,
        "todos": todos,
        "meta": {"a": {"note": "same object referenced twice"}, "b": {"note": "same object referenced twice"}, "created": "1970-01-01T00:00:00.000Z"}
    });
    let action = json!({"type": "PERFORM_ACTION", "action": {"type": "INCREMENT", "by": 1}, "timestamp": 1795343079289u64 + i});
    // Field order as captured from @redux-devtools/remote and the relay.
    let q = |s: String| serde_json::to_string(&s).unwrap();
    format!(
        r##"{{"event":"#publish","data":{{"channel":"log","data":{{"type":"ACTION","id":"Up_24t8RyzhUb1e8AAAB","name":"counter","instanceId":"138uihzddk2","payload":{},"action":{},"isExcess":false,"nextActionId":{}}}}}}}"##,
        q(state.to_string()),
        q(action.to_string()),
        i + 1
    )
}

fn decode(frame: &str) -> SourceEvent {
    let Ok(Frame::Publish { data, decoded, .. }) = codec::decode_frame(frame) else {
        panic!("not a publish")
    };
    let ev = match decoded {
        Some(ev) => ev,
        None => codec::decode_app_message(data).unwrap(),
    };
    SourceEvent {
        source: 0,
        at_ms: 0,
        kind: EventKind::Redux(ev),
    }
}

fn ingest(c: &mut Criterion) {
    let frames: Vec<String> = (1..=10_000).map(action_frame).collect();
    let avg = frames.iter().map(String::len).sum::<usize>() / frames.len();
    eprintln!("ingest: average frame {avg} bytes");
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("decode+apply 10k ACTION frames", |b| {
        b.iter_batched(
            || {
                let mut s = Store::new(&StoreConfig::default());
                s.add_source("relay", roomtap::protocols::redux::CLIENT, "ws://x");
                s
            },
            |mut store| {
                for f in &frames {
                    store.apply(decode(f));
                }
                store
            },
            BatchSize::LargeInput,
        )
    });
    // Steady state of a long session: the store is full (200k log lines,
    // 10k actions), so every frame also evicts the oldest entries. Each
    // frame lands in a receive buffer first, as it does off a socket.
    g.bench_function("steady: receive+decode+apply into a full store", |b| {
        let mut store = Store::new(&StoreConfig::default());
        store.add_source("relay", roomtap::protocols::redux::CLIENT, "ws://x");
        let mut next = 1u64;
        let template = action_frame(0);
        let cut = template.rfind("\"nextActionId\":").unwrap() + "\"nextActionId\":".len();
        let (head, tail) = (&template[..cut], "}}}");
        let batch = |n: u64, next: &mut u64| -> Vec<String> {
            (0..n)
                .map(|_| {
                    *next += 1;
                    format!("{head}{}{tail}", *next)
                })
                .collect()
        };
        for _ in 0..20 {
            for f in batch(10_000, &mut next) {
                store.apply(decode(&f));
            }
        }
        assert_eq!(store.logs.len(), 200_000);
        let mut buf = String::with_capacity(4096);
        b.iter_custom(|iters| {
            let mut spent = std::time::Duration::ZERO;
            for _ in 0..iters {
                let frames = batch(10_000, &mut next);
                let t = std::time::Instant::now();
                for f in &frames {
                    buf.clear();
                    buf.push_str(f);
                    store.apply(decode(&buf));
                }
                spent += t.elapsed();
            }
            spent
        })
    });
    let events: Vec<SourceEvent> = frames.iter().map(|f| decode(f)).collect();
    g.bench_function("apply only 10k ACTION events", |b| {
        b.iter_batched(
            || {
                let mut s = Store::new(&StoreConfig::default());
                s.add_source("relay", roomtap::protocols::redux::CLIENT, "ws://x");
                (s, events.clone())
            },
            |(mut store, evs)| {
                for e in evs {
                    store.apply(e);
                }
                store
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("decode only 10k ACTION frames", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(decode(f));
            }
        })
    });
    g.finish();
}

fn render(c: &mut Criterion) {
    let cfg = StoreConfig {
        max_log_entries: 1_000_000,
        max_bytes: usize::MAX,
        max_actions: 10_000,
        compact: true,
        keep_raw: 0,
    };
    let mut app = App::new(&cfg, Theme::builtin("dark").unwrap());
    app.store
        .add_source("relay", roomtap::protocols::redux::CLIENT, "ws://x");
    for f in (1..=10_000).map(action_frame) {
        app.apply(decode(&f));
    }
    for i in 0..1_000_000u64 {
        app.apply(SourceEvent {
            source: 0,
            at_ms: i,
            kind: EventKind::Log(LogRecord {
                level: Level::Info,
                kind: "log".into(),
                summary: format!("entry {i} with some text to fill the line like a real one"),
                data: None,
                bytes: None,
            }),
        });
    }
    assert_eq!(app.store.logs.len(), 1_000_000);
    app.after_events();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 50)).unwrap();
    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Elements(1));
    g.bench_function("200x50 frame, 1M log entries, 10k actions", |b| {
        b.iter(|| {
            app.prepare();
            term.draw(|f| app.draw(f)).unwrap();
        })
    });
    app.store.logs.set_filter(Some("entry 99")).unwrap();
    g.bench_function("200x50 frame, 1M log entries, filtered view", |b| {
        b.iter(|| {
            app.prepare();
            term.draw(|f| app.draw(f)).unwrap();
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = ingest, render
}
criterion_main!(benches);
