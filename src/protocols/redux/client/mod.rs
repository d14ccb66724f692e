//! Redux DevTools remote relay, monitor side: connects to a SocketCluster
//! relay (`@redux-devtools/cli` or the legacy `remotedev-server`), logs in as
//! a monitor, subscribes `log`, asks apps for their STATE and streams their
//! actions; executes time-travel commands as `respond` transmits.

pub mod source;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::event::{ChannelChange, Command, CommandKind, ConnState, EventKind, Level, now_ms};
use crate::link::meter::{self, Meter};
use crate::protocols::redux::wire::model::{ReduxCommand, ReduxEvent};
use crate::link::ws::{self, Dial, Refusal, Transport, Words};
use crate::link::{Backoff, SessionEnd, supervise};
use crate::source::Emitter;
use crate::protocols::redux::wire::codec::{self, DecodeError, Frame};

pub const DEFAULT_URL: &str = "ws://127.0.0.1:8000/socketcluster/";

pub use crate::link::ws::LocalConnect;

#[derive(Clone)]
pub struct MonitorConfig {
    pub url: String,
    /// Set: connect in-process (roomtap's embedded relay) instead of `url`.
    pub local: Option<LocalConnect>,
    /// Delay before answering an app's START (its own subscription to
    /// `respond` may not be acknowledged yet).
    pub start_delay: Duration,
    /// Retry period while an app has not answered START.
    pub start_retry: Duration,
    pub start_attempts: u32,
    pub connect_timeout: Duration,
}

impl MonitorConfig {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            local: None,
            start_delay: Duration::from_millis(250),
            start_retry: Duration::from_secs(1),
            start_attempts: 6,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Spawn the monitor task. It ends when `commands`' senders are all dropped.
pub fn spawn(
    cfg: MonitorConfig,
    em: Emitter,
    commands: mpsc::Receiver<Command>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        supervise(em, commands, backoff, |_attempt, em, mut cmds| {
            let cfg = cfg.clone();
            async move {
                let end = session(&cfg, &em, &mut cmds).await;
                (end, cmds)
            }
        })
        .await;
    })
}

struct Session<'a> {
    em: &'a Emitter,
    ws: Transport,
    cfg: &'a MonitorConfig,
    next_cid: u64,
    meter: Meter,
    /// Apps that announced themselves and have not sent a STATE yet.
    awaiting: HashMap<String, u32>,
    start_due: Option<Instant>,
    /// Unrequested STOPs answered with START, per app (bounded).
    restarts: HashMap<String, u32>,
    /// Apps we have seen stream, so a STOP from them is unexpected.
    streaming: HashSet<String>,
    last_rx: Instant,
    ping_timeout: Duration,
    /// The START sent once after subscribing went out.
    initial_start_sent: bool,
}

async fn session(
    cfg: &MonitorConfig,
    em: &Emitter,
    cmds: &mut mpsc::Receiver<Command>,
) -> SessionEnd {
    let ws = if let Some(local) = &cfg.local {
        let (tx, rx) = local();
        Transport::local(tx, rx)
    } else {
        let dial = Dial::new(cfg.connect_timeout);
        match ws::connect(cfg.url.as_str(), &dial, &WORDS).await {
            Ok(ws) => Transport::Ws(Box::new(ws)),
            Err(end) => return end,
        }
    };
    if !em.conn(ConnState::Handshaking).await {
        return SessionEnd::Shutdown;
    }
    let mut s = Session {
        em,
        ws,
        cfg,
        next_cid: 1,
        meter: Meter::for_source(em),
        awaiting: HashMap::new(),
        start_due: None,
        restarts: HashMap::new(),
        streaming: HashSet::new(),
        last_rx: Instant::now(),
        ping_timeout: Duration::from_secs(30),
        initial_start_sent: false,
    };
    match s.handshake().await {
        Ok(socket_id) => {
            if !em
                .conn(ConnState::Connected {
                    session: Some(socket_id),
                })
                .await
            {
                return SessionEnd::Shutdown;
            }
        }
        Err(end) => return end,
    }
    for ch in ["log"] {
        em.emit(EventKind::Channel {
            channel: ch.to_string(),
            change: ChannelChange::Subscribed,
        })
        .await;
    }
    s.start_due = Some(Instant::now() + cfg.start_delay);
    s.run(cmds).await
}

/// How a relay's refusals are said.
const WORDS: Words<'static> = Words {
    bad_url: "bad URL",
    http: &refusal,
};

fn refusal(status: StatusCode, _body: &str) -> Refusal {
    let reason = format!(
        "relay answered HTTP {status} instead of a WebSocket upgrade (is the path /socketcluster/?)"
    );
    if matches!(status.as_u16(), 403 | 404) {
        Refusal::Fatal(reason)
    } else {
        Refusal::Retry(reason)
    }
}

/// What handling a frame asks the loop to do.
enum Flow {
    Continue,
    End(SessionEnd),
}

impl Session<'_> {
    async fn send_text(&mut self, text: String, is_message: bool) -> Result<(), SessionEnd> {
        self.meter.frame_out_raw(text.as_bytes(), true);
        if is_message {
            self.meter.message_out();
        }
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| SessionEnd::Lost {
                reason: format!("send failed: {e}"),
                was_connected: true,
            })
    }

    fn cid(&mut self) -> u64 {
        let c = self.next_cid;
        self.next_cid += 1;
        c
    }

    /// Read frames until the reply to `cid`, answering pings on the way.
    /// Returns the reply's `data` as raw JSON text.
    async fn await_reply(&mut self, cid: u64, what: &str) -> Result<Option<String>, SessionEnd> {
        let sent = Instant::now();
        let deadline = sent + Duration::from_secs(10);
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => {
                    return Err(SessionEnd::Lost {
                        reason: format!("no reply to {what} within 10 s"),
                        was_connected: false,
                    });
                }
                Ok(None) => {
                    return Err(SessionEnd::Lost {
                        reason: format!("closed during {what}"),
                        was_connected: false,
                    });
                }
                Ok(Some(Err(e))) => {
                    return Err(SessionEnd::Lost {
                        reason: format!("{what}: {e}"),
                        was_connected: false,
                    });
                }
                Ok(Some(Ok(m))) => m,
            };
            let Message::Text(t) = msg else {
                if let Message::Close(c) = msg {
                    return Err(SessionEnd::Lost {
                        reason: close_reason(c.as_ref()),
                        was_connected: false,
                    });
                }
                continue;
            };
            self.count_in(t.as_bytes(), true);
            match codec::decode_frame(t.as_str()) {
                Ok(Frame::Ping(style)) => {
                    self.send_text(style.pong().to_string(), false).await?;
                }
                Ok(Frame::Reply { rid, data, error }) if rid == cid => {
                    self.em.emit(EventKind::Rtt(sent.elapsed())).await;
                    if let Some(err) = error {
                        return Err(SessionEnd::Fatal {
                            reason: format!("{what} refused: {err}"),
                        });
                    }
                    return Ok(data.map(|d| d.get().to_string()));
                }
                Ok(_) => {}
                Err(e) => self.malformed(e, t.as_str()).await,
            }
        }
    }

    async fn handshake(&mut self) -> Result<String, SessionEnd> {
        let cid = self.cid();
        self.send_text(codec::encode_handshake(cid), false).await?;
        let data = self.await_reply(cid, "#handshake").await?;
        let (id, ping_timeout) =
            codec::handshake_id(data.as_deref()).ok_or_else(|| SessionEnd::Lost {
                reason: "handshake reply has no socket id".into(),
                was_connected: false,
            })?;
        if let Some(ms) = ping_timeout {
            self.ping_timeout = Duration::from_millis(ms.clamp(1_000, 600_000));
        }
        let cid = self.cid();
        self.send_text(codec::encode_login_monitor(cid), false)
            .await?;
        let channel = self.await_reply(cid, "login").await?;
        let watch = channel
            .and_then(|c| serde_json::from_str::<String>(&c).ok())
            .unwrap_or_else(|| "log".to_string());
        if watch != "log" {
            self.em
                .log(
                    Level::Warn,
                    "relay",
                    format!("login answered channel {watch:?}, expected \"log\""),
                )
                .await;
        }
        let cid = self.cid();
        self.send_text(codec::encode_subscribe("log", cid), false)
            .await?;
        self.await_reply(cid, "#subscribe log").await?;
        Ok(id)
    }

    fn count_in(&mut self, frame: &[u8], text: bool) {
        self.meter.frame_in_raw(frame, text);
        self.last_rx = Instant::now();
    }

    async fn malformed(&self, e: DecodeError, raw: &str) {
        self.em
            .emit(EventKind::Malformed {
                what: e.what,
                raw: raw.chars().take(4096).collect(),
            })
            .await;
    }

    async fn run(mut self, cmds: &mut mpsc::Receiver<Command>) -> SessionEnd {
        let mut stats_tick = tokio::time::interval(meter::FLUSH_EVERY);
        stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let start_due = self.start_due;
            // In-process there is no network to go silent, and no pings.
            let silence_deadline = match self.ws {
                Transport::Local { .. } => None,
                Transport::Ws(_) => Some(self.last_rx + self.ping_timeout + Duration::from_secs(5)),
            };
            let flow = tokio::select! {
                msg = self.ws.next() => self.on_ws(msg).await,
                cmd = cmds.recv() => match cmd {
                    None => {
                        self.ws.close().await;
                        Flow::End(SessionEnd::Shutdown)
                    }
                    Some(cmd) => self.on_command(cmd).await,
                },
                _ = sleep_opt(start_due) => self.send_start().await,
                _ = stats_tick.tick() => { self.meter.flush(self.em).await; Flow::Continue }
                _ = sleep_opt(silence_deadline) => Flow::End(SessionEnd::Lost {
                    reason: format!("relay silent for {:?} (no ping): timed out", self.ping_timeout),
                    was_connected: true,
                }),
            };
            if let Flow::End(end) = flow {
                self.meter.flush(self.em).await;
                return end;
            }
        }
    }

    async fn on_ws(
        &mut self,
        msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Flow {
        let msg = match msg {
            None => {
                return Flow::End(SessionEnd::Lost {
                    reason: "relay closed the connection".into(),
                    was_connected: true,
                });
            }
            Some(Err(e)) => {
                return Flow::End(SessionEnd::Lost {
                    reason: format!("connection error: {e}"),
                    was_connected: true,
                });
            }
            Some(Ok(m)) => m,
        };
        match msg {
            Message::Text(t) => {
                self.count_in(t.as_bytes(), true);
                match codec::decode_frame(t.as_str()) {
                    Ok(frame) => self.on_frame(frame, t.len()).await,
                    Err(e) => {
                        self.malformed(e, t.as_str()).await;
                        Flow::Continue
                    }
                }
            }
            Message::Binary(b) => {
                self.count_in(&b, false);
                self.em
                    .emit(EventKind::Malformed {
                        what: format!("unexpected binary frame of {} bytes", b.len()),
                        raw: String::from_utf8_lossy(&b[..b.len().min(256)]).into_owned(),
                    })
                    .await;
                Flow::Continue
            }
            Message::Close(c) => Flow::End(SessionEnd::Lost {
                reason: close_reason(c.as_ref()),
                was_connected: true,
            }),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {
                self.last_rx = Instant::now();
                Flow::Continue
            }
        }
    }

    async fn on_frame(&mut self, frame: Frame<'_>, len: usize) -> Flow {
        match frame {
            Frame::Ping(style) => {
                if let Err(end) = self.send_text(style.pong().to_string(), false).await {
                    return Flow::End(end);
                }
            }
            Frame::Pong => {}
            Frame::Reply { error, .. } => {
                if let Some(err) = error {
                    self.em.log(Level::Warn, "relay", err).await;
                }
            }
            Frame::Publish {
                channel,
                data,
                decoded,
            } => {
                self.meter.channel(&channel, len);
                if channel == "log" {
                    self.meter.message_in();
                    if let Some(ev) = decoded {
                        return self.on_app(ev).await;
                    }
                    match codec::decode_app_message(data) {
                        Ok(ev) => return self.on_app(ev).await,
                        Err(e) => self.malformed(e, data).await,
                    }
                }
            }
            Frame::Event { event, data, .. } => {
                // The legacy relay re-emits `sc-<id>` traffic as events; a
                // monitor sees nothing else here.
                if event == "log" {
                    if let Some(d) = data {
                        self.meter.message_in();
                        match codec::decode_app_message(d.get()) {
                            Ok(ev) => return self.on_app(ev).await,
                            Err(e) => self.malformed(e, d.get()).await,
                        }
                    }
                } else {
                    self.em
                        .log(Level::Debug, "relay", format!("event {event}"))
                        .await;
                }
            }
            Frame::Batch(frames) => {
                for f in frames {
                    if let Flow::End(end) = Box::pin(self.on_frame(f, 0)).await {
                        return Flow::End(end);
                    }
                }
            }
        }
        Flow::Continue
    }

    async fn on_app(&mut self, ev: ReduxEvent) -> Flow {
        match &ev {
            ReduxEvent::Start { app } => {
                if let Some(k) = app.key() {
                    self.awaiting.insert(k.to_string(), 0);
                    self.streaming.remove(k);
                    self.schedule_start(self.cfg.start_delay);
                }
            }
            ReduxEvent::State { app, .. } | ReduxEvent::Action { app, .. } => {
                if let Some(k) = app.key() {
                    if matches!(ev, ReduxEvent::State { .. }) {
                        self.awaiting.remove(k);
                    }
                    if !self.streaming.contains(k) {
                        self.streaming.insert(k.to_string());
                    }
                }
            }
            ReduxEvent::Stop { app } => {
                // An app stops when *any* monitor leaves the relay; we are
                // still here, so ask it to go on (bounded).
                if let Some(k) = app.key()
                    && self.streaming.remove(k)
                {
                    let n = self.restarts.entry(k.to_string()).or_default();
                    *n += 1;
                    if *n <= 20 {
                        self.awaiting.insert(k.to_string(), 0);
                        self.schedule_start(self.cfg.start_delay);
                    }
                }
            }
            _ => {}
        }
        if self.em.emit(EventKind::Redux(ev)).await {
            Flow::Continue
        } else {
            Flow::End(SessionEnd::Shutdown)
        }
    }

    fn schedule_start(&mut self, after: Duration) {
        let at = Instant::now() + after;
        self.start_due = Some(match self.start_due {
            Some(t) if t < at => t,
            _ => at,
        });
    }

    async fn send_start(&mut self) -> Flow {
        self.start_due = None;
        if self.initial_start_sent && self.awaiting.is_empty() {
            // Every app that asked has answered meanwhile.
            return Flow::Continue;
        }
        self.initial_start_sent = true;
        let msg = codec::command_message(&ReduxCommand::Start, now_ms());
        if let Err(end) = self
            .send_text(codec::encode_transmit("respond", &msg), true)
            .await
        {
            return Flow::End(end);
        }
        let mut given_up = Vec::new();
        for (k, n) in self.awaiting.iter_mut() {
            *n += 1;
            if *n >= self.cfg.start_attempts {
                given_up.push(k.clone());
            }
        }
        for k in given_up {
            self.awaiting.remove(&k);
            self.em
                .log(
                    Level::Warn,
                    "relay",
                    format!(
                        "app {k} did not answer START after {} tries",
                        self.cfg.start_attempts
                    ),
                )
                .await;
        }
        if !self.awaiting.is_empty() {
            self.schedule_start(self.cfg.start_retry);
        }
        Flow::Continue
    }

    async fn on_command(&mut self, cmd: Command) -> Flow {
        let CommandKind::Redux(redux) = &cmd.kind else {
            self.em
                .log(
                    Level::Warn,
                    "command",
                    format!("a relay does not take {}: not sent", cmd.kind.describe()),
                )
                .await;
            return Flow::Continue;
        };
        let msg = codec::command_message(redux, now_ms());
        let text = codec::encode_transmit("respond", &msg);
        if let Err(end) = self.send_text(text, true).await {
            return Flow::End(end);
        }
        if matches!(redux, ReduxCommand::Start) {
            self.start_due = None;
        }
        if self.em.emit(EventKind::CommandSent(cmd)).await {
            Flow::Continue
        } else {
            Flow::End(SessionEnd::Shutdown)
        }
    }
}

fn close_reason(c: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> String {
    match c {
        Some(f) => {
            let code = u16::from(f.code);
            let what = match code {
                4001 => " (ping timeout)",
                4005 => " (handshake timeout)",
                4009 => " (packet before handshake)",
                _ => "",
            };
            format!("relay closed: {code}{what} {}", f.reason)
                .trim_end()
                .to_string()
        }
        None => "relay closed".into(),
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
