//! roomtap's own relay as a server source (`roomtap`, `redux-server`, the
//! demo): its notices, channels and clients, with an in-process monitor
//! attached unless headless (the one place a server brings its protocol's
//! client along).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Relay, RelayConfig};
use crate::event::Command;
use crate::protocols::redux::client::source::RelayMonitor;
use crate::source::{Emitter, Keep, Source, SourceKind, Started, Starting};

/// Called once roomtap's relay listens: starts what runs beside it (the
/// demo's apps) and returns what must stay alive.
pub type OnListening = Box<dyn FnOnce(&Arc<Relay>) -> Keep + Send>;

/// roomtap's own relay: a server source (its notices, channels and clients),
/// with an in-process monitor attached unless headless.
pub struct EmbeddedRelay {
    cfg: RelayConfig,
    /// Attach the in-process monitor (the panes); `serve` runs without.
    pub monitor: bool,
    /// When the port is taken, take a free one instead of failing.
    pub any_port: bool,
    pub on_listening: Option<OnListening>,
}

impl EmbeddedRelay {
    pub fn new(cfg: RelayConfig) -> Self {
        Self {
            cfg,
            monitor: true,
            any_port: false,
            on_listening: None,
        }
    }
}

fn bind_error(cfg: &RelayConfig, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        format!(
            "{} is in use: is another relay running there? Use --port, or `roomtap relay ws://{}/socketcluster/` to monitor it",
            cfg.bind, cfg.bind
        )
    } else {
        format!("cannot listen on {}: {e}", cfg.bind)
    }
}

impl Source for EmbeddedRelay {
    fn kind(&self) -> SourceKind {
        crate::protocols::redux::SERVER
    }
    fn label(&self) -> String {
        "redux srv".into()
    }
    fn url(&self) -> String {
        format!("ws://{}{}", self.cfg.bind, self.cfg.path)
    }
    fn secrets(&self) -> Vec<String> {
        self.cfg.secret.iter().cloned().collect()
    }
    fn start(self: Box<Self>, em: Emitter, _commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let mut cfg = self.cfg.clone();
            let relay = match Relay::start(cfg.clone(), Some(em.clone())).await {
                Err(e) if self.any_port && e.kind() == std::io::ErrorKind::AddrInUse => {
                    cfg.bind.set_port(0);
                    Relay::start(cfg, Some(em))
                        .await
                        .map_err(|e| format!("cannot listen: {e}"))?
                }
                Err(e) => return Err(bind_error(&cfg, &e)),
                Ok(r) => r,
            };
            let relay = Arc::new(relay);
            let mut started = Started {
                url: Some(relay.url()),
                ..Started::default()
            };
            if self.monitor {
                started.more.push(Box::new(RelayMonitor::attached(&relay.url(), super::local_connector(&relay))));
            }
            if let Some(hook) = self.on_listening {
                started.keep.extend(hook(&relay));
            }
            started.keep.push(Box::new(relay));
            Ok(started)
        })
    }
}
