//! Nothing from the network can crash roomtap: every frame captured from
//! the real packages, mutated thousands of ways (bytes flipped, cut,
//! duplicated, quotes/backslashes/brackets inserted), goes through every
//! decoder, and then over real sockets into roomtap's relay, which must
//! keep serving.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::peers::Harness;
use futures_util::{SinkExt, StreamExt};
use roomtap::protocols::redux::server::RelayConfig;
use roomtap::protocols::redux::wire::codec;
use roomtap::protocols::redux::wire::packet;
use tokio_tungstenite::tungstenite::Message;

fn captured_frames() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures/redux");
    let mut frames = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("captures") {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
                && let Some(f) = v.get("frame").and_then(|f| f.as_str())
                && !f.is_empty()
            {
                frames.push(f.to_string());
            }
        }
    }
    frames.sort();
    frames.dedup();
    assert!(frames.len() > 50, "{} frames", frames.len());
    frames
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four random edits of `frame`.
fn mutate(rng: &mut Rng, frame: &str) -> String {
    const NASTY: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\\u",
        b"\\ud800",
        b"\x1b[2J",
        b"\0",
        b"99999999999999999999999",
        b"-",
        b"null",
        b"\xff",
    ];
    let mut b = frame.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(5) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 => b.truncate(at),
            2 => {
                let s = NASTY[rng.below(NASTY.len())];
                b.splice(at..at, s.iter().copied());
            }
            3 if !b.is_empty() => {
                let end = (at + rng.below(64)).min(b.len());
                let chunk: Vec<u8> = b[at.min(end)..end].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {
                let end = (at + rng.below(16)).min(b.len());
                b.drain(at.min(end)..end);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_frames_never_panic_a_decoder() {
    let frames = captured_frames();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0u64;
    for round in 0..40 {
        for f in &frames {
            let m = if round == 0 {
                f.clone()
            } else {
                mutate(&mut rng, f)
            };
            // Monitor side.
            if let Ok(codec::Frame::Publish { data, .. }) = codec::decode_frame(&m) {
                let _ = codec::decode_app_message(data);
                let _ = codec::decode_app_message_full(data);
                decoded += 1;
            }
            let _ = codec::decode_lifted_state(&m);
            // Relay side.
            if let Ok(packets) = packet::decode(&m) {
                for p in packets {
                    if let packet::Packet::Event { data: Some(d), .. } = p {
                        let _ = packet::app_facts(d);
                        let _ = packet::command_facts(d);
                    }
                }
            }
        }
    }
    assert!(decoded > 100, "the mutations left some frames decodable");
}

#[test]
fn mutated_monitor_commands_never_panic_a_demo_app() {
    use roomtap::protocols::redux::demo::instrument::Instrument;
    use roomtap::protocols::redux::demo::remote::RemoteApp;
    let frames = captured_frames();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut app = RemoteApp::new(
        Instrument::new(roomtap::protocols::redux::demo::shop_reducer, Some(5), 0),
        "shop",
        "fuzz",
    );
    let mut obeyed = 0;
    let mut srng = fastrand::Rng::with_seed(3);
    for round in 0..40u64 {
        for f in &frames {
            let m = if round == 0 {
                f.clone()
            } else {
                mutate(&mut rng, f)
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&m) else {
                continue;
            };
            let msg = &v["data"]["data"];
            if msg.is_object() || msg.is_string() {
                app.on_message(msg, round);
                obeyed += 1;
            }
            let _ = app.dispatch(
                roomtap::protocols::redux::demo::shop_script(&mut srng, round),
                round,
            );
        }
    }
    // Hostile numbers straight from a "monitor".
    for cmd in [
        r#"{"type":"DISPATCH","action":{"type":"SET_ACTIONS_ACTIVE","start":0,"end":18446744073709551615,"active":false}}"#,
        r#"{"type":"DISPATCH","action":{"type":"JUMP_TO_STATE","index":18446744073709551615}}"#,
        r#"{"type":"DISPATCH","action":{"type":"REORDER_ACTION","actionId":1,"beforeActionId":18446744073709551615}}"#,
        r#"{"type":"IMPORT","state":"{\"stagedActionIds\":[],\"actionsById\":{}}"}"#,
        r#"{"type":"IMPORT","state":"{\"stagedActionIds\":[0,7],\"actionsById\":{\"0\":{},\"7\":{}},\"currentStateIndex\":99}"}"#,
    ] {
        app.on_message(&serde_json::from_str(cmd).unwrap(), 1);
    }
    assert!(obeyed > 100);
    assert!(app.store.current < app.store.staged.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_survives_mutated_frames_and_keeps_serving() {
    let mut h = Harness::embedded(RelayConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    })
    .await;
    let url = format!("ws://127.0.0.1:{}/socketcluster/", h.port());
    let frames = captured_frames();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    // Several connections, each: a real handshake (so the session gets
    // past the strict first packet), then a burst of mutated frames.
    for conn in 0..8 {
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("the relay still accepts connections");
        ws.send(Message::text(codec::encode_handshake(1)))
            .await
            .unwrap();
        for _ in 0..300 {
            let f = &frames[rng.below(frames.len())];
            if ws.send(Message::text(mutate(&mut rng, f))).await.is_err() {
                break; // the relay may close a socket that misbehaves
            }
        }
        let _ = ws.close(None).await;
        // Drain until the relay closes it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, ws.next()).await {}
        let _ = conn;
    }
    // Still serving: a well-behaved client gets its handshake answered and
    // the in-process monitor is still connected.
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("still accepting");
    ws.send(Message::text(codec::encode_handshake(1)))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.starts_with(r#"{"rid":1"#) => break,
            Ok(Some(Ok(_))) => {}
            other => panic!("no handshake reply after the storm: {other:?}"),
        }
    }
    h.until("malformed frames are visible entries", 20, |a| {
        a.store.sources[0].malformed > 0
    })
    .await;
}
