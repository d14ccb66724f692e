//! roomtap's own relay against the real packages from npm: apps using
//! `@redux-devtools/remote` 1.0.0 (SocketCluster protocol v2) and
//! `remote-redux-devtools` 0.5.16 (protocol v1), a monitor built on
//! `socketcluster-client` 20, roomtap's monitor over the network and
//! in-process; plus limits, the secret and a restart.

mod common;

use std::time::Duration;

use common::peers::{Harness, NodePeer, dump_logs, peers_dir};
use futures_util::{SinkExt, StreamExt};
use roomtap::app::App;
use roomtap::event::ConnState;
use roomtap::event::{Dialect, PeerRole};
use roomtap::protocols::redux::server::{Proto, Relay, RelayConfig, Role};
use roomtap::store::timeline::Instance;
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;
use tokio_tungstenite::tungstenite::Message;

use common::peers::fast_relay as cfg;

fn named<'a>(a: &'a App, name: &str) -> Option<&'a Instance> {
    a.store
        .timeline
        .instances
        .iter()
        .find(|i| i.name.as_deref() == Some(name))
}

fn logs_matching(a: &App, needle: &str) -> usize {
    let logs = &a.store.logs;
    (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .filter(|e| e.summary.contains(needle))
        .count()
}

async fn app_peer(legacy: bool, port: u16, name: &str, extra: &[&str]) -> NodePeer {
    let port = port.to_string();
    let (dir, script) = if legacy {
        ("redux-legacy", "app.cjs")
    } else {
        ("redux", "app.mjs")
    };
    let mut args = vec![script, "--port", &port, "--name", name];
    args.extend_from_slice(extra);
    NodePeer::spawn(&peers_dir(dir), &args).await
}

/// Select the instance called `name` in the ui.
fn select(h: &mut Harness, name: &str) {
    for _ in 0..h.app.store.timeline.instances.len() {
        if h.app.instance().and_then(|i| i.name.as_deref()) == Some(name) {
            return;
        }
        h.app.act(Action::NextInstance);
    }
    panic!("no instance {name}");
}

/// Jump the selected instance to state `index` the way a user does.
fn jump(h: &mut Harness, index: usize) {
    h.app.act(Action::Focus(Pane::Timeline));
    h.app.act(Action::Top);
    for _ in 0..index {
        h.app.act(Action::Down);
    }
    h.app.act(Action::Activate);
    h.flush();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_generations_stay_connected_and_stream() {
    let mut h = Harness::embedded(cfg()).await;
    // 12 actions 400 ms apart: ~5 s, several ping timeouts long.
    let slow = [
        "--actions",
        "12",
        "--interval",
        "400",
        "--start-after",
        "300",
    ];
    let mut cur = app_peer(false, h.port(), "cur", &slow).await;
    let mut leg = app_peer(true, h.port(), "leg", &slow).await;
    cur.wait_json("current app done", 40, |v| v["event"] == "done")
        .await;
    leg.wait_json("legacy app done", 40, |v| v["event"] == "done")
        .await;
    h.until("both apps fully listed", 20, |a| {
        named(a, "cur").is_some_and(|i| i.entries.len() == 13)
            && named(a, "leg").is_some_and(|i| i.entries.len() == 13)
    })
    .await;
    let clients = h.relay.as_ref().unwrap().clients();
    let proto = |name: &str| {
        clients
            .iter()
            .find(|c| c.name.as_deref() == Some(name))
            .map(|c| (c.role, c.proto))
    };
    assert_eq!(proto("cur"), Some((Role::App, Proto::V2)), "{clients:?}");
    assert_eq!(proto("leg"), Some((Role::App, Proto::V1)), "{clients:?}");
    // The Connections pane lists them under the relay, and its counters move.
    h.until("clients and traffic reported", 10, |a| {
        let s = &a.store.sources[0];
        let has = |name: &str, proto: Dialect| {
            s.peers.iter().any(|p| {
                p.role == PeerRole::App && p.proto == proto && p.name.as_deref() == Some(name)
            })
        };
        has("cur", Dialect::V2)
            && has("leg", Dialect::V1)
            && s.conn.stats.frames_in > 20
            && s.conn.stats.bytes_out > 0
    })
    .await;
    // Each app logged in once: nobody was dropped for missing pongs.
    assert_eq!(
        logs_matching(&h.app, "app logged in"),
        2,
        "{}",
        dump_logs(&h.app)
    );
    assert_eq!(logs_matching(&h.app, "left"), 0, "{}", dump_logs(&h.app));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jump_moves_only_the_selected_app() {
    let mut h = Harness::embedded(cfg()).await;
    // Two stores in one process: two sockets, two instances, one stdout.
    let mut apps = app_peer(
        false,
        h.port(),
        "c",
        &["--stores", "2", "--actions", "4", "--interval", "50"],
    )
    .await;
    apps.wait_line("both stores done", 30, |l| {
        l.contains(r#""event":"done""#) && l.contains(r#""name":"c-2""#)
    })
    .await;
    h.until("both listed", 20, |a| {
        named(a, "c-1").is_some_and(|i| i.entries.len() == 5)
            && named(a, "c-2").is_some_and(|i| i.entries.len() == 5)
    })
    .await;
    select(&mut h, "c-1");
    let status = |h: &Harness| h.app.ui.status.clone().map(|s| s.0).unwrap_or_default();
    jump(&mut h, 2);
    assert!(status(&h).contains("only"), "{}", status(&h));
    // Lines arrive in order from one process: everything printed until
    // c-2's own jump shows, with no c-2 change caused by c-1's jump.
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut c1_jumped = false;
    loop {
        let l = tokio::time::timeout_at(deadline, apps.lines.recv())
            .await
            .expect("c-1 jumps")
            .expect("app alive");
        let v: serde_json::Value = serde_json::from_str(&l).unwrap_or_default();
        seen.push(l);
        if v["event"] == "state" && v["name"] == "c-1" && v["currentStateIndex"] == 2 {
            c1_jumped = true;
        }
        if c1_jumped {
            break;
        }
    }
    select(&mut h, "c-2");
    jump(&mut h, 3);
    loop {
        let l = tokio::time::timeout_at(deadline, apps.lines.recv())
            .await
            .expect("c-2 jumps")
            .expect("app alive");
        let v: serde_json::Value = serde_json::from_str(&l).unwrap_or_default();
        let done = v["event"] == "state" && v["name"] == "c-2" && v["currentStateIndex"] == 3;
        seen.push(l);
        if done {
            break;
        }
    }
    let c2_moved_by_c1 = seen
        .iter()
        .any(|l| l.contains(r#""name":"c-2""#) && l.contains(r#""currentStateIndex":2"#));
    assert!(
        !c2_moved_by_c1,
        "c-2 obeyed a jump meant for c-1:\n{}",
        seen.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socketcluster_client_monitor_drives_a_real_app() {
    let mut h = Harness::embedded(cfg()).await;
    let mut app = app_peer(
        false,
        h.port(),
        "counter",
        &[
            "--actions",
            "6",
            "--interval",
            "150",
            "--start-after",
            "300",
        ],
    )
    .await;
    h.until("app announced", 20, |a| named(a, "counter").is_some())
        .await;
    let inst = named(&h.app, "counter").unwrap().key.clone();
    let port = h.port().to_string();
    let mut mon = NodePeer::spawn(
        &peers_dir("redux"),
        &[
            "sc-monitor.mjs",
            "--port",
            &port,
            "--jump-instance",
            &inst,
            "--jump-index",
            "1",
            "--after",
            "2",
        ],
    )
    .await;
    mon.wait_json("login", 20, |v| {
        v["event"] == "login" && v["channel"] == "log"
    })
    .await;
    mon.wait_json("a STATE", 20, |v| {
        v["event"] == "msg" && v["type"] == "STATE"
    })
    .await;
    mon.wait_json("jump sent", 20, |v| {
        v["event"] == "sent" && v["what"] == "JUMP_TO_STATE"
    })
    .await;
    let s = app
        .wait_json("the app jumped", 20, |v| {
            v["event"] == "state" && v["currentStateIndex"] == 1
        })
        .await;
    assert_eq!(s["count"], 1, "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_leaving_does_not_silence_the_apps() {
    let mut h = Harness::embedded(cfg()).await;
    let url = format!("ws://127.0.0.1:{}/socketcluster/", h.port());
    let mut other = Harness::relay(&url);
    other
        .until("second monitor connected", 20, |a| {
            matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
        })
        .await;
    let mut app = app_peer(
        false,
        h.port(),
        "counter",
        &[
            "--actions",
            "20",
            "--interval",
            "100",
            "--start-after",
            "300",
        ],
    )
    .await;
    other
        .until("the second monitor sees actions", 20, |a| {
            a.instance().is_some_and(|i| i.entries.len() >= 4)
        })
        .await;
    drop(other);
    app.wait_json("app done", 30, |v| v["event"] == "done")
        .await;
    h.until("every action still reached roomtap", 20, |a| {
        named(a, "counter").is_some_and(|i| i.entries.len() == 21)
    })
    .await;
    assert_eq!(
        logs_matching(&h.app, "stopped streaming"),
        0,
        "{}",
        dump_logs(&h.app)
    );
}

/// A raw SocketCluster client: handshake (and optional login/subscribe).
async fn raw_client(
    port: u16,
    login: Option<&str>,
    subscribe: Option<&str>,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("ws://127.0.0.1:{port}/socketcluster/");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    let mut cid = 0;
    let mut rpc =
        async |ws: &mut tokio_tungstenite::WebSocketStream<_>, event: &str, data: &str| {
            cid += 1;
            ws.send(Message::text(format!(
                r#"{{"event":"{event}","data":{data},"cid":{cid}}}"#
            )))
            .await
            .unwrap();
            let want = format!(r#"{{"rid":{cid}"#);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::time::timeout_at(deadline, ws.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) if t.starts_with(&want) => return t.to_string(),
                    Ok(Some(Ok(_))) => {}
                    other => panic!("no reply to {event}: {other:?}"),
                }
            }
        };
    rpc(&mut ws, "#handshake", r#"{"authToken":null}"#).await;
    if let Some(l) = login {
        rpc(&mut ws, "login", l).await;
    }
    if let Some(ch) = subscribe {
        rpc(&mut ws, "#subscribe", &format!(r#"{{"channel":"{ch}"}}"#)).await;
    }
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_closes_only_that_socket() {
    let mut h = Harness::embedded(RelayConfig {
        max_frame: 64 << 10,
        ..cfg()
    })
    .await;
    let mut ws = raw_client(h.port(), Some(r#""master""#), None).await;
    let big = format!(
        r#"{{"event":"log","data":{{"type":"ACTION","payload":"{}"}}}}"#,
        "x".repeat(100 << 10)
    );
    // The relay may close before the whole frame is written.
    let _ = ws.send(Message::text(big)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let code = loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(c)))) => break c.map(|c| u16::from(c.code)),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_))) | Ok(None) => break None,
            Err(_) => panic!("the socket was not closed"),
        }
    };
    assert!(matches!(code, Some(1009) | None), "{code:?}");
    h.until("a log entry says why", 10, |a| {
        logs_matching(a, "sent a frame over the 65536 byte limit") == 1
    })
    .await;
    // The relay goes on: a new client is served.
    let _ok = raw_client(h.port(), Some("{}"), Some("log")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_monitor_cannot_grow_the_relay_memory() {
    // A monitor that never reads (nor pongs: the ping timeout is long
    // enough that it is still there when the drops are checked).
    let mut h = Harness::embedded(RelayConfig {
        queue: 8,
        ping_timeout: Duration::from_secs(120),
        ..cfg()
    })
    .await;
    let _stuck = raw_client(h.port(), Some("{}"), Some("log")).await;
    let mut app = raw_client(h.port(), Some(r#""master""#), None).await;
    let payload = "y".repeat(1000);
    let frame = format!(
        r#"{{"event":"log","data":{{"type":"ACTION","instanceId":"flood","name":"flood","payload":"{payload}"}}}}"#
    );
    // ~20 MB: far more than socket buffers hold. Sent beside the panes
    // taking it in: roomtap's own monitor slows the app down rather than
    // lose anything, so the app waits for the panes, never for the stuck one.
    let sender = tokio::spawn(async move {
        for _ in 0..20_000 {
            app.feed(Message::text(frame.clone())).await.unwrap();
        }
        app.flush().await.unwrap();
        app
    });
    h.until("drops are counted and logged", 30, |a| {
        logs_matching(a, "frames dropped so far") >= 1
    })
    .await;
    let _app = sender;
    let clients = h.relay.as_ref().unwrap().clients();
    let stuck = clients
        .iter()
        .find(|c| c.role == Role::Monitor && c.peer != "in-process")
        .expect("the stuck monitor is listed");
    assert!(stuck.dropped > 0, "{clients:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_is_required_and_never_shown() {
    let secret = "s3cret-Tok3n";
    let mut h = Harness::embedded(RelayConfig {
        secret: Some(secret.into()),
        ..cfg()
    })
    .await;
    // No secret: refused (401) and logged.
    let url = format!("ws://127.0.0.1:{}/socketcluster/", h.port());
    let err = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    h.until("refusal logged", 10, |a| {
        logs_matching(a, "missing or wrong secret") == 1
    })
    .await;
    // A real app presents it as basic auth (`ws` sends the URL's userinfo).
    let host = format!("roomtap:{secret}@127.0.0.1");
    let mut app = app_peer(
        false,
        h.port(),
        "counter",
        &["--actions", "3", "--interval", "50", "--hostname", &host],
    )
    .await;
    app.wait_json("app done", 30, |v| v["event"] == "done")
        .await;
    h.until("app streamed", 20, |a| {
        named(a, "counter").is_some_and(|i| i.entries.len() == 4)
    })
    .await;
    // A socketcluster-client monitor presents it as `?secret=`.
    let port = h.port().to_string();
    let mut mon = NodePeer::spawn(
        &peers_dir("redux"),
        &["sc-monitor.mjs", "--port", &port, "--secret", secret],
    )
    .await;
    mon.wait_json("monitor gets a STATE", 20, |v| {
        v["event"] == "msg" && v["type"] == "STATE"
    })
    .await;
    assert!(!dump_logs(&h.app).contains(secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_monitor_survives_a_relay_restart() {
    // The first relay gets a port from the kernel; the restarted one binds
    // that same port again (the app and the monitor know only it).
    let relay = Relay::start(cfg(), None).await.unwrap();
    let bind = relay.local_addr();
    let port = bind.port();
    let mut h = Harness::relay(&relay.url());
    let app = app_peer(
        false,
        port,
        "counter",
        &[
            "--actions",
            "40",
            "--interval",
            "150",
            "--start-after",
            "300",
        ],
    )
    .await;
    h.until("actions before the restart", 30, |a| {
        a.instance().is_some_and(|i| i.entries.len() >= 5)
    })
    .await;
    let before = h.app.instance().unwrap().entries.len();
    drop(relay);
    h.until("the monitor saw the relay go", 20, |a| {
        !matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
    })
    .await;
    let _relay = Relay::start(RelayConfig { bind, ..cfg() }, None)
        .await
        .unwrap();
    h.until("reconnected, re-STARTed and streaming again", 40, |a| {
        a.store.sources[0].conn.reconnects >= 1
            && a.instance().is_some_and(|i| i.entries.len() >= before + 5)
    })
    .await;
    let inst = h.app.instance().unwrap();
    assert_eq!(inst.name.as_deref(), Some("counter"));
    assert_eq!(
        inst.entries.front().map(|e| e.id),
        Some(0),
        "history from before the restart is kept"
    );
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_refused_and_logged() {
    let mut h = Harness::embedded(RelayConfig {
        max_conns: 2,
        ..cfg()
    })
    .await;
    let port = h.port();
    // Two sockets fill the relay (the in-process monitor is not a socket).
    let _a = raw_client(port, Some("{}"), Some("log")).await;
    let _b = raw_client(port, Some("{}"), Some("log")).await;
    let url = format!("ws://127.0.0.1:{port}/socketcluster/");
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 503)
        }
        other => panic!("a third socket should get HTTP 503, got {other:?}"),
    }
    h.until("the refusal logged and counted", 10, |a| {
        logs_matching(a, "HTTP 503: too many connections (at most 2)") == 1
            && common::peers::fact(a, 0, "refused (connection limit)") == "1"
    })
    .await;
}

/// Send an RPC and wait for its reply (frames in between are returned).
async fn rpc(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    cid: u64,
    event: &str,
    data: &str,
) -> Vec<String> {
    ws.send(Message::text(format!(
        r#"{{"event":"{event}","data":{data},"cid":{cid}}}"#
    )))
    .await
    .unwrap();
    let want = format!(r#"{{"rid":{cid}"#);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.starts_with(&want) => return seen,
            Ok(Some(Ok(Message::Text(t)))) => seen.push(t.to_string()),
            Ok(Some(Ok(_))) => {}
            other => panic!("no reply to {event}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribed_monitors_get_nothing_until_they_subscribe_again() {
    let h = Harness::embedded(cfg()).await;
    let mut mon = raw_client(h.port(), Some("{}"), Some("log")).await;
    let mut app = raw_client(h.port(), Some(r#""master""#), None).await;
    let say = |n: &str| {
        Message::text(format!(
            r#"{{"event":"log","data":{{"type":"ACTION","instanceId":"u","name":"{n}"}}}}"#
        ))
    };
    rpc(&mut mon, 10, "#unsubscribe", r#"{"channel":"log"}"#).await;
    // The app's frames are handled in order: once its RPC is answered,
    // "gone" has been routed (to nobody).
    app.send(say("gone")).await.unwrap();
    rpc(&mut app, 10, "#subscribe", r#"{"channel":"respond"}"#).await;
    rpc(&mut mon, 11, "#subscribe", r#"{"channel":"log"}"#).await;
    app.send(say("back")).await.unwrap();
    rpc(&mut app, 11, "#subscribe", r#"{"channel":"x"}"#).await;
    // Everything the monitor got up to an RPC answered after "back".
    let got = rpc(&mut mon, 12, "#subscribe", r#"{"channel":"y"}"#).await;
    let got = got.join("\n");
    assert!(got.contains(r#""name":"back""#), "{got}");
    assert!(!got.contains(r#""name":"gone""#), "{got}");
}

/// A client that opens TCP and never finishes the WebSocket handshake is
/// let go after the handshake timeout (its slot freed for others).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_handshake_is_let_go() {
    use tokio::io::AsyncReadExt;
    let mut c = cfg();
    c.handshake_timeout = Duration::from_millis(500);
    c.max_conns = 2;
    let h = Harness::embedded(c).await;
    let mut stalled = tokio::net::TcpStream::connect(("127.0.0.1", h.port()))
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), stalled.read(&mut buf))
        .await
        .expect("the relay hangs up on a stalled handshake");
    assert!(matches!(n, Ok(0) | Err(_)), "closed: {n:?}");
    // Its slot is free again: a real client gets in.
    let _ws = raw_client(h.port(), Some(r#""master""#), None).await;
}

/// 1 000 apps connecting at once and leaving at once: all served, all
/// gone, and the relay serves the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_apps_come_and_go_at_once() {
    const N: usize = 1000;
    let mut c = cfg();
    c.max_conns = N + 16;
    c.ping_interval = Duration::from_secs(5);
    c.ping_timeout = Duration::from_secs(30);
    let mut h = Harness::embedded(c).await;
    let port = h.port();
    let tasks: Vec<_> = (0..N)
        .map(|_| tokio::spawn(async move { raw_client(port, Some(r#""master""#), None).await }))
        .collect();
    let mut apps = Vec::with_capacity(N);
    for t in tasks {
        apps.push(t.await.expect("every app is served"));
    }
    let relay = h.relay.clone().unwrap();
    let apps_now = |r: &Relay| r.clients().iter().filter(|c| c.role == Role::App).count();
    assert_eq!(apps_now(&relay), N);
    drop(apps);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while apps_now(&relay) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} apps left",
            apps_now(&relay)
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // allow-sleep: polling the relay's client list
    }
    h.until("the pane shows no app", 20, |a| {
        a.store.sources[0]
            .peers
            .iter()
            .all(|p| p.role != PeerRole::App)
    })
    .await;
    let _next = raw_client(port, Some(r#""master""#), None).await;
    assert_eq!(apps_now(&relay), 1, "the relay serves the next app");
}

/// A half-open monitor (it stops reading and answering pings) is dropped
/// after the ping timeout, said, and counted in Connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_monitor_is_dropped_and_counted() {
    let mut h = Harness::embedded(cfg()).await;
    let deaf = raw_client(h.port(), Some("{}"), Some("log")).await;
    h.until("dropped and counted", 20, |a| {
        logs_matching(a, "no pong within") >= 1
            && common::peers::fact(a, 0, "dropped (no pong)") == "1"
    })
    .await;
    drop(deaf);
}

/// A burst faster than the panes take it: roomtap's own (in-process)
/// monitor loses nothing; the app is slowed down instead (backpressure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panes_lose_nothing_under_a_burst() {
    const N: u64 = 30_000;
    let mut h = Harness::embedded(cfg()).await;
    // The relay forwards an app's actions to the monitors subscribed to
    // its log then (as the real one does): the burst starts once roomtap's
    // monitor is (on a busy machine it may come after the app).
    h.until("roomtap's monitor subscribed", 20, |a| {
        common::peers::has_log(a, "channel", "subscribed to log")
    })
    .await;
    let mut app = raw_client(h.port(), Some(r#""master""#), None).await;
    let sender = tokio::spawn(async move {
        for i in 1..=N {
            let action = format!(
                r#"{{\"type\":\"PERFORM_ACTION\",\"action\":{{\"type\":\"TICK\",\"n\":{i}}},\"timestamp\":{i}}}"#
            );
            let frame = format!(
                r#"{{"event":"log","data":{{"type":"ACTION","id":"s1","instanceId":"burst","name":"burst","action":"{action}","payload":"{{\"n\":{i}}}","nextActionId":{}}}}}"#,
                i + 1
            );
            app.send(Message::text(frame)).await.unwrap();
        }
        app
    });
    let count = |a: &App| {
        let logs = &a.store.logs;
        (0..logs.view_len())
            .filter_map(|i| logs.view_get(i))
            .filter(|e| &*e.kind == "ACTION")
            .count() as u64
    };
    h.until("every action in the store", 60, |a| count(a) >= N)
        .await;
    let _app = sender.await.unwrap();
    assert_eq!(count(&h.app), N);
    assert_eq!(
        logs_matching(&h.app, "too slow"),
        0,
        "{}",
        dump_logs(&h.app)
    );
}

/// Several apps bursting at once while the panes' queue is full: each
/// waits for room and none starves the others (the room one takes is used
/// by it, never passed around among waiting apps), nothing is lost and each
/// app's actions stay in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_apps_bursting_at_once_all_get_through_in_order() {
    const APPS: usize = 4;
    const N: u64 = 5_000;
    let mut c = cfg();
    c.queue = 64;
    let mut h = Harness::embedded(c).await;
    h.until("roomtap's monitor subscribed", 20, |a| {
        common::peers::has_log(a, "channel", "subscribed to log")
    })
    .await;
    let mut senders = Vec::new();
    for a in 0..APPS {
        let mut app = raw_client(h.port(), Some(r#""master""#), None).await;
        senders.push(tokio::spawn(async move {
            for i in 1..=N {
                let action = format!(
                    r#"{{\"type\":\"PERFORM_ACTION\",\"action\":{{\"type\":\"TICK\",\"n\":{i}}},\"timestamp\":{i}}}"#
                );
                let frame = format!(
                    r#"{{"event":"log","data":{{"type":"ACTION","id":"s{a}","instanceId":"burst{a}","name":"burst","action":"{action}","payload":"{{\"n\":{i}}}","nextActionId":{}}}}}"#,
                    i + 1
                );
                app.send(Message::text(frame)).await.unwrap();
            }
            app
        }));
    }
    let count = |a: &App| {
        let logs = &a.store.logs;
        (0..logs.view_len())
            .filter_map(|i| logs.view_get(i))
            .filter(|e| &*e.kind == "ACTION")
            .count() as u64
    };
    h.until("every app's actions in the store", 60, |a| {
        count(a) >= N * APPS as u64
    })
    .await;
    let mut apps = Vec::new();
    for s in senders {
        apps.push(s.await.unwrap());
    }
    assert_eq!(count(&h.app), N * APPS as u64);
    for inst in &h.app.store.timeline.instances {
        let ids: Vec<u64> = inst.entries.iter().map(|e| e.id).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{}: out of order",
            inst.key
        );
        assert_eq!(inst.entries.len() as u64 + inst.evicted, N, "{}", inst.key);
    }
    assert_eq!(
        logs_matching(&h.app, "too slow"),
        0,
        "{}",
        dump_logs(&h.app)
    );
}
