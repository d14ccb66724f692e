//! The server kit: what every server of roomtap's shares, written once.
//!
//! - [`Core`], the hub core: the emitter its notices go through, the
//!   traffic [`Meter`], connection ids, the connection limit ([`Slot`]),
//!   refusals and drops counted by cause and said (the 1st, 10th, 100th…),
//!   a byte [`Budget`] for what clients make it keep, facts set by key, the
//!   peer list reported when it changes, and the closing signal. It knows
//!   no transport: a WebSocket server ([`ws`]), a Unix-socket daemon or a
//!   UDP server all report through one.
//! - [`ws`]: the WebSocket side: the accept loop, the upgrade (the
//!   `Origin`/`Host` guard first, then the connection limit, then the
//!   protocol's own admission, within a handshake deadline, each refusal
//!   said and counted), a reader that meters frames and enforces the idle
//!   and data deadlines (control frames extend only the idle one), and a
//!   batching writer that meters what it writes and gives up on a client
//!   that does not read.
//! - [`source`]: one generic server `Source` (bind, a free port when asked,
//!   the URL once known, what to keep alive).
//!
//! Each server keeps only its own admission and handling.

pub mod source;
pub mod ws;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::event::{ConnState, EventKind, Level, LogRecord, PeerRow};
use crate::link::meter::{FLUSH_EVERY, Meter};
use crate::source::Emitter;

/// The hub core of one server.
pub struct Core {
    /// What its notices are called in the Logs (`relay`, `room`, `leap`).
    name: &'static str,
    em: Option<Emitter>,
    /// Wire traffic (bytes as the sockets see them, frames, messages, per
    /// channel); shared with the links that count into it.
    pub meter: Arc<Meter>,
    /// Upgrades refused for their `Origin` or `Host`.
    pub refused: crate::guard::Refused,
    conns: AtomicUsize,
    max_conns: usize,
    next_id: AtomicU64,
    closing: watch::Sender<bool>,
    /// Counts by cause (`refused (connection limit)` …), shown as facts.
    tallies: Mutex<BTreeMap<&'static str, u64>>,
    facts: Mutex<Facts>,
    peers_said: Mutex<Option<Vec<PeerRow>>>,
}

#[derive(Default)]
struct Facts {
    now: Vec<(String, String)>,
    book: crate::source::FactBook,
}

impl Core {
    /// A core for a server whose notices are called `name`, holding at most
    /// `max_conns` connections, reporting through `em` (none: silent, as
    /// servers in tests run).
    pub fn new(name: &'static str, max_conns: usize, em: Option<Emitter>) -> Core {
        Core {
            name,
            em,
            // Counts only: what a server's clients send reaches the panes
            // through roomtap's own client of it, whose frames are kept.
            meter: Arc::new(Meter::new()),
            refused: Default::default(),
            conns: AtomicUsize::new(0),
            max_conns: max_conns.max(1),
            next_id: AtomicU64::new(1),
            closing: watch::Sender::new(false),
            tallies: Mutex::new(BTreeMap::new()),
            facts: Mutex::new(Facts::default()),
            peers_said: Mutex::new(None),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn emitter(&self) -> Option<&Emitter> {
        self.em.as_ref()
    }

    /// Say it listens (its source is then `connected`).
    pub fn listening(&self, addr: std::net::SocketAddr) {
        if let Some(em) = &self.em {
            em.try_emit(EventKind::Conn(ConnState::Connected {
                session: Some(format!("listening on {addr}")),
            }));
        }
    }

    /// A line in the Logs, as the server's own.
    pub fn notice(&self, level: Level, summary: impl Into<String>) {
        if let Some(em) = &self.em {
            em.try_emit(EventKind::Log(LogRecord {
                level,
                kind: self.name.to_string(),
                summary: summary.into(),
                data: None,
                bytes: None,
            }));
        }
    }

    /// What a client sent that cannot be read: an error entry (never a
    /// crash, never silent), its first bytes kept.
    pub fn malformed(&self, what: String, raw: &str) {
        if let Some(em) = &self.em {
            em.try_emit(EventKind::Malformed {
                what,
                raw: raw.chars().take(4096).collect(),
            });
        }
    }

    /// A fresh connection id (1, 2, …).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A connection's place, unless `max_conns` are already held.
    pub fn slot(self: &Arc<Self>) -> Option<Slot> {
        let n = self.conns.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = Slot(self.clone());
        (n <= self.max_conns).then_some(slot)
    }

    /// Connections held now.
    pub fn conns(&self) -> usize {
        self.conns.load(Ordering::Acquire)
    }

    pub fn max_conns(&self) -> usize {
        self.max_conns
    }

    /// Count one more of `what` (`refused (connection limit)`, `dropped
    /// (idle)`…: a fact with the count) and say `line` for the 1st, the
    /// 10th, the 100th… (a flood of them is counted, not logged).
    pub fn tally(&self, what: &'static str, level: Level, line: impl FnOnce(u64) -> String) {
        let n = {
            let mut t = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
            let n = t.entry(what).or_insert(0);
            *n += 1;
            *n
        };
        if crate::text::worth_saying(n) {
            self.notice(level, line(n));
        }
    }

    /// How many of `what` so far.
    pub fn tallied(&self, what: &'static str) -> u64 {
        self.tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(what)
            .copied()
            .unwrap_or(0)
    }

    /// Set a fact of the server's (shown in Connections; said with the next
    /// report).
    pub fn fact(&self, key: &str, value: impl Into<String>) {
        let value = value.into();
        let mut f = self.facts.lock().unwrap_or_else(|p| p.into_inner());
        match f.now.iter_mut().find(|(k, _)| k == key) {
            Some(kv) => kv.1 = value,
            None => f.now.push((key.to_string(), value)),
        }
    }

    /// Stopping: every connection is told to close.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Changes to true when the server stops.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Report what changed: traffic, facts (the guard's and the tallies'
    /// included), and the peers `peers` lists. Never waits: what a full
    /// queue refuses is offered again next time.
    pub fn report(&self, peers: Vec<PeerRow>) {
        let Some(em) = &self.em else { return };
        self.meter.try_flush(em);
        let rows = {
            let mut f = self.facts.lock().unwrap_or_else(|p| p.into_inner());
            let mut rows = f.now.clone();
            rows.extend(self.refused.fact());
            let t = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
            rows.extend(t.iter().map(|(k, n)| (k.to_string(), n.to_string())));
            drop(t);
            f.book.update(rows)
        };
        if let Some(changes) = rows
            && !em.try_emit(EventKind::Facts(changes.clone()))
        {
            // Not said: forget it was, so the next report says it again.
            let mut f = self.facts.lock().unwrap_or_else(|p| p.into_inner());
            f.book = Default::default();
        }
        let mut said = self.peers_said.lock().unwrap_or_else(|p| p.into_inner());
        if said.as_ref() != Some(&peers) && em.try_emit(EventKind::Peers(peers.clone())) {
            *said = Some(peers);
        }
    }

    /// Report every [`FLUSH_EVERY`] until the returned task is aborted;
    /// `peers` lists the server's clients as they are now.
    pub fn reporter(
        self: &Arc<Self>,
        peers: impl Fn() -> Vec<PeerRow> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let core = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                tick.tick().await;
                core.report(peers());
            }
        })
    }
}

/// A connection's place in a server: held while it lives.
pub struct Slot(Arc<Core>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.conns.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Bytes a server keeps for its clients (a Leap channel's state, say),
/// within a bound: what would go past it is refused, and the refusal
/// counted by the server.
pub struct Budget {
    max: usize,
    used: AtomicUsize,
}

impl Budget {
    pub fn new(max: usize) -> Budget {
        Budget {
            max,
            used: AtomicUsize::new(0),
        }
    }

    /// Take `n` bytes, unless that would pass the bound.
    pub fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|t| *t <= self.max)
            })
            .is_ok()
    }

    /// Give back `n` bytes taken before.
    pub fn give(&self, n: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

/// How long things may take, for every server alike.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// To finish the WebSocket upgrade.
    pub handshake: Duration,
    /// With no frame at all (control frames count) for this long, a
    /// connection is dropped; the server pings every `ping` to give a live
    /// client something to answer.
    pub idle: Option<Duration>,
    pub ping: Option<Duration>,
    /// With no complete data message for this long, a connection is
    /// dropped: control frames do not extend it, so a message left
    /// unfinished while pings keep arriving ends too.
    pub data: Option<Duration>,
    /// A write that takes longer: the client does not read.
    pub write: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            handshake: Duration::from_secs(10),
            idle: None,
            ping: None,
            data: None,
            write: Duration::from_secs(10),
        }
    }
}

/// Wait (at most `timeout`) until `cond` holds, looking again each time
/// `changes` is bumped; whether it did. What a server's tests wait on.
pub async fn wait_until(
    mut changes: tokio::sync::watch::Receiver<u64>,
    timeout: std::time::Duration,
    cond: impl Fn() -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        changes.borrow_and_update();
        if cond() {
            return true;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return cond(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Fact, SourceEvent};
    use tokio::sync::mpsc;

    fn drain(rx: &mut mpsc::Receiver<SourceEvent>) -> Vec<EventKind> {
        std::iter::from_fn(|| rx.try_recv().ok().map(|e| e.kind)).collect()
    }

    #[test]
    fn slots_stop_at_the_limit_and_come_back() {
        let core = Arc::new(Core::new("t", 2, None));
        let a = core.slot().unwrap();
        let _b = core.slot().unwrap();
        assert!(core.slot().is_none(), "a third is over the limit");
        assert_eq!(core.conns(), 2, "a refused one holds nothing");
        drop(a);
        assert!(core.slot().is_some());
    }

    #[test]
    fn tallies_say_the_first_tenth_hundredth() {
        let (tx, mut rx) = mpsc::channel(64);
        let core = Core::new("t", 1, Some(Emitter::new(0, tx)));
        for _ in 0..100 {
            core.tally("refused (connection limit)", Level::Warn, |n| {
                format!("refused #{n}")
            });
        }
        let said: Vec<String> = drain(&mut rx)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::Log(r) => Some(r.summary),
                _ => None,
            })
            .collect();
        assert_eq!(said, ["refused #1", "refused #10", "refused #100"]);
        assert_eq!(core.tallied("refused (connection limit)"), 100);
        core.report(Vec::new());
        let facts: Vec<Fact> = drain(&mut rx)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::Facts(f) => Some(f),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(facts, [Fact::set("refused (connection limit)", "100")]);
    }

    #[test]
    fn facts_are_set_by_key_and_peers_said_on_change() {
        let (tx, mut rx) = mpsc::channel(64);
        let core = Core::new("t", 1, Some(Emitter::new(0, tx)));
        core.fact("a", "1");
        core.fact("b", "2");
        core.fact("a", "3");
        core.report(Vec::new());
        let evs = drain(&mut rx);
        assert!(
            evs.contains(&EventKind::Facts(vec![
                Fact::set("a", "3"),
                Fact::set("b", "2")
            ])),
            "{evs:?}"
        );
        assert!(evs.contains(&EventKind::Peers(Vec::new())), "{evs:?}");
        core.report(Vec::new());
        assert!(drain(&mut rx).is_empty(), "nothing changed, nothing said");
    }

    #[test]
    fn a_budget_refuses_what_would_pass_it() {
        let b = Budget::new(100);
        assert!(b.take(60));
        assert!(!b.take(41));
        assert!(b.take(40));
        b.give(50);
        assert_eq!(b.used(), 50);
        b.give(500);
        assert_eq!(b.used(), 0);
    }
}
