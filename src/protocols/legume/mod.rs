//! Legume 0.5 (PyPI `legume`, reliable UDP), all of it: `wire` (the
//! datagram codec, the TOML schema of user messages, and one end of a
//! connection, pure: ids, acks, resends, duplicates, pings, metrics), `client`
//! (roomtap connected to a legume server, its metrics measured from the
//! wire), `server` (roomtap's game server), `demo`, and here its
//! descriptor, flags and subcommands.
//!
//! `roomtap legume HOST:PORT [--schema FILE]` connects to a server;
//! `--legume HOST:PORT` adds one to any command; `roomtap legume-server`
//! runs roomtap's game server alone.

pub mod client;
pub mod demo;
pub mod server;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::source::kind::{Caps, CommandLine, FirstPane, Protocol, SourceKind};
use crate::source::{Headless, Shared, Source};
use client::LegumeConfig;
use client::source::LegumeSource;
use wire::schema::Schema;

/// Legume's descriptor: `:` commands.
pub static PROTOCOL: Protocol = Protocol {
    name: "legume",
    server: "legume server",
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

/// A client of a legume server.
pub const CLIENT: SourceKind = SourceKind::client(&PROTOCOL);
/// roomtap's legume game server.
pub const SERVER: SourceKind = SourceKind::server(&PROTOCOL);

/// Legume (`roomtap legume`, `--legume` on any command, `legume-server`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Legume")]
#[group(skip)]
pub struct Flags {
    /// Also connect to a legume server at HOST:PORT (UDP); repeatable.
    #[arg(long = "legume", global = true, value_name = "HOST:PORT")]
    pub servers: Vec<String>,
    /// The user messages of the legume servers, as a TOML schema (see the README); without
    /// it they are shown as a type id and hex.
    #[arg(
        long = "legume-schema",
        visible_alias = "schema",
        global = true,
        value_name = "FILE"
    )]
    pub schema: Option<PathBuf>,
    /// Nothing heard from a legume server for this long: timed out, and connected again
    /// (legume's default 10).
    #[arg(
        long = "legume-timeout",
        visible_alias = "timeout",
        global = true,
        value_name = "SECS",
        default_value_t = 10.0
    )]
    pub timeout: f64,
}

/// `roomtap legume`.
#[derive(Debug, Subcommand, Clone)]
pub enum Cmd {
    /// Connect to a legume 0.5 server (reliable UDP): its messages decoded with --schema, its
    /// connection's metrics measured from the wire (latency, loss, resends, pending acks…),
    /// `:send` to send the schema's messages.
    Legume {
        /// The server, HOST:PORT.
        #[arg(value_name = "HOST:PORT")]
        server: String,
    },
}

/// `roomtap legume-server`.
#[derive(Debug, Subcommand, Clone)]
pub enum ServerCmd {
    /// Run roomtap's legume game server alone, headless, logging to stderr: bots moving
    /// (Pos, unreliable) and chatting (Chat, reliable), clients' chat relayed. Its schema is
    /// src/protocols/legume/game.toml (`--print-schema`).
    LegumeServer {
        /// Its UDP port on 127.0.0.1 (0: any free one).
        #[arg(long, default_value_t = server::DEFAULT_PORT)]
        port: u16,
        /// Milliseconds between two position updates (0: none).
        #[arg(long, value_name = "MS", default_value_t = 200)]
        every: u64,
        /// Milliseconds between two made-up chat lines (0: none).
        #[arg(long, value_name = "MS", default_value_t = 3000)]
        chat_every: u64,
        /// Print the game's schema (for `roomtap legume --schema`) and exit.
        #[arg(long)]
        print_schema: bool,
    },
}

impl Flags {
    fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout.clamp(0.1, 3600.0))
    }

    /// One source per server.
    fn sources(&self, servers: &[String]) -> Result<Vec<Box<dyn Source>>, String> {
        if servers.is_empty() {
            return Ok(Vec::new());
        }
        let schema = match &self.schema {
            Some(p) => Some((read_schema(p)?, p.display().to_string())),
            None => None,
        };
        let mut out: Vec<Box<dyn Source>> = Vec::new();
        for (i, addr) in servers.iter().enumerate() {
            check_addr(addr)?;
            let mut cfg = LegumeConfig::new(addr);
            cfg.timeout = self.timeout();
            if let Some((s, from)) = &schema {
                cfg.schema = Arc::new(s.clone());
                cfg.schema_from = Some(from.clone());
            }
            let label = if servers.len() == 1 {
                "legume".to_string()
            } else {
                format!("legume{}", i + 1)
            };
            out.push(Box::new(LegumeSource::new(&label, cfg)));
        }
        Ok(out)
    }
}

/// The schema in `path` (a regular file, read up to 1 MiB).
pub fn read_schema(path: &std::path::Path) -> Result<Schema, String> {
    let text = crate::files::read_text(path, 1 << 20, "--schema")?;
    Schema::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `HOST:PORT`, said clearly when it is not.
fn check_addr(addr: &str) -> Result<(), String> {
    let ok = addr
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p != 0));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not HOST:PORT (a legume server's UDP address, e.g. 127.0.0.1:{})",
            crate::text::sanitize_capped(addr, 80),
            server::DEFAULT_PORT
        ))
    }
}

impl Cmd {
    pub fn sources(&self, flags: &Flags, _: Shared) -> Result<Vec<Box<dyn Source>>, String> {
        match self {
            Cmd::Legume { server } => flags.sources(std::slice::from_ref(server)),
        }
    }
}

impl ServerCmd {
    pub fn headless(&self, flags: &Flags, _: Shared) -> Result<Headless, String> {
        match self {
            ServerCmd::LegumeServer {
                port,
                every,
                chat_every,
                print_schema,
            } => {
                if *print_schema {
                    return Ok(Headless::Print(server::GAME_SCHEMA.to_string()));
                }
                let mut cfg = server::GameConfig::new(([127, 0, 0, 1], *port).into());
                cfg.timeout = flags.timeout();
                cfg.move_every = Duration::from_millis(*every);
                cfg.chat_every = Duration::from_millis(*chat_every);
                cfg.seed = crate::event::now_ms();
                Ok(Headless::Serve {
                    source: Box::new(server::source::GameServerSource::new(cfg)),
                    banner: Box::new(|url| format!("roomtap legume server listening on {url}")),
                    who: "roomtap legume server".into(),
                })
            }
        }
    }
}

/// The servers `--legume HOST:PORT` adds.
pub fn added(flags: &Flags, _: Shared) -> Result<Vec<Box<dyn Source>>, String> {
    flags.sources(&flags.servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_host_and_port() {
        assert!(check_addr("127.0.0.1:27806").is_ok());
        assert!(check_addr("game.local:9").is_ok());
        assert!(check_addr("[::1]:9").is_ok());
        for bad in ["127.0.0.1", ":9", "h:0", "h:x", "h:70000"] {
            assert!(check_addr(bad).unwrap_err().contains("is not HOST:PORT"), "{bad}");
        }
    }

    #[test]
    fn the_games_schema_reads() {
        let s = server::game_schema();
        assert_eq!(s.get(20).unwrap().name, "Chat");
        assert_eq!(s.get(21).unwrap().name, "Pos");
    }
}
