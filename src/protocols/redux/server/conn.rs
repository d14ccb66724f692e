//! One client connection of roomtap's relay: the upgrade (path, secret and
//! connection limit checked before it), the SocketCluster handshake, pings
//! in the client's own style, and each packet routed through the hub.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::protocols::redux::wire::packet::{self, Packet};
use super::{Hub, Proto};
use crate::event::{EventKind, Level};

pub(super) async fn accept_loop(hub: Arc<Hub>, listener: tokio::net::TcpListener) {
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                tokio::spawn(upgrade(hub.clone(), tcp, peer));
            }
            Err(e) => {
                hub.notice(Level::Warn, "relay", format!("accept failed: {e}"));
                // E.g. out of file descriptors: do not spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn refuse(status: u16, body: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(body.to_string()));
    *r.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::from_u16(status)
        .unwrap_or(tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST);
    r
}

/// Compare without an early exit on the first differing byte.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the upgrade request carries the secret: `?secret=` in the URL,
/// the password of HTTP basic auth (`ws://user:SECRET@host` in Node's
/// `ws`), or `Authorization: Bearer SECRET`.
pub(super) fn presents_secret(req: &Request, secret: &str) -> bool {
    let query_ok = req.uri().query().is_some_and(|q| {
        q.split('&').any(|kv| {
            kv.strip_prefix("secret=")
                .is_some_and(|v| same_secret(percent_decode(v).as_bytes(), secret.as_bytes()))
        })
    });
    let header_ok = req
        .headers()
        .get_all("authorization")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            if let Some(t) = v.strip_prefix("Bearer ") {
                return same_secret(t.trim().as_bytes(), secret.as_bytes());
            }
            if let Some(b) = v.strip_prefix("Basic ") {
                return base64_decode(b.trim())
                    .and_then(|d| String::from_utf8(d).ok())
                    .and_then(|up| up.split_once(':').map(|(_, p)| p.to_string()))
                    .is_some_and(|p| same_secret(p.as_bytes(), secret.as_bytes()));
            }
            false
        });
    query_ok || header_ok
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Counts live connections; decremented when dropped.
struct ConnSlot(Arc<Hub>);

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.0.conns.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn upgrade(hub: Arc<Hub>, tcp: tokio::net::TcpStream, peer: SocketAddr) {
    let slot = {
        hub.conns.fetch_add(1, Ordering::Relaxed);
        ConnSlot(hub.clone())
    };
    let over_limit = hub.conns.load(Ordering::Relaxed) > hub.cfg.max_conns;
    let refusal = std::sync::Mutex::new(None::<String>);
    let cfg = &hub.cfg;
    // The signature is tungstenite's.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let why = |s: &str| {
            if let Ok(mut r) = refusal.lock() {
                *r = Some(s.to_string());
            }
        };
        // First of all: a web page (foreign Origin) or a rebinding name
        // (foreign Host) must not reach the apps.
        if let Err(r) = cfg.guard.screen(cfg.bind, req.headers(), &hub.refused) {
            why(&r.to_string());
            return Err(refuse(403, &format!("roomtap relay: {r}")));
        }
        if req.uri().path().trim_end_matches('/') != cfg.path.trim_end_matches('/') {
            why("wrong path");
            return Err(refuse(
                404,
                &format!("roomtap relay: WebSocket endpoint is {}", cfg.path),
            ));
        }
        if over_limit {
            why("connection limit reached");
            return Err(refuse(503, "roomtap relay: too many connections"));
        }
        if let Some(secret) = &cfg.secret
            && !presents_secret(req, secret)
        {
            why("missing or wrong secret");
            return Err(refuse(401, "roomtap relay: a secret is required"));
        }
        Ok(resp)
    };
    let ws_cfg = WebSocketConfig::default()
        .max_message_size(Some(cfg.max_frame))
        .max_frame_size(Some(cfg.max_frame));
    let accepted = tokio::time::timeout(
        cfg.handshake_timeout,
        tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(ws_cfg)),
    )
    .await;
    let ws = match accepted {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            let why = refusal.lock().ok().and_then(|mut r| r.take());
            if let Some(why) = why {
                hub.notice(
                    Level::Warn,
                    "relay",
                    format!("refused a connection from {peer}: {why}"),
                );
            } else if !matches!(e, WsError::ConnectionClosed | WsError::AlreadyClosed) {
                hub.notice(
                    Level::Debug,
                    "relay",
                    format!("not a WebSocket upgrade from {peer}: {e}"),
                );
            }
            return;
        }
        Err(_) => return,
    };
    let (mut sink, stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(cfg.queue.max(1));
    let counted = hub.clone();
    let writer = tokio::spawn(async move {
        let meter = &counted.meter;
        while let Some(m) = out_rx.recv().await {
            let mut closing = matches!(m, Message::Close(_));
            // Counted once per batch: one atomic add, not one per frame.
            let (mut frames, mut bytes) = (1u64, m.len() as u64);
            if sink.feed(m).await.is_err() {
                return;
            }
            // Write what else is queued before one flush.
            while !closing && let Ok(m) = out_rx.try_recv() {
                closing = matches!(m, Message::Close(_));
                frames += 1;
                bytes += m.len() as u64;
                if sink.feed(m).await.is_err() {
                    return;
                }
            }
            meter.frames_out(frames, bytes);
            if sink.flush().await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });
    session(hub, stream, out_tx, peer.to_string(), false).await;
    // The writer ends once the session's sender and the hub's are gone.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    drop(slot);
}

/// An in-process client: its frames go straight to a session task.
pub(super) fn connect_local(hub: Arc<Hub>) -> (mpsc::Sender<Message>, mpsc::Receiver<Message>) {
    let (to_relay, from_client) = mpsc::channel::<Message>(1024);
    let (out_tx, out_rx) = mpsc::channel::<Message>(hub.cfg.queue.max(1));
    let stream = futures_util::stream::unfold(from_client, |mut rx| async move {
        rx.recv().await.map(|m| (Ok::<_, WsError>(m), rx))
    });
    tokio::spawn(session(
        hub,
        Box::pin(stream),
        out_tx,
        "in-process".into(),
        true,
    ));
    (to_relay, out_rx)
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    }))
}

/// The first frame must be `#handshake` (socketcluster-server's strict
/// handshake). Returns its cid.
async fn await_handshake<S>(hub: &Hub, rx: &mut S) -> Result<u64, (u16, String)>
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let deadline = Instant::now() + hub.cfg.handshake_timeout;
    loop {
        let m = match tokio::time::timeout_at(deadline, rx.next()).await {
            Err(_) => return Err((4005, "handshake timed out".into())),
            Ok(None) | Ok(Some(Err(_))) => {
                return Err((1006, "closed before the handshake".into()));
            }
            Ok(Some(Ok(m))) => m,
        };
        let t = match m {
            Message::Text(t) => t,
            Message::Close(_) => return Err((1000, "closed before the handshake".into())),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            Message::Binary(_) => {
                return Err((
                    4009,
                    "strict handshake: binary frame before #handshake".into(),
                ));
            }
        };
        return match packet::decode(t.as_str()).as_deref() {
            Ok(
                [
                    Packet::Event {
                        event: "#handshake",
                        cid: Some(cid),
                        ..
                    },
                ],
            ) => Ok(*cid),
            _ => Err((
                4009,
                "strict handshake: the first packet must be #handshake".into(),
            )),
        };
    }
}

/// Subscribe data: `{"channel":"x",...}` or a bare string.
fn channel_of(data: Option<&str>) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Sub {
        Obj { channel: String },
        Name(String),
    }
    match serde_json::from_str::<Sub>(data?).ok()? {
        Sub::Obj { channel } | Sub::Name(channel) => Some(channel),
    }
}

async fn session<S>(hub: Arc<Hub>, mut rx: S, out: mpsc::Sender<Message>, peer: String, local: bool)
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let cid = match await_handshake(&hub, &mut rx).await {
        Ok(cid) => cid,
        Err((code, reason)) => {
            if code >= 4000 {
                hub.notice(
                    Level::Warn,
                    "relay",
                    format!("closed {peer} ({code}): {reason}"),
                );
            }
            let _ = out.send(close(code, &reason)).await;
            return;
        }
    };
    let id = hub.new_id();
    hub.register(id.clone(), out.clone(), peer.clone(), local);
    let ping_ms = hub.cfg.ping_timeout.as_millis() as u64;
    let _ = out
        .send(Message::text(packet::handshake_reply(cid, &id, ping_ms)))
        .await;
    let mut proto = Proto::Unknown;
    let mut last_rx = Instant::now();
    let mut ping = tokio::time::interval_at(
        Instant::now() + hub.cfg.ping_interval,
        hub.cfg.ping_interval,
    );
    let mut binary_noted = false;
    let mut closing = hub.closing.subscribe();
    let reason: String = loop {
        tokio::select! {
            _ = closing.changed() => {
                let _ = out.try_send(close(1001, "relay stopping"));
                break "relay stopping".into();
            }
            m = rx.next() => match m {
                None => break "connection closed".into(),
                Some(Err(WsError::Capacity(e))) => {
                    let why = format!("frame over the {} byte limit ({e})", hub.cfg.max_frame);
                    hub.notice(Level::Warn, "relay", format!("socket {id} ({peer}) sent a {why}: closed with 1009"));
                    let _ = out.try_send(close(1009, "frame too big"));
                    break why;
                }
                Some(Err(e)) => break format!("connection error: {e}"),
                Some(Ok(Message::Text(t))) => {
                    last_rx = Instant::now();
                    if !local {
                        hub.meter.frame_in(t.len());
                    }
                    if let Err(why) = on_text(&hub, &id, &peer, &out, &mut proto, t.as_str()).await {
                        break why;
                    }
                }
                Some(Ok(Message::Close(c))) => {
                    break match c {
                        Some(c) => format!("closed by the client ({}{}{})", u16::from(c.code),
                            if c.reason.is_empty() { "" } else { ": " },
                            crate::text::sanitize_capped(&c.reason, 120)),
                        None => "closed by the client".into(),
                    };
                }
                Some(Ok(Message::Binary(b))) => {
                    last_rx = Instant::now();
                    if !local {
                        hub.meter.frame_in(b.len());
                    }
                    if !binary_noted {
                        binary_noted = true;
                        hub.malformed(&id, &peer, format!("binary frame of {} bytes ignored (SocketCluster sends text)", b.len()), "");
                    }
                }
                Some(Ok(_)) => last_rx = Instant::now(),
            },
            _ = ping.tick(), if !local => {
                if last_rx.elapsed() > hub.cfg.ping_timeout {
                    let _ = out.try_send(close(4001, "ping timeout"));
                    hub.timed_out.fetch_add(1, Ordering::Relaxed);
                    break format!("no pong within {:?} (4001)", hub.cfg.ping_timeout);
                }
                // Each generation ignores the other's ping; the first pong
                // tells which one the client speaks.
                let pings: &[&str] = match proto {
                    Proto::V1 => &["#1"],
                    Proto::V2 => &[""],
                    Proto::Unknown => &["", "#1"],
                };
                for p in pings {
                    let _ = out.try_send(Message::text(*p));
                }
            }
        }
    };
    hub.remove(&id, &reason);
}

async fn on_text(
    hub: &Hub,
    id: &str,
    peer: &str,
    out: &mpsc::Sender<Message>,
    proto: &mut Proto,
    text: &str,
) -> Result<(), String> {
    let packets = match packet::decode(text) {
        Ok(p) => p,
        Err(e) => {
            hub.malformed(id, peer, e.0, text);
            return Ok(());
        }
    };
    for p in packets {
        let reply = match p {
            Packet::PongV2 | Packet::PongV1 => {
                let seen = if p == Packet::PongV2 {
                    Proto::V2
                } else {
                    Proto::V1
                };
                if *proto != seen {
                    *proto = seen;
                    hub.set_proto(id, seen);
                }
                None
            }
            Packet::PingV1 => Some("#2".to_string()),
            Packet::Reply { .. } => None,
            Packet::Event { event, data, cid } => on_event(hub, id, event, data, cid),
        };
        if let Some(r) = reply
            && out.send(Message::text(r)).await.is_err()
        {
            return Err("connection closed".into());
        }
    }
    // Read no more from this client until roomtap's own panes have taken
    // what it sent (they lose nothing; the client is slowed down instead).
    hub.drain_overflow().await;
    Ok(())
}

/// One event packet; returns the reply to send, if any.
fn on_event(
    hub: &Hub,
    id: &str,
    event: &str,
    data: Option<&str>,
    cid: Option<u64>,
) -> Option<String> {
    let ok = |d: Option<&str>| cid.map(|c| packet::reply(c, d));
    match event {
        "#handshake" => {
            cid.map(|c| packet::handshake_reply(c, id, hub.cfg.ping_timeout.as_millis() as u64))
        }
        "#subscribe" => match channel_of(data) {
            Some(ch) => {
                hub.subscribe(id, &ch);
                ok(None)
            }
            None => cid.map(|c| {
                packet::reply_error(c, "InvalidArgumentsError", "subscribe needs a channel")
            }),
        },
        "#unsubscribe" => {
            if let Some(ch) = channel_of(data) {
                hub.unsubscribe(id, &ch);
            }
            ok(None)
        }
        "#publish" => cid.map(|c| {
            packet::reply_error(
                c,
                "InvalidActionError",
                "Client publish feature is disabled",
            )
        }),
        "#authenticate" | "#removeAuthToken" => ok(None),
        "login" => {
            let master = data.map(str::trim) == Some("\"master\"");
            let ch = hub.login(id, master);
            ok(Some(&packet::quote(ch)))
        }
        _ => match cid {
            // The Node relay forwards transmits only and never answers
            // these; an error at least does not leave the client waiting.
            Some(c) => Some(packet::reply_error(
                c,
                "InvalidActionError",
                &format!(
                    "{} is not handled as an RPC: send it as a transmit (no cid)",
                    crate::text::sanitize_capped(event, 64)
                ),
            )),
            None => {
                hub.transmit(id, event, data.unwrap_or("null"));
                None
            }
        },
    }
}

impl Hub {
    /// A frame that is not SocketCluster: a visible error entry (never a
    /// crash, never silent).
    pub(super) fn malformed(&self, id: &str, peer: &str, what: String, raw: &str) {
        if let Some(em) = &self.em {
            em.try_emit(EventKind::Malformed {
                what: format!("from socket {id} ({peer}): {what}"),
                raw: raw.chars().take(4096).collect(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, auth: Option<&str>) -> Request {
        let mut b = Request::builder().uri(uri);
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn secrets_by_query_basic_auth_or_bearer() {
        let s = "s3cr et";
        assert!(presents_secret(
            &req("/socketcluster/?secret=s3cr%20et", None),
            s
        ));
        assert!(presents_secret(
            &req("/socketcluster/?a=1&secret=s3cr+et", None),
            s
        ));
        // "roomtap:s3cr et"
        assert!(presents_secret(
            &req("/socketcluster/", Some("Basic cm9vbXRhcDpzM2NyIGV0")),
            s
        ));
        assert!(presents_secret(
            &req("/socketcluster/", Some("Bearer s3cr et")),
            s
        ));
        assert!(!presents_secret(
            &req("/socketcluster/?secret=nope", None),
            s
        ));
        assert!(!presents_secret(&req("/socketcluster/", None), s));
        assert!(!presents_secret(
            &req("/socketcluster/", Some("Basic !!!")),
            s
        ));
        assert!(!presents_secret(
            &req("/socketcluster/?secret=%zz", None),
            s
        ));
    }

    #[test]
    fn subscribe_data_shapes() {
        assert_eq!(
            channel_of(Some(r#"{"channel":"log"}"#)).as_deref(),
            Some("log")
        );
        assert_eq!(
            channel_of(Some(r#"{"channel":"respond","waitForAuth":false}"#)).as_deref(),
            Some("respond")
        );
        assert_eq!(channel_of(Some(r#""log""#)).as_deref(), Some("log"));
        assert_eq!(channel_of(Some("1")), None);
        assert_eq!(channel_of(None), None);
    }
}
