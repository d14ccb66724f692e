//! roomtap's legume server: a small game server on 127.0.0.1 that speaks
//! legume 0.5 as its `Server` does (the real `Client` connects to it), on
//! the server kit's hub core, without legume's defects: every reliable
//! message is acked (duplicates too), resends follow the round trip in
//! seconds, ids wrap, a client that says Disconnected is let go at once.
//!
//! Its world: players (made up, and every connected client) whose positions
//! go out unreliably (`Pos`) several times a second, and chat that goes out
//! reliably (`Chat`); a client's Chat is relayed to every client. Bounded:
//! peers, reliable messages waiting per peer, what an unknown address may
//! make it do (nothing but a ConnectRequest is answered).

pub mod source;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU16;
use std::time::Duration;

use fastrand::Rng;
use tokio::time::Instant;

use super::wire::reliable::Endpoint;
use super::wire::datagram::{self, Body, FieldValue, RELIABLE};
use super::wire::schema::Schema;
use crate::event::{Level, PeerRole, PeerRow};
use crate::link::udp::UdpServer;
use crate::serve::Core;
use crate::source::Emitter;

/// The messages roomtap's server speaks (`roomtap legume --schema` takes
/// this file).
pub const GAME_SCHEMA: &str = include_str!("../game.toml");

/// The game's schema.
pub fn game_schema() -> Schema {
    Schema::parse(GAME_SCHEMA).expect("the game's schema reads")
}

#[derive(Debug, Clone)]
pub struct GameConfig {
    pub bind: SocketAddr,
    /// A peer heard from for this long is let go (legume's 10 s).
    pub timeout: Duration,
    pub ping_every: Duration,
    /// Positions every this long (0: none).
    pub move_every: Duration,
    /// A made-up chat line every this long (0: none).
    pub chat_every: Duration,
    pub max_peers: usize,
    /// Our reliable messages waiting for one peer's acks, at most.
    pub max_pending: usize,
    pub seed: u64,
}

impl GameConfig {
    pub fn new(bind: SocketAddr) -> GameConfig {
        GameConfig {
            bind,
            timeout: Duration::from_secs(10),
            ping_every: Duration::from_secs(2),
            move_every: Duration::from_millis(200),
            chat_every: Duration::from_secs(3),
            max_peers: 64,
            max_pending: 256,
            seed: 7,
        }
    }
}

/// The default port (legume's examples use 27806).
pub const DEFAULT_PORT: u16 = 27806;

/// Made-up players.
const BOTS: [&str; 3] = ["ada", "bo", "dara"];
const LINES: [&str; 6] = [
    "gg",
    "anyone up for a round?",
    "lag spike again",
    "brb",
    "nice shot",
    "who took the flag?",
];

struct Peer {
    ep: Endpoint,
    last_heard: Instant,
    last_sent_alive: Instant,
    name: String,
    dropped: u64,
}

struct World {
    peers: HashMap<SocketAddr, Peer>,
    rng: Rng,
    /// Bot positions.
    pos: Vec<(f64, f64)>,
    seq: i32,
    started: Instant,
}

/// roomtap's legume game server.
pub struct GameServer {
    core: Arc<Core>,
    addr: SocketAddr,
    /// Peers connected, as the server's loop last left them.
    peers: tokio::sync::watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
    reporter: tokio::task::JoinHandle<()>,
}

impl Drop for GameServer {
    fn drop(&mut self) {
        self.task.abort();
        self.reporter.abort();
    }
}

impl GameServer {
    pub async fn start(cfg: GameConfig, em: Option<Emitter>) -> std::io::Result<GameServer> {
        let core = Arc::new(Core::new("legume", cfg.max_peers, em));
        let sock = UdpServer::bind(cfg.bind, core.meter.clone()).await?;
        let addr = sock.local()?;
        core.listening(addr);
        core.fact("schema", "Chat (20), Pos (21): roomtap's game");
        let world = World {
            peers: HashMap::new(),
            rng: Rng::with_seed(cfg.seed),
            pos: vec![(0.0, 0.0); BOTS.len()],
            seq: 0,
            started: Instant::now(),
        };
        let (peers_tx, peers) = tokio::sync::watch::channel(0usize);
        let rows = Arc::new(std::sync::Mutex::new(Vec::<PeerRow>::new()));
        let reporter = {
            let rows = rows.clone();
            core.reporter(move || rows.lock().unwrap_or_else(|p| p.into_inner()).clone())
        };
        let task = tokio::spawn(serve(sock, cfg, core.clone(), world, rows, peers_tx));
        Ok(GameServer {
            core,
            addr,
            peers,
            task,
            reporter,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Peers connected now.
    pub fn peers(&self) -> usize {
        *self.peers.borrow()
    }

    /// Wait (at most `within`) until `f` holds of the number of peers
    /// connected; whether it did.
    pub async fn peers_until(&self, within: Duration, f: impl Fn(usize) -> bool) -> bool {
        let mut rx = self.peers.clone();
        tokio::time::timeout(within, rx.wait_for(|n| f(*n)))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

async fn serve(
    mut sock: UdpServer,
    cfg: GameConfig,
    core: Arc<Core>,
    mut w: World,
    rows: Arc<std::sync::Mutex<Vec<PeerRow>>>,
    peers: tokio::sync::watch::Sender<usize>,
) {
    let schema = game_schema();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_move = Instant::now() + cfg.move_every;
    let mut next_chat = Instant::now() + cfg.chat_every;
    let mut next_ping = Instant::now() + cfg.ping_every;
    let mut next_report = Instant::now();
    loop {
        let mut out: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
        tokio::select! {
            got = sock.recv() => {
                let Ok((d, from)) = got else {
                    core.notice(Level::Error, "the UDP socket failed: the server stops");
                    return;
                };
                on_datagram(&mut w, &cfg, &core, &schema, &d, from, &mut out);
            }
            _ = tick.tick() => {
                let now = Instant::now();
                timers(&mut w, &cfg, &core, now, &mut out);
                if cfg.ping_every > Duration::ZERO && now >= next_ping {
                    next_ping = now + cfg.ping_every;
                    for (addr, p) in w.peers.iter_mut() {
                        out.push((p.ep.ping(now, cfg.timeout), *addr));
                        p.last_sent_alive = now;
                    }
                }
                if cfg.move_every > Duration::ZERO && now >= next_move {
                    next_move = now + cfg.move_every;
                    moves(&mut w, &schema, &mut out);
                }
                if cfg.chat_every > Duration::ZERO && now >= next_chat {
                    next_chat = now + cfg.chat_every;
                    let (who, line) = {
                        let r = &mut w.rng;
                        (BOTS[r.usize(0..BOTS.len())], LINES[r.usize(0..LINES.len())])
                    };
                    broadcast_chat(&mut w, &cfg, &core, &schema, who, line, None, now, &mut out);
                }
                // The clients' rows as the reporter says them (every
                // 250 ms), not every tick.
                if now >= next_report {
                    next_report = now + crate::link::meter::FLUSH_EVERY;
                    *rows.lock().unwrap_or_else(|p| p.into_inner()) = peer_rows(&w);
                }
            }
        }
        peers.send_if_modified(|n| {
            let changed = *n != w.peers.len();
            *n = w.peers.len();
            changed
        });
        for (d, to) in out {
            let _ = sock.send_to(&d, to).await;
        }
    }
}

/// Connections' rows of the server's clients.
fn peer_rows(w: &World) -> Vec<PeerRow> {
    w.peers
        .iter()
        .map(|(a, p)| PeerRow {
            id: p.name.clone(),
            addr: a.to_string(),
            role: PeerRole::Client,
            name: Some(format!(
                "rtt {} · pending {}",
                p.ep.rtt
                    .mean()
                    .map_or("-".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1000.0)),
                p.ep.pending.len()
            )),
            dropped: p.dropped,
            ..PeerRow::default()
        })
        .collect()
}

fn on_datagram(
    w: &mut World,
    cfg: &GameConfig,
    core: &Core,
    schema: &Schema,
    d: &[u8],
    from: SocketAddr,
    out: &mut Vec<(Vec<u8>, SocketAddr)>,
) {
    let now = Instant::now();
    let decoded = datagram::decode(d, schema);
    if !w.peers.contains_key(&from) {
        // Only a ConnectRequest is answered from an unknown address.
        let Some(m) = decoded
            .messages
            .iter()
            .find(|m| matches!(m.body, Body::ConnectRequest { .. }))
        else {
            core.tally("dropped (not connected)", Level::Warn, |n| {
                format!("a datagram from {from}, which is not connected, dropped ({n} so far)")
            });
            return;
        };
        let Body::ConnectRequest { protocol } = m.body else {
            return;
        };
        let mut ep = Endpoint::new(Arc::new(AtomicU16::new(1)), 12, cfg.max_pending);
        let inbound = ep.take_in(datagram::Decoded {
            messages: vec![m.clone()],
            rest: None,
        });
        out.extend(inbound.acks.into_iter().map(|a| (a, from)));
        if protocol != super::wire::PROTOCOL || w.peers.len() >= cfg.max_peers {
            let why = if protocol != super::wire::PROTOCOL {
                format!("protocol {protocol}, not {}", super::wire::PROTOCOL)
            } else {
                format!("{} peers already", cfg.max_peers)
            };
            core.tally("rejected", Level::Warn, |n| {
                format!("{from} rejected: {why} ({n} so far)")
            });
            // Said once; the rejected client is not kept.
            out.push((ep.system(&Body::ConnectRequestRejected, RELIABLE, now), from));
            return;
        }
        out.push((ep.system(&Body::ConnectRequestAccepted, RELIABLE, now), from));
        let name = format!("player{}", core.next_id());
        core.notice(Level::Info, format!("{name} connected from {from}"));
        w.peers.insert(
            from,
            Peer {
                ep,
                last_heard: now,
                last_sent_alive: now,
                name,
                dropped: 0,
            },
        );
        return;
    }
    let Some(p) = w.peers.get_mut(&from) else {
        return;
    };
    p.last_heard = now;
    let inbound = p.ep.take_in(decoded);
    out.extend(inbound.acks.into_iter().map(|a| (a, from)));
    if let Some(rest) = inbound.rest {
        core.malformed(
            format!("from {}: {}", p.name, rest.what),
            &crate::text::hex(&rest.bytes[..rest.bytes.len().min(2048)]),
        );
    }
    let name = p.name.clone();
    let mut chats = Vec::new();
    let mut gone = false;
    for m in inbound.fresh {
        match m.body {
            Body::Ping { id } => out.push((p.ep.system(&Body::Pong { id }, 0, now), from)),
            Body::Pong { id } => {
                p.ep.pong(id, now);
            }
            Body::MessageAck { id } => {
                p.ep.acked(id);
            }
            Body::KeepAliveResponse { .. } => {}
            Body::Disconnected => gone = true,
            Body::ConnectRequest { .. } => {
                // Its ConnectRequest again (our Accepted was lost): say it
                // again.
                out.push((p.ep.system(&Body::ConnectRequestAccepted, RELIABLE, now), from));
            }
            Body::User { ref name, .. } if name == "Chat" => {
                let text = match &m.body {
                    Body::User { fields, .. } => fields
                        .iter()
                        .find(|(k, _)| k == "text")
                        .and_then(|(_, v)| match v {
                            FieldValue::Str(s) => Some(s.clone()),
                            _ => None,
                        })
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                core.meter.message_in();
                core.meter.channel("Chat", m.len);
                chats.push(text);
            }
            Body::User { ref name, .. } => {
                core.meter.message_in();
                core.meter.channel(name, m.len);
            }
            other => core.notice(
                Level::Warn,
                format!("{name} sent {}, which a client does not send", other.name()),
            ),
        }
    }
    if gone {
        w.peers.remove(&from);
        core.notice(Level::Info, format!("{name} said Disconnected: let go"));
        return;
    }
    for text in chats {
        core.notice(
            Level::Info,
            format!("{name}: Chat {}", serde_json::Value::String(text.clone())),
        );
        let who: String = name.chars().take(8).collect();
        broadcast_chat(w, cfg, core, schema, &who, &text, Some(from), now, out);
    }
}

/// Resends, timeouts and keep-alives of every peer.
fn timers(
    w: &mut World,
    cfg: &GameConfig,
    core: &Core,
    now: Instant,
    out: &mut Vec<(Vec<u8>, SocketAddr)>,
) {
    let mut gone = Vec::new();
    for (addr, p) in w.peers.iter_mut() {
        if now.duration_since(p.last_heard) >= cfg.timeout {
            gone.push(*addr);
            continue;
        }
        let due = p.ep.due(now);
        out.extend(due.datagrams.into_iter().map(|d| (d, *addr)));
        for (id, m) in due.given_up {
            core.notice(
                Level::Warn,
                format!("{}: gave up on {} (message {id}) after {} sends", p.name, m.what, m.sends),
            );
        }
        // legume's keep-alive: when neither a ping nor a keep-alive went
        // out for half the timeout.
        if now.duration_since(p.last_sent_alive) >= cfg.timeout / 2 {
            p.last_sent_alive = now;
            let id = p.ep.next_id();
            out.push((p.ep.system(&Body::KeepAliveRequest { id }, 0, now), *addr));
        }
    }
    for addr in gone {
        if let Some(p) = w.peers.remove(&addr) {
            core.notice(
                Level::Info,
                format!(
                    "{} timed out: nothing heard for {:.1} s",
                    p.name,
                    cfg.timeout.as_secs_f64()
                ),
            );
        }
    }
}

/// Every bot moves a little; its position goes to every peer, unreliably.
fn moves(w: &mut World, schema: &Schema, out: &mut Vec<(Vec<u8>, SocketAddr)>) {
    let Some(def) = schema.named("Pos") else {
        return;
    };
    let mut msgs = Vec::new();
    for (i, who) in BOTS.iter().enumerate() {
        let (dx, dy) = (w.rng.f64() - 0.5, w.rng.f64() - 0.5);
        let (x, y) = &mut w.pos[i];
        *x = (*x + dx).clamp(-50.0, 50.0);
        *y = (*y + dy).clamp(-50.0, 50.0);
        msgs.push(vec![
            FieldValue::Str((*who).into()),
            FieldValue::Float((*x * 100.0).round() / 100.0),
            FieldValue::Float((*y * 100.0).round() / 100.0),
        ]);
    }
    for (addr, p) in w.peers.iter_mut() {
        let mut d = Vec::new();
        for vals in &msgs {
            if let Ok(m) = datagram::user_message(p.ep.next_id(), 0, def, vals) {
                d.push(m);
            }
        }
        out.extend(datagram::pack(d.iter().map(Vec::as_slice)).into_iter().map(|x| (x, *addr)));
    }
}

/// A Chat to every peer but `except`, reliably.
#[allow(clippy::too_many_arguments)]
fn broadcast_chat(
    w: &mut World,
    _cfg: &GameConfig,
    core: &Core,
    schema: &Schema,
    who: &str,
    text: &str,
    except: Option<SocketAddr>,
    now: Instant,
    out: &mut Vec<(Vec<u8>, SocketAddr)>,
) {
    let Some(def) = schema.named("Chat") else {
        return;
    };
    w.seq = w.seq.wrapping_add(1);
    // What fits one datagram.
    let mut text: String = text.to_string();
    while text.len() > 1200 {
        text.pop();
    }
    let vals = [
        FieldValue::Str(who.chars().take(8).collect()),
        FieldValue::Str(text),
        FieldValue::Int(w.seq),
        FieldValue::Float((w.started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
        FieldValue::Bool(0),
        FieldValue::Short(1),
        FieldValue::UChar((w.seq % 8) as u8),
    ];
    for (addr, p) in w.peers.iter_mut() {
        if Some(*addr) == except {
            continue;
        }
        if !p.ep.has_room() {
            p.dropped += 1;
            core.tally("not sent (acks overdue)", Level::Warn, |n| {
                format!(
                    "{}: a Chat not sent: {} reliable messages wait for its acks ({n} so far)",
                    p.name,
                    p.ep.pending.len()
                )
            });
            continue;
        }
        let id = p.ep.next_id();
        let Ok(m) = datagram::user_message(id, RELIABLE, def, &vals) else {
            continue;
        };
        p.ep.keep(id, m.clone(), format!("Chat #{id}"), false, now);
        core.meter.message_out();
        out.push((m, *addr));
    }
}
