//! The TracimDaemon codec and roomtap's daemon against every document
//! captured between the real Python SDK (`tracim-daemon-sdk` 1.0.3) and a
//! daemon that behaves as the Go daemon's `handlers.go`
//! (`tests/fixtures/captures/tracim/`): each decodes (but the one that is
//! not JSON, which is said), the daemon's re-encode byte for byte in the Go
//! daemon's form, the 10 kB event whole; and roomtap's daemon, sent the
//! SDK's documents, answers with the captured daemon's documents.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use roomtap::link::meter::Meter;
use roomtap::link::unix::{self, Received};
use roomtap::protocols::tracim::server::{Daemon, DaemonConfig};
use roomtap::protocols::tracim::wire::event::{self, Type};
use roomtap::protocols::tracim::wire::tlm;
use tokio::sync::mpsc;

const CAPTURED_CLIENT: &str = "/run/user/1000/TracimDaemon/client.sock";
const CAPTURED_MASTER: &str = "/run/user/1000/TracimDaemon/master.sock";

/// (direction, raw document) of a capture, in order.
fn docs(name: &str) -> Vec<(String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captures/tracim")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Some((
                v["dir"].as_str()?.to_string(),
                v["raw"].as_str()?.to_string(),
            ))
        })
        .collect()
}

#[test]
fn every_captured_document_decodes_and_the_daemons_reencode_byte_for_byte() {
    for name in ["tracim.jsonl", "tracim-log-errors.jsonl"] {
        let all = docs(name);
        assert!(all.len() >= 10, "{name}: {} documents", all.len());
        let mut big = 0;
        for (dir, raw) in &all {
            match event::decode(raw.as_bytes()) {
                Ok(ev) => {
                    if dir == "daemon->client" {
                        assert_eq!(
                            event::encode(&ev.path, &ev.ty, ev.data.as_deref()),
                            *raw,
                            "{name}: re-encoded"
                        );
                    }
                    if ev.ty == Type::TracimEvent {
                        let text = event::tlm_text(ev.data.as_deref()).unwrap();
                        let t = tlm::decode(&text).unwrap();
                        assert_eq!(t.kind(), "content.modified");
                        assert_eq!(t.subtype.as_deref(), Some("html-document"));
                        if raw.len() > 4096 {
                            big += 1;
                        }
                    }
                    if ev.ty == Type::ClientAdd {
                        let c = event::Client::parse(ev.data.as_deref()).unwrap();
                        assert_eq!(c.path, CAPTURED_CLIENT);
                    }
                }
                Err(e) => {
                    assert_eq!(raw, "{not json", "{name}: only the malformed one fails");
                    assert!(e.0.contains("not JSON"), "{e}");
                }
            }
        }
        assert_eq!(
            big, 1,
            "{name}: the 10 kB event (the SDK lost it) decodes whole"
        );
    }
}

/// A socket standing for the SDK's own: what the daemon sends it.
struct Own {
    path: PathBuf,
    rx: mpsc::Receiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

impl Own {
    async fn new(dir: &Path) -> Own {
        let path = dir.join("c.sock");
        let l = unix::listen(&path).await.unwrap();
        let (tx, rx) = mpsc::channel(64);
        let task = unix::inbox(l, 1 << 20, unix::READ_TIMEOUT, Arc::new(Meter::new()), tx);
        Own { path, rx, task }
    }

    async fn next(&mut self) -> String {
        match tokio::time::timeout(Duration::from_secs(10), self.rx.recv()).await {
            Ok(Some(Received::Document(d))) => String::from_utf8(d).unwrap(),
            other => panic!("no document from the daemon: {other:?}"),
        }
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roomtaps_daemon_answers_the_sdks_documents_as_the_captured_daemon() {
    let dir = std::env::temp_dir().join(format!("rt-tcap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let master = dir.join("m.sock");
    let daemon = Daemon::start(
        DaemonConfig {
            round: Duration::from_secs(3600),
            ..DaemonConfig::new(&master)
        },
        None,
    )
    .await
    .unwrap();
    let mut own = Own::new(&dir).await;
    let (c, m) = (
        own.path.to_string_lossy().into_owned(),
        master.to_string_lossy().into_owned(),
    );
    let ours = |raw: &str| raw.replace(CAPTURED_CLIENT, &c);
    let theirs = |raw: &str| raw.replace(CAPTURED_MASTER, &m);
    let all = docs("tracim.jsonl");
    let captured = |ty: &str, dir: &str| -> String {
        all.iter()
            .find(|(d, raw)| d == dir && raw.contains(&format!("\"{ty}\"")))
            .map(|(_, raw)| raw.clone())
            .unwrap_or_else(|| panic!("no captured {ty}"))
    };
    let send = |raw: String| {
        let master = master.clone();
        async move {
            unix::send(&master, raw.as_bytes(), Duration::from_secs(5))
                .await
                .unwrap()
        }
    };
    // Registration: account info, then client added.
    send(ours(&captured("daemon_client_add", "client->daemon"))).await;
    assert_eq!(
        own.next().await,
        theirs(&captured("daemon_account_info", "daemon->client")).replace(CAPTURED_CLIENT, &c)
    );
    assert_eq!(
        own.next().await,
        theirs(&captured("daemon_client_added", "daemon->client")).replace(CAPTURED_CLIENT, &c)
    );
    // A Tracim event: the same document.
    let tlm_doc = captured("daemon_tracim_event", "daemon->client");
    let ev = event::decode(tlm_doc.as_bytes()).unwrap();
    daemon.tracim_event(&event::tlm_text(ev.data.as_deref()).unwrap());
    assert_eq!(own.next().await, theirs(&tlm_doc));
    // A round: ping; the SDK's pong is acked.
    daemon.round_now();
    assert_eq!(
        own.next().await,
        theirs(&captured("daemon_ping", "daemon->client"))
    );
    send(ours(&captured("daemon_pong", "client->daemon"))).await;
    assert_eq!(
        own.next().await,
        theirs(&captured("daemon_ack", "daemon->client"))
    );
    // The README's `client_add` registers nothing: acked.
    let readme = format!(
        r#"{{"path": "{c}", "type": "client_add", "data": {{"path": "{c}", "pid": "1"}}}}"#
    );
    send(readme).await;
    assert_eq!(
        own.next().await,
        theirs(&captured("daemon_ack", "daemon->client"))
    );
    assert_eq!(daemon.clients().len(), 1, "still the one registration");
    // Delete: gone, no answer.
    send(ours(&captured("daemon_client_delete", "client->daemon"))).await;
    assert!(
        daemon
            .wait_until(Duration::from_secs(10), |d| d.clients().is_empty())
            .await
    );
    drop(daemon);
    assert!(!master.exists(), "the daemon's socket goes with it");
    let _ = std::fs::remove_dir_all(&dir);
}
