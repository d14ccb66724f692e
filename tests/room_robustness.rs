//! Bad input on the MeshAgent room protocol, both ways: a hostile room
//! sends roomtap's room source truncated, out-of-order, lying and text
//! frames (each becomes a visible error entry, the connection goes on and
//! later good messages still arrive); a hostile client sends the same to
//! roomtap's room server (it keeps serving everyone else). Plus mutated
//! captured frames through the decoder (deterministic, bounded).

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roomtap::event::{ConnState, EventKind};
use roomtap::protocols::room::client::RoomConfig;
use roomtap::protocols::room::server::{RoomServer, RoomServerConfig};
use roomtap::protocols::room::wire::codec::{self, Assembler, Content, encode, pack, unpack};
use roomtap::protocols::room::wire::logs;
use roomtap::protocols::room::wire::token::{Secret, participant_token};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use common::peers::{Harness, has_log};

fn msg(id: u64, kind: &str, head: Value, payload: &[u8]) -> Vec<Message> {
    encode(id, kind, &pack(&head.to_string(), payload))
        .into_iter()
        .map(|p| Message::Binary(p.into()))
        .collect()
}

fn raw(id: u64, n: u32, body: &[u8]) -> Message {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(body);
    Message::Binary(v.into())
}

/// A room that completes the handshake, then sends garbage between good
/// developer log pushes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_room_becomes_error_entries_and_the_link_survives() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/rooms/evil", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let mut out = Vec::new();
        out.extend(msg(
            1,
            "room_ready",
            json!({"room_name": "evil", "session_id": "s1"}),
            &[],
        ));
        out.extend(msg(
            2,
            "connected",
            json!({"type": "init", "participantId": "p1"}),
            &[],
        ));
        out.extend(msg(
            3,
            "developer.log",
            json!({"type": "good.first", "data": {"n": 1}}),
            &[],
        ));
        // A data packet with no message started.
        out.push(raw(9, 1, b"orphan"));
        // Truncated packet (shorter than its header). Data packets after an
        // error are skipped until the next header, as the SDKs resync.
        out.push(Message::Binary(vec![0, 0, 1].into()));
        // A header announcing 3 packets, then packet 2 (out of order).
        let mut h = 10u64.to_be_bytes().to_vec();
        h.extend_from_slice(&0u32.to_be_bytes());
        h.extend_from_slice(&3u32.to_be_bytes());
        h.extend_from_slice(b"developer.log");
        out.push(Message::Binary(h.into()));
        out.push(raw(10, 2, b"xx"));
        // A packed message that declares 2^40 bytes of JSON.
        let mut lie = (1u64 << 40).to_be_bytes().to_vec();
        lie.extend_from_slice(b"{}");
        out.extend(
            encode(11, "developer.log", &lie)
                .into_iter()
                .map(|p| Message::Binary(p.into())),
        );
        // Non-object JSON, a text frame, a stream chunk with no type.
        out.extend(
            encode(12, "developer.log", &pack("[1,2]", &[]))
                .into_iter()
                .map(|p| Message::Binary(p.into())),
        );
        out.push(Message::Text("hello?".into()));
        out.extend(msg(
            13,
            "developer.log",
            json!({"type": "good.second", "data": {"n": 2}}),
            &[],
        ));
        for m in out {
            ws.send(m).await.unwrap();
        }
        // Keep the socket open while the test reads.
        let _ = tokio::time::timeout(Duration::from_secs(30), ws.next()).await;
    });
    let mut cfg = RoomConfig::new(&url, Some(Secret::new("t")));
    cfg.watch = false;
    let mut h = Harness::room(cfg);
    h.until("the good message after the garbage", 15, |a| {
        has_log(a, "good.second", "2")
    })
    .await;
    assert!(has_log(&h.app, "good.first", "1"));
    let src = &h.app.store.sources[0];
    assert!(src.malformed >= 6, "malformed {}", src.malformed);
    assert!(matches!(src.conn.state, ConnState::Connected { .. }));
    let logs = &h.app.store.logs;
    let errors: Vec<String> = (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .filter(|e| e.level == roomtap::event::Level::Error)
        .map(|e| e.summary.to_string())
        .collect();
    let all = errors.join("\n");
    for needle in [
        "shorter than its 12-byte header",
        "with no message started",
        "out of order",
        "declares 1099511627776 bytes",
        "not an object",
        "text frame",
    ] {
        assert!(
            all.contains(needle),
            "no error entry with {needle:?} in:\n{all}"
        );
    }
    server.abort();
}

/// A client sending garbage to roomtap's room server: it is told (error
/// responses where there is a request id), and a well-behaved client in the
/// same room keeps getting its logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_server_survives_a_hostile_client() {
    let srv = RoomServer::start(
        RoomServerConfig {
            secret: Some(Secret::new("k")),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let good = {
        let mut c = RoomConfig::new(
            &srv.url("test"),
            Some(participant_token("k", "good", "test")),
        );
        c.generation = roomtap::protocols::room::client::Generation::Current;
        Harness::room(c)
    };
    let mut good = good;
    good.until("good client watching", 15, |a| {
        common::peers::fact(a, 0, "developer logs").starts_with("on")
    })
    .await;

    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = srv.url("test").into_client_request().unwrap();
    let tok = participant_token("k", "evil", "test");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", tok.expose()).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut bad: Vec<Message> = vec![
        Message::Binary(vec![1, 2, 3].into()),
        raw(5, 1, b"orphan"),
        Message::Text("not binary".into()),
    ];
    // A lying packed message gets an error response with code 1002.
    let mut lie = (1u64 << 40).to_be_bytes().to_vec();
    lie.extend_from_slice(b"{}");
    bad.extend(
        encode(7, "room.invoke_tool", &lie)
            .into_iter()
            .map(|p| Message::Binary(p.into())),
    );
    // A log whose data is not an object is refused (1002), an unknown type is 1003.
    bad.extend(msg(
        8,
        "room.invoke_tool",
        json!({"toolkit": "developer", "tool": "log", "arguments": {"type": "json", "json": {"type": "x", "data": [1]}}}),
        &[],
    ));
    bad.extend(msg(9, "what.is.this", json!({}), &[]));
    for m in bad {
        ws.send(m).await.unwrap();
    }
    let mut codes = std::collections::BTreeMap::new();
    let mut asm = Assembler::new(codec::DEFAULT_MAX_MESSAGE);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while codes.len() < 3 {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                if let Some(m) = asm.push(&b).unwrap()
                    && m.kind == "__response__"
                {
                    let (h, _) = unpack(&m.data).unwrap();
                    codes.insert(m.id, h["code"].as_i64());
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("hostile client lost its link: {other:?}"),
        }
    }
    assert_eq!(codes[&7], Some(1002));
    assert_eq!(codes[&8], Some(1002));
    assert_eq!(codes[&9], Some(1003));
    srv.publish("test", "still.alive", &json!({"ok": true}));
    good.until("the good client still gets logs", 15, |a| {
        has_log(a, "still.alive", "true")
    })
    .await;
}

/// Deterministic mutations of every captured frame (bit flips, cuts,
/// lying counts and lengths, reordering) through the whole decode path.
/// Stands beside the `cargo fuzz` target (fuzz/), which needs nightly.
#[test]
fn mutated_captured_frames_never_panic_the_decoder() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captures/meshagent");
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for f in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for l in text.lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            let h = v["hex"].as_str().unwrap_or("");
            if !h.is_empty() {
                frames.push(
                    (0..h.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                        .collect(),
                );
            }
        }
    }
    assert!(frames.len() > 50);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut asm = Assembler::new(1 << 20);
    let (mut execs, mut messages, mut errors) = (0u64, 0u64, 0u64);
    for round in 0..200 {
        for (i, f) in frames.iter().enumerate() {
            let mut m = f.clone();
            match (rnd() % 6, round) {
                (_, 0) => {}
                (0, _) if !m.is_empty() => {
                    let at = (rnd() as usize) % m.len();
                    m[at] ^= 1 << (rnd() % 8);
                }
                (1, _) => m.truncate((rnd() as usize) % (m.len() + 1)),
                (2, _) if m.len() >= 16 => m[12..16].copy_from_slice(&(rnd() as u32).to_be_bytes()),
                (3, _) if m.len() >= 20 => m[12..20].copy_from_slice(&rnd().to_be_bytes()),
                (4, _) => {
                    let other = &frames[(i + 1 + rnd() as usize % 7) % frames.len()];
                    m = other.clone();
                }
                _ => m.extend((0..rnd() % 40).map(|_| rnd() as u8)),
            }
            execs += 1;
            let (err, done) = asm.feed(&m);
            errors += u64::from(err.is_some());
            if let Some(msg) = done {
                messages += 1;
                if let Ok((head, payload)) = unpack(&msg.data) {
                    let c = Content::from_parts(&head, payload);
                    let _ = format!("{c:?}");
                    if let Some(chunk) = head.get("chunk") {
                        let _ = Content::from_parts(chunk, payload);
                    }
                    let ty = head
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("otel.log");
                    let data = head.get("data").cloned().unwrap_or(head.clone());
                    let _ = logs::lines(ty, &data);
                }
            }
        }
    }
    assert!(messages > 0 && errors > 0, "{execs} {messages} {errors}");
    let _ = EventKind::Facts(Vec::new());
}

/// A scripted room: handshake, then hand every request to the test.
struct Scripted {
    ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    asm: Assembler,
}

impl Scripted {
    async fn accept(listener: &tokio::net::TcpListener) -> Scripted {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let mut out = msg(
            1,
            "room_ready",
            json!({"room_name": "s", "session_id": "s1"}),
            &[],
        );
        out.extend(msg(
            2,
            "connected",
            json!({"type": "init", "participantId": "p"}),
            &[],
        ));
        for m in out {
            ws.send(m).await.unwrap();
        }
        Scripted {
            ws,
            asm: Assembler::new(codec::DEFAULT_MAX_MESSAGE),
        }
    }

    /// The next request: (id, type, JSON).
    async fn next(&mut self) -> (u64, String, Value) {
        loop {
            let f = tokio::time::timeout(Duration::from_secs(15), self.ws.next())
                .await
                .expect("a request in time")
                .expect("open")
                .unwrap();
            if let Message::Binary(b) = f
                && let Some(m) = self.asm.push(&b).unwrap()
            {
                let (h, _) = unpack(&m.data).unwrap();
                return (m.id, m.kind, h);
            }
        }
    }

    async fn respond(&mut self, id: u64, content: Value) {
        for m in msg(id, "__response__", content, &[]) {
            self.ws.send(m).await.unwrap();
        }
    }
}

/// The toolkit never answers in time: roomtap really falls back to
/// `developer.watch`, and closes the toolkit stream when its answer
/// finally comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toolkit_that_answers_too_late_falls_back_and_is_closed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/rooms/s", listener.local_addr().unwrap());
    let mut cfg = RoomConfig::new(&url, Some(Secret::new("t")));
    cfg.open_timeout = Duration::from_millis(300);
    let mut h = Harness::room(cfg);
    let room = tokio::spawn(async move {
        let mut r = Scripted::accept(&listener).await;
        let (open_id, kind, head) = r.next().await;
        assert_eq!(kind, "room.invoke_tool");
        let call = head["tool_call_id"].as_str().unwrap().to_string();
        // Say nothing until roomtap gives up and asks the legacy way.
        let (watch_id, kind, _) = r.next().await;
        assert_eq!(kind, "developer.watch");
        r.respond(watch_id, json!({"type": "empty"})).await;
        // Now the late toolkit answer: roomtap must close that stream.
        r.respond(open_id, json!({"type": "control", "method": "open"}))
            .await;
        let (close_id, kind, head) = r.next().await;
        assert_eq!(kind, "room.tool_call_request_chunk");
        assert_eq!(head["tool_call_id"], call.as_str());
        assert_eq!(head["chunk"]["method"], "close");
        r.respond(close_id, json!({"type": "empty"})).await;
        r
    });
    h.until("legacy watching after the fallback", 15, |a| {
        common::peers::fact(a, 0, "developer logs") == "on (legacy developer.watch)"
    })
    .await;
    let _r = tokio::time::timeout(Duration::from_secs(15), room)
        .await
        .expect("the script ran")
        .unwrap();
    assert_eq!(
        common::peers::fact(&h.app, 0, "developer logs"),
        "on (legacy developer.watch)"
    );
}

/// `w` while the stream is still opening: the open answer must not turn
/// watching on, and the close's answer turns it off even when the room
/// sends no close chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_switched_off_while_opening_ends_off() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/rooms/s", listener.local_addr().unwrap());
    let mut h = Harness::room(RoomConfig::new(&url, Some(Secret::new("t"))));
    let (asked_tx, asked_rx) = tokio::sync::oneshot::channel();
    let room = tokio::spawn(async move {
        let mut r = Scripted::accept(&listener).await;
        let (open_id, kind, _) = r.next().await;
        assert_eq!(kind, "room.invoke_tool");
        let _ = asked_tx.send(());
        let (close_id, kind, _) = r.next().await;
        assert_eq!(kind, "room.tool_call_request_chunk");
        r.respond(open_id, json!({"type": "control", "method": "open"}))
            .await;
        r.respond(close_id, json!({"type": "empty"})).await;
        r
    });
    h.until("opening", 15, |a| {
        common::peers::fact(a, 0, "developer logs").starts_with("opening")
    })
    .await;
    tokio::time::timeout(Duration::from_secs(15), asked_rx)
        .await
        .unwrap()
        .unwrap();
    h.app.act(roomtap::ui::keymap::Action::Watch);
    h.flush();
    let _r = tokio::time::timeout(Duration::from_secs(15), room)
        .await
        .unwrap()
        .unwrap();
    h.until("off", 15, |a| {
        common::peers::fact(a, 0, "developer logs").starts_with("off")
            && has_log(a, "room", "stopped watching developer logs")
    })
    .await;
    assert!(!has_log(
        &h.app,
        "room",
        "the room closed the developer log stream"
    ));
}

/// A client that never reads is disconnected once its queue is full (its
/// replies are never dropped quietly); a client in another room keeps
/// being served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_server_disconnects_a_client_that_does_not_read() {
    let srv = RoomServer::start(
        RoomServerConfig {
            queue: 16,
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let mut good = Harness::room(RoomConfig::new(&srv.url("test"), Some(Secret::new("t"))));
    good.until("good client watching", 15, |a| {
        common::peers::fact(a, 0, "developer logs").starts_with("on")
    })
    .await;
    // The deaf client opens a stream in its own room, then never reads.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let req = srv.url("flood").into_client_request().unwrap();
    let (mut deaf, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    for m in msg(
        1,
        "room.invoke_tool",
        json!({"toolkit": "developer", "tool": "logs", "tool_call_id": "deaf", "arguments": {"type": "control", "method": "open"}}),
        &[],
    ) {
        deaf.send(m).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while srv.watchers("flood") < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deaf stream never opened"
        );
        tokio::time::sleep(Duration::from_millis(5)).await; // allow-sleep: polling the server's own state
    }
    let big = "x".repeat(200_000);
    let mut i = 0;
    while srv.participants().iter().any(|(_, room)| room == "flood") {
        assert!(i < 10_000, "the deaf client was never disconnected");
        srv.publish("flood", "flood", &json!({ "i": i, "pad": big }));
        i += 1;
        if i % 50 == 0 {
            tokio::task::yield_now().await;
        }
    }
    srv.publish("test", "after.flood", &json!({"ok": true}));
    good.until("the other room is still served", 15, |a| {
        has_log(a, "after.flood", "true")
    })
    .await;
    drop(deaf);
}

/// A client that opens TCP and never finishes the WebSocket handshake is
/// let go after the handshake timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_handshake_is_let_go() {
    use tokio::io::AsyncReadExt;
    let server = roomtap::protocols::room::server::RoomServer::start(
        roomtap::protocols::room::server::RoomServerConfig {
            handshake_timeout: std::time::Duration::from_millis(500),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let mut stalled = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stalled.read(&mut buf))
        .await
        .expect("the room server hangs up on a stalled handshake");
    assert!(matches!(n, Ok(0) | Err(_)), "closed: {n:?}");
}
