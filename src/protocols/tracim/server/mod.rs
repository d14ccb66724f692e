//! roomtap's own TracimDaemon (the Go daemon needs a live Tracim server and
//! is on no registry): it behaves as `handlers.go` does, on the server
//! kit's hub core over Unix sockets, one document per connection both ways.
//!
//! * `daemon_client_add` registers or refreshes the client named by its
//!   data's `path`, answers `daemon_account_info` to it, and, for a new
//!   client only, broadcasts `daemon_client_added` to every client (the new
//!   one included);
//! * `daemon_client_delete` removes the client named by the event's `path`
//!   and broadcasts `daemon_client_deleted` (the request's data) to the
//!   others; no answer;
//! * `daemon_ping` → `daemon_pong`; `daemon_pong` marks the client alive
//!   and is acked; `daemon_ack` → nothing; `daemon_get_clients` and
//!   `daemon_get_account_info` → their replies; any other type → ack;
//! * every round (30 s in the Go daemon) it first drops the clients that
//!   have not ponged since the last round, then pings everyone;
//! * `tracim_event` broadcasts a Tracim live message to every client.
//!
//! Each client's documents go out in order on connections of their own,
//! from a queue of its own (a client that does not take them loses them,
//! counted), so one dead client never holds the others up.

pub mod source;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::event::{Dialect, Level, PeerRole, PeerRow};
use crate::link::unix::{self, Received};
use crate::protocols::tracim::wire::event::{self, Client, DaemonEvent, Type};
use crate::serve::Core;
use crate::source::Emitter;

#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Where it listens (the clients' master socket).
    pub socket: PathBuf,
    /// The Tracim user it serves (`daemon_account_info`).
    pub user_id: String,
    /// Its ping round: a client that has not ponged since the last round
    /// is dropped, then everyone is pinged.
    pub round: Duration,
    /// Most clients registered at once.
    pub max_clients: usize,
    /// The largest document taken from a client.
    pub max_document: usize,
    /// Documents queued per client before they are dropped (counted).
    pub queue: usize,
    /// How long sending one document to a client may take.
    pub send_timeout: Duration,
}

impl DaemonConfig {
    pub fn new(socket: &Path) -> DaemonConfig {
        DaemonConfig {
            socket: socket.to_path_buf(),
            user_id: "42".into(),
            round: Duration::from_secs(30),
            max_clients: 1024,
            max_document: 1 << 20,
            queue: 1024,
            send_timeout: Duration::from_secs(5),
        }
    }
}

struct Peer {
    pid: String,
    /// Ponged since the last round.
    alive: bool,
    /// Documents to it, in order.
    tx: mpsc::Sender<String>,
    dropped: u64,
}

const RECEIVED_CAP: usize = 1024;

#[derive(Default)]
struct State {
    clients: BTreeMap<String, Peer>,
    /// (sender's path, type) of what clients sent, the last ones.
    received: VecDeque<(String, String)>,
}

struct Hub {
    cfg: DaemonConfig,
    core: Arc<Core>,
    st: Mutex<State>,
    /// Bumped on every change tests may wait for.
    changes: watch::Sender<u64>,
    /// Replies to paths that are not registered, on their way (bounded).
    replies: Arc<tokio::sync::Semaphore>,
}

/// Replies to unregistered paths sending at once, at most: each may wait
/// for its peer up to the send timeout.
const REPLIES_IN_FLIGHT: usize = 64;

impl Hub {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn me(&self) -> String {
        self.cfg.socket.to_string_lossy().into_owned()
    }

    fn doc(&self, ty: Type, data: Option<&str>) -> String {
        event::encode(&self.me(), &ty, data)
    }

    /// Queue a document to a registered client.
    fn send_to(&self, st: &mut State, path: &str, doc: String) -> bool {
        let Some(p) = st.clients.get_mut(path) else {
            return false;
        };
        if p.tx.try_send(doc).is_ok() {
            return true;
        }
        p.dropped += 1;
        self.core.tally("dropped (client queue full)", Level::Warn, |n| {
            format!("{path} does not take its documents: one dropped ({n} so far)")
        });
        false
    }

    /// A document to a path that may not be registered (a reply to a
    /// request), on its own connection.
    fn reply(&self, path: &str, doc: String) {
        let mut st = self.state();
        if st.clients.contains_key(path) {
            self.send_to(&mut st, path, doc);
            return;
        }
        drop(st);
        let Ok(permit) = self.replies.clone().try_acquire_owned() else {
            self.core.tally("unsent (replies in flight)", Level::Warn, |n| {
                format!(
                    "{path}: no reply, {REPLIES_IN_FLIGHT} are already on their way ({n} so far)"
                )
            });
            return;
        };
        let (to, within, meter) = (
            PathBuf::from(path),
            self.cfg.send_timeout,
            self.core.meter.clone(),
        );
        tokio::spawn(async move {
            if unix::send(&to, doc.as_bytes(), within).await.is_ok() {
                meter.frame_out(doc.len());
            }
            drop(permit);
        });
    }

    fn broadcast(&self, doc: &str, skip: Option<&str>) -> usize {
        let mut st = self.state();
        let paths: Vec<String> = st
            .clients
            .keys()
            .filter(|p| Some(p.as_str()) != skip)
            .cloned()
            .collect();
        paths
            .iter()
            .filter(|p| self.send_to(&mut st, p, doc.to_string()))
            .count()
    }

    /// A client's sender: its documents, in order, each on a connection.
    fn peer(&self, path: &str, pid: &str) -> Peer {
        let (tx, mut rx) = mpsc::channel::<String>(self.cfg.queue.max(1));
        let (to, within, core) = (
            PathBuf::from(path),
            self.cfg.send_timeout,
            self.core.clone(),
        );
        tokio::spawn(async move {
            while let Some(doc) = rx.recv().await {
                match unix::send(&to, doc.as_bytes(), within).await {
                    Ok(()) => {
                        core.meter.frame_out(doc.len());
                        core.meter.message_out();
                    }
                    Err(e) => core.tally("unsent (client unreachable)", Level::Debug, |n| {
                        format!("{}: a document could not go: {e} ({n} so far)", to.display())
                    }),
                }
            }
        });
        Peer {
            pid: pid.to_string(),
            alive: true,
            tx,
            dropped: 0,
        }
    }

    fn peers(&self) -> Vec<PeerRow> {
        let st = self.state();
        st.clients
            .iter()
            .map(|(path, p)| PeerRow {
                id: path.clone(),
                addr: format!("pid {}", p.pid),
                role: PeerRole::Client,
                proto: Dialect::Unknown,
                name: Some(if p.alive { "alive" } else { "ping pending" }.into()),
                instances: Vec::new(),
                dropped: p.dropped,
            })
            .collect()
    }

    fn on_received(&self, got: Received) {
        let doc = match got {
            Received::Document(d) => d,
            Received::Gone { why } => {
                self.core.malformed(why, "");
                return;
            }
            Received::Bad { why, head } => {
                self.core
                    .malformed(why, &String::from_utf8_lossy(&head));
                return;
            }
        };
        let ev = match event::decode(&doc) {
            Ok(ev) => ev,
            Err(e) => {
                self.core.malformed(
                    format!("a document that is not a DaemonEvent: {e}"),
                    &String::from_utf8_lossy(&doc[..doc.len().min(4096)]),
                );
                return;
            }
        };
        self.core.meter.message_in();
        {
            let mut st = self.state();
            if st.received.len() >= RECEIVED_CAP {
                st.received.pop_front();
            }
            st.received
                .push_back((ev.path.clone(), ev.ty.name().to_string()));
        }
        self.handle(ev);
        self.changed();
    }

    fn handle(&self, ev: DaemonEvent) {
        match &ev.ty {
            Type::ClientAdd => match Client::parse(ev.data.as_deref()) {
                Ok(c) => self.add(c),
                Err(e) => self
                    .core
                    .notice(Level::Warn, format!("{}: daemon_client_add ignored: {e}", ev.path)),
            },
            Type::ClientDelete => {
                let gone = self.state().clients.remove(&ev.path);
                match gone {
                    Some(_) => {
                        self.core.notice(
                            Level::Info,
                            format!("{} unregistered", ev.path),
                        );
                        let data = ev.data.as_deref().unwrap_or("null");
                        let doc = self.doc(Type::ClientDeleted, Some(data));
                        self.broadcast(&doc, None);
                    }
                    None => self.core.notice(
                        Level::Debug,
                        format!("{} unregistered, but it was not registered", ev.path),
                    ),
                }
            }
            Type::Ping => self.reply(&ev.path, self.doc(Type::Pong, None)),
            Type::Pong => {
                if let Some(p) = self.state().clients.get_mut(&ev.path) {
                    p.alive = true;
                }
                self.reply(&ev.path, self.doc(Type::Ack, None));
            }
            Type::Ack => {}
            Type::GetClients => {
                let list: Vec<Client> = self
                    .state()
                    .clients
                    .iter()
                    .map(|(path, p)| Client {
                        path: path.clone(),
                        pid: p.pid.clone(),
                    })
                    .collect();
                let data = serde_json::to_string(&list).unwrap_or_else(|_| "[]".into());
                self.reply(&ev.path, self.doc(Type::Clients, Some(&data)));
            }
            Type::GetAccountInfo => self.reply(&ev.path, self.account_info()),
            other => {
                self.core.notice(
                    Level::Debug,
                    format!(
                        "{} sent {}: acked (not a request this daemon serves)",
                        ev.path,
                        crate::text::sanitize_capped(other.name(), 60)
                    ),
                );
                self.reply(&ev.path, self.doc(Type::Ack, None));
            }
        }
    }

    fn account_info(&self) -> String {
        let data = serde_json::json!({ "user_id": self.cfg.user_id }).to_string();
        self.doc(Type::AccountInfo, Some(&data))
    }

    fn add(&self, c: Client) {
        let fresh = {
            let mut st = self.state();
            let held = st.clients.len();
            match st.clients.get_mut(&c.path) {
                Some(p) => {
                    p.pid.clone_from(&c.pid);
                    p.alive = true;
                    false
                }
                None if held >= self.cfg.max_clients => {
                    drop(st);
                    self.core.tally("refused (client limit)", Level::Warn, |n| {
                        format!(
                            "{} not registered: the daemon holds {} clients ({n} refused so far)",
                            c.path, self.cfg.max_clients
                        )
                    });
                    return;
                }
                None => {
                    let peer = self.peer(&c.path, &c.pid);
                    st.clients.insert(c.path.clone(), peer);
                    true
                }
            }
        };
        {
            let mut st = self.state();
            self.send_to(&mut st, &c.path, self.account_info());
        }
        if fresh {
            self.core.notice(
                Level::Info,
                format!("{} registered (pid {})", c.path, c.pid),
            );
            self.broadcast(&self.doc(Type::ClientAdded, Some(&c.to_json())), None);
        } else {
            self.core
                .notice(Level::Debug, format!("{} registered again", c.path));
        }
    }

    /// One round: drop who has not ponged since the last, ping everyone.
    fn round(&self) {
        let dropped: Vec<String> = {
            let mut st = self.state();
            let dead: Vec<String> = st
                .clients
                .iter()
                .filter(|(_, p)| !p.alive)
                .map(|(k, _)| k.clone())
                .collect();
            for d in &dead {
                st.clients.remove(d);
            }
            for p in st.clients.values_mut() {
                p.alive = false;
            }
            dead
        };
        for d in &dropped {
            self.core.tally("dropped (no pong)", Level::Info, |n| {
                format!("{d} did not answer the last ping: dropped ({n} so far)")
            });
        }
        self.broadcast(&self.doc(Type::Ping, None), None);
        self.changed();
    }
}

/// A running daemon. Dropping it stops it and removes its socket file.
pub struct Daemon {
    hub: Arc<Hub>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Daemon {
    /// Listen on the config's socket and serve; `em` (optional) receives
    /// its notices, traffic and client list as a source's events.
    pub async fn start(cfg: DaemonConfig, em: Option<Emitter>) -> std::io::Result<Daemon> {
        if let Some(dir) = cfg.socket.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let listener = unix::listen(&cfg.socket).await?;
        let core = Arc::new(Core::new("tracim", cfg.max_clients, em));
        let (changes, _) = watch::channel(0);
        let hub = Arc::new(Hub {
            cfg,
            core: core.clone(),
            st: Mutex::new(State::default()),
            changes,
            replies: Arc::new(tokio::sync::Semaphore::new(REPLIES_IN_FLIGHT)),
        });
        if let Some(em) = core.emitter() {
            em.try_emit(crate::event::EventKind::Conn(
                crate::event::ConnState::Connected {
                    session: Some(format!("listening on {}", hub.cfg.socket.display())),
                },
            ));
        }
        let (tx, mut rx) = mpsc::channel(unix::QUEUED);
        let reader = unix::inbox(
            listener,
            hub.cfg.max_document,
            unix::READ_TIMEOUT,
            core.meter.clone(),
            tx,
        );
        let h = hub.clone();
        let handler = tokio::spawn(async move {
            while let Some(got) = rx.recv().await {
                h.on_received(got);
            }
        });
        let h = hub.clone();
        let rounds = tokio::spawn(async move {
            let mut tick =
                tokio::time::interval_at(tokio::time::Instant::now() + h.cfg.round, h.cfg.round);
            loop {
                tick.tick().await;
                h.round();
            }
        });
        let h = hub.clone();
        let reporter = core.reporter(move || h.peers());
        Ok(Daemon {
            hub,
            tasks: vec![reader, handler, rounds, reporter],
        })
    }

    /// Its socket (the clients' master socket).
    pub fn socket(&self) -> &Path {
        &self.hub.cfg.socket
    }

    /// Broadcast a Tracim live message (its JSON text) to every client;
    /// returns how many it was queued to.
    pub fn tracim_event(&self, tlm: &str) -> usize {
        let data = event::go_string(tlm);
        self.hub
            .broadcast(&self.hub.doc(Type::TracimEvent, Some(&data)), None)
    }

    /// A round now (drop who did not pong, ping everyone).
    pub fn round_now(&self) {
        self.hub.round();
    }

    /// The registered clients (path, pid), by path.
    pub fn clients(&self) -> Vec<(String, String)> {
        self.hub
            .state()
            .clients
            .iter()
            .map(|(k, p)| (k.clone(), p.pid.clone()))
            .collect()
    }

    /// What clients sent, oldest first (the last 1024): (path, type).
    pub fn received(&self) -> Vec<(String, String)> {
        self.hub.state().received.iter().cloned().collect()
    }

    /// How many of `what` (`dropped (no pong)`…) so far.
    pub fn tallied(&self, what: &'static str) -> u64 {
        self.hub.core.tallied(what)
    }

    /// A receiver that changes whenever a client sends something or a
    /// round passes (tests wait on it instead of sleeping).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.hub.changes.subscribe()
    }

    /// Wait (at most `timeout`) until `cond(self)` holds; whether it did.
    pub async fn wait_until(&self, timeout: Duration, cond: impl Fn(&Daemon) -> bool) -> bool {
        crate::serve::wait_until(self.changes(), timeout, || cond(self)).await
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.hub.core.close_all();
        let _ = std::fs::remove_file(&self.hub.cfg.socket);
    }
}

impl crate::serve::source::Server for Daemon {
    type Config = DaemonConfig;
    fn kind() -> crate::source::SourceKind {
        crate::protocols::tracim::SERVER
    }
    fn label() -> &'static str {
        "tracim d"
    }
    fn planned_url(cfg: &DaemonConfig) -> String {
        format!("unix:{}", cfg.socket.display())
    }
    fn secrets(_: &DaemonConfig) -> Vec<String> {
        Vec::new()
    }
    async fn start(cfg: DaemonConfig, em: Option<Emitter>) -> std::io::Result<Daemon> {
        Daemon::start(cfg, em).await
    }
    fn url(&self) -> String {
        format!("unix:{}", self.hub.cfg.socket.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replies_to_unregistered_paths_are_bounded() {
        let d = std::env::temp_dir().join(format!("rt-tdaemon-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let daemon = Daemon::start(DaemonConfig::new(&d.join("m.sock")), None)
            .await
            .unwrap();
        // A peer that never accepts: every reply to it waits.
        let stuck = d.join("stuck.sock");
        let _l = unix::backlog_of_one(&stuck);
        let ping = event::encode(&stuck.to_string_lossy(), &Type::Ping, None);
        let n = REPLIES_IN_FLIGHT + 20;
        for _ in 0..n {
            unix::send(&d.join("m.sock"), ping.as_bytes(), Duration::from_secs(5))
                .await
                .unwrap();
        }
        assert!(
            daemon
                .wait_until(Duration::from_secs(10), |d| d.received().len() == n)
                .await
        );
        // Two fit the stuck peer's queue; 64 wait; the rest are refused, counted.
        assert!(daemon.tallied("unsent (replies in flight)") >= 1);
        assert!(daemon.tallied("unsent (replies in flight)") <= (n - REPLIES_IN_FLIGHT) as u64);
        let _ = std::fs::remove_dir_all(&d);
    }
}
