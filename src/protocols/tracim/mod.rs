//! The TracimDaemon protocol, all of it: `wire` (the `DaemonEvent` codec,
//! typed payloads, Tracim live messages), `client` (roomtap registered with
//! a daemon: live Tracim events, keep-alive, unregistering once), `server`
//! (roomtap's own daemon, as `handlers.go` behaves, on the server kit over
//! Unix sockets), `demo` (a daemon fed a busy workspace's messages), and
//! here its descriptor, flags and subcommands.
//!
//! `roomtap tracim [--master PATH] [--socket PATH]` registers with a
//! daemon; `--tracim PATH` adds one to any command; `roomtap tracim-daemon`
//! runs roomtap's daemon alone.

pub mod client;
pub mod demo;
pub mod server;
pub mod wire;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::event::Level;
use crate::source::kind::{Caps, CommandLine, FirstPane, Protocol, SourceKind};
use crate::source::{Headless, Shared, Source};
use client::TracimConfig;
use client::source::TracimSource;

/// The TracimDaemon protocol's descriptor: `:` commands.
pub static PROTOCOL: Protocol = Protocol {
    name: "tracim",
    server: "tracim daemon",
    older: &[],
    caps: Caps {
        commands: true,
        targets_instances: false,
        command_line: Some(CommandLine {
            usage: client::command::USAGE,
            verbs: client::command::VERBS,
            parse: client::command::parse_line,
        }),
        watch: None,
    },
    token_env: None,
    first_pane: FirstPane::Logs,
};

/// A client of a TracimDaemon.
pub const CLIENT: SourceKind = SourceKind::client(&PROTOCOL);
/// roomtap's TracimDaemon.
pub const SERVER: SourceKind = SourceKind::server(&PROTOCOL);

/// TracimDaemon (`roomtap tracim`, `--tracim` on any command,
/// `tracim-daemon`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "TracimDaemon")]
#[group(skip)]
pub struct Flags {
    /// Also register with a TracimDaemon at this master socket; repeatable.
    #[arg(long = "tracim", global = true, value_name = "PATH")]
    pub masters: Vec<PathBuf>,
    /// The daemon's ping round, in seconds (30 in the Go daemon): with no ping for two rounds
    /// roomtap says the daemon is silent and registers again; `tracim-daemon` pings this often.
    #[arg(long = "tracim-round", global = true, value_name = "SECS", default_value_t = 30.0)]
    pub round: f64,
}

/// `roomtap tracim`.
#[derive(Debug, Subcommand, Clone)]
pub enum Cmd {
    /// Register with a TracimDaemon: a Tracim user's live messages, the daemon's clients, its
    /// keep-alive. The master socket defaults to the daemon's own: socket_path in
    /// ~/.config/TracimDaemon/config.json, else master.sock beside it.
    Tracim {
        /// The daemon's master socket.
        #[arg(long, value_name = "PATH")]
        master: Option<PathBuf>,
        /// roomtap's own socket [default: a fresh one in $XDG_RUNTIME_DIR/roomtap/].
        #[arg(long, value_name = "PATH")]
        socket: Option<PathBuf>,
    },
}

/// `roomtap tracim-daemon`.
#[derive(Debug, Subcommand, Clone)]
pub enum ServerCmd {
    /// Run roomtap's TracimDaemon alone, headless, logging to stderr: clients register with it
    /// as with the Go daemon; it sends them Tracim live messages from --tlm FILE (one JSON per
    /// line, in a loop) or made up as a busy workspace makes them.
    TracimDaemon {
        /// Its socket [default: the master socket `roomtap tracim` looks for].
        #[arg(long, value_name = "PATH")]
        socket: Option<PathBuf>,
        /// Tracim live messages to send, one JSON document per line (looped).
        #[arg(long, value_name = "FILE")]
        tlm: Option<PathBuf>,
        /// Milliseconds between two messages.
        #[arg(long, value_name = "MS", default_value_t = 1000)]
        every: u64,
        /// The Tracim user id it says it serves.
        #[arg(long, value_name = "ID", default_value = "42")]
        user_id: String,
    },
}

/// The directory the TracimDaemon keeps its config in (Go's
/// `os.UserConfigDir`): `$XDG_CONFIG_HOME`, else `~/.config`.
fn config_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("TracimDaemon"))
}

/// The master socket: `socket_path` of the daemon's config, else
/// `master.sock` beside it; and how it was found, in words.
pub fn default_master() -> Result<(PathBuf, String), String> {
    master_in(&config_dir().ok_or("no home directory: give --master PATH")?)
}

/// [`default_master`] for the daemon's config directory `dir`.
fn master_in(dir: &Path) -> Result<(PathBuf, String), String> {
    let config = dir.join("config.json");
    if config.exists() {
        let text = crate::files::read_text(&config, 1 << 20, "the daemon's config")?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", config.display()))?;
        if let Some(p) = v.get("socket_path").and_then(|p| p.as_str()) {
            return Ok((
                PathBuf::from(p),
                format!("master socket from socket_path in {}", config.display()),
            ));
        }
    }
    let sock = dir.join("master.sock");
    let how = format!("master socket {} (the daemon's default)", sock.display());
    Ok((sock, how))
}

impl Flags {
    fn round(&self) -> Duration {
        Duration::from_secs_f64(self.round.clamp(0.05, 3600.0))
    }

    /// One source per master socket.
    fn sources(
        &self,
        masters: &[(PathBuf, Option<PathBuf>, Option<String>)],
    ) -> Result<Vec<Box<dyn Source>>, String> {
        let mut out: Vec<Box<dyn Source>> = Vec::new();
        for (i, (master, socket, how)) in masters.iter().enumerate() {
            let socket = match socket {
                Some(s) => s.clone(),
                None => client::own_socket()?,
            };
            let mut cfg = TracimConfig::new(master, &socket);
            cfg.round = self.round();
            let label = if masters.len() == 1 {
                "tracim".to_string()
            } else {
                format!("tracim{}", i + 1)
            };
            let mut src = TracimSource::new(&label, cfg);
            if let Some(how) = how {
                src.notes.push((Level::Info, how.clone()));
            }
            out.push(Box::new(src));
        }
        Ok(out)
    }
}

impl Cmd {
    pub fn sources(&self, flags: &Flags, _: Shared) -> Result<Vec<Box<dyn Source>>, String> {
        match self {
            Cmd::Tracim { master, socket } => {
                let (master, how) = match master {
                    Some(m) => (m.clone(), None),
                    None => {
                        let (m, how) = default_master()?;
                        (m, Some(how))
                    }
                };
                flags.sources(&[(master, socket.clone(), how)])
            }
        }
    }
}

/// The largest `--tlm` file read (held whole, looped).
const MAX_TLM_FILE: u64 = 64 << 20;

/// Send `daemon` a message every `every`: the file's lines in a loop, or
/// made-up ones.
fn tlm_lines(p: &Path) -> Result<Vec<String>, String> {
    let text = crate::files::read_text(p, MAX_TLM_FILE, "--tlm")?;
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if lines.is_empty() {
        return Err(format!("--tlm {} holds no message", p.display()));
    }
    Ok(lines)
}

/// Send `daemon` a message every `every`: `lines` in a loop, or made-up
/// ones.
fn feeder(daemon: &Arc<server::Daemon>, lines: Option<Vec<String>>, every: Duration) -> tokio::task::JoinHandle<()> {
    let d = daemon.clone();
    tokio::spawn(async move {
        let mut made = demo::Tlms::new(crate::event::now_ms());
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
        for i in 0usize.. {
            tick.tick().await;
            let tlm = match &lines {
                Some(l) => l[i % l.len()].clone(),
                None => made.next_tlm(),
            };
            d.tracim_event(&tlm);
        }
    })
}

impl ServerCmd {
    pub fn headless(&self, flags: &Flags, _: Shared) -> Result<Headless, String> {
        match self {
            ServerCmd::TracimDaemon {
                socket,
                tlm,
                every,
                user_id,
            } => {
                let socket = match socket {
                    Some(s) => s.clone(),
                    None => default_master()?.0,
                };
                let mut cfg = server::DaemonConfig::new(&socket);
                cfg.round = flags.round();
                cfg.user_id.clone_from(user_id);
                let (tlm, every) = (tlm.clone(), Duration::from_millis(*every));
                // Read now, so a bad file is said before anything starts.
                let lines = tlm.as_deref().map(tlm_lines).transpose()?;
                let source = server::source::DaemonSource::new(cfg).then(move |d, started| {
                    struct Abort(tokio::task::JoinHandle<()>);
                    impl Drop for Abort {
                        fn drop(&mut self) {
                            self.0.abort();
                        }
                    }
                    let task = feeder(d, lines.clone(), every);
                    started.keep.push(Box::new(Abort(task)));
                });
                Ok(Headless::Serve {
                    source: Box::new(source),
                    banner: Box::new(|url| format!("roomtap TracimDaemon listening on {url}")),
                    who: "roomtap TracimDaemon".into(),
                })
            }
        }
    }
}

/// The daemons `--tracim PATH` adds.
pub fn added(flags: &Flags, _: Shared) -> Result<Vec<Box<dyn Source>>, String> {
    let masters: Vec<(PathBuf, Option<PathBuf>, Option<String>)> = flags
        .masters
        .iter()
        .map(|m| (m.clone(), None, None))
        .collect();
    flags.sources(&masters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_socket_is_the_daemons_own() {
        let dir = std::env::temp_dir().join(format!("rt-tmaster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // No config: master.sock beside where it would be.
        let (p, how) = master_in(&dir).unwrap();
        assert_eq!(p, dir.join("master.sock"));
        assert!(how.contains("the daemon's default"), "{how}");
        // socket_path of the config wins.
        let config = dir.join("config.json");
        std::fs::write(&config, r#"{"socket_path":"/run/t/m.sock","other":1}"#).unwrap();
        let (p, how) = master_in(&dir).unwrap();
        assert_eq!(p, PathBuf::from("/run/t/m.sock"));
        assert!(how.contains("socket_path in"), "{how}");
        // A config without it: the default again.
        std::fs::write(&config, r#"{"tracim_url":"x"}"#).unwrap();
        assert_eq!(master_in(&dir).unwrap().0, dir.join("master.sock"));
        // A config that is not JSON, or not a file: said.
        std::fs::write(&config, "socket_path = 1").unwrap();
        assert!(master_in(&dir).unwrap_err().contains("is not JSON"));
        std::fs::remove_file(&config).unwrap();
        std::fs::create_dir(&config).unwrap();
        let e = master_in(&dir).unwrap_err();
        assert!(e.contains("not a regular file (a directory)"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
