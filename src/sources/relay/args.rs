//! Command-line arguments of the Redux DevTools relay: `--relay URL` on any
//! command, and roomtap's own relay (`roomtap`, `serve`, `demo`).

use clap::Args;

use super::source::{EmbeddedRelay, RelayMonitor};
use crate::sources::Source;

/// Other relays to monitor beside the main source.
#[derive(Debug, Args, Clone)]
pub struct RelayArgs {
    /// Also monitor a Redux DevTools relay (ws:// URL); repeatable.
    #[arg(long = "relay", global = true, value_name = "URL")]
    pub relays: Vec<String>,
}

impl RelayArgs {
    pub fn sources(&self) -> Vec<Box<dyn Source>> {
        self.relays
            .iter()
            .map(|u| Box::new(RelayMonitor::new(u)) as Box<dyn Source>)
            .collect()
    }
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
    /// Which web pages and host names roomtap's servers admit.
    #[command(flatten)]
    pub guard: crate::guard::GuardArgs,
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
            guard: self.guard.guard(),
            ..Default::default()
        }
    }

    /// roomtap's relay with the inspector attached in-process.
    pub fn embedded(&self) -> EmbeddedRelay {
        EmbeddedRelay::new(self.config())
    }
}
