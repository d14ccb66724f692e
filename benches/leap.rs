//! Leap ingest benchmarks (issue #13): frames decoded, mapped to events
//! and applied to the store, one core, as the Leap source does it
//! (`codec::decode_bytes` → `events::on_dispatch` → `Store::apply`).
//!
//! `cargo bench --bench leap`. Targets: MESSAGE text frames ≥ 500 k msgs/s,
//! zlib frames ≥ 200 k msgs/s, STATE_UPDATE with a 1 KB state and its diff
//! ≥ 100 k updates/s.

use std::collections::HashMap;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use roomtap::event::{EventKind, SourceEvent};
use roomtap::protocols::leap::client::events;
use roomtap::protocols::leap::wire::codec;
use roomtap::store::{Store, StoreConfig};
use serde_json::json;

/// As the binary runs (`src/main.rs`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: usize = 10_000;

fn message(i: usize) -> String {
    format!(
        r#"{{"op":0,"d":{{"c":"lobby","u":false,"e":"MESSAGE","d":{{"e":"chat","d":{{"user":"player-{}","text":"message number {i} from the lobby","seq":{i}}}}}}}}}"#,
        i % 64
    )
}

/// A STATE_UPDATE with a state of about 1 KB; a few fields change each time.
fn state_update(i: usize) -> String {
    let players: Vec<_> = (0..12)
        .map(|p| {
            json!({"id": format!("player-{p}"), "name": format!("Player Number {p}"),
                   "score": (i * 7 + p) % 50, "ready": (i + p).is_multiple_of(3)})
        })
        .collect();
    let state = json!({
        "round": i / 10,
        "leader": format!("player-{}", i % 12),
        "players": players,
        "settings": {"mode": "ranked", "map": "harbour", "maxPlayers": 12, "timeLimit": 600},
    });
    format!(r#"{{"op":0,"d":{{"c":"game","u":false,"e":"STATE_UPDATE","d":{{"state":{state}}}}}}}"#)
}

fn store() -> Store {
    let mut s = Store::new(&StoreConfig::default());
    s.add_source("leap", roomtap::protocols::leap::CLIENT, "ws://x/ws");
    s
}

fn ingest(store: &mut Store, bytes: &[u8], binary: bool, pipes: &mut HashMap<String, String>) {
    let Ok(codec::Frame::Dispatch(d)) = codec::decode_bytes(bytes, binary) else {
        panic!("not a dispatch")
    };
    let out = events::on_dispatch(&d, pipes);
    for kind in out.events {
        store.apply(SourceEvent {
            source: 0,
            at_ms: 1,
            kind,
        });
    }
    if let Some((channel, bytes)) = out.traffic {
        store.apply(SourceEvent {
            source: 0,
            at_ms: 1,
            kind: EventKind::Channel {
                channel,
                change: roomtap::event::ChannelChange::Messages {
                    count: 1,
                    bytes: bytes as u64,
                },
            },
        });
    }
}

fn leap(c: &mut Criterion) {
    let text: Vec<Vec<u8>> = (0..N).map(|i| message(i).into_bytes()).collect();
    let zlib: Vec<Vec<u8>> = (0..N).map(|i| codec::deflate(&message(i))).collect();
    let states: Vec<Vec<u8>> = (0..N).map(|i| state_update(i).into_bytes()).collect();
    eprintln!(
        "leap: MESSAGE {} B text, {} B zlib; STATE_UPDATE {} B",
        text[0].len(),
        zlib[0].len(),
        states[0].len()
    );
    let mut g = c.benchmark_group("leap");
    g.throughput(Throughput::Elements(N as u64));
    for (name, frames, binary) in [
        ("MESSAGE text: decode+map+apply", &text, false),
        ("MESSAGE zlib: inflate+decode+map+apply", &zlib, true),
        ("STATE_UPDATE 1 KB: decode+map+apply+diff", &states, false),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                store,
                |mut s| {
                    let mut pipes = HashMap::new();
                    for f in frames.iter() {
                        ingest(&mut s, f, binary, &mut pipes);
                    }
                    s
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
    // The history really holds diffs (not a benchmark).
    let mut s = store();
    let mut pipes = HashMap::new();
    for f in states.iter().take(300) {
        ingest(&mut s, f, false, &mut pipes);
    }
    let live = s.sources[0].channels["game"].live.as_ref().unwrap();
    assert_eq!(live.updates, 300);
    assert!(live.history.iter().skip(1).all(|c| c.changed > 0));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = leap
}
criterion_main!(benches);
