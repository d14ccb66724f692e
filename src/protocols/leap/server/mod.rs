//! roomtap's own Leap Edge server (Hop's is closed source), for tests and
//! the demo: what the real clients (`@onehop/leap-edge-js` 1.0.11,
//! `leap_client_rs` 0.1.5) need, following the captured frames
//! (`../shared/research/leap-tracim-legume.md` §1, `captures/leap/`).
//!
//! * WebSocket at `/ws` (any query); `Origin`/`Host` checked first
//!   ([`crate::guard`], HTTP 403), any other path HTTP 404.
//! * HELLO `{heartbeat_interval}` right after the upgrade; IDENTIFY within
//!   `identify_timeout` (else close 4002) → INIT `{cid, connection_count,
//!   metadata, scope, channels}`; a wrong project or token → close 4001
//!   (every client stops retrying on it).
//! * Heartbeats `{"op":3}` / `{"op":3,"d":{"tag"}}` → HEARTBEAT_ACK with the
//!   tag echoed and `latency: 0`; the server's own tagged heartbeat
//!   ([`LeapServer::heartbeat_all`]) is echoed by the clients, and acked.
//! * Service events in: SUBSCRIBE (AVAILABLE; UNAVAILABLE `NOT_GRANTED` for
//!   a private channel without a token scope, `UNKNOWN` for a channel never
//!   added: this server does not create channels on subscribe),
//!   UNSUBSCRIBE (no reply), MESSAGE (to every *other* subscriber; nothing
//!   back to the sender, as client-js expects), SET_CHANNEL_STATE (state
//!   replaced, STATE_UPDATE to every subscriber *including* the sender),
//!   PIPE_ROOM_SUBSCRIBE (PIPE_ROOM_AVAILABLE or PIPE_ROOM_UNAVAILABLE
//!   `NOT_GRANTED`), PIPE_ROOM_UNSUBSCRIBE. MESSAGE and SET_CHANNEL_STATE
//!   are taken only from a subscriber of the channel (and a state must be
//!   an object); anything else is ignored with a notice, as is a second
//!   IDENTIFY and an unknown event. What Hop's server answers to
//!   UNSUBSCRIBE, MESSAGE and SET_CHANNEL_STATE is not known (no source):
//!   these are this server's choices.
//! * No liveness timeout of its own: a client that stops heartbeating stays
//!   until it closes (Hop's timeout and close code are not known).
//! * Service events before INIT → close 4003; a frame that is not a Leap
//!   frame, or bigger than `max_frame` → close 4005; an op a client does not
//!   send (HELLO, ACK, unknown) → close 4004.
//! * Text frames, unless the URL asked for `compression=zlib`: then every
//!   frame is binary, one complete zlib stream (the JS client cannot read
//!   binary at all, so it is never sent unasked).
//!
//! It reports only through an [`Emitter`]: a notice for every connection,
//! identify, refusal and close (tokens never: "token ok" / "invalid
//! token"), and the connection list as [`EventKind::Peers`].

mod conn;
mod handle;
pub mod source;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::event::{ConnState, Dialect, EventKind, Level, PeerRole, PeerRow};
use crate::serve::{Budget, Core};
use crate::secret::Secret;
use crate::source::Emitter;
use crate::protocols::leap::wire::codec::{self, Dispatch, Frame};

#[derive(Debug, Clone)]
pub struct LeapServerConfig {
    pub bind: SocketAddr,
    /// The project served; IDENTIFY with another → close 4001.
    pub project: String,
    /// Tokens accepted; empty: any token (scope `token`).
    pub tokens: Vec<Secret>,
    /// IDENTIFY without a token → scope `project`; false → close 4001.
    pub allow_no_token: bool,
    /// HELLO's `heartbeat_interval`.
    pub heartbeat_interval: Duration,
    /// No IDENTIFY within it → close 4002.
    pub identify_timeout: Duration,
    /// Which `Origin` and `Host` it admits (see `crate::guard`).
    pub guard: crate::guard::Guard,
    /// How long a client may take to finish the WebSocket handshake.
    pub handshake_timeout: Duration,
    /// Largest client frame; bigger → close 4005.
    pub max_frame: usize,
    /// Frames queued per client before it is dropped as too slow.
    pub queue: usize,
    /// A SUBSCRIBE to a channel it does not serve creates it (unprotected,
    /// state `{}`) instead of answering UNAVAILABLE `UNKNOWN`
    /// (what `roomtap leap-server` does). Such a channel is forgotten when
    /// its last subscriber leaves.
    pub create_channels: bool,
    /// Most connections at once (more: HTTP 503).
    pub max_conns: usize,
    /// Most channels it serves; a SUBSCRIBE that would create one more is
    /// answered UNAVAILABLE (counted).
    pub max_channels: usize,
    /// Bytes of channel state it keeps in all; a SET_CHANNEL_STATE that
    /// would pass it is ignored (counted and said).
    pub max_state_bytes: usize,
    /// An identified client that sends nothing (no heartbeat) this long is
    /// closed (4000); WebSocket pings do not count.
    pub liveness: Duration,
}

impl Default for LeapServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            project: "project_demo".into(),
            tokens: Vec::new(),
            allow_no_token: true,
            heartbeat_interval: Duration::from_secs(15),
            identify_timeout: Duration::from_secs(10),
            guard: crate::guard::Guard::default(),
            handshake_timeout: Duration::from_secs(10),
            max_frame: codec::MAX_FRAME,
            queue: 4096,
            create_channels: false,
            max_conns: 1024,
            max_channels: 4096,
            max_state_bytes: 64 << 20,
            liveness: Duration::from_secs(40),
        }
    }
}

/// What a connection task is told to do next.
#[derive(Debug)]
enum Out {
    /// A frame's JSON text (sent as text, or deflated when zlib).
    Frame(String),
    /// Close with this code and reason.
    Close(u16, String),
}

/// How an IDENTIFY was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Project,
    Token,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Project => "project",
            Scope::Token => "token",
        }
    }
}

struct Client {
    addr: String,
    tx: mpsc::Sender<Out>,
    zlib: bool,
    /// Set by IDENTIFY.
    scope: Option<Scope>,
    subs: HashSet<String>,
    /// Join tokens of the pipe rooms it subscribed to.
    pipes: HashSet<String>,
}

struct Channel {
    kind: String,
    state: Value,
    created_at: String,
    /// Created by a client's SUBSCRIBE: forgotten with its last subscriber.
    created_by_client: bool,
    /// Bytes of its state taken from the hub's budget.
    held: usize,
}

const RECEIVED_CAP: usize = 1024;
const HEARTBEATS_CAP: usize = 256;

/// (cid, event, channel, data) of a client's service event.
type Received = (String, String, Option<String>, Value);

#[derive(Default)]
struct State {
    clients: HashMap<String, Client>,
    channels: HashMap<String, Channel>,
    /// Pipe rooms by join token.
    pipes: HashMap<String, Value>,
    received: VecDeque<Received>,
    /// (cid, tag) of the last heartbeats received (tag `None`: untagged).
    heartbeats: VecDeque<(String, Option<String>)>,
    /// Clients dropped because their queue was full.
    dropped: u64,
}

struct Hub {
    cfg: LeapServerConfig,
    st: Mutex<State>,
    /// Notices, traffic, connection ids and limits, refusals, peers.
    core: Arc<Core>,
    addr: SocketAddr,
    acking: AtomicBool,
    hello: AtomicBool,
    /// Channel state kept, within `max_state_bytes`.
    budget: Budget,
    /// WebSocket connections accepted (upgraded) since the start.
    accepted: AtomicU64,
    /// Bumped on every change tests may wait for.
    changes: watch::Sender<u64>,
}

/// A server dispatch frame; `data` is JSON text.
fn dispatch(channel: Option<&str>, unicast: bool, event: &str, data: &str) -> String {
    codec::encode(&Frame::Dispatch(Dispatch {
        channel: channel.map(str::to_string),
        unicast,
        event: event.to_string(),
        data: data.to_string(),
    }))
}

fn q(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// `{"e":event,"d":data}` (MESSAGE's data, in the captured key order;
/// `json!` would sort the keys).
fn message_data(event: &str, data: &Value) -> String {
    format!("{{\"e\":{},\"d\":{data}}}", q(event))
}

/// `{"state":…}`.
fn state_data(state: &Value) -> String {
    format!("{{\"state\":{state}}}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` of now (UTC), as Leap dates a channel.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ms = crate::text::iso_time(secs * 1000);
    format!("{}Z", ms.get(..19).unwrap_or(&ms))
}

impl Hub {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn notice(&self, level: Level, summary: String) {
        self.core.notice(level, summary);
    }

    /// The connections as the Connections pane lists them.
    fn peers(&self) -> Vec<PeerRow> {
        let mut rows: Vec<PeerRow> = {
            let st = self.state();
            st.clients
                .iter()
                .map(|(cid, c)| PeerRow {
                    id: cid.clone(),
                    addr: c.addr.clone(),
                    role: PeerRole::Client,
                    proto: if c.zlib { Dialect::Zlib } else { Dialect::Json },
                    name: Some(match c.scope {
                        Some(s) => format!("{} ({} scope)", self.cfg.project, s.name()),
                        None => format!("{} (identifying)", self.cfg.project),
                    }),
                    instances: {
                        let mut subs: Vec<String> = c.subs.iter().cloned().collect();
                        subs.sort();
                        subs
                    },
                    dropped: 0,
                })
                .collect()
        };
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    }

    /// Say the connections now (and the traffic, and the facts).
    fn report_peers(&self) {
        self.core.report(self.peers());
    }

    /// A channel's state becomes `state` (its bytes taken from the budget;
    /// false, and nothing changed, when they do not fit).
    fn keep_state(&self, ch: &mut Channel, state: Value) -> bool {
        let bytes = state.to_string().len();
        self.budget.give(ch.held);
        if !self.budget.take(bytes) {
            let _ = self.budget.take(ch.held);
            return false;
        }
        ch.held = bytes;
        ch.state = state;
        true
    }

    /// Forget the channels clients created that nobody subscribes to any
    /// more (their state's bytes go back to the budget).
    fn forget_unwatched(&self, st: &mut State) {
        let watched: HashSet<&String> = st.clients.values().flat_map(|c| c.subs.iter()).collect();
        let gone: Vec<String> = st
            .channels
            .iter()
            .filter(|(id, c)| c.created_by_client && !watched.contains(id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            if let Some(c) = st.channels.remove(&id) {
                self.budget.give(c.held);
            }
        }
    }

    /// Queue `out` to one client; a full queue drops the client (its
    /// sender goes, so its task ends), counted and said.
    fn send_to(&self, st: &mut State, cid: &str, out: Out) -> bool {
        let Some(c) = st.clients.get(cid) else {
            return false;
        };
        if c.tx.try_send(out).is_ok() {
            return true;
        }
        st.clients.remove(cid);
        st.dropped += 1;
        self.notice(
            Level::Warn,
            format!(
                "{cid} dropped: it did not read its {} queued frames ({} dropped so far)",
                self.cfg.queue, st.dropped
            ),
        );
        false
    }

    /// AVAILABLE's data, `{"channel":{…}}`, in the captured key order.
    fn available_data(&self, id: &str, ch: &Channel) -> String {
        format!(
            "{{\"channel\":{{\"id\":{},\"project_id\":{},\"type\":{},\"state\":{},\"capabilities\":0,\"created_at\":{}}}}}",
            q(id),
            q(&self.cfg.project),
            q(&ch.kind),
            ch.state,
            q(&ch.created_at)
        )
    }

    /// A channel event to its subscribers (except `skip`); how many got it.
    fn fan_out(&self, st: &mut State, channel: &str, skip: Option<&str>, frame: &str) -> usize {
        let targets: Vec<String> = st
            .clients
            .iter()
            .filter(|(cid, c)| c.subs.contains(channel) && Some(cid.as_str()) != skip)
            .map(|(cid, _)| cid.clone())
            .collect();
        targets
            .iter()
            .filter(|cid| self.send_to(st, cid, Out::Frame(frame.to_string())))
            .count()
    }

    fn set_state(&self, channel: &str, state: Value, token: bool) -> usize {
        let mut st = self.state();
        if !token
            && let Some(ch) = st.channels.get_mut(channel)
            && !self.keep_state(ch, state.clone())
        {
            drop(st);
            self.refuse_state(channel, None);
            return 0;
        }
        let event = if token {
            "TOKEN_STATE_UPDATE"
        } else {
            "STATE_UPDATE"
        };
        let frame = dispatch(Some(channel), false, event, &state_data(&state));
        self.fan_out(&mut st, channel, None, &frame)
    }

    /// A state that does not fit the budget: counted and said.
    fn refuse_state(&self, channel: &str, cid: Option<&str>) {
        let who = cid.map_or(String::new(), |c| format!(" from {c}"));
        self.core.tally("refused (state budget)", Level::Warn, |n| {
            format!(
                "a state for {}{who} was ignored: the channels' state would pass {} B ({n} refused so far)",
                crate::text::sanitize_capped(channel, 80),
                self.budget.max()
            )
        });
    }

    /// A pipe room's AVAILABLE/UPDATE data: `{pipe_room, connection}`.
    fn pipe_data(room: &Value) -> String {
        let mut room = room.clone();
        let given = room.as_object_mut().and_then(|o| o.remove("connection"));
        let live = room.get("state").and_then(Value::as_str) == Some("live");
        let connection = given.unwrap_or_else(|| {
            let webrtc = if live {
                json!({
                    "edge_endpoint": "https://example.invalid/edge",
                    "type": "webrtc",
                    "serving_pop": "local",
                })
            } else {
                Value::Null
            };
            json!({"webrtc": webrtc, "llhls": null})
        });
        format!("{{\"pipe_room\":{room},\"connection\":{connection}}}")
    }

    fn close_where(&self, code: u16, reason: &str, f: impl Fn(&Client) -> bool) -> usize {
        let mut st = self.state();
        let cids: Vec<String> = st
            .clients
            .iter()
            .filter(|(_, c)| f(c))
            .map(|(cid, _)| cid.clone())
            .collect();
        cids.iter()
            .filter(|cid| self.send_to(&mut st, cid, Out::Close(code, reason.to_string())))
            .count()
    }
}

/// A running Leap Edge server. Dropping it stops it and closes every client.
pub struct LeapServer {
    hub: Arc<Hub>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl LeapServer {
    /// Bind and serve. `em` (optional) receives connection notices and the
    /// connection list as events of a source.
    pub async fn start(cfg: LeapServerConfig, em: Option<Emitter>) -> std::io::Result<LeapServer> {
        let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let (changes, _) = watch::channel(0);
        let core = Arc::new(Core::new("leap", cfg.max_conns, em));
        let hub = Arc::new(Hub {
            budget: Budget::new(cfg.max_state_bytes),
            cfg,
            st: Mutex::new(State::default()),
            core: core.clone(),
            addr,
            acking: AtomicBool::new(true),
            hello: AtomicBool::new(true),
            accepted: AtomicU64::new(0),
            changes,
        });
        if let Some(em) = core.emitter() {
            em.try_emit(EventKind::Conn(ConnState::Connected {
                session: Some(format!(
                    "Leap Edge on ws://{addr}/ws, project {}",
                    hub.cfg.project
                )),
            }));
        }
        let h = hub.clone();
        let accept = crate::serve::ws::accept(core.clone(), listener, move |tcp, peer| {
            conn::serve_conn(h.clone(), tcp, peer)
        });
        let h = hub.clone();
        let reporter = core.reporter(move || h.peers());
        Ok(LeapServer {
            hub,
            tasks: vec![accept, reporter],
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.hub.addr
    }

    /// `ws://ADDR/ws`.
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.hub.addr)
    }

    /// Add (or replace) a channel; `kind` is private, public or unprotected.
    /// Its state is kept whatever the budget (the operator's, not a
    /// client's), and counted in it.
    pub fn add_channel(&self, id: &str, kind: &str, state: Value) {
        let mut st = self.hub.state();
        let (created_at, held) = st
            .channels
            .get(id)
            .map_or_else(|| (now_rfc3339(), 0), |c| (c.created_at.clone(), c.held));
        self.hub.budget.give(held);
        let bytes = state.to_string().len();
        let _ = self.hub.budget.take(bytes);
        st.channels.insert(
            id.to_string(),
            Channel {
                kind: kind.to_string(),
                state,
                created_at,
                created_by_client: false,
                held: bytes,
            },
        );
    }

    /// Replace a channel's state (as a SET_CHANNEL_STATE would):
    /// STATE_UPDATE to its subscribers; returns how many got it.
    pub fn set_state(&self, channel: &str, state: Value) -> usize {
        self.hub.set_state(channel, state, false)
    }

    /// TOKEN_STATE_UPDATE to a channel's subscribers (the channel's own
    /// state is left as it is); returns how many got it.
    pub fn set_token_state(&self, channel: &str, state: Value) -> usize {
        self.hub.set_state(channel, state, true)
    }

    /// MESSAGE `{e: event, d: data}` to a channel's subscribers; returns how
    /// many got it.
    pub fn publish(&self, channel: &str, event: &str, data: Value) -> usize {
        let frame = dispatch(Some(channel), false, "MESSAGE", &message_data(event, &data));
        let mut st = self.hub.state();
        self.hub.fan_out(&mut st, channel, None, &frame)
    }

    /// DIRECT_MESSAGE (`u: true`) to one identified connection (`cid`) or to
    /// all of them; returns how many got it.
    pub fn direct(&self, cid: Option<&str>, event: &str, data: Value) -> usize {
        let frame = dispatch(None, true, "DIRECT_MESSAGE", &message_data(event, &data));
        let mut st = self.hub.state();
        let cids: Vec<String> = st
            .clients
            .iter()
            .filter(|(id, c)| c.scope.is_some() && cid.is_none_or(|want| want == id.as_str()))
            .map(|(id, _)| id.clone())
            .collect();
        cids.iter()
            .filter(|id| self.hub.send_to(&mut st, id, Out::Frame(frame.clone())))
            .count()
    }

    /// Add (or replace) a pipe room (`{id, name, state: live|offline, …}`;
    /// a `connection` field, if any, is sent as the room's `connection`,
    /// else one is made up: webrtc when live).
    pub fn add_pipe_room(&self, join_token: &str, room: Value) {
        let mut room = room;
        if let Some(o) = room.as_object_mut() {
            o.entry("join_token")
                .or_insert_with(|| Value::String(join_token.to_string()));
        }
        self.hub.state().pipes.insert(join_token.to_string(), room);
    }

    /// Set a pipe room live or offline: PIPE_ROOM_UPDATE to its subscribers;
    /// returns how many got it.
    pub fn set_pipe_room_state(&self, join_token: &str, live: bool) -> usize {
        let mut st = self.hub.state();
        let Some(room) = st.pipes.get_mut(join_token) else {
            return 0;
        };
        if let Some(o) = room.as_object_mut() {
            o.insert("state".into(), json!(if live { "live" } else { "offline" }));
            if !live {
                o.remove("connection");
            }
        }
        let frame = dispatch(None, false, "PIPE_ROOM_UPDATE", &Hub::pipe_data(room));
        let cids: Vec<String> = st
            .clients
            .iter()
            .filter(|(_, c)| c.pipes.contains(join_token))
            .map(|(cid, _)| cid.clone())
            .collect();
        cids.iter()
            .filter(|cid| self.hub.send_to(&mut st, cid, Out::Frame(frame.clone())))
            .count()
    }

    /// Close every connection with 4006 "bad route", the reason being the
    /// URL the clients should reconnect to; returns how many.
    pub fn redirect_all(&self, url: &str) -> usize {
        self.close_all(4006, url)
    }

    /// Close every connection with `code` and `reason` (cut to the 123
    /// bytes a close frame holds); returns how many.
    pub fn close_all(&self, code: u16, reason: &str) -> usize {
        let n = self.hub.close_where(code, reason, |_| true);
        self.hub.notice(
            Level::Info,
            format!(
                "closing {n} connection(s) with {code} ({})",
                codec::close_code(code).0
            ),
        );
        n
    }

    /// Stop (false) or resume (true) answering heartbeats.
    pub fn set_acking(&self, on: bool) {
        self.hub.acking.store(on, Ordering::Relaxed);
    }

    /// When off, new connections never get HELLO (so never identify).
    pub fn set_hello(&self, on: bool) {
        self.hub.hello.store(on, Ordering::Relaxed);
    }

    /// The server's own heartbeat `{"op":3,"d":{"tag"}}` to every identified
    /// connection (the clients echo it); returns how many got it.
    pub fn heartbeat_all(&self, tag: &str) -> usize {
        let frame = codec::encode(&Frame::Heartbeat {
            tag: Some(tag.to_string()),
        });
        let mut st = self.hub.state();
        let cids: Vec<String> = st
            .clients
            .iter()
            .filter(|(_, c)| c.scope.is_some())
            .map(|(cid, _)| cid.clone())
            .collect();
        cids.iter()
            .filter(|cid| self.hub.send_to(&mut st, cid, Out::Frame(frame.clone())))
            .count()
    }

    /// Open connections (cid, remote address), identified or not, by cid.
    pub fn connections(&self) -> Vec<(String, String)> {
        let st = self.hub.state();
        let mut v: Vec<_> = st
            .clients
            .iter()
            .map(|(cid, c)| (cid.clone(), c.addr.clone()))
            .collect();
        v.sort();
        v
    }

    /// WebSocket connections accepted since the start (refused upgrades
    /// not counted).
    pub fn accepted(&self) -> u64 {
        self.hub.accepted.load(Ordering::Relaxed)
    }

    /// Channels served now (ids, sorted).
    pub fn channels(&self) -> Vec<String> {
        let mut v: Vec<String> = self.hub.state().channels.keys().cloned().collect();
        v.sort();
        v
    }

    /// Bytes of channel state kept now.
    pub fn state_bytes(&self) -> usize {
        self.hub.budget.used()
    }

    /// How many of `what` (`refused (state budget)`…) so far.
    pub fn tallied(&self, what: &'static str) -> u64 {
        self.hub.core.tallied(what)
    }

    /// The connections that identified (cid, scope: "project" | "token").
    pub fn identified(&self) -> Vec<(String, String)> {
        let st = self.hub.state();
        let mut v: Vec<_> = st
            .clients
            .iter()
            .filter_map(|(cid, c)| c.scope.map(|s| (cid.clone(), s.name().to_string())))
            .collect();
        v.sort();
        v
    }

    /// Client service events seen, oldest first (the last 1024):
    /// (cid, event, channel, data).
    pub fn received(&self) -> Vec<Received> {
        self.hub.state().received.iter().cloned().collect()
    }

    /// Client heartbeats seen, oldest first (the last 256): (cid, tag).
    pub fn heartbeats(&self) -> Vec<(String, Option<String>)> {
        self.hub.state().heartbeats.iter().cloned().collect()
    }

    /// Upgrades refused for a foreign `Origin` or `Host`.
    pub fn refused(&self) -> Option<(String, String)> {
        self.hub.core.refused.fact()
    }

    /// Clients dropped because they did not read their queue.
    pub fn dropped(&self) -> u64 {
        self.hub.state().dropped
    }

    /// A receiver that changes whenever a connection comes or goes or a
    /// client sends something (for tests to wait on instead of sleeping).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.hub.changes.subscribe()
    }

    /// Wait (at most `timeout`) until `cond(self)` holds; returns whether
    /// it did.
    pub async fn wait_until(&self, timeout: Duration, cond: impl Fn(&LeapServer) -> bool) -> bool {
        crate::serve::wait_until(self.changes(), timeout, || cond(self)).await
    }
}

impl Drop for LeapServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.hub.core.close_all();
    }
}

impl crate::serve::source::Server for LeapServer {
    type Config = LeapServerConfig;
    fn kind() -> crate::source::SourceKind {
        crate::protocols::leap::SERVER
    }
    fn label() -> &'static str {
        "leap srv"
    }
    fn planned_url(cfg: &LeapServerConfig) -> String {
        format!("ws://{}/ws", cfg.bind)
    }
    fn elsewhere(cfg: &LeapServerConfig) -> Option<LeapServerConfig> {
        Some(crate::serve::source::any_port(cfg, |c| &mut c.bind))
    }
    fn secrets(cfg: &LeapServerConfig) -> Vec<String> {
        cfg.tokens.iter().map(|s| s.expose().to_string()).collect()
    }
    async fn start(cfg: LeapServerConfig, em: Option<Emitter>) -> std::io::Result<LeapServer> {
        LeapServer::start(cfg, em).await
    }
    fn url(&self) -> String {
        LeapServer::url(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_is_rfc3339_utc() {
        let s = now_rfc3339();
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T', "{s}");
        assert!(s.as_str() > "2024-01-01T00:00:00Z", "{s}");
    }

    #[test]
    fn pipe_room_data_offers_webrtc_only_when_live() {
        let v = |s: String| serde_json::from_str::<Value>(&s).unwrap();
        let live = v(Hub::pipe_data(
            &json!({"id": "pipe_room_1", "state": "live"}),
        ));
        assert_eq!(live["connection"]["webrtc"]["type"], "webrtc");
        assert_eq!(live["connection"]["llhls"], Value::Null);
        let off = v(Hub::pipe_data(
            &json!({"id": "pipe_room_1", "state": "offline"}),
        ));
        assert_eq!(off["connection"]["webrtc"], Value::Null);
        assert_eq!(off["pipe_room"]["id"], "pipe_room_1");
    }

    #[test]
    fn dispatch_frames_are_the_captured_shape() {
        assert_eq!(
            dispatch(
                Some("chan_1"),
                false,
                "STATE_UPDATE",
                &state_data(&json!({"count": 2}))
            ),
            r#"{"op":0,"d":{"c":"chan_1","u":false,"e":"STATE_UPDATE","d":{"state":{"count":2}}}}"#
        );
        assert_eq!(
            dispatch(
                None,
                true,
                "DIRECT_MESSAGE",
                &message_data("dm", &json!({"text": "just you"}))
            ),
            r#"{"op":0,"d":{"c":null,"u":true,"e":"DIRECT_MESSAGE","d":{"e":"dm","d":{"text":"just you"}}}}"#
        );
    }
}
