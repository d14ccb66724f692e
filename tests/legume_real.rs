//! roomtap against the real legume 0.5 (PyPI, hash-pinned in
//! `tests/peers/legume/`): its `Server` (`server.py`) through a UDP proxy of
//! ours on 127.0.0.1 that counts datagrams and bytes both ways and can drop,
//! duplicate and reorder them; and its `Client` (`client.py`) on roomtap's
//! own game server.
//!
//! Asserted: roomtap's byte and packet counts equal the proxy's; messages
//! decode with a schema (and without one, as a type id and hex); with 20 %
//! loss every reliable message from the server ends acked (its pending count
//! reaches 0) and every one of ours too; a rejected connect is said and not
//! retried until `:connect`; a silent server times out and is connected
//! again; the real client gets roomtap's game server's messages.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::peers::{Harness, JsonChild, dump_logs, fact, has_log};
use roomtap::app::App;
use roomtap::event::{CommandKind, ConnState};
use roomtap::protocols::legume::client::LegumeConfig;
use roomtap::protocols::legume::client::source::LegumeSource;
use roomtap::protocols::legume::server::{GameConfig, GameServer};
use roomtap::protocols::legume::wire::model::LegumeCommand;
use roomtap::protocols::legume::wire::schema::Schema;
use serde_json::{Value, json};
use tokio::net::UdpSocket;

/// The research captures' Chat, and Pos, as the peer scripts declare them.
const SCHEMA: &str = include_str!("fixtures/legume/captures.toml");

fn peer_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/legume");
    assert!(
        d.join("venv/bin/python").exists(),
        "{} has no venv: run tests/peers/install.sh (the README's test command does)",
        d.display()
    );
    d
}

/// A peer script (`server.py`, `client.py`): its JSON lines, and the
/// commands `server.py` takes.
struct Py {
    p: JsonChild,
    next: u64,
}

impl Py {
    fn spawn(script: &str, args: &[&str]) -> Py {
        let dir = peer_dir();
        let mut all: Vec<&std::ffi::OsStr> = Vec::new();
        let script = dir.join(script);
        all.push(script.as_os_str());
        all.extend(args.iter().map(std::ffi::OsStr::new));
        Py {
            p: JsonChild::spawn(&dir.join("venv/bin/python"), &all),
            next: 0,
        }
    }

    /// The next line satisfying `f`, taken.
    async fn wait(&mut self, what: &str, secs: u64, f: impl Fn(&Value) -> bool) -> Value {
        self.p.take(what, secs, f).await
    }

    /// Send a command and wait for its `done`.
    async fn cmd(&mut self, mut c: Value) -> Value {
        self.next += 1;
        let id = self.next;
        c["id"] = json!(id);
        self.p.send(&c.to_string()).await;
        let done = self
            .wait("a done", 20, |v| {
                v["event"] == "done" && v["id"] == json!(id)
            })
            .await;
        assert_eq!(done["ok"], true, "{c} failed: {done}");
        done
    }

    async fn status(&mut self) -> Value {
        self.cmd(json!({"cmd": "status"})).await;
        self.wait("its status", 20, |v| v["event"] == "status")
            .await
    }

    /// The real server on a free port: its port.
    async fn server(args: &[&str]) -> (Py, u16) {
        let mut p = Py::spawn("server.py", args);
        let l = p.wait("listening", 30, |v| v["event"] == "listening").await;
        let port = l["port"].as_u64().unwrap() as u16;
        (p, port)
    }
}

/// What the proxy does to datagrams, per direction.
#[derive(Clone, Copy, Default)]
struct Impair {
    /// Chance of dropping one (0..1).
    drop: f64,
    /// Chance of sending one twice.
    dup: f64,
    /// Chance of holding one back until after the next.
    reorder: f64,
    /// Drop everything (counted as received, never forwarded).
    block: bool,
}

#[derive(Default)]
struct Counts {
    /// What the client sent (all of it reaches the proxy on loopback).
    c2s_datagrams: AtomicU64,
    c2s_bytes: AtomicU64,
    /// What the proxy delivered to the client (drops excluded, duplicates
    /// included).
    s2c_datagrams: AtomicU64,
    s2c_bytes: AtomicU64,
    dropped: AtomicU64,
    duplicated: AtomicU64,
    /// Woken whenever the counts move.
    moved: tokio::sync::Notify,
}

/// A UDP proxy for one client on 127.0.0.1.
struct Proxy {
    addr: SocketAddr,
    counts: Arc<Counts>,
    impair: Arc<Mutex<Impair>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Proxy {
    async fn start(server: SocketAddr, seed: u64) -> Proxy {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        back.connect(server).await.unwrap();
        let addr = front.local_addr().unwrap();
        let counts = Arc::new(Counts::default());
        let impair = Arc::new(Mutex::new(Impair::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(seed)));
        // Client → server.
        {
            let (front, back, counts, impair, stop, client, rng) = (
                front.clone(),
                back.clone(),
                counts.clone(),
                impair.clone(),
                stop.clone(),
                client.clone(),
                rng.clone(),
            );
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                let mut held: Option<Vec<u8>> = None;
                while !stop.load(Ordering::Relaxed) {
                    let Ok(Ok((n, from))) =
                        tokio::time::timeout(Duration::from_millis(200), front.recv_from(&mut buf))
                            .await
                    else {
                        continue;
                    };
                    *client.lock().unwrap() = Some(from);
                    counts.c2s_datagrams.fetch_add(1, Ordering::Relaxed);
                    counts.c2s_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    counts.moved.notify_waiters();
                    let out = decide(&impair, &rng, &counts, buf[..n].to_vec(), &mut held);
                    for d in out {
                        let _ = back.send(&d).await;
                    }
                }
            });
        }
        // Server → client.
        {
            let (counts, impair, stop) = (counts.clone(), impair.clone(), stop.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                let mut held: Option<Vec<u8>> = None;
                while !stop.load(Ordering::Relaxed) {
                    let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_millis(200), back.recv(&mut buf)).await
                    else {
                        continue;
                    };
                    let Some(to) = *client.lock().unwrap() else {
                        continue;
                    };
                    let out = decide(&impair, &rng, &counts, buf[..n].to_vec(), &mut held);
                    for d in out {
                        if front.send_to(&d, to).await.is_ok() {
                            counts.s2c_datagrams.fetch_add(1, Ordering::Relaxed);
                            counts
                                .s2c_bytes
                                .fetch_add(d.len() as u64, Ordering::Relaxed);
                            counts.moved.notify_waiters();
                        }
                    }
                }
            });
        }
        Proxy {
            addr,
            counts,
            impair,
            stop,
        }
    }

    fn set(&self, i: Impair) {
        *self.impair.lock().unwrap() = i;
    }

    /// Wait (at most `within`) until `f` holds of the wire's counts;
    /// whether it did.
    async fn until(&self, within: Duration, f: impl Fn((u64, u64, u64, u64)) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            // Listening before looking: a move between the two wakes us.
            let moved = self.counts.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            if f(self.wire()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, moved).await.is_err() {
                return false;
            }
        }
    }

    /// (c2s datagrams, c2s bytes, s2c datagrams, s2c bytes).
    fn wire(&self) -> (u64, u64, u64, u64) {
        let c = &self.counts;
        (
            c.c2s_datagrams.load(Ordering::Relaxed),
            c.c2s_bytes.load(Ordering::Relaxed),
            c.s2c_datagrams.load(Ordering::Relaxed),
            c.s2c_bytes.load(Ordering::Relaxed),
        )
    }
}

/// What goes on for one datagram: dropped, duplicated, held back or sent
/// (with what was held before it).
fn decide(
    impair: &Mutex<Impair>,
    rng: &Mutex<fastrand::Rng>,
    counts: &Counts,
    d: Vec<u8>,
    held: &mut Option<Vec<u8>>,
) -> Vec<Vec<u8>> {
    let i = *impair.lock().unwrap();
    let mut r = rng.lock().unwrap();
    if i.block || r.f64() < i.drop {
        counts.dropped.fetch_add(1, Ordering::Relaxed);
        return Vec::new();
    }
    let mut out = Vec::new();
    if held.is_none() && r.f64() < i.reorder {
        *held = Some(d);
        return out;
    }
    if r.f64() < i.dup {
        counts.duplicated.fetch_add(1, Ordering::Relaxed);
        out.push(d.clone());
    }
    out.push(d);
    if let Some(h) = held.take() {
        out.push(h);
    }
    out
}

fn legume(addr: SocketAddr, schema: Option<&str>) -> Harness {
    let mut cfg = LegumeConfig::new(&addr.to_string());
    if let Some(s) = schema {
        cfg.schema = Arc::new(Schema::parse(s).unwrap());
        cfg.schema_from = Some("test".into());
    }
    cfg.timeout = Duration::from_secs(10);
    futures_now(Harness::wired(vec![Box::new(LegumeSource::new(
        "legume", cfg,
    ))]))
}

fn futures_now<T>(f: impl std::future::Future<Output = T>) -> T {
    let mut f = std::pin::pin!(f);
    match f
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a client source's start waited"),
    }
}

fn connected(app: &App) -> bool {
    matches!(app.store.sources[0].conn.state, ConnState::Connected { .. })
}

fn metric(app: &App, name: &str) -> f64 {
    app.store.sources[0]
        .metrics
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.last())
        .unwrap_or(f64::NAN)
}

fn send(h: &mut Harness, reliable: bool, message: &str, values: &[(&str, &str)]) {
    h.command(
        0,
        CommandKind::Legume(LegumeCommand::Send {
            reliable,
            message: message.into(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }),
    );
}

/// The newest data (fields as JSON) of a Logs line of `kind` whose summary
/// holds `text`.
fn data_of(app: &App, kind: &str, text: &str) -> Option<Value> {
    let logs = &app.store.logs;
    (0..logs.view_len())
        .rev()
        .filter_map(|i| logs.view_get(i))
        .find(|e| e.kind == kind && e.summary.contains(text))
        .and_then(|e| e.data.as_deref().and_then(|d| serde_json::from_str(d).ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_decode_and_the_counts_are_the_wires() {
    let (mut srv, port) = Py::server(&[]).await;
    let proxy = Proxy::start(([127, 0, 0, 1], port).into(), 1).await;
    // Only Chat in the schema: Pos is shown as its type id and bytes.
    let chat_only = SCHEMA.split("[[message]]\nid = 21").next().unwrap();
    let mut h = legume(proxy.addr, Some(chat_only));
    h.until("connected", 20, connected).await;
    srv.wait("the connect request", 10, |v| {
        v["event"] == "connect_request" && v["accepted"] == true
    })
    .await;

    // The server's messages, plain and reliable.
    srv.cmd(json!({"cmd":"send","type":"Chat","reliable":false,
        "values":{"sender":"srv","text":"plain","seq":1,"x":1.5,"flag":true,"small":513,"tiny":7}}))
        .await;
    srv.cmd(json!({"cmd":"send","type":"Chat","reliable":true,
        "values":{"sender":"srv","text":"must arrive","seq":2,"x":-2.25,"flag":false,"small":65535,"tiny":255}}))
        .await;
    srv.cmd(json!({"cmd":"send","type":"Pos","reliable":false,
        "values":{"who":"ada","x":1.0,"y":2.0}}))
        .await;
    h.until("the three messages", 10, |a| {
        has_log(a, "Chat", r#"text="plain""#)
            && has_log(a, "Chat", r#"text="must arrive""#)
            && has_log(a, "type 21", "type 21")
    })
    .await;
    let d = data_of(&h.app, "Chat", "must arrive").unwrap();
    assert_eq!(
        d,
        json!({"sender":"srv","text":"must arrive","seq":2,"x":-2.25,"flag":0,"small":65535,"tiny":255})
    );
    assert!(has_log(&h.app, "Chat", "reliable"), "{}", dump_logs(&h.app));
    let pos = data_of(&h.app, "type 21", "type 21").unwrap();
    assert_eq!(pos["type_id"], 21);
    assert_eq!(pos["offset"], 0);
    assert_eq!(pos["len"], 30);
    // Its bytes as they came (what the detail shows as hex + ASCII).
    let logs = &h.app.store.logs;
    let e = (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .find(|e| e.kind == "type 21")
        .unwrap();
    let b = e.bytes.as_deref().unwrap();
    assert_eq!(
        (b.len(), &b[4..9]),
        (30, &[0x00, 0x15, b'a', b'd', b'a'][..])
    );
    // One channel row per message type.
    h.until("a channel row per type", 10, |a| {
        let ch = &a.store.sources[0].channels;
        ch.contains_key("Chat") && ch.contains_key("type 21")
    })
    .await;

    // Ours: plain and reliable, a non-ASCII text whole (legume's own
    // client would cut it), missing fields as zero.
    send(
        &mut h,
        false,
        "Chat",
        &[("sender", "me"), ("text", "héllo é"), ("seq", "3")],
    );
    send(
        &mut h,
        true,
        "Chat",
        &[("text", "sure"), ("seq", "4"), ("flag", "true")],
    );
    h.flush();
    let m = srv
        .wait("our plain Chat", 10, |v| {
            v["event"] == "message" && v["values"]["seq"] == 3
        })
        .await;
    assert_eq!(m["values"]["text"], "héllo é");
    assert_eq!(m["values"]["sender"], "me");
    assert_eq!(m["reliable"], false);
    let m = srv
        .wait("our reliable Chat", 10, |v| {
            v["event"] == "message" && v["values"]["seq"] == 4
        })
        .await;
    assert_eq!(
        (m["reliable"].clone(), m["values"]["flag"].clone()),
        (json!(true), json!(1))
    );
    // A command the schema does not describe is refused, said.
    send(&mut h, false, "Pos", &[]);
    send(&mut h, false, "Chat", &[("seq", "x")]);
    h.until("the refusals", 10, |a| {
        has_log(a, "command", "Pos is not in the schema (Chat)")
            && has_log(a, "command", "seq: \"x\" is not a int")
    })
    .await;

    // Pings both ways: a latency, and nothing of ours left unacked.
    h.until("a latency and our reliable Chat acked", 15, |a| {
        metric(a, "latency") > 0.0 && metric(a, "pending acks") == 0.0
    })
    .await;
    let st = srv.status().await;
    assert_eq!(st["pending_count"], 0, "{st}");

    // Count against the wire: stop the traffic, then roomtap's totals are
    // the proxy's (it counted every datagram roomtap sent, and delivered
    // every one roomtap got).
    proxy.set(Impair {
        block: true,
        ..Impair::default()
    });
    h.until("roomtap's counts equal the proxy's", 15, |a| {
        let st = a.store.sources[0].conn.stats;
        let (cd, cb, sd, sb) = proxy.wire();
        (st.frames_out, st.bytes_out, st.frames_in, st.bytes_in) == (cd, cb, sd, sb)
    })
    .await;
    let st = h.app.store.sources[0].conn.stats;
    assert!(st.frames_in > 5 && st.bytes_out > 50, "{st:?}");
    assert_eq!(
        st.messages_in, 3,
        "Chat ×2, Pos, and nothing else counted as messages"
    );
    assert_eq!(st.messages_out, 2);
    assert_eq!(fact(&h.app, 0, "legume state"), "CONNECTED");
    h.goodbye().await;
    // Our goodbye reached the proxy (which blocks it): one more datagram.
    assert!(
        proxy
            .until(Duration::from_secs(5), |w| w.0 > st.frames_out)
            .await,
        "the Disconnected went out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_20_percent_loss_every_reliable_message_ends_acked() {
    let (mut srv, port) = Py::server(&[]).await;
    let proxy = Proxy::start(([127, 0, 0, 1], port).into(), 20).await;
    let mut h = legume(proxy.addr, Some(SCHEMA));
    h.until("connected", 30, connected).await;
    proxy.set(Impair {
        drop: 0.2,
        dup: 0.1,
        reorder: 0.1,
        block: false,
    });
    const N: i64 = 30;
    for seq in 1..=N {
        srv.cmd(json!({"cmd":"send","type":"Chat","reliable":true,
            "values":{"sender":"srv","text":format!("r{seq}"),"seq":seq}}))
            .await;
    }
    for seq in 1..=10 {
        send(
            &mut h,
            true,
            "Chat",
            &[
                ("text", &format!("ours{seq}")),
                ("seq", &(100 + seq).to_string()),
            ],
        );
    }
    h.flush();
    // Every one of the server's arrives, once.
    h.until("all of the server's reliable messages", 60, |a| {
        (1..=N).all(|s| has_log(a, "Chat", &format!("text=\"r{s}\"")))
    })
    .await;
    // The server's pending count reaches 0: every ack it needed came,
    // duplicates' included.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let st = srv.status().await;
        if st["pending_count"] == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server still waits for acks: {st}"
        );
        // The real server is another process, which says its pending list
        // only when asked: asked again after a pause, the app fed meanwhile
        // (roomtap's queue to it is bounded).
        h.drain();
        tokio::time::sleep(Duration::from_millis(300)).await; // allow-sleep: polling another process's state, bounded by the deadline above
    }
    // Ours too: all ten arrived, none left pending.
    for seq in 101..=110 {
        srv.wait("our reliable Chat", 60, |v| {
            v["event"] == "message" && v["values"]["seq"] == seq
        })
        .await;
    }
    h.until("nothing of ours pending", 60, |a| {
        metric(a, "pending acks") == 0.0
    })
    .await;
    let c = &proxy.counts;
    assert!(c.dropped.load(Ordering::Relaxed) > 0 && c.duplicated.load(Ordering::Relaxed) > 0);
    h.until("duplicates counted", 10, |a| metric(a, "duplicates") > 0.0)
        .await;
    // Each shown once.
    let logs = &h.app.store.logs;
    let shown = (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .filter(|e| e.kind == "Chat" && e.summary.contains("text=\"r7\""))
        .count();
    assert_eq!(shown, 1, "{}", dump_logs(&h.app));
    h.goodbye().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_connect_is_said_and_tried_again_only_when_asked() {
    let (mut srv, port) = Py::server(&["--reject"]).await;
    let mut h = legume(([127, 0, 0, 1], port).into(), Some(SCHEMA));
    let rejected = |a: &App| {
        matches!(
            &a.store.sources[0].conn.state,
            ConnState::Errored { reason, will_reconnect: false, retry_in: None }
                if reason.contains("rejected the connection")
        )
    };
    h.until("rejected", 20, rejected).await;
    srv.wait("the request", 10, |v| {
        v["event"] == "connect_request" && v["accepted"] == false
    })
    .await;
    assert_eq!(fact(&h.app, 0, "legume state"), "ERRORED");
    // A command while rejected is refused, said.
    send(&mut h, false, "Chat", &[]);
    h.until("the refusal", 10, |a| {
        has_log(a, "command", ":connect first")
    })
    .await;
    // Asked: one more request, rejected again, and no other.
    h.command(0, CommandKind::Legume(LegumeCommand::Connect));
    h.until("connecting again", 10, |a| !rejected(a)).await;
    h.until("rejected again", 20, rejected).await;
    srv.wait("the second request", 10, |v| {
        v["event"] == "connect_request" && v["accepted"] == false
    })
    .await;
    let st = srv.status().await;
    let requests = srv
        .p
        .seen
        .iter()
        .filter(|v| v["event"] == "connect_request")
        .count();
    assert_eq!(requests, 0, "exactly the two requests asked for: {st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_and_is_connected_again() {
    let (mut srv, port) = Py::server(&["--timeout", "30"]).await;
    let mut cfg = LegumeConfig::new(&format!("127.0.0.1:{port}"));
    cfg.timeout = Duration::from_millis(1200);
    cfg.backoff_base = Duration::from_millis(200);
    cfg.backoff_max = Duration::from_millis(400);
    let mut h = Harness::wired(vec![Box::new(LegumeSource::new("legume", cfg))]).await;
    h.until("connected", 20, connected).await;
    srv.cmd(json!({"cmd": "pause"})).await;
    h.until("timed out", 20, |a| {
        matches!(
            &a.store.sources[0].conn.state,
            ConnState::Errored { reason, will_reconnect: true, retry_in: Some(_) }
                if reason.contains("timed out: nothing heard")
        )
    })
    .await;
    srv.cmd(json!({"cmd": "resume"})).await;
    h.until("connected again", 30, |a| {
        connected(a) && a.store.sources[0].conn.reconnects >= 1
    })
    .await;
    assert!(
        has_log(&h.app, "legume", "connected to"),
        "{}",
        dump_logs(&h.app)
    );
    // The server said Disconnected to us: errored, said.
    srv.cmd(json!({"cmd": "disconnect"})).await;
    h.until("the server's Disconnected", 20, |a| {
        a.store.sources[0]
            .conn
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("said Disconnected"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_client_on_roomtaps_game_server() {
    let mut cfg = GameConfig::new(([127, 0, 0, 1], 0).into());
    cfg.move_every = Duration::from_millis(100);
    cfg.chat_every = Duration::from_millis(300);
    let game = GameServer::start(cfg, None).await.unwrap();
    let port = game.addr().port().to_string();
    let mut c = Py::spawn(
        "client.py",
        &[
            "--port",
            &port,
            "--count",
            "3",
            "--reliable",
            "--seconds",
            "3",
        ],
    );
    c.wait("connected", 20, |v| v["event"] == "connected").await;
    // The game's positions and chat, decoded by the real client.
    let pos = c
        .wait("a Pos", 20, |v| {
            v["event"] == "message" && v["type"] == "Pos"
        })
        .await;
    assert!(pos["values"]["x"].is_number(), "{pos}");
    let chat = c
        .wait("a reliable Chat", 20, |v| {
            v["event"] == "message" && v["type"] == "Chat" && v["reliable"] == true
        })
        .await;
    assert!(
        chat["values"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{chat}"
    );
    let m = c.wait("its metrics", 30, |v| v["event"] == "metrics").await;
    // Everything it sent reliably was acked by roomtap's server.
    assert_eq!(m["pending"], json!([]), "{m}");
    assert!(m["metrics"]["latency"].as_f64().unwrap() > 0.0, "{m}");
    let status = c.p.child.wait().await.unwrap();
    assert!(status.success(), "{status}");
    // It said Disconnected: let go at once (legume's server keeps it).
    assert!(
        game.peers_until(Duration::from_secs(10), |n| n == 0).await,
        "the client is still held"
    );
    let st = game.core().meter.stats();
    assert_eq!(st.messages_in, 3, "its three Chats");
}
