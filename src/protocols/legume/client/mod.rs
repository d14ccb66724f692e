//! The legume client: roomtap connected to a legume 0.5 server as its
//! `Client` connects, without its defects, measuring everything from its own
//! view of the wire.
//!
//! - ConnectRequest (protocol 4, reliable) → ConnectRequestAccepted
//!   (CONNECTED) or ConnectRequestRejected: said, and no reconnect until
//!   `:connect`.
//! - **Every** reliable message received is acked, duplicates included
//!   (legume drops a duplicate without acking it again, so one lost ack
//!   makes its sender resend forever); duplicates are counted, shown once.
//! - Our reliable messages are resent after a delay from the measured round
//!   trip in seconds (legume uses the ping in milliseconds as seconds),
//!   doubling, capped, and given up after a number of sends (said).
//! - Ping every 2 s; the server's Ping is answered with Pong (same id), its
//!   KeepAliveRequest with KeepAliveResponse; Disconnected from the server
//!   ends the session (said); nothing heard for `timeout` → errored "timed
//!   out", then reconnect with backoff and jitter.
//! - Message ids are u16 and wrap (legume raises at 65 536).
//! - A message that cannot be decoded (an unknown type, cut short, a
//!   varstring longer than the datagram, bad flags) is shown with its
//!   offset and bytes; the messages before it are delivered, and a reliable
//!   one is still acked when its header could be read.

pub mod command;
pub mod source;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::event::{
    ChannelUpdate, Command, CommandKind, ConnState, EventKind, Level, LogRecord, TrafficStats,
};
use crate::link::meter::{FLUSH_EVERY, Meter};
use crate::link::udp::{UdpLink, UdpSender};
use crate::link::{Backoff, Documents, Received, SessionEnd, supervise};
use crate::protocols::legume::wire::reliable::Endpoint;
use crate::protocols::legume::wire::datagram::{self, Body, Header, Message, RELIABLE, Rest, Stop};
use crate::text::hex;
use crate::protocols::legume::wire::model::LegumeCommand;
use crate::protocols::legume::wire::schema::Schema;
use crate::protocols::legume::wire::{MTU, PROTOCOL};
use crate::source::{Emitter, FactBook};
use crate::protocols::legume::wire::stats::Snapshot;

#[derive(Debug, Clone)]
pub struct LegumeConfig {
    /// The server, `HOST:PORT`.
    pub addr: String,
    /// The user messages it knows (empty: shown in hex).
    pub schema: Arc<Schema>,
    /// Where the schema came from, to say so.
    pub schema_from: Option<String>,
    /// Nothing heard for this long: timed out (legume's default 10 s).
    pub timeout: Duration,
    /// How often we ping (legume: 2 s).
    pub ping_every: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Our reliable messages waiting for their ack, at most.
    pub max_pending: usize,
    /// Sends of one reliable message before it is given up.
    pub give_up_after: u32,
    /// Ordered messages held for their turn, at most.
    pub max_reorder: usize,
}

impl LegumeConfig {
    pub fn new(addr: &str) -> LegumeConfig {
        LegumeConfig {
            addr: addr.to_string(),
            schema: Arc::new(Schema::default()),
            schema_from: None,
            timeout: Duration::from_secs(10),
            ping_every: Duration::from_secs(2),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_pending: 256,
            give_up_after: 12,
            max_reorder: 256,
        }
    }
}

/// How often timers are looked at.
const TICK: Duration = Duration::from_millis(20);

/// Says Disconnected to the server once, as the run ends, when a session
/// is connected: the first caller does it, a second waits until it is done
/// (the run must not end before it is out).
#[derive(Default)]
pub struct Farewell {
    said: tokio::sync::OnceCell<()>,
    live: std::sync::Mutex<Option<(UdpSender, Arc<AtomicU16>)>>,
}

impl Farewell {
    fn set(&self, live: Option<(UdpSender, Arc<AtomicU16>)>) {
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = live;
    }

    pub async fn say(&self) {
        self.said.get_or_init(|| self.send()).await;
    }

    async fn send(&self) {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((tx, ids)) = live {
            let id = ids.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(&datagram::system(id, 0, &Body::Disconnected)).await;
        }
    }
}

/// Spawn the client's task; the returned `Farewell` is the source's
/// goodbye. The task ends when every command sender is gone.
pub fn spawn(cfg: LegumeConfig, em: Emitter, commands: mpsc::Receiver<Command>) -> Arc<Farewell> {
    let farewell = Arc::new(Farewell::default());
    let bye = farewell.clone();
    tokio::spawn(async move {
        let meter = Arc::new(Meter::for_source(&em));
        let facts = Arc::new(tokio::sync::Mutex::new(FactBook::default()));
        let backoff = Backoff::new(cfg.backoff_base, cfg.backoff_max);
        let session = |attempt: u32, em: Emitter, mut cmds: mpsc::Receiver<Command>| {
            let (cfg, meter, facts, bye) = (cfg.clone(), meter.clone(), facts.clone(), bye.clone());
            async move {
                let mut facts = facts.lock().await;
                let end = run(&cfg, &em, &meter, &bye, &mut facts, attempt, &mut cmds).await;
                meter.flush(&em).await;
                (end, cmds)
            }
        };
        supervise(em, commands, backoff, session).await;
    });
    farewell
}

/// How a session ended: for the supervisor, or parked until `:connect`.
enum Outcome {
    End(SessionEnd),
    Park(String),
}

/// Sessions until one ends for the supervisor; a parked one waits for
/// `:connect`.
async fn run(
    cfg: &LegumeConfig,
    em: &Emitter,
    meter: &Arc<Meter>,
    bye: &Farewell,
    facts: &mut FactBook,
    attempt: u32,
    cmds: &mut mpsc::Receiver<Command>,
) -> SessionEnd {
    loop {
        say_facts(em, facts, cfg, "CONNECTING", None).await;
        let link = match UdpLink::connect(&cfg.addr, meter.clone()).await {
            Ok(l) => l,
            Err(e) => {
                say_facts(em, facts, cfg, "ERRORED", None).await;
                return SessionEnd::Lost {
                    reason: format!("cannot reach {}: {e}", cfg.addr),
                    was_connected: false,
                };
            }
        };
        let ids = Arc::new(AtomicU16::new(1));
        bye.set(Some((link.sender(), ids.clone())));
        let mut s = Session::new(cfg, em, meter, link, ids);
        let outcome = s.run(cmds, facts, bye).await;
        bye.set(None);
        match outcome {
            Outcome::End(end) => {
                let state = match end {
                    SessionEnd::Shutdown => "DISCONNECTED",
                    _ => "ERRORED",
                };
                say_facts(em, facts, cfg, state, Some(&s)).await;
                return end;
            }
            Outcome::Park(reason) => {
                let state = if reason.contains("rejected") {
                    "ERRORED"
                } else {
                    "DISCONNECTED"
                };
                say_facts(em, facts, cfg, state, Some(&s)).await;
                s.report().await;
                meter.flush(em).await;
                em.conn(ConnState::Errored {
                    reason,
                    will_reconnect: false,
                    retry_in: None,
                })
                .await;
                loop {
                    match cmds.recv().await {
                        None => return SessionEnd::Shutdown,
                        Some(Command {
                            kind: CommandKind::Legume(LegumeCommand::Connect),
                            ..
                        }) => break,
                        Some(c) => {
                            em.log(
                                Level::Warn,
                                "command",
                                format!(
                                    "not connected: {} was not sent (:connect first)",
                                    c.kind.describe()
                                ),
                            )
                            .await;
                        }
                    }
                }
                em.conn(ConnState::Connecting { attempt }).await;
            }
        }
    }
}

async fn say_facts(
    em: &Emitter,
    facts: &mut FactBook,
    cfg: &LegumeConfig,
    state: &str,
    s: Option<&Session<'_>>,
) {
    let mut rows = vec![
        ("legume state".to_string(), state.to_string()),
        ("server".to_string(), cfg.addr.clone()),
    ];
    if let Some(s) = s {
        rows.push(("server address".into(), s.link.peer().to_string()));
        if let Ok(l) = s.link.local() {
            rows.push(("local address".into(), l.to_string()));
        }
    }
    let names: Vec<&str> = cfg.schema.messages().map(|m| m.name.as_str()).collect();
    let schema = match (&cfg.schema_from, names.is_empty()) {
        (None, _) => "none: user messages are shown in hex (--schema FILE)".to_string(),
        (Some(p), true) => format!("{p} (no message)"),
        (Some(p), false) => format!("{p} ({})", names.join(", ")),
    };
    rows.push(("schema".into(), schema));
    rows.push((
        "timeout".into(),
        format!("{:.1} s", cfg.timeout.as_secs_f64()),
    ));
    if let Some(changes) = facts.update(rows) {
        em.emit(EventKind::Facts(changes)).await;
    }
}

struct Session<'a> {
    cfg: &'a LegumeConfig,
    em: &'a Emitter,
    meter: &'a Meter,
    link: UdpLink,
    ep: Endpoint,
    connected: bool,
    started: Instant,
    last_heard: Instant,
    next_ping: Instant,
    /// Ordered messages waiting for their turn: seq → (message, since).
    reorder: HashMap<u16, (Message, Instant)>,
    next_seq: Option<u16>,
    /// The newest fields of each message type since the last report.
    last_fields: BTreeMap<String, String>,
    /// Message types seen (their channel said available).
    types_seen: std::collections::HashSet<String>,
    /// Traffic at the last reports (a second's worth), for the rates.
    last_stats: std::collections::VecDeque<(TrafficStats, Instant)>,
}

impl<'a> Session<'a> {
    fn new(
        cfg: &'a LegumeConfig,
        em: &'a Emitter,
        meter: &'a Meter,
        link: UdpLink,
        ids: Arc<AtomicU16>,
    ) -> Session<'a> {
        let now = Instant::now();
        Session {
            cfg,
            em,
            meter,
            link,
            ep: Endpoint::new(ids, cfg.give_up_after, cfg.max_pending),
            connected: false,
            started: now,
            last_heard: now,
            next_ping: now + cfg.ping_every,
            reorder: HashMap::new(),
            next_seq: None,
            last_fields: BTreeMap::new(),
            types_seen: Default::default(),
            last_stats: std::collections::VecDeque::from([(meter.stats(), now)]),
        }
    }

    fn lost(&self, reason: String) -> Outcome {
        Outcome::End(SessionEnd::Lost {
            reason,
            was_connected: self.connected,
        })
    }

    async fn send(&self, d: &[u8]) -> Result<(), Outcome> {
        self.link
            .send(&(), d)
            .await
            .map_err(|e| self.lost(format!("cannot send to {}: {e}", self.cfg.addr)))
    }

    /// Send one of legume's own messages; a reliable one is kept until
    /// acked.
    async fn system(&mut self, body: Body, flags: u8) -> Result<(), Outcome> {
        let bytes = self.ep.system(&body, flags, Instant::now());
        self.send(&bytes).await
    }

    async fn run(
        &mut self,
        cmds: &mut mpsc::Receiver<Command>,
        facts: &mut FactBook,
        bye: &Farewell,
    ) -> Outcome {
        self.em.conn(ConnState::Handshaking).await;
        if let Err(o) = self
            .system(Body::ConnectRequest { protocol: PROTOCOL }, RELIABLE)
            .await
        {
            return o;
        }
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut report = tokio::time::interval(FLUSH_EVERY);
        report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                got = self.link.recv() => {
                    let outcome = match got {
                        None => Some(self.lost("the UDP socket closed".into())),
                        Some(Received::Document(d)) => self.on_datagram(&d).await,
                        Some(Received::Gone { why }) => Some(self.lost(why)),
                        Some(Received::Bad { why, head }) => {
                            self.em.emit(EventKind::Malformed { what: why, raw: hex(&head) }).await;
                            None
                        }
                    };
                    if let Some(o) = outcome {
                        return o;
                    }
                    if self.connected && facts_pending(facts) {
                        say_facts(self.em, facts, self.cfg, "CONNECTED", Some(self)).await;
                    }
                }
                cmd = cmds.recv() => match cmd {
                    None => {
                        bye.say().await;
                        return Outcome::End(SessionEnd::Shutdown);
                    }
                    Some(c) => if let Some(o) = self.command(c).await {
                        return o;
                    },
                },
                _ = tick.tick() => if let Some(o) = self.timers().await {
                    return o;
                },
                _ = report.tick() => {
                    self.report().await;
                    self.meter.flush(self.em).await;
                }
            }
        }
    }

    /// Everything due: the timeout, our ping, resends, a reorder gap that
    /// will not fill.
    async fn timers(&mut self) -> Option<Outcome> {
        let now = Instant::now();
        let quiet = now.duration_since(self.last_heard);
        if quiet >= self.cfg.timeout {
            return Some(self.lost(format!(
                "timed out: nothing heard from {} for {:.1} s",
                self.cfg.addr,
                quiet.as_secs_f64()
            )));
        }
        if self.connected && now >= self.next_ping {
            self.next_ping = now + self.cfg.ping_every;
            let d = self.ep.ping(now, self.cfg.timeout);
            if let Err(o) = self.send(&d).await {
                return Some(o);
            }
        }
        // Resends, packed; given up after `give_up_after` sends.
        let due = self.ep.due(now);
        for d in &due.datagrams {
            if let Err(o) = self.send(d).await {
                return Some(o);
            }
        }
        for (id, p) in due.given_up {
            let why = format!(
                "gave up on {} (message {id}) after {} sends in {:.1} s: never acked",
                p.what,
                p.sends,
                now.duration_since(p.first).as_secs_f64()
            );
            if p.connect {
                return Some(self.lost(format!("no answer to ConnectRequest: {why}")));
            }
            self.em.log(Level::Error, "legume", why).await;
        }
        // A gap in ordered messages that stays open for half the timeout:
        // what waits behind it is delivered, and that is said.
        if let Some(oldest) = self.reorder.values().map(|(_, at)| *at).min()
            && now.duration_since(oldest) >= self.cfg.timeout / 2
        {
            return self.release_reorder("it waited too long").await;
        }
        None
    }

    /// Deliver every held ordered message, past the gap, in order.
    async fn release_reorder(&mut self, why: &str) -> Option<Outcome> {
        let want = self.next_seq.unwrap_or(0);
        let mut held: Vec<(u16, Message)> = self
            .reorder
            .drain()
            .map(|(seq, (m, _))| (seq, m))
            .collect();
        held.sort_by_key(|(seq, _)| seq.wrapping_sub(want));
        if let Some((first, _)) = held.first() {
            self.em
                .log(
                    Level::Warn,
                    "legume",
                    format!(
                        "ordered messages from seq {first} delivered without seq {want} ({why}): {} held",
                        held.len()
                    ),
                )
                .await;
        }
        let mut outcome = None;
        for (seq, m) in held {
            self.next_seq = Some(seq.wrapping_add(1));
            if let Some(o) = self.deliver(m).await {
                outcome = Some(o);
            }
        }
        outcome
    }

    async fn on_datagram(&mut self, d: &[u8]) -> Option<Outcome> {
        self.last_heard = Instant::now();
        if d.len() > MTU {
            self.em
                .log(
                    Level::Warn,
                    "legume",
                    format!(
                        "a datagram of {} bytes, over legume's {MTU}-byte MTU (a legume peer reads only the first {MTU}); decoded whole",
                        d.len()
                    ),
                )
                .await;
        }
        let inbound = self.ep.take_in(datagram::decode(d, &self.cfg.schema));
        let mut outcome = None;
        for m in inbound.fresh {
            let o = if m.header.ordered() {
                self.ordered(m).await
            } else {
                self.deliver(m).await
            };
            if o.is_some() {
                outcome = o;
            }
        }
        if let Some(rest) = inbound.rest {
            self.undecoded(rest).await;
        }
        for a in &inbound.acks {
            if let Err(o) = self.send(a).await {
                return Some(o);
            }
        }
        outcome
    }

    /// An ordered message: delivered in its turn, held until then.
    async fn ordered(&mut self, m: Message) -> Option<Outcome> {
        let seq = m.header.seq;
        let want = *self.next_seq.get_or_insert(seq);
        let ahead = seq.wrapping_sub(want);
        if ahead == 0 {
            self.next_seq = Some(seq.wrapping_add(1));
            let mut outcome = self.deliver(m).await;
            while let Some(next) = self.next_seq
                && let Some((m, _)) = self.reorder.remove(&next)
            {
                self.next_seq = Some(next.wrapping_add(1));
                if let Some(o) = self.deliver(m).await {
                    outcome = Some(o);
                }
            }
            return outcome;
        }
        if ahead >= 0x8000 {
            // Behind what was delivered: late, delivered as it comes.
            return self.deliver(m).await;
        }
        if self.reorder.len() >= self.cfg.max_reorder
            && let Some(o) = self.release_reorder("the reorder queue is full").await
        {
            return Some(o);
        }
        self.reorder.insert(seq, (m, Instant::now()));
        None
    }

    async fn deliver(&mut self, m: Message) -> Option<Outcome> {
        match m.body {
            Body::ConnectRequestAccepted => {
                if !self.connected {
                    self.connected = true;
                    self.next_ping = Instant::now() + self.cfg.ping_every;
                    let session = match self.link.local() {
                        Ok(l) => format!("{l} → {}", self.link.peer()),
                        Err(_) => self.link.peer().to_string(),
                    };
                    self.em
                        .conn(ConnState::Connected {
                            session: Some(session),
                        })
                        .await;
                    self.em
                        .log(
                            Level::Info,
                            "legume",
                            format!(
                                "connected to {} (ConnectRequestAccepted after {:.1} ms)",
                                self.cfg.addr,
                                self.started.elapsed().as_secs_f64() * 1000.0
                            ),
                        )
                        .await;
                }
            }
            Body::ConnectRequestRejected => {
                return Some(Outcome::Park(format!(
                    "{} rejected the connection (ConnectRequestRejected): :connect tries again",
                    self.cfg.addr
                )));
            }
            Body::Disconnected => {
                return Some(self.lost(format!(
                    "{} said Disconnected: the server ended the session",
                    self.cfg.addr
                )));
            }
            Body::KeepAliveRequest { id } => {
                self.ep.counts.keepalives += 1;
                if let Err(o) = self.system(Body::KeepAliveResponse { id }, 0).await {
                    return Some(o);
                }
            }
            Body::KeepAliveResponse { .. } => {}
            Body::MessageAck { id } => {
                self.ep.acked(id);
            }
            Body::Ping { id } => {
                if let Err(o) = self.system(Body::Pong { id }, 0).await {
                    return Some(o);
                }
            }
            Body::Pong { id } => {
                if let Some(d) = self.ep.pong(id, Instant::now()) {
                    self.em.emit(EventKind::Rtt(d)).await;
                }
            }
            Body::ConnectRequest { protocol } => {
                self.em
                    .log(
                        Level::Warn,
                        "legume",
                        format!("the server sent a ConnectRequest (protocol {protocol}): a client's message, ignored"),
                    )
                    .await;
            }
            Body::User { .. } => self.user(&m.header, m.len, &m.body).await,
        }
        None
    }

    async fn user(&mut self, h: &Header, len: usize, body: &Body) {
        let Body::User { name, notes, .. } = body else {
            return;
        };
        self.meter.message_in();
        self.meter.channel(name, len);
        let fields = body
            .fields_json()
            .map(|v| v.to_string())
            .unwrap_or_default();
        if self.types_seen.len() < 1024 && self.types_seen.insert(name.clone()) {
            let mut facts = vec![("type id".to_string(), h.type_id.to_string())];
            if let Some(def) = self.cfg.schema.get(h.type_id) {
                facts.push(("fields".into(), def.signature()));
            }
            self.em
                .emit(EventKind::ChannelState {
                    channel: name.clone(),
                    update: ChannelUpdate::Available {
                        facts,
                        state: Some(fields.clone()),
                    },
                })
                .await;
        } else {
            self.last_fields.insert(name.clone(), fields.clone());
        }
        let mut summary = body.line();
        let how = match (h.wants_ack(), h.ordered()) {
            (_, true) => "ordered",
            (true, false) => "reliable",
            _ => "",
        };
        summary.push_str(&format!(" · #{}", h.id));
        if !how.is_empty() {
            summary.push(' ');
            summary.push_str(how);
        }
        let level = if notes.is_empty() {
            Level::Info
        } else {
            summary.push_str(" · ⚠ ");
            summary.push_str(&notes.join("; "));
            Level::Warn
        };
        self.em.log_data(level, name, summary, Some(fields)).await;
    }

    /// What could not be decoded: a user type without a schema entry is a
    /// line with its bytes in hex; anything else an error entry.
    async fn undecoded(&mut self, rest: Rest) {
        let shown = &rest.bytes[..rest.bytes.len().min(4096)];
        if rest.stop == Stop::Undescribed
            && let Some(h) = rest.header
        {
            let channel = format!("type {}", h.type_id);
            self.meter.message_in();
            self.meter.channel(&channel, rest.bytes.len());
            let data = serde_json::json!({
                "type_id": h.type_id,
                "message_id": h.id,
                "flags": h.flags,
                "offset": rest.offset,
                "len": rest.bytes.len(),
            });
            let level = if self.cfg.schema.is_empty() {
                Level::Info
            } else {
                Level::Warn
            };
            let head = hex(&rest.bytes[..rest.bytes.len().min(24)]);
            let summary = format!(
                "{} · {} bytes not decoded: {head}{}",
                rest.what,
                rest.bytes.len(),
                if rest.bytes.len() > 24 { "…" } else { "" }
            );
            self.em
                .emit(EventKind::Log(LogRecord {
                    level,
                    kind: channel,
                    summary,
                    data: Some(data.to_string()),
                    bytes: Some(rest.bytes),
                }))
                .await;
            return;
        }
        self.em
            .emit(EventKind::Malformed {
                what: format!("{}; {} bytes not decoded", rest.what, rest.bytes.len()),
                raw: hex(shown),
            })
            .await;
    }

    async fn command(&mut self, c: Command) -> Option<Outcome> {
        let CommandKind::Legume(cmd) = c.kind else {
            return None;
        };
        match cmd {
            LegumeCommand::Connect => {
                self.em
                    .log(Level::Info, "command", "connect: already connected or connecting")
                    .await;
                None
            }
            LegumeCommand::Disconnect => {
                let o = self.system(Body::Disconnected, 0).await.err();
                o.or_else(|| {
                    Some(Outcome::Park(format!(
                        "disconnected from {} (by you): :connect connects again",
                        self.cfg.addr
                    )))
                })
            }
            LegumeCommand::Send {
                reliable,
                message,
                values,
            } => {
                if let Err(why) = self.send_user(reliable, &message, &values).await {
                    self.em
                        .log(Level::Error, "command", format!("not sent: {why}"))
                        .await;
                }
                None
            }
        }
    }

    async fn send_user(
        &mut self,
        reliable: bool,
        message: &str,
        values: &[(String, String)],
    ) -> Result<(), String> {
        use crate::protocols::legume::wire::datagram::FieldValue;
        let schema = &self.cfg.schema;
        let Some(def) = schema.named(message) else {
            let known: Vec<&str> = schema.messages().map(|m| m.name.as_str()).collect();
            return Err(if known.is_empty() {
                format!("no --schema describes {message}")
            } else {
                format!(
                    "{} is not in the schema ({})",
                    crate::text::sanitize_capped(message, 40),
                    known.join(", ")
                )
            });
        };
        for (k, _) in values {
            if !def.fields.iter().any(|f| f.name == *k) {
                return Err(format!(
                    "{} has no field {} ({})",
                    def.name,
                    crate::text::sanitize_capped(k, 40),
                    def.signature()
                ));
            }
        }
        let mut vals = Vec::with_capacity(def.fields.len());
        for f in &def.fields {
            let v = match values.iter().find(|(k, _)| *k == f.name) {
                Some((_, text)) => {
                    FieldValue::parse(f.ty, text).map_err(|e| format!("{}: {e}", f.name))?
                }
                None => FieldValue::zero(f.ty),
            };
            vals.push(v);
        }
        if !self.connected {
            return Err("not connected yet".into());
        }
        if reliable && !self.ep.has_room() {
            return Err(format!(
                "{} reliable messages wait for their ack",
                self.ep.pending.len()
            ));
        }
        let id = self.ep.next_id();
        let flags = if reliable { RELIABLE } else { 0 };
        let bytes = datagram::user_message(id, flags, def, &vals)?;
        let body = Body::User {
            name: def.name.clone(),
            fields: def
                .fields
                .iter()
                .map(|f| f.name.clone())
                .zip(vals)
                .collect(),
            notes: Vec::new(),
        };
        if reliable {
            self.ep.keep(
                id,
                bytes.clone(),
                format!("{} #{id}", def.name),
                false,
                Instant::now(),
            );
        }
        self.link
            .send(&(), &bytes)
            .await
            .map_err(|e| format!("cannot send: {e}"))?;
        self.meter.message_out();
        let how = if reliable {
            "reliable: resent until acked"
        } else {
            "unreliable"
        };
        self.em
            .log_data(
                Level::Info,
                "sent",
                format!("→ {} · #{id} {how}", body.line()),
                body.fields_json().map(|v| v.to_string()),
            )
            .await;
        Ok(())
    }

    /// Metrics, and the newest fields of each message type.
    async fn report(&mut self) {
        let now = Instant::now();
        let stats = self.meter.stats();
        // Over the last second (a game's 1 Hz updates would make a 250 ms
        // window flicker between 0 and a peak).
        while self.last_stats.len() > 1
            && now.duration_since(self.last_stats[1].1) >= Duration::from_secs(1)
        {
            self.last_stats.pop_front();
        }
        let (last, at) = self.last_stats.front().copied().unwrap_or((stats, now));
        let secs = now.duration_since(at).as_secs_f64().max(1e-3);
        let rate_in = stats.bytes_in.saturating_sub(last.bytes_in) as f64 / secs;
        let rate_out = stats.bytes_out.saturating_sub(last.bytes_out) as f64 / secs;
        self.last_stats.push_back((stats, now));
        let snap = Snapshot {
            rtt: &self.ep.rtt,
            counts: &self.ep.counts,
            span: &self.ep.span,
            pending_acks: self.ep.pending.len(),
            reorder_queue: self.reorder.len(),
            out_buffer_bytes: self.ep.out_buffer_bytes(),
            rate_in,
            rate_out,
        };
        self.em.emit(EventKind::Metrics(snap.metrics())).await;
        for (name, fields) in std::mem::take(&mut self.last_fields) {
            self.em
                .emit(EventKind::ChannelState {
                    channel: name,
                    update: ChannelUpdate::State { state: fields },
                })
                .await;
        }
    }
}

/// Whether the facts still say a session is not connected (said once when
/// it connects).
fn facts_pending(facts: &FactBook) -> bool {
    !facts.says("legume state", "CONNECTED")
}
