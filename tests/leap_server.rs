//! roomtap's Leap Edge server (`roomtap::protocols::leap::server::LeapServer`) against the real
//! clients on loopback: the JS client `@onehop/leap-edge-js` 1.0.11
//! (tests/peers/leap/client.mjs) and the Rust client `leap_client_rs` 0.1.5
//! (tests/peers/leap-rs, built by its install.sh), plus a raw WebSocket
//! client for what the real clients never send (zlib, bad frames, foreign
//! origins). Every wait is on an event (a client's line, a server change,
//! a notice) with a timeout; nothing sleeps to synchronise.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::peers::{NodePeer, peers_dir};
use futures_util::{SinkExt, StreamExt};
use roomtap::event::{EventKind, SourceEvent};
use roomtap::protocols::leap::server::{LeapServer, LeapServerConfig};
use roomtap::protocols::leap::wire::codec;
use roomtap::secret::Secret;
use roomtap::source::Emitter;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PROJECT: &str = "project_test";
const TOKEN: &str = "leap_token_test";
const WAIT: u64 = 15;

fn cfg() -> LeapServerConfig {
    LeapServerConfig {
        project: PROJECT.into(),
        tokens: vec![Secret::new(TOKEN)],
        heartbeat_interval: Duration::from_millis(500),
        identify_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

/// Notices and peer lists the server reports, as a source's events.
struct Notices {
    rx: mpsc::Receiver<SourceEvent>,
    /// Every notice seen so far.
    seen: Vec<String>,
    /// The last connection list: (cid, proto, name).
    peers: Vec<(String, String, String)>,
}

impl Notices {
    fn new() -> (Emitter, Notices) {
        let (tx, rx) = mpsc::channel(4096);
        (
            Emitter::new(0, tx),
            Notices {
                rx,
                seen: Vec::new(),
                peers: Vec::new(),
            },
        )
    }

    /// Wait for a notice containing every one of `parts`; returns it.
    async fn wait(&mut self, parts: &[&str]) -> String {
        let hit = |s: &String| parts.iter().all(|p| s.contains(p));
        if let Some(s) = self.seen.iter().find(|s| hit(s)) {
            return s.clone();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(WAIT);
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(ev)) => match ev.kind {
                    EventKind::Log(l) => {
                        self.seen.push(l.summary.clone());
                        if hit(&l.summary) {
                            return l.summary;
                        }
                    }
                    EventKind::Peers(rows) => {
                        self.peers = rows
                            .into_iter()
                            .map(|r| (r.id, r.proto.to_string(), r.name.unwrap_or_default()))
                            .collect();
                    }
                    _ => {}
                },
                Ok(None) => panic!("notices ended waiting for {parts:?}"),
                Err(_) => panic!(
                    "no notice with {parts:?} in {WAIT}s; seen:\n{:#?}",
                    self.seen
                ),
            }
        }
    }
}

async fn start(cfg: LeapServerConfig) -> (LeapServer, Notices) {
    let (em, notices) = Notices::new();
    let srv = LeapServer::start(cfg, Some(em))
        .await
        .expect("leap server binds");
    (srv, notices)
}

async fn until(srv: &LeapServer, what: &str, cond: impl Fn(&LeapServer) -> bool) {
    assert!(
        srv.wait_until(Duration::from_secs(WAIT), cond).await,
        "timed out after {WAIT}s waiting for {what}; connections {:?}, received {:?}",
        srv.connections(),
        srv.received()
    );
}

// ---- the real JS client ----

async fn js(url: &str, token: Option<&str>) -> NodePeer {
    let mut args = vec![
        "client.mjs",
        "--url",
        url,
        "--project",
        PROJECT,
        "--seconds",
        "60",
    ];
    if let Some(t) = token {
        args.extend(["--token", t]);
    }
    NodePeer::spawn(&peers_dir("leap"), &args).await
}

async fn js_send(p: &mut NodePeer, e: &str, c: Option<&str>, d: Value) {
    let cmd = json!({"op": "send", "frame": {"e": e, "c": c, "d": d}});
    let stdin = p.child.stdin.as_mut().expect("stdin");
    stdin
        .write_all(format!("{cmd}\n").as_bytes())
        .await
        .expect("peer reads stdin");
    p.wait_json(&format!("{e} sent"), WAIT, |v| {
        v["event"] == "sent" || v["event"] == "error"
    })
    .await;
}

/// Wait for a serviceEvent of `event_type`; returns its data.
async fn js_event(p: &mut NodePeer, event_type: &str) -> Value {
    let v = p
        .wait_json(event_type, WAIT, |v| {
            v["event"] == "service" && v["eventType"] == event_type
        })
        .await;
    json!({"channelId": v["channelId"], "data": v["data"]})
}

/// The connection states until `last`, in order; returns them and the URL
/// the client was on at `last`.
async fn js_states_until(p: &mut NodePeer, last: &str) -> (Vec<String>, String) {
    let mut states = Vec::new();
    loop {
        let v = p
            .wait_json(&format!("state {last}"), WAIT, |v| v["event"] == "state")
            .await;
        let s = v["state"].as_str().unwrap_or_default().to_string();
        states.push(s.clone());
        if s == last {
            return (states, v["url"].as_str().unwrap_or_default().to_string());
        }
    }
}

/// A JS client connected and identified; returns it with its INIT data.
async fn js_connected(url: &str, token: Option<&str>) -> (NodePeer, Value) {
    let mut p = js(url, token).await;
    let (states, _) = js_states_until(&mut p, "connected").await;
    assert_eq!(states, ["connecting", "authenticating", "connected"]);
    let init = js_event(&mut p, "INIT").await;
    assert_eq!(init["channelId"], Value::Null);
    (p, init["data"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_js_client_subscribes_messages_sets_state_and_follows_a_redirect() {
    let (srv, mut notes) = start(cfg()).await;
    srv.add_channel("chan_1", "unprotected", json!({"count": 1}));
    srv.add_pipe_room(
        "jt_1",
        json!({"id": "pipe_room_1", "name": "room", "state": "live",
               "delivery_protocols": ["webrtc"], "ingest_protocol": "rtmp"}),
    );
    let url = srv.url();

    // Handshake: connecting → authenticating (HELLO) → connected (INIT).
    let (mut a, init) = js_connected(&url, Some(TOKEN)).await;
    assert_eq!(init["scope"], "token");
    assert_eq!(init["connection_count"], 1);
    assert_eq!(init["metadata"], Value::Null);
    assert_eq!(init["channels"], json!([]));
    let cid_a = init["cid"].as_str().expect("cid").to_string();
    notes
        .wait(&[&cid_a, "connected from", "/ws", "text frames"])
        .await;
    notes.wait(&[&cid_a, "token ok", "scope token"]).await;

    // SUBSCRIBE → AVAILABLE with the channel and its state.
    js_send(&mut a, "SUBSCRIBE", Some("chan_1"), Value::Null).await;
    let av = js_event(&mut a, "AVAILABLE").await;
    assert_eq!(av["channelId"], "chan_1");
    let ch = &av["data"]["channel"];
    assert_eq!(ch["id"], "chan_1");
    assert_eq!(ch["project_id"], PROJECT);
    assert_eq!(ch["type"], "unprotected");
    assert_eq!(ch["state"], json!({"count": 1}));
    assert_eq!(ch["capabilities"], 0);
    assert!(ch["created_at"].as_str().is_some_and(|s| s.ends_with('Z')));

    // The server sets the state: STATE_UPDATE to the subscriber.
    assert_eq!(srv.set_state("chan_1", json!({"count": 2})), 1);
    let su = js_event(&mut a, "STATE_UPDATE").await;
    assert_eq!(su["channelId"], "chan_1");
    assert_eq!(su["data"], json!({"state": {"count": 2}}));
    assert_eq!(srv.set_token_state("chan_1", json!({"online": true})), 1);
    let ts = js_event(&mut a, "TOKEN_STATE_UPDATE").await;
    assert_eq!(ts["data"], json!({"state": {"online": true}}));

    // A second client sees the state the server set.
    let (mut b, init_b) = js_connected(&url, Some(TOKEN)).await;
    assert_eq!(init_b["connection_count"], 2);
    let cid_b = init_b["cid"].as_str().unwrap().to_string();
    assert_ne!(cid_a, cid_b);
    js_send(&mut b, "SUBSCRIBE", Some("chan_1"), Value::Null).await;
    let av = js_event(&mut b, "AVAILABLE").await;
    assert_eq!(av["data"]["channel"]["state"], json!({"count": 2}));

    // One client's SET_CHANNEL_STATE reaches the other (and itself).
    js_send(
        &mut a,
        "SET_CHANNEL_STATE",
        Some("chan_1"),
        json!({"count": 3}),
    )
    .await;
    let su = js_event(&mut b, "STATE_UPDATE").await;
    assert_eq!(su["data"], json!({"state": {"count": 3}}));
    let su = js_event(&mut a, "STATE_UPDATE").await;
    assert_eq!(su["data"], json!({"state": {"count": 3}}));

    // One client's MESSAGE reaches the other, not itself: the first MESSAGE
    // `a` sees is the marker published after `b` got the chat.
    js_send(
        &mut a,
        "MESSAGE",
        Some("chan_1"),
        json!({"e": "chat", "d": {"text": "hi"}}),
    )
    .await;
    let m = js_event(&mut b, "MESSAGE").await;
    assert_eq!(m["channelId"], "chan_1");
    assert_eq!(m["data"], json!({"e": "chat", "d": {"text": "hi"}}));
    assert_eq!(srv.publish("chan_1", "marker", json!({"n": 1})), 2);
    let m = js_event(&mut a, "MESSAGE").await;
    assert_eq!(m["data"], json!({"e": "marker", "d": {"n": 1}}));
    let m = js_event(&mut b, "MESSAGE").await;
    assert_eq!(m["data"]["e"], "marker");
    let got: Vec<_> = srv
        .received()
        .into_iter()
        .filter(|(cid, e, _, _)| cid == &cid_a && e == "MESSAGE")
        .collect();
    assert_eq!(
        got,
        [(
            cid_a.clone(),
            "MESSAGE".to_string(),
            Some("chan_1".to_string()),
            json!({"e": "chat", "d": {"text": "hi"}})
        )]
    );

    // DIRECT_MESSAGE to one connection.
    assert_eq!(
        srv.direct(Some(&cid_b), "dm", json!({"text": "just you"})),
        1
    );
    let dm = js_event(&mut b, "DIRECT_MESSAGE").await;
    assert_eq!(dm["channelId"], Value::Null);
    assert_eq!(dm["data"], json!({"e": "dm", "d": {"text": "just you"}}));

    // Pipe rooms: available, updated, unknown token refused.
    js_send(
        &mut a,
        "PIPE_ROOM_SUBSCRIBE",
        None,
        json!({"join_token": "jt_1"}),
    )
    .await;
    let pr = js_event(&mut a, "PIPE_ROOM_AVAILABLE").await;
    assert_eq!(pr["data"]["pipe_room"]["id"], "pipe_room_1");
    assert_eq!(pr["data"]["pipe_room"]["state"], "live");
    assert_eq!(pr["data"]["connection"]["webrtc"]["type"], "webrtc");
    assert_eq!(srv.set_pipe_room_state("jt_1", false), 1);
    let pu = js_event(&mut a, "PIPE_ROOM_UPDATE").await;
    assert_eq!(pu["data"]["pipe_room"]["state"], "offline");
    assert_eq!(pu["data"]["connection"]["webrtc"], Value::Null);
    js_send(
        &mut a,
        "PIPE_ROOM_SUBSCRIBE",
        None,
        json!({"join_token": "jt_nope"}),
    )
    .await;
    let pn = js_event(&mut a, "PIPE_ROOM_UNAVAILABLE").await;
    assert_eq!(
        pn["data"],
        json!({"join_token": "jt_nope", "graceful": false, "error_code": "NOT_GRANTED"})
    );
    assert!(
        notes
            .seen
            .iter()
            .all(|s| !s.contains("jt_1") && !s.contains("jt_nope")),
        "a join token was logged: {:#?}",
        notes.seen
    );

    // Heartbeats: the JS client's own (every 500 ms, untagged) and the echo
    // of the server's tagged one.
    until(&srv, "a's untagged heartbeats", |s| {
        s.heartbeats()
            .iter()
            .any(|(c, t)| c == &cid_a && t.is_none())
    })
    .await;
    assert_eq!(srv.heartbeat_all("srv-tag-1"), 2);
    until(&srv, "both echoes of srv-tag-1", |s| {
        let hb = s.heartbeats();
        [&cid_a, &cid_b].iter().all(|cid| {
            hb.iter()
                .any(|(c, t)| c == *cid && t.as_deref() == Some("srv-tag-1"))
        })
    })
    .await;

    // 4006 with the second server's URL: both clients move there.
    let (srv2, mut notes2) = start(cfg()).await;
    let target = format!("{}?from=redirect", srv2.url());
    assert_eq!(srv.redirect_all(&target), 2);
    for p in [&mut a, &mut b] {
        let (states, on) = js_states_until(p, "connected").await;
        assert_eq!(
            states,
            ["errored", "connecting", "authenticating", "connected"]
        );
        assert_eq!(on, target, "the client reconnects to the URL it was given");
        let init = js_event(p, "INIT").await;
        assert_eq!(init["data"]["scope"], "token");
    }
    until(&srv2, "both clients on the second server", |s| {
        s.identified().len() == 2
    })
    .await;
    notes2.wait(&["connected from", "/ws?from=redirect"]).await;
    until(&srv, "the first server empty", |s| {
        s.connections().is_empty()
    })
    .await;
    notes.wait(&["closed by the server with 4006"]).await;
    assert!(
        notes
            .seen
            .iter()
            .chain(&notes2.seen)
            .all(|s| !s.contains(TOKEN)),
        "a token was logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_gets_4001_and_the_js_client_stops_for_good() {
    let (srv, mut notes) = start(cfg()).await;
    let mut p = js(&srv.url(), Some("wrong-token-xyz")).await;
    let (states, _) = js_states_until(&mut p, "errored").await;
    assert_eq!(states, ["connecting", "authenticating", "errored"]);
    notes.wait(&["refused", "invalid token", "4001"]).await;
    notes.wait(&["closed by the server with 4001"]).await;
    until(&srv, "the connection gone", |s| s.connections().is_empty()).await;
    assert_eq!(srv.accepted(), 1);
    // The JS client throttles reconnects to one a second: a client that
    // retried would be back within 2.5 s.
    let again = srv
        .wait_until(Duration::from_millis(2500), |s| s.accepted() > 1)
        .await;
    assert!(!again, "the JS client reconnected after 4001");
    assert!(
        notes.seen.iter().all(|s| !s.contains("wrong-token-xyz")),
        "the token was logged: {:#?}",
        notes.seen
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_js_client_gets_scope_project_and_no_private_channel() {
    let (srv, mut notes) = start(cfg()).await;
    srv.add_channel("secret_chan", "private", json!({}));
    srv.add_channel("open_chan", "public", json!({"x": 1}));
    let (mut p, init) = js_connected(&srv.url(), None).await;
    assert_eq!(init["scope"], "project");
    notes.wait(&["no token", "scope project"]).await;
    js_send(&mut p, "SUBSCRIBE", Some("secret_chan"), Value::Null).await;
    let un = js_event(&mut p, "UNAVAILABLE").await;
    assert_eq!(un["channelId"], "secret_chan");
    assert_eq!(
        un["data"],
        json!({"graceful": false, "error_code": "NOT_GRANTED"})
    );
    js_send(&mut p, "SUBSCRIBE", Some("nowhere"), Value::Null).await;
    let un = js_event(&mut p, "UNAVAILABLE").await;
    assert_eq!(un["channelId"], "nowhere");
    assert_eq!(un["data"]["error_code"], "UNKNOWN");
    js_send(&mut p, "SUBSCRIBE", Some("open_chan"), Value::Null).await;
    let av = js_event(&mut p, "AVAILABLE").await;
    assert_eq!(av["data"]["channel"]["type"], "public");
    // Not subscribed to the private channel: its updates do not reach it.
    assert_eq!(srv.set_state("secret_chan", json!({"n": 1})), 0);
    assert_eq!(srv.set_state("open_chan", json!({"x": 2})), 1);
    let su = js_event(&mut p, "STATE_UPDATE").await;
    assert_eq!(su["channelId"], "open_chan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_tokens_are_required_no_token_gets_4001() {
    let (srv, mut notes) = start(LeapServerConfig {
        allow_no_token: false,
        ..cfg()
    })
    .await;
    let mut p = js(&srv.url(), None).await;
    let (states, _) = js_states_until(&mut p, "errored").await;
    assert_eq!(states, ["connecting", "authenticating", "errored"]);
    notes.wait(&["refused", "no token", "4001"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_acking_makes_the_js_client_reconnect() {
    let (srv, _notes) = start(LeapServerConfig {
        heartbeat_interval: Duration::from_millis(300),
        ..cfg()
    })
    .await;
    srv.set_acking(false);
    let (mut p, init) = js_connected(&srv.url(), Some(TOKEN)).await;
    let first = init["cid"].as_str().unwrap().to_string();
    // No ack within 5 s, then an optimistic heartbeat and 750 ms: it gives up.
    let (states, _) = js_states_until(&mut p, "errored").await;
    assert_eq!(states, ["errored"]);
    srv.set_acking(true);
    let (_, _) = js_states_until(&mut p, "connected").await;
    let init = js_event(&mut p, "INIT").await;
    assert_ne!(init["data"]["cid"].as_str().unwrap(), first);
    until(&srv, "a second connection", |s| s.accepted() >= 2).await;
}

// ---- the real Rust client ----

/// Built by tests/peers/leap-rs/install.sh into that folder's own target/
/// (`--target-dir`, whatever CARGO_TARGET_DIR says).
fn rust_peer() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers/leap-rs/target/release/roomtap-leap-rs-peer");
    assert!(
        bin.is_file(),
        "{} is not built: run tests/peers/install.sh (it runs tests/peers/leap-rs/install.sh)",
        bin.display()
    );
    bin
}

struct RustPeer {
    _child: tokio::process::Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl RustPeer {
    fn spawn(url: &str, token: &str, channel: &str) -> RustPeer {
        let mut child = tokio::process::Command::new(rust_peer())
            .args([url, PROJECT, token, channel, "30"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the Rust peer runs");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(out).lines();
            while let Ok(Some(l)) = r.next_line().await {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        RustPeer {
            _child: child,
            lines,
        }
    }

    /// Wait for `EVENT {"e": e, …}`; returns the event.
    async fn event(&mut self, e: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(WAIT);
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(l)) => {
                    assert!(!l.starts_with("ERROR"), "the Rust client failed: {l}");
                    if let Some(j) = l.strip_prefix("EVENT ") {
                        let v: Value = serde_json::from_str(j).expect("event JSON");
                        if v["e"] == e {
                            return v;
                        }
                    }
                }
                Ok(None) => panic!("the Rust client exited waiting for {e}"),
                Err(_) => panic!("timed out after {WAIT}s waiting for the Rust client's {e}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_rust_client_identifies_subscribes_and_gets_state_updates() {
    let (srv, mut notes) = start(cfg()).await;
    srv.add_channel("chan_1", "unprotected", json!({"count": 1}));
    let mut p = RustPeer::spawn(&srv.url(), TOKEN, "chan_1");
    // Its URL is its own: `?encoding=json&compression=none`, so text frames.
    let n = notes
        .wait(&["connected from", "/ws?encoding=json&compression=none"])
        .await;
    assert!(n.contains("text frames"), "{n}");
    // INIT parsed by its strict types (connection_count, scope required).
    let init = p.event("INIT").await;
    assert_eq!(init["d"]["scope"], "token");
    assert_eq!(init["d"]["connection_count"], 1);
    let cid = init["d"]["cid"].as_str().unwrap().to_string();
    // AVAILABLE parsed (project_id and type required).
    let av = p.event("AVAILABLE").await;
    assert_eq!(av["c"], "chan_1");
    assert_eq!(av["d"]["channel"]["project_id"], PROJECT);
    assert_eq!(av["d"]["channel"]["type"], "unprotected");
    assert_eq!(av["d"]["channel"]["state"], json!({"count": 1}));
    until(&srv, "the Rust client subscribed", |s| {
        s.received()
            .iter()
            .any(|(c, e, ch, _)| c == &cid && e == "SUBSCRIBE" && ch.as_deref() == Some("chan_1"))
    })
    .await;
    assert_eq!(srv.set_state("chan_1", json!({"count": 5})), 1);
    let su = p.event("STATE_UPDATE").await;
    assert_eq!(su["c"], "chan_1");
    assert_eq!(su["d"], json!({"state": {"count": 5}}));
    assert_eq!(srv.publish("chan_1", "chat", json!({"text": "to rust"})), 1);
    let m = p.event("MESSAGE").await;
    assert_eq!(m["d"], json!({"e": "chat", "d": {"text": "to rust"}}));
    assert_eq!(srv.direct(Some(&cid), "dm", json!({"k": 1})), 1);
    let dm = p.event("DIRECT_MESSAGE").await;
    assert_eq!(dm["c"], Value::Null);
    assert_eq!(dm["d"]["e"], "dm");
    // Its heartbeats (first one right after IDENTIFY) are acked: it stays.
    until(&srv, "the Rust client's heartbeats", |s| {
        s.heartbeats().iter().filter(|(c, _)| c == &cid).count() >= 2
    })
    .await;
    assert_eq!(srv.identified().len(), 1);
}

// ---- raw WebSocket: zlib, bad input, the guard ----

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    ws
}

/// The next data frame: (JSON text, was binary).
async fn next_frame(ws: &mut Ws) -> (String, bool) {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(WAIT), ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("no error");
        match m {
            Message::Text(t) => return (t.to_string(), false),
            Message::Binary(b) => {
                let text = codec::inflate(&b, codec::MAX_FRAME).expect("a zlib stream");
                return (String::from_utf8(text).unwrap(), true);
            }
            Message::Close(f) => panic!("closed: {f:?}"),
            _ => {}
        }
    }
}

/// Read until the server's close; returns (code, reason).
async fn closed_with(ws: &mut Ws) -> (u16, String) {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(WAIT), ws.next())
            .await
            .expect("a close in time");
        match m {
            Some(Ok(Message::Close(Some(f)))) => return (u16::from(f.code), f.reason.to_string()),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return (0, String::new()),
            Some(Ok(_)) => {}
        }
    }
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.to_string().into()))
        .await
        .expect("send");
}

async fn identified(url: &str) -> Ws {
    let mut ws = raw(url).await;
    let (hello, _) = next_frame(&mut ws).await;
    assert!(hello.starts_with(r#"{"op":1,"#), "{hello}");
    send(
        &mut ws,
        &codec::encode(&codec::Frame::Identify {
            project_id: PROJECT.into(),
            token: Some(TOKEN.into()),
        }),
    )
    .await;
    let (init, _) = next_frame(&mut ws).await;
    assert!(init.contains(r#""e":"INIT""#), "{init}");
    ws
}

#[tokio::test]
async fn zlib_frames_only_for_a_client_that_asks() {
    let (srv, mut notes) = start(cfg()).await;
    srv.add_channel("chan_1", "unprotected", json!({"count": 1}));

    let mut z = raw(&format!("{}?encoding=json&compression=zlib", srv.url())).await;
    let (hello, binary) = next_frame(&mut z).await;
    assert!(binary, "zlib was asked for: binary frames");
    assert_eq!(hello, r#"{"op":1,"d":{"heartbeat_interval":500}}"#);
    send(
        &mut z,
        &codec::encode(&codec::Frame::Identify {
            project_id: PROJECT.into(),
            token: Some(TOKEN.into()),
        }),
    )
    .await;
    let (init, binary) = next_frame(&mut z).await;
    assert!(binary);
    let init = codec::decode(&init).unwrap();
    let codec::Frame::Dispatch(d) = init else {
        panic!("{init:?}")
    };
    assert_eq!(d.event, "INIT");
    let data: Value = serde_json::from_str(&d.data).unwrap();
    assert_eq!(data["scope"], "token");
    assert_eq!(data["connection_count"], 1);
    notes.wait(&["connected from", "zlib binary frames"]).await;
    notes.wait(&["identified"]).await;
    assert!(
        notes.peers.iter().any(|(_, proto, _)| proto == "zlib"),
        "{:?}",
        notes.peers
    );
    // A tagged heartbeat: acked, the tag echoed, latency 0 (as captured).
    send(&mut z, r#"{"op":3,"d":{"tag":"t1"}}"#).await;
    let (ack, binary) = next_frame(&mut z).await;
    assert!(binary);
    assert_eq!(ack, r#"{"op":4,"d":{"tag":"t1","latency":0}}"#);
    send(&mut z, r#"{"op":3}"#).await;
    let (ack, _) = next_frame(&mut z).await;
    assert_eq!(ack, r#"{"op":4,"d":{"latency":0}}"#);
    // The subscribe reply, Rust's key order (sorted) accepted.
    send(
        &mut z,
        r#"{"d":{"c":"chan_1","d":null,"e":"SUBSCRIBE"},"op":0}"#,
    )
    .await;
    let (av, binary) = next_frame(&mut z).await;
    assert!(binary);
    assert!(
        av.starts_with(r#"{"op":0,"d":{"c":"chan_1","u":false,"e":"AVAILABLE","d":{"channel":{"id":"chan_1","project_id":"project_test","type":"unprotected","state":{"count":1},"capabilities":0,"created_at":""#),
        "{av}"
    );

    // Not asked (no query, or compression=none): text.
    for q in ["", "?encoding=json&compression=none"] {
        let mut t = raw(&format!("{}{q}", srv.url())).await;
        let (hello, binary) = next_frame(&mut t).await;
        assert!(!binary, "{q}: text frames");
        assert_eq!(hello, r#"{"op":1,"d":{"heartbeat_interval":500}}"#);
    }
}

#[tokio::test]
async fn bad_frames_get_the_close_codes_and_a_notice() {
    let (srv, mut notes) = start(LeapServerConfig {
        max_frame: 1024,
        identify_timeout: Duration::from_millis(300),
        ..cfg()
    })
    .await;
    let url = srv.url();

    // Not JSON after IDENTIFY: 4005 and a notice.
    let mut ws = identified(&url).await;
    send(&mut ws, "this is not json").await;
    assert_eq!(closed_with(&mut ws).await, (4005, "Invalid payload".into()));
    notes.wait(&["bad frame", "4005"]).await;

    // A frame without op: 4005 too.
    let mut ws = identified(&url).await;
    send(&mut ws, r#"{"d":{"no":"op"}}"#).await;
    assert_eq!(closed_with(&mut ws).await.0, 4005);

    // Bigger than max_frame: 4005.
    let mut ws = identified(&url).await;
    let big = format!(
        r#"{{"op":0,"d":{{"e":"MESSAGE","c":"x","d":"{}"}}}}"#,
        "a".repeat(2000)
    );
    send(&mut ws, &big).await;
    assert_eq!(closed_with(&mut ws).await.0, 4005);
    notes.wait(&["over the 1024 B cap"]).await;

    // An op a client does not send: 4004.
    let mut ws = identified(&url).await;
    send(&mut ws, r#"{"op":9,"d":{}}"#).await;
    assert_eq!(closed_with(&mut ws).await, (4004, "Invalid opcode".into()));

    // A service event before IDENTIFY: 4003.
    let mut ws = raw(&url).await;
    next_frame(&mut ws).await;
    send(
        &mut ws,
        r#"{"op":0,"d":{"e":"SUBSCRIBE","d":null,"c":"chan_1"}}"#,
    )
    .await;
    assert_eq!(
        closed_with(&mut ws).await,
        (4003, "Not authenticated".into())
    );

    // No IDENTIFY in time (and no HELLO at all: set_hello off): 4002.
    srv.set_hello(false);
    let mut ws = raw(&url).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (4002, "Identify timeout".into()),
        "the first frame is the close: no HELLO"
    );
    srv.set_hello(true);

    // Another project: 4001.
    let mut ws = raw(&url).await;
    next_frame(&mut ws).await;
    send(
        &mut ws,
        r#"{"op":2,"d":{"project_id":"project_other","token":"leap_token_test"}}"#,
    )
    .await;
    assert_eq!(closed_with(&mut ws).await, (4001, "Invalid auth".into()));
    notes.wait(&["project_other", "not served"]).await;

    // close_all: the code and reason given.
    let mut ws = identified(&url).await;
    until(&srv, "one identified", |s| s.identified().len() == 1).await;
    assert_eq!(srv.close_all(4000, "maintenance"), 1);
    assert_eq!(closed_with(&mut ws).await, (4000, "maintenance".into()));
    until(&srv, "none left", |s| s.connections().is_empty()).await;
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused_with_403() {
    let (srv, mut notes) = start(cfg()).await;
    for (header, value) in [("Origin", "https://evil.example"), ("Host", "evil.example")] {
        let mut req = srv.url().into_client_request().unwrap();
        req.headers_mut().insert(header, value.parse().unwrap());
        match tokio_tungstenite::connect_async(req).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 403, "{header}: {value}");
            }
            Err(e) => panic!("{header}: expected HTTP 403, got {e}"),
            Ok(_) => panic!("{header}: {value} was let in"),
        }
    }
    notes.wait(&["refused", "HTTP 403", "foreign Origin"]).await;
    notes.wait(&["refused", "HTTP 403", "foreign Host"]).await;
    let (k, v) = srv.refused().expect("counted");
    assert!(k.contains("refused"), "{k}");
    assert!(v.starts_with("2 "), "{v}");
    assert_eq!(srv.accepted(), 0);
    // A loopback page's origin is fine; another path is 404.
    let mut req = srv.url().into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "http://localhost:5173".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("admitted");
    let (hello, _) = next_frame(&mut ws).await;
    assert!(hello.contains("heartbeat_interval"));
    let other = srv.url().replace("/ws", "/other");
    match tokio_tungstenite::connect_async(other).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 404),
        r => panic!("expected 404, got {:?}", r.map(|_| ())),
    }
}

#[tokio::test]
async fn a_client_that_does_not_read_is_dropped_and_counted() {
    let (srv, mut notes) = start(LeapServerConfig { queue: 4, ..cfg() }).await;
    srv.add_channel("chan_1", "unprotected", json!({}));
    let mut ws = identified(&srv.url()).await;
    send(
        &mut ws,
        r#"{"op":0,"d":{"e":"SUBSCRIBE","d":null,"c":"chan_1"}}"#,
    )
    .await;
    let (av, _) = next_frame(&mut ws).await;
    assert!(av.contains("AVAILABLE"), "{av}");
    // It reads nothing from now on: the socket buffers fill, then its queue
    // of 4, then it is dropped (bounded: at most 2000 × 64 KiB).
    let blob = "x".repeat(64 * 1024);
    let mut sent = 0;
    while srv.dropped() == 0 && sent < 2000 {
        srv.publish("chan_1", "blob", json!(blob));
        sent += 1;
        tokio::task::yield_now().await;
    }
    assert_eq!(srv.dropped(), 1, "dropped after {sent} messages");
    notes
        .wait(&["dropped", "did not read its 4 queued frames"])
        .await;
    assert_eq!(
        srv.publish("chan_1", "after", json!(1)),
        0,
        "no longer a subscriber"
    );
    drop(ws);
}
