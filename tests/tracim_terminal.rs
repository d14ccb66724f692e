//! The real binary registered with roomtap's TracimDaemon: however it ends —
//! `q` in the panes, a panic, SIGTERM or SIGHUP to `tail` — it sends
//! `daemon_client_delete` exactly once and removes its socket file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::tmux::Tmux;
use roomtap::protocols::tracim::server::{Daemon, DaemonConfig};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("rt-tt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn daemon(master: &Path) -> Daemon {
    Daemon::start(
        DaemonConfig {
            round: Duration::from_millis(500),
            ..DaemonConfig::new(master)
        },
        None,
    )
    .await
    .unwrap()
}

fn deletes(d: &Daemon, own: &Path) -> usize {
    let me = own.to_string_lossy().into_owned();
    d.received()
        .iter()
        .filter(|(p, t)| *p == me && t == "daemon_client_delete")
        .count()
}

/// After the run ended: gone from the daemon, one delete, no socket file.
async fn said_goodbye_once(d: &Daemon, own: &Path) {
    assert!(
        d.wait_until(Duration::from_secs(10), |d| d.clients().is_empty())
            .await,
        "unregistered: {:?}",
        d.received()
    );
    // A second delete would come at once, if it came.
    let _ = d
        .wait_until(Duration::from_millis(500), |d| deletes(d, own) > 1)
        .await;
    assert_eq!(deletes(d, own), 1, "{:?}", d.received());
    assert!(!own.exists(), "its socket file is removed");
}

fn panes_cmd(master: &Path, own: &Path) -> String {
    format!(
        "sh -c '{} tracim --master {} --socket {} --tracim-round 0.5; echo EXITED $?; sleep 30'",
        env!("CARGO_BIN_EXE_roomtap"),
        master.display(),
        own.display()
    )
}

async fn in_panes_ends_with(name: &str, key: &str, env: &[(&str, &str)]) {
    let dir = Dir::new(name);
    let (master, own) = (dir.0.join("m.sock"), dir.0.join("c.sock"));
    let d = daemon(&master).await;
    let t = Tmux::start(name, &panes_cmd(&master, &own), env);
    assert!(
        d.wait_until(Duration::from_secs(20), |d| d.clients().len() == 1)
            .await,
        "registered; screen:\n{}",
        t.screen()
    );
    d.tracim_event(r#"{"event_id":5,"event_type":"content.created.comment","fields":{"content":{"label":"hello"}}}"#);
    tokio::task::block_in_place(|| {
        t.wait("the event on screen", 20, |t| {
            t.screen().contains("\"hello\"")
        });
        t.tmux(&["send-keys", "-t", &t.session, key]);
        t.wait("roomtap's exit", 20, |t| t.screen().contains("EXITED"));
    });
    said_goodbye_once(&d, &own).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_the_panes_unregisters_once() {
    in_panes_ends_with("tquit", "q", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_panes_unregisters_once() {
    in_panes_ends_with(
        "tpanic",
        "!",
        &[("ROOMTAP_TEST_PANIC_KEY", "1"), ("RUST_BACKTRACE", "0")],
    )
    .await;
}

async fn tail_ends_on(name: &str, signal: rustix::process::Signal) {
    let dir = Dir::new(name);
    let (master, own) = (dir.0.join("m.sock"), dir.0.join("c.sock"));
    let d = daemon(&master).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args(["tail", "tracim", "--master"])
        .arg(&master)
        .arg("--socket")
        .arg(&own)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    assert!(
        d.wait_until(Duration::from_secs(20), |d| d.clients().len() == 1)
            .await,
        "registered"
    );
    let pid = rustix::process::Pid::from_raw(child.id().unwrap() as i32).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("tail ends on the signal")
        .unwrap();
    assert!(status.success(), "{status:?}");
    said_goodbye_once(&d, &own).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_unregisters_once_on_sigterm() {
    tail_ends_on("tterm", rustix::process::Signal::TERM).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_unregisters_once_on_sighup() {
    tail_ends_on("thup", rustix::process::Signal::HUP).await;
}
