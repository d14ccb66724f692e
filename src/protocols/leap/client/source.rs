//! The Leap source (`roomtap leap`, `--leap`).

use tokio::sync::mpsc;

use super::LeapConfig;
use crate::event::{Command, Level};
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// A Leap Edge client.
pub struct LeapSource {
    label: String,
    cfg: LeapConfig,
    /// Said in the Logs as the source starts (how the token was found…).
    pub notes: Vec<(Level, String)>,
}

impl LeapSource {
    pub fn new(label: &str, cfg: LeapConfig) -> Self {
        Self {
            label: label.to_string(),
            cfg,
            notes: Vec::new(),
        }
    }
}

impl Source for LeapSource {
    fn kind(&self) -> SourceKind {
        crate::protocols::leap::CLIENT
    }
    fn label(&self) -> String {
        self.label.clone()
    }
    fn url(&self) -> String {
        self.cfg.url.clone()
    }
    fn secrets(&self) -> Vec<String> {
        let mut v = crate::text::url_secrets(&self.cfg.url);
        v.extend(self.cfg.token.iter().map(|t| t.expose().to_string()));
        v.extend(self.cfg.pipes.iter().map(|t| t.expose().to_string()));
        v
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            em.notes(self.notes).await;
            super::spawn(self.cfg, em, commands);
            Ok(Started::default())
        })
    }
}
