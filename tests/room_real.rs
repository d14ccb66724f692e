//! roomtap's room source and room server with the real MeshAgent JS client
//! (`@meshagent/meshagent` 0.39.9 from npm, tests/peers/meshagent/client.mjs)
//! on loopback: the JS client and roomtap share a room, see each other's
//! developer logs live, watching switches off and on, a bad token gets 403.

mod common;

use common::peers::{Harness, NodePeer, fact, has_log, peers_dir};
use roomtap::event::{ConnState, Level};
use roomtap::protocols::room::client::{Generation, RoomConfig};
use roomtap::protocols::room::server::{RoomServer, RoomServerConfig};
use roomtap::protocols::room::wire::token::Secret;
use roomtap::protocols::room::wire::token::participant_token;
use roomtap::ui::keymap::Action;
use serde_json::json;

const SECRET: &str = "devsecret";

async fn server(toolkit: bool) -> RoomServer {
    RoomServer::start(
        RoomServerConfig {
            secret: Some(Secret::new(SECRET)),
            toolkit,
            ..Default::default()
        },
        None,
    )
    .await
    .expect("room server binds")
}

fn roomtap(url: &str, secret: &str) -> Harness {
    Harness::room(RoomConfig::new(
        url,
        Some(participant_token(secret, "roomtap", "test")),
    ))
}

async fn js(url: &str, secret: &str) -> NodePeer {
    NodePeer::spawn(
        &peers_dir("meshagent"),
        &[
            "client.mjs",
            "--url",
            url,
            "--secret",
            secret,
            "--watch",
            "--seconds",
            "90",
        ],
    )
    .await
}

async fn js_send(p: &mut NodePeer, cmd: serde_json::Value) {
    use tokio::io::AsyncWriteExt;
    let stdin = p.child.stdin.as_mut().expect("stdin");
    stdin
        .write_all(format!("{cmd}\n").as_bytes())
        .await
        .expect("peer reads stdin");
}

/// Type a `:` command line into roomtap, as a user would.
fn type_command(h: &mut Harness, line: &str) {
    h.app.act(Action::CommandLine);
    for c in line.chars() {
        h.app.act(Action::Input(c));
    }
    h.app.act(Action::Submit);
    h.flush();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_js_room_client_and_roomtap_see_each_others_developer_logs() {
    let srv = server(true).await;
    let url = srv.url("test");
    let mut h = roomtap(&url, SECRET);
    h.until("roomtap watching", 15, |a| {
        fact(a, 0, "developer logs").starts_with("on (developer toolkit")
    })
    .await;
    assert_eq!(fact(&h.app, 0, "room"), "test");
    assert!(fact(&h.app, 0, "participant").starts_with("participant-"));
    assert!(matches!(
        h.app.store.sources[0].conn.state,
        ConnState::Connected { .. }
    ));

    let mut peer = js(&url, SECRET).await;
    let hello = peer
        .wait_json("JS connected", 30, |v| v["event"] == "connected")
        .await;
    assert_eq!(hello["room"], "test");
    peer.wait_json("JS watching", 30, |v| v["event"] == "watching")
        .await;

    // JS → roomtap.
    js_send(
        &mut peer,
        json!({"cmd": "log", "type": "js.hello", "data": {"from": "node", "n": 1}}),
    )
    .await;
    peer.wait_json("JS gets its own log", 15, |v| {
        v["event"] == "log" && v["type"] == "js.hello"
    })
    .await;
    h.until("roomtap shows the JS log", 15, |a| {
        has_log(a, "js.hello", r#""from":"node""#)
    })
    .await;

    // An otel.log record from JS becomes a log line with its level.
    let otel = json!({"resourceLogs": [{"scopeLogs": [{"scope": {"name": "js-agent"}, "logRecords": [
        {"severityNumber": 17, "body": {"stringValue": "upstream timed out"},
         "attributes": [{"key": "attempt", "value": {"intValue": "2"}}]}]}]}]});
    js_send(
        &mut peer,
        json!({"cmd": "log", "type": "otel.log", "data": otel}),
    )
    .await;
    h.until("roomtap decodes the otel record", 15, |a| {
        has_log(a, "js-agent", "upstream timed out attempt=2")
    })
    .await;
    let logs = &h.app.store.logs;
    let rec = (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .find(|e| e.kind == "js-agent")
        .unwrap();
    assert_eq!(rec.level, Level::Error);

    // roomtap → JS, typed on the command line.
    type_command(&mut h, r#"log info {"message":"hello from roomtap"}"#);
    let got = peer
        .wait_json("JS gets roomtap's log", 15, |v| {
            v["event"] == "log" && v["type"] == "info"
        })
        .await;
    assert_eq!(got["data"], json!({"message": "hello from roomtap"}));
    type_command(&mut h, "warn disk almost full");
    let got = peer
        .wait_json("JS gets roomtap's warning", 15, |v| {
            v["event"] == "log" && v["type"] == "warning"
        })
        .await;
    assert_eq!(got["data"]["message"], "disk almost full");
    h.until("roomtap says its log was accepted", 15, |a| {
        has_log(a, "sent", "developer warning disk almost full: accepted")
    })
    .await;

    // Watching off: the room stops sending to roomtap; JS still gets logs.
    h.app.act(Action::Watch);
    h.flush();
    h.until("roomtap stopped watching", 15, |a| {
        fact(a, 0, "developer logs").starts_with("off")
    })
    .await;
    assert_eq!(srv.watchers("test"), 1, "only the JS stream is left");
    js_send(
        &mut peer,
        json!({"cmd": "log", "type": "js.unseen", "data": {}}),
    )
    .await;
    peer.wait_json("JS gets js.unseen", 15, |v| v["type"] == "js.unseen")
        .await;
    // And on again: later logs arrive, the one sent while off never does.
    h.app.act(Action::Watch);
    h.flush();
    h.until("roomtap watching again", 15, |a| {
        fact(a, 0, "developer logs").starts_with("on")
    })
    .await;
    js_send(
        &mut peer,
        json!({"cmd": "log", "type": "js.after", "data": {}}),
    )
    .await;
    h.until("roomtap sees js.after", 15, |a| {
        has_log(a, "js.after", "{}")
    })
    .await;
    assert!(
        !has_log(&h.app, "js.unseen", ""),
        "a log sent while not watching arrived"
    );

    // An unknown tool: the JS client gets the room's error with its code.
    js_send(
        &mut peer,
        json!({"cmd": "invoke", "toolkit": "nope", "tool": "missing"}),
    )
    .await;
    let e = peer
        .wait_json("JS gets error 1003", 15, |v| v["event"] == "error")
        .await;
    assert_eq!(e["code"], 1003);
    assert_eq!(h.app.store.sources[0].malformed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_gets_403_explained_and_not_retried() {
    let srv = server(true).await;
    let url = srv.url("test");
    let mut h = roomtap(&url, "not-the-secret");
    h.until("roomtap gives up", 15, |a| {
        matches!(
            &a.store.sources[0].conn.state,
            ConnState::Errored { reason, will_reconnect: false, .. } if reason.contains("HTTP 403")
        )
    })
    .await;
    let mut peer = js(&url, "not-the-secret").await;
    let e = peer
        .wait_json("JS refused", 30, |v| v["event"] == "error")
        .await;
    assert!(e["message"].as_str().unwrap_or("").contains("403"), "{e}");
    // A token for another room is refused as well.
    let mut other = Harness::room(RoomConfig::new(
        &url,
        Some(participant_token(SECRET, "roomtap", "elsewhere")),
    ));
    other
        .until("refused for the wrong room", 15, |a| {
            matches!(
                &a.store.sources[0].conn.state,
                ConnState::Errored {
                    will_reconnect: false,
                    ..
                }
            )
        })
        .await;
    // No room at that path: 404, explained, not retried.
    let mut lost = Harness::room(RoomConfig::new(
        &format!("ws://{}/nowhere", srv.local_addr()),
        Some(participant_token(SECRET, "roomtap", "test")),
    ));
    lost.until("404 explained", 15, |a| {
        matches!(
            &a.store.sources[0].conn.state,
            ConnState::Errored { reason, will_reconnect: false, .. }
                if reason.contains("no room at this URL (HTTP 404)")
        )
    })
    .await;
    assert!(srv.participants().is_empty());
}

/// A room without the developer toolkit: roomtap falls back to the legacy
/// `developer.watch` and sends its logs as `developer.log`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_room_is_watched_with_developer_watch() {
    let srv = server(false).await;
    let url = srv.url("test");
    let mut h = roomtap(&url, SECRET);
    h.until("legacy watching", 15, |a| {
        fact(a, 0, "developer logs") == "on (legacy developer.watch)"
    })
    .await;
    assert!(has_log(&h.app, "room", "the room has no developer toolkit"));
    srv.publish("test", "agent.step", &json!({"message": "thinking"}));
    h.until("pushed developer.log arrives", 15, |a| {
        has_log(a, "agent.step", "thinking")
    })
    .await;
    type_command(&mut h, r#"log roomtap.echo {"k":1}"#);
    h.until("roomtap's own log comes back", 15, |a| {
        has_log(a, "roomtap.echo", r#"{"k":1}"#)
    })
    .await;
    h.app.act(Action::Watch);
    h.flush();
    h.until("unwatched", 15, |a| {
        fact(a, 0, "developer logs").starts_with("off")
    })
    .await;
    assert_eq!(srv.watchers("test"), 0);
}

/// `--dev-logs legacy` on a room that speaks both: roomtap uses legacy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generation_can_be_forced() {
    let srv = server(true).await;
    let mut cfg = RoomConfig::new(
        &srv.url("test"),
        Some(participant_token(SECRET, "roomtap", "test")),
    );
    cfg.generation = Generation::Legacy;
    let mut h = Harness::room(cfg);
    h.until("legacy watching", 15, |a| {
        fact(a, 0, "developer logs") == "on (legacy developer.watch)"
    })
    .await;
}

/// The room goes away and comes back on the same port: roomtap retries
/// with backoff, rejoins and watches again by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_source_reconnects_and_watches_again() {
    let srv = server(true).await;
    let addr = srv.local_addr();
    let url = srv.url("test");
    let mut h = roomtap(&url, SECRET);
    h.until("watching", 15, |a| {
        fact(a, 0, "developer logs").starts_with("on")
    })
    .await;
    drop(srv);
    h.until("the loss seen, a retry planned", 15, |a| {
        matches!(
            a.store.sources[0].conn.state,
            ConnState::Errored {
                will_reconnect: true,
                ..
            }
        )
    })
    .await;
    let srv = RoomServer::start(
        RoomServerConfig {
            bind: addr,
            secret: Some(Secret::new(SECRET)),
            ..Default::default()
        },
        None,
    )
    .await
    .expect("the port is free again");
    h.until("rejoined and watching", 20, |a| {
        a.store.sources[0].conn.reconnects >= 1 && srv.watchers("test") == 1
    })
    .await;
    srv.publish("test", "after.restart", &json!({"ok": 1}));
    h.until("logs flow again", 15, |a| has_log(a, "after.restart", "ok"))
        .await;
}

/// roomtap pings the room (RTT in Connections) and drops a room that
/// stops answering pings, then retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_measure_rtt_and_a_silent_room_is_dropped() {
    let srv = server(true).await;
    let mut cfg = RoomConfig::new(
        &srv.url("test"),
        Some(participant_token(SECRET, "roomtap", "test")),
    );
    cfg.ping_every = std::time::Duration::from_millis(100);
    let mut h = Harness::room(cfg.clone());
    h.until("an RTT from a pong", 15, |a| {
        a.store.sources[0].conn.rtt.is_some()
    })
    .await;

    // A room that shakes hands and then never reads again (no pongs).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/rooms/mute", listener.local_addr().unwrap());
    let mute = tokio::spawn(async move {
        use futures_util::SinkExt;
        use roomtap::protocols::room::wire::codec::{encode, pack};
        let mut held = Vec::new();
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            for (kind, head) in [
                (
                    "room_ready",
                    json!({"room_name": "mute", "session_id": "s"}),
                ),
                ("connected", json!({"type": "init", "participantId": "p"})),
            ] {
                for p in encode(1, kind, &pack(&head.to_string(), &[])) {
                    ws.send(tokio_tungstenite::tungstenite::Message::Binary(p.into()))
                        .await
                        .unwrap();
                }
            }
            held.push(ws); // never read: pings go unanswered
        }
    });
    cfg.url = url;
    cfg.watch = false;
    let mut h = Harness::room(cfg);
    h.until("dropped for missing pongs", 15, |a| {
        matches!(
            &a.store.sources[0].conn.state,
            ConnState::Errored { reason, will_reconnect: true, .. } if reason.contains("no pong")
        )
    })
    .await;
    mute.abort();
}

/// A token without the developer grant: the room says 1001 and roomtap
/// shows it in words, with the hint about the grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_the_developer_grant_is_explained() {
    let srv = server(true).await;
    let claims = json!({"name": "no-dev", "grants": [
        {"name": "room", "scope": "test"},
        {"name": "api", "scope": {"storage": {}, "messaging": {}}},
    ]});
    let token = Secret::new(roomtap::protocols::room::wire::token::sign_hs256(
        SECRET.as_bytes(),
        &claims,
    ));
    let mut h = Harness::room(RoomConfig::new(&srv.url("test"), Some(token)));
    h.until("the refusal in words", 15, |a| {
        has_log(
            a,
            "room",
            "code 1001: permission denied: does the token carry the developer grant?",
        ) && fact(a, 0, "developer logs").starts_with("off")
    })
    .await;
}
