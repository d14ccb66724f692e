//! One participant's connection: the upgrade (through the server kit:
//! guard, connection limit, then the room and its token), the join
//! (`room_ready`, `connected`), then its requests in and its queued
//! messages out until either side stops, it goes silent (the server pings
//! it), or a message it began is not finished in time.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::admit::{Admitted, admit};
use super::handle::handle;
use super::{Hub, Out, Peer};
use crate::event::{Dialect, Level};
use crate::protocols::room::wire::codec::{self, Assembler};
use crate::serve::Deadlines;
use crate::serve::ws::{self, Door, Read};

impl Hub {
    fn deadlines(&self) -> Deadlines {
        Deadlines {
            handshake: self.cfg.handshake_timeout,
            idle: Some(self.cfg.idle_timeout),
            ping: Some(self.cfg.ping_every),
            ..Deadlines::default()
        }
    }
}

pub(super) async fn serve_conn(hub: Arc<Hub>, tcp: TcpStream, peer: SocketAddr) {
    let deadlines = hub.deadlines();
    let door = Door {
        bind: hub.addr,
        guard: &hub.cfg.guard,
        deadlines: &deadlines,
        config: WebSocketConfig::default()
            .max_message_size(Some(codec::CHUNK * 64 + 64))
            .max_frame_size(Some(codec::CHUNK * 64 + 64))
            .read_buffer_size(8 * 1024),
    };
    let cfg = &hub.cfg;
    let Some(up) = ws::upgrade(&hub.core, tcp, peer, &door, |req| admit(cfg, req)).await else {
        return;
    };
    let adm = up.admitted;
    let conn = hub.core.next_id();
    // A message is a header packet and its data packets.
    let queue = hub.cfg.queue.max(16).saturating_mul(4);
    let (tx, mut reader, mut writer) =
        ws::connection(up.ws, &hub.core, &deadlines, queue, None, |p: Out| {
            Message::Binary(p.into())
        });
    join(&hub, conn, &adm, peer, tx);
    let why = serve(&hub, conn, &adm, &mut reader, &mut writer).await;
    hub.state().peers.remove(&conn);
    writer.finish(Duration::from_secs(2)).await;
    hub.notice(
        Level::Info,
        format!("{} left {} ({why})", adm.name, adm.room),
    );
    hub.report_peers();
    drop(up.slot);
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
                generation: Dialect::Unknown,
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
        format!(
            "{} joined {} from {peer} ({participant})",
            adm.name, adm.room
        ),
    );
    hub.report_peers();
}

/// Requests in until either side stops; returns why.
async fn serve(
    hub: &Hub,
    conn: u64,
    adm: &Admitted,
    reader: &mut ws::Reader<futures_util::stream::SplitStream<ws::Ws>>,
    writer: &mut ws::Writer,
) -> String {
    let mut asm = Assembler::new(hub.cfg.max_message);
    let mut closing = hub.core.closing();
    // When the message being assembled began.
    let mut begun: Option<Instant> = None;
    loop {
        let assembly = async {
            match begun {
                Some(t) => tokio::time::sleep_until(t + hub.cfg.assembly_timeout).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = reader.next() => match r {
                Read::Msg(Message::Binary(b)) => {
                    let (err, done) = asm.feed(&b);
                    if let Some(e) = err {
                        hub.notice(Level::Warn, format!("bad packet from {}: {e}", adm.name));
                    }
                    if let Some(m) = done {
                        hub.core.meter.message_in();
                        handle(hub, conn, adm, m);
                    }
                    begun = match (asm.partial(), begun) {
                        (true, None) => Some(Instant::now()),
                        (true, b) => b,
                        (false, _) => None,
                    };
                }
                Read::Msg(Message::Text(_)) => hub.notice(
                    Level::Warn,
                    format!("text frame from {} ignored: the room protocol is binary", adm.name),
                ),
                Read::Msg(_) => {} // pings are answered by tungstenite
                Read::Idle(d) => {
                    hub.core.tally("dropped (idle)", Level::Warn, |n| {
                        format!(
                            "{} sent nothing, not even a pong, for {d:?}: dropped ({n} so far)",
                            adm.name
                        )
                    });
                    break format!("silent for {d:?}");
                }
                end => break end.end().unwrap_or_default(),
            },
            end = writer.ended() => {
                break match end {
                    ws::WriteEnd::Done => "dropped: too slow".to_string(),
                    end => end.to_string(),
                };
            }
            () = assembly => {
                hub.core.tally("dropped (unfinished message)", Level::Warn, |n| {
                    format!(
                        "{} began a message and did not finish it within {:?}: dropped ({n} so far)",
                        adm.name, hub.cfg.assembly_timeout
                    )
                });
                break "a message left unfinished".to_string();
            }
            _ = closing.changed() => {
                // Its sender goes with it: the writer closes the socket.
                hub.state().peers.remove(&conn);
                break "server stopping".to_string();
            }
        }
    }
}
