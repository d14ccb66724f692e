//! The Leap source (`roomtap leap`, `--leap`).

use tokio::sync::mpsc;

use super::LeapConfig;
use crate::event::{Command, Level};
use crate::sources::{Emitter, Source, SourceKind, Started, Starting};

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
        SourceKind::Leap
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

/// roomtap's Leap Edge, as a server source (`leap-server`).
pub struct LeapServerSource {
    pub cfg: crate::leap::LeapServerConfig,
    /// Channels it serves from the start (unprotected, state `{}`).
    pub channels: Vec<String>,
}

impl Source for LeapServerSource {
    fn kind(&self) -> SourceKind {
        SourceKind::LeapServer
    }
    fn label(&self) -> String {
        "leap srv".into()
    }
    fn url(&self) -> String {
        format!("ws://{}/ws", self.cfg.bind)
    }
    fn secrets(&self) -> Vec<String> {
        self.cfg
            .tokens
            .iter()
            .map(|s| s.expose().to_string())
            .collect()
    }
    fn start(self: Box<Self>, em: Emitter, _commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let bind = self.cfg.bind;
            let server = crate::leap::LeapServer::start(self.cfg, Some(em))
                .await
                .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
            for c in &self.channels {
                server.add_channel(c, "unprotected", serde_json::json!({}));
            }
            Ok(Started {
                url: Some(server.url()),
                ..Started::keeping(server)
            })
        })
    }
}
