//! One generic server `Source`: every server of roomtap's (its relay, its
//! room server, its Leap Edge, and the next ones) is started, named and
//! kept alive the same way; a server brings only its [`Server`] impl.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::event::Command;
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// A server as the kit runs it (on a TCP port or a Unix socket).
pub trait Server: Send + Sync + Sized + 'static {
    type Config: Clone + Send + Sync + 'static;
    /// Its kind (its protocol's server kind).
    fn kind() -> SourceKind;
    /// Its label in the Logs (`redux srv`).
    fn label() -> &'static str;
    /// Where clients will reach it, from its config.
    fn planned_url(cfg: &Self::Config) -> String;
    /// The config to try when its address is taken and the user let it
    /// choose (a free port); `None`: it has no other place.
    fn elsewhere(_cfg: &Self::Config) -> Option<Self::Config> {
        None
    }
    /// The secrets its config holds (masked wherever roomtap writes).
    fn secrets(cfg: &Self::Config) -> Vec<String>;
    /// Bind and serve, reporting through `em`.
    fn start(
        cfg: Self::Config,
        em: Option<Emitter>,
    ) -> impl std::future::Future<Output = std::io::Result<Self>> + Send;
    /// Where clients reach it, now that it listens.
    fn url(&self) -> String;
    /// What to say when it cannot listen.
    fn bind_error(cfg: &Self::Config, e: &std::io::Error) -> String {
        format!("cannot listen at {}: {e}", Self::planned_url(cfg))
    }
}

/// For a server on a TCP port: the same config on port 0 (a free one).
pub fn any_port<C: Clone>(cfg: &C, bind: impl Fn(&mut C) -> &mut SocketAddr) -> C {
    let mut c = cfg.clone();
    bind(&mut c).set_port(0);
    c
}

/// What to do once a server listens (bring a monitor along, start what
/// runs beside it…).
pub type Then<S> = Box<dyn FnOnce(&Arc<S>, &mut Started) + Send>;

/// A server of roomtap's as a source.
pub struct ServerSource<S: Server> {
    pub cfg: S::Config,
    /// When its port is taken, take a free one instead of failing.
    pub any_port: bool,
    then: Vec<Then<S>>,
}

impl<S: Server> ServerSource<S> {
    pub fn new(cfg: S::Config) -> Self {
        ServerSource {
            cfg,
            any_port: false,
            then: Vec::new(),
        }
    }

    /// Do `f` once it listens.
    pub fn then(mut self, f: impl FnOnce(&Arc<S>, &mut Started) + Send + 'static) -> Self {
        self.then.push(Box::new(f));
        self
    }
}

impl<S: Server> Source for ServerSource<S> {
    fn kind(&self) -> SourceKind {
        S::kind()
    }
    fn label(&self) -> String {
        S::label().into()
    }
    fn url(&self) -> String {
        S::planned_url(&self.cfg)
    }
    fn secrets(&self) -> Vec<String> {
        S::secrets(&self.cfg)
    }
    fn start(self: Box<Self>, em: Emitter, _commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let cfg = self.cfg.clone();
            let server = match S::start(cfg.clone(), Some(em.clone())).await {
                Err(e) if self.any_port && e.kind() == std::io::ErrorKind::AddrInUse => {
                    match S::elsewhere(&cfg) {
                        Some(other) => S::start(other.clone(), Some(em))
                            .await
                            .map_err(|e| S::bind_error(&other, &e))?,
                        None => return Err(S::bind_error(&cfg, &e)),
                    }
                }
                Err(e) => return Err(S::bind_error(&cfg, &e)),
                Ok(s) => s,
            };
            let server = Arc::new(server);
            let mut started = Started {
                url: Some(server.url()),
                ..Started::default()
            };
            for f in self.then {
                f(&server, &mut started);
            }
            started.keep.push(Box::new(server));
            Ok(started)
        })
    }
}
