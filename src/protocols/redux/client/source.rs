//! The relay monitor as a source: on another relay, or in-process on
//! roomtap's own.

use tokio::sync::mpsc;

use super::{LocalConnect, MonitorConfig};
use crate::event::Command;
use crate::source::{Caps, Emitter, Source, SourceKind, Started, Starting};

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
            label: "redux".into(),
            url: url.to_string(),
            shown: None,
            local: None,
        }
    }

    /// An in-process monitor on roomtap's own relay at `url`, connected by
    /// `local` (no socket): its commands reach only the app they name.
    pub fn attached(url: &str, local: LocalConnect) -> Self {
        Self {
            label: "monitor".into(),
            url: url.to_string(),
            shown: Some(format!("in-process → {url}")),
            local: Some(local),
        }
    }
}

impl Source for RelayMonitor {
    fn kind(&self) -> SourceKind {
        crate::protocols::redux::CLIENT
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
            ..crate::protocols::redux::CLIENT.caps()
        }
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let mut cfg = MonitorConfig::new(&self.url);
            cfg.local = self.local;
            super::spawn(cfg, em, commands);
            Ok(Started::default())
        })
    }
}
