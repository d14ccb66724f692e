//! The TracimDaemon client: roomtap registered with a daemon as the real
//! SDKs register, without their defects.
//!
//! - Its own socket (private, 0600) is bound once for the whole run, so
//!   nothing sent to it is lost while the daemon restarts; every connection
//!   to it is read to its end (capped, with a read timeout), so an event over
//!   4 KiB arrives whole (both SDKs read once, or decode each 4 KiB chunk).
//! - It registers with `daemon_client_add` `{path, pid}`, both strings (the
//!   SDK README's `client_add` registers nothing), and is `connected` once
//!   the daemon answers with `daemon_account_info`.
//! - Every `daemon_ping` is answered with `daemon_pong` to the ping's path at
//!   once; with no ping for two rounds it is `silent` and registers again;
//!   a daemon whose socket refuses is `errored` and dialled again with
//!   backoff and jitter.
//! - It unregisters once (`daemon_client_delete`) and removes its socket
//!   file as the run ends, however it ends (its `Goodbye`).

pub mod command;
pub mod source;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

use crate::event::{
    ChannelUpdate, Command, CommandKind, ConnState, EventKind, Level, LogRecord,
};
use crate::link::meter::{FLUSH_EVERY, Meter};
use crate::link::Documents;
use crate::link::unix::{self, Received, UnixLink};
use crate::link::{Backoff, SessionEnd, supervise_idle};
use crate::protocols::tracim::wire::event::{self, Client, DaemonEvent, Type};
use crate::protocols::tracim::wire::model::TracimCommand;
use crate::protocols::tracim::wire::tlm;
use crate::source::{Emitter, FactBook};

#[derive(Debug, Clone)]
pub struct TracimConfig {
    /// The daemon's socket.
    pub master: PathBuf,
    /// roomtap's own socket (bound once for the run).
    pub socket: PathBuf,
    /// The daemon's ping round (30 s in the Go daemon): with no ping for
    /// two, the daemon is silent.
    pub round: Duration,
    /// How long sending one document may take.
    pub send_timeout: Duration,
    /// How long registration may wait for `daemon_account_info`.
    pub register_timeout: Duration,
    /// The largest document taken.
    pub max_document: usize,
    /// How long a connection to our socket may stay open before its
    /// document is whole.
    pub read_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl TracimConfig {
    pub fn new(master: &Path, socket: &Path) -> TracimConfig {
        TracimConfig {
            master: master.to_path_buf(),
            socket: socket.to_path_buf(),
            round: Duration::from_secs(30),
            send_timeout: Duration::from_secs(5),
            register_timeout: Duration::from_secs(5),
            max_document: unix::MAX_DOCUMENT,
            read_timeout: unix::READ_TIMEOUT,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// A fresh own socket in roomtap's private directory (numbered for the
/// run: several clients never share one).
pub fn own_socket() -> Result<PathBuf, String> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = crate::link::unix::private_dir()
        .map_err(|e| format!("no private directory for roomtap's socket: {e}"))?;
    Ok(dir.join(format!("tracim-{}-{n}.sock", std::process::id())))
}

/// Says goodbye to the daemon once: `daemon_client_delete`, then the
/// socket file goes. Run by the wiring as the run ends, and by the task
/// when it stops: the first does it, and a second waits until it is done
/// (a panic drops the panes' events, so the task may begin first; the run
/// must not end before its goodbye is out). A goodbye cut short (its task
/// gone) is begun again by the next.
pub struct Farewell {
    said: tokio::sync::OnceCell<()>,
    cfg: TracimConfig,
    em: Emitter,
}

impl Farewell {
    pub async fn say(&self) {
        self.said.get_or_init(|| self.send()).await;
    }

    async fn send(&self) {
        let data = Client {
            path: own_path(&self.cfg),
            pid: std::process::id().to_string(),
        }
        .to_json();
        let doc = event::encode(&own_path(&self.cfg), &Type::ClientDelete, Some(&data));
        let sent = unix::send(
            &self.cfg.master,
            doc.as_bytes(),
            Duration::from_millis(500),
        )
        .await;
        let _ = std::fs::remove_file(&self.cfg.socket);
        let summary = match sent {
            Ok(()) => "unregistered (daemon_client_delete sent); our socket removed".to_string(),
            Err(e) => format!("could not unregister ({e}); our socket removed"),
        };
        self.em.try_emit(EventKind::Log(LogRecord {
            level: Level::Info,
            kind: "tracim".into(),
            summary,
            data: None,
            bytes: None,
        }));
    }
}

fn own_path(cfg: &TracimConfig) -> String {
    cfg.socket.to_string_lossy().into_owned()
}

/// What the SDKs read of a document (one 4 KiB read): more is lost there.
const SDK_READ: usize = 4096;

/// What outlives one registration.
struct Persist {
    link: UnixLink,
    facts: FactBook,
    user_id: Option<String>,
    last_ping: Option<u64>,
    pings: u64,
}

/// Bind our socket and spawn the task. The returned `Farewell` is the
/// source's goodbye; the task ends when every command sender is gone.
pub async fn spawn(
    cfg: TracimConfig,
    em: Emitter,
    commands: mpsc::Receiver<Command>,
) -> Result<Arc<Farewell>, String> {
    let meter = Arc::new(Meter::for_source(&em));
    let link = UnixLink::bind(
        &cfg.socket,
        cfg.max_document,
        cfg.read_timeout,
        cfg.send_timeout,
        meter.clone(),
    )
    .await
    .map_err(|e| format!("cannot listen on {}: {e}", cfg.socket.display()))?;
    let farewell = Arc::new(Farewell {
        said: tokio::sync::OnceCell::new(),
        cfg: cfg.clone(),
        em: em.clone(),
    });
    let persist = Arc::new(Mutex::new(Persist {
        link,
        facts: FactBook::default(),
        user_id: None,
        last_ping: None,
        pings: 0,
    }));
    let bye = farewell.clone();
    tokio::spawn(async move {
        let backoff = Backoff::new(cfg.backoff_base, cfg.backoff_max);
        let session = |_attempt, em: Emitter, mut cmds: mpsc::Receiver<Command>| {
            let (cfg, meter, persist) = (cfg.clone(), meter.clone(), persist.clone());
            async move {
                let mut p = persist.lock().await;
                let end = Session::new(&cfg, &em, &meter, &mut p).run(&mut cmds).await;
                meter.flush(&em).await;
                (end, cmds)
            }
        };
        // Between attempts our socket is still read: what reaches it while
        // the daemon is away is shown, not held until it is back.
        let idle = |em: Emitter| {
            let (cfg, meter, persist) = (cfg.clone(), meter.clone(), persist.clone());
            async move {
                let mut p = persist.lock().await;
                let mut s = Session::new(&cfg, &em, &meter, &mut p);
                while let Some(got) = s.p.link.recv().await {
                    // Unregistered: a reply that cannot go is said, and
                    // the wait goes on.
                    let _ = s.on_received(got).await;
                }
            }
        };
        supervise_idle(em, commands, backoff, session, idle).await;
        // Every command sender is gone: the run is over.
        bye.say().await;
        // Dropping the link (with `persist`) stops reading our socket.
    });
    Ok(farewell)
}

struct Session<'a> {
    cfg: &'a TracimConfig,
    em: &'a Emitter,
    meter: &'a Meter,
    p: &'a mut Persist,
    registered: bool,
    silent: bool,
    /// When our own `daemon_ping` went out (its pong's round trip).
    ping_sent: Option<Instant>,
}

impl<'a> Session<'a> {
    fn new(
        cfg: &'a TracimConfig,
        em: &'a Emitter,
        meter: &'a Meter,
        p: &'a mut Persist,
    ) -> Session<'a> {
        Session {
            cfg,
            em,
            meter,
            p,
            registered: false,
            silent: false,
            ping_sent: None,
        }
    }

    async fn log(&self, level: Level, kind: &str, summary: String, data: Option<String>) {
        self.em.log_data(level, kind, summary, data).await;
    }

    async fn facts(&mut self) {
        let state = match (self.registered, self.silent) {
            (false, _) => "registering",
            (true, false) => "registered",
            (true, true) => "silent: registering again",
        };
        let mut rows = vec![
            ("master socket".to_string(), self.cfg.master.display().to_string()),
            ("own socket".to_string(), self.cfg.socket.display().to_string()),
            ("registration".to_string(), state.to_string()),
        ];
        if let Some(u) = &self.p.user_id {
            rows.push(("user id".into(), u.clone()));
        }
        if let Some(t) = self.p.last_ping {
            rows.push((
                "last ping".into(),
                format!("{} ({} answered)", crate::text::clock(t), self.p.pings),
            ));
        }
        if let Some(changes) = self.p.facts.update(rows) {
            self.em.emit(EventKind::Facts(changes)).await;
        }
    }

    /// Send one event to `to`.
    async fn send(&self, to: &Path, ty: Type, data: Option<&str>) -> std::io::Result<()> {
        let doc = event::encode(&own_path(self.cfg), &ty, data);
        self.p.link.send(&to.to_path_buf(), doc.as_bytes()).await?;
        self.meter.message_out();
        Ok(())
    }

    async fn register(&self) -> Result<(), SessionEnd> {
        let data = Client {
            path: own_path(self.cfg),
            pid: std::process::id().to_string(),
        }
        .to_json();
        self.send(&self.cfg.master, Type::ClientAdd, Some(&data))
            .await
            .map_err(|e| SessionEnd::Lost {
                reason: format!(
                    "the daemon's socket {} does not take our registration: {e}",
                    self.cfg.master.display()
                ),
                was_connected: self.registered,
            })
    }

    async fn run(&mut self, cmds: &mut mpsc::Receiver<Command>) -> SessionEnd {
        self.facts().await;
        if let Err(end) = self.register().await {
            return end;
        }
        self.em.conn(ConnState::Handshaking).await;
        let register_by = Instant::now() + self.cfg.register_timeout;
        let mut heard = Instant::now();
        let mut stats = tokio::time::interval(FLUSH_EVERY);
        loop {
            let silent_at = heard + self.cfg.round * 2;
            tokio::select! {
                got = self.p.link.recv() => {
                    let Some(got) = got else {
                        return SessionEnd::Fatal { reason: "our socket stopped".into() };
                    };
                    heard = Instant::now();
                    if self.silent {
                        self.silent = false;
                        self.em.conn(ConnState::Connected {
                            session: self.p.user_id.as_ref().map(|u| format!("user {u}")),
                        }).await;
                        self.facts().await;
                    }
                    if let Err(end) = self.on_received(got).await {
                        return end;
                    }
                }
                cmd = cmds.recv() => match cmd {
                    None => return SessionEnd::Shutdown,
                    Some(c) => {
                        if let Err(end) = self.command(c).await {
                            return end;
                        }
                    }
                },
                _ = tokio::time::sleep_until(register_by), if !self.registered => {
                    return SessionEnd::Lost {
                        reason: format!(
                            "the daemon at {} took our registration but sent no daemon_account_info within {:?}",
                            self.cfg.master.display(),
                            self.cfg.register_timeout
                        ),
                        was_connected: false,
                    };
                }
                _ = tokio::time::sleep_until(silent_at), if self.registered => {
                    // Two rounds without a ping: the daemon may have
                    // restarted (it forgot us) or hung. Say so, and
                    // register again (a refused socket ends this session).
                    self.silent = true;
                    self.em.conn(ConnState::Silent { quiet_for: heard.elapsed() }).await;
                    self.facts().await;
                    heard = Instant::now();
                    if let Err(end) = self.register().await {
                        return end;
                    }
                }
                _ = stats.tick() => self.meter.flush(self.em).await,
            }
        }
    }

    async fn command(&mut self, c: Command) -> Result<(), SessionEnd> {
        let CommandKind::Tracim(t) = &c.kind else {
            return Ok(());
        };
        let ty = match t {
            TracimCommand::Ping => Type::Ping,
            TracimCommand::Clients => Type::GetClients,
            TracimCommand::Account => Type::GetAccountInfo,
        };
        match self.send(&self.cfg.master, ty, None).await {
            Ok(()) => {
                if *t == TracimCommand::Ping {
                    self.ping_sent = Some(Instant::now());
                }
                self.em.emit(EventKind::CommandSent(c)).await;
                Ok(())
            }
            Err(e) => Err(SessionEnd::Lost {
                reason: format!("the daemon did not take {}: {e}", t.describe()),
                was_connected: self.registered,
            }),
        }
    }

    async fn on_received(&mut self, got: Received) -> Result<(), SessionEnd> {
        let doc = match got {
            Received::Document(d) => d,
            Received::Gone { why } => {
                self.em
                    .emit(EventKind::Malformed {
                        what: why,
                        raw: String::new(),
                    })
                    .await;
                return Ok(());
            }
            Received::Bad { why, head } => {
                self.em
                    .emit(EventKind::Malformed {
                        what: why,
                        raw: String::from_utf8_lossy(&head).into_owned(),
                    })
                    .await;
                return Ok(());
            }
        };
        let ev = match event::decode(&doc) {
            Ok(ev) => ev,
            Err(e) => {
                self.em
                    .emit(EventKind::Malformed {
                        what: format!("a document that is not a DaemonEvent: {e}"),
                        raw: String::from_utf8_lossy(&doc[..doc.len().min(4096)]).into_owned(),
                    })
                    .await;
                return Ok(());
            }
        };
        self.meter.message_in();
        self.on_event(ev, doc.len()).await
    }

    async fn bad(&self, ev: &DaemonEvent, e: impl std::fmt::Display) {
        self.em
            .emit(EventKind::Malformed {
                what: format!("{}: {e}", ev.ty.name()),
                raw: ev.data.clone().unwrap_or_default().chars().take(4096).collect(),
            })
            .await;
    }

    async fn on_event(&mut self, ev: DaemonEvent, bytes: usize) -> Result<(), SessionEnd> {
        match &ev.ty {
            Type::Ping => {
                // At once, to the ping's own path (the daemon's), as the
                // daemon drops a client that misses one.
                let to = PathBuf::from(&ev.path);
                if let Err(e) = self.send(&to, Type::Pong, None).await {
                    self.log(
                        Level::Warn,
                        "tracim",
                        format!("a ping came but the pong could not go to {}: {e}", ev.path),
                        None,
                    )
                    .await;
                } else {
                    self.p.pings += 1;
                    self.p.last_ping = Some(crate::event::now_ms());
                    self.log(Level::Debug, "tracim", "ping: pong sent".into(), None)
                        .await;
                    self.facts().await;
                }
            }
            Type::Pong => {
                let rtt = self.ping_sent.take().map(|t| t.elapsed());
                if let Some(rtt) = rtt {
                    self.em.emit(EventKind::Rtt(rtt)).await;
                }
                self.log(
                    Level::Debug,
                    "tracim",
                    match rtt {
                        Some(r) => format!("pong in {:.1} ms", r.as_secs_f64() * 1000.0),
                        None => "pong".into(),
                    },
                    None,
                )
                .await;
            }
            Type::AccountInfo => match event::parse_user_id(ev.data.as_deref()) {
                Ok(user) => {
                    self.p.user_id = Some(user.clone());
                    if !self.registered {
                        self.registered = true;
                        self.em
                            .conn(ConnState::Connected {
                                session: Some(format!("user {user}")),
                            })
                            .await;
                    }
                    self.log(
                        Level::Debug,
                        "tracim",
                        format!("registered: the daemon serves user {user}"),
                        ev.data.clone(),
                    )
                    .await;
                    self.facts().await;
                }
                Err(e) => self.bad(&ev, e).await,
            },
            Type::ClientAdded | Type::ClientDeleted => match Client::parse(ev.data.as_deref()) {
                Ok(c) => {
                    let added = ev.ty == Type::ClientAdded;
                    self.client_row(&c, added).await;
                    let us = c.path == own_path(self.cfg);
                    self.log(
                        Level::Debug,
                        "tracim",
                        format!(
                            "client {} {} (pid {}){}",
                            if added { "added" } else { "deleted" },
                            c.path,
                            c.pid,
                            if us { ": us" } else { "" }
                        ),
                        ev.data.clone(),
                    )
                    .await;
                }
                Err(e) => self.bad(&ev, e).await,
            },
            Type::Clients => match event::parse_clients(ev.data.as_deref()) {
                Ok(list) => {
                    for c in &list {
                        self.client_row(c, true).await;
                    }
                    let paths: Vec<String> =
                        list.iter().map(|c| format!("{} ({})", c.path, c.pid)).collect();
                    self.log(
                        Level::Info,
                        "tracim",
                        format!("{} clients: {}", list.len(), paths.join(", ")),
                        ev.data.clone(),
                    )
                    .await;
                }
                Err(e) => self.bad(&ev, e).await,
            },
            Type::TracimEvent => self.on_tlm(&ev, bytes).await,
            Type::Ack => {
                self.log(
                    Level::Debug,
                    "tracim",
                    "daemon_ack: the daemon took what we sent".into(),
                    None,
                )
                .await;
            }
            Type::RequestResult => {
                self.log(
                    Level::Info,
                    "tracim",
                    "daemon_request_result".into(),
                    ev.data.clone(),
                )
                .await;
            }
            other => {
                self.log(
                    Level::Info,
                    "tracim",
                    format!("an event of type {} (kept as it is)", other.name()),
                    ev.data.clone(),
                )
                .await;
            }
        }
        Ok(())
    }

    async fn client_row(&self, c: &Client, added: bool) {
        let channel = format!("client:{}", c.path);
        let update = if added {
            ChannelUpdate::Available {
                facts: vec![
                    ("pid".into(), c.pid.clone()),
                    ("path".into(), c.path.clone()),
                ],
                state: None,
            }
        } else {
            ChannelUpdate::Left
        };
        self.em
            .emit(EventKind::ChannelState { channel, update })
            .await;
    }

    async fn on_tlm(&self, ev: &DaemonEvent, bytes: usize) {
        let text = match event::tlm_text(ev.data.as_deref()) {
            Ok(t) => t,
            Err(e) => return self.bad(ev, e).await,
        };
        let t = match tlm::decode(&text) {
            Ok(t) => t,
            Err(e) => {
                self.em
                    .emit(EventKind::Malformed {
                        what: format!("daemon_tracim_event: {e}"),
                        raw: text.chars().take(4096).collect(),
                    })
                    .await;
                return;
            }
        };
        self.meter.channel(&t.event_type, bytes);
        let mut summary = t.summary();
        if bytes > SDK_READ {
            // Said where it matters: the SDKs lose these.
            summary += &format!(" · {:.1} kB whole", bytes as f64 / 1000.0);
        }
        let record = EventKind::Log(LogRecord {
            level: Level::Info,
            kind: t.kind(),
            summary,
            data: Some(text),
            bytes: None,
        });
        match t.created_ms {
            Some(at) => self.em.emit_at(at, record).await,
            None => self.em.emit(record).await,
        };
    }
}
