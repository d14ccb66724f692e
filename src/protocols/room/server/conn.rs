//! One participant's connection: the upgrade (admitted or refused), the
//! join (`room_ready`, `connected`), then its requests in and its queued
//! messages out until either side stops.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::admit::{Admitted, admit, refuse};
use super::handle::handle;
use super::{Hub, Out, Peer};
use crate::event::Level;
use crate::protocols::room::wire::codec::{self, Assembler};

pub(super) async fn serve_conn(
    hub: Arc<Hub>,
    tcp: TcpStream,
    peer: SocketAddr,
    mut closing: watch::Receiver<bool>,
) {
    let Some((mut ws, adm)) = upgrade(&hub, tcp, peer).await else {
        return;
    };
    let conn = hub.next_conn.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Out>(hub.cfg.queue.max(16));
    join(&hub, conn, &adm, peer, tx);
    let why = serve(&hub, conn, &adm, &mut ws, &mut rx, &mut closing).await;
    hub.state().peers.remove(&conn);
    hub.notice(
        Level::Info,
        "room",
        format!("{} left {} ({why})", adm.name, adm.room),
    );
    hub.report_peers();
}

/// The WebSocket upgrade, admitted or refused (and said so).
async fn upgrade(
    hub: &Hub,
    tcp: TcpStream,
    peer: SocketAddr,
) -> Option<(WebSocketStream<TcpStream>, Admitted)> {
    let mut admitted: Option<Admitted> = None;
    let mut refused: Option<(u16, String)> = None;
    #[allow(clippy::result_large_err)] // the type tungstenite's callback returns
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        // First of all: no web page (foreign Origin) and no rebinding name
        // (foreign Host).
        if let Err(r) = hub.cfg.guard.screen(hub.addr, req.headers(), &hub.refused) {
            let why = r.to_string();
            let resp = refuse(403, &format!("roomtap room: {why}"));
            refused = Some((403, why));
            return Err(resp);
        }
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
        hub.cfg.handshake_timeout,
        tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(ws_cfg)),
    )
    .await;
    let ws = match accepted {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            if refused.as_ref().is_some_and(|(s, _)| *s == 403)
                && let (Some(em), Some(f)) = (&hub.em, hub.refused.fact())
            {
                em.try_emit(crate::event::EventKind::Facts(vec![f]));
            }
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
            return None;
        }
        Err(_) => return None,
    };
    Some((ws, admitted?))
}

/// The participant joins: registered, then `room_ready` and `connected`.
fn join(hub: &Hub, conn: u64, adm: &Admitted, peer: SocketAddr, tx: mpsc::Sender<Out>) {
    let session_id = format!("session-{conn:04}");
    let participant = format!("participant-{conn:04}");
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
}

/// Requests in, queued messages out, until either side stops; returns why.
async fn serve(
    hub: &Hub,
    conn: u64,
    adm: &Admitted,
    ws: &mut WebSocketStream<TcpStream>,
    rx: &mut mpsc::Receiver<Out>,
    closing: &mut watch::Receiver<bool>,
) -> String {
    let mut asm = Assembler::new(hub.cfg.max_message);
    loop {
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
                        handle(hub, conn, adm, m);
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
    }
}
