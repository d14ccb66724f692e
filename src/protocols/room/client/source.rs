//! The room client as a source (`roomtap room`, `--room`).

use tokio::sync::mpsc;

use super::RoomConfig;
use crate::event::{Command, Level};
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// A MeshAgent room client.
pub struct RoomSource {
    label: String,
    cfg: RoomConfig,
    /// Said in the Logs as the source starts (how the token was found...).
    pub notes: Vec<(Level, String)>,
    /// Secrets besides the token (the room secret it was minted with).
    pub extra_secrets: Vec<String>,
}

impl RoomSource {
    pub fn new(label: &str, cfg: RoomConfig) -> Self {
        Self {
            label: label.to_string(),
            cfg,
            notes: Vec::new(),
            extra_secrets: Vec::new(),
        }
    }
}

impl Source for RoomSource {
    fn kind(&self) -> SourceKind {
        crate::protocols::room::CLIENT
    }
    fn label(&self) -> String {
        self.label.clone()
    }
    fn url(&self) -> String {
        self.cfg.url.clone()
    }
    fn secrets(&self) -> Vec<String> {
        let mut v = self.extra_secrets.clone();
        v.extend(self.cfg.token.iter().map(|t| t.expose().to_string()));
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
