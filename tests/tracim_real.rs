//! The real Python SDK (`tracim-daemon-sdk` 1.0.3 from PyPI, hash-pinned in
//! `tests/peers/tracim/`, driven by `sdk_client.py`) registered with
//! roomtap's daemon beside roomtap's own client: the daemon is faithful
//! enough for the SDK (it registers, gets events, pongs every round and is
//! never dropped), roomtap sees the SDK come and go as the daemon's clients,
//! and where the SDK loses an event over 4 KiB, roomtap gets it whole.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::peers::{Harness, JsonChild, fact};

use roomtap::protocols::tracim::client::TracimConfig;
use roomtap::protocols::tracim::client::source::TracimSource;
use roomtap::protocols::tracim::server::{Daemon, DaemonConfig};
use serde_json::Value;

const ROUND: Duration = Duration::from_millis(400);

fn peer_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tracim");
    assert!(
        d.join("venv/bin/python").exists(),
        "{} has no venv: run tests/peers/install.sh (the README's test command does)",
        d.display()
    );
    d
}

/// The SDK driver: its stdout lines; killed on drop.
struct Sdk {
    p: JsonChild,
}

impl Sdk {
    async fn start(master: &Path, own: &Path) -> Sdk {
        let dir = peer_dir();
        let script = dir.join("sdk_client.py");
        let args: Vec<&std::ffi::OsStr> = vec![
            script.as_os_str(),
            "--log-errors".as_ref(),
            "--lifetime".as_ref(),
            "120".as_ref(),
            "--master".as_ref(),
            master.as_os_str(),
            "--socket".as_ref(),
            own.as_os_str(),
        ];
        Sdk {
            p: JsonChild::spawn(&dir.join("venv/bin/python"), &args),
        }
    }

    /// Wait (bounded) for a line satisfying `f`.
    async fn wait(&mut self, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        self.p.wait(what, 20, f).await
    }

    async fn quit(&mut self) {
        self.p.send("{\"op\":\"quit\"}").await;
        self.wait("its quit", |v| v["quit"] == true).await;
    }
}

fn tlm(id: u64, pad: usize) -> String {
    serde_json::json!({
        "event_id": id,
        "event_type": "content.created.html-document",
        "read": null,
        "created": "2026-12-06T10:00:00Z",
        "fields": {"author": {"public_name": "Ada & <Bo>"}, "content": {"label": format!("Doc {id}"), "raw_content": "é".repeat(pad)}}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_sdk_and_roomtap_on_roomtaps_daemon() {
    let dir = std::env::temp_dir().join(format!("rt-treal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let master = dir.join("m.sock");
    let d = Daemon::start(
        DaemonConfig {
            round: ROUND,
            ..DaemonConfig::new(&master)
        },
        None,
    )
    .await
    .unwrap();
    // roomtap first, so that it hears the SDK register.
    let mut h = Harness::wired(vec![Box::new(TracimSource::new(
        "tracim",
        TracimConfig {
            round: ROUND,
            ..TracimConfig::new(&master, &dir.join("r.sock"))
        },
    ))])
    .await;
    h.until("roomtap registered", 15, |a| fact(a, 0, "user id") == "42")
        .await;
    let sdk_sock = dir.join("s.sock");
    let mut sdk = Sdk::start(&master, &sdk_sock).await;
    sdk.wait("its registration", |v| v["registered"] == true)
        .await;
    let row = format!("client:{}", sdk_sock.display());
    h.until("the SDK in the daemon's clients", 15, |a| {
        a.store.sources[0].channels.get(&row).is_some_and(|c| {
            c.live.as_ref().is_some_and(|l| {
                !matches!(l.availability, roomtap::store::channels::Availability::Left)
            })
        })
    })
    .await;
    assert!(
        d.wait_until(Duration::from_secs(10), |d| d.clients().len() == 2)
            .await
    );
    // An event both get.
    let small = tlm(1, 20);
    d.tracim_event(&small);
    let got = sdk
        .wait("the small event", |v| {
            v["handler"] == "custom_message" && v["type"] == "daemon_tracim_event"
        })
        .await;
    assert_eq!(
        got["data"].as_str(),
        Some(small.as_str()),
        "the TLM as sent"
    );
    h.until("roomtap's line", 10, |a| {
        common::peers::has_log(a, "content.created", "\"Doc 1\" by Ada & <Bo>")
    })
    .await;
    // Rounds pass: the SDK pongs (its own handler), the daemon acks, nobody
    // is dropped.
    sdk.wait("an ack for its pong", |v| v["type"] == "daemon_ack")
        .await;
    assert!(
        d.wait_until(Duration::from_secs(10), |d| {
            d.received()
                .iter()
                .filter(|(p, t)| *p == sdk_sock.to_string_lossy() && t == "daemon_pong")
                .count()
                >= 3
        })
        .await,
        "three rounds answered"
    );
    assert_eq!(d.tallied("dropped (no pong)"), 0);
    assert_eq!(d.clients().len(), 2);
    // Over 4 KiB: roomtap gets it whole; the SDK decodes each 4 KiB chunk
    // on its own and loses it (its defect, said with --log-errors).
    let big = tlm(2, 4000);
    assert!(big.len() > 4096 * 2);
    d.tracim_event(&big);
    h.until("roomtap's big line, whole", 10, |a| {
        let logs = &a.store.logs;
        (0..logs.view_len())
            .filter_map(|i| logs.view_get(i))
            .any(|e| {
                e.summary.contains("\"Doc 2\"")
                    && e.data.as_ref().map(|d| d.len()) == Some(big.len())
            })
    })
    .await;
    // Its first 4 KiB chunk is cut JSON, or (when the cut falls inside an
    // `é`, as the path's length decides) cut UTF-8: either way it is lost.
    sdk.wait("the SDK's decode error", |v| {
        v["handler"] == "custom_error"
            && v["error"]
                .as_str()
                .is_some_and(|e| e.contains("JSONDecodeError") || e.contains("UnicodeDecodeError"))
    })
    .await;
    assert!(
        !sdk.p
            .seen
            .iter()
            .any(|v| v["data"].as_str() == Some(big.as_str())),
        "the SDK lost it, as captured"
    );
    // The SDK leaves: roomtap sees it go.
    sdk.quit().await;
    h.until("the SDK gone from the daemon's clients", 15, |a| {
        a.store.sources[0].channels.get(&row).is_some_and(|c| {
            c.live.as_ref().is_some_and(|l| {
                matches!(l.availability, roomtap::store::channels::Availability::Left)
            })
        })
    })
    .await;
    assert!(
        d.wait_until(Duration::from_secs(10), |d| d.clients().len() == 1)
            .await
    );
    h.goodbye().await;
    assert!(
        d.wait_until(Duration::from_secs(10), |d| d.clients().is_empty())
            .await
    );

    let _ = std::fs::remove_dir_all(&dir);
}
