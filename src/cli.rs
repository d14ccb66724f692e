//! Command line. Every flag can also come from a `ROOMTAP_*` variable.

use clap::{Args, Parser, Subcommand};

pub use crate::registry::{SourceArgs, SourceCmd};

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
    pub sources: SourceArgs,
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
    /// Bytes the log lines and the Timeline's actions and states hold together, as the allocator
    /// counts them; the oldest go first (log lines evicted and counted, states dropped and marked on
    /// their rows). Suffixes K, M, G.
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

#[derive(Debug, Subcommand, Clone)]
pub enum Cmd {
    #[command(flatten)]
    Source(SourceCmd),
    /// Run roomtap's MeshAgent room server alone, headless, logging to stderr (on
    /// 127.0.0.1:--room-port; checks HS256 tokens when --room-secret / MESHAGENT_SECRET is set).
    RoomServer,
    /// Run roomtap's Leap Edge alone, headless, logging to stderr (on 127.0.0.1:--leap-port,
    /// serving --project, default project_demo; each --channel, and any channel a client
    /// subscribes to, is an unprotected channel with state {}; with a token flag, only that token
    /// is accepted).
    LeapServer,
    /// Run roomtap's relay alone, headless, logging to stderr (other monitors can use it).
    Serve,
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
        source: Option<SourceCmd>,
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
