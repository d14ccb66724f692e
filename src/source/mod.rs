//! What a source is: the [`Source`] trait every protocol's client and
//! server implements, the [`Emitter`] it reports through, and its kind
//! ([`kind`]: the handle to its protocol's descriptor). Neutral: it names no
//! protocol. The connection lifecycle they share is in `crate::link`.

pub mod kind;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;

use crate::event::{Command, ConnState, EventKind, Level, LogRecord, SourceEvent, SourceId};
use crate::secret::Masker;
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
    /// Only the log entries `q` keeps are wanted (`tail --filter` that
    /// prints nothing else): a source may leave the others out before it
    /// parses them. Errors, connection changes and every other event must
    /// still come. Most sources ignore it.
    fn narrow(&mut self, _q: &crate::query::Query) {}
    /// Start it: spawn its task(s), reporting through `em`; `commands`
    /// carries what the user sends it (it never yields when it takes none).
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting;
}

/// What a source does as the run ends, whatever ends it (q, Ctrl-C,
/// SIGTERM, SIGHUP, a panic): tell its peer it leaves, remove a socket
/// file. The wiring awaits every source's, bounded ([`GOODBYE_WITHIN`]).
pub type Goodbye = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How long the run waits for its sources' goodbyes.
pub const GOODBYE_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

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
    /// Its goodbye, when it has one to say.
    pub goodbye: Option<Goodbye>,
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
/// source down instead of growing memory). Every event passes here, so
/// here every secret the run knows is masked (its [`Masker`]): whatever
/// shows, copies, prints, exports or records an event sees it masked.
/// Whether frames are kept as they are (`--keep-raw N`, N > 0): set once
/// at start-up, read by each source's meter when it is made.
static KEEP_RAW: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Keep frames as they are from now on (or not).
pub fn keep_raw(on: bool) {
    KEEP_RAW.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether frames are kept as they are.
pub fn raw_kept() -> bool {
    KEEP_RAW.load(std::sync::atomic::Ordering::Relaxed)
}

#[derive(Clone)]
pub struct Emitter {
    pub source: SourceId,
    tx: mpsc::Sender<SourceEvent>,
    mask: std::sync::Arc<Masker>,
}

impl Emitter {
    /// An emitter that masks nothing (tests, a source on its own).
    pub fn new(source: SourceId, tx: mpsc::Sender<SourceEvent>) -> Self {
        Self::masking(source, tx, Default::default())
    }

    /// An emitter that masks the run's secrets.
    pub fn masking(
        source: SourceId,
        tx: mpsc::Sender<SourceEvent>,
        mask: std::sync::Arc<Masker>,
    ) -> Self {
        Self { source, tx, mask }
    }

    /// Mask `secret` in every event of the run from now on (a source that
    /// makes one up while starting says so before it uses it); false when
    /// it is too short to mask.
    pub fn mask_secret(&self, secret: &str) -> bool {
        self.mask.add(secret)
    }

    fn masked(&self, mut kind: EventKind) -> EventKind {
        if !self.mask.is_empty() {
            kind.scrub(&mut |s| self.mask.mask(s));
        }
        kind
    }

    /// Returns false once nobody listens any more.
    pub async fn emit(&self, kind: EventKind) -> bool {
        let kind = self.masked(kind);
        self.tx
            .send(SourceEvent::new(self.source, kind))
            .await
            .is_ok()
    }

    /// An event dated by the remote side (ms since epoch).
    pub async fn emit_at(&self, at_ms: u64, kind: EventKind) -> bool {
        let kind = self.masked(kind);
        self.tx
            .send(SourceEvent {
                source: self.source,
                at_ms,
                kind,
            })
            .await
            .is_ok()
    }

    /// Pass on an event of another source (a replay's events, already
    /// addressed), masked like any other.
    pub async fn forward(&self, mut ev: SourceEvent) -> bool {
        ev.kind = self.masked(ev.kind);
        self.tx.send(ev).await.is_ok()
    }

    /// For callers that must not wait (e.g. while holding a lock): a full
    /// queue drops the event.
    pub fn try_emit(&self, kind: EventKind) -> bool {
        let kind = self.masked(kind);
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
        self.log_data(level, kind, summary, None).await
    }

    /// A Logs line with its data (what Enter opens, what `/data.…` reads).
    pub async fn log_data(
        &self,
        level: Level,
        kind: &str,
        summary: impl Into<String>,
        data: Option<String>,
    ) -> bool {
        self.emit(EventKind::Log(LogRecord {
            level,
            kind: kind.to_string(),
            summary: summary.into(),
            data,
            bytes: None,
        }))
        .await
    }
}

/// What a protocol reads besides its own flags when it builds its sources.
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    /// The token flags, when they are this protocol's in this run (the
    /// command names it, or it is the default owner); else its own
    /// variable is read.
    pub tokens: Option<&'a tokens::TokenArgs>,
    /// Which web pages and host names roomtap's servers admit.
    pub guard: &'a crate::guard::GuardArgs,
}

/// What a server subcommand (`roomtap <p>-server`) does.
pub enum Headless {
    /// Run the server alone: its source, the line said once it listens
    /// (given the URL it listens on), and who it is (said as it stops).
    Serve {
        source: Box<dyn Source>,
        banner: Box<dyn FnOnce(&str) -> String + Send>,
        who: String,
    },
    /// Print this text to stdout and end (`legume-server --print-schema`).
    Print(String),
}

/// The facts a source last said, so that it says only what changed: the
/// store keeps every fact until it is set again or taken away.
#[derive(Debug, Default)]
pub struct FactBook {
    said: Vec<(String, String)>,
}

impl FactBook {
    /// What makes the facts said into `rows`: each new or changed one set,
    /// each one gone taken away; `None` when nothing changed.
    pub fn update(&mut self, rows: Vec<(String, String)>) -> Option<Vec<crate::event::Fact>> {
        use crate::event::Fact;
        let mut out: Vec<Fact> = self
            .said
            .iter()
            .filter(|(k, _)| !rows.iter().any(|(k2, _)| k2 == k))
            .map(|(k, _)| Fact::unset(k.clone()))
            .collect();
        for (k, v) in &rows {
            if !self.said.iter().any(|(k2, v2)| k2 == k && v2 == v) {
                out.push(Fact::set(k.clone(), v.clone()));
            }
        }
        self.said = rows;
        (!out.is_empty()).then_some(out)
    }

    /// Whether `key` was last said to be `value`.
    pub fn says(&self, key: &str, value: &str) -> bool {
        self.said.iter().any(|(k, v)| k == key && v == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Fact;

    #[test]
    fn a_fact_book_says_only_what_changed() {
        let mut b = FactBook::default();
        let row = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            b.update(vec![row("a", "1"), row("b", "2")]),
            Some(vec![Fact::set("a", "1"), Fact::set("b", "2")])
        );
        assert_eq!(b.update(vec![row("a", "1"), row("b", "2")]), None);
        assert_eq!(
            b.update(vec![row("a", "3")]),
            Some(vec![Fact::unset("b"), Fact::set("a", "3")])
        );
    }

    #[tokio::test]
    async fn bytes_are_masked_too_and_recorded_as_base64() {
        let (tx, mut rx) = mpsc::channel(4);
        let em = Emitter::masking(0, tx, Default::default());
        assert!(em.mask_secret("s3cr3t-t0ken"));
        let mut bytes = vec![0xff, 0x00];
        bytes.extend_from_slice(b"s3cr3t-t0ken");
        bytes.push(0x80);
        em.emit(EventKind::Log(LogRecord {
            level: Level::Info,
            kind: "k".into(),
            summary: "s".into(),
            data: None,
            bytes: Some(bytes),
        }))
        .await;
        let ev = rx.recv().await.unwrap();
        let EventKind::Log(r) = &ev.kind else {
            panic!("{ev:?}")
        };
        let b = r.bytes.as_deref().unwrap();
        assert_eq!(&b[..2], [0xff, 0x00]);
        assert_eq!(b[b.len() - 1], 0x80, "the bytes around it kept");
        assert!(!b.windows(12).any(|w| w == b"s3cr3t-t0ken"), "{b:?}");
        // A recording holds them as base64 and reads them back.
        let text = serde_json::to_string(&ev).unwrap();
        assert!(text.contains("\"bytes\":\"/w"), "{text}");
        let back: SourceEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ev);
        // Without bytes, nothing is written for them.
        let plain = serde_json::to_string(&LogRecord {
            level: Level::Info,
            kind: "k".into(),
            summary: "s".into(),
            data: None,
            bytes: None,
        })
        .unwrap();
        assert!(!plain.contains("bytes"), "{plain}");
    }
}
