//! One Leap connection: dial, HELLO (within the timeout), IDENTIFY, INIT,
//! then frames, heartbeats, commands and the traffic meter until it ends.
//! How it ended decides what `supervise` does next: 4001 stops for good,
//! 4006 dials the close reason's URL when the token may go there (else the
//! same edge again), anything else backs off and retries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::protocols::leap::wire::codec::{self, Frame};
use super::events::{self, Reply};
use crate::protocols::leap::wire::model::LeapCommand;
use super::{LeapConfig, Persist};
use crate::event::{ChannelUpdate, Command, CommandKind, ConnState, EventKind, Level};
use crate::link::meter::Meter;
use crate::link::ws::{self, Dial, Refusal, Words, Ws};
use crate::link::SessionEnd;
use crate::source::Emitter;

/// Event names reported per channel (the store keeps as many).
const MAX_EVENTS: usize = 32;

fn lost(reason: impl Into<String>) -> SessionEnd {
    SessionEnd::Lost {
        reason: reason.into(),
        was_connected: false,
    }
}

/// What the Connections pane shows of the link, reported on change.
#[derive(Default, Clone, PartialEq)]
pub(super) struct Facts {
    pub state: &'static str,
    pub project: String,
    pub cid: Option<String>,
    pub scope: Option<String>,
    pub connection_count: Option<u64>,
    pub heartbeat: Option<u64>,
    pub missed_acks: u32,
    pub compression: String,
    pub binary_frames: u64,
    pub last_close: Option<String>,
    pub redirected_to: Option<String>,
    pub channels: usize,
}

impl Facts {
    fn rows(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("leap state".to_string(), self.state.to_string()),
            ("project".to_string(), self.project.clone()),
        ];
        let opt = |v: &mut Vec<(String, String)>, k: &str, val: Option<String>| {
            if let Some(x) = val {
                v.push((k.to_string(), x));
            }
        };
        opt(&mut v, "cid", self.cid.clone());
        opt(&mut v, "scope", self.scope.clone());
        opt(
            &mut v,
            "connections",
            self.connection_count.map(|n| n.to_string()),
        );
        opt(
            &mut v,
            "heartbeat",
            self.heartbeat
                .map(|ms| format!("every {:.1} s", ms as f64 / 1000.0)),
        );
        v.push(("missed acks".into(), self.missed_acks.to_string()));
        v.push((
            "compression".into(),
            if self.binary_frames > 0 {
                format!("{} ({} zlib frames)", self.compression, self.binary_frames)
            } else {
                self.compression.clone()
            },
        ));
        v.push(("channels".into(), self.channels.to_string()));
        opt(&mut v, "last close", self.last_close.clone());
        opt(&mut v, "redirected to", self.redirected_to.clone());
        v
    }
}

fn compression_of(url: &str) -> String {
    url.split_once('?')
        .and_then(|(_, q)| {
            q.split('&')
                .find_map(|p| p.strip_prefix("compression=").map(str::to_string))
        })
        .unwrap_or_else(|| "none".into())
}

struct Link<'a> {
    cfg: &'a LeapConfig,
    em: &'a Emitter,
    ws: Ws,
    meter: Meter,
    facts: Facts,
    reported: Option<Facts>,
    persist: &'a Mutex<Persist>,
    /// When the oldest unanswered heartbeat went out.
    unacked_since: Option<Instant>,
    /// When the last heartbeat went out (the ack's round trip).
    last_sent: Option<Instant>,
    /// The one more heartbeat sent after the window ran out.
    optimistic_at: Option<Instant>,
    /// Replies awaited: what, and until when.
    waiting: HashMap<Reply, Instant>,
    /// Join tokens roomtap sent, by the pipe room they opened.
    pipes: HashMap<String, String>,
    /// Event names already reported per channel (bounded).
    seen: HashMap<String, Vec<String>>,
    connected: bool,
}

pub(super) async fn session(
    cfg: &LeapConfig,
    em: &Emitter,
    cmds: &mut mpsc::Receiver<Command>,
    persist: &Arc<Mutex<Persist>>,
) -> SessionEnd {
    let (url, redirected) = {
        let p = persist.lock().unwrap_or_else(|p| p.into_inner());
        (p.url.clone(), p.redirected)
    };
    let mut facts = Facts {
        state: "connecting",
        project: cfg.project.clone(),
        compression: compression_of(&url),
        redirected_to: redirected.then(|| crate::text::redact_url(&url)),
        ..Facts::default()
    };
    say_facts(em, persist, &facts).await;
    let ws = match connect(cfg, &url).await {
        Ok(ws) => ws,
        Err(end) => {
            // The facts say what the state says.
            facts.state = "errored";
            say_facts(em, persist, &facts).await;
            return end;
        }
    };
    facts.state = "authenticating";
    let mut link = Link {
        cfg,
        em,
        ws,
        meter: Meter::for_source(em),
        facts,
        reported: None,
        persist,
        unacked_since: None,
        last_sent: None,
        optimistic_at: None,
        waiting: HashMap::new(),
        pipes: HashMap::new(),
        seen: HashMap::new(),
        connected: false,
    };
    em.conn(ConnState::Handshaking).await;
    let end = link.run(cmds, persist).await;
    link.meter.flush(em).await;
    for r in std::mem::take(&mut link.waiting).into_keys() {
        link.log(
            Level::Warn,
            "command",
            format!("no answer to {}: the link went down first", r.describe()),
            None,
        )
        .await;
    }
    let was_connected = link.connected;
    // Say how it ended in the Connections pane's words.
    link.facts.state = match &end {
        SessionEnd::Shutdown => "closed",
        SessionEnd::Moved { .. } => "moving (redirected)",
        _ => "errored",
    };
    link.report().await;
    if matches!(end, SessionEnd::Shutdown) {
        let _ = link.ws.close(None).await;
    }
    match end {
        SessionEnd::Lost { reason, .. } => SessionEnd::Lost {
            reason,
            was_connected,
        },
        other => other,
    }
}

async fn connect(cfg: &LeapConfig, url: &str) -> Result<Ws, SessionEnd> {
    let req = match url.into_client_request() {
        Ok(r) => r,
        Err(e) => {
            return Err(SessionEnd::Fatal {
                reason: format!("bad Leap URL: {e}"),
            });
        }
    };
    let dial = Dial {
        timeout: cfg.connect_timeout,
        config: Some(
            WebSocketConfig::default()
                .max_message_size(Some(codec::MAX_FRAME))
                .max_frame_size(Some(codec::MAX_FRAME)),
        ),
        nodelay: true,
    };
    let words = Words {
        bad_url: "bad Leap URL",
        http: &refusal,
    };
    ws::connect(req, &dial, &words).await
}

fn refusal(status: StatusCode, body: &str) -> Refusal {
    let body: String = crate::text::sanitize_capped(body.trim(), 200).into_owned();
    let body = if body.is_empty() {
        String::new()
    } else {
        format!(" ({body})")
    };
    match status.as_u16() {
        401 | 403 => Refusal::Fatal(format!(
            "the Leap edge refused the upgrade (HTTP {}){body}. Not retried.",
            status.as_u16()
        )),
        404 => Refusal::Fatal(format!(
            "no Leap edge at this URL (HTTP 404){body}: it is usually wss://leap.hop.io/ws. Not retried."
        )),
        s => Refusal::Retry(format!(
            "the Leap edge answered HTTP {s} instead of a WebSocket upgrade{body}"
        )),
    }
}

/// How the closing code and reason end the session.
pub(super) fn on_close(
    code: u16,
    reason: &str,
    cfg: &LeapConfig,
    persist: &Mutex<Persist>,
) -> SessionEnd {
    let (words, again) = codec::close_code(code);
    let shown = crate::text::sanitize_capped(reason, 160);
    let tail = if shown.is_empty() {
        String::new()
    } else {
        format!(": {shown}")
    };
    if !again {
        return SessionEnd::Fatal {
            reason: format!(
                "the Leap edge closed with {code} ({words}){tail}; will not reconnect: check the project id and the token (--token-file, --token-env, LEAP_TOKEN)"
            ),
        };
    }
    if code == 4006 {
        let to = match codec::redirect_target(reason) {
            Ok(to) => to,
            Err(e) => {
                return lost(format!(
                    "the Leap edge closed with 4006; {e}; dialling the same edge again"
                ));
            }
        };
        // Checked against the URL the user gave, not where a redirect led:
        // a chain of redirects cannot walk away from it.
        if let Err(why) = codec::redirect_allowed(&cfg.url, &to, cfg.follow_any) {
            return lost(format!(
                "the Leap edge closed with 4006 ({words}) asking to reconnect to {}: redirect refused, {why}; dialling the same edge again (--leap-follow-any follows any redirect)",
                crate::text::redact_url(&to)
            ));
        }
        let mut p = persist.lock().unwrap_or_else(|p| p.into_inner());
        p.url = to.clone();
        p.redirected = true;
        // A planned move, not a failure: said as a notice, dialled at once.
        return SessionEnd::Moved {
            reason: format!(
                "the Leap edge asked to reconnect elsewhere (4006, {words}): reconnecting to {}",
                crate::text::redact_url(&to)
            ),
        };
    }
    lost(format!(
        "the Leap edge closed the connection with {code} ({words}){tail}"
    ))
}

/// Say what changed in `facts` since they were last said.
async fn say_facts(em: &Emitter, persist: &Mutex<Persist>, facts: &Facts) {
    let changes = persist
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .facts
        .update(facts.rows());
    if let Some(changes) = changes {
        em.emit(EventKind::Facts(changes)).await;
    }
}

impl Link<'_> {
    async fn report(&mut self) {
        if self.reported.as_ref() != Some(&self.facts) {
            say_facts(self.em, self.persist, &self.facts).await;
            self.reported = Some(self.facts.clone());
        }
    }

    async fn log(&self, level: Level, kind: &str, summary: String, data: Option<String>) {
        self.em.log_data(level, kind, summary, data).await;
    }

    async fn send(&mut self, text: String) -> Result<(), SessionEnd> {
        self.meter.frame_out_raw(text.as_bytes(), true);
        self.ws
            .send(WsMessage::Text(text.into()))
            .await
            .map_err(|e| lost(format!("send failed: {e}")))
    }

    async fn heartbeat(&mut self) -> Result<(), SessionEnd> {
        let now = Instant::now();
        self.unacked_since.get_or_insert(now);
        self.last_sent = Some(now);
        self.send(codec::encode(&Frame::Heartbeat { tag: None }))
            .await
    }

    async fn run(
        &mut self,
        cmds: &mut mpsc::Receiver<Command>,
        persist: &Arc<Mutex<Persist>>,
    ) -> SessionEnd {
        // HELLO first, within the timeout.
        let interval = match self.hello(persist).await {
            Ok(ms) => ms,
            Err(end) => return end,
        };
        self.facts.heartbeat = Some(interval);
        let identify = Frame::Identify {
            project_id: self.cfg.project.clone(),
            token: self.cfg.token.as_ref().map(|t| t.expose().to_string()),
        };
        if let Err(end) = self.send(codec::encode(&identify)).await {
            return end;
        }
        self.report().await;
        let every = Duration::from_millis(interval.clamp(50, 600_000));
        let mut beat = tokio::time::interval_at(Instant::now() + every, every);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let init_by = Instant::now() + self.cfg.init_timeout;
        loop {
            tokio::select! {
                frame = self.ws.next() => {
                    if let Err(end) = self.on_frame(frame, persist).await {
                        return end;
                    }
                }
                _ = beat.tick() => {
                    if let Err(end) = self.heartbeat().await {
                        return end;
                    }
                }
                _ = tick.tick() => {
                    if !self.connected && Instant::now() >= init_by {
                        return lost(format!(
                            "no INIT within {:?} of IDENTIFY",
                            self.cfg.init_timeout
                        ));
                    }
                    if let Err(end) = self.check_acks().await {
                        return end;
                    }
                    self.check_replies().await;
                    self.meter.flush(self.em).await;
                    self.report().await;
                }
                cmd = cmds.recv() => match cmd {
                    None => return SessionEnd::Shutdown,
                    Some(cmd) => {
                        if let Err(end) = self.on_command(cmd, persist).await {
                            return end;
                        }
                    }
                },
            }
        }
    }

    /// Wait for HELLO; its heartbeat interval (ms).
    async fn hello(&mut self, persist: &Mutex<Persist>) -> Result<u64, SessionEnd> {
        let by = Instant::now() + self.cfg.hello_timeout;
        loop {
            let next = tokio::time::timeout_at(by, self.ws.next()).await;
            let frame = match next {
                Err(_) => {
                    return Err(lost(format!(
                        "no HELLO within {:?} of connecting",
                        self.cfg.hello_timeout
                    )));
                }
                Ok(f) => f,
            };
            match self.read(frame, persist).await? {
                None => continue,
                Some(Frame::Hello { heartbeat_interval }) => return Ok(heartbeat_interval),
                Some(other) => {
                    return Err(lost(format!(
                        "expected HELLO first, got {}",
                        crate::text::sanitize_capped(&codec::encode(&other), 120)
                    )));
                }
            }
        }
    }

    /// One frame off the socket: `Some(frame)` when it decoded, `None` for
    /// frames that carry none (pings, malformed ones, already reported).
    async fn read(
        &mut self,
        frame: Option<Result<WsMessage, ws::WsError>>,
        persist: &Mutex<Persist>,
    ) -> Result<Option<Frame>, SessionEnd> {
        let frame = match frame {
            None => return Err(lost("the Leap edge closed the connection")),
            Some(Err(e)) => return Err(lost(format!("connection lost: {e}"))),
            Some(Ok(f)) => f,
        };
        let (bytes, binary): (&[u8], bool) = match &frame {
            WsMessage::Text(t) => (t.as_bytes(), false),
            WsMessage::Binary(b) => (b, true),
            WsMessage::Close(c) => {
                let (code, reason) = c
                    .as_ref()
                    .map(|c| (u16::from(c.code), c.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                let (words, _) = codec::close_code(code);
                self.facts.last_close = Some(format!("{code} {words}"));
                return Err(on_close(code, &reason, self.cfg, persist));
            }
            _ => return Ok(None),
        };
        self.meter.frame_in_raw(bytes, !binary);
        if binary {
            self.facts.binary_frames += 1;
        }
        match codec::decode_bytes(bytes, binary) {
            Ok(f) => Ok(Some(f)),
            Err(e) => {
                let raw = if binary {
                    format!("{} bytes of binary", bytes.len())
                } else {
                    String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned()
                };
                self.em
                    .emit(EventKind::Malformed {
                        what: format!("Leap frame: {e}"),
                        raw,
                    })
                    .await;
                Ok(None)
            }
        }
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<WsMessage, ws::WsError>>,
        persist: &Arc<Mutex<Persist>>,
    ) -> Result<(), SessionEnd> {
        let Some(frame) = self.read(frame, persist).await? else {
            return Ok(());
        };
        match frame {
            Frame::Ack { .. } => {
                if let Some(at) = self.last_sent {
                    self.em.emit(EventKind::Rtt(at.elapsed())).await;
                }
                self.unacked_since = None;
                self.optimistic_at = None;
                self.facts.missed_acks = 0;
            }
            Frame::Heartbeat { tag } => {
                // The server's own heartbeat: echo its tag.
                self.send(codec::encode(&Frame::Heartbeat { tag })).await?;
            }
            Frame::Hello { heartbeat_interval } => {
                self.facts.heartbeat = Some(heartbeat_interval);
            }
            Frame::Identify { .. } => {
                self.log(
                    Level::Warn,
                    "leap",
                    "the edge sent an IDENTIFY (a client frame); ignored".into(),
                    None,
                )
                .await;
            }
            Frame::Unknown { op, d } => {
                self.log(
                    Level::Warn,
                    "leap",
                    format!("unknown op {op} from the edge (kept, not understood)"),
                    d,
                )
                .await;
            }
            Frame::Dispatch(d) => {
                self.meter.message_in();
                let out = events::on_dispatch(&d, &mut self.pipes);
                if let Some(init) = out.init {
                    self.on_init(init, persist).await?;
                }
                for reply in out.replies {
                    self.waiting.remove(&reply);
                }
                if let Some((channel, bytes)) = out.traffic {
                    self.meter.channel(&channel, bytes);
                    if let Some(name) = out.event_name {
                        self.note_event(channel, name).await;
                    }
                }
                for ev in out.events {
                    self.em.emit(ev).await;
                }
            }
        }
        Ok(())
    }

    /// Report an event name the first time it is seen on a channel.
    async fn note_event(&mut self, channel: String, name: String) {
        let names = self.seen.entry(channel.clone()).or_default();
        if names.len() >= MAX_EVENTS || names.contains(&name) {
            return;
        }
        names.push(name.clone());
        self.em
            .emit(EventKind::ChannelState {
                channel,
                update: ChannelUpdate::Seen { event: name },
            })
            .await;
    }

    async fn on_init(
        &mut self,
        init: codec::Init,
        persist: &Arc<Mutex<Persist>>,
    ) -> Result<(), SessionEnd> {
        let first = !self.connected;
        self.connected = true;
        self.facts.state = "connected";
        self.facts.cid = init.cid.clone();
        self.facts.scope = init.scope.clone();
        self.facts.connection_count = init.connection_count;
        if first {
            self.em
                .conn(ConnState::Connected {
                    session: init.cid.clone(),
                })
                .await;
            let channels: Vec<String> = {
                let p = persist.lock().unwrap_or_else(|p| p.into_inner());
                p.channels.iter().cloned().collect()
            };
            self.facts.channels = channels.len();
            for c in channels {
                self.subscribe(&c).await?;
            }
            for t in self.cfg.pipes.clone() {
                self.pipe_subscribe(t.expose()).await?;
            }
            // Heartbeat at once, as the Go and Rust clients do.
            self.heartbeat().await?;
        }
        self.report().await;
        Ok(())
    }

    async fn subscribe(&mut self, channel: &str) -> Result<(), SessionEnd> {
        self.em
            .emit(EventKind::ChannelState {
                channel: channel.to_string(),
                update: ChannelUpdate::Pending,
            })
            .await;
        self.waiting.insert(
            Reply::Subscribe(channel.to_string()),
            Instant::now() + self.cfg.reply_timeout,
        );
        self.meter.message_out();
        self.send(codec::client_event("SUBSCRIBE", Some(channel), "null"))
            .await
    }

    async fn pipe_subscribe(&mut self, join_token: &str) -> Result<(), SessionEnd> {
        // A join token is a secret: masked wherever the edge echoes it.
        self.em.mask_secret(join_token);
        let masked = crate::protocols::leap::wire::model::mask_token(join_token);
        self.waiting
            .insert(Reply::Pipe(masked), Instant::now() + self.cfg.reply_timeout);
        let d = format!(
            "{{\"join_token\":{}}}",
            serde_json::to_string(join_token).unwrap_or_default()
        );
        self.meter.message_out();
        self.send(codec::client_event("PIPE_ROOM_SUBSCRIBE", None, &d))
            .await
    }

    async fn check_acks(&mut self) -> Result<(), SessionEnd> {
        let Some(since) = self.unacked_since else {
            return Ok(());
        };
        match self.optimistic_at {
            None if since.elapsed() >= self.cfg.ack_window => {
                self.facts.missed_acks += 1;
                self.log(
                    Level::Warn,
                    "heartbeat",
                    format!(
                        "no HEARTBEAT_ACK in {:.1} s: one more heartbeat, then the link is given up",
                        self.cfg.ack_window.as_secs_f64()
                    ),
                    None,
                )
                .await;
                self.optimistic_at = Some(Instant::now());
                self.last_sent = Some(Instant::now());
                self.send(codec::encode(&Frame::Heartbeat { tag: None }))
                    .await?;
            }
            Some(at) if at.elapsed() >= self.cfg.ack_grace => {
                self.facts.missed_acks += 1;
                let _ = self.ws.close(None).await;
                return Err(lost(format!(
                    "no HEARTBEAT_ACK in {:.2} s: the link was given up",
                    (self.cfg.ack_window + self.cfg.ack_grace).as_secs_f64()
                )));
            }
            _ => {}
        }
        Ok(())
    }

    async fn check_replies(&mut self) {
        let now = Instant::now();
        let late: Vec<Reply> = self
            .waiting
            .iter()
            .filter(|(_, by)| **by <= now)
            .map(|(r, _)| r.clone())
            .collect();
        for r in late {
            self.waiting.remove(&r);
            self.log(
                Level::Warn,
                "command",
                format!(
                    "no answer to {} within {:.1} s",
                    r.describe(),
                    self.cfg.reply_timeout.as_secs_f64()
                ),
                None,
            )
            .await;
        }
    }

    async fn on_command(
        &mut self,
        cmd: Command,
        persist: &Mutex<Persist>,
    ) -> Result<(), SessionEnd> {
        let CommandKind::Leap(c) = &cmd.kind else {
            self.log(
                Level::Warn,
                "command",
                format!("a Leap source cannot send {}", cmd.kind.describe()),
                None,
            )
            .await;
            return Ok(());
        };
        if !self.connected {
            self.log(
                Level::Warn,
                "command",
                format!("not connected yet: {} was not sent", c.describe()),
                None,
            )
            .await;
            return Ok(());
        }
        let reply_by = Instant::now() + self.cfg.reply_timeout;
        match c {
            LeapCommand::Subscribe { channel } => {
                let n = {
                    let mut p = persist.lock().unwrap_or_else(|p| p.into_inner());
                    p.channels.insert(channel.clone());
                    p.channels.len()
                };
                self.facts.channels = n;
                self.subscribe(channel).await?;
            }
            LeapCommand::Unsubscribe { channel } => {
                let n = {
                    let mut p = persist.lock().unwrap_or_else(|p| p.into_inner());
                    p.channels.remove(channel);
                    p.channels.len()
                };
                self.facts.channels = n;
                self.meter.message_out();
                self.send(codec::client_event("UNSUBSCRIBE", Some(channel), "null"))
                    .await?;
                self.em
                    .emit(EventKind::ChannelState {
                        channel: channel.clone(),
                        update: ChannelUpdate::Left,
                    })
                    .await;
            }
            LeapCommand::Message {
                channel,
                event,
                data,
            } => {
                let d = format!(
                    "{{\"e\":{},\"d\":{}}}",
                    serde_json::to_string(event).unwrap_or_default(),
                    data
                );
                self.meter.message_out();
                self.send(codec::client_event("MESSAGE", Some(channel), &d))
                    .await?;
                self.log(
                    Level::Info,
                    "command",
                    format!(
                        "MESSAGE {event} sent on {channel} (Leap answers nothing to a MESSAGE; subscribers get it)"
                    ),
                    None,
                )
                .await;
            }
            LeapCommand::SetState { channel, state } => {
                self.waiting.insert(Reply::State(channel.clone()), reply_by);
                self.meter.message_out();
                self.send(codec::client_event(
                    "SET_CHANNEL_STATE",
                    Some(channel),
                    state,
                ))
                .await?;
            }
            LeapCommand::PipeSubscribe { join_token } => {
                self.pipe_subscribe(join_token).await?;
            }
        }
        // What is echoed (to the store, the recording) holds no join token.
        let shown = match c {
            LeapCommand::PipeSubscribe { join_token } => Command {
                source: cmd.source,
                kind: CommandKind::Leap(LeapCommand::PipeSubscribe {
                    join_token: crate::protocols::leap::wire::model::mask_token(join_token),
                }),
            },
            _ => cmd.clone(),
        };
        self.em.emit(EventKind::CommandSent(shown)).await;
        Ok(())
    }
}
