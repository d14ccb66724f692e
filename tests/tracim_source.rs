//! roomtap's TracimDaemon source against roomtap's daemon (which answers as
//! the captured daemon does: `tests/tracim_captures.rs`) and against a
//! scripted daemon for what a real one will not send on demand. Sockets
//! live in a temp dir; every wait is on an event with a timeout.

mod common;

use common::Dir;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::peers::{Harness, dump_logs, fact, has_log};
use roomtap::event::{CommandKind, ConnState};
use roomtap::link::meter::Meter;
use roomtap::link::unix::{self, Received};
use roomtap::protocols::tracim::client::TracimConfig;
use roomtap::protocols::tracim::client::source::TracimSource;
use roomtap::protocols::tracim::server::{Daemon, DaemonConfig};
use roomtap::protocols::tracim::wire::event::{self, Type};
use roomtap::protocols::tracim::wire::model::TracimCommand;
use tokio::sync::mpsc;

const ROUND: Duration = Duration::from_millis(300);

async fn daemon(master: &Path) -> Daemon {
    Daemon::start(
        DaemonConfig {
            round: ROUND,
            ..DaemonConfig::new(master)
        },
        None,
    )
    .await
    .unwrap()
}

fn cfg(master: &Path, own: &Path) -> TracimConfig {
    TracimConfig {
        round: ROUND,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        read_timeout: Duration::from_millis(800),
        ..TracimConfig::new(master, own)
    }
}

async fn client(cfg: TracimConfig) -> Harness {
    Harness::wired(vec![Box::new(TracimSource::new("tracim", cfg))]).await
}

fn tlm(id: u64, pad: usize) -> String {
    serde_json::json!({
        "event_id": id,
        "event_type": "content.modified.html-document",
        "read": null,
        "created": "2026-12-06T10:00:00Z",
        "fields": {
            "author": {"public_name": "Ada"},
            "workspace": {"label": "Recherche"},
            "content": {"label": format!("Doc {id}"), "raw_content": "x".repeat(pad)}
        }
    })
    .to_string()
}

/// The Logs' entry whose summary holds `text`: its data's length.
fn data_len(a: &roomtap::app::App, text: &str) -> Option<usize> {
    let logs = &a.store.logs;
    (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .find(|e| e.summary.contains(text))
        .and_then(|e| e.data.as_ref().map(|d| d.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_arrive_whole_and_the_client_stays_registered_over_rounds() {
    let dir = Dir::new("live");
    let (master, own) = (dir.0.join("m.sock"), dir.0.join("c.sock"));
    let d = daemon(&master).await;
    let mut h = client(cfg(&master, &own)).await;
    h.until("registered", 10, |a| {
        matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
            && fact(a, 0, "user id") == "42"
    })
    .await;
    let small = tlm(1, 10);
    let big = tlm(2, 10 * 1024);
    assert!(big.len() > 10 * 1024);
    d.tracim_event(&small);
    d.tracim_event(&big);
    h.until("both events, whole", 10, |a| {
        data_len(a, "Doc 1") == Some(small.len()) && data_len(a, "Doc 2") == Some(big.len())
    })
    .await;
    assert!(has_log(
        &h.app,
        "content.modified",
        "\"Doc 2\" by Ada in Recherche #2"
    ));
    // The big one says it came whole; the small one does not.
    assert!(has_log(&h.app, "content.modified", "#2 · 10."));
    assert!(has_log(&h.app, "content.modified", "kB whole"));
    assert!(!has_log(&h.app, "content.modified", "#1 ·"));
    // One row per event type, counted.
    h.until("the event type's row", 10, |a| {
        a.store.sources[0]
            .channels
            .get("content.modified.html-document")
            .is_some_and(|c| c.messages >= 2)
    })
    .await;
    // Several rounds: every ping answered, never dropped.
    h.until("six pings answered", 20, |a| {
        fact(a, 0, "last ping").contains("(6 answered)")
    })
    .await;
    assert_eq!(d.tallied("dropped (no pong)"), 0);
    assert_eq!(d.clients().len(), 1);
    assert!(matches!(
        h.app.store.sources[0].conn.state,
        ConnState::Connected { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_daemon_is_found_again_and_commands_are_answered() {
    let dir = Dir::new("restart");
    let (master, own) = (dir.0.join("m.sock"), dir.0.join("c.sock"));
    let d = daemon(&master).await;
    let mut h = client(cfg(&master, &own)).await;
    h.until("registered", 10, |a| fact(a, 0, "user id") == "42")
        .await;
    // The `:` commands.
    h.command(0, CommandKind::Tracim(TracimCommand::Ping));
    h.until("the ping's round trip", 10, |a| {
        a.store.sources[0].conn.rtt.is_some()
    })
    .await;
    h.command(0, CommandKind::Tracim(TracimCommand::Clients));
    h.until("the client list", 10, |a| has_log(a, "tracim", "1 clients"))
        .await;
    // The daemon goes away: silent, then errored while its socket is gone.
    drop(d);
    h.until("the daemon missed", 10, |a| {
        matches!(
            a.store.sources[0].conn.state,
            ConnState::Silent { .. } | ConnState::Errored { .. }
        )
    })
    .await;
    // What reaches our socket meanwhile is not lost: it is bound for the
    // whole run, and read whatever the registration's state.
    let doc = event::encode(
        &master.to_string_lossy(),
        &Type::TracimEvent,
        Some(&serde_json::Value::String(tlm(6, 5)).to_string()),
    );
    unix::send(&own, doc.as_bytes(), Duration::from_secs(5))
        .await
        .unwrap();
    h.until("an event while the daemon was away", 10, |a| {
        data_len(a, "Doc 6").is_some()
    })
    .await;
    // It comes back (a fresh one, that never heard of us): registered again.
    let d2 = daemon(&master).await;
    assert!(
        d2.wait_until(Duration::from_secs(15), |d| d.clients().len() == 1)
            .await,
        "registered with the new daemon"
    );
    h.until("connected again", 15, |a| {
        matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
    })
    .await;
    d2.tracim_event(&tlm(7, 5));
    h.until("an event from the new daemon", 10, |a| {
        data_len(a, "Doc 7").is_some()
    })
    .await;
    // Seen either as a silence (the new daemon was there to take the
    // registration again) or as an error and a reconnect: both are said.
    assert!(
        has_log(&h.app, "connection", "silent") || h.app.store.sources[0].conn.reconnects >= 1,
        "{}",
        dump_logs(&h.app)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_unregisters_exactly_once_and_removes_its_socket() {
    let dir = Dir::new("bye");
    let (master, own) = (dir.0.join("m.sock"), dir.0.join("c.sock"));
    let d = daemon(&master).await;
    let mut h = client(cfg(&master, &own)).await;
    h.until("registered", 10, |a| fact(a, 0, "user id") == "42")
        .await;
    assert!(own.exists());
    h.goodbye().await;
    // The run's end, twice over: the goodbye again, then the task's own.
    h.goodbye().await;
    drop(h);
    assert!(
        d.wait_until(Duration::from_secs(10), |d| d.clients().is_empty())
            .await
    );
    let me = own.to_string_lossy().into_owned();
    // Give a second delete every chance to arrive (it must not).
    let _ = d
        .wait_until(Duration::from_millis(500), |d| {
            d.received()
                .iter()
                .filter(|(p, t)| *p == me && t == "daemon_client_delete")
                .count()
                > 1
        })
        .await;
    let deletes = d
        .received()
        .iter()
        .filter(|(p, t)| *p == me && t == "daemon_client_delete")
        .count();
    assert_eq!(deletes, 1, "{:?}", d.received());
    assert!(!own.exists(), "the socket file is removed");
}

/// A daemon that answers registration and otherwise only records: the
/// test writes to the client's socket itself.
async fn scripted(master: &Path) -> (tokio::task::JoinHandle<()>, mpsc::Receiver<String>) {
    let l = unix::listen(master).await.unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    let inbox = unix::inbox(l, 1 << 20, unix::READ_TIMEOUT, Arc::new(Meter::new()), tx);
    let (seen_tx, seen_rx) = mpsc::channel(64);
    let m = master.to_string_lossy().into_owned();
    let task = tokio::spawn(async move {
        let _inbox = inbox;
        while let Some(Received::Document(d)) = rx.recv().await {
            let ev = event::decode(&d).unwrap();
            if ev.ty == Type::ClientAdd {
                let doc = event::encode(&m, &Type::AccountInfo, Some(r#"{"user_id":"42"}"#));
                let _ =
                    unix::send(Path::new(&ev.path), doc.as_bytes(), Duration::from_secs(5)).await;
            }
            let _ = seen_tx.send(ev.ty.name().to_string()).await;
        }
    });
    (task, seen_rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_an_error_entry_and_the_source_goes_on() {
    let dir = Dir::new("bad");
    let (master, own) = (dir.0.join("m.sock"), dir.0.join("c.sock"));
    let (task, _seen) = scripted(&master).await;
    let mut h = client(TracimConfig {
        max_document: 64 * 1024,
        ..cfg(&master, &own)
    })
    .await;
    h.until("registered", 10, |a| fact(a, 0, "user id") == "42")
        .await;
    let m = master.to_string_lossy().into_owned();
    let doc = |ty: Type, data: Option<&str>| event::encode(&m, &ty, data);
    let bad: Vec<(String, &str)> = vec![
        ("hello".into(), "not JSON"),
        (r#"{"path":"p","type":"daemon_pi"#.into(), "cut off"),
        ("[1,2]".into(), "not a JSON object"),
        (r#"{"path":"p"}"#.into(), "no \"type\""),
        (
            doc(Type::ClientAdded, Some(r#"{"path":"/x","pid":19411}"#)),
            "\"pid\" is a number",
        ),
        (
            doc(Type::TracimEvent, Some(r#"{"event_id":1}"#)),
            "JSON string",
        ),
        (
            doc(Type::TracimEvent, Some(r#""not a tlm""#)),
            "TLM is not JSON",
        ),
        (
            doc(Type::TracimEvent, Some(&"9".repeat(100 * 1024))),
            "over 65536 bytes",
        ),
    ];
    for (d, _) in &bad {
        unix::send(&own, d.as_bytes(), Duration::from_secs(5))
            .await
            .unwrap();
    }
    // A connection held open without writing.
    let held = tokio::net::UnixStream::connect(&own).await.unwrap();
    // An unknown type and an ack are shown, never fatal; then a good event.
    unix::send(
        &own,
        doc(Type::Other("daemon_surprise".into()), Some("{}")).as_bytes(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    unix::send(
        &own,
        doc(Type::TracimEvent, Some(&event::go_string(&tlm(9, 3)))).as_bytes(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    h.until("every bad one said, and the good one after", 15, |a| {
        let logs = dump_logs(a);
        bad.iter().all(|(_, why)| logs.contains(why))
            && logs.contains("held open")
            && logs.contains("daemon_surprise")
            && data_len(a, "Doc 9").is_some()
    })
    .await;
    assert_eq!(h.app.store.sources[0].malformed, bad.len() as u64 + 1);
    assert!(matches!(
        h.app.store.sources[0].conn.state,
        ConnState::Connected { .. }
    ));
    drop(held);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_that_is_not_there_is_said_and_dialled_again() {
    let dir = Dir::new("absent");
    let (master, own) = (dir.0.join("m.sock"), dir.0.join("c.sock"));
    let mut h = client(cfg(&master, &own)).await;
    h.until("errored, retrying", 10, |a| {
        matches!(
            &a.store.sources[0].conn.state,
            ConnState::Errored { will_reconnect: true, reason, .. } if reason.contains("does not take our registration")
        )
    })
    .await;
    let _d = daemon(&master).await;
    h.until("registered once it is there", 15, |a| {
        fact(a, 0, "user id") == "42"
    })
    .await;
}
