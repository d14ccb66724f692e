//! The real binary in a real terminal (tmux): the terminal is restored on
//! quit and on panic. tmux reports the pane's modes, so the test reads
//! them instead of guessing from the screen.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(name: &str, cmd: &str, env: &[(&str, &str)]) -> Tmux {
        let session = format!("roomtap-{name}-{}", std::process::id());
        let mut c = Command::new("tmux");
        c.args(["new-session", "-d", "-s", &session, "-x", "120", "-y", "40"]);
        for (k, v) in env {
            c.args(["-e", &format!("{k}={v}")]);
        }
        c.arg(cmd);
        let ok = c.status().expect("tmux is installed (.ci/run installs it)");
        assert!(ok.success());
        Tmux { session }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    fn flag(&self, name: &str) -> String {
        self.tmux(&[
            "display",
            "-p",
            "-t",
            &self.session,
            &format!("#{{{name}}}"),
        ])
        .trim()
        .to_string()
    }

    /// Poll the pane (a separate process: there is no event to wait on)
    /// until `cond` holds, at most `secs`.
    fn wait(&self, what: &str, secs: u64, cond: impl Fn(&Tmux) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if cond(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50)); // allow-sleep: polling another process's screen
        }
        panic!("timed out waiting for {what}; screen:\n{}", self.screen());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

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

/// `roomtap demo`, as the README's first command runs it: two simulated
/// apps stream into the panes and a jump from the keyboard reaches only
/// the selected one.
#[test]
fn the_demo_runs_with_nothing_else() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cmd = format!(
        "sh -c '{} demo --seed 7 --port {port}; echo EXITED $?; sleep 30'",
        env!("CARGO_BIN_EXE_roomtap")
    );
    let t = Tmux::start("demo", &cmd, &[]);
    t.wait("actions from both apps", 30, |t| {
        let s = t.screen();
        s.contains("ACTION       shop") && s.contains("ACTION       chat")
    });
    // Focus the timeline, pick the second state of the selected app, jump.
    for k in ["4", "g", "Down", "Enter"] {
        t.tmux(&["send-keys", "-t", &t.session, k]);
    }
    t.wait("the jump reported as reaching one app", 10, |t| {
        let s = t.screen();
        s.contains("sent to") && s.contains("only")
    });
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
    t.wait("a clean exit", 10, |t| t.screen().contains("EXITED 0"));
}
