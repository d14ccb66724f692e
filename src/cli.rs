//! Command line. Every flag can also come from a `ROOMTAP_*` variable.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "roomtap",
    version,
    about = "A terminal inspector for realtime apps: logs, channels, connections and Redux time travel",
    after_help = "Keys: press ? inside roomtap. NO_COLOR selects the mono theme."
)]
pub struct Cli {
    #[command(flatten)]
    pub ui: UiArgs,
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
    /// Timeline actions kept per app instance.
    #[arg(
        long,
        global = true,
        env = "ROOMTAP_MAX_ACTIONS",
        default_value_t = 10_000
    )]
    pub max_actions: usize,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Monitor a Redux DevTools remote relay (@redux-devtools/cli or remotedev-server).
    Relay {
        /// WebSocket URL of the relay.
        #[arg(env = "ROOMTAP_RELAY_URL", default_value = crate::sources::relay::DEFAULT_URL)]
        url: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
