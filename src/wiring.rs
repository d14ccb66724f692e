//! Wiring: where sources meet the store. [`Wiring::attach`] registers a
//! source in the store, gives it an emitter and (when it takes commands) a
//! route, starts it, and attaches what it brought along. It also gathers
//! every secret the sources know into the run's one [`Masker`], which every
//! emitter applies: no output of the run can show one. This is the only
//! place, besides the store itself, that adds sources; servers and sources
//! never touch the store.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::event::{Command, SourceEvent, SourceId};
use crate::secret::Masker;
use crate::source::{Emitter, Keep, Source};
use crate::store::Store;

/// Events queued from the sources to the store.
pub const EVENT_QUEUE: usize = 8192;
/// Commands queued to one source.
pub const COMMAND_QUEUE: usize = 256;

/// Sources being attached.
pub struct Wiring {
    tx: mpsc::Sender<SourceEvent>,
    session: Session,
}

/// What a run needs once its sources are attached.
#[derive(Default)]
pub struct Session {
    /// Where each command-taking source's commands go.
    pub routes: HashMap<SourceId, mpsc::Sender<Command>>,
    /// Servers, simulated apps and the command senders of sources that take
    /// none (a source ends when all its senders are gone).
    pub keep: Keep,
    /// Tokens and secrets of every source, masked in every event.
    pub mask: Arc<Masker>,
    /// Secrets too short to mask (said once, as a warning).
    pub unmaskable: usize,
    /// What the sources say as the run ends ([`Session::goodbye`]).
    pub goodbyes: Vec<crate::source::Goodbye>,
    /// Set: commands are refused in this session, and why.
    pub read_only: Option<String>,
}

impl Session {
    /// Every source's goodbye, all at once, for at most
    /// [`crate::source::GOODBYE_WITHIN`]; each is said once (taken).
    pub async fn goodbye(&mut self) {
        let all = std::mem::take(&mut self.goodbyes);
        if all.is_empty() {
            return;
        }
        let _ = tokio::time::timeout(
            crate::source::GOODBYE_WITHIN,
            futures_util::future::join_all(all),
        )
        .await;
    }
}

/// Run `work`; then, however it ended (a panic included), let the sources
/// say goodbye; then end as `work` did (resuming a panic).
pub async fn with_goodbyes<T>(
    goodbyes: Vec<crate::source::Goodbye>,
    work: impl std::future::Future<Output = T>,
) -> T {
    use futures_util::FutureExt;
    let out = std::panic::AssertUnwindSafe(work).catch_unwind().await;
    let mut s = Session {
        goodbyes,
        ..Session::default()
    };
    s.goodbye().await;
    match out {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

impl Wiring {
    /// A wiring and the receiving end of its sources' events.
    pub fn new() -> (Wiring, mpsc::Receiver<SourceEvent>) {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        (
            Wiring {
                tx,
                session: Session::default(),
            },
            rx,
        )
    }

    /// Attach each source in turn (and what each brings along).
    pub async fn attach_all(
        &mut self,
        store: &mut Store,
        sources: Vec<Box<dyn Source>>,
    ) -> Result<(), String> {
        for s in sources {
            self.attach(store, s).await?;
        }
        Ok(())
    }

    /// Start `source` and register it in the store (only once it started,
    /// so a failed start leaves the store as it was); then attach what it
    /// brought along. Returns its id.
    pub async fn attach(
        &mut self,
        store: &mut Store,
        source: Box<dyn Source>,
    ) -> Result<SourceId, String> {
        let id =
            SourceId::try_from(store.sources.len()).map_err(|_| "too many sources".to_string())?;
        let (kind, label, caps) = (source.kind(), source.label(), source.caps());
        let shown = source.shown_url();
        self.mask_all(source.secrets());
        let (ctx, crx) = mpsc::channel(COMMAND_QUEUE);
        let em = Emitter::masking(id, self.tx.clone(), self.session.mask.clone());
        let started = source.start(em, crx).await?;
        self.mask_all(started.secrets);
        let url = started
            .url
            .as_deref()
            .map(crate::text::redact_url)
            .unwrap_or(shown);
        let masked = |s: &str| self.session.mask.mask(s).unwrap_or_else(|| s.to_string());
        let added = store.register(&masked(&label), kind, caps, &masked(&url));
        debug_assert_eq!(added, id);
        if caps.commands {
            self.session.routes.insert(id, ctx);
        } else {
            self.session.keep.push(Box::new(ctx));
        }
        self.session.keep.extend(started.keep);
        self.session.goodbyes.extend(started.goodbye);
        if started.read_only.is_some() {
            self.session.read_only = started.read_only;
        }
        for more in started.more {
            Box::pin(self.attach(store, more)).await?;
        }
        Ok(id)
    }

    fn mask_all(&mut self, secrets: Vec<String>) {
        for s in secrets.iter().filter(|s| !s.trim().is_empty()) {
            if !self.session.mask.add(s) {
                self.session.unmaskable += 1;
            }
        }
    }

    /// Done attaching: the event channel closes once every source has ended.
    pub fn finish(self) -> Session {
        self.session
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::kind::{Caps, FirstPane, Protocol};
    use crate::source::{SourceKind, Started, Starting};

    static P: Protocol = Protocol {
        name: "p",
        server: "p server",
        older: &[],
        caps: Caps {
            commands: true,
            ..Caps::NONE
        },
        token_env: None,
        first_pane: FirstPane::Logs,
    };

    /// A source that knows `secret` and brings `more` along once started
    /// at `url`.
    struct Fake {
        kind: SourceKind,
        url: String,
        secret: Option<String>,
        more: Vec<Box<dyn Source>>,
    }

    impl Source for Fake {
        fn kind(&self) -> SourceKind {
            self.kind
        }
        fn label(&self) -> String {
            self.kind.name().into()
        }
        fn url(&self) -> String {
            self.url.clone()
        }
        fn secrets(&self) -> Vec<String> {
            self.secret.iter().cloned().collect()
        }
        fn start(self: Box<Self>, _em: Emitter, _c: mpsc::Receiver<Command>) -> Starting {
            Box::pin(async move {
                Ok(Started {
                    url: Some(self.url.replace(":0/", ":4242/")),
                    more: self.more,
                    ..Started::default()
                })
            })
        }
    }

    fn fake(kind: SourceKind, url: &str) -> Fake {
        Fake {
            kind,
            url: url.into(),
            secret: None,
            more: Vec::new(),
        }
    }

    #[tokio::test]
    async fn attached_sources_are_registered_routed_and_their_secrets_masked() {
        let mut store = Store::new(&Default::default());
        let (mut w, _rx) = Wiring::new();
        let src = Fake {
            secret: Some("zz9y-secret".into()),
            ..fake(
                SourceKind::client(&P),
                "ws://u:pw1x@127.0.0.1:9/x/?secret=zz9y-secret",
            )
        };
        let id = w.attach(&mut store, Box::new(src)).await.unwrap();
        let s = w.finish();
        assert_eq!(id, 0);
        assert_eq!(store.sources[0].kind, SourceKind::client(&P));
        let shown = &store.sources[0].url;
        assert!(
            !shown.contains("pw1x") && !shown.contains("zz9y"),
            "{shown}"
        );
        assert!(s.routes.contains_key(&0), "a client of P takes commands");
        assert_eq!(s.mask.mask("a zz9y-secret b").as_deref(), Some("a *** b"));
    }

    #[tokio::test]
    async fn a_source_brings_what_it_started_along() {
        let mut store = Store::new(&Default::default());
        let (mut w, _rx) = Wiring::new();
        let server = Fake {
            more: vec![Box::new(fake(SourceKind::client(&P), "in-process"))],
            ..fake(SourceKind::server(&P), "ws://127.0.0.1:0/x/")
        };
        w.attach(&mut store, Box::new(server)).await.unwrap();
        let s = w.finish();
        let kinds: Vec<_> = store.sources.iter().map(|s| s.kind.name()).collect();
        assert_eq!(kinds, ["p server", "p"]);
        assert_eq!(
            store.sources[0].url, "ws://127.0.0.1:4242/x/",
            "the real port"
        );
        assert!(!s.routes.contains_key(&0) && s.routes.contains_key(&1));
    }
}
