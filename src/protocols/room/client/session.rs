//! One connection to a room: the handshake (`room_ready` + `connected`),
//! the loop that reads messages, takes commands, pings and ticks, and the
//! requests awaiting their `__response__`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::protocols::room::wire::codec::{self, Assembler};
use super::{Generation, Persist, RoomConfig};
use crate::event::{Command, ConnState, EventKind, Level};
use crate::link::meter::{self, Meter};
use crate::link::ws::Ws;
use crate::link::SessionEnd;
use crate::source::Emitter;

/// Requests awaiting their `__response__`.
#[derive(Debug, Clone)]
pub(super) enum Pending {
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
pub(super) const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Watching {
    Off,
    /// Asked; `since` for the toolkit fallback timeout.
    Opening(Generation, Instant),
    On(Generation),
    Closing,
}

pub(super) struct Session<'a> {
    pub(super) em: &'a Emitter,
    pub(super) cfg: &'a RoomConfig,
    ws: Ws,
    pub(super) persist: &'a Mutex<Persist>,
    asm: Assembler,
    next_id: u64,
    pub(super) pending: HashMap<u64, (Pending, Instant)>,
    pub(super) meter: Meter,
    pub(super) watching: Watching,
    /// The open (or opening) toolkit stream's tool call id.
    pub(super) stream: Option<String>,
    /// The stream closed last: its late chunks are expected, not strange.
    pub(super) closed_stream: Option<String>,
    pub(super) room: String,
    session_id: String,
    pub(super) participant: String,
    pub(super) status: Option<String>,
    ping_sent: Option<Instant>,
    missed_pongs: u32,
    /// Events noted while reading frames, emitted right after.
    reports: Vec<EventKind>,
}

pub(super) async fn session(
    cfg: &RoomConfig,
    em: &Emitter,
    cmds: &mut mpsc::Receiver<Command>,
    persist: &Mutex<Persist>,
) -> SessionEnd {
    let ws = match super::connect::connect(cfg).await {
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
        meter: Meter::for_source(em),
        watching: Watching::Off,
        stream: None,
        closed_stream: None,
        room: String::new(),
        session_id: String::new(),
        participant: String::new(),
        status: None,
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

pub(super) fn lost(reason: impl Into<String>) -> SessionEnd {
    SessionEnd::Lost {
        reason: reason.into(),
        was_connected: true,
    }
}

impl Session<'_> {
    pub(super) fn next_call_id(&self) -> String {
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
    pub(super) fn learned(&self) -> Option<Generation> {
        self.persist.lock().ok().and_then(|p| p.learned)
    }
    pub(super) fn learn(&self, g: Generation) {
        if let Ok(mut p) = self.persist.lock() {
            p.learned = Some(g);
        }
    }
    pub(super) fn set_want(&self, on: bool) {
        if let Ok(mut p) = self.persist.lock() {
            p.want_watch = on;
        }
    }
    /// Send one message; returns its id.
    pub(super) async fn send(
        &mut self,
        kind: &str,
        head: &Value,
        payload: &[u8],
    ) -> Result<u64, SessionEnd> {
        let id = self.next_id;
        self.next_id += 1;
        let data = codec::pack(&head.to_string(), payload);
        let packets = codec::encode(id, kind, &data);
        for p in packets {
            self.meter.frame_out_raw(&p, false);
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
    pub(super) async fn request(
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
        match &frame {
            WsMessage::Binary(b) => self.meter.frame_in_raw(b, false),
            WsMessage::Text(t) => self.meter.frame_in_raw(t.as_bytes(), true),
            _ => self.meter.frame_in(0),
        }
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
    pub(super) async fn malformed(&self, what: String, raw: &[u8]) {
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
}

fn malformed_event(what: String, raw: &[u8]) -> EventKind {
    let shown = crate::text::hex(&raw[..raw.len().min(256)]);
    EventKind::Malformed {
        what,
        raw: if raw.len() > 256 {
            format!("{shown}… ({} bytes)", raw.len())
        } else {
            shown
        },
    }
}

pub(super) fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}
