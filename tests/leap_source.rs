//! The Leap source against scripted edges on loopback: the handshake and
//! the connection state machine (HELLO → IDENTIFY → INIT, heartbeats and
//! their latency, an edge that never says HELLO or stops acking, 4001,
//! 4006 followed or refused by where it leads), channel state with its history of diffs, bad frames of every
//! kind (each an error entry, the link goes on), and `:` commands reaching
//! the edge. The real clients against roomtap's own edge are in
//! `tests/leap_server.rs`.

mod common;

use std::time::Duration;

use common::peers::{Harness, dump_logs, fact, has_log};
use futures_util::{SinkExt, StreamExt};
use roomtap::event::ConnState;
use roomtap::protocols::leap::client::{LeapConfig, source::LeapSource};
use roomtap::protocols::leap::wire::codec::{self, Frame};
use roomtap::secret::Secret;
use roomtap::store::channels::Availability;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Conn = WebSocketStream<tokio::net::TcpStream>;

/// An edge whose every connection is handed to the test, with the path it
/// asked for.
async fn edge() -> (String, mpsc::Receiver<(Conn, String)>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", l.local_addr().unwrap());
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        for _ in 0..32 {
            let Ok((tcp, _)) = l.accept().await else {
                return;
            };
            let path = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
            let p2 = path.clone();
            #[allow(clippy::result_large_err)]
            let cb = move |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                           resp| {
                *p2.lock().unwrap() = req.uri().to_string();
                Ok(resp)
            };
            if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await {
                let p = path.lock().unwrap().clone();
                if tx.send((ws, p)).await.is_err() {
                    return;
                }
            }
        }
    });
    (url, rx)
}

async fn next_conn(rx: &mut mpsc::Receiver<(Conn, String)>) -> (Conn, String) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("roomtap connects within 10 s")
        .expect("edge alive")
}

async fn send(ws: &mut Conn, text: &str) {
    ws.send(Message::Text(text.to_string().into()))
        .await
        .unwrap();
}

/// The next frame from roomtap that is not a heartbeat (heartbeats acked
/// when `ack`).
async fn recv(ws: &mut Conn, ack: bool) -> Frame {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a frame from roomtap within 10 s")
            .expect("open")
            .expect("ok");
        let Message::Text(t) = m else { continue };
        let f = codec::decode(&t).unwrap_or_else(|e| panic!("roomtap sent {t}: {e}"));
        match f {
            Frame::Heartbeat { .. } => {
                if ack {
                    send(ws, r#"{"op":4,"d":{"latency":0}}"#).await;
                }
            }
            f => return f,
        }
    }
}

async fn handshake(ws: &mut Conn, scope: &str) -> Frame {
    send(ws, r#"{"op":1,"d":{"heartbeat_interval":200}}"#).await;
    let id = recv(ws, true).await;
    send(
        ws,
        &format!(
            r#"{{"op":0,"d":{{"c":null,"u":false,"e":"INIT","d":{{"cid":"conn_1","connection_count":3,"metadata":null,"scope":"{scope}","channels":[]}}}}}}"#
        ),
    )
    .await;
    id
}

fn cfg(url: &str) -> LeapConfig {
    let mut c = LeapConfig::new(url, "project_test", Some(Secret::new("leap_token_test")));
    c.channels = vec!["chan_1".into()];
    c.hello_timeout = Duration::from_millis(600);
    c.ack_window = Duration::from_millis(400);
    c.ack_grace = Duration::from_millis(150);
    c.reply_timeout = Duration::from_millis(800);
    c.backoff_base = Duration::from_millis(50);
    c.backoff_max = Duration::from_millis(200);
    c
}

async fn harness(c: LeapConfig) -> Harness {
    Harness::wired(vec![Box::new(LeapSource::new("leap", c))]).await
}

fn live(h: &Harness, ch: &str) -> Option<roomtap::store::channels::LiveChannel> {
    h.app.store.sources[0]
        .channels
        .get(ch)
        .and_then(|c| c.live.as_deref().cloned())
}

#[tokio::test]
async fn handshake_channel_state_with_diffs_and_heartbeat_latency() {
    let (url, mut conns) = edge().await;
    let mut h = harness(cfg(&url)).await;
    let (mut ws, _) = next_conn(&mut conns).await;
    let id = handshake(&mut ws, "token").await;
    assert_eq!(
        id,
        Frame::Identify {
            project_id: "project_test".into(),
            token: Some("leap_token_test".into())
        }
    );
    // Subscribed on connect.
    let Frame::Dispatch(sub) = recv(&mut ws, true).await else {
        panic!()
    };
    assert_eq!(
        (sub.event.as_str(), sub.channel.as_deref()),
        ("SUBSCRIBE", Some("chan_1"))
    );
    send(&mut ws, r#"{"op":0,"d":{"c":"chan_1","u":false,"e":"AVAILABLE","d":{"channel":{"id":"chan_1","project_id":"project_test","type":"unprotected","state":{"count":1},"capabilities":0,"created_at":"2023-01-01T00:00:00Z"}}}}"#).await;
    for n in 2..=4 {
        send(&mut ws, &format!(r#"{{"op":0,"d":{{"c":"chan_1","u":false,"e":"STATE_UPDATE","d":{{"state":{{"count":{n},"round":{}}}}}}}}}"#, n / 3)).await;
    }
    send(&mut ws, r#"{"op":0,"d":{"c":"chan_1","u":false,"e":"TOKEN_STATE_UPDATE","d":{"state":{"online":true}}}}"#).await;
    let _ = recv_until_quiet(&mut ws).await;
    h.until("the channel's state history", 10, |a| {
        a.store.sources[0]
            .channels
            .get("chan_1")
            .and_then(|c| c.live.as_ref())
            .is_some_and(|l| l.history.len() == 4 && l.token_state.is_some())
            && a.store.sources[0].conn.rtt.is_some()
    })
    .await;
    let l = live(&h, "chan_1").unwrap();
    assert_eq!(l.availability, Availability::Available);
    assert!(l.facts.contains(&("type".into(), "unprotected".into())));
    assert_eq!(l.state(), Some(r#"{"count":4,"round":1}"#));
    let second = &l.history[1];
    assert_eq!((second.added, second.changed), (1, 1), "{second:?}");
    assert!(matches!(
        h.app.store.sources[0].conn.state,
        ConnState::Connected { .. }
    ));
    assert_eq!(fact(&h.app, 0, "scope"), "token");
    assert_eq!(fact(&h.app, 0, "cid"), "conn_1");
    assert_eq!(fact(&h.app, 0, "leap state"), "connected");
    assert!(!dump_logs(&h.app).contains("leap_token_test"));
}

/// Read (and ack) for half a second so queued frames are consumed.
async fn recv_until_quiet(ws: &mut Conn) -> Vec<Frame> {
    let mut got = Vec::new();
    let until = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(Ok(m))) = tokio::time::timeout_at(until, ws.next()).await {
        if let Message::Text(t) = m {
            match codec::decode(&t) {
                Ok(Frame::Heartbeat { .. }) => send(ws, r#"{"op":4,"d":{}}"#).await,
                Ok(f) => got.push(f),
                Err(_) => {}
            }
        }
        if got.len() > 64 {
            break;
        }
    }
    got
}

#[tokio::test]
async fn an_edge_that_never_says_hello_or_stops_acking_is_given_up_and_retried() {
    let (url, mut conns) = edge().await;
    let mut h = harness(cfg(&url)).await;
    let (_silent, _) = next_conn(&mut conns).await;
    h.until("no HELLO", 10, |a| {
        has_log(a, "connection", "no HELLO within")
    })
    .await;
    // It tries again; this time the edge stops acking after INIT.
    let (mut ws, _) = next_conn(&mut conns).await;
    handshake(&mut ws, "token").await;
    let started = tokio::time::Instant::now();
    while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {}
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "roomtap gave the link up"
    );
    h.until("given up for want of acks", 10, |a| {
        has_log(a, "connection", "no HEARTBEAT_ACK")
    })
    .await;
    assert!(has_log(&h.app, "heartbeat", "one more heartbeat"));
    // And it is back, subscribing to its channel again.
    let (mut ws3, _) = next_conn(&mut conns).await;
    handshake(&mut ws3, "token").await;
    let Frame::Dispatch(sub) = recv(&mut ws3, true).await else {
        panic!()
    };
    assert_eq!(sub.channel.as_deref(), Some("chan_1"));
}

#[tokio::test]
async fn close_4001_stops_for_good_and_4006_follows_the_new_url() {
    let (url_a, mut conns_a) = edge().await;
    let (url_b, mut conns_b) = edge().await;
    let mut h = harness(cfg(&url_a)).await;
    let (mut ws, _) = next_conn(&mut conns_a).await;
    handshake(&mut ws, "token").await;
    let _ = recv(&mut ws, true).await; // SUBSCRIBE
    let target = format!("{url_b}?from=redirect");
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4006),
        reason: target.clone().into(),
    }))
    .await
    .unwrap();
    let (mut wb, path) = next_conn(&mut conns_b).await;
    assert_eq!(path, "/ws?from=redirect");
    handshake(&mut wb, "token").await;
    let Frame::Dispatch(sub) = recv(&mut wb, true).await else {
        panic!()
    };
    assert_eq!(
        sub.channel.as_deref(),
        Some("chan_1"),
        "the subscription survived"
    );
    h.until("redirect shown", 10, |a| {
        fact(a, 0, "redirected to").contains("from=redirect")
            && matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
    })
    .await;
    assert_eq!(h.app.store.sources[0].conn.reconnects, 1);
    // A planned move is a notice, not an error (issue #20).
    let logs = &h.app.store.logs;
    let said: Vec<_> = (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .filter(|e| e.summary.contains("4006"))
        .map(|e| (e.level, e.summary.to_string()))
        .collect();
    assert!(
        !said.is_empty() && said.iter().all(|(l, _)| *l == roomtap::event::Level::Info),
        "{said:?}"
    );
    wb.close(Some(CloseFrame {
        code: CloseCode::from(4001),
        reason: "Invalid auth".into(),
    }))
    .await
    .unwrap();
    h.until("4001 said plainly", 10, |a| {
        matches!(
            &a.store.sources[0].conn.state,
            ConnState::Errored { will_reconnect: false, reason, .. } if reason.contains("4001") && reason.contains("will not reconnect")
        )
    })
    .await;
    assert_eq!(fact(&h.app, 0, "last close"), "4001 invalid auth");
}

#[tokio::test]
async fn a_bad_redirect_is_refused_and_the_same_edge_dialled_again() {
    let (url, mut conns) = edge().await;
    let mut h = harness(cfg(&url)).await;
    let (mut ws, _) = next_conn(&mut conns).await;
    handshake(&mut ws, "token").await;
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4006),
        reason: "http://evil.example/".into(),
    }))
    .await
    .unwrap();
    h.until("refused redirect", 10, |a| {
        has_log(a, "connection", "not a ws:// or wss:// URL")
    })
    .await;
    let _ = next_conn(&mut conns).await;
}

/// An edge on loopback closes with 4006 towards `target`.
async fn redirect_to(ws: &mut Conn, target: &str) {
    handshake(ws, "token").await;
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4006),
        reason: target.to_string().into(),
    }))
    .await
    .unwrap();
}

/// A redirect to another host would take the token there: it is refused
/// in words (where it wanted to go, redacted, and why) and the same edge
/// is dialled again, with the token, at the URL it had.
#[tokio::test]
async fn a_redirect_to_another_host_is_refused_and_the_same_edge_dialled_again() {
    let (url, mut conns) = edge().await;
    let mut h = harness(cfg(&url)).await;
    let (mut ws, _) = next_conn(&mut conns).await;
    redirect_to(&mut ws, "ws://evil.example/ws?token=handed_over").await;
    let (mut again, path) = next_conn(&mut conns).await;
    assert_eq!(path, "/ws", "the edge's own URL");
    h.until("the refusal said", 10, |a| {
        has_log(a, "connection", "redirect refused")
    })
    .await;
    let logs = dump_logs(&h.app);
    assert!(
        logs.contains("ws://evil.example/ws?token=***")
            && logs.contains("evil.example is neither loopback nor 127.0.0.1")
            && logs.contains("--leap-follow-any"),
        "{logs}"
    );
    assert!(!logs.contains("handed_over"), "{logs}");
    assert_eq!(fact(&h.app, 0, "redirected to"), "");
    // The state machine goes on: the same edge gets the token again.
    assert_eq!(
        handshake(&mut again, "token").await,
        Frame::Identify {
            project_id: "project_test".into(),
            token: Some("leap_token_test".into())
        }
    );
    h.until("connected again", 10, |a| {
        matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
    })
    .await;
}

/// Loopback is loopback by any name: from 127.0.0.1 to `localhost` on
/// another port is followed without asking.
#[tokio::test]
async fn a_redirect_to_loopback_by_name_is_followed() {
    let (url_a, mut conns_a) = edge().await;
    let (url_b, mut conns_b) = edge().await;
    let mut h = harness(cfg(&url_a)).await;
    let (mut ws, _) = next_conn(&mut conns_a).await;
    let target = url_b.replace("127.0.0.1", "localhost");
    redirect_to(&mut ws, &target).await;
    let (mut wb, _) = next_conn(&mut conns_b).await;
    assert!(matches!(
        handshake(&mut wb, "token").await,
        Frame::Identify { .. }
    ));
    h.until("redirect shown", 10, |a| {
        fact(a, 0, "redirected to").starts_with("ws://localhost:")
    })
    .await;
}

/// `0.0.0.0` reaches this machine's loopback (on Linux and macOS) but is no
/// loopback address: the rule refuses it, `--leap-follow-any` follows it.
#[tokio::test]
async fn leap_follow_any_follows_what_the_rule_refuses() {
    for follow_any in [false, true] {
        let (url_a, mut conns_a) = edge().await;
        let (url_b, mut conns_b) = edge().await;
        let mut c = cfg(&url_a);
        c.follow_any = follow_any;
        let mut h = harness(c).await;
        let (mut ws, _) = next_conn(&mut conns_a).await;
        let target = format!("{}?from=redirect", url_b.replace("127.0.0.1", "0.0.0.0"));
        redirect_to(&mut ws, &target).await;
        if follow_any {
            let (mut wb, path) = next_conn(&mut conns_b).await;
            assert_eq!(path, "/ws?from=redirect");
            handshake(&mut wb, "token").await;
            h.until("redirect shown", 10, |a| {
                fact(a, 0, "redirected to").contains("0.0.0.0")
                    && matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
            })
            .await;
            assert!(has_log(
                &h.app,
                "connection",
                "reconnecting to ws://0.0.0.0:"
            ));
        } else {
            let (_, path) = next_conn(&mut conns_a).await;
            assert_eq!(path, "/ws");
            h.until("refused", 10, |a| {
                has_log(a, "connection", "0.0.0.0 is neither loopback")
            })
            .await;
            assert!(conns_b.try_recv().is_err(), "nothing dialled 0.0.0.0");
        }
    }
}

#[tokio::test]
async fn bad_frames_are_error_entries_and_the_link_goes_on() {
    let (url, mut conns) = edge().await;
    let mut h = harness(cfg(&url)).await;
    let (mut ws, _) = next_conn(&mut conns).await;
    handshake(&mut ws, "token").await;
    for t in [
        "not json",
        r#"{"d":{"no":"op"}}"#,
        r#"{"op":0,"d":"nope"}"#,
        r#"{"op":0,"d":{"c":"chan_1","e":"STATE_UPDATE","d":[1]}}"#,
        r#"{"op":0,"d":{"c":"chan_1","e":"AVAILABLE","d":{"channel":{"id":5}}}}"#,
        r#"{"op":9,"d":{}}"#,
        r#"{"op":0,"d":{"c":"chan_1","u":false,"e":"SOMETHING_NEW","d":{"x":1}}}"#,
    ] {
        send(&mut ws, t).await;
    }
    ws.send(Message::Binary(b"\x78\x9cgarbage".to_vec().into()))
        .await
        .unwrap();
    let bomb = codec::deflate(&" ".repeat(codec::MAX_FRAME * 2));
    ws.send(Message::Binary(bomb.into())).await.unwrap();
    let z = codec::deflate(
        r#"{"op":0,"d":{"c":"chan_1","u":false,"e":"MESSAGE","d":{"e":"chat","d":{"text":"still here"}}}}"#,
    );
    ws.send(Message::Binary(z.into())).await.unwrap();
    let _ = recv_until_quiet(&mut ws).await;
    h.until("the message after the bad frames", 10, |a| {
        has_log(a, "MESSAGE", "still here")
    })
    .await;
    let src = &h.app.store.sources[0];
    assert_eq!(src.malformed, 7, "{}", dump_logs(&h.app));
    assert!(has_log(&h.app, "leap", "unknown op 9"));
    assert!(has_log(&h.app, "leap", "unknown event SOMETHING_NEW"));
    assert!(has_log(&h.app, "malformed", "inflates past"));
    assert!(matches!(src.conn.state, ConnState::Connected { .. }));
    assert_eq!(src.conn.connects, 1);
    assert!(fact(&h.app, 0, "compression").contains("zlib frames"));
    assert_eq!(src.channels.get("chan_1").map(|c| c.messages), Some(1));
}

#[tokio::test]
async fn commands_from_the_line_reach_the_edge_and_their_replies_are_shown() {
    let (url, mut conns) = edge().await;
    let mut c = cfg(&url);
    c.channels.clear();
    // The test stops reading while it waits: no heartbeat give-up here.
    c.ack_window = Duration::from_secs(30);
    let mut h = harness(c).await;
    let (mut ws, _) = next_conn(&mut conns).await;
    handshake(&mut ws, "project").await;
    h.until("connected", 10, |a| {
        matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
    })
    .await;
    h.typed("sub lobby");
    let Frame::Dispatch(d) = recv(&mut ws, true).await else {
        panic!()
    };
    assert_eq!(
        (d.event.as_str(), d.channel.as_deref()),
        ("SUBSCRIBE", Some("lobby"))
    );
    send(&mut ws, r#"{"op":0,"d":{"c":"lobby","u":false,"e":"UNAVAILABLE","d":{"graceful":false,"error_code":"NOT_GRANTED"}}}"#).await;
    h.typed(r#"msg lobby chat {"text":"hi"}"#);
    let Frame::Dispatch(d) = recv(&mut ws, true).await else {
        panic!()
    };
    assert_eq!(d.event, "MESSAGE");
    let v: serde_json::Value = serde_json::from_str(&d.data).unwrap();
    assert_eq!(v, serde_json::json!({"e":"chat","d":{"text":"hi"}}));
    h.typed(r#"state lobby {"count":2}"#);
    let Frame::Dispatch(d) = recv(&mut ws, true).await else {
        panic!()
    };
    assert_eq!(
        (d.event.as_str(), d.data.as_str()),
        ("SET_CHANNEL_STATE", r#"{"count":2}"#)
    );
    h.typed("pipe jt_very_secret");
    let Frame::Dispatch(d) = recv(&mut ws, true).await else {
        panic!()
    };
    assert_eq!(d.event, "PIPE_ROOM_SUBSCRIBE");
    assert!(d.data.contains("jt_very_secret"));
    // No STATE_UPDATE and no pipe room: both said, after the reply window.
    h.until("the lack of replies", 10, |a| {
        has_log(a, "command", "no answer to SET_CHANNEL_STATE on lobby")
            && has_log(a, "command", "no answer to PIPE_ROOM_SUBSCRIBE")
    })
    .await;
    let l = live(&h, "lobby").unwrap();
    assert!(
        matches!(l.availability, Availability::Unavailable(ref r) if r.contains("NOT_GRANTED"))
    );
    assert!(!dump_logs(&h.app).contains("jt_very_secret"));
    assert_eq!(fact(&h.app, 0, "scope"), "project");
    h.typed("unsub lobby");
    let Frame::Dispatch(d) = recv(&mut ws, true).await else {
        panic!()
    };
    assert_eq!(d.event, "UNSUBSCRIBE");
}

#[tokio::test]
async fn an_edge_that_never_sends_init_is_given_up_in_words() {
    let (url, mut conns) = edge().await;
    let mut c = cfg(&url);
    c.init_timeout = Duration::from_millis(500);
    let mut h = harness(c).await;
    let (mut ws, _) = next_conn(&mut conns).await;
    send(&mut ws, r#"{"op":1,"d":{"heartbeat_interval":200}}"#).await;
    assert!(matches!(recv(&mut ws, true).await, Frame::Identify { .. }));
    h.until("no INIT", 10, |a| {
        has_log(a, "connection", "no INIT within")
    })
    .await;
    assert_eq!(fact(&h.app, 0, "leap state"), "errored");
    // And it dials again.
    let _ = next_conn(&mut conns).await;
}

/// A Leap edge that is not there: errored, and the facts say so too (not
/// `connecting` beside `errored`, issue #20).
#[tokio::test]
async fn a_failed_connection_is_errored_in_the_facts_too() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut h = harness(cfg(&format!("ws://127.0.0.1:{port}/ws"))).await;
    h.until("errored", 10, |a| {
        matches!(a.store.sources[0].conn.state, ConnState::Errored { .. })
            && fact(a, 0, "leap state") == "errored"
    })
    .await;
}
