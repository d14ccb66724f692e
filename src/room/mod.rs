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

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::event::{ConnState, EventKind, Level, LogRecord, PeerRow};
use crate::sources::Emitter;
use crate::sources::room::codec::{self, Assembler};
use crate::sources::room::token;

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
                        tokio::spawn(serve_conn(h.clone(), tcp, peer, c.subscribe()));
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

fn refuse(status: u16, body: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(body.to_string()));
    *r.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::from_u16(status)
        .unwrap_or(tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST);
    r
}

/// The token of an upgrade request: `Authorization: Bearer` or `?token=`.
fn request_token(req: &Request) -> Option<String> {
    if let Some(h) = req.headers().get("authorization")
        && let Ok(v) = h.to_str()
        && let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    {
        return Some(t.trim().to_string());
    }
    let q = req.uri().query()?;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .map(percent_decode)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the upgrade callback learned.
#[derive(Default)]
struct Admitted {
    room: String,
    name: String,
    refused: Option<String>,
}

fn admit(cfg: &RoomServerConfig, req: &Request) -> Result<Admitted, (u16, String)> {
    let path = req.uri().path();
    let room = path
        .strip_prefix("/rooms/")
        .filter(|r| !r.is_empty() && !r.contains('/'))
        .ok_or((404, format!("no room at {path}: rooms live at /rooms/NAME")))?
        .to_string();
    let tok = request_token(req);
    let claims = match (&cfg.secret, &tok) {
        (None, Some(t)) => token::peek_claims(t),
        (None, None) => None,
        (Some(_), None) => {
            return Err((
                403,
                "a token is required (Authorization: Bearer or ?token=)".into(),
            ));
        }
        (Some(secret), Some(t)) => {
            let now = crate::event::now_ms() / 1000;
            let claims = token::verify_hs256(t, secret.expose().as_bytes(), now)
                .map_err(|e| (403, format!("token refused: {e}")))?;
            match token::grant(&claims, "room").and_then(Value::as_str) {
                Some(r) if r == room => {}
                Some(r) => {
                    return Err((
                        403,
                        format!("token refused: it is for room {r:?}, not {room:?}"),
                    ));
                }
                None => return Err((403, "token refused: it has no room grant".into())),
            }
            Some(claims)
        }
    };
    let name = claims
        .as_ref()
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("anonymous")
        .to_string();
    let refused = claims
        .as_ref()
        .filter(|c| !token::allows_developer_logs(c))
        .map(|_| "the token has no developer grant".to_string());
    Ok(Admitted {
        room,
        name,
        refused,
    })
}

async fn serve_conn(
    hub: Arc<Hub>,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let mut admitted: Option<Admitted> = None;
    let mut refused: Option<(u16, String)> = None;
    #[allow(clippy::result_large_err)] // the type tungstenite's callback returns
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        match admit(&hub.cfg, req) {
            Ok(a) => {
                admitted = Some(a);
                Ok(resp)
            }
            Err((status, why)) => {
                let r = refuse(status, &why);
                refused = Some((status, why));
                Err(r)
            }
        }
    };
    let ws_cfg = WebSocketConfig::default()
        .max_message_size(Some(codec::CHUNK * 64 + 64))
        .max_frame_size(Some(codec::CHUNK * 64 + 64));
    let accepted = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(ws_cfg)),
    )
    .await;
    let mut ws = match accepted {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            match refused {
                Some((status, why)) => hub.notice(
                    Level::Warn,
                    "room",
                    format!("refused {peer} with HTTP {status}: {why}"),
                ),
                None => hub.notice(
                    Level::Warn,
                    "room",
                    format!("upgrade from {peer} failed: {e}"),
                ),
            }
            return;
        }
        Err(_) => return,
    };
    let Some(adm) = admitted else { return };
    let conn = hub.next_conn.fetch_add(1, Ordering::Relaxed);
    let session_id = format!("session-{conn:04}");
    let participant = format!("participant-{conn:04}");
    let (tx, mut rx) = mpsc::channel::<Out>(hub.cfg.queue.max(16));
    {
        let mut st = hub.state();
        st.peers.insert(
            conn,
            Peer {
                room: adm.room.clone(),
                name: adm.name.clone(),
                participant: participant.clone(),
                addr: peer.to_string(),
                tx,
                legacy_watch: false,
                streams: HashSet::new(),
                generation: "?",
                dropped: 0,
                next_push: 0,
            },
        );
        let ready = codec::pack(
            &json!({
                "room_name": adm.room,
                "room_url": format!("ws://{}/rooms/{}", hub.addr, adm.room),
                "session_id": session_id,
            })
            .to_string(),
            &[],
        );
        hub.send_to(&mut st, conn, None, "room_ready", &ready);
        let init = codec::pack(
            &json!({
                "type": "init",
                "participantId": participant,
                "attributes": {"name": adm.name},
            })
            .to_string(),
            &[],
        );
        hub.send_to(&mut st, conn, None, "connected", &init);
    }
    hub.notice(
        Level::Info,
        "room",
        format!(
            "{} joined {} from {peer} ({participant})",
            adm.name, adm.room
        ),
    );
    hub.report_peers();
    let mut asm = Assembler::new(hub.cfg.max_message);
    let why = loop {
        tokio::select! {
            msg = ws.next() => match msg {
                None => break "closed".to_string(),
                Some(Err(e)) => break format!("error: {e}"),
                Some(Ok(Message::Binary(b))) => {
                    let (err, done) = asm.feed(&b);
                    if let Some(e) = err {
                        hub.notice(Level::Warn, "room", format!("bad packet from {}: {e}", adm.name));
                    }
                    if let Some(m) = done {
                        handle(&hub, conn, &adm, m);
                    }
                }
                Some(Ok(Message::Text(_))) => hub.notice(
                    Level::Warn,
                    "room",
                    format!("text frame from {} ignored: the room protocol is binary", adm.name),
                ),
                Some(Ok(Message::Close(_))) => break "closed by the client".to_string(),
                Some(Ok(_)) => {} // pings are answered by tungstenite
            },
            out = rx.recv() => {
                let Some(packets) = out else { break "dropped: too slow".to_string() };
                // A client that stops reading must not hold this task (and
                // the server's shutdown) forever.
                let write = async {
                    for p in packets {
                        ws.feed(Message::Binary(p.into())).await?;
                    }
                    if rx.is_empty() {
                        ws.flush().await?;
                    }
                    Ok::<(), tokio_tungstenite::tungstenite::Error>(())
                };
                match tokio::time::timeout(Duration::from_secs(10), write).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => break format!("send failed: {e}"),
                    Err(_) => break "send timed out: the client does not read".to_string(),
                }
            }
            _ = closing.changed() => {
                let _ = ws.close(None).await;
                break "server stopping".to_string();
            }
        }
    };
    hub.state().peers.remove(&conn);
    hub.notice(
        Level::Info,
        "room",
        format!("{} left {} ({why})", adm.name, adm.room),
    );
    hub.report_peers();
}

fn respond(hub: &Hub, conn: u64, id: u64, content: &Value) {
    let data = codec::pack(&content.to_string(), &[]);
    let mut st = hub.state();
    hub.send_to(&mut st, conn, Some(id), "__response__", &data);
}

fn respond_error(hub: &Hub, conn: u64, id: u64, code: i64, text: String) {
    respond(
        hub,
        conn,
        id,
        &json!({"type": "error", "text": text, "code": code}),
    );
}

fn set_generation(hub: &Hub, conn: u64, g: &'static str) {
    let changed = {
        let mut st = hub.state();
        match st.peers.get_mut(&conn) {
            Some(p) if p.generation != g => {
                p.generation = g;
                true
            }
            _ => false,
        }
    };
    if changed {
        hub.report_peers();
    }
}

fn handle(hub: &Hub, conn: u64, adm: &Admitted, m: codec::Message) {
    let (head, payload) = match codec::unpack(&m.data) {
        Ok(x) => x,
        Err(e) => {
            hub.notice(
                Level::Warn,
                "room",
                format!("bad {} message from {}: {e}", m.kind, adm.name),
            );
            if m.kind != "set_attributes" {
                respond_error(hub, conn, m.id, 1002, format!("invalid request: {e}"));
            }
            return;
        }
    };
    let denied = |hub: &Hub| {
        respond_error(
            hub,
            conn,
            m.id,
            1001,
            format!(
                "permission denied: {}",
                adm.refused.as_deref().unwrap_or("")
            ),
        )
    };
    match m.kind.as_str() {
        "room.invoke_tool" if hub.cfg.toolkit => {
            let toolkit = head.get("toolkit").and_then(Value::as_str).unwrap_or("");
            let tool = head.get("tool").and_then(Value::as_str).unwrap_or("");
            let args = head.get("arguments").cloned().unwrap_or(Value::Null);
            if toolkit != "developer"
                || !matches!(tool, "logs" | "log" | "info" | "warning" | "error")
            {
                respond_error(
                    hub,
                    conn,
                    m.id,
                    1003,
                    format!("roomtap room: no tool {toolkit}.{tool}"),
                );
                return;
            }
            set_generation(hub, conn, "current");
            if adm.refused.is_some() {
                denied(hub);
                return;
            }
            if tool == "logs" {
                let open = args.get("type").and_then(Value::as_str) == Some("control")
                    && args.get("method").and_then(Value::as_str) == Some("open");
                let Some(tc) = head.get("tool_call_id").and_then(Value::as_str) else {
                    respond_error(
                        hub,
                        conn,
                        m.id,
                        1002,
                        "developer.logs is a stream: tool_call_id is required".into(),
                    );
                    return;
                };
                if !open {
                    respond_error(
                        hub,
                        conn,
                        m.id,
                        1002,
                        "developer.logs expects a control open".into(),
                    );
                    return;
                }
                let opened = match hub.state().peers.get_mut(&conn) {
                    Some(p) if p.streams.len() < hub.cfg.max_streams || p.streams.contains(tc) => {
                        p.streams.insert(tc.to_string());
                        true
                    }
                    _ => false,
                };
                if opened {
                    respond(
                        hub,
                        conn,
                        m.id,
                        &json!({"type": "control", "method": "open"}),
                    );
                } else {
                    respond_error(
                        hub,
                        conn,
                        m.id,
                        1008,
                        format!(
                            "too many developer log streams open (at most {})",
                            hub.cfg.max_streams
                        ),
                    );
                }
                return;
            }
            let body = match codec::Content::from_parts(&args, payload) {
                codec::Content::Json(v) => v,
                codec::Content::Empty => json!({}),
                other => {
                    respond_error(
                        hub,
                        conn,
                        m.id,
                        1002,
                        format!("developer.{tool} takes json arguments, not {other:?}"),
                    );
                    return;
                }
            };
            let (ty, data) = if tool == "log" {
                (
                    body.get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_string(),
                    body.get("data").cloned().unwrap_or(json!({})),
                )
            } else {
                (tool.to_string(), body)
            };
            if !data.is_object() {
                respond_error(
                    hub,
                    conn,
                    m.id,
                    1002,
                    "developer log data must be a JSON object".into(),
                );
                return;
            }
            respond(hub, conn, m.id, &json!({"type": "empty"}));
            hub.publish(&adm.room, &ty, &data);
        }
        "room.tool_call_request_chunk" if hub.cfg.toolkit => {
            let tc = head
                .get("tool_call_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let chunk = head.get("chunk").cloned().unwrap_or(Value::Null);
            let close = chunk.get("type").and_then(Value::as_str) == Some("control")
                && chunk.get("method").and_then(Value::as_str) == Some("close");
            let removed = close
                && hub
                    .state()
                    .peers
                    .get_mut(&conn)
                    .is_some_and(|p| p.streams.remove(&tc));
            respond(hub, conn, m.id, &json!({"type": "empty"}));
            if removed {
                let head = json!({
                    "tool_call_id": tc,
                    "chunk": {"type": "control", "method": "close", "status_code": 1000},
                });
                let data = codec::pack(&head.to_string(), &[]);
                let mut st = hub.state();
                hub.send_to(&mut st, conn, None, "room.tool_call_response_chunk", &data);
            }
        }
        "developer.watch" | "developer.unwatch" if hub.cfg.legacy => {
            set_generation(hub, conn, "legacy");
            if adm.refused.is_some() {
                denied(hub);
                return;
            }
            let on = m.kind == "developer.watch";
            if let Some(p) = hub.state().peers.get_mut(&conn) {
                p.legacy_watch = on;
            }
            respond(hub, conn, m.id, &json!({"type": "empty"}));
        }
        "developer.log" | "developer.info" | "developer.warning" | "developer.error"
            if hub.cfg.legacy =>
        {
            set_generation(hub, conn, "legacy");
            if adm.refused.is_some() {
                denied(hub);
                return;
            }
            let (ty, data) = if m.kind == "developer.log" {
                (
                    head.get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown")
                        .to_string(),
                    head.get("data").cloned().unwrap_or(json!({})),
                )
            } else {
                (m.kind["developer.".len()..].to_string(), head.clone())
            };
            respond(hub, conn, m.id, &json!({"type": "empty"}));
            hub.publish(&adm.room, &ty, &data);
        }
        "set_attributes" => {}
        other => respond_error(
            hub,
            conn,
            m.id,
            1003,
            format!("roomtap room: unknown message type {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Eb+c"), "a.b c");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        assert_eq!(percent_decode("é%4"), "é%4");
    }
}
