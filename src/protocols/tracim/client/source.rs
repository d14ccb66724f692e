//! The TracimDaemon client as a source (`roomtap tracim`, `--tracim`).

use tokio::sync::mpsc;

use super::TracimConfig;
use crate::event::{Command, Level};
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// A client of a TracimDaemon.
pub struct TracimSource {
    label: String,
    cfg: TracimConfig,
    /// Said in the Logs as the source starts (where the master socket was
    /// found…).
    pub notes: Vec<(Level, String)>,
}

impl TracimSource {
    pub fn new(label: &str, cfg: TracimConfig) -> Self {
        Self {
            label: label.to_string(),
            cfg,
            notes: Vec::new(),
        }
    }
}

impl Source for TracimSource {
    fn kind(&self) -> SourceKind {
        crate::protocols::tracim::CLIENT
    }
    fn label(&self) -> String {
        self.label.clone()
    }
    fn url(&self) -> String {
        format!("unix:{}", self.cfg.master.display())
    }
    fn shown_url(&self) -> String {
        self.url()
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            for (level, note) in self.notes {
                em.log(level, "tracim", note).await;
            }
            let farewell = super::spawn(self.cfg, em, commands).await?;
            Ok(Started {
                goodbye: Some(Box::pin(async move { farewell.say().await })),
                ..Started::default()
            })
        })
    }
}
