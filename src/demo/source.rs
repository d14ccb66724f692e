//! The demo as sources: roomtap's relay with the simulated apps beside it,
//! and the demo room with its agents, watched by a room client.

use tokio::sync::mpsc;

use crate::event::Command;
use crate::sources::relay::args::ServeArgs;
use crate::sources::{Emitter, Source, SourceKind, Started, Starting};

/// `roomtap demo`: the relay (a free port if 8000 is taken, unless --port),
/// its apps, and the room.
pub fn sources(serve: &ServeArgs, seed: Option<u64>) -> Vec<Box<dyn Source>> {
    let seed = seed.unwrap_or_else(crate::event::now_ms);
    let mut relay = serve.embedded();
    relay.any_port = !serve.port_given();
    relay.on_listening = Some(Box::new(move |r| {
        let link = super::client::Link::Local(crate::relay::local_connector(r));
        vec![Box::new(super::spawn_apps(link, seed))]
    }));
    vec![
        Box::new(relay),
        Box::new(DemoRoomSource { seed }),
        Box::new(DemoLeapSource { seed }),
    ]
}

/// The demo's Leap project (its edge and what moves it) and the Leap
/// client on it, subscribed to its channels and pipe room.
struct DemoLeapSource {
    seed: u64,
}

impl Source for DemoLeapSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Leap
    }
    fn label(&self) -> String {
        "leap".into()
    }
    fn url(&self) -> String {
        "ws://127.0.0.1/ws".into()
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let leap = super::leap::start(self.seed)
                .await
                .map_err(|e| format!("cannot start the demo Leap edge: {e}"))?;
            let url = crate::sources::leap::dial_url(&leap.server.url(), "zlib");
            let mut cfg = crate::sources::leap::LeapConfig::new(
                &url,
                super::leap::PROJECT,
                Some(leap.token.clone()),
            );
            cfg.channels = super::leap::CHANNELS
                .iter()
                .map(|c| c.to_string())
                .collect();
            cfg.pipes = vec![leap.join_token.clone()];
            crate::sources::leap::spawn(cfg, em, commands);
            Ok(Started {
                url: Some(url),
                secrets: vec![
                    leap.token.expose().to_string(),
                    leap.join_token.expose().to_string(),
                ],
                ..Started::keeping(leap)
            })
        })
    }
}

/// The demo room (its server and agents) and the room client on it.
struct DemoRoomSource {
    seed: u64,
}

impl Source for DemoRoomSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Room
    }
    fn label(&self) -> String {
        "room".into()
    }
    fn url(&self) -> String {
        format!("ws://127.0.0.1/rooms/{}", super::room::ROOM)
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let room = super::room::start(self.seed)
                .await
                .map_err(|e| format!("cannot start the demo room: {e}"))?;
            let cfg = crate::sources::room::RoomConfig::new(&room.url, Some(room.token.clone()));
            crate::sources::room::spawn(cfg, em, commands);
            Ok(Started {
                url: Some(room.url.clone()),
                secrets: vec![room.token.expose().to_string()],
                ..Started::keeping(room)
            })
        })
    }
}
