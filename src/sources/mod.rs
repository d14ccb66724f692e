//! Sources: one module per protocol (a pure codec plus a task), the
//! [`Source`] trait every one of them implements, and the connection
//! lifecycle every protocol shares: connecting → handshaking → connected →
//! errored {reason, will_reconnect, retry_in}, with exponential backoff and
//! jitter, written once here.

pub mod kind;
pub mod leap;
pub mod meter;
pub mod recording;
pub mod relay;
pub mod room;
pub mod tokens;
pub mod transport;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::{Command, ConnState, EventKind, Level, LogRecord, SourceEvent, SourceId};
pub use kind::{Caps, SourceKind};

/// What must stay alive while a session runs (a server, simulated apps).
pub type Keep = Vec<Box<dyn std::any::Any + Send>>;

/// What [`Source::start`] returns.
pub type Starting = Pin<Box<dyn Future<Output = Result<Started, String>> + Send>>;

/// One thing roomtap watches or serves: a relay monitor, a room, roomtap's
/// own relay, a recording... The wiring (`crate::wiring`) registers it in the
/// store, gives it an [`Emitter`] and, when it takes commands, a route; from
/// then on it reports only through the emitter.
pub trait Source: Send {
    fn kind(&self) -> SourceKind;
    /// Short label for the Logs' source column ("relay", "room"...).
    fn label(&self) -> String;
    /// Where it connects, as given; may hold credentials ([`Source::shown_url`]
    /// is what is shown).
    fn url(&self) -> String;
    /// The URL as shown: credentials redacted, here and only here.
    fn shown_url(&self) -> String {
        crate::text::redact_url(&self.url())
    }
    /// Tokens and secrets the recorder must mask.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }
    /// What it can do; its kind's capabilities unless it says otherwise.
    fn caps(&self) -> Caps {
        self.kind().caps()
    }
    /// Start it: spawn its task(s), reporting through `em`; `commands`
    /// carries what the user sends it (it never yields when it takes none).
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting;
}

/// A started source: what to keep alive and what it brought along.
#[derive(Default)]
pub struct Started {
    pub keep: Keep,
    /// Sources this one brought along (a server's in-process monitor, the
    /// demo room's client): attached right after it.
    pub more: Vec<Box<dyn Source>>,
    /// The URL once known (a server that took a free port), as shown.
    pub url: Option<String>,
    /// Secrets it made up while starting (to mask in recordings).
    pub secrets: Vec<String>,
    /// Set: commands are refused in this session, and why.
    pub read_only: Option<String>,
}

impl Started {
    /// Only things to keep alive.
    pub fn keeping(keep: impl std::any::Any + Send) -> Started {
        Started {
            keep: vec![Box::new(keep)],
            ..Started::default()
        }
    }
}

/// Sends a source's events to the store (bounded: a slow ui slows the
/// source down instead of growing memory).
#[derive(Clone)]
pub struct Emitter {
    pub source: SourceId,
    tx: mpsc::Sender<SourceEvent>,
}

impl Emitter {
    pub fn new(source: SourceId, tx: mpsc::Sender<SourceEvent>) -> Self {
        Self { source, tx }
    }

    /// Returns false once nobody listens any more.
    pub async fn emit(&self, kind: EventKind) -> bool {
        self.tx
            .send(SourceEvent::new(self.source, kind))
            .await
            .is_ok()
    }

    /// An event dated by the remote side (ms since epoch).
    pub async fn emit_at(&self, at_ms: u64, kind: EventKind) -> bool {
        self.tx
            .send(SourceEvent {
                source: self.source,
                at_ms,
                kind,
            })
            .await
            .is_ok()
    }

    /// Pass on an event of another source as it is (a replay's events,
    /// already addressed).
    pub async fn forward(&self, ev: SourceEvent) -> bool {
        self.tx.send(ev).await.is_ok()
    }

    /// For callers that must not wait (e.g. while holding a lock): a full
    /// queue drops the event.
    pub fn try_emit(&self, kind: EventKind) -> bool {
        self.tx
            .try_send(SourceEvent::new(self.source, kind))
            .is_ok()
    }

    pub async fn conn(&self, state: ConnState) -> bool {
        self.emit(EventKind::Conn(state)).await
    }

    /// Say what a source noted while it was set up (how its token was
    /// found…), as `token` lines.
    pub async fn notes(&self, notes: Vec<(Level, String)>) {
        for (level, summary) in notes {
            self.log(level, "token", summary).await;
        }
    }

    pub async fn log(&self, level: Level, kind: &str, summary: impl Into<String>) -> bool {
        self.emit(EventKind::Log(LogRecord {
            level,
            kind: kind.to_string(),
            summary: summary.into(),
            data: None,
        }))
        .await
    }
}

/// Exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub factor: f64,
    /// Fraction of the delay randomised (0.2 = ±20 %).
    pub jitter: f64,
    attempt: u32,
    seed: u64,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
        Self {
            base,
            max,
            factor: 2.0,
            jitter: 0.2,
            attempt: 0,
            seed,
        }
    }

    /// The delay before the next attempt; grows until `max`.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.factor.powi(self.attempt.min(30) as i32);
        let raw = (self.base.as_secs_f64() * exp).min(self.max.as_secs_f64());
        self.attempt = self.attempt.saturating_add(1);
        // xorshift64 for jitter: no need for a crypto RNG here.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let unit = (self.seed % 10_000) as f64 / 10_000.0; // [0,1)
        let j = 1.0 + self.jitter * (2.0 * unit - 1.0);
        Duration::from_secs_f64((raw * j).min(self.max.as_secs_f64()).max(0.0))
    }

    /// After a connection that worked, start again from `base`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }
}

/// How one connection attempt ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// Every command sender is gone: the app is quitting.
    Shutdown,
    /// The connection failed or dropped; try again.
    Lost { reason: String, was_connected: bool },
    /// Retrying cannot help (bad URL, refused credentials...).
    Fatal { reason: String },
}

/// Run `session` until shutdown, reconnecting with backoff. Commands that
/// arrive while disconnected are refused visibly, never silently dropped.
pub async fn supervise<F, Fut>(
    em: Emitter,
    mut commands: mpsc::Receiver<Command>,
    mut backoff: Backoff,
    mut session: F,
) where
    F: FnMut(u32, Emitter, mpsc::Receiver<Command>) -> Fut,
    Fut: Future<Output = (SessionEnd, mpsc::Receiver<Command>)>,
{
    let mut attempt = 1u32;
    loop {
        if !em.conn(ConnState::Connecting { attempt }).await {
            return;
        }
        let (end, cmds) = session(attempt, em.clone(), commands).await;
        commands = cmds;
        match end {
            SessionEnd::Shutdown => {
                em.conn(ConnState::Closed).await;
                return;
            }
            SessionEnd::Fatal { reason } => {
                em.conn(ConnState::Errored {
                    reason,
                    will_reconnect: false,
                    retry_in: None,
                })
                .await;
                // Stay alive to refuse commands until shutdown.
                while let Some(cmd) = commands.recv().await {
                    refuse(&em, &cmd).await;
                }
                return;
            }
            SessionEnd::Lost {
                reason,
                was_connected,
            } => {
                if was_connected {
                    backoff.reset();
                }
                let delay = backoff.next_delay();
                if !em
                    .conn(ConnState::Errored {
                        reason,
                        will_reconnect: true,
                        retry_in: Some(delay),
                    })
                    .await
                {
                    return;
                }
                let wake = tokio::time::Instant::now() + delay;
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(wake) => break,
                        cmd = commands.recv() => match cmd {
                            Some(cmd) => refuse(&em, &cmd).await,
                            None => {
                                em.conn(ConnState::Closed).await;
                                return;
                            }
                        },
                    }
                }
                attempt += 1;
            }
        }
    }
}

async fn refuse(em: &Emitter, cmd: &Command) {
    em.log(
        Level::Warn,
        "command",
        format!("not connected: {:?} was not sent", cmd.kind),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let d: Vec<f64> = (0..10).map(|_| b.next_delay().as_secs_f64()).collect();
        assert!((0.4..=0.6).contains(&d[0]), "{d:?}");
        assert!((0.8..=1.2).contains(&d[1]), "{d:?}");
        assert!(d.iter().all(|&x| x <= 30.0));
        assert!(d[9] >= 24.0, "{d:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(600));
    }
}
