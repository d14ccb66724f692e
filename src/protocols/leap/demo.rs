//! The demo's Leap project: roomtap's Leap Edge with channels whose state
//! changes on their own (presence counts, a scoreboard, feature flags), a
//! pipe room that goes live and offline, messages on the channels, a
//! direct message now and then, and an occasional 4006 redirect (to the
//! same edge, under another path), which the inspector follows.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use fastrand::Rng;
use crate::event::Command;
use crate::protocols::leap::server::{LeapServer, LeapServerConfig};
use crate::source::{Emitter, Source, SourceKind, Started, Starting};
use tokio::sync::mpsc;
use crate::secret::Secret;

pub const PROJECT: &str = "project_demo";
pub const CHANNELS: [&str; 3] = ["presence", "scoreboard", "flags"];

/// The running demo project: its edge, the token and join token the
/// inspector uses, and the task that moves it (stopped when dropped).
pub struct DemoLeap {
    pub server: Arc<LeapServer>,
    pub token: Secret,
    pub join_token: Secret,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DemoLeap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(seed: u64) -> std::io::Result<DemoLeap> {
    let mut rng = Rng::with_seed(seed ^ 0x1ea9_0000_de30);
    let token = format!("leap_demo_{:016x}", rng.u64(..));
    let join_token = format!("jt_demo_{:016x}", rng.u64(..));
    let server = Arc::new(
        LeapServer::start(
            LeapServerConfig {
                project: PROJECT.into(),
                tokens: vec![Secret::new(token.clone())],
                heartbeat_interval: Duration::from_secs(3),
                ..Default::default()
            },
            None,
        )
        .await?,
    );
    server.add_channel(
        "presence",
        "unprotected",
        json!({"online": 3, "rooms": {"lobby": 2, "game-1": 1}}),
    );
    server.add_channel(
        "scoreboard",
        "public",
        json!({"round": 1, "teams": {"red": 0, "blue": 0}, "leader": null}),
    );
    server.add_channel(
        "flags",
        "private",
        json!({"darkMode": false, "checkoutV2": {"enabled": true, "rollout": 10}}),
    );
    server.add_pipe_room(
        &join_token,
        json!({"id": "pipe_stage", "name": "stage", "state": "offline",
               "ingest_protocol": "rtmp", "delivery_protocols": ["webrtc", "llhls"],
               "ingest_region": "eu-west-1"}),
    );
    let task = tokio::spawn(drive(server.clone(), join_token.clone(), rng));
    Ok(DemoLeap {
        server,
        token: Secret::new(token),
        join_token: Secret::new(join_token),
        task,
    })
}

/// Move the project along, forever (until aborted).
async fn drive(server: Arc<LeapServer>, join_token: String, mut rng: Rng) {
    let mut online: i64 = 3;
    let mut lobby: i64 = 2;
    let (mut red, mut blue, mut round) = (0u64, 0u64, 1u64);
    let mut rollout = 10u64;
    let mut dark = false;
    let mut live = false;
    let mut tick = 0u64;
    loop {
        tokio::time::sleep(Duration::from_millis(rng.u64(500..=2000))).await;
        tick += 1;
        match rng.u64(0..=10) {
            0..=3 => {
                let d = if rng.u64(0..=2) == 0 { -1 } else { 1 };
                online = (online + d).clamp(1, 40);
                lobby = (lobby + d).clamp(0, online);
                server.set_state(
                    "presence",
                    json!({"online": online, "rooms": {"lobby": lobby, "game-1": online - lobby}}),
                );
                server.publish(
                    "presence",
                    if d > 0 { "joined" } else { "left" },
                    json!({"user": format!("player-{}", rng.u64(1..=60)), "online": online}),
                );
            }
            4..=6 => {
                if rng.u64(0..=2) == 0 {
                    red += rng.u64(1..=4);
                } else {
                    blue += rng.u64(1..=4);
                }
                if red.max(blue) >= 21 {
                    round += 1;
                    red = 0;
                    blue = 0;
                }
                let leader: Value = match red.cmp(&blue) {
                    std::cmp::Ordering::Greater => "red".into(),
                    std::cmp::Ordering::Less => "blue".into(),
                    std::cmp::Ordering::Equal => Value::Null,
                };
                server.set_state(
                    "scoreboard",
                    json!({"round": round, "teams": {"red": red, "blue": blue}, "leader": leader}),
                );
                server.publish("scoreboard", "score", json!({"red": red, "blue": blue}));
            }
            7 => {
                if rng.u64(0..=2) == 0 {
                    dark = !dark;
                } else {
                    rollout = (rollout + 10).min(100);
                }
                server.set_state(
                    "flags",
                    json!({"darkMode": dark, "checkoutV2": {"enabled": true, "rollout": rollout}}),
                );
            }
            8 => {
                live = !live;
                server.set_pipe_room_state(&join_token, live);
            }
            _ => {
                server.direct(
                    None,
                    "notice",
                    json!({"text": "maintenance window at 02:00 UTC"}),
                );
            }
        }
        // Now and then the edge sends its clients elsewhere (4006).
        if tick.is_multiple_of(40) {
            let url = format!("{}?from=redirect", server.url());
            server.redirect_all(&url);
        }
    }
}

/// `roomtap demo`'s Leap project: roomtap's Leap Edge with what moves it,
/// watched by a Leap client.
pub fn sources(
    _flags: &super::Flags,
    _shared: crate::source::Shared,
    seed: u64,
) -> Result<Vec<Box<dyn Source>>, String> {
    Ok(vec![Box::new(DemoLeapSource { seed })])
}

/// The demo's Leap project (its edge and what moves it) and the Leap
/// client on it, subscribed to its channels and pipe room.
struct DemoLeapSource {
    seed: u64,
}

impl Source for DemoLeapSource {
    fn kind(&self) -> SourceKind {
        super::CLIENT
    }
    fn label(&self) -> String {
        "leap".into()
    }
    fn url(&self) -> String {
        "ws://127.0.0.1/ws".into()
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let leap = start(self.seed)
                .await
                .map_err(|e| format!("cannot start the demo Leap edge: {e}"))?;
            em.mask_secret(leap.token.expose());
            em.mask_secret(leap.join_token.expose());
            let url = crate::protocols::leap::client::dial_url(&leap.server.url(), "zlib");
            let mut cfg = crate::protocols::leap::client::LeapConfig::new(
                &url,
                PROJECT,
                Some(leap.token.clone()),
            );
            cfg.channels = CHANNELS
                .iter()
                .map(|c| c.to_string())
                .collect();
            cfg.pipes = vec![leap.join_token.clone()];
            crate::protocols::leap::client::spawn(cfg, em, commands);
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
