//! MeshAgent room source: connects like `RoomClient` (binary packets,
//! `room_ready` + `connected` handshake, `__response__` correlation),
//! watches developer logs with whichever generation the room speaks (the
//! developer toolkit's `logs` stream, else legacy `developer.watch`), and
//! sends developer logs. The token is sent as `Authorization: Bearer` and
//! is never shown, logged or recorded.

pub mod codec;
pub mod command;
pub mod model;
pub mod token;

/// What a room source can do: `:` commands and `w`.
pub const CAPS: crate::sources::kind::Caps = crate::sources::kind::Caps {
    commands: true,
    targets_instances: false,
    command_line: Some(crate::sources::kind::CommandLine {
        usage: command::USAGE,
        verbs: command::VERBS,
        parse: command::parse_line,
    }),
    watch: Some(|| CommandKind::Room(RoomCommand::Watch(None))),
};
pub mod logs;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::event::{ChannelChange, Command, CommandKind, ConnState, EventKind, Level, LogRecord};
use crate::sources::meter::{self, Meter};
use crate::sources::room::model::{DevLog, RoomCommand};
use crate::sources::room::token::Secret;
use crate::sources::transport::{self, Dial, Refusal, Words, Ws};
use crate::sources::{Backoff, Emitter, SessionEnd, supervise};
use codec::{Assembler, Content};

/// The SDKs' default when no base URL is configured.
pub const DEFAULT_BASE: &str = "wss://api.meshagent.com";

/// Which developer-log protocol to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// The toolkit, falling back to legacy when the room does not know it.
    Auto,
    /// `room.invoke_tool` developer/`logs` (SDKs from 2026-03, Python ≥ 0.30).
    Current,
    /// `developer.watch` / `unwatch` / `log` (Python ≤ 0.29.4, older TS/Dart).
    Legacy,
}

#[derive(Clone)]
pub struct RoomConfig {
    /// `ws[s]://HOST/rooms/NAME` (no token in it).
    pub url: String,
    pub token: Option<Secret>,
    /// Start watching developer logs once connected.
    pub watch: bool,
    pub generation: Generation,
    pub connect_timeout: Duration,
    /// How long `room_ready` + `connected` may take.
    pub ready_timeout: Duration,
    /// With `Auto`: no answer to the toolkit this long → try legacy.
    pub open_timeout: Duration,
    /// WebSocket ping period (RTT shown; two missed pongs drop the link).
    pub ping_every: Duration,
    pub max_message: usize,
}

impl RoomConfig {
    pub fn new(url: &str, token: Option<Secret>) -> Self {
        Self {
            url: url.to_string(),
            token,
            watch: true,
            generation: Generation::Auto,
            connect_timeout: Duration::from_secs(10),
            ready_timeout: Duration::from_secs(10),
            open_timeout: Duration::from_secs(3),
            ping_every: Duration::from_secs(20),
            max_message: codec::DEFAULT_MAX_MESSAGE,
        }
    }
}

/// `URL` as given, or `NAME` under `MESHAGENT_ROOM_URL` /
/// `MESHAGENT_API_URL` (http→ws) / the default, as the SDKs build it.
pub fn room_url(target: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    if target.contains("://") {
        if !(target.starts_with("ws://") || target.starts_with("wss://")) {
            return Err(format!(
                "a room URL starts with ws:// or wss://, not {:?}",
                target.split("://").next().unwrap_or("")
            ));
        }
        return Ok(target.to_string());
    }
    let valid = !target.is_empty()
        && target.len() <= 63
        && target
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !target.starts_with('-')
        && !target.ends_with('-');
    if !valid {
        return Err(format!(
            "{target:?} is neither a ws:// URL nor a room name (1–63 of a-z, 0-9 and -, not starting or ending with -)"
        ));
    }
    let base = env("MESHAGENT_ROOM_URL")
        .filter(|s| !s.is_empty())
        .or_else(|| {
            env("MESHAGENT_API_URL").filter(|s| !s.is_empty()).map(|u| {
                if let Some(r) = u.strip_prefix("https:") {
                    format!("wss:{r}")
                } else if let Some(r) = u.strip_prefix("http:") {
                    format!("ws:{r}")
                } else {
                    u
                }
            })
        })
        .unwrap_or_else(|| DEFAULT_BASE.to_string());
    Ok(format!("{}/rooms/{target}", base.trim_end_matches('/')))
}

/// Takes a `token=` query parameter out of a URL (it would be shown and
/// kept in history); returns the clean URL and the token.
pub fn split_token(url: &str) -> (String, Option<Secret>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut token = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("token=") {
            Some(t) => {
                token = Some(Secret::new(t));
                false
            }
            None => !kv.is_empty(),
        })
        .collect();
    let clean = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (clean, token)
}

/// What survives reconnects.
#[derive(Default)]
struct Persist {
    /// The user wants developer logs.
    want_watch: bool,
    /// The generation the room turned out to speak.
    learned: Option<Generation>,
    next_call: u64,
}

/// Spawn the room task. It ends when every command sender is dropped.
pub fn spawn(
    cfg: RoomConfig,
    em: Emitter,
    commands: mpsc::Receiver<Command>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let persist = Arc::new(Mutex::new(Persist {
            want_watch: cfg.watch,
            learned: match cfg.generation {
                Generation::Auto => None,
                g => Some(g),
            },
            next_call: 1,
        }));
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        supervise(em, commands, backoff, |_attempt, em, mut cmds| {
            let cfg = cfg.clone();
            let persist = persist.clone();
            async move {
                let end = session(&cfg, &em, &mut cmds, &persist).await;
                (end, cmds)
            }
        })
        .await;
    })
}

/// Requests awaiting their `__response__`.
#[derive(Debug, Clone)]
enum Pending {
    OpenStream {
        call: String,
    },
    CloseStream {
        call: String,
    },
    /// Closing a stream given up on (no answer in time): nothing to update.
    Abandon,
    Watch,
    Unwatch,
    Log {
        what: String,
        legacy_retry: Option<(String, Vec<u8>)>,
        /// Sent as legacy `developer.*`: a success teaches the generation.
        legacy: bool,
    },
}

/// How long a request may wait for its `__response__` before it is given
/// up on (and said so).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watching {
    Off,
    /// Asked; `since` for the toolkit fallback timeout.
    Opening(Generation, Instant),
    On(Generation),
    Closing,
}

struct Session<'a> {
    em: &'a Emitter,
    cfg: &'a RoomConfig,
    ws: Ws,
    persist: &'a Mutex<Persist>,
    asm: Assembler,
    next_id: u64,
    pending: HashMap<u64, (Pending, Instant)>,
    meter: Meter,
    watching: Watching,
    /// The open (or opening) toolkit stream's tool call id.
    stream: Option<String>,
    /// The stream closed last: its late chunks are expected, not strange.
    closed_stream: Option<String>,
    room: String,
    session_id: String,
    participant: String,
    status: Option<String>,
    facts_sent: Vec<(String, String)>,
    ping_sent: Option<Instant>,
    missed_pongs: u32,
    /// Events noted while reading frames, emitted right after.
    reports: Vec<EventKind>,
}

async fn session(
    cfg: &RoomConfig,
    em: &Emitter,
    cmds: &mut mpsc::Receiver<Command>,
    persist: &Mutex<Persist>,
) -> SessionEnd {
    let mut req = match cfg.url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => {
            return SessionEnd::Fatal {
                reason: format!("bad room URL: {e}"),
            };
        }
    };
    if let Some(t) = &cfg.token {
        match format!("Bearer {}", t.expose()).parse() {
            Ok(v) => {
                req.headers_mut().insert("authorization", v);
            }
            Err(_) => {
                return SessionEnd::Fatal {
                    reason: "the token holds characters that cannot go in a header".into(),
                };
            }
        }
    }
    let dial = Dial {
        timeout: cfg.connect_timeout,
        config: Some(
            WebSocketConfig::default()
                .max_message_size(Some(codec::CHUNK * 64 + 64))
                .max_frame_size(Some(codec::CHUNK * 64 + 64)),
        ),
        nodelay: true,
    };
    let words = Words {
        bad_url: "bad room URL",
        http: &|status, body| refusal(status, body, cfg.token.as_ref()),
    };
    let ws = match transport::connect(req, &dial, &words).await {
        Ok(ws) => ws,
        Err(end) => return end,
    };
    if !em.conn(ConnState::Handshaking).await {
        return SessionEnd::Shutdown;
    }
    let mut s = Session {
        em,
        cfg,
        ws,
        persist,
        asm: Assembler::new(cfg.max_message),
        next_id: 1,
        pending: HashMap::new(),
        meter: Meter::new(),
        watching: Watching::Off,
        stream: None,
        closed_stream: None,
        room: String::new(),
        session_id: String::new(),
        participant: String::new(),
        status: None,
        facts_sent: Vec::new(),
        ping_sent: None,
        missed_pongs: 0,
        reports: Vec::new(),
    };
    if let Err(end) = s.handshake().await {
        return end;
    }
    if !em
        .conn(ConnState::Connected {
            session: Some(s.session_id.clone()),
        })
        .await
    {
        return SessionEnd::Shutdown;
    }
    em.log(
        Level::Info,
        "room",
        format!(
            "joined room {} as {} (session {})",
            s.room, s.participant, s.session_id
        ),
    )
    .await;
    let want = persist.lock().map(|p| p.want_watch).unwrap_or(true);
    if want && let Err(end) = s.open_watch().await {
        return end;
    }
    s.report_facts().await;
    s.run(cmds).await
}

/// The room's words for an HTTP answer instead of the upgrade (the body
/// shown, any token in it masked).
fn refusal(status: StatusCode, body: &str, token: Option<&Secret>) -> Refusal {
    let status = status.as_u16();
    let mut body = body.to_string();
    // A proxy may echo the request: never show the token.
    if let Some(tok) = token.filter(|t| !t.is_empty()) {
        body = body.replace(tok.expose(), "***");
    }
    let body: String = body.chars().take(200).collect();
    let body = match body.trim() {
        "" => String::new(),
        b => format!(" ({b})"),
    };
    match status {
        403 | 401 => Refusal::Fatal(if token.is_some() {
            format!(
                "the room refused the token (HTTP {status}){body}: is it signed for this room's project, with a room grant for it, and not expired? Not retried."
            )
        } else {
            format!(
                "the room wants a token (HTTP {status}){body}: pass --token-file, MESHAGENT_TOKEN or --token-env. Not retried."
            )
        }),
        404 => Refusal::Fatal(format!(
            "no room at this URL (HTTP 404){body}: check the room name and the base URL (MESHAGENT_ROOM_URL / MESHAGENT_API_URL). Not retried."
        )),
        423 => Refusal::Fatal(format!(
            "this room is currently disabled (HTTP 423){body}. Not retried."
        )),
        _ => Refusal::Retry(format!(
            "the room answered HTTP {status} instead of a WebSocket upgrade{body}"
        )),
    }
}

fn lost(reason: impl Into<String>) -> SessionEnd {
    SessionEnd::Lost {
        reason: reason.into(),
        was_connected: true,
    }
}

impl Session<'_> {
    fn next_call_id(&self) -> String {
        let n = self
            .persist
            .lock()
            .map(|mut p| {
                p.next_call += 1;
                p.next_call
            })
            .unwrap_or(0);
        format!("roomtap-{}-{n}", crate::event::now_ms())
    }

    fn learned(&self) -> Option<Generation> {
        self.persist.lock().ok().and_then(|p| p.learned)
    }

    fn learn(&self, g: Generation) {
        if let Ok(mut p) = self.persist.lock() {
            p.learned = Some(g);
        }
    }

    fn set_want(&self, on: bool) {
        if let Ok(mut p) = self.persist.lock() {
            p.want_watch = on;
        }
    }

    /// Send one message; returns its id.
    async fn send(&mut self, kind: &str, head: &Value, payload: &[u8]) -> Result<u64, SessionEnd> {
        let id = self.next_id;
        self.next_id += 1;
        let data = codec::pack(&head.to_string(), payload);
        let packets = codec::encode(id, kind, &data);
        for p in packets {
            self.meter.frame_out(p.len());
            self.ws
                .feed(WsMessage::Binary(p.into()))
                .await
                .map_err(|e| lost(format!("send failed: {e}")))?;
        }
        self.ws
            .flush()
            .await
            .map_err(|e| lost(format!("send failed: {e}")))?;
        self.meter.message_out();
        Ok(id)
    }

    async fn request(
        &mut self,
        kind: &str,
        head: &Value,
        payload: &[u8],
        pending: Pending,
    ) -> Result<u64, SessionEnd> {
        let id = self.send(kind, head, payload).await?;
        self.pending.insert(id, (pending, Instant::now()));
        Ok(id)
    }

    /// Wait for `room_ready` and `connected` (init).
    async fn handshake(&mut self) -> Result<(), SessionEnd> {
        let deadline = Instant::now() + self.cfg.ready_timeout;
        let (mut ready, mut init) = (false, false);
        while !(ready && init) {
            self.flush_reports().await;
            let msg = match tokio::time::timeout_at(deadline, self.next_message()).await {
                Err(_) => {
                    return Err(SessionEnd::Lost {
                        reason: format!(
                            "the room did not send room_ready and connected within {:?}",
                            self.cfg.ready_timeout
                        ),
                        was_connected: false,
                    });
                }
                Ok(Err(end)) => return Err(end),
                Ok(Ok(None)) => continue,
                Ok(Ok(Some(m))) => m,
            };
            let (head, _) = match codec::unpack(&msg.data) {
                Ok(x) => x,
                Err(e) => {
                    self.malformed(format!("{}: {e}", msg.kind), &msg.data)
                        .await;
                    continue;
                }
            };
            match msg.kind.as_str() {
                "room_ready" => {
                    ready = true;
                    self.room = str_of(&head, "room_name");
                    self.session_id = str_of(&head, "session_id");
                }
                "connected" if head.get("type").and_then(Value::as_str) == Some("init") => {
                    init = true;
                    self.participant = str_of(&head, "participantId");
                }
                _ => {
                    self.on_message(msg.kind, msg.id, head, &[]).await?;
                }
            }
        }
        Ok(())
    }

    /// The next complete message; `Ok(None)` for frames that complete none
    /// (data packets, pings, errors already reported).
    async fn next_message(&mut self) -> Result<Option<codec::Message>, SessionEnd> {
        let frame = match self.ws.next().await {
            None => return Err(lost("the room closed the connection")),
            Some(Err(e)) => return Err(lost(format!("connection lost: {e}"))),
            Some(Ok(f)) => f,
        };
        self.meter.frame_in(match &frame {
            WsMessage::Binary(b) => b.len(),
            WsMessage::Text(t) => t.len(),
            _ => 0,
        });
        match frame {
            WsMessage::Binary(b) => {
                let (err, msg) = self.asm.feed(&b);
                if let Some(e) = err {
                    self.note_malformed(e.0, &b);
                }
                if msg.is_some() {
                    self.meter.message_in();
                }
                Ok(msg)
            }
            WsMessage::Text(t) => {
                self.note_malformed(
                    "a text frame: the room protocol is binary packets only".into(),
                    t.as_bytes(),
                );
                Ok(None)
            }
            WsMessage::Pong(p) => {
                // Only our own pong answers our ping.
                if p.as_ref() == b"roomtap"
                    && let Some(at) = self.ping_sent.take()
                {
                    self.missed_pongs = 0;
                    self.reports.push(EventKind::Rtt(at.elapsed()));
                }
                Ok(None)
            }
            WsMessage::Close(c) => {
                let why = c
                    .map(|c| format!("code {} {}", u16::from(c.code), c.reason))
                    .unwrap_or_else(|| "no code".into());
                Err(lost(format!("the room closed the connection ({why})")))
            }
            _ => Ok(None),
        }
    }

    /// A malformed frame, reported after the frame is handled: reading a
    /// frame never waits on the event queue, so a cancelled read cannot
    /// lose the message the frame completed.
    fn note_malformed(&mut self, what: String, raw: &[u8]) {
        self.reports.push(malformed_event(what, raw));
    }

    async fn malformed(&self, what: String, raw: &[u8]) {
        self.em.emit(malformed_event(what, raw)).await;
    }

    /// Emit what reading frames noted.
    async fn flush_reports(&mut self) {
        for r in std::mem::take(&mut self.reports) {
            self.em.emit(r).await;
        }
    }

    async fn run(&mut self, cmds: &mut mpsc::Receiver<Command>) -> SessionEnd {
        let mut tick = tokio::time::interval(meter::FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut ping =
            tokio::time::interval_at(Instant::now() + self.cfg.ping_every, self.cfg.ping_every);
        loop {
            let step = tokio::select! {
                m = self.next_message() => match m {
                    Err(end) => Err(end),
                    Ok(None) => Ok(()),
                    Ok(Some(m)) => match codec::unpack(&m.data) {
                        Ok((head, payload)) => {
                            let payload = payload.to_vec();
                            self.on_message(m.kind, m.id, head, &payload).await
                        }
                        Err(e) => {
                            self.malformed(format!("{} message: {e}", m.kind), &m.data).await;
                            Ok(())
                        }
                    },
                },
                c = cmds.recv() => match c {
                    None => {
                        let _ = self.ws.close(None).await;
                        return SessionEnd::Shutdown;
                    }
                    Some(c) => self.on_command(c).await,
                },
                _ = tick.tick() => self.on_tick().await,
                _ = ping.tick() => self.on_ping().await,
            };
            self.flush_reports().await;
            if let Err(end) = step {
                self.meter.flush(self.em).await;
                return end;
            }
        }
    }

    async fn on_ping(&mut self) -> Result<(), SessionEnd> {
        if self.ping_sent.is_some() {
            self.missed_pongs += 1;
            if self.missed_pongs >= 2 {
                return Err(lost("no pong from the room for two ping periods"));
            }
        }
        self.ping_sent = Some(Instant::now());
        self.meter.frame_out(0);
        self.ws
            .send(WsMessage::Ping(b"roomtap".to_vec().into()))
            .await
            .map_err(|e| lost(format!("ping failed: {e}")))
    }

    async fn on_tick(&mut self) -> Result<(), SessionEnd> {
        if let Watching::Opening(Generation::Current, since) = self.watching
            && self.cfg.generation == Generation::Auto
            && self.learned().is_none()
            && since.elapsed() >= self.cfg.open_timeout
        {
            self.em
                .log(
                    Level::Warn,
                    "room",
                    format!(
                        "no answer to the developer toolkit within {:?}: trying legacy developer.watch",
                        self.cfg.open_timeout
                    ),
                )
                .await;
            // The toolkit request stays pending: should its answer come
            // late, that stream is closed again (see on_response).
            self.closed_stream = self.stream.take();
            self.watching = Watching::Off;
            self.open_watch_with(Some(Generation::Legacy)).await?;
        }
        // Requests never answered: say so, and forget them.
        let now = Instant::now();
        let stale: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, (p, at))| {
                now.duration_since(*at) >= ANSWER_TIMEOUT
                    && !matches!(p, Pending::OpenStream { .. })
            })
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some((p, _)) = self.pending.remove(&id) {
                self.em
                    .log(
                        Level::Warn,
                        "room",
                        format!("no answer from the room to request {id} ({p:?}) within {ANSWER_TIMEOUT:?}"),
                    )
                    .await;
                if matches!(
                    p,
                    Pending::Watch | Pending::Unwatch | Pending::CloseStream { .. }
                ) {
                    self.watching = Watching::Off;
                    self.report_facts().await;
                }
            }
        }
        self.meter.flush(self.em).await;
        Ok(())
    }

    async fn report_facts(&mut self) {
        let watching = match self.watching {
            Watching::Off => "off (w to watch)".to_string(),
            Watching::Opening(g, _) => format!("opening ({})", gen_words(g)),
            Watching::On(g) => format!("on ({})", gen_words(g)),
            Watching::Closing => "closing".into(),
        };
        let mut facts = vec![
            ("room".to_string(), self.room.clone()),
            ("participant".to_string(), self.participant.clone()),
            ("developer logs".to_string(), watching),
        ];
        if let Some(s) = &self.status {
            facts.push(("status".to_string(), s.clone()));
        }
        if facts != self.facts_sent {
            self.facts_sent = facts.clone();
            self.em.emit(EventKind::Facts(facts)).await;
        }
    }

    /// Start watching with the generation known (or the toolkit first).
    async fn open_watch(&mut self) -> Result<(), SessionEnd> {
        self.open_watch_with(None).await
    }

    /// Start watching with `g`, else the generation learned, else the
    /// toolkit. The generation is learned only from a success.
    async fn open_watch_with(&mut self, g: Option<Generation>) -> Result<(), SessionEnd> {
        if matches!(self.watching, Watching::On(_) | Watching::Opening(..)) {
            return Ok(());
        }
        let g = g.or(self.learned()).unwrap_or(Generation::Current);
        match g {
            Generation::Legacy => {
                self.request("developer.watch", &json!({}), &[], Pending::Watch)
                    .await?;
            }
            _ => {
                let call = self.next_call_id();
                let head = json!({
                    "toolkit": "developer",
                    "tool": "logs",
                    "tool_call_id": call,
                    "arguments": {"type": "control", "method": "open"},
                });
                self.stream = Some(call.clone());
                self.request("room.invoke_tool", &head, &[], Pending::OpenStream { call })
                    .await?;
            }
        }
        self.watching = Watching::Opening(g, Instant::now());
        self.report_facts().await;
        Ok(())
    }

    async fn close_watch(&mut self) -> Result<(), SessionEnd> {
        match self.watching {
            Watching::On(Generation::Legacy) | Watching::Opening(Generation::Legacy, _) => {
                self.request("developer.unwatch", &json!({}), &[], Pending::Unwatch)
                    .await?;
                self.watching = Watching::Closing;
            }
            Watching::On(_) | Watching::Opening(..) => {
                if let Some(call) = self.stream.clone() {
                    let head = json!({
                        "tool_call_id": call,
                        "chunk": {"type": "control", "method": "close", "status_code": 1000},
                    });
                    self.request(
                        "room.tool_call_request_chunk",
                        &head,
                        &[],
                        Pending::CloseStream { call },
                    )
                    .await?;
                    self.watching = Watching::Closing;
                } else {
                    self.watching = Watching::Off;
                }
            }
            Watching::Off | Watching::Closing => {}
        }
        self.report_facts().await;
        Ok(())
    }

    async fn on_command(&mut self, cmd: Command) -> Result<(), SessionEnd> {
        match &cmd.kind {
            CommandKind::Room(RoomCommand::Watch(on)) => {
                let watching = matches!(self.watching, Watching::On(_) | Watching::Opening(..));
                let want = on.unwrap_or(!watching);
                self.set_want(want);
                if want {
                    self.open_watch().await?;
                } else {
                    self.close_watch().await?;
                }
            }
            CommandKind::Room(RoomCommand::DevLog(log)) => self.send_log(log).await?,
            other => {
                self.em
                    .log(
                        Level::Warn,
                        "command",
                        format!("a room does not take {other:?}: not sent"),
                    )
                    .await;
                return Ok(());
            }
        }
        self.em.emit(EventKind::CommandSent(cmd)).await;
        Ok(())
    }

    async fn send_log(&mut self, log: &DevLog) -> Result<(), SessionEnd> {
        let (tool, args, what) = match log {
            DevLog::Log { ty, data } => {
                let data: Value = match serde_json::from_str(data) {
                    Ok(v @ Value::Object(_)) => v,
                    Ok(_) | Err(_) => {
                        self.em
                            .log(
                                Level::Warn,
                                "command",
                                format!("developer log data must be a JSON object: {data}"),
                            )
                            .await;
                        return Ok(());
                    }
                };
                (
                    "log",
                    json!({"type": ty, "data": data}),
                    format!("log {ty}"),
                )
            }
            DevLog::Say { level, message } => (
                &**level,
                json!({"message": message, "extra": {}}),
                format!("{level} {message}"),
            ),
        };
        let legacy_kind = format!("developer.{tool}");
        let legacy_head = args.to_string().into_bytes();
        if self.learned() == Some(Generation::Legacy) {
            self.request(
                &legacy_kind,
                &args,
                &[],
                Pending::Log {
                    what,
                    legacy_retry: None,
                    legacy: true,
                },
            )
            .await?;
        } else {
            let head = json!({
                "toolkit": "developer",
                "tool": tool,
                "arguments": {"type": "json", "json": args},
            });
            // Fall back to legacy only while the room's generation is
            // unknown: a room that served the toolkit keeps it.
            let retry = (self.cfg.generation == Generation::Auto && self.learned().is_none())
                .then_some((legacy_kind, legacy_head));
            self.request(
                "room.invoke_tool",
                &head,
                &[],
                Pending::Log {
                    what,
                    legacy_retry: retry,
                    legacy: false,
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn on_message(
        &mut self,
        kind: String,
        id: u64,
        head: Value,
        payload: &[u8],
    ) -> Result<(), SessionEnd> {
        match kind.as_str() {
            "__response__" => self.on_response(id, &head, payload).await?,
            "room.tool_call_response_chunk" => {
                let call = str_of(&head, "tool_call_id");
                if !call.is_empty() && self.closed_stream.as_deref() == Some(call.as_str()) {
                    return Ok(()); // in flight when we closed it, or its close chunk
                }
                if self.stream.as_deref() != Some(call.as_str()) || call.is_empty() {
                    self.em
                        .log(
                            Level::Debug,
                            "room",
                            format!("stream chunk for a tool call roomtap did not open ({call})"),
                        )
                        .await;
                    return Ok(());
                }
                let chunk = head.get("chunk").cloned().unwrap_or(Value::Null);
                match Content::from_parts(&chunk, payload) {
                    Content::Binary { headers, payload } => {
                        let ty = headers.get("type").and_then(Value::as_str).unwrap_or("");
                        if ty.is_empty() {
                            self.malformed(
                                "developer.logs chunk without a valid type (headers.type)".into(),
                                &payload,
                            )
                            .await;
                            return Ok(());
                        }
                        let data = if payload.is_empty() {
                            Ok(json!({}))
                        } else {
                            serde_json::from_slice::<Value>(&payload)
                                .map_err(|e| e.to_string())
                                .and_then(|v| {
                                    if v.is_object() {
                                        Ok(v)
                                    } else {
                                        Err("not a JSON object".into())
                                    }
                                })
                        };
                        match data {
                            Ok(d) => {
                                let ty = ty.to_string();
                                self.dev_log(&ty, &d, payload.len()).await
                            }
                            Err(e) => {
                                self.malformed(format!("developer log {ty}: data is {e}"), &payload)
                                    .await
                            }
                        }
                    }
                    Content::Control { method, .. } if method == "close" => {
                        let asked = self.watching == Watching::Closing;
                        self.closed_stream = self.stream.take();
                        self.watching = Watching::Off;
                        self.channel_change(ChannelChange::Unsubscribed).await;
                        self.em
                            .log(
                                if asked { Level::Info } else { Level::Warn },
                                "room",
                                if asked {
                                    "developer log stream closed".to_string()
                                } else {
                                    "the room closed the developer log stream (w watches again)"
                                        .to_string()
                                },
                            )
                            .await;
                        if !asked {
                            self.set_want(false);
                        }
                        self.report_facts().await;
                    }
                    Content::Error { text, code } => {
                        // As in the SDKs, an error ends the stream.
                        self.closed_stream = self.stream.take();
                        self.watching = Watching::Off;
                        self.set_want(false);
                        self.channel_change(ChannelChange::Unsubscribed).await;
                        self.em
                            .log(
                                Level::Error,
                                "room",
                                format!(
                                    "the developer log stream ended with an error: {} (w watches again)",
                                    codec::describe_error(&text, code)
                                ),
                            )
                            .await;
                        self.report_facts().await;
                    }
                    other => {
                        self.malformed(
                            format!("unexpected developer.logs chunk: {other:?}"),
                            payload,
                        )
                        .await
                    }
                }
            }
            "developer.log" => {
                let ty = head
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                let data = head.get("data").cloned().unwrap_or(json!({}));
                self.dev_log(&ty, &data, payload.len()).await;
            }
            "room.status" => {
                let status = str_of(&head, "status");
                let message = str_of(&head, "message");
                self.meter.channel("room.status", head.to_string().len());
                self.status = Some(if message.is_empty() {
                    status.clone()
                } else {
                    format!("{status}: {message}")
                });
                self.em
                    .emit(EventKind::Log(LogRecord {
                        level: Level::Info,
                        kind: "room.status".into(),
                        summary: format!("{status} {message}").trim().to_string(),
                        data: Some(head.to_string()),
                    }))
                    .await;
                self.report_facts().await;
            }
            "room_ready" | "connected" => {
                self.em
                    .emit(EventKind::Log(LogRecord {
                        level: Level::Debug,
                        kind: kind.clone(),
                        summary: format!("{kind} {}", head),
                        data: Some(head.to_string()),
                    }))
                    .await;
            }
            other => {
                self.meter
                    .channel(other, head.to_string().len() + payload.len());
                let summary = logs::lines(other, &head)
                    .into_iter()
                    .next()
                    .map(|l| l.record.summary)
                    .unwrap_or_default();
                self.em
                    .emit(EventKind::Log(LogRecord {
                        level: Level::Debug,
                        kind: other.to_string(),
                        summary,
                        data: Some(head.to_string()),
                    }))
                    .await;
            }
        }
        Ok(())
    }

    /// The room said no to watching: off, and why in words.
    async fn watch_refused(&mut self, text: &str, code: Option<i64>) {
        self.watching = Watching::Off;
        self.set_want(false);
        self.em
            .log(
                Level::Error,
                "room",
                format!(
                    "cannot watch developer logs: {}",
                    codec::describe_error(text, code)
                ),
            )
            .await;
    }

    async fn channel_change(&self, change: ChannelChange) {
        self.em
            .emit(EventKind::Channel {
                channel: "developer.logs".into(),
                change,
            })
            .await;
    }

    async fn dev_log(&mut self, ty: &str, data: &Value, bytes: usize) {
        self.meter.channel("developer.logs", bytes.max(2));
        for line in logs::lines(ty, data) {
            let kind = EventKind::Log(line.record);
            match line.at_ms {
                Some(at) => self.em.emit_at(at, kind).await,
                None => self.em.emit(kind).await,
            };
        }
    }

    async fn on_response(
        &mut self,
        id: u64,
        head: &Value,
        payload: &[u8],
    ) -> Result<(), SessionEnd> {
        let Some((pending, at)) = self.pending.remove(&id) else {
            self.em
                .log(
                    Level::Debug,
                    "room",
                    format!("response to request {id}, which roomtap is not waiting for"),
                )
                .await;
            return Ok(());
        };
        self.em.emit(EventKind::Rtt(at.elapsed())).await;
        let content = Content::from_parts(head, payload);
        let error = match &content {
            Content::Error { text, code } => Some((text.clone(), *code)),
            _ => None,
        };
        match pending {
            Pending::OpenStream { call } => {
                if self.stream.as_deref() != Some(call.as_str()) {
                    // Given up on (no answer in time) or replaced: a stream
                    // the room opened late is closed again.
                    if error.is_none() {
                        let head = json!({
                            "tool_call_id": call,
                            "chunk": {"type": "control", "method": "close", "status_code": 1000},
                        });
                        self.closed_stream = Some(call);
                        self.request("room.tool_call_request_chunk", &head, &[], Pending::Abandon)
                            .await?;
                    }
                    return Ok(());
                }
                match error {
                    // `w` was pressed while it opened: the close is on its way.
                    None if self.watching == Watching::Closing => {
                        self.learn(Generation::Current);
                    }
                    None => {
                        self.learn(Generation::Current);
                        self.watching = Watching::On(Generation::Current);
                        self.channel_change(ChannelChange::Subscribed).await;
                        self.em
                            .log(
                                Level::Info,
                                "room",
                                "watching developer logs (developer toolkit: logs stream)",
                            )
                            .await;
                    }
                    Some((_, Some(1003)))
                        if self.cfg.generation == Generation::Auto && self.learned().is_none() =>
                    {
                        self.stream = None;
                        self.watching = Watching::Off;
                        self.em
                            .log(
                                Level::Info,
                                "room",
                                "the room has no developer toolkit: trying legacy developer.watch",
                            )
                            .await;
                        self.open_watch_with(Some(Generation::Legacy)).await?;
                    }
                    Some((text, code)) => {
                        self.stream = None;
                        self.watch_refused(&text, code).await;
                    }
                }
            }
            Pending::Watch => match error {
                None => {
                    self.learn(Generation::Legacy);
                    self.watching = Watching::On(Generation::Legacy);
                    self.channel_change(ChannelChange::Subscribed).await;
                    self.em
                        .log(
                            Level::Info,
                            "room",
                            "watching developer logs (legacy developer.watch)",
                        )
                        .await;
                }
                Some((text, code)) => self.watch_refused(&text, code).await,
            },
            Pending::Unwatch => {
                self.watching = Watching::Off;
                self.channel_change(ChannelChange::Unsubscribed).await;
                match error {
                    None => {
                        self.em
                            .log(Level::Info, "room", "stopped watching developer logs")
                            .await
                    }
                    Some((text, code)) => {
                        self.em
                            .log(
                                Level::Warn,
                                "room",
                                format!(
                                    "developer.unwatch: {}",
                                    codec::describe_error(&text, code)
                                ),
                            )
                            .await
                    }
                };
            }
            Pending::Abandon => {}
            Pending::CloseStream { call } => {
                // The close chunk that follows ends the stream; a room that
                // sends none still stops here.
                if let Some((text, code)) = error {
                    self.em
                        .log(
                            Level::Warn,
                            "room",
                            format!(
                                "closing the log stream: {}",
                                codec::describe_error(&text, code)
                            ),
                        )
                        .await;
                }
                if self.watching == Watching::Closing
                    && self.stream.as_deref() == Some(call.as_str())
                {
                    self.closed_stream = self.stream.take();
                    self.watching = Watching::Off;
                    self.channel_change(ChannelChange::Unsubscribed).await;
                    self.em
                        .log(Level::Info, "room", "stopped watching developer logs")
                        .await;
                }
            }
            Pending::Log {
                what,
                legacy_retry,
                legacy,
            } => match (error, legacy_retry) {
                (None, _) => {
                    if legacy && self.learned().is_none() {
                        self.learn(Generation::Legacy);
                    }
                    self.em
                        .log(Level::Info, "sent", format!("developer {what}: accepted"))
                        .await;
                }
                (Some((_, Some(1003))), Some((kind, head))) => {
                    let head: Value = serde_json::from_slice(&head).unwrap_or(json!({}));
                    self.request(
                        &kind,
                        &head,
                        &[],
                        Pending::Log {
                            what,
                            legacy_retry: None,
                            legacy: true,
                        },
                    )
                    .await?;
                }
                (Some((text, code)), _) => {
                    self.em
                        .log(
                            Level::Error,
                            "sent",
                            format!(
                                "developer {what}: refused: {}",
                                codec::describe_error(&text, code)
                            ),
                        )
                        .await;
                }
            },
        }
        self.report_facts().await;
        Ok(())
    }
}

fn malformed_event(what: String, raw: &[u8]) -> EventKind {
    let shown: String = raw.iter().take(256).map(|b| format!("{b:02x}")).collect();
    EventKind::Malformed {
        what,
        raw: if raw.len() > 256 {
            format!("{shown}… ({} bytes)", raw.len())
        } else {
            shown
        },
    }
}

fn gen_words(g: Generation) -> &'static str {
    match g {
        Generation::Current | Generation::Auto => "developer toolkit",
        Generation::Legacy => "legacy developer.watch",
    }
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_the_sdks_build_them() {
        let none = |_: &str| None;
        assert_eq!(
            room_url("demo", none).unwrap(),
            "wss://api.meshagent.com/rooms/demo"
        );
        let env = |k: &str| (k == "MESHAGENT_API_URL").then(|| "http://127.0.0.1:9/".to_string());
        assert_eq!(
            room_url("demo", env).unwrap(),
            "ws://127.0.0.1:9/rooms/demo"
        );
        let env = |k: &str| (k == "MESHAGENT_ROOM_URL").then(|| "ws://h".to_string());
        assert_eq!(room_url("a-1", env).unwrap(), "ws://h/rooms/a-1");
        assert_eq!(room_url("ws://x/rooms/y", none).unwrap(), "ws://x/rooms/y");
        assert!(room_url("Bad_Name", none).is_err());
        assert!(room_url("-x", none).is_err());
        assert!(room_url("http://x/rooms/y", none).is_err());
    }

    #[test]
    fn a_token_in_the_url_is_taken_out() {
        let (u, t) = split_token("ws://h/rooms/r?token=abc&v=1");
        assert_eq!(u, "ws://h/rooms/r?v=1");
        assert_eq!(t.unwrap().expose(), "abc");
        let (u, t) = split_token("ws://h/rooms/r?token=abc");
        assert_eq!(u, "ws://h/rooms/r");
        assert!(t.is_some());
        let (u, t) = split_token("ws://h/rooms/r");
        assert_eq!(u, "ws://h/rooms/r");
        assert!(t.is_none());
    }
}
