//! The real binary connected to roomtap's legume game server: in the panes
//! at 80×24 its messages come in decoded, a reliable Chat typed on the `:`
//! line reaches the server, and however the run ends — `q`, a panic, or
//! SIGTERM / Ctrl-C to `tail` — it says Disconnected (the server lets it go
//! at once). `legume-server --print-schema` prints the schema `--schema`
//! takes.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::tmux::Tmux;
use roomtap::protocols::legume::server::{GameConfig, GameServer};

async fn game() -> GameServer {
    let mut cfg = GameConfig::new(([127, 0, 0, 1], 0).into());
    cfg.move_every = Duration::from_millis(300);
    cfg.chat_every = Duration::from_millis(700);
    GameServer::start(cfg, None).await.unwrap()
}

/// Bounded: the server has `n` peers.
async fn peers_become(g: &GameServer, n: usize, what: &str) {
    assert!(
        g.peers_until(Duration::from_secs(20), |k| k == n).await,
        "{what}"
    );
}

fn schema_path() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/protocols/legume/game.toml"
    )
    .to_string()
}

async fn in_panes_ends_with(name: &str, key: &str, env: &[(&str, &str)]) {
    let g = game().await;
    let cmd = format!(
        "sh -c 'stty cols 80 rows 24; {} legume {} --schema {}; echo EXITED $?; sleep 30'",
        env!("CARGO_BIN_EXE_roomtap"),
        g.addr(),
        schema_path()
    );
    let t = Tmux::start(name, &cmd, env);
    t.tmux(&["resize-window", "-t", &t.session, "-x", "80", "-y", "24"]);
    peers_become(&g, 1, "connected").await;
    tokio::task::block_in_place(|| {
        t.wait("decoded messages on screen", 20, |t| {
            // At 80×24 the summaries are cut (issue #20): the kinds show.
            let s = t.screen();
            s.contains("INFO  Pos") && s.contains("INFO  Chat")
        });
        if key == "q" {
            // A reliable Chat from the `:` line.
            t.tmux(&["send-keys", "-t", &t.session, ":"]);
            t.tmux(&[
                "send-keys",
                "-t",
                &t.session,
                "-l",
                r#"send! Chat text="typed in tmux" seq=42"#,
            ]);
            t.tmux(&["send-keys", "-t", &t.session, "Enter"]);
            t.wait("the send said", 20, |t| t.screen().contains("INFO  sent"));
        }
    });
    if key == "q" {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while g.core().meter.stats().messages_in < 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the Chat reached the server"
            );
            tokio::time::sleep(Duration::from_millis(20)).await; // allow-sleep: polling the server's meter
        }
    }
    tokio::task::block_in_place(|| {
        t.tmux(&["send-keys", "-t", &t.session, key]);
        t.wait("roomtap's exit", 20, |t| t.screen().contains("EXITED"));
        assert_eq!(t.flag("alternate_on"), "0", "the terminal restored");
    });
    peers_become(&g, 0, "let go: it said Disconnected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_in_the_panes_says_disconnected() {
    in_panes_ends_with("lq", "q", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_says_disconnected_and_restores_the_terminal() {
    in_panes_ends_with(
        "lpanic",
        "!",
        &[("ROOMTAP_TEST_PANIC_KEY", "1"), ("RUST_BACKTRACE", "0")],
    )
    .await;
}

async fn tail_ends_on(signal: rustix::process::Signal) {
    let g = game().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args([
            "tail",
            "--json",
            "legume",
            &g.addr().to_string(),
            "--schema",
            &schema_path(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    peers_become(&g, 1, "connected").await;
    // Its JSON lines: a decoded Pos among them.
    let out = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(out));
    let pos = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(l) = lines.next_line().await.unwrap() {
            let v: serde_json::Value = serde_json::from_str(&l).unwrap();
            if v["kind"] == "Pos" {
                return v;
            }
        }
        panic!("tail ended");
    })
    .await
    .expect("a Pos line");
    assert!(pos["data"]["x"].is_number(), "{pos}");
    let pid = rustix::process::Pid::from_raw(child.id().unwrap() as i32).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("tail ends on the signal")
        .unwrap();
    assert!(status.success(), "{status:?}");
    peers_become(&g, 0, "let go: it said Disconnected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_says_disconnected_on_sigterm() {
    tail_ends_on(rustix::process::Signal::TERM).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_says_disconnected_on_ctrl_c() {
    tail_ends_on(rustix::process::Signal::INT).await;
}

#[test]
fn the_server_prints_the_schema_the_client_takes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args(["legume-server", "--print-schema"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let s = roomtap::protocols::legume::wire::schema::Schema::parse(&text).unwrap();
    assert_eq!(s.named("Pos").unwrap().id, 21);
    // A bad schema or address is refused before anything starts.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args(["tail", "legume", "127.0.0.1", "--schema", &schema_path()])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not HOST:PORT"));
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args(["tail", "legume", "127.0.0.1:9", "--schema", "/dev/zero"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not a regular file"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
