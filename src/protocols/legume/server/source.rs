//! roomtap's legume game server as a server source (`legume-server`,
//! `roomtap demo`).

use super::{GameConfig, GameServer};
use crate::serve::source::ServerSource;
use crate::source::Emitter;

/// roomtap's legume game server as a source.
pub type GameServerSource = ServerSource<GameServer>;

impl crate::serve::source::Server for GameServer {
    type Config = GameConfig;
    fn kind() -> crate::source::SourceKind {
        crate::protocols::legume::SERVER
    }
    fn label() -> &'static str {
        "legume srv"
    }
    fn planned_url(cfg: &GameConfig) -> String {
        format!("udp://{}", cfg.bind)
    }
    fn elsewhere(cfg: &GameConfig) -> Option<GameConfig> {
        Some(crate::serve::source::any_port(cfg, |c| &mut c.bind))
    }
    fn secrets(_: &GameConfig) -> Vec<String> {
        Vec::new()
    }
    async fn start(cfg: GameConfig, em: Option<Emitter>) -> std::io::Result<GameServer> {
        GameServer::start(cfg, em).await
    }
    fn url(&self) -> String {
        format!("udp://{}", self.addr())
    }
}
