//! roomtap's own relay: a SocketCluster server speaking the Redux DevTools
//! remote protocol, so no Node relay is needed.
//!
//! Wire-compatible with `@redux-devtools/cli` (routing by `login`, transmits
//! on `log` / `respond` / `sc-*`, `log-noid` wrapping, DISCONNECTED both
//! ways, client `#publish` refused) and with both SocketCluster protocol
//! generations: until a client's first pong tells which it speaks, it gets
//! both ping styles (`""` for v2, `"#1"` for v1; each generation ignores the
//! other's ping), then only its own.
//!
//! Beyond the Node relay:
//! - a command carrying an `instanceId` reaches only the socket that owns
//!   that instance (learned from its messages); `sc-<socket id>` delivery
//!   works for current apps too; START and pause/lock still reach every app;
//! - a monitor leaving does not silence the apps while other monitors remain;
//! - an app that subscribes while monitors are connected is sent START by
//!   the relay itself (no lost first START);
//! - limits: frame size, per-socket send queue (drops counted and logged),
//!   connection count, and an optional shared secret.

mod conn;
pub mod source;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::event::{Dialect, Level, PeerRole, PeerRow};
use crate::serve::Core;
use crate::source::Emitter;
use crate::protocols::redux::wire::packet;

pub const DEFAULT_PORT: u16 = 8000;
pub const DEFAULT_PATH: &str = "/socketcluster/";

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub bind: SocketAddr,
    /// WebSocket path (SocketCluster's default `/socketcluster/`).
    pub path: String,
    /// Largest frame accepted; a bigger one closes the socket with 1009.
    pub max_frame: usize,
    /// Most sockets at once; more are refused with HTTP 503.
    pub max_conns: usize,
    /// Frames queued per socket; beyond it frames to that socket are
    /// dropped (and counted) so a slow client cannot grow memory.
    pub queue: usize,
    /// Shared secret clients must present (query `secret=`, HTTP basic
    /// auth password, or `Authorization: Bearer`).
    pub secret: Option<String>,
    pub ping_interval: Duration,
    /// Told to clients in the handshake; a client silent this long is closed (4001).
    pub ping_timeout: Duration,
    pub handshake_timeout: Duration,
    /// Which `Origin` and `Host` it admits (loopback pages and native
    /// clients; anything else is refused with 403).
    pub guard: crate::guard::Guard,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            path: DEFAULT_PATH.to_string(),
            max_frame: 16 << 20,
            max_conns: 1024,
            queue: 4096,
            secret: None,
            ping_interval: Duration::from_secs(8),
            ping_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            guard: crate::guard::Guard::default(),
        }
    }
}

/// Messages an in-process socket may hold beyond its queue before drops
/// start (the apps wait long before that).
const LOCAL_OVERFLOW: usize = 1 << 16;

/// Which SocketCluster protocol a client speaks (learned from its pongs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Unknown,
    /// socketcluster-client ≤ 14 (`remote-redux-devtools` 0.5): `"#1"`/`"#2"`.
    V1,
    /// socketcluster-client ≥ 16 (`@redux-devtools/remote`): `""`/`""`.
    V2,
}

impl Proto {
    pub fn label(self) -> &'static str {
        match self {
            Proto::Unknown => "protocol ?",
            Proto::V1 => "protocol v1",
            Proto::V2 => "protocol v2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Connected, not logged in yet.
    Unknown,
    /// Logged in as `"master"`: an app (watches `respond`, emits on `log`).
    App,
    /// Logged in as anything else: a monitor (watches `log`, emits on `respond`).
    Monitor,
}

/// A client as the relay sees it (for the ui and tests).
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub id: String,
    pub peer: String,
    pub role: Role,
    pub proto: Proto,
    pub name: Option<String>,
    pub instances: Vec<String>,
    pub subscriptions: Vec<String>,
    pub dropped: u64,
}

/// Who a command sent on `respond` reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Only this app socket (id, label).
    One { socket: String, label: String },
    /// Every app (count).
    All(usize),
}

struct Sock {
    out: mpsc::Sender<Message>,
    peer: String,
    role: Role,
    proto: Proto,
    local: bool,
    subs: HashSet<String>,
    name: Option<String>,
    instances: Vec<String>,
    dropped: u64,
    /// In-process sockets (roomtap's own panes) lose nothing: what their
    /// full queue cannot take waits here, in order, and the app that sent
    /// it waits for it to drain (backpressure to the apps, not drops).
    overflow: std::collections::VecDeque<Message>,
}

#[derive(Default)]
struct State {
    socks: HashMap<Arc<str>, Sock>,
    /// instanceId → socket id (learned from app messages).
    owners: HashMap<String, Arc<str>>,
    /// channel → subscribed sockets (the same facts as each `Sock::subs`,
    /// indexed for publishing: one lookup per message, not one per socket).
    subscribers: HashMap<String, Vec<Arc<str>>>,
    /// Some in-process socket holds overflow (see [`Sock::overflow`]).
    overflowing: bool,
}

pub(crate) struct Hub {
    cfg: RelayConfig,
    st: Mutex<State>,
    /// Notices, traffic (in-process clients are not counted) and messages
    /// per channel, the connection limit, refusals, peers, closing.
    pub(crate) core: Arc<Core>,
}

/// Instances one socket may own; more are not learned (counted and said).
const MAX_INSTANCES: usize = 256;
/// Longest instance id learned (the ids apps make are 11–36 chars).
const MAX_INSTANCE_ID: usize = 256;
/// Channels one socket may subscribe to.
const MAX_SUBSCRIPTIONS: usize = 64;
/// Longest app name kept.
const MAX_NAME: usize = 200;

impl Hub {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated
        // in a way that matters more than stopping the relay would.
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notice(&self, level: Level, _kind: &str, summary: String) {
        self.core.notice(level, summary);
    }

    /// A socket id shaped like socketcluster-server's (20 url-safe chars).
    fn new_id(&self) -> Arc<str> {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let s: String = (0..20)
            .map(|_| ABC[fastrand::usize(..ABC.len())] as char)
            .collect();
        s.into()
    }

    fn register(&self, id: Arc<str>, out: mpsc::Sender<Message>, peer: String, local: bool) {
        self.state().socks.insert(
            id,
            Sock {
                out,
                peer,
                role: Role::Unknown,
                proto: Proto::Unknown,
                local,
                subs: HashSet::new(),
                name: None,
                instances: Vec::new(),
                dropped: 0,
                overflow: Default::default(),
            },
        );
    }

    fn set_proto(&self, id: &str, proto: Proto) {
        if let Some(s) = self.state().socks.get_mut(id) {
            s.proto = proto;
        }
    }

    /// `login`: returns the channel the client should watch.
    fn login(&self, id: &str, master: bool) -> &'static str {
        let mut st = self.state();
        let Some(s) = st.socks.get_mut(id) else {
            return "log";
        };
        s.role = if master { Role::App } else { Role::Monitor };
        let (what, peer, local) = (s.role, s.peer.clone(), s.local);
        drop(st);
        if !local {
            let who = if what == Role::App { "app" } else { "monitor" };
            self.notice(
                Level::Info,
                "relay",
                format!("{who} logged in: socket {id} from {peer}"),
            );
        }
        if master { "respond" } else { "log" }
    }

    fn monitors(st: &State) -> usize {
        st.socks
            .values()
            .filter(|s| s.role == Role::Monitor)
            .count()
    }

    /// `#subscribe`; false when the socket holds too many subscriptions.
    fn subscribe(&self, id: &str, channel: &str) -> bool {
        let mut st = self.state();
        let Some(s) = st.socks.get_mut(id) else {
            return true;
        };
        if s.subs.len() >= MAX_SUBSCRIPTIONS && !s.subs.contains(channel) {
            drop(st);
            self.core.tally("refused (subscriptions)", Level::Warn, |n| {
                format!(
                    "socket {id} asked for more than {MAX_SUBSCRIPTIONS} subscriptions: refused ({n} so far)"
                )
            });
            return false;
        }
        let fresh = s.subs.insert(channel.to_string());
        if fresh {
            let key = st
                .socks
                .get_key_value(id)
                .map(|(k, _)| k.clone())
                .unwrap_or_else(|| id.into());
            st.subscribers
                .entry(channel.to_string())
                .or_default()
                .push(key);
        }
        let Some(s) = st.socks.get(id) else {
            return true;
        };
        // An app subscribing while monitors are connected would miss their
        // START (it announced itself before this subscription): send it now.
        if fresh && channel == "respond" && s.role == Role::App && Self::monitors(&st) > 0 {
            let msg = Message::text(packet::publish("respond", r#"{"type":"START"}"#));
            Self::deliver(&mut st, id, msg);
        }
        true
    }

    fn unsubscribe(&self, id: &str, channel: &str) {
        let mut st = self.state();
        if let Some(s) = st.socks.get_mut(id) {
            s.subs.remove(channel);
        }
        Self::unindex(&mut st, id, channel);
    }

    fn unindex(st: &mut State, id: &str, channel: &str) {
        if let Some(v) = st.subscribers.get_mut(channel) {
            v.retain(|s| &**s != id);
            if v.is_empty() {
                st.subscribers.remove(channel);
            }
        }
    }

    /// Queue `msg` for socket `id`; a full queue drops it (counted).
    fn deliver(st: &mut State, id: &str, msg: Message) -> Option<(u64, String)> {
        let s = st.socks.get_mut(id)?;
        let d = Self::deliver_to(s, msg);
        st.overflowing |= !s.overflow.is_empty();
        d
    }

    fn deliver_to(s: &mut Sock, msg: Message) -> Option<(u64, String)> {
        if s.local && !s.overflow.is_empty() && s.overflow.len() < LOCAL_OVERFLOW {
            s.overflow.push_back(msg);
            return None;
        }
        match s.out.try_send(msg) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(m))
                if s.local && s.overflow.len() < LOCAL_OVERFLOW =>
            {
                s.overflow.push_back(m);
                None
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                s.dropped += 1;
                // Report the 1st, 10th, 100th... drop, not every one.
                let d = s.dropped;
                crate::text::worth_saying(d).then(|| (d, s.peer.clone()))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => None,
        }
    }

    /// Wait until the in-process sockets' overflow has gone into their
    /// queues: the app whose message overflowed them waits here, so a flood
    /// slows the apps down (through TCP) instead of losing events.
    pub(crate) async fn drain_overflow(&self) {
        loop {
            let waiting = {
                let mut st = self.state();
                if !st.overflowing {
                    return;
                }
                let mut waiting = None;
                for (id, s) in st.socks.iter_mut().filter(|(_, s)| s.local) {
                    while let Some(m) = s.overflow.pop_front() {
                        match s.out.try_send(m) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(m)) => {
                                s.overflow.push_front(m);
                                waiting = Some((id.clone(), s.out.clone()));
                                break;
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => s.overflow.clear(),
                        }
                    }
                    if waiting.is_some() {
                        break;
                    }
                }
                if waiting.is_none() {
                    st.overflowing = false;
                }
                waiting
            };
            let Some((id, tx)) = waiting else { return };
            // Room for half that queue (or it closed), then fill it from
            // the overflow with that room. Not room for one frame: the
            // senders would then wake, take the lock and fill the queue
            // again for every frame the reader takes (that churn cost more
            // than the frames themselves). The room taken is used here, not
            // given back: given back, another waiting sender would take it
            // and none would ever send.
            let half = (tx.max_capacity() / 2).max(1);
            let Ok(permits) = tx.reserve_many(half).await else {
                return;
            };
            let mut st = self.state();
            if let Some(s) = st.socks.get_mut(&id) {
                for permit in permits {
                    match s.overflow.pop_front() {
                        Some(m) => permit.send(m),
                        None => break,
                    }
                }
            }
        }
    }

    /// Publish `data` on `channel` to every subscriber accepted by `filter`.
    fn publish_filtered(
        &self,
        st: &mut State,
        channel: &str,
        data: &str,
        filter: impl Fn(&str, &Sock) -> bool,
    ) {
        let frame = packet::publish(channel, data);
        self.core.meter.channel(channel, frame.len());
        let msg = Message::text(frame);
        let mut drops = Vec::new();
        let State {
            socks,
            subscribers,
            overflowing,
            ..
        } = st;
        for id in subscribers.get(channel).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(s) = socks.get_mut(&**id) else {
                continue;
            };
            if !filter(id, s) {
                continue;
            }
            if let Some(d) = Self::deliver_to(s, msg.clone()) {
                drops.push((id.clone(), d));
            }
            *overflowing |= s.local && !s.overflow.is_empty();
        }
        for (id, (n, peer)) in drops {
            self.notice(
                Level::Warn,
                "relay",
                format!(
                    "socket {id} ({peer}) is too slow: {n} frames dropped so far (send queue full)"
                ),
            );
        }
    }

    /// A client transmit (an event without `cid`).
    fn transmit(&self, id: &str, event: &str, data: &str) {
        match event {
            "log" => {
                let mut st = self.state();
                self.learn(&mut st, id, data);
                self.publish_filtered(&mut st, "log", data, |_, _| true);
            }
            "log-noid" => {
                let mut st = self.state();
                self.learn(&mut st, id, data);
                let wrapped = packet::wrap_noid(id, data);
                self.publish_filtered(&mut st, "log", &wrapped, |_, _| true);
            }
            "respond" => self.route_respond(data),
            e if e.starts_with("sc-") => self.route_socket(&e[3..], e, data),
            _ => {}
        }
    }

    /// Remember which socket owns the instance an app message names: one
    /// lookup per message (the owner map), at most [`MAX_INSTANCES`] per
    /// socket.
    fn learn(&self, st: &mut State, id: &str, data: &str) {
        let f = packet::app_facts(data);
        let Some(key) = st.socks.get_key_value(id).map(|(k, _)| k.clone()) else {
            return;
        };
        let State { socks, owners, .. } = st;
        let Some(s) = socks.get_mut(id) else { return };
        if let Some(n) = f.name
            && s.name.as_deref() != Some(n)
        {
            s.name = Some(crate::text::sanitize_capped(n, MAX_NAME).into_owned());
        }
        let Some(inst) = f.instance_id else { return };
        if owners.get(inst).is_some_and(|o| **o == *id) {
            return;
        }
        let over = if inst.len() > MAX_INSTANCE_ID {
            Some(format!("an instance id of {} bytes", inst.len()))
        } else if s.instances.len() >= MAX_INSTANCES && !s.instances.iter().any(|i| i == inst) {
            Some(format!("more than {MAX_INSTANCES} instances"))
        } else {
            None
        };
        if let Some(why) = over {
            let peer = s.peer.clone();
            self.core.tally("ignored (instances)", Level::Warn, |n| {
                format!(
                    "socket {id} ({peer}) named {why}: not learned, commands to it go to every app ({n} so far)"
                )
            });
            return;
        }
        if !s.instances.iter().any(|i| i == inst) {
            s.instances.push(inst.to_string());
        }
        owners.insert(inst.to_string(), key);
    }

    /// Who a command on `respond` reaches (`None`: nobody is connected).
    fn reach_of(st: &State, data: &str) -> Reach {
        let f = packet::command_facts(data);
        let apps = st.socks.values().filter(|s| s.role == Role::App).count();
        let toall = matches!(f.lifted, Some("PAUSE_RECORDING" | "LOCK_CHANGES"))
            || matches!(f.ty, Some("START" | "STOP" | "SYNC"));
        if toall {
            return Reach::All(apps);
        }
        let Some(inst) = f.instance_id else {
            return Reach::All(apps);
        };
        let owner = st
            .owners
            .get(inst)
            .cloned()
            .or_else(|| st.socks.get_key_value(inst).map(|(k, _)| k.clone()));
        match owner.and_then(|o| st.socks.get(&o).map(|s| (o.clone(), s))) {
            Some((o, s)) => Reach::One {
                socket: o.to_string(),
                label: match &s.name {
                    Some(n) => format!("{n} [{inst}]"),
                    None => format!("[{inst}]"),
                },
            },
            None => Reach::All(apps),
        }
    }

    /// A monitor's command: to the owner of its instance, or to all apps.
    fn route_respond(&self, data: &str) {
        let mut st = self.state();
        match Self::reach_of(&st, data) {
            Reach::One { socket, .. } => {
                // The owning app, plus anything that is not an app watching
                // `respond` (monitors observing commands).
                self.publish_filtered(&mut st, "respond", data, |id, s| {
                    s.role != Role::App || id == socket
                });
            }
            Reach::All(_) => self.publish_filtered(&mut st, "respond", data, |_, _| true),
        }
    }

    /// `sc-<socket id>`: deliver to that socket (the legacy relay's
    /// behaviour, which the official monitor relies on), and to whoever
    /// subscribed to that channel.
    fn route_socket(&self, target: &str, channel: &str, data: &str) {
        let mut st = self.state();
        let target_subs = st
            .socks
            .get(target)
            .map(|s| (s.subs.contains(channel), s.subs.contains("respond"), s.role));
        // Subscribers of the channel itself (as the Node relay publishes it).
        self.publish_filtered(&mut st, channel, data, |_, _| true);
        if let Some((on_channel, on_respond, role)) = target_subs
            && !on_channel
        {
            let watch = if role == Role::Monitor {
                "log"
            } else {
                "respond"
            };
            let frame = if on_respond && role != Role::Monitor {
                packet::publish("respond", data)
            } else {
                packet::transmit(watch, data)
            };
            Self::deliver(&mut st, target, Message::text(frame));
        }
    }

    /// A socket went away: tell the other side, as the Node relay does,
    /// except that apps are not silenced while other monitors remain.
    fn remove(&self, id: &str, reason: &str) {
        let mut st = self.state();
        let Some(s) = st.socks.remove(id) else {
            return;
        };
        for inst in &s.instances {
            if st.owners.get(inst).is_some_and(|o| &**o == id) {
                st.owners.remove(inst);
            }
        }
        for ch in &s.subs {
            Self::unindex(&mut st, id, ch);
        }
        let note = packet::disconnected(id);
        match s.role {
            Role::App => self.publish_filtered(&mut st, "log", &note, |_, _| true),
            Role::Monitor => {
                let left = Self::monitors(&st);
                if left == 0 {
                    self.publish_filtered(&mut st, "respond", &note, |_, _| true);
                } else if !s.local {
                    drop(st);
                    self.notice(
                        Level::Info,
                        "relay",
                        format!(
                            "monitor {id} left; {left} monitor(s) remain, so apps keep streaming (the Node relay would stop them)"
                        ),
                    );
                    return self.notice_gone(&s, id, reason);
                }
            }
            Role::Unknown => {}
        }
        drop(st);
        self.notice_gone(&s, id, reason);
    }

    fn notice_gone(&self, s: &Sock, id: &str, reason: &str) {
        if s.local {
            return;
        }
        let who = match s.role {
            Role::App => match &s.name {
                Some(n) => format!("app {n}"),
                None => "app".to_string(),
            },
            Role::Monitor => "monitor".to_string(),
            Role::Unknown => "client".to_string(),
        };
        let drops = if s.dropped > 0 {
            format!(", {} frames dropped", s.dropped)
        } else {
            String::new()
        };
        self.notice(
            Level::Info,
            "relay",
            format!(
                "{who} left: socket {id} ({}, {}): {reason}{drops}",
                s.peer,
                s.proto.label()
            ),
        );
    }

    fn clients(&self) -> Vec<ClientInfo> {
        let st = self.state();
        let mut v: Vec<ClientInfo> = st
            .socks
            .iter()
            .map(|(id, s)| ClientInfo {
                id: id.to_string(),
                peer: s.peer.clone(),
                role: s.role,
                proto: s.proto,
                name: s.name.clone(),
                instances: s.instances.clone(),
                subscriptions: {
                    let mut c: Vec<String> = s.subs.iter().cloned().collect();
                    c.sort();
                    c
                },
                dropped: s.dropped,
            })
            .collect();
        v.sort_by(|a, b| a.peer.cmp(&b.peer).then(a.id.cmp(&b.id)));
        v
    }

    /// The clients as the Connections pane lists them.
    fn peers(&self) -> Vec<PeerRow> {
        self.clients()
            .into_iter()
            .map(|c| PeerRow {
                id: c.id,
                addr: c.peer,
                role: match c.role {
                    Role::App => PeerRole::App,
                    Role::Monitor => PeerRole::Monitor,
                    Role::Unknown => PeerRole::Client,
                },
                proto: match c.proto {
                    Proto::V1 => Dialect::V1,
                    Proto::V2 => Dialect::V2,
                    Proto::Unknown => Dialect::Unknown,
                },
                name: c.name,
                instances: c.instances,
                dropped: c.dropped,
            })
            .collect()
    }
}

/// A running relay. Dropping it stops accepting connections.
pub struct Relay {
    hub: Arc<Hub>,
    addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Relay {
    /// Bind and start accepting. `notices` (optional) receives the relay's
    /// own log lines and channel counts as events of a source.
    pub async fn start(cfg: RelayConfig, notices: Option<Emitter>) -> std::io::Result<Relay> {
        let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let core = Arc::new(Core::new("relay", cfg.max_conns, notices));
        let hub = Arc::new(Hub {
            cfg,
            st: Mutex::new(State::default()),
            core: core.clone(),
        });
        core.listening(addr);
        if !addr.ip().is_loopback() {
            core.notice(
                Level::Warn,
                format!(
                    "listening on {addr}, which is not loopback: anyone who can reach it can drive your apps{}",
                    if hub.cfg.secret.is_some() { " (a secret is required)" } else { "; consider --redux-secret" }
                ),
            );
        }
        let h = hub.clone();
        let accept = crate::serve::ws::accept(core.clone(), listener, move |tcp, peer| {
            conn::serve_conn(h.clone(), tcp, peer)
        });
        let h = hub.clone();
        let reporter = core.reporter(move || h.peers());
        Ok(Relay {
            hub,
            addr,
            tasks: vec![accept, reporter],
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL clients connect to.
    pub fn url(&self) -> String {
        format!("ws://{}{}", self.addr, self.hub.cfg.path)
    }

    /// An in-process client connection (no socket, no loopback hop): what
    /// you send goes to the relay as frames, what it sends comes back.
    pub fn connect_local(&self) -> (mpsc::Sender<Message>, mpsc::Receiver<Message>) {
        conn::connect_local(self.hub.clone())
    }

    /// Connected clients, for display and tests.
    pub fn clients(&self) -> Vec<ClientInfo> {
        self.hub.clients()
    }

    /// Who a `respond` command with this data would reach.
    pub fn reach(&self, data: &str) -> Reach {
        Hub::reach_of(&self.hub.state(), data)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        // Close every client connection too ("going away").
        self.hub.core.close_all();
    }
}

impl crate::serve::source::Server for Relay {
    type Config = RelayConfig;
    fn kind() -> crate::source::SourceKind {
        crate::protocols::redux::SERVER
    }
    fn label() -> &'static str {
        "redux srv"
    }
    fn planned_url(cfg: &RelayConfig) -> String {
        format!("ws://{}{}", cfg.bind, cfg.path)
    }
    fn elsewhere(cfg: &RelayConfig) -> Option<RelayConfig> {
        Some(crate::serve::source::any_port(cfg, |c| &mut c.bind))
    }
    fn secrets(cfg: &RelayConfig) -> Vec<String> {
        cfg.secret.iter().cloned().collect()
    }
    async fn start(cfg: RelayConfig, em: Option<Emitter>) -> std::io::Result<Relay> {
        Relay::start(cfg, em).await
    }
    fn url(&self) -> String {
        Relay::url(self)
    }
    fn bind_error(cfg: &RelayConfig, e: &std::io::Error) -> String {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "{} is in use: is another relay running there? Use --redux-port, or `roomtap redux ws://{}/socketcluster/` to monitor it",
                cfg.bind, cfg.bind
            )
        } else {
            format!("cannot listen on {}: {e}", cfg.bind)
        }
    }
}

/// In-process connections to `relay`, as the monitor source and the demo
/// apps take them.
pub fn local_connector(relay: &Arc<Relay>) -> crate::link::ws::LocalConnect {
    let r = relay.clone();
    Arc::new(move || r.connect_local())
}
