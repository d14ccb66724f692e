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
    /// Set: commands are refused in this session, and why.
    pub read_only: Option<String>,
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
    use crate::protocols::redux::client::source::RelayMonitor;

    #[tokio::test]
    async fn attached_sources_are_registered_routed_and_their_secrets_kept() {
        let mut store = Store::new(&Default::default());
        let (mut w, _rx) = Wiring::new();
        let url = "ws://u:pw1x@127.0.0.1:9/socketcluster/?secret=zz9y";
        let id = w
            .attach(&mut store, Box::new(RelayMonitor::new(url)))
            .await
            .unwrap();
        let s = w.finish();
        assert_eq!(id, 0);
        assert_eq!(store.sources[0].kind, crate::protocols::redux::CLIENT);
        assert!(
            !store.sources[0].url.contains("pw1x"),
            "{}",
            store.sources[0].url
        );
        assert!(
            !store.sources[0].url.contains("zz9y"),
            "{}",
            store.sources[0].url
        );
        assert!(s.routes.contains_key(&0), "a relay takes commands");
        assert_eq!(s.mask.mask("pw1x zz9y").as_deref(), Some("*** ***"));
    }

    #[tokio::test]
    async fn a_server_brings_its_monitor_along() {
        let mut store = Store::new(&Default::default());
        let (mut w, _rx) = Wiring::new();
        let cfg = crate::protocols::redux::server::RelayConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        let relay = crate::protocols::redux::server::source::with_monitor(cfg);
        w.attach(&mut store, Box::new(relay)).await.unwrap();
        let s = w.finish();
        let kinds: Vec<_> = store.sources.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                crate::protocols::redux::SERVER,
                crate::protocols::redux::CLIENT
            ]
        );
        assert!(
            !store.sources[0].url.ends_with(":0/socketcluster/"),
            "the real port is shown"
        );
        assert!(store.sources[1].caps.targets_instances);
        assert!(!s.routes.contains_key(&0) && s.routes.contains_key(&1));
    }
}
