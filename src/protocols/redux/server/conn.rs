//! One client connection of roomtap's relay: the upgrade (through the
//! server kit: guard, connection limit, then the path and the secret), the
//! SocketCluster handshake, pings in the client's own style, and each
//! packet routed through the hub.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::server::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::{Hub, Proto};
use crate::event::Level;
use crate::protocols::redux::wire::packet::{self, Packet};
use crate::serve::Deadlines;
use crate::serve::ws::{self, Door, Read, Refuse, close};

/// Compare without an early exit on the first differing byte.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the upgrade request carries the secret: `?secret=` in the URL
/// (read as a form: percent-encoded keys and values, `+`), the password of
/// HTTP basic auth (`ws://user:SECRET@host` in Node's `ws`), or
/// `Authorization: Bearer SECRET`.
pub(super) fn presents_secret(req: &Request, secret: &str) -> bool {
    let query_ok = req.uri().query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .any(|(k, v)| k == "secret" && same_secret(v.as_bytes(), secret.as_bytes()))
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
                let engine = &base64::engine::general_purpose::STANDARD;
                return engine
                    .decode(b.trim())
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .and_then(|up| up.split_once(':').map(|(_, p)| p.to_string()))
                    .is_some_and(|p| same_secret(p.as_bytes(), secret.as_bytes()));
            }
            false
        });
    query_ok || header_ok
}

impl Hub {
    fn deadlines(&self) -> Deadlines {
        Deadlines {
            handshake: self.cfg.handshake_timeout,
            // SocketCluster's pings are text frames: a live client answers
            // them within the timeout; WebSocket control frames do not
            // count, so a message left unfinished ends it too.
            data: Some(self.cfg.ping_timeout),
            ..Deadlines::default()
        }
    }

    /// Past the guard and the limit: the path and the secret.
    fn admit(&self, req: &Request) -> Result<(), Refuse> {
        let cfg = &self.cfg;
        if req.uri().path().trim_end_matches('/') != cfg.path.trim_end_matches('/') {
            return Err(Refuse::new(
                404,
                format!("wrong path: the WebSocket endpoint is {}", cfg.path),
            ));
        }
        if let Some(secret) = &cfg.secret
            && !presents_secret(req, secret)
        {
            return Err(Refuse::new(401, "missing or wrong secret"));
        }
        Ok(())
    }
}

pub(super) async fn serve_conn(hub: Arc<Hub>, tcp: tokio::net::TcpStream, peer: SocketAddr) {
    let deadlines = hub.deadlines();
    let door = Door {
        bind: hub.cfg.bind,
        guard: &hub.cfg.guard,
        deadlines: &deadlines,
        config: WebSocketConfig::default()
            .max_message_size(Some(hub.cfg.max_frame))
            .max_frame_size(Some(hub.cfg.max_frame)),
    };
    let Some(up) = ws::upgrade(&hub.core, tcp, peer, &door, |req| hub.admit(req)).await else {
        return;
    };
    let (out_tx, reader, mut writer) =
        ws::connection(up.ws, &hub.core, &deadlines, hub.cfg.queue, None, |m: Message| m);
    session(hub, reader, out_tx, peer.to_string(), false).await;
    // The writer ends once the session's sender and the hub's are gone.
    writer.finish(Duration::from_secs(2)).await;
    drop(up.slot);
}

/// An in-process client: its frames go straight to a session task.
pub(super) fn connect_local(hub: Arc<Hub>) -> (mpsc::Sender<Message>, mpsc::Receiver<Message>) {
    let (to_relay, from_client) = mpsc::channel::<Message>(1024);
    let (out_tx, out_rx) = mpsc::channel::<Message>(hub.cfg.queue.max(1));
    let stream = futures_util::stream::unfold(from_client, |mut rx| async move {
        rx.recv().await.map(|m| (Ok::<_, WsError>(m), rx))
    });
    let reader = ws::Reader::new(
        Box::pin(stream),
        hub.core.clone(),
        &Deadlines::default(),
        false,
    );
    tokio::spawn(session(hub, reader, out_tx, "in-process".into(), true));
    (to_relay, out_rx)
}

/// The first frame must be `#handshake` (socketcluster-server's strict
/// handshake). Returns its cid.
async fn await_handshake<S>(hub: &Hub, rx: &mut ws::Reader<S>) -> Result<u64, (u16, String)>
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let deadline = Instant::now() + hub.cfg.handshake_timeout;
    loop {
        let m = match tokio::time::timeout_at(deadline, rx.next()).await {
            Err(_) => return Err((4005, "handshake timed out".into())),
            Ok(Read::Msg(m)) => m,
            Ok(Read::Closed(_)) => return Err((1000, "closed before the handshake".into())),
            Ok(Read::Idle(_) | Read::NoData(_)) => {
                return Err((4005, "handshake timed out".into()));
            }
            Ok(Read::Lost(_)) => {
                return Err((1006, "closed before the handshake".into()));
            }
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

async fn session<S>(
    hub: Arc<Hub>,
    mut rx: ws::Reader<S>,
    out: mpsc::Sender<Message>,
    peer: String,
    local: bool,
) where
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
    let mut ping = tokio::time::interval_at(
        Instant::now() + hub.cfg.ping_interval,
        hub.cfg.ping_interval,
    );
    let mut binary_noted = false;
    let mut closing = hub.core.closing();
    let reason: String = loop {
        tokio::select! {
            _ = closing.changed() => {
                let _ = out.try_send(close(1001, "relay stopping"));
                break "relay stopping".into();
            }
            m = rx.next() => match m {
                Read::Lost(WsError::Capacity(e)) => {
                    let why = format!("frame over the {} byte limit ({e})", hub.cfg.max_frame);
                    hub.notice(Level::Warn, "relay", format!("socket {id} ({peer}) sent a {why}: closed with 1009"));
                    let _ = out.try_send(close(1009, "frame too big"));
                    break why;
                }
                Read::Msg(Message::Text(t)) => {
                    if let Err(why) = on_text(&hub, &id, &peer, &out, &mut proto, t.as_str()).await {
                        break why;
                    }
                }
                Read::Msg(Message::Binary(b)) => {
                    if !binary_noted {
                        binary_noted = true;
                        hub.malformed(&id, &peer, format!("binary frame of {} bytes ignored (SocketCluster sends text)", b.len()), "");
                    }
                }
                Read::Msg(_) => {}
                Read::NoData(d) | Read::Idle(d) => {
                    let _ = out.try_send(close(4001, "ping timeout"));
                    hub.core.tally("dropped (no pong)", Level::Info, |n| {
                        format!("socket {id} ({peer}) answered no ping for {d:?}: closed with 4001 ({n} half-open clients dropped so far)")
                    });
                    break format!("no pong within {d:?} (4001)");
                }
                end => break end.end().unwrap_or_default(),
            },
            _ = ping.tick(), if !local => {
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
            Some(ch) if hub.subscribe(id, &ch) => ok(None),
            Some(_) => cid.map(|c| {
                packet::reply_error(c, "InvalidActionError", "too many subscriptions")
            }),
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
        self.core
            .malformed(format!("from socket {id} ({peer}): {what}"), raw);
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
