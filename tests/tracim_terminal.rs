//! The real binary registered with roomtap's TracimDaemon: however it ends —
//! `q` in the panes, a panic, Ctrl-C (SIGINT), SIGTERM or SIGHUP to `tail` — it sends
//! `daemon_client_delete` exactly once and removes its socket file.

mod common;

use common::Dir;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::tmux::Tmux;
use roomtap::protocols::tracim::server::{Daemon, DaemonConfig};

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
async fn ctrl_c_in_the_panes_unregisters_once() {
    in_panes_ends_with("tctrlc", "C-c", &[]).await;
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
async fn tail_unregisters_once_on_ctrl_c() {
    tail_ends_on("tint", rustix::process::Signal::INT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_unregisters_once_on_sighup() {
    tail_ends_on("thup", rustix::process::Signal::HUP).await;
}

/// `roomtap tracim-daemon --tlm FILE` and `roomtap tail --json tracim`, two
/// real processes: the file's messages arrive in its order, the user id is
/// the one given, several rounds pass registered; a file that is not a
/// regular one (or holds nothing) is refused before anything starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_subcommand_feeds_the_tail_subcommand() {
    use tokio::io::AsyncBufReadExt;
    let dir = Dir::new("tsub");
    let (master, own, file, rec) = (
        dir.0.join("m.sock"),
        dir.0.join("c.sock"),
        dir.0.join("tlm.jsonl"),
        dir.0.join("rec.jsonl"),
    );
    let msg = |i: u32| {
        format!(
            r#"{{"event_id":{i},"event_type":"content.created.comment","fields":{{"content":{{"label":"line {i}"}}}}}}"#
        )
    };
    std::fs::write(&file, format!("{}\n\n{}\n{}\n", msg(1), msg(2), msg(3))).unwrap();
    let bin = env!("CARGO_BIN_EXE_roomtap");
    let mut daemon = tokio::process::Command::new(bin)
        .args([
            "tracim-daemon",
            "--every",
            "100",
            "--tracim-round",
            "0.3",
            "--user-id",
            "7",
        ])
        .arg("--socket")
        .arg(&master)
        .arg("--tlm")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Its banner says it listens.
    let mut err = tokio::io::BufReader::new(daemon.stderr.take().unwrap()).lines();
    let banner = tokio::time::timeout(Duration::from_secs(20), err.next_line())
        .await
        .expect("the banner")
        .unwrap()
        .unwrap_or_default();
    assert!(banner.contains("listening on unix:"), "{banner}");
    let mut tail = tokio::process::Command::new(bin)
        .args(["tail", "--json", "--tracim-round", "0.3", "--record"])
        .arg(&rec)
        .args(["tracim", "--master"])
        .arg(&master)
        .arg("--socket")
        .arg(&own)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(tail.stdout.take().unwrap()).lines();
    let (mut labels, mut user, mut pongs) = (Vec::new(), false, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while labels.len() < 6 || pongs < 3 {
        let line = tokio::time::timeout_at(deadline, out.next_line())
            .await
            .unwrap_or_else(|_| panic!("in time: {labels:?}, user {user}, pongs {pongs}"))
            .unwrap()
            .expect("tail goes on");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let summary = v["summary"].as_str().unwrap_or_default();
        if v["kind"] == "content.created" {
            labels.push(summary.split('"').nth(1).unwrap_or_default().to_string());
        }
        user |= summary.contains("the daemon serves user 7");
        pongs += usize::from(summary.contains("pong sent"));
    }
    assert!(user, "the user id given");
    // The file's lines in order, looped, its blank line skipped (from
    // wherever the loop was when tail registered).
    let cycle = ["line 1", "line 2", "line 3"];
    let start = cycle
        .iter()
        .position(|l| *l == labels[0])
        .expect("a line of the file");
    for (i, got) in labels.iter().enumerate() {
        assert_eq!(got, cycle[(start + i) % 3], "{labels:?}");
    }
    // Ended as a user ends it: the recording holds what it printed, and
    // `open` replays it.
    let pid = rustix::process::Pid::from_raw(tail.id().unwrap() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    tokio::time::timeout(Duration::from_secs(10), tail.wait())
        .await
        .expect("tail ends on SIGTERM")
        .unwrap();
    drop(daemon);
    let replay = tokio::process::Command::new(bin)
        .args(["tail", "--json", "--filter", "kind=content.created", "open"])
        .arg(&rec)
        .output();
    let replay = tokio::time::timeout(Duration::from_secs(20), replay)
        .await
        .expect("the replay ends")
        .unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let replayed: Vec<serde_json::Value> = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(replayed.len() >= labels.len(), "{replayed:?}");
    assert!(
        replayed.iter().all(|v| v["source"] == "tracim"),
        "{replayed:?}"
    );
    // Refused before anything starts, in words, exit status 1.
    for (bad, says) in [
        (
            PathBuf::from("/dev/zero"),
            "is not a regular file (a character device)",
        ),
        (dir.0.clone(), "is not a regular file (a directory)"),
        (dir.0.join("none"), "cannot open --tlm"),
    ] {
        let got = tokio::process::Command::new(bin)
            .args(["tracim-daemon", "--socket"])
            .arg(dir.0.join("other.sock"))
            .arg("--tlm")
            .arg(&bad)
            .output();
        let got = tokio::time::timeout(Duration::from_secs(20), got)
            .await
            .expect("it ends at once")
            .unwrap();
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!dir.0.join("other.sock").exists(), "nothing started");
    }
}
