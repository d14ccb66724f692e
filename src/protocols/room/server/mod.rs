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
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::event::{ConnState, EventKind, Level, LogRecord, PeerRow};
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
        }
    }
}

/// Packets of one message, written back to back.
type Out = Vec<Vec<u8>>;

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
    /// Which generation it spoke ("current", "legacy", "?").
    generation: &'static str,
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
    em: Option<Emitter>,
    next_conn: AtomicU64,
    addr: SocketAddr,
    /// Upgrades refused for their `Origin` or `Host`.
    refused: crate::guard::Refused,
}

impl Hub {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notice(&self, level: Level, kind: &str, summary: String) {
        if let Some(em) = &self.em {
            em.try_emit(EventKind::Log(LogRecord {
                level,
                kind: kind.to_string(),
                summary,
                data: None,
            }));
        }
    }

    fn report_peers(&self) {
        let Some(em) = &self.em else { return };
        let mut rows: Vec<PeerRow> = {
            let st = self.state();
            st.peers
                .iter()
                .map(|(id, p)| PeerRow {
                    id: format!("{} ({})", p.participant, id),
                    addr: p.addr.clone(),
                    role: "participant".into(),
                    proto: p.generation.into(),
                    name: Some(format!("{} in {}", p.name, p.room)),
                    instances: Vec::new(),
                    dropped: p.dropped,
                })
                .collect()
        };
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        em.try_emit(EventKind::Peers(rows));
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
        if p.tx.try_send(codec::encode(id, kind, data)).is_err() {
            p.dropped += 1;
            // Too slow to keep: a reply must never be dropped quietly.
            // Dropping its sender ends the connection task.
            if let Some(p) = st.peers.remove(&conn) {
                self.notice(
                    Level::Warn,
                    "room",
                    format!(
                        "{} ({}) disconnected: it did not read its {} queued messages",
                        p.name, p.participant, self.cfg.queue
                    ),
                );
            }
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
    closing: tokio::sync::watch::Sender<bool>,
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
        let hub = Arc::new(Hub {
            cfg,
            st: Mutex::new(State::default()),
            em: notices,
            next_conn: AtomicU64::new(1),
            addr,
            refused: Default::default(),
        });
        if let Some(em) = &hub.em {
            em.try_emit(EventKind::Conn(ConnState::Connected {
                session: Some(format!("listening on {addr}")),
            }));
        }
        let (closing, _) = tokio::sync::watch::channel(false);
        let h = hub.clone();
        let c = closing.clone();
        let accept = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((tcp, peer)) => {
                        let _ = tcp.set_nodelay(true);
                        tokio::spawn(conn::serve_conn(h.clone(), tcp, peer, c.subscribe()));
                    }
                    Err(e) => {
                        h.notice(Level::Warn, "room", format!("accept failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(RoomServer {
            hub,
            tasks: vec![accept],
            closing,
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
        self.closing.send_replace(true);
    }
}
