//! The real binary in a real terminal: a tmux session to type into and read.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub session: String,
}

impl Tmux {
    pub fn start(name: &str, cmd: &str, env: &[(&str, &str)]) -> Tmux {
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

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    pub fn flag(&self, name: &str) -> String {
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
    pub fn wait(&self, what: &str, secs: u64, cond: impl Fn(&Tmux) -> bool) {
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
