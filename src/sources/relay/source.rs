//! The relay's sources: a monitor on a relay (another one, or roomtap's own
//! in-process), and roomtap's own relay as a server source.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{LocalConnect, RelayConfig};
use crate::event::Command;
use crate::relay::Relay;
use crate::sources::{Caps, Emitter, Keep, Source, SourceKind, Started, Starting};

/// A monitor on a Redux DevTools relay.
pub struct RelayMonitor {
    label: String,
    url: String,
    shown: Option<String>,
    local: Option<LocalConnect>,
}

impl RelayMonitor {
    /// A monitor on the relay at `url` (WebSocket).
    pub fn new(url: &str) -> Self {
        Self {
            label: "relay".into(),
            url: url.to_string(),
            shown: None,
            local: None,
        }
    }

    /// An in-process monitor on roomtap's own relay: no socket, and its
    /// commands reach only the app they name.
    pub fn attached(relay: &Arc<Relay>) -> Self {
        Self {
            label: "monitor".into(),
            url: relay.url(),
            shown: Some(format!("in-process → {}", relay.url())),
            local: Some(crate::relay::local_connector(relay)),
        }
    }
}

impl Source for RelayMonitor {
    fn kind(&self) -> SourceKind {
        SourceKind::Relay
    }
    fn label(&self) -> String {
        self.label.clone()
    }
    fn url(&self) -> String {
        self.url.clone()
    }
    fn shown_url(&self) -> String {
        self.shown
            .clone()
            .unwrap_or_else(|| crate::text::redact_url(&self.url))
    }
    fn secrets(&self) -> Vec<String> {
        crate::text::url_secrets(&self.url)
    }
    fn caps(&self) -> Caps {
        Caps {
            targets_instances: self.local.is_some(),
            ..SourceKind::Relay.caps()
        }
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let mut cfg = RelayConfig::new(&self.url);
            cfg.local = self.local;
            super::spawn(cfg, em, commands);
            Ok(Started::default())
        })
    }
}

/// Called once roomtap's relay listens: starts what runs beside it (the
/// demo's apps) and returns what must stay alive.
pub type OnListening = Box<dyn FnOnce(&Arc<Relay>) -> Keep + Send>;

/// roomtap's own relay: a server source (its notices, channels and clients),
/// with an in-process monitor attached unless headless.
pub struct EmbeddedRelay {
    cfg: crate::relay::RelayConfig,
    /// Attach the in-process monitor (the panes); `serve` runs without.
    pub monitor: bool,
    /// When the port is taken, take a free one instead of failing.
    pub any_port: bool,
    pub on_listening: Option<OnListening>,
}

impl EmbeddedRelay {
    pub fn new(cfg: crate::relay::RelayConfig) -> Self {
        Self {
            cfg,
            monitor: true,
            any_port: false,
            on_listening: None,
        }
    }
}

fn bind_error(cfg: &crate::relay::RelayConfig, e: &std::io::Error) -> String {
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
        SourceKind::RoomtapRelay
    }
    fn label(&self) -> String {
        "relay".into()
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
                started.more.push(Box::new(RelayMonitor::attached(&relay)));
            }
            if let Some(hook) = self.on_listening {
                started.keep.extend(hook(&relay));
            }
            started.keep.push(Box::new(relay));
            Ok(started)
        })
    }
}
