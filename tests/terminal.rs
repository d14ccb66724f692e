//! The real binary in a real terminal (tmux): the terminal is restored on
//! quit and on panic. tmux reports the pane's modes, so the test reads
//! them instead of guessing from the screen.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::tmux::Tmux;

/// roomtap, then (in the same pane, still alive) its exit status and the
/// tty's canonical-mode flag: `icanon` when raw mode was left, `-icanon` not.
fn roomtap_cmd() -> String {
    // Nothing listens on port 9 of loopback: the relay source keeps retrying.
    format!(
        "sh -c '{} relay ws://127.0.0.1:9/socketcluster/; echo EXITED $?; \
         stty -a | tr \" ;\" \"\\n\\n\" | grep -x -e icanon -e -icanon; sleep 30'",
        env!("CARGO_BIN_EXE_roomtap")
    )
}

fn exit_report(t: &Tmux) -> (i32, String) {
    t.wait("the exit report", 10, |t| {
        let s = t.screen();
        s.contains("EXITED") && s.contains("icanon")
    });
    let s = t.screen();
    let code = s
        .lines()
        .find_map(|l| l.trim().strip_prefix("EXITED "))
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(-1);
    let canon = s
        .lines()
        .map(str::trim)
        .find(|l| *l == "icanon" || *l == "-icanon")
        .unwrap_or("")
        .to_string();
    (code, canon)
}

#[test]
fn quit_restores_the_terminal() {
    let t = Tmux::start("quit", &roomtap_cmd(), &[]);
    t.wait("the four panes", 20, |t| t.screen().contains("4 Timeline"));
    assert_eq!(t.flag("alternate_on"), "1", "runs on the alternate screen");
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
    let (code, canon) = exit_report(&t);
    assert_eq!(code, 0);
    assert_eq!(canon, "icanon", "raw mode left");
    assert_eq!(t.flag("alternate_on"), "0", "alternate screen left");
    assert_eq!(t.flag("cursor_flag"), "1", "cursor shown again");
}

/// The mouse is the terminal's (its text selection works) unless asked
/// for: `--mouse` takes it, `m` gives it back and takes it again, and
/// quitting gives it back (tmux reports the pane's mouse modes).
#[test]
fn the_mouse_is_taken_only_when_asked_and_given_back() {
    let t = Tmux::start("nomouse", &roomtap_cmd(), &[]);
    t.wait("the four panes", 20, |t| t.screen().contains("4 Timeline"));
    assert_eq!(t.flag("mouse_any_flag"), "0", "off by default");
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
    exit_report(&t);
    drop(t);
    let t = Tmux::start("mouse", &roomtap_cmd_with("--mouse"), &[]);
    t.wait("the four panes", 20, |t| t.screen().contains("4 Timeline"));
    t.wait("mouse reports on", 5, |t| t.flag("mouse_any_flag") == "1");
    t.tmux(&["send-keys", "-t", &t.session, "m"]);
    t.wait("mouse reports off after m", 5, |t| {
        t.flag("mouse_any_flag") == "0"
    });
    t.tmux(&["send-keys", "-t", &t.session, "m"]);
    t.wait("on again", 5, |t| t.flag("mouse_any_flag") == "1");
    // A wheel notch up over the Logs (an SGR report, as a terminal sends
    // it), the Timeline focused: the Logs take it and stop following.
    t.wait("a few lines to scroll", 20, |t| {
        t.screen().matches("connecting").count() >= 3
    });
    t.tmux(&["send-keys", "-t", &t.session, "4"]);
    t.tmux(&["send-keys", "-t", &t.session, "-l", "\x1b[<64;10;5M"]);
    t.wait("the Logs scrolled by the wheel", 5, |t| {
        t.screen()
            .lines()
            .next()
            .is_some_and(|l| l.contains("paused"))
    });
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
    let (code, _) = exit_report(&t);
    assert_eq!(code, 0);
    assert_eq!(t.flag("mouse_any_flag"), "0", "given back on quit");
}

#[test]
fn a_panic_restores_the_terminal_and_is_readable() {
    let t = Tmux::start(
        "panic",
        &roomtap_cmd(),
        &[("ROOMTAP_TEST_PANIC_KEY", "1"), ("RUST_BACKTRACE", "0")],
    );
    t.wait("the four panes", 20, |t| t.screen().contains("4 Timeline"));
    t.tmux(&["send-keys", "-t", &t.session, "!"]);
    let (code, canon) = exit_report(&t);
    assert_ne!(code, 0, "a panic is a failure exit");
    assert_eq!(canon, "icanon", "raw mode left on panic:\n{}", t.screen());
    assert_eq!(
        t.flag("alternate_on"),
        "0",
        "alternate screen left on panic"
    );
    assert_eq!(t.flag("cursor_flag"), "1", "cursor shown again");
    let screen = t.screen();
    assert!(
        screen.contains("panic requested by ROOMTAP_TEST_PANIC_KEY"),
        "the panic message is printed on the normal screen:\n{screen}"
    );
}

/// roomtap (with `args`) in a pane, then its exit status and tty mode.
fn roomtap_cmd_with(args: &str) -> String {
    format!(
        "sh -c '{} relay ws://127.0.0.1:9/socketcluster/ {args}; echo EXITED $?; \
         stty -a | tr \" ;\" \"\\n\\n\" | grep -x -e icanon -e -icanon; sleep 30'",
        env!("CARGO_BIN_EXE_roomtap")
    )
}

/// The pid of roomtap in the pane (the shell's child).
fn roomtap_pid(t: &Tmux) -> String {
    let shell = t.flag("pane_pid");
    let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
    let pid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    assert!(
        !pid.is_empty(),
        "roomtap runs under the pane's shell {shell}"
    );
    pid
}

/// SIGTERM and SIGHUP end roomtap as `q` does: terminal restored and the
/// recording flushed to its last event (a kill would lose the last second).
#[test]
fn sigterm_and_sighup_restore_the_terminal_and_flush_the_recording() {
    for sig in ["TERM", "HUP"] {
        let rec =
            std::env::temp_dir().join(format!("roomtap-sig{sig}-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&rec);
        let t = Tmux::start(
            &format!("sig{sig}"),
            &roomtap_cmd_with(&format!("--record {}", rec.display())),
            &[],
        );
        t.wait("the four panes", 20, |t| {
            let s = t.screen();
            s.contains("4 Timeline") && s.contains("connecting (attempt 2)")
        });
        let pid = roomtap_pid(&t);
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        let (code, canon) = exit_report(&t);
        assert_eq!(code, 0, "SIG{sig} ends the session cleanly");
        assert_eq!(canon, "icanon", "raw mode left on SIG{sig}");
        assert_eq!(
            t.flag("alternate_on"),
            "0",
            "alternate screen left on SIG{sig}"
        );
        assert_eq!(t.flag("cursor_flag"), "1", "cursor shown again on SIG{sig}");
        let text = std::fs::read_to_string(&rec).unwrap();
        assert!(text.ends_with('\n'), "the recording ends with a whole line");
        let r = roomtap::record::read(&rec).unwrap();
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert!(
            r.events.iter().any(|e| matches!(
                &e.kind,
                roomtap::event::EventKind::Conn(roomtap::event::ConnState::Connecting {
                    attempt: 2
                })
            )),
            "the events up to the signal are on disk ({} events)",
            r.events.len()
        );
        let _ = std::fs::remove_file(&rec);
    }
}

/// A recording that cannot be written (a full disk) is said on screen and
/// the session goes on without it.
#[test]
fn a_full_disk_stops_the_recording_not_the_session() {
    let t = Tmux::start("full", &roomtap_cmd_with("--record /dev/full"), &[]);
    t.wait("the failure said", 20, |t| {
        t.screen().contains("recording stopped") && t.screen().contains("goes on without it")
    });
    t.wait("the session going on", 20, |t| {
        t.screen().contains("connecting (attempt 3)")
    });
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
    let (code, _) = exit_report(&t);
    assert_eq!(code, 0);
}

/// Resized many times a second: roomtap keeps drawing, at the last size.
#[test]
fn a_resize_storm_is_survived() {
    let t = Tmux::start("resize", &roomtap_cmd(), &[]);
    t.wait("the four panes", 20, |t| t.screen().contains("4 Timeline"));
    let sizes = [
        ("80", "24"),
        ("200", "60"),
        ("100", "30"),
        ("120", "40"),
        ("60", "20"),
    ];
    let started = Instant::now();
    for i in 0..100 {
        let (w, h) = sizes[i % sizes.len()];
        t.tmux(&["resize-window", "-t", &t.session, "-x", w, "-y", h]);
    }
    let rate = 100.0 / started.elapsed().as_secs_f64();
    t.tmux(&["resize-window", "-t", &t.session, "-x", "80", "-y", "24"]);
    t.wait("the panes at 80×24", 10, |t| {
        let s = t.screen();
        s.lines().count() <= 24
            && s.contains("4 Timeline")
            && s.lines().all(|l| l.chars().count() <= 80)
    });
    assert!(rate > 5.0, "{rate:.0} resizes a second");
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
    let (code, canon) = exit_report(&t);
    assert_eq!((code, canon.as_str()), (0, "icanon"));
}

/// `roomtap demo`, as the README's first command runs it: two simulated
/// apps stream into the panes and a jump from the keyboard reaches only
/// the selected one.
#[test]
fn the_demo_runs_with_nothing_else() {
    let rec = std::env::temp_dir().join(format!("roomtap-demo-rec-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&rec);
    let cmd = format!(
        "sh -c '{} demo --seed 7 --port 0 --record {}; echo EXITED $?; sleep 30'",
        env!("CARGO_BIN_EXE_roomtap"),
        rec.display()
    );
    let t = Tmux::start("demo", &cmd, &[]);
    t.wait("actions from both apps", 30, |t| {
        // The kind column is padded: one space between words will do.
        let s: String = t
            .screen()
            .split(' ')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        s.contains("ACTION shop") && s.contains("ACTION chat")
    });
    t.wait("developer logs from the demo room's agents", 30, |t| {
        let s = t.screen();
        s.contains(" room ")
            && ["indexer", "agent.turn", "assistant", "warning"]
                .iter()
                .any(|k| s.contains(k))
    });
    // Focus the timeline, pick the second state of the selected app, jump.
    for k in ["4", "g", "Down", "Enter"] {
        t.tmux(&["send-keys", "-t", &t.session, k]);
    }
    t.wait("the jump reported as reaching one app", 10, |t| {
        let s = t.screen();
        s.contains("jump to state") && s.contains("only")
    });
    // The recording is flushed while the session runs (at least every
    // second), not only at exit.
    t.wait("the recording on disk", 10, |_| {
        std::fs::read_to_string(&rec).is_ok_and(|s| s.contains("\"Redux\"") && s.contains("agent"))
    });
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
    t.wait("a clean exit", 10, |t| t.screen().contains("EXITED 0"));
    let r = roomtap::record::read(&rec).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let labels: Vec<&str> = r.header.sources.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(
        labels.len(),
        6,
        "relay, monitor, room, leap, tracim, legume: {labels:?}"
    );
    assert!(
        labels.contains(&"tracim") && labels.contains(&"legume"),
        "{labels:?}"
    );
    let _ = std::fs::remove_file(&rec);
}

/// `roomtap room-server` in the background, killed on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The room server on a port of its choosing (no race with other tests
/// for a "free" port): the child and its port.
fn room_server(secret: &str) -> (Child, u16, std::sync::mpsc::Receiver<String>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_roomtap"));
    c.args(["room-server", "--room-port", "0"])
        .env("MESHAGENT_SECRET", secret);
    headless_server(c, "roomtap room server on")
}

/// A headless server of roomtap's started with `cmd`, on a port of its
/// choosing: the child, the port its first line names (after `banner`),
/// and its further log lines.
fn headless_server(
    mut cmd: Command,
    banner: &str,
) -> (Child, u16, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut c = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let err = c.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let child = Child(c);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(banner) => {
                // "BANNER ws://127.0.0.1:PORT/… (...)"
                let port = l
                    .split("127.0.0.1:")
                    .nth(1)
                    .and_then(|r| r.split('/').next())
                    .and_then(|p| p.parse().ok())
                    .expect("the port in the first line");
                return (child, port, rx);
            }
            Ok(_) => {}
            Err(e) => panic!("{banner}: the server did not start: {e}"),
        }
    }
}

/// Relay and room in one run: `roomtap --room URL` (the embedded relay plus
/// a room), the token given with --token: the Logs pane interleaves both
/// sources, Connections lists both, a log typed on the command line comes
/// back from the room, and the token is never on screen.
#[test]
fn a_relay_and_a_room_in_one_run_and_the_token_stays_hidden() {
    let (_srv, room_port, srv_log) = room_server("tmux-secret");
    let token =
        roomtap::protocols::room::wire::token::participant_token("tmux-secret", "roomtap", "test");
    let cmd = format!(
        "sh -c '{} --port 0 --room ws://127.0.0.1:{room_port}/rooms/test --token {}; echo EXITED $?; sleep 30'",
        env!("CARGO_BIN_EXE_roomtap"),
        token.expose()
    );
    let t = Tmux::start("multi", &cmd, &[]);
    t.wait("the room watching and the relay listening", 30, |t| {
        let s = t.screen();
        s.contains("watching developer log") && s.contains("redux srv ")
    });
    assert!(
        t.screen().contains("--token puts the token"),
        "--token warns:\n{}",
        t.screen()
    );
    for k in [":", "log tmux.check {\"typed\":\"here\"}"] {
        t.tmux(&["send-keys", "-t", &t.session, "-l", k]);
    }
    t.tmux(&["send-keys", "-t", &t.session, "Enter"]);
    t.wait("the typed log back from the room", 15, |t| {
        t.screen().contains("INFO  tmux.check")
    });
    // Connections: the relay first, the room further down.
    for k in ["3", "G"] {
        t.tmux(&["send-keys", "-t", &t.session, k]);
    }
    t.wait("the room in Connections", 10, |t| {
        let s = t.screen();
        s.contains("room room ws://127.0.0.1")
            && s.contains("developer logs on (developer toolkit)")
    });
    let tail: String = token.expose().chars().rev().take(16).collect::<String>();
    let tail: String = tail.chars().rev().collect();
    for screen in [
        t.screen(),
        t.tmux(&["capture-pane", "-p", "-S", "-", "-t", &t.session]),
    ] {
        let body: String = screen.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert!(!body.contains(&tail), "the token is on screen:\n{body}");
    }
    // SIGTERM, as a service manager would: the room hears roomtap leave
    // (its watch undone with the connection), and the exit is clean.
    let pid = roomtap_pid(&t);
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    t.wait("a clean exit", 10, |t| t.screen().contains("EXITED 0"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match srv_log.recv_timeout(left) {
            Ok(l) if l.contains("roomtap left test") => break,
            Ok(_) => {}
            Err(e) => panic!("the room server never heard roomtap leave: {e}"),
        }
    }
}

/// `roomtap leap-server` on a port of its choosing: the child, its port and
/// its log lines.
fn leap_server(token_file: &std::path::Path) -> (Child, u16, std::sync::mpsc::Receiver<String>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_roomtap"));
    c.args([
        "leap-server",
        "--leap-port",
        "0",
        "--project",
        "p1",
        "--channel",
        "c",
    ])
    .arg("--token-file")
    .arg(token_file);
    headless_server(c, "roomtap Leap Edge on")
}

/// The real JS Leap client (tests/peers/leap/client.mjs): its stdout lines
/// on a channel, its stdin to send frames.
struct JsLeap {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl JsLeap {
    fn start(url: &str, project: &str, token: &str) -> JsLeap {
        use std::io::BufRead;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/leap");
        assert!(
            dir.join("node_modules").exists(),
            "run tests/peers/install.sh"
        );
        let mut c = Command::new("node")
            .args([
                "client.mjs",
                "--url",
                url,
                "--project",
                project,
                "--token",
                token,
            ])
            .args(["--seconds", "60"])
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = c.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let mut js = JsLeap {
            child: Child(c),
            lines: rx,
        };
        js.wait("JS connected", |v| v["state"] == "connected");
        js
    }

    fn wait(&mut self, what: &str, f: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&l)
                        && f(&v)
                    {
                        return v;
                    }
                }
                Err(e) => panic!("JS client: no {what}: {e}"),
            }
        }
    }

    fn send(&mut self, e: &str, c: &str, d: serde_json::Value) {
        use std::io::Write;
        let cmd = serde_json::json!({"op": "send", "frame": {"e": e, "c": c, "d": d}});
        let stdin = self.child.0.stdin.as_mut().unwrap();
        writeln!(stdin, "{cmd}").unwrap();
        let v = self.wait(e, |v| v["event"] == "sent" || v["event"] == "error");
        assert_eq!(v["event"], "sent", "{v}");
    }
}

/// As a new user would: `roomtap leap URL --project p1 --channel c` against
/// `roomtap leap-server` (which creates c on the first SUBSCRIBE), while the real JS client sets the
/// channel's state: the Channels pane shows it changing with its diffs; a
/// message typed in roomtap reaches the JS client; the token (from a file)
/// is nowhere on screen.
#[test]
fn leap_against_roomtaps_leap_server_in_a_terminal() {
    let dir = std::env::temp_dir().join(format!("roomtap-leap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tok = dir.join("token");
    let secret = "leap_tmux_secret_token";
    std::fs::write(&tok, format!("{secret}\n")).unwrap();
    let (_srv, port, _log) = leap_server(&tok);
    let url = format!("ws://127.0.0.1:{port}/ws");
    let cmd = format!(
        "sh -c '{} leap {url} --project p1 --channel c --token-file {}; echo EXITED $?; sleep 30'",
        env!("CARGO_BIN_EXE_roomtap"),
        tok.display()
    );
    let t = Tmux::start("leap", &cmd, &[]);
    t.wait("roomtap on channel c", 30, |t| {
        t.screen().contains("channel c available")
    });
    for k in ["2", "z"] {
        t.tmux(&["send-keys", "-t", &t.session, k]);
    }
    let mut js = JsLeap::start(&url, "p1", secret);
    js.send("SUBSCRIBE", "c", serde_json::Value::Null);
    js.wait("AVAILABLE", |v| v["eventType"] == "AVAILABLE");
    js.send("SET_CHANNEL_STATE", "c", serde_json::json!({"score": 1}));
    js.send(
        "SET_CHANNEL_STATE",
        "c",
        serde_json::json!({"score": 2, "who": "ann"}),
    );
    t.wait("the state and its diff in the Channels pane", 15, |t| {
        let s = t.screen();
        s.contains("~ $.score: 1 → 2")
            && s.contains("+ $.who: \"ann\"")
            && s.contains("who: \"ann\"")
    });
    for k in [":", "msg c chat {\"text\":\"hi js\"}"] {
        t.tmux(&["send-keys", "-t", &t.session, "-l", k]);
    }
    t.tmux(&["send-keys", "-t", &t.session, "Enter"]);
    let m = js.wait("roomtap's message", |v| v["eventType"] == "MESSAGE");
    assert_eq!(
        m["data"],
        serde_json::json!({"e": "chat", "d": {"text": "hi js"}})
    );
    assert!(!t.screen().contains(secret), "{}", t.screen());
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
    t.wait("a clean exit", 10, |t| t.screen().contains("EXITED 0"));
    let _ = std::fs::remove_dir_all(&dir);
}
