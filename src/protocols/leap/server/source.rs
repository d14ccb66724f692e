//! roomtap's Leap Edge as a server source (`leap-server`).

use tokio::sync::mpsc;

use crate::event::Command;
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// roomtap's Leap Edge, as a server source (`leap-server`).
pub struct LeapServerSource {
    pub cfg: super::LeapServerConfig,
    /// Channels it serves from the start (unprotected, state `{}`).
    pub channels: Vec<String>,
}

impl Source for LeapServerSource {
    fn kind(&self) -> SourceKind {
        crate::protocols::leap::SERVER
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
            let server = super::LeapServer::start(self.cfg, Some(em))
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
