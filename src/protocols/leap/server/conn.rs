//! One Leap connection: the upgrade (admitted or refused), HELLO, then its
//! frames in and its queued frames out until either side stops, the
//! identify deadline passes, or the server stops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

use super::handle::handle;
use super::{Client, Hub, Out};
use crate::event::Level;
use crate::protocols::leap::wire::codec::{self, Frame};

/// How long a write may take before the client is taken as not reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a close handshake may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) async fn serve_conn(
    hub: Arc<Hub>,
    tcp: TcpStream,
    peer: SocketAddr,
    mut closing: watch::Receiver<bool>,
) {
    let Some((mut ws, zlib, path)) = upgrade(&hub, tcp, peer).await else {
        return;
    };
    let n = hub.next_conn.fetch_add(1, Ordering::Relaxed);
    let cid = format!("conn_{n}");
    let (tx, mut rx) = mpsc::channel::<Out>(hub.cfg.queue.max(1));
    let hello = hub.hello.load(Ordering::Relaxed);
    {
        let mut st = hub.state();
        st.clients.insert(
            cid.clone(),
            Client {
                addr: peer.to_string(),
                tx,
                zlib,
                scope: None,
                subs: Default::default(),
                pipes: Default::default(),
            },
        );
        if hello {
            let frame = codec::encode(&Frame::Hello {
                heartbeat_interval: hub.cfg.heartbeat_interval.as_millis() as u64,
            });
            hub.send_to(&mut st, &cid, Out::Frame(frame));
        }
    }
    hub.notice(
        Level::Info,
        format!(
            "{cid} connected from {peer} to {path} ({}){}",
            if zlib {
                "zlib binary frames"
            } else {
                "text frames"
            },
            if hello {
                ""
            } else {
                "; no HELLO sent (set_hello off)"
            }
        ),
    );
    hub.report_peers();
    hub.changed();
    let why = serve(&hub, &cid, zlib, &mut ws, &mut rx, &mut closing).await;
    hub.state().clients.remove(&cid);
    hub.notice(Level::Info, format!("{cid} closed: {why}"));
    hub.report_peers();
    hub.changed();
}

fn refuse(status: u16, body: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(body.to_string()));
    *r.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::from_u16(status)
        .unwrap_or(tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST);
    r
}

/// Whether a request's query asks for zlib frames (`compression=zlib`).
pub(super) fn wants_zlib(query: Option<&str>) -> bool {
    query.is_some_and(|q| q.split('&').any(|kv| kv == "compression=zlib"))
}

/// The WebSocket upgrade, admitted or refused (and said so). Returns the
/// socket, whether the client asked for zlib, and the path it asked for
/// (secret-looking query values masked).
async fn upgrade(
    hub: &Hub,
    tcp: TcpStream,
    peer: SocketAddr,
) -> Option<(WebSocketStream<TcpStream>, bool, String)> {
    let mut zlib = false;
    let mut path = String::new();
    let mut refused: Option<(u16, String)> = None;
    #[allow(clippy::result_large_err)] // the type tungstenite's callback returns
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        // First of all: no web page (foreign Origin) and no rebinding name
        // (foreign Host).
        if let Err(r) = hub.cfg.guard.screen(hub.addr, req.headers(), &hub.refused) {
            let why = r.to_string();
            let resp = refuse(403, &format!("roomtap leap: {why}"));
            refused = Some((403, why));
            return Err(resp);
        }
        if req.uri().path() != "/ws" {
            let why = format!(
                "no Leap Edge at {} (it is at /ws)",
                crate::text::sanitize_capped(req.uri().path(), 80)
            );
            let resp = refuse(404, &why);
            refused = Some((404, why));
            return Err(resp);
        }
        zlib = wants_zlib(req.uri().query());
        let asked = req
            .uri()
            .path_and_query()
            .map_or("/ws", |p| p.as_str())
            .to_string();
        path = crate::text::sanitize_capped(&crate::text::redact_url(&asked), 200).into_owned();
        Ok(resp)
    };
    // tungstenite's own cap is above `max_frame` so that a frame a little
    // too big gets Leap's 4005, not a bare protocol error.
    let cap = hub.cfg.max_frame.saturating_mul(2).max(64 * 1024);
    let ws_cfg = WebSocketConfig::default()
        .max_message_size(Some(cap))
        .max_frame_size(Some(cap));
    let accepted = tokio::time::timeout(
        hub.cfg.handshake_timeout,
        tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(ws_cfg)),
    )
    .await;
    match accepted {
        Ok(Ok(ws)) => Some((ws, zlib, path)),
        Ok(Err(e)) => {
            if refused.as_ref().is_some_and(|(s, _)| *s == 403)
                && let (Some(em), Some(f)) = (&hub.em, hub.refused.fact())
            {
                em.try_emit(crate::event::EventKind::Facts(vec![f]));
            }
            match refused {
                Some((status, why)) => hub.notice(
                    Level::Warn,
                    format!("refused {peer} with HTTP {status}: {why}"),
                ),
                None => hub.notice(Level::Warn, format!("upgrade from {peer} failed: {e}")),
            }
            hub.changed();
            None
        }
        Err(_) => {
            hub.notice(
                Level::Warn,
                format!(
                    "{peer} did not finish the WebSocket handshake within {:?}",
                    hub.cfg.handshake_timeout
                ),
            );
            None
        }
    }
}

/// Close with `code` and `reason` (cut to the 123 bytes a close frame
/// holds), then wait (bounded) for the client's close.
async fn close(ws: &mut WebSocketStream<TcpStream>, code: u16, reason: &str) {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason[..end].to_string().into(),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        if ws.close(Some(frame)).await.is_err() {
            return;
        }
        // Bounded: CLOSE_TIMEOUT, and the stream ends at the client's close.
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// Frames in, queued frames out, until either side stops; returns why.
async fn serve(
    hub: &Hub,
    cid: &str,
    zlib: bool,
    ws: &mut WebSocketStream<TcpStream>,
    rx: &mut mpsc::Receiver<Out>,
    closing: &mut watch::Receiver<bool>,
) -> String {
    let identify_by = tokio::time::Instant::now() + hub.cfg.identify_timeout;
    let mut identified = false;
    loop {
        let mut shut: Option<(u16, String)> = None;
        tokio::select! {
            msg = ws.next() => match msg {
                None => break "connection lost (no close frame)".to_string(),
                Some(Err(e)) => break format!("error: {e}"),
                Some(Ok(Message::Text(t))) => {
                    shut = handle(hub, cid, &mut identified, t.as_bytes(), false);
                }
                Some(Ok(Message::Binary(b))) => {
                    shut = handle(hub, cid, &mut identified, &b, true);
                }
                Some(Ok(Message::Close(f))) => {
                    break match f {
                        Some(f) => format!(
                            "closed by the client ({} {})",
                            u16::from(f.code),
                            crate::text::sanitize_capped(&f.reason, 80)
                        ),
                        None => "closed by the client".to_string(),
                    };
                }
                Some(Ok(_)) => {} // pings are answered by tungstenite
            },
            out = rx.recv() => match out {
                None => {
                    close(ws, 1008, "too slow: frames not read").await;
                    break "dropped: too slow".to_string();
                }
                Some(Out::Close(code, reason)) => shut = Some((code, reason)),
                Some(Out::Frame(text)) => {
                    let write = async {
                        let msg = if zlib {
                            Message::Binary(codec::deflate(&text).into())
                        } else {
                            Message::Text(text.into())
                        };
                        ws.feed(msg).await?;
                        if rx.is_empty() {
                            ws.flush().await?;
                        }
                        Ok::<(), tokio_tungstenite::tungstenite::Error>(())
                    };
                    match tokio::time::timeout(WRITE_TIMEOUT, write).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => break format!("send failed: {e}"),
                        Err(_) => break "send timed out: the client does not read".to_string(),
                    }
                }
            },
            _ = tokio::time::sleep_until(identify_by), if !identified => {
                hub.notice(
                    Level::Warn,
                    format!("{cid} sent no IDENTIFY within {:?}", hub.cfg.identify_timeout),
                );
                shut = Some((4002, "Identify timeout".to_string()));
            }
            _ = closing.changed() => {
                close(ws, 1001, "server stopping").await;
                break "server stopping".to_string();
            }
        }
        if let Some((code, reason)) = shut {
            // Gone for the server at once (nothing more is queued to it),
            // while the close handshake runs.
            hub.state().clients.remove(cid);
            hub.changed();
            // What was queued before the close goes first.
            while let Ok(Out::Frame(text)) = rx.try_recv() {
                let msg = if zlib {
                    Message::Binary(codec::deflate(&text).into())
                } else {
                    Message::Text(text.into())
                };
                if ws.feed(msg).await.is_err() {
                    break;
                }
            }
            close(ws, code, &reason).await;
            break format!(
                "closed by the server with {code} ({})",
                codec::close_code(code).0
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wants_zlib;

    #[test]
    fn zlib_only_when_asked() {
        assert!(wants_zlib(Some("encoding=json&compression=zlib")));
        assert!(!wants_zlib(Some("encoding=json&compression=none")));
        assert!(!wants_zlib(Some("from=redirect")));
        assert!(!wants_zlib(None));
    }
}
