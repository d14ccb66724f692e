//! The Redux DevTools remote protocol (`@redux-devtools/cli`, formerly
//! `remotedev-server`: SocketCluster over WebSocket), all of it: `wire`
//! (codecs and payload types), `client` (the monitor), `server` (roomtap's
//! own relay), `demo` (simulated apps that really time-travel), and here its
//! descriptor, flags and subcommands.
//!
//! `roomtap redux [URL]` (alias `relay`) monitors a relay; `--redux URL`
//! adds one to any command; `roomtap` alone and `roomtap demo` run roomtap's
//! own relay with the inspector attached; `roomtap redux-server` (alias
//! `serve`) runs that relay alone.

pub mod client;
pub mod demo;
pub mod server;
pub mod wire;

use clap::{Args, Subcommand};

use crate::source::kind::{Caps, FirstPane, Protocol, Role, SourceKind};
use crate::source::{Headless, Shared, Source};
use client::source::RelayMonitor;
use server::source::EmbeddedRelay;

/// The Redux DevTools protocol's descriptor.
pub static PROTOCOL: Protocol = Protocol {
    name: "redux",
    server: "redux server",
    older: &[("relay", Role::Client), ("roomtap relay", Role::Server)],
    caps: Caps {
        commands: true,
        ..Caps::NONE
    },
    token_env: None,
    first_pane: FirstPane::Timeline,
};

/// A monitor on a relay (another one, or roomtap's own in-process).
pub const CLIENT: SourceKind = SourceKind::client(&PROTOCOL);
/// roomtap's own relay.
pub const SERVER: SourceKind = SourceKind::server(&PROTOCOL);

/// The Redux DevTools flags: relays to monitor beside the main source, and
/// roomtap's own relay (`roomtap`, `demo`, `redux-server`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Redux DevTools relay")]
#[group(skip)]
pub struct Flags {
    /// Also monitor a Redux DevTools relay (ws:// URL); repeatable.
    #[arg(long = "redux", visible_alias = "relay", global = true, value_name = "URL")]
    pub monitors: Vec<String>,
    /// Port of roomtap's relay [default: 8000].
    #[arg(
        long = "redux-port",
        visible_alias = "port",
        global = true,
        env = "ROOMTAP_PORT"
    )]
    pub port: Option<u16>,
    /// Address roomtap's relay listens on. Anything but loopback lets others drive your apps: a
    /// warning says so.
    #[arg(
        long = "redux-bind",
        visible_alias = "bind",
        global = true,
        env = "ROOMTAP_BIND",
        default_value = "127.0.0.1"
    )]
    pub bind: std::net::IpAddr,
    /// Shared secret apps and monitors must present to roomtap's relay (URL `?secret=`,
    /// basic-auth password or `Authorization: Bearer`). Never shown or logged.
    #[arg(
        long = "redux-secret",
        visible_alias = "secret",
        global = true,
        env = "ROOMTAP_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,
    /// Largest frame roomtap's relay accepts, in bytes; a bigger one closes that socket (1009).
    #[arg(
        long = "redux-max-frame",
        visible_alias = "max-frame",
        global = true,
        env = "ROOMTAP_MAX_FRAME",
        default_value_t = 16 << 20
    )]
    pub max_frame: usize,
    /// Most client connections roomtap's relay holds at once (more are refused with HTTP 503).
    #[arg(
        long = "redux-max-conns",
        visible_alias = "max-conns",
        global = true,
        env = "ROOMTAP_MAX_CONNS",
        default_value_t = 1024
    )]
    pub max_conns: usize,
    /// Frames roomtap's relay queues per client before frames to it are dropped (and counted).
    #[arg(
        long = "redux-queue",
        visible_alias = "queue",
        global = true,
        env = "ROOMTAP_QUEUE",
        default_value_t = 4096
    )]
    pub queue: usize,
}

/// `roomtap redux [URL]`.
#[derive(Debug, Subcommand, Clone)]
pub enum Cmd {
    /// Monitor a Redux DevTools remote relay (@redux-devtools/cli or remotedev-server).
    #[command(visible_alias = "relay")]
    Redux {
        /// WebSocket URL of the relay.
        #[arg(env = "ROOMTAP_RELAY_URL", default_value = client::DEFAULT_URL)]
        url: String,
    },
}

/// `roomtap redux-server`.
#[derive(Debug, Subcommand, Clone)]
pub enum ServerCmd {
    /// Run roomtap's Redux DevTools relay alone, headless, logging to stderr (other monitors can
    /// use it).
    #[command(visible_alias = "serve")]
    ReduxServer,
}

impl Cmd {
    pub fn sources(&self, _flags: &Flags, _: Shared) -> Result<Vec<Box<dyn Source>>, String> {
        match self {
            Cmd::Redux { url } => Ok(vec![Box::new(RelayMonitor::new(url))]),
        }
    }
}

impl ServerCmd {
    pub fn headless(&self, flags: &Flags, shared: Shared) -> Result<Headless, String> {
        match self {
            ServerCmd::ReduxServer => {
                let relay = server::source::alone(flags.config(shared));
                Ok(Headless::Serve {
                    source: Box::new(relay),
                    banner: Box::new(|url| format!("roomtap relay listening on {url}")),
                    who: "roomtap relay".into(),
                })
            }
        }
    }
}

/// What `roomtap` alone runs: roomtap's relay with the inspector attached.
pub fn default_sources(flags: &Flags, shared: Shared) -> Result<Vec<Box<dyn Source>>, String> {
    Ok(vec![Box::new(flags.embedded(shared))])
}

/// The relays `--redux URL` adds.
pub fn added(flags: &Flags, _: Shared) -> Result<Vec<Box<dyn Source>>, String> {
    Ok(flags
        .monitors
        .iter()
        .map(|u| Box::new(RelayMonitor::new(u)) as Box<dyn Source>)
        .collect())
}

impl Flags {
    /// Whether the user chose the port (flag or environment).
    pub fn port_given(&self) -> bool {
        self.port.is_some()
    }

    /// roomtap's relay as these flags set it up.
    pub fn config(&self, shared: Shared) -> server::RelayConfig {
        server::RelayConfig {
            bind: std::net::SocketAddr::new(self.bind, self.port.unwrap_or(server::DEFAULT_PORT)),
            secret: self.secret.clone().filter(|s| !s.is_empty()),
            max_frame: self.max_frame,
            max_conns: self.max_conns,
            queue: self.queue,
            guard: shared.guard.guard(),
            ..Default::default()
        }
    }

    /// roomtap's relay with the inspector attached in-process.
    pub fn embedded(&self, shared: Shared) -> EmbeddedRelay {
        server::source::with_monitor(self.config(shared))
    }
}
