//! The connection lifecycle every client shares: connecting → handshaking →
//! connected → errored {reason, will_reconnect, retry_in}, with exponential
//! backoff and jitter, written once here.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::{Command, ConnState, Level};
use crate::source::Emitter;

/// Exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub factor: f64,
    /// Fraction of the delay randomised (0.2 = ±20 %).
    pub jitter: f64,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            factor: 2.0,
            jitter: 0.2,
            attempt: 0,
            rng: fastrand::Rng::new(),
        }
    }

    /// The delay before the next attempt; grows until `max`.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.factor.powi(self.attempt.min(30) as i32);
        let raw = (self.base.as_secs_f64() * exp).min(self.max.as_secs_f64());
        self.attempt = self.attempt.saturating_add(1);
        let unit = self.rng.f64(); // [0,1)
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
    /// The peer asked to be reached again (elsewhere, now): a planned move,
    /// said as a notice, not an error; connected again at once.
    Moved { reason: String },
}

/// Run `session` until shutdown, reconnecting with backoff. Commands that
/// arrive while disconnected are refused visibly, never silently dropped.
pub async fn supervise<F, Fut>(
    em: Emitter,
    commands: mpsc::Receiver<Command>,
    backoff: Backoff,
    session: F,
) where
    F: FnMut(u32, Emitter, mpsc::Receiver<Command>) -> Fut,
    Fut: Future<Output = (SessionEnd, mpsc::Receiver<Command>)>,
{
    supervise_idle(em, commands, backoff, session, |_| std::future::pending()).await;
}

/// [`supervise`], running `idle` while it waits for the next attempt (it is
/// dropped when the wait is over): what a source still has to do while it
/// is not connected, such as reading a socket of its own that peers keep
/// writing to.
pub async fn supervise_idle<F, Fut, I, IFut>(
    em: Emitter,
    mut commands: mpsc::Receiver<Command>,
    mut backoff: Backoff,
    mut session: F,
    mut idle: I,
) where
    F: FnMut(u32, Emitter, mpsc::Receiver<Command>) -> Fut,
    Fut: Future<Output = (SessionEnd, mpsc::Receiver<Command>)>,
    I: FnMut(Emitter) -> IFut,
    IFut: Future<Output = ()>,
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
            SessionEnd::Moved { reason } => {
                em.log(Level::Info, "connection", reason).await;
                backoff.reset();
                attempt += 1;
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
                let idling = idle(em.clone());
                tokio::pin!(idling);
                let mut idle_done = false;
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(wake) => break,
                        () = &mut idling, if !idle_done => idle_done = true,
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

    #[tokio::test]
    async fn idle_work_runs_between_attempts_only() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (tx, mut rx) = mpsc::channel(64);
        let em = Emitter::new(0, tx);
        let (cmd_tx, cmds) = mpsc::channel(1);
        let (idled, in_session) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (i, d) = (idled.clone(), in_session.clone());
        let backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(20));
        let run = tokio::spawn(supervise_idle(
            em,
            cmds,
            backoff,
            move |attempt, _em, cmds| {
                let d = d.clone();
                async move {
                    d.fetch_add(1, Ordering::SeqCst);
                    let end = if attempt < 3 {
                        SessionEnd::Lost {
                            reason: "no".into(),
                            was_connected: false,
                        }
                    } else {
                        std::future::pending::<()>().await;
                        unreachable!()
                    };
                    (end, cmds)
                }
            },
            move |_em| {
                let i = i.clone();
                async move {
                    i.fetch_add(1, Ordering::SeqCst);
                    // Dropped at the next attempt, whatever it was doing.
                    std::future::pending::<()>().await;
                }
            },
        ));
        // Wait for the third attempt's Connecting.
        let mut connecting = 0;
        while connecting < 3 {
            let ev = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap();
            if matches!(
                ev.kind,
                crate::event::EventKind::Conn(ConnState::Connecting { .. })
            ) {
                connecting += 1;
            }
        }
        // Two waits, two idles; none during the sessions.
        assert_eq!(idled.load(Ordering::SeqCst), 2);
        drop(cmd_tx);
        run.abort();
        assert!(in_session.load(Ordering::SeqCst) >= 2);
    }
}
