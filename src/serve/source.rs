//! One generic server `Source`: every server of roomtap's (its relay, its
//! room server, its Leap Edge, and the next ones) is started, named and
//! kept alive the same way; a server brings only its [`Server`] impl.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::event::Command;
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// A server as the kit runs it.
pub trait Server: Send + Sync + Sized + 'static {
    type Config: Clone + Send + Sync + 'static;
    /// Its kind (its protocol's server kind).
    fn kind() -> SourceKind;
    /// Its label in the Logs (`redux srv`).
    fn label() -> &'static str;
    /// Where it will listen.
    fn bind(cfg: &Self::Config) -> SocketAddr;
    fn set_bind(cfg: &mut Self::Config, addr: SocketAddr);
    /// The URL clients dial at `addr`.
    fn url_at(cfg: &Self::Config, addr: SocketAddr) -> String;
    /// The secrets its config holds (masked wherever roomtap writes).
    fn secrets(cfg: &Self::Config) -> Vec<String>;
    /// Bind and serve, reporting through `em`.
    fn start(
        cfg: Self::Config,
        em: Option<Emitter>,
    ) -> impl std::future::Future<Output = std::io::Result<Self>> + Send;
    fn local_addr(&self) -> SocketAddr;
    /// What to say when it cannot listen.
    fn bind_error(cfg: &Self::Config, e: &std::io::Error) -> String {
        format!("cannot listen on {}: {e}", Self::bind(cfg))
    }
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
        S::url_at(&self.cfg, S::bind(&self.cfg))
    }
    fn secrets(&self) -> Vec<String> {
        S::secrets(&self.cfg)
    }
    fn start(self: Box<Self>, em: Emitter, _commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let mut cfg = self.cfg.clone();
            let server = match S::start(cfg.clone(), Some(em.clone())).await {
                Err(e) if self.any_port && e.kind() == std::io::ErrorKind::AddrInUse => {
                    let mut bind = S::bind(&cfg);
                    bind.set_port(0);
                    S::set_bind(&mut cfg, bind);
                    S::start(cfg.clone(), Some(em))
                        .await
                        .map_err(|e| S::bind_error(&cfg, &e))?
                }
                Err(e) => return Err(S::bind_error(&cfg, &e)),
                Ok(s) => s,
            };
            let server = Arc::new(server);
            let mut started = Started {
                url: Some(S::url_at(&cfg, server.local_addr())),
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
