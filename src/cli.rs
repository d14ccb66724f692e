//! Command line. Every flag can also come from a `ROOMTAP_*` variable.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "roomtap",
    version,
    about = "A terminal inspector for realtime apps: logs, channels, connections and Redux time travel",
    long_about = "A terminal inspector for realtime apps. With no subcommand, roomtap starts its own Redux DevTools relay on 127.0.0.1:8000 (/socketcluster/) and opens the inspector attached to it: point apps using @redux-devtools/remote or remote-redux-devtools at it.",
    after_help = "Keys: press ? inside roomtap. NO_COLOR selects the mono theme."
)]
pub struct Cli {
    #[command(flatten)]
    pub ui: UiArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub room: RoomArgs,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Args, Clone)]
pub struct UiArgs {
    /// Theme: a built-in name (dark, light, mono) or a path to a TOML file.
    #[arg(long, global = true, env = "ROOMTAP_THEME", default_value = "dark")]
    pub theme: String,
    /// Most redraws per second.
    #[arg(long, global = true, env = "ROOMTAP_FPS", default_value_t = 30)]
    pub fps: u32,
    /// Log lines kept in memory (oldest are evicted, and counted).
    #[arg(
        long,
        global = true,
        env = "ROOMTAP_MAX_ENTRIES",
        default_value_t = 200_000
    )]
    pub max_entries: usize,
    /// Bytes of log lines kept in memory (oldest are evicted, and counted). Suffixes K, M, G.
    #[arg(
        long,
        global = true,
        env = "ROOMTAP_MAX_BYTES",
        default_value = "256M",
        value_parser = parse_bytes
    )]
    pub max_bytes: usize,
    /// Append every event to FILE as JSON Lines (flushed every second; `roomtap open FILE`
    /// replays it). Tokens and secrets are never written.
    #[arg(long, global = true, env = "ROOMTAP_RECORD", value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// Timeline actions kept per app instance.
    #[arg(
        long,
        global = true,
        env = "ROOMTAP_MAX_ACTIONS",
        default_value_t = 10_000
    )]
    pub max_actions: usize,
}

/// roomtap's own relay (used by `roomtap` and `serve`).
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Port of the embedded relay [default: 8000].
    #[arg(long, global = true, env = "ROOMTAP_PORT")]
    pub port: Option<u16>,
    /// Address to listen on. Anything but loopback lets others drive your apps: a warning says so.
    #[arg(long, global = true, env = "ROOMTAP_BIND", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Shared secret apps and monitors must present (URL `?secret=`, basic-auth password or
    /// `Authorization: Bearer`). Never shown or logged.
    #[arg(long, global = true, env = "ROOMTAP_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Largest frame accepted, in bytes; a bigger one closes that socket (1009).
    #[arg(long, global = true, env = "ROOMTAP_MAX_FRAME", default_value_t = 16 << 20)]
    pub max_frame: usize,
    /// Most client connections at once (more are refused with HTTP 503).
    #[arg(long, global = true, env = "ROOMTAP_MAX_CONNS", default_value_t = 1024)]
    pub max_conns: usize,
    /// Frames queued per client before frames to it are dropped (and counted).
    #[arg(long, global = true, env = "ROOMTAP_QUEUE", default_value_t = 4096)]
    pub queue: usize,
}

impl ServeArgs {
    /// Whether the user chose the port (flag or environment).
    pub fn port_given(&self) -> bool {
        self.port.is_some()
    }

    pub fn config(&self) -> crate::relay::RelayConfig {
        crate::relay::RelayConfig {
            bind: std::net::SocketAddr::new(
                self.bind,
                self.port.unwrap_or(crate::relay::DEFAULT_PORT),
            ),
            secret: self.secret.clone().filter(|s| !s.is_empty()),
            max_frame: self.max_frame,
            max_conns: self.max_conns,
            queue: self.queue,
            ..Default::default()
        }
    }
}

/// MeshAgent rooms (`roomtap room`, `--room` with any other source).
#[derive(Debug, Args, Clone)]
pub struct RoomArgs {
    /// Also inspect a MeshAgent room (ws:// URL or room NAME); repeatable.
    #[arg(long = "room", global = true, value_name = "URL|NAME")]
    pub rooms: Vec<String>,
    /// File whose first line is the room token (JWT).
    #[arg(long, global = true, env = "ROOMTAP_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Environment variable that holds the room token.
    #[arg(long, global = true, value_name = "VAR")]
    pub token_env: Option<String>,
    /// The room token itself. Works, but lands in shell history and `ps`: prefer --token-file
    /// or MESHAGENT_TOKEN.
    #[arg(long, global = true, value_name = "JWT")]
    pub token: Option<String>,
    /// The room's HS256 secret: roomtap mints its own token for the room (as the SDKs do with
    /// MESHAGENT_SECRET); `room-server` checks tokens with it. Never shown or logged.
    #[arg(long, global = true, env = "MESHAGENT_SECRET", hide_env_values = true)]
    pub room_secret: Option<String>,
    /// Do not watch developer logs on connect (w toggles it).
    #[arg(long, global = true)]
    pub no_watch: bool,
    /// Developer-log protocol: auto (the toolkit, else legacy), current or legacy.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "current", "legacy"])]
    pub dev_logs: String,
    /// Port of `room-server`.
    #[arg(long, global = true, default_value_t = 8765)]
    pub room_port: u16,
}

#[derive(Debug, Subcommand, Clone)]
pub enum Cmd {
    /// Monitor a Redux DevTools remote relay (@redux-devtools/cli or remotedev-server).
    Relay {
        /// WebSocket URL of the relay.
        #[arg(env = "ROOMTAP_RELAY_URL", default_value = crate::sources::relay::DEFAULT_URL)]
        url: String,
    },
    /// Inspect a MeshAgent room: live developer logs (both protocol generations), room status,
    /// connection facts. NAME uses MESHAGENT_ROOM_URL / MESHAGENT_API_URL as the SDKs do.
    Room {
        /// ws[s]://HOST/rooms/NAME, or a room NAME.
        #[arg(env = "MESHAGENT_ROOM", value_name = "URL|NAME")]
        target: String,
    },
    /// Run roomtap's MeshAgent room server alone, headless, logging to stderr (on
    /// 127.0.0.1:--room-port; checks HS256 tokens when --room-secret / MESHAGENT_SECRET is set).
    RoomServer,
    /// Run roomtap's relay alone, headless, logging to stderr (other monitors can use it).
    Serve,
    /// roomtap's relay and inspector with two simulated apps (a shop and a chat) that really
    /// time-travel: nothing else needed. Takes a free port if 8000 is taken (unless --port).
    Demo {
        /// Seed of the simulated users (the same seed replays the same story).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Replay a recording (--record FILE) into the panes, timeline included; commands are
    /// disabled.
    Open {
        file: std::path::PathBuf,
        /// Replay at recorded speed times N (1 = as recorded); without it, all at once.
        #[arg(long, value_name = "N")]
        speed: Option<f64>,
    },
    /// Print events to stdout instead of opening the panes: `roomtap tail [--filter Q] [--json]
    /// [relay URL | room URL | open FILE | demo]` (roomtap's own relay when no source is given).
    Tail {
        /// Only entries matching this query (the `/` language).
        #[arg(long, value_name = "QUERY")]
        filter: Option<String>,
        /// One JSON object per line (time, source, level, kind, summary, data).
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        source: Option<Source>,
    },
}

/// What `tail` reads: the same sources as the panes.
#[derive(Debug, Subcommand, Clone)]
pub enum Source {
    /// A Redux DevTools relay.
    Relay {
        #[arg(env = "ROOMTAP_RELAY_URL", default_value = crate::sources::relay::DEFAULT_URL)]
        url: String,
    },
    /// A MeshAgent room.
    Room {
        #[arg(env = "MESHAGENT_ROOM", value_name = "URL|NAME")]
        target: String,
    },
    /// A recording.
    Open {
        file: std::path::PathBuf,
        #[arg(long, value_name = "N")]
        speed: Option<f64>,
    },
    /// The demo (relay, apps and room).
    Demo {
        #[arg(long)]
        seed: Option<u64>,
    },
}

/// `512`, `64K`, `256M`, `1G` (powers of 1024).
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1usize << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("{s:?}: use a number with K, M or G")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    num.trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?}: use a positive number with K, M or G"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("512").unwrap(), 512);
        assert_eq!(parse_bytes("64K").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("256m").unwrap(), 256 << 20);
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("12Q").is_err());
        assert!(parse_bytes("").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
