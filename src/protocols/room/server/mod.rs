//! roomtap's MeshAgent room server, for tests and the demo: what the real
//! clients need for developer logs, following the captured frames
//! (`../shared/research/meshagent.md` §6).
//!
//! * WebSocket at `/rooms/{name}`; the token comes from `Authorization:
//!   Bearer` or `?token=`; with a secret it must be a valid HS256 JWT for
//!   that room, else HTTP 403 (the clients then stop retrying).
//! * `room_ready` then `connected` (`init`) right after the upgrade.
//! * `__response__` with the request's id for every request except
//!   `set_attributes`; errors as `error` contents with a code.
//! * Developer logs, both generations: the toolkit (`room.invoke_tool`
//!   developer/`logs` stream opened and closed with control chunks, `log`,
//!   `info`/`warning`/`error`) and legacy `developer.watch` / `unwatch` /
//!   `log` with the pushed `developer.log`.
//! * WebSocket pings are answered; only binary frames are sent.

mod admit;
mod conn;
mod handle;
pub mod source;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::event::{Dialect, Level, PeerRole, PeerRow};
use crate::serve::Core;
use crate::source::Emitter;
use crate::protocols::room::wire::codec;
use crate::protocols::room::wire::token;

#[derive(Debug, Clone)]
pub struct RoomServerConfig {
    pub bind: SocketAddr,
    /// HS256 secret tokens must be signed with; `None` accepts any token.
    pub secret: Option<token::Secret>,
    /// Largest message accepted (bytes of data).
    pub max_message: usize,
    /// Serve the developer toolkit (current clients).
    pub toolkit: bool,
    /// Serve `developer.watch` / `unwatch` / `log` (legacy clients).
    pub legacy: bool,
    /// Messages queued per client before it is dropped as too slow.
    pub queue: usize,
    /// Developer log streams one client may hold open.
    pub max_streams: usize,
    /// Which `Origin` and `Host` it admits (see `crate::guard`).
    pub guard: crate::guard::Guard,
    /// How long a client may take to finish the WebSocket handshake.
    pub handshake_timeout: std::time::Duration,
    /// Most participants at once (more: HTTP 503).
    pub max_conns: usize,
    /// A participant that sends nothing, not even a pong to the server's
    /// pings (every `ping_every`), this long is dropped.
    pub idle_timeout: Duration,
    pub ping_every: Duration,
    /// A message begun must be complete within this (pings do not count).
    pub assembly_timeout: Duration,
}

impl Default for RoomServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret: None,
            max_message: 1 << 20,
            toolkit: true,
            legacy: true,
            queue: 4096,
            max_streams: 8,
            guard: crate::guard::Guard::default(),
            handshake_timeout: std::time::Duration::from_secs(10),
            max_conns: 1024,
            idle_timeout: Duration::from_secs(60),
            ping_every: Duration::from_secs(20),
            assembly_timeout: Duration::from_secs(30),
        }
    }
}

/// One packet of a message (a message's packets are queued together).
type Out = Vec<u8>;

struct Peer {
    room: String,
    name: String,
    participant: String,
    addr: String,
    tx: mpsc::Sender<Out>,
    /// Legacy `developer.watch` is on.
    legacy_watch: bool,
    /// Open developer `logs` streams (tool call ids).
    streams: HashSet<String>,
    /// Which generation it spoke.
    generation: Dialect,
    /// Messages dropped because it did not keep up.
    dropped: u64,
    next_push: u64,
}

#[derive(Default)]
struct State {
    peers: HashMap<u64, Peer>,
}

struct Hub {
    cfg: RoomServerConfig,
    st: Mutex<State>,
    /// Notices, traffic, connection ids and limits, refusals, peers.
    core: Arc<Core>,
    addr: SocketAddr,
}

impl Hub {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notice(&self, level: Level, summary: String) {
        self.core.notice(level, summary);
    }

    /// The participants as the Connections pane lists them.
    fn peers(&self) -> Vec<PeerRow> {
        let mut rows: Vec<PeerRow> = {
            let st = self.state();
            st.peers
                .iter()
                .map(|(id, p)| PeerRow {
                    id: format!("{} ({})", p.participant, id),
                    addr: p.addr.clone(),
                    role: PeerRole::Participant,
                    proto: p.generation,
                    name: Some(format!("{} in {}", p.name, p.room)),
                    instances: Vec::new(),
                    dropped: p.dropped,
                })
                .collect()
        };
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    }

    /// Say the participants now (and the traffic, and the facts).
    fn report_peers(&self) {
        self.core.report(self.peers());
    }

    /// Queue a message to one peer (a full queue drops it, counted).
    fn send_to(&self, st: &mut State, conn: u64, id: Option<u64>, kind: &str, data: &[u8]) {
        let Some(p) = st.peers.get_mut(&conn) else {
            return;
        };
        let id = id.unwrap_or_else(|| {
            p.next_push += 1;
            p.next_push
        });
        let packets = codec::encode(id, kind, data);
        // A message's packets go together, or not at all.
        let sent = match p.tx.try_reserve_many(packets.len()) {
            Ok(permits) => {
                for (permit, packet) in permits.zip(packets) {
                    permit.send(packet);
                }
                true
            }
            Err(_) => false,
        };
        if sent {
            self.core.meter.message_out();
            return;
        }
        p.dropped += 1;
        // Too slow to keep: a reply must never be dropped quietly.
        // Dropping its sender ends the connection task.
        if let Some(p) = st.peers.remove(&conn) {
            self.core.tally("dropped (too slow)", Level::Warn, |n| {
                format!(
                    "{} ({}) disconnected: it did not read its {} queued messages ({n} dropped so far)",
                    p.name, p.participant, self.cfg.queue
                )
            });
        }
    }

    /// A developer log event to everyone watching in `room`.
    fn publish(&self, room: &str, ty: &str, data: &Value) -> usize {
        let payload = serde_json::to_vec(data).unwrap_or_else(|_| b"{}".to_vec());
        let legacy = codec::pack(&json!({"type": ty, "data": data}).to_string(), &[]);
        let mut st = self.state();
        let targets: Vec<(u64, bool, Vec<String>)> = st
            .peers
            .iter()
            .filter(|(_, p)| p.room == room)
            .map(|(id, p)| (*id, p.legacy_watch, p.streams.iter().cloned().collect()))
            .collect();
        let mut delivered = 0;
        self.core.meter.channel(room, payload.len());
        for (conn, legacy_watch, streams) in targets {
            if legacy_watch {
                self.send_to(&mut st, conn, None, "developer.log", &legacy);
                delivered += 1;
            }
            for tc in streams {
                let head = json!({
                    "tool_call_id": tc,
                    "chunk": {"type": "binary", "headers": {"type": ty}},
                });
                let data = codec::pack(&head.to_string(), &payload);
                self.send_to(&mut st, conn, None, "room.tool_call_response_chunk", &data);
                delivered += 1;
            }
        }
        delivered
    }
}

/// A running room server. Dropping it stops it and closes every client.
pub struct RoomServer {
    hub: Arc<Hub>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RoomServer {
    /// Bind and serve. `notices` (optional) receives connection notices and
    /// the participant list as events of a source.
    pub async fn start(
        cfg: RoomServerConfig,
        notices: Option<Emitter>,
    ) -> std::io::Result<RoomServer> {
        let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let core = Arc::new(Core::new("room", cfg.max_conns, notices));
        let hub = Arc::new(Hub {
            cfg,
            st: Mutex::new(State::default()),
            core: core.clone(),
            addr,
        });
        core.listening(addr);
        let h = hub.clone();
        let accept = crate::serve::ws::accept(core.clone(), listener, move |tcp, peer| {
            conn::serve_conn(h.clone(), tcp, peer)
        });
        let h = hub.clone();
        let reporter = core.reporter(move || h.peers());
        Ok(RoomServer {
            hub,
            tasks: vec![accept, reporter],
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.hub.addr
    }

    /// `ws://ADDR/rooms/NAME`.
    pub fn url(&self, room: &str) -> String {
        format!("ws://{}/rooms/{room}", self.hub.addr)
    }

    /// Emit a developer log in `room` as an agent would; returns how many
    /// watchers (streams and legacy watchers) it went to.
    pub fn publish(&self, room: &str, ty: &str, data: &Value) -> usize {
        self.hub.publish(room, ty, data)
    }

    /// Push `room.status` to everyone in `room`.
    pub fn push_status(&self, room: &str, status: &str, message: &str) {
        let data = codec::pack(
            &json!({"status": status, "message": message}).to_string(),
            &[],
        );
        let mut st = self.hub.state();
        let conns: Vec<u64> = st
            .peers
            .iter()
            .filter(|(_, p)| p.room == room)
            .map(|(id, _)| *id)
            .collect();
        for c in conns {
            self.hub.send_to(&mut st, c, None, "room.status", &data);
        }
    }

    /// Participants connected (name, room), for tests.
    pub fn participants(&self) -> Vec<(String, String)> {
        let st = self.hub.state();
        let mut v: Vec<_> = st
            .peers
            .values()
            .map(|p| (p.name.clone(), p.room.clone()))
            .collect();
        v.sort();
        v
    }

    /// Open developer-log watchers in `room` (streams + legacy watchers).
    pub fn watchers(&self, room: &str) -> usize {
        let st = self.hub.state();
        st.peers
            .values()
            .filter(|p| p.room == room)
            .map(|p| p.streams.len() + usize::from(p.legacy_watch))
            .sum()
    }
}

impl Drop for RoomServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.hub.core.close_all();
    }
}

impl crate::serve::source::Server for RoomServer {
    type Config = RoomServerConfig;
    fn kind() -> crate::source::SourceKind {
        crate::protocols::room::SERVER
    }
    fn label() -> &'static str {
        "room srv"
    }
    fn planned_url(cfg: &RoomServerConfig) -> String {
        format!("ws://{}/rooms/NAME", cfg.bind)
    }
    fn elsewhere(cfg: &RoomServerConfig) -> Option<RoomServerConfig> {
        Some(crate::serve::source::any_port(cfg, |c| &mut c.bind))
    }
    fn secrets(cfg: &RoomServerConfig) -> Vec<String> {
        cfg.secret.iter().map(|s| s.expose().to_string()).collect()
    }
    async fn start(cfg: RoomServerConfig, em: Option<Emitter>) -> std::io::Result<RoomServer> {
        RoomServer::start(cfg, em).await
    }
    fn url(&self) -> String {
        RoomServer::url(self, "NAME")
    }
}
