//! The legume client as a source (`roomtap legume HOST:PORT`, `--legume`).

use tokio::sync::mpsc;

use super::LegumeConfig;
use crate::event::{Command, Level};
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// A client of a legume server.
pub struct LegumeSource {
    label: String,
    cfg: LegumeConfig,
    /// Said in the Logs as the source starts.
    pub notes: Vec<(Level, String)>,
}

impl LegumeSource {
    pub fn new(label: &str, cfg: LegumeConfig) -> Self {
        Self {
            label: label.to_string(),
            cfg,
            notes: Vec::new(),
        }
    }
}

impl Source for LegumeSource {
    fn kind(&self) -> SourceKind {
        crate::protocols::legume::CLIENT
    }
    fn label(&self) -> String {
        self.label.clone()
    }
    fn url(&self) -> String {
        format!("udp://{}", self.cfg.addr)
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            for (level, note) in self.notes {
                em.log(level, "legume", note).await;
            }
            let farewell = super::spawn(self.cfg, em, commands);
            Ok(Started {
                goodbye: Some(Box::pin(async move { farewell.say().await })),
                ..Started::default()
            })
        })
    }
}
