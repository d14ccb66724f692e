//! MeshAgent room source: connects like `RoomClient` (binary packets,
//! `room_ready` + `connected` handshake, `__response__` correlation),
//! watches developer logs with whichever generation the room speaks (the
//! developer toolkit's `logs` stream, else legacy `developer.watch`), and
//! sends developer logs. The token is sent as `Authorization: Bearer` and
//! is never shown, logged or recorded.

pub mod command;
pub mod source;

mod connect;
mod message;
mod reply;
mod send;
mod session;
mod target;
mod watch;

pub use target::{DEFAULT_BASE, room_url, split_token};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::Command;
use crate::protocols::room::wire::codec;
use crate::protocols::room::wire::token::Secret;
use crate::link::{Backoff, supervise};
use crate::source::Emitter;

/// Which developer-log protocol to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// The toolkit, falling back to legacy when the room does not know it.
    Auto,
    /// `room.invoke_tool` developer/`logs` (SDKs from 2026-03, Python ≥ 0.30).
    Current,
    /// `developer.watch` / `unwatch` / `log` (Python ≤ 0.29.4, older TS/Dart).
    Legacy,
}

#[derive(Clone)]
pub struct RoomConfig {
    /// `ws[s]://HOST/rooms/NAME` (no token in it).
    pub url: String,
    pub token: Option<Secret>,
    /// Start watching developer logs once connected.
    pub watch: bool,
    pub generation: Generation,
    pub connect_timeout: Duration,
    /// How long `room_ready` + `connected` may take.
    pub ready_timeout: Duration,
    /// With `Auto`: no answer to the toolkit this long → try legacy.
    pub open_timeout: Duration,
    /// WebSocket ping period (RTT shown; two missed pongs drop the link).
    pub ping_every: Duration,
    pub max_message: usize,
}

impl RoomConfig {
    pub fn new(url: &str, token: Option<Secret>) -> Self {
        Self {
            url: url.to_string(),
            token,
            watch: true,
            generation: Generation::Auto,
            connect_timeout: Duration::from_secs(10),
            ready_timeout: Duration::from_secs(10),
            open_timeout: Duration::from_secs(3),
            ping_every: Duration::from_secs(20),
            max_message: codec::DEFAULT_MAX_MESSAGE,
        }
    }
}

/// What survives reconnects.
#[derive(Default)]
struct Persist {
    /// The user wants developer logs.
    want_watch: bool,
    /// The generation the room turned out to speak.
    learned: Option<Generation>,
    next_call: u64,
    /// The facts said, across reconnects.
    facts: crate::source::FactBook,
}

/// Spawn the room task. It ends when every command sender is dropped.
pub fn spawn(
    cfg: RoomConfig,
    em: Emitter,
    commands: mpsc::Receiver<Command>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let persist = Arc::new(Mutex::new(Persist {
            want_watch: cfg.watch,
            learned: match cfg.generation {
                Generation::Auto => None,
                g => Some(g),
            },
            next_call: 1,
            facts: Default::default(),
        }));
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        supervise(em, commands, backoff, |_attempt, em, mut cmds| {
            let cfg = cfg.clone();
            let persist = persist.clone();
            async move {
                let end = session::session(&cfg, &em, &mut cmds, &persist).await;
                (end, cmds)
            }
        })
        .await;
    })
}
