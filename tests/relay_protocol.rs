//! The relay source against a scripted SocketCluster server on loopback that
//! replays captured frames: the legacy (protocol v1) ping style, bad input,
//! and reconnecting with history kept. The real relay is covered by
//! `relay_real.rs`; this server only exists to script what the real one
//! will not do on demand (v1 pings, garbage, dropping the socket).

mod common;

use std::time::Duration;

use common::peers::Harness;
use futures_util::{SinkExt, StreamExt};
use roomtap::event::ConnState;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn recv_text(ws: &mut Ws) -> String {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("client frame within 10 s")
            .expect("stream open")
            .expect("frame ok");
        if let Message::Text(t) = m {
            return t.to_string();
        }
    }
}

/// Handshake as the legacy relay does (captured in legacy-frames.jsonl).
async fn accept_monitor(listener: &TcpListener, socket_id: &str) -> Ws {
    let (tcp, _) = tokio::time::timeout(Duration::from_secs(20), listener.accept())
        .await
        .expect("client connects")
        .unwrap();
    let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
    let hs: serde_json::Value = serde_json::from_str(&recv_text(&mut ws).await).unwrap();
    assert_eq!(hs["event"], "#handshake");
    let cid = hs["cid"].as_u64().unwrap();
    ws.send(Message::text(format!(
        r#"{{"rid":{cid},"data":{{"id":"{socket_id}","pingTimeout":20000,"isAuthenticated":false}}}}"#
    )))
    .await
    .unwrap();
    let login: serde_json::Value = serde_json::from_str(&recv_text(&mut ws).await).unwrap();
    assert_eq!(login["event"], "login");
    assert_ne!(
        login["data"], "master",
        "a monitor must not log in as master"
    );
    ws.send(Message::text(format!(
        r#"{{"rid":{},"data":"log"}}"#,
        login["cid"]
    )))
    .await
    .unwrap();
    let sub: serde_json::Value = serde_json::from_str(&recv_text(&mut ws).await).unwrap();
    assert_eq!(sub["event"], "#subscribe");
    assert_eq!(sub["data"]["channel"], "log");
    ws.send(Message::text(format!(r#"{{"rid":{}}}"#, sub["cid"])))
        .await
        .unwrap();
    ws
}

/// Read client frames until one equals `want` (START transmits may come first).
async fn expect_frame(ws: &mut Ws, want: &str) {
    for _ in 0..20 {
        if recv_text(ws).await == want {
            return;
        }
    }
    panic!("client never sent {want:?}");
}

const LEGACY_ACTION: &str = r##"{"event":"#publish","data":{"channel":"log","data":{"type":"ACTION","id":"xTJpsv966NfopKSLAAAB","name":"legacy-app","payload":"{\"count\":1}","action":"{\"type\":\"PERFORM_ACTION\",\"action\":{\"type\":\"INCREMENT\"},\"timestamp\":1795343079289}","nextActionId":2}}}"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_pings_bad_frames_and_reconnect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}/socketcluster/");
    let mut h = Harness::relay(&url);
    let server = tokio::spawn(async move {
        let mut ws = accept_monitor(&listener, "legacy-monitor-1").await;
        // Protocol v1 keep-alive: "#1" must be answered "#2".
        ws.send(Message::text("#1")).await.unwrap();
        expect_frame(&mut ws, "#2").await;
        // Protocol v2 keep-alive: "" answered "".
        ws.send(Message::text("")).await.unwrap();
        expect_frame(&mut ws, "").await;
        // Garbage: must become visible errors, and the connection goes on.
        ws.send(Message::text("{not json")).await.unwrap();
        ws.send(Message::binary(vec![0u8, 159, 146, 150]))
            .await
            .unwrap();
        ws.send(Message::text(
            r##"{"event":"#publish","data":{"channel":"log","data":{"type":"STATE","payload":"{\"nope\":1}"}}}"##,
        ))
        .await
        .unwrap();
        ws.send(Message::text(LEGACY_ACTION)).await.unwrap();
        ws.send(Message::text("#1")).await.unwrap();
        expect_frame(&mut ws, "#2").await;
        // Drop the socket: the monitor must reconnect and keep its history.
        drop(ws);
        let mut ws = accept_monitor(&listener, "legacy-monitor-2").await;
        ws.send(Message::text("#1")).await.unwrap();
        expect_frame(&mut ws, "#2").await;
        // Keep the connection open until the test is done.
        let _ = tokio::time::timeout(Duration::from_secs(20), ws.next()).await;
    });

    h.until("legacy app action, garbage reported", 20, |a| {
        a.store.sources[0].malformed >= 3 && a.instance().is_some_and(|i| i.entries.len() == 1)
    })
    .await;
    let inst = h.app.instance().unwrap();
    assert_eq!(inst.key, "xTJpsv966NfopKSLAAAB", "keyed by socket id");
    assert!(!inst.has_instance_id);
    let errors = common::peers::dump_logs(&h.app);
    assert!(errors.contains("not a SocketCluster packet"), "{errors}");
    assert!(errors.contains("binary frame"), "{errors}");
    assert!(errors.contains("not a lifted state"), "{errors}");

    h.until("reconnected", 20, |a| {
        let c = &a.store.sources[0].conn;
        c.reconnects == 1 && matches!(c.state, ConnState::Connected { .. })
    })
    .await;
    let c = &h.app.store.sources[0].conn;
    assert_eq!(c.session.as_deref(), Some("legacy-monitor-2"));
    assert!(c.last_error.is_some(), "the drop was recorded");
    assert_eq!(
        h.app.instance().unwrap().entries.len(),
        1,
        "history kept across the reconnect"
    );
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_retries_with_a_countdown() {
    // A port bound (so nobody else can take it) but not listening: every
    // connection to it is refused, for as long as `closed` lives.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = closed.local_addr().unwrap().port();
    let mut h = Harness::relay(&format!("ws://127.0.0.1:{port}/socketcluster/"));
    h.until("errored with a retry scheduled", 10, |a| {
        let c = &a.store.sources[0].conn;
        matches!(
            c.state,
            ConnState::Errored {
                will_reconnect: true,
                ..
            }
        ) && c.retry_at_ms.is_some()
    })
    .await;
    h.until("second attempt, later than the first", 10, |a| {
        common::peers::dump_logs(a).contains("connecting (attempt 2)")
    })
    .await;
}
