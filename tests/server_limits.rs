//! The server kit's limits, on all three servers alike (each of them failed
//! on the main before the kit): a connection cap, an idle deadline that the
//! server's own pings keep a live client inside, a deadline on a message
//! left unfinished that WebSocket pings do not extend, a state budget, and
//! what a client makes the relay keep bounded per socket. Every refusal is
//! said and counted; the room server and the Leap Edge show traffic and
//! typed peers in Connections like the relay. Waits are on events with
//! timeouts; the servers run on 127.0.0.1.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roomtap::event::{Dialect, EventKind, Fact, PeerRole, PeerRow, SourceEvent, TrafficStats};
use roomtap::protocols::leap::server::{LeapServer, LeapServerConfig};
use roomtap::protocols::redux::server::{Relay, RelayConfig};
use roomtap::protocols::room::server::{RoomServer, RoomServerConfig};
use roomtap::protocols::room::wire::codec;
use roomtap::source::Emitter;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(15);

/// What a server reported, as its source's events.
struct Seen {
    rx: mpsc::Receiver<SourceEvent>,
    logs: Vec<String>,
    facts: Vec<(String, String)>,
    peers: Vec<PeerRow>,
    stats: TrafficStats,
}

impl Seen {
    fn new() -> (Emitter, Seen) {
        let (tx, rx) = mpsc::channel(4096);
        (
            Emitter::new(0, tx),
            Seen {
                rx,
                logs: Vec::new(),
                facts: Vec::new(),
                peers: Vec::new(),
                stats: TrafficStats::default(),
            },
        )
    }

    fn take(&mut self, ev: SourceEvent) {
        match ev.kind {
            EventKind::Log(l) => self.logs.push(l.summary),
            EventKind::Facts(f) => {
                for Fact { key, value } in f {
                    self.facts.retain(|(k, _)| *k != key);
                    if let Some(v) = value {
                        self.facts.push((key, v));
                    }
                }
            }
            EventKind::Peers(p) => self.peers = p,
            EventKind::Stats(s) => self.stats = s,
            _ => {}
        }
    }

    fn fact(&self, key: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Wait until `cond` holds of what was reported.
    async fn until(&mut self, what: &str, cond: impl Fn(&Seen) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !cond(self) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(ev)) => self.take(ev),
                Ok(None) => panic!("the server's events ended waiting for {what}"),
                Err(_) => panic!(
                    "no {what} within {WAIT:?}; logs:\n{}\nfacts: {:?}",
                    self.logs.join("\n"),
                    self.facts
                ),
            }
        }
    }

    async fn log(&mut self, text: &str) {
        let t = text.to_string();
        self.until(&format!("a line with {text:?}"), move |s| {
            s.logs.iter().any(|l| l.contains(&t))
        })
        .await;
    }
}

async fn dial(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    tokio_tungstenite::connect_async(url)
        .await
        .map(|(ws, _)| ws)
}

fn status_of(r: Result<Ws, tokio_tungstenite::tungstenite::Error>) -> u16 {
    match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("refused without an HTTP status: {e}"),
        Ok(_) => 101,
    }
}

/// Read (and so answer pings) until the socket ends or `within` passes;
/// returns whether it ended.
async fn ends_within(ws: &mut Ws, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        while let Some(Ok(m)) = ws.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await
    .is_ok()
}

// ---------------------------------------------------------------- room

async fn room(cfg: RoomServerConfig) -> (RoomServer, Seen) {
    let (em, seen) = Seen::new();
    let srv = RoomServer::start(cfg, Some(em)).await.unwrap();
    (srv, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_server_caps_connections_and_says_so() {
    let (srv, mut seen) = room(RoomServerConfig {
        max_conns: 2,
        ..Default::default()
    })
    .await;
    let url = srv.url("test");
    let _a = dial(&url).await.unwrap();
    let _b = dial(&url).await.unwrap();
    assert_eq!(status_of(dial(&url).await), 503);
    seen.log("HTTP 503: too many connections (at most 2)").await;
    seen.until("the refusal counted", |s| {
        s.fact("refused (connection limit)") == Some("1")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_server_drops_a_silent_client_but_keeps_one_that_answers_its_pings() {
    let (srv, mut seen) = room(RoomServerConfig {
        idle_timeout: Duration::from_millis(900),
        ping_every: Duration::from_millis(200),
        ..Default::default()
    })
    .await;
    let url = srv.url("test");
    // Never read: the server's pings go unanswered.
    let _deaf = dial(&url).await.unwrap();
    let mut live = dial(&url).await.unwrap();
    seen.until("both joined", |s| s.peers.len() == 2).await;
    assert!(
        !ends_within(&mut live, Duration::from_millis(2500)).await,
        "a client that answers pings stays"
    );
    seen.log("sent nothing, not even a pong").await;
    seen.until("the drop counted, one participant left", |s| {
        s.fact("dropped (idle)") == Some("1") && s.peers.len() == 1
    })
    .await;
    assert_eq!(srv.participants().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_message_left_unfinished_ends_the_connection_though_pings_go_on() {
    let (srv, mut seen) = room(RoomServerConfig {
        assembly_timeout: Duration::from_millis(800),
        ..Default::default()
    })
    .await;
    let mut ws = dial(&srv.url("test")).await.unwrap();
    // The header of a 3-packet message, and then only pings.
    let packets = codec::encode(7, "developer.log", &vec![b'x'; 3 * codec::CHUNK]);
    assert!(packets.len() > 2);
    ws.send(Message::Binary(packets[0].clone().into()))
        .await
        .unwrap();
    let pinging = async {
        loop {
            if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
                break;
            }
            // Pings paced like a client's keepalive; the wait below is on
            // the server's notice, not on this.
            tokio::time::sleep(Duration::from_millis(100)).await; // allow-sleep: pacing pings
        }
    };
    tokio::select! {
        () = seen.log("did not finish it within") => {}
        () = pinging => panic!("the socket ended before the notice"),
    }
    seen.until("counted", |s| {
        s.fact("dropped (unfinished message)") == Some("1")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_server_shows_its_traffic_and_participants() {
    let (srv, mut seen) = room(RoomServerConfig::default()).await;
    let mut ws = dial(&srv.url("test")).await.unwrap();
    // room_ready and connected come first; then a request is answered.
    for _ in 0..4 {
        let _ = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
    }
    let req = codec::pack(r#"{"type":"log","data":{"a":1}}"#, &[]);
    for p in codec::encode(1, "developer.log", &req) {
        ws.send(Message::Binary(p.into())).await.unwrap();
    }
    seen.until("traffic both ways and the participant", |s| {
        s.stats.frames_in >= 2
            && s.stats.frames_out >= 2
            && s.stats.bytes_out > 0
            && s.peers.iter().any(|p| p.role == PeerRole::Participant)
    })
    .await;
}

// ---------------------------------------------------------------- leap

async fn leap(cfg: LeapServerConfig) -> (LeapServer, Seen) {
    let (em, seen) = Seen::new();
    let srv = LeapServer::start(cfg, Some(em)).await.unwrap();
    (srv, seen)
}

async fn send(ws: &mut Ws, frame: serde_json::Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

/// A client that identified (no token: the project's scope).
async fn identified(srv: &LeapServer) -> Ws {
    let mut ws = dial(&srv.url()).await.unwrap();
    send(
        &mut ws,
        json!({"op": 2, "d": {"project_id": "project_demo"}}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"INIT\"") => return ws,
            Ok(Some(Ok(_))) => {}
            other => panic!("no INIT: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leap_edge_keeps_client_state_within_its_budget_and_forgets_it_with_the_client() {
    let (srv, mut seen) = leap(LeapServerConfig {
        create_channels: true,
        max_state_bytes: 4 << 20,
        ..Default::default()
    })
    .await;
    let mut ws = identified(&srv).await;
    let big = "x".repeat(900 << 10);
    for i in 0..10 {
        let ch = format!("c{i}");
        send(
            &mut ws,
            json!({"op": 0, "d": {"e": "SUBSCRIBE", "c": ch, "d": null}}),
        )
        .await;
        send(
            &mut ws,
            json!({"op": 0, "d": {"e": "SET_CHANNEL_STATE", "c": ch, "d": {"blob": big}}}),
        )
        .await;
    }
    seen.until("the budget's refusals counted", |s| {
        s.fact("refused (state budget)") == Some("6")
    })
    .await;
    assert!(srv.state_bytes() <= 4 << 20, "{}", srv.state_bytes());
    assert_eq!(srv.channels().len(), 10);
    seen.log("would pass 4194304 B").await;
    drop(ws);
    assert!(
        srv.wait_until(WAIT, |s| s.channels().is_empty() && s.state_bytes() == 0)
            .await,
        "the channels the client made go with it: {:?}, {} B",
        srv.channels(),
        srv.state_bytes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leap_edge_caps_the_channels_clients_create() {
    let (srv, mut seen) = leap(LeapServerConfig {
        create_channels: true,
        max_channels: 3,
        ..Default::default()
    })
    .await;
    let mut ws = identified(&srv).await;
    for i in 0..4 {
        send(
            &mut ws,
            json!({"op": 0, "d": {"e": "SUBSCRIBE", "c": format!("c{i}"), "d": null}}),
        )
        .await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("UNAVAILABLE") => {
                assert!(t.contains("\"c3\""), "{t}");
                break;
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no UNAVAILABLE for the 4th channel: {other:?}"),
        }
    }
    seen.until("counted", |s| {
        s.fact("refused (channel limit)") == Some("1")
    })
    .await;
    assert_eq!(srv.channels(), ["c0", "c1", "c2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leap_edge_closes_a_client_that_stops_heartbeating_though_it_pings() {
    let (srv, mut seen) = leap(LeapServerConfig {
        liveness: Duration::from_millis(800),
        ..Default::default()
    })
    .await;
    let mut ws = identified(&srv).await;
    let mut code = None;
    let deadline = tokio::time::Instant::now() + WAIT;
    while code.is_none() {
        let _ = ws.send(Message::Ping(Vec::new().into())).await;
        match tokio::time::timeout(Duration::from_millis(100), ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(f))))) => code = Some(u16::from(f.code)),
            Ok(None) | Ok(Some(Err(_))) => panic!("closed without a close frame"),
            _ => assert!(tokio::time::Instant::now() < deadline, "never closed"),
        }
    }
    assert_eq!(code, Some(4000));
    seen.until("counted", |s| s.fact("dropped (no heartbeat)") == Some("1"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leap_edge_caps_connections_and_shows_traffic_and_typed_peers() {
    let (srv, mut seen) = leap(LeapServerConfig {
        max_conns: 1,
        ..Default::default()
    })
    .await;
    let _ws = identified(&srv).await;
    assert_eq!(status_of(dial(&srv.url()).await), 503);
    seen.until("traffic, the peer and the refusal", |s| {
        s.stats.frames_in >= 1
            && s.stats.frames_out >= 2
            && s.peers
                .iter()
                .any(|p| p.role == PeerRole::Client && p.proto == Dialect::Json)
            && s.fact("refused (connection limit)") == Some("1")
    })
    .await;
}

// ---------------------------------------------------------------- relay

async fn relay(cfg: RelayConfig) -> (Relay, Seen) {
    let (em, seen) = Seen::new();
    let srv = Relay::start(cfg, Some(em)).await.unwrap();
    (srv, seen)
}

async fn sc_client(port: u16, login: &str) -> Ws {
    common::peers::sc_client(port, "", login).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragmented_message_kept_open_by_pings_ends_at_the_ping_timeout() {
    let (srv, mut seen) = relay(common::peers::fast_relay()).await;
    let mut ws = sc_client(srv.local_addr().port(), r#""master""#).await;
    // A text message's first fragment (not final), 1 MiB, then only pings.
    let first = Frame::message(vec![b'x'; 1 << 20], OpCode::Data(Data::Text), false);
    ws.send(Message::Frame(first)).await.unwrap();
    let mut closed = None;
    let deadline = tokio::time::Instant::now() + WAIT;
    while closed.is_none() {
        if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(100), ws.next()).await {
            Ok(Some(Ok(Message::Close(f)))) => closed = Some(f.map(|f| u16::from(f.code))),
            Ok(None) | Ok(Some(Err(_))) => break,
            _ => assert!(tokio::time::Instant::now() < deadline, "never closed"),
        }
    }
    seen.log("answered no ping").await;
    seen.until("counted", |s| s.fact("dropped (no pong)") == Some("1"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_learns_at_most_its_bound_of_instances_per_socket() {
    let (srv, mut seen) = relay(common::peers::fast_relay()).await;
    let mut ws = sc_client(srv.local_addr().port(), r#""master""#).await;
    for i in 0..2000 {
        let msg =
            json!({"type": "START", "id": "x", "instanceId": format!("inst-{i}"), "name": "flood"});
        ws.send(Message::text(format!(r#"{{"event":"log","data":{msg}}}"#)))
            .await
            .unwrap();
    }
    seen.until("the excess counted", |s| {
        s.fact("ignored (instances)") == Some(&(2000 - 256).to_string())
    })
    .await;
    let learned = srv
        .clients()
        .iter()
        .map(|c| c.instances.len())
        .max()
        .unwrap_or(0);
    assert_eq!(learned, 256);
    // The first instances still reach their app alone.
    match srv.reach(
        r#"{"type":"DISPATCH","instanceId":"inst-0","action":{"type":"JUMP_TO_STATE","index":0}}"#,
    ) {
        roomtap::protocols::redux::server::Reach::One { .. } => {}
        other => panic!("inst-0 is routed to one app, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_cannot_subscribe_without_bound() {
    let (srv, mut seen) = relay(common::peers::fast_relay()).await;
    let mut ws = sc_client(srv.local_addr().port(), "{}").await;
    for i in 0..70 {
        ws.send(Message::text(format!(
            r##"{{"event":"#subscribe","data":{{"channel":"ch{i}"}},"cid":{}}}"##,
            100 + i
        )))
        .await
        .unwrap();
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut refused = 0;
    while refused < 6 {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("too many subscriptions") => refused += 1,
            Ok(Some(Ok(_))) => {}
            other => panic!("{refused} refusals, then {other:?}"),
        }
    }
    seen.until("counted", |s| {
        s.fact("refused (subscriptions)") == Some("6")
    })
    .await;
}
