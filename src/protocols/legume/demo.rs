//! `roomtap demo`'s legume part: roomtap's game server on a free loopback
//! port (bots moving and chatting), and a client connected to it with the
//! game's schema, so the legume panes are alive with nothing installed.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::client::LegumeConfig;
use super::server::{GameConfig, GameServer, game_schema};
use crate::event::Command;
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// `roomtap demo`'s game server and the client on it.
pub fn sources(
    flags: &super::Flags,
    _shared: crate::source::Shared,
    seed: u64,
) -> Result<Vec<Box<dyn Source>>, String> {
    Ok(vec![Box::new(DemoLegumeSource {
        seed,
        timeout: flags.timeout(),
    })])
}

struct DemoLegumeSource {
    seed: u64,
    timeout: std::time::Duration,
}

impl Source for DemoLegumeSource {
    fn kind(&self) -> SourceKind {
        super::CLIENT
    }
    fn label(&self) -> String {
        "legume".into()
    }
    fn url(&self) -> String {
        "udp://127.0.0.1:0".into()
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let mut cfg = GameConfig::new(([127, 0, 0, 1], 0).into());
            cfg.seed = self.seed;
            // Slower than a game's 5 Hz, so the other sources' lines stay
            // in view.
            cfg.move_every = std::time::Duration::from_secs(1);
            cfg.chat_every = std::time::Duration::from_millis(2500);
            let server = Arc::new(
                GameServer::start(cfg, None)
                    .await
                    .map_err(|e| format!("cannot start the demo legume server: {e}"))?,
            );
            let addr = server.addr().to_string();
            let mut client = LegumeConfig::new(&addr);
            client.schema = Arc::new(game_schema());
            client.schema_from = Some("the demo game (legume-server --print-schema)".into());
            client.timeout = self.timeout;
            let farewell = super::client::spawn(client, em, commands);
            Ok(Started {
                url: Some(format!("udp://{addr}")),
                goodbye: Some(Box::pin(async move { farewell.say().await })),
                ..Started::keeping(server)
            })
        })
    }
}
