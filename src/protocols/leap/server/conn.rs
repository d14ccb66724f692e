//! One Leap connection: the upgrade (through the server kit: guard,
//! connection limit, then the path), HELLO, then its frames in and its
//! queued frames out until either side stops, the identify deadline or the
//! liveness deadline passes, or the server stops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::handle::handle;
use super::{Client, Hub, Out};
use crate::event::Level;
use crate::protocols::leap::wire::codec::{self, Frame};
use crate::serve::Deadlines;
use crate::serve::ws::{self, Door, Read, Refuse};

/// How long a close handshake may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

impl Hub {
    fn deadlines(&self) -> Deadlines {
        Deadlines {
            handshake: self.cfg.handshake_timeout,
            data: Some(self.cfg.liveness),
            ..Deadlines::default()
        }
    }
}

/// Whether a request's query asks for zlib frames (`compression=zlib`).
pub(super) fn wants_zlib(query: Option<&str>) -> bool {
    query.is_some_and(|q| q.split('&').any(|kv| kv == "compression=zlib"))
}

/// Past the guard and the limit: the path, and what the client asked for
/// (zlib, and the path it dialled with secret-looking values masked).
fn admit(req: &Request) -> Result<(bool, String), Refuse> {
    if req.uri().path() != "/ws" {
        return Err(Refuse::new(
            404,
            format!(
                "no Leap Edge at {} (it is at /ws)",
                crate::text::sanitize_capped(req.uri().path(), 80)
            ),
        ));
    }
    let asked = req
        .uri()
        .path_and_query()
        .map_or("/ws", |p| p.as_str())
        .to_string();
    Ok((
        wants_zlib(req.uri().query()),
        crate::text::sanitize_capped(&crate::text::redact_url(&asked), 200).into_owned(),
    ))
}

/// A frame as it goes out: text, or one zlib stream in a binary frame.
fn encode(out: Out, zlib: bool) -> Message {
    match out {
        Out::Frame(text) if zlib => Message::Binary(codec::deflate(&text).into()),
        Out::Frame(text) => Message::Text(text.into()),
        Out::Close(code, reason) => ws::close(code, &reason),
    }
}

pub(super) async fn serve_conn(hub: Arc<Hub>, tcp: TcpStream, peer: SocketAddr) {
    let deadlines = hub.deadlines();
    // tungstenite's own cap is above `max_frame` so that a frame a little
    // too big gets Leap's 4005, not a bare protocol error.
    let cap = hub.cfg.max_frame.saturating_mul(2).max(64 * 1024);
    let door = Door {
        bind: hub.addr,
        guard: &hub.cfg.guard,
        deadlines: &deadlines,
        config: WebSocketConfig::default()
            .max_message_size(Some(cap))
            .max_frame_size(Some(cap))
            .read_buffer_size(16 * 1024),
    };
    let Some(up) = ws::upgrade(&hub.core, tcp, peer, &door, admit).await else {
        hub.changed();
        return;
    };
    let (zlib, path) = up.admitted;
    hub.accepted.fetch_add(1, Ordering::Relaxed);
    let cid = format!("conn_{}", hub.core.next_id());
    // Every sender gone while the connection lives: the hub dropped it for
    // not reading its queue.
    let gone = ws::close(1008, "too slow: frames not read");
    let (tx, mut reader, mut writer) =
        ws::connection(up.ws, &hub.core, &deadlines, hub.cfg.queue, Some(gone), move |o| {
            encode(o, zlib)
        });
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
    let why = serve(&hub, &cid, &mut reader, &mut writer).await;
    {
        let mut st = hub.state();
        st.clients.remove(&cid);
        hub.forget_unwatched(&mut st);
    }
    // Bounded: the writer ends once its queue is gone or a write times out.
    writer.finish(CLOSE_TIMEOUT).await;
    hub.notice(Level::Info, format!("{cid} closed: {why}"));
    hub.report_peers();
    hub.changed();
    drop(up.slot);
}

/// Frames in until either side stops; returns why.
async fn serve(
    hub: &Hub,
    cid: &str,
    reader: &mut ws::Reader<futures_util::stream::SplitStream<ws::Ws>>,
    writer: &mut ws::Writer,
) -> String {
    let identify_by = tokio::time::Instant::now() + hub.cfg.identify_timeout;
    let mut identified = false;
    let mut closing = hub.core.closing();
    loop {
        let mut shut: Option<(u16, String)> = None;
        tokio::select! {
            r = reader.next() => match r {
                Read::Msg(Message::Text(t)) => {
                    shut = handle(hub, cid, &mut identified, t.as_bytes(), false);
                }
                Read::Msg(Message::Binary(b)) => {
                    shut = handle(hub, cid, &mut identified, &b, true);
                }
                Read::Msg(_) => {} // pings are answered by tungstenite
                Read::NoData(d) => {
                    hub.core.tally("dropped (no heartbeat)", Level::Warn, |n| {
                        format!("{cid} sent nothing for {d:?}: closing with 4000 ({n} dropped so far)")
                    });
                    shut = Some((4000, "No heartbeat".to_string()));
                }
                end => break end.end().unwrap_or_default(),
            },
            end = writer.ended() => {
                return match end {
                    // The hub dropped it: it did not read its queue.
                    ws::WriteEnd::Done => "dropped: too slow".to_string(),
                    ws::WriteEnd::Closed(Some(code)) => format!(
                        "closed by the server with {code} ({})",
                        codec::close_code(code).0
                    ),
                    end => end.to_string(),
                };
            }
            _ = tokio::time::sleep_until(identify_by), if !identified => {
                hub.notice(
                    Level::Warn,
                    format!("{cid} sent no IDENTIFY within {:?}", hub.cfg.identify_timeout),
                );
                shut = Some((4002, "Identify timeout".to_string()));
            }
            _ = closing.changed() => shut = Some((1001, "server stopping".to_string())),
        }
        if let Some((code, reason)) = shut {
            // Gone for the server at once (nothing more is queued to it)
            // while the close goes out after what was queued before it.
            let client = hub.state().clients.remove(cid);
            hub.changed();
            if let Some(c) = client {
                let _ = c.tx.try_send(Out::Close(code, reason));
            }
            writer.finish(CLOSE_TIMEOUT).await;
            reader.until_closed(CLOSE_TIMEOUT).await;
            return if code == 1001 {
                "server stopping".to_string()
            } else {
                format!(
                    "closed by the server with {code} ({})",
                    codec::close_code(code).0
                )
            };
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
