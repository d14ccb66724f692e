//! roomtap's MeshAgent room server as a server source (`room-server`).

use tokio::sync::mpsc;

use crate::event::Command;
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// roomtap's MeshAgent room server, as a server source.
pub struct RoomServerSource {
    pub cfg: super::RoomServerConfig,
}

impl Source for RoomServerSource {
    fn kind(&self) -> SourceKind {
        crate::protocols::room::SERVER
    }
    fn label(&self) -> String {
        "room srv".into()
    }
    fn url(&self) -> String {
        format!("ws://{}/rooms/NAME", self.cfg.bind)
    }
    fn secrets(&self) -> Vec<String> {
        self.cfg
            .secret
            .iter()
            .map(|s| s.expose().to_string())
            .collect()
    }
    fn start(self: Box<Self>, em: Emitter, _commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let bind = self.cfg.bind;
            let server = super::RoomServer::start(self.cfg, Some(em))
                .await
                .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
            Ok(Started {
                url: Some(server.url("NAME")),
                ..Started::keeping(server)
            })
        })
    }
}
