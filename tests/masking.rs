//! Secrets the run knows never come out, even when a peer echoes them in
//! remote text: a room token and the room secret inside a participant's
//! log line, a Leap token inside a channel's state, a relay secret as an
//! app's name. Checked per output: the panes (list and detail), copy,
//! export, `tail --json`, the recording, and a headless server's own log.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::peers::{Harness, dump_logs};
use common::{render, screen_text};
use futures_util::SinkExt;
use roomtap::protocols::room::server::{RoomServer, RoomServerConfig};
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const ROOM_SECRET: &str = "room-secret-4f9a";
const ROOM_TOKEN: &str = "room-token-8c21d";
const LEAP_TOKEN: &str = "leap-token-77e0b";
const RELAY_SECRET: &str = "relay-secret-3b6e";

fn token_file(dir: &std::path::Path, token: &str) -> std::path::PathBuf {
    let p = dir.join("token");
    std::fs::write(&p, format!("{token}\n")).unwrap();
    p
}

/// A room server without a secret (any token passes) in which a participant
/// echoes the secrets roomtap was given.
async fn room_server() -> RoomServer {
    RoomServer::start(RoomServerConfig::default(), None)
        .await
        .unwrap()
}

fn leak() -> serde_json::Value {
    json!({"message": format!("leaked {ROOM_TOKEN} and {ROOM_SECRET}"), "extra": {"token": ROOM_TOKEN}})
}

fn holds_no_secret(what: &str, text: &str) {
    for s in [ROOM_SECRET, ROOM_TOKEN, LEAP_TOKEN, RELAY_SECRET] {
        assert!(!text.contains(s), "{what} shows {s}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_token_echoed_by_a_participant_is_masked_in_every_pane_copy_and_export() {
    let server = room_server().await;
    let dir = tempdir();
    let tf = token_file(&dir, ROOM_TOKEN);
    let url = server.url("test");
    let cli = <roomtap::cli::Cli as clap::Parser>::try_parse_from([
        "roomtap",
        "room",
        url.as_str(),
        "--token-file",
        tf.to_str().unwrap(),
        "--room-secret",
        ROOM_SECRET,
    ])
    .unwrap();
    let cmd = match &cli.command {
        Some(roomtap::cli::Cmd::Source(c)) => Some(c),
        _ => None,
    };
    let sources = roomtap::protocols::build(cmd, &cli.flags).unwrap();
    let mut h = Harness::wired(sources).await;
    h.until("watching", 20, |a| {
        common::peers::fact(a, 0, "developer logs").starts_with("on")
    })
    .await;
    assert!(server.publish("test", "log", &leak()) > 0);
    h.until("the leak arrives", 20, |a| {
        common::peers::has_log(a, "log", "leaked")
    })
    .await;
    let logs = dump_logs(&h.app);
    holds_no_secret("the Logs", &logs);
    assert!(logs.contains("leaked *** and ***"), "{logs}");
    // The list and the entry's detail, on screen.
    let a = &mut h.app;
    a.ui.focus = Pane::Logs;
    a.act(Action::Bottom);
    holds_no_secret("the Logs pane", &screen_text(&render(a, 160, 40)));
    a.act(Action::Activate);
    let screen = screen_text(&render(a, 160, 40));
    assert!(screen.contains("extra"), "the detail is open:\n{screen}");
    holds_no_secret("the entry's detail", &screen);
    // Copy: the value under the cursor, and the whole entry.
    for _ in 0..12 {
        a.act(Action::Down);
        a.act(Action::Copy);
    }
    a.act(Action::ToggleDetailFocus);
    a.act(Action::Copy);
    let copies = a.take_copies();
    assert!(!copies.is_empty());
    holds_no_secret("what was copied", &copies.join("\n"));
    // Export.
    let mut out = Vec::new();
    a.export_view(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("leaked *** and ***"), "{out}");
    holds_no_secret("the export", &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leap_token_in_a_channel_state_is_masked_in_the_channel_pane() {
    use roomtap::protocols::leap::client::{LeapConfig, source::LeapSource};
    use roomtap::protocols::leap::server::{LeapServer, LeapServerConfig};
    let server = LeapServer::start(
        LeapServerConfig {
            project: "p1".into(),
            tokens: vec![roomtap::secret::Secret::new(LEAP_TOKEN)],
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    server.add_channel("scores", "unprotected", json!({}));
    let mut cfg = LeapConfig::new(
        &server.url(),
        "p1",
        Some(roomtap::secret::Secret::new(LEAP_TOKEN)),
    );
    cfg.channels = vec!["scores".into()];
    let mut h = Harness::wired(vec![Box::new(LeapSource::new("leap", cfg))]).await;
    h.until("subscribed", 20, |a| {
        common::peers::has_log(a, "AVAILABLE", "scores")
    })
    .await;
    server.set_state("scores", json!({"echo": LEAP_TOKEN, "red": 1}));
    h.until("the state arrives", 20, |a| {
        a.store.sources[0]
            .channels
            .values()
            .any(|c| c.live.as_ref().is_some_and(|l| l.updates >= 2))
    })
    .await;
    let a = &mut h.app;
    a.act(Action::Focus(Pane::Channels));
    a.prepare();
    a.act(Action::Zoom);
    let screen = screen_text(&render(a, 160, 50));
    assert!(screen.contains("echo"), "the state tree shows:\n{screen}");
    holds_no_secret("the Channels pane", &screen);
    holds_no_secret("the Logs", &dump_logs(a));
}

/// A raw SocketCluster app presenting `secret`, named `name`.
async fn raw_app(
    port: u16,
    secret: &str,
    name: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut ws = common::peers::sc_client(port, &format!("secret={secret}"), r#""master""#).await;
    let start = json!({"type": "START", "id": "x", "instanceId": "inst-1", "name": name});
    ws.send(Message::text(format!(
        r#"{{"event":"log","data":{start}}}"#
    )))
    .await
    .unwrap();
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_secret_as_an_app_name_is_masked_in_the_panes() {
    let mut h = Harness::embedded(roomtap::protocols::redux::server::RelayConfig {
        secret: Some(RELAY_SECRET.into()),
        ..common::peers::fast_relay()
    })
    .await;
    let ws = raw_app(h.port(), RELAY_SECRET, RELAY_SECRET).await;
    h.until("the app is listed", 20, |a| {
        a.store.sources[0]
            .peers
            .iter()
            .any(|p| p.name.as_deref() == Some("***"))
    })
    .await;
    drop(ws);
    h.until("the app left", 20, |a| {
        common::peers::has_log(a, "relay", "app *** left")
    })
    .await;
    let a = &mut h.app;
    for pane in [Pane::Connections, Pane::Timeline, Pane::Logs] {
        a.ui.focus = pane;
        holds_no_secret("a pane", &screen_text(&render(a, 160, 50)));
    }
    holds_no_secret("the Logs", &dump_logs(a));
}

/// `roomtap tail --json --record FILE room URL` on a room where a
/// participant echoes the token: stdout and the recording hold no secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_and_the_recording_mask_an_echoed_token() {
    let server = room_server().await;
    let dir = tempdir();
    let tf = token_file(&dir, ROOM_TOKEN);
    let rec = dir.join("session.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args([
            "tail",
            "--json",
            "--record",
            rec.to_str().unwrap(),
            "room",
            &server.url("test"),
            "--token-file",
            tf.to_str().unwrap(),
            "--room-secret",
            ROOM_SECRET,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut rx = common::peers::lines_of(child.stdout.take().unwrap());
    // Publish until the line comes back (the client may not watch yet).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let line = loop {
        server.publish("test", "log", &leak());
        match tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
            Ok(Some(l)) if l.contains("leaked") => break l,
            Ok(Some(l)) => seen.push(l),
            Ok(None) => panic!("tail ended: {seen:?}"),
            Err(_) if tokio::time::Instant::now() > deadline => {
                panic!("no leak printed in 30 s: {seen:?}")
            }
            Err(_) => {}
        }
    };
    // Stopped as a user stops it (the recording is flushed on the way out).
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "tail ends on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await; // allow-sleep: polling a child's exit
    }
    assert!(line.contains("leaked *** and ***"), "{line}");
    holds_no_secret("tail --json", &line);
    holds_no_secret("tail --json", &seen.join("\n"));
    let recorded = std::fs::read_to_string(&rec).unwrap();
    assert!(recorded.contains("leaked *** and ***"), "{recorded}");
    holds_no_secret("the recording", &recorded);
}

/// `roomtap redux-server --redux-secret S`: an app that names itself S is
/// named *** in the server's own log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_servers_log_masks_its_secret() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args([
            "redux-server",
            "--redux-port",
            "0",
            "--redux-secret",
            RELAY_SECRET,
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut rx = common::peers::lines_of(child.stderr.take().unwrap());
    let next = async |rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>, what: &str| {
        tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no stderr line: {what}"))
            .unwrap_or_else(|| panic!("stderr closed: {what}"))
    };
    let banner = next(&mut rx, "the banner").await;
    let port: u16 = banner
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches("/socketcluster/").parse().ok())
        .unwrap_or_else(|| panic!("a port in {banner:?}"));
    let ws = raw_app(port, RELAY_SECRET, RELAY_SECRET).await;
    let mut lines = vec![banner];
    // The app leaving is said with its name.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut ws = Some(ws);
    loop {
        let l = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the app's leaving is said")
            .expect("stderr open");
        if l.contains("logged in") {
            drop(ws.take());
        }
        let done = l.contains(" left");
        lines.push(l);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = lines.join("\n");
    assert!(log.contains("app *** left"), "{log}");
    holds_no_secret("the server's log", &log);
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "roomtap-masking-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
