//! The WebSocket side of the server kit: accept, upgrade, read, write.
//!
//! Every server of roomtap's takes its connections through [`accept`] and
//! [`upgrade`], so all of them check the same things in the same order: the
//! `Origin`/`Host` guard (HTTP 403: a web page must never reach the apps),
//! then the connection limit (HTTP 503), then the protocol's own admission
//! (its path, its secret or token), all within the handshake deadline. Each
//! refusal is said and counted. Then [`Reader`] meters what comes in and
//! enforces the idle and data deadlines, and [`writer`] sends what the
//! server queues in batches, meters it, pings when asked, and gives up on
//! a client that does not read.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::{Core, Deadlines, Slot};
use crate::event::Level;

/// A server's side of one upgraded connection.
pub type Ws = WebSocketStream<TcpStream>;

/// Accept connections on `listener` until aborted, each handled by `conn`
/// in a task of its own. Accept errors (out of file descriptors, say) are
/// said and slow the loop down instead of spinning it.
pub fn accept<F, Fut>(
    core: Arc<Core>,
    listener: TcpListener,
    conn: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(TcpStream, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    tokio::spawn(conn(tcp, peer));
                }
                Err(e) => {
                    core.notice(Level::Warn, format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    })
}

/// Why a protocol refuses an upgrade: the HTTP status and why, in words
/// (said in the Logs and in the response's body).
#[derive(Debug, Clone)]
pub struct Refuse {
    pub status: u16,
    pub why: String,
}

impl Refuse {
    pub fn new(status: u16, why: impl Into<String>) -> Refuse {
        Refuse {
            status,
            why: why.into(),
        }
    }
}

/// Where a server listens and what it admits.
pub struct Door<'a> {
    /// The address it listens on (the `Host` it answers to).
    pub bind: SocketAddr,
    pub guard: &'a crate::guard::Guard,
    pub deadlines: &'a Deadlines,
    pub config: WebSocketConfig,
}

/// An upgraded connection: the socket, what the protocol's admission
/// learned, and its place in the server.
pub struct Upgraded<A> {
    pub ws: Ws,
    pub admitted: A,
    pub slot: Slot,
}

fn response(status: u16, body: String) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(body));
    *r.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::from_u16(status)
        .unwrap_or(tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST);
    r
}

/// A protocol's own admission of an upgrade request.
type Admit<'a, A> = Box<dyn FnOnce(&Request) -> Result<A, Refuse> + Send + 'a>;

/// The upgrade of one TCP connection, admitted or refused (said, and
/// counted): the guard, the connection limit, then `admit`.
pub async fn upgrade<A>(
    core: &Arc<Core>,
    tcp: TcpStream,
    peer: SocketAddr,
    door: &Door<'_>,
    admit: impl FnOnce(&Request) -> Result<A, Refuse> + Send,
) -> Option<Upgraded<A>> {
    let slot = core.slot();
    let over = slot.is_none();
    // Boxed: the upgrade future must be Unpin, whatever `admit` captures.
    let admit: Admit<'_, A> = Box::new(admit);
    let mut admitted: Option<A> = None;
    let mut refused: Option<Refuse> = None;
    let name = core.name();
    #[allow(clippy::result_large_err)] // the type tungstenite's callback returns
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        // First of all: no web page (foreign Origin) and no rebinding name
        // (foreign Host) reaches what is behind the server.
        let r = if let Err(r) = door.guard.screen(door.bind, req.headers(), &core.refused) {
            Refuse::new(403, r.to_string())
        } else if over {
            Refuse::new(
                503,
                format!("too many connections (at most {})", core.max_conns()),
            )
        } else {
            match admit(req) {
                Ok(a) => {
                    admitted = Some(a);
                    return Ok(resp);
                }
                Err(r) => r,
            }
        };
        let resp = response(r.status, format!("roomtap {name}: {}", r.why));
        refused = Some(r);
        Err(resp)
    };
    let upgraded = tokio::time::timeout(
        door.deadlines.handshake,
        tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(door.config)),
    )
    .await;
    match upgraded {
        Ok(Ok(ws)) => Some(Upgraded {
            ws,
            admitted: admitted?,
            slot: slot?,
        }),
        Ok(Err(e)) => {
            match refused {
                Some(r) if r.status == 503 => {
                    core.tally("refused (connection limit)", Level::Warn, |n| {
                        format!(
                            "refused {peer} with HTTP 503: {} ({n} refused so far)",
                            r.why
                        )
                    });
                }
                Some(r) => core.notice(
                    Level::Warn,
                    format!("refused {peer} with HTTP {}: {}", r.status, r.why),
                ),
                None if matches!(e, WsError::ConnectionClosed | WsError::AlreadyClosed) => {}
                None => core.notice(
                    Level::Debug,
                    format!("not a WebSocket upgrade from {peer}: {e}"),
                ),
            }
            None
        }
        Err(_) => {
            core.tally("dropped (no WebSocket handshake)", Level::Warn, |n| {
                format!(
                    "{peer} did not finish the WebSocket handshake within {:?} ({n} so far)",
                    door.deadlines.handshake
                )
            });
            None
        }
    }
}

/// An upgraded connection's two sides: a queue of `T` to the client (at
/// most `queue` waiting; see [`writer`] for `gone` and `encode`), and the
/// [`Reader`] of what it sends, both metered, with the server's deadlines.
pub fn connection<T, E>(
    ws: Ws,
    core: &Arc<Core>,
    deadlines: &Deadlines,
    queue: usize,
    gone: Option<Message>,
    encode: E,
) -> (
    mpsc::Sender<T>,
    Reader<futures_util::stream::SplitStream<Ws>>,
    Writer,
)
where
    T: Send + 'static,
    E: FnMut(T) -> Message + Send + 'static,
{
    let (sink, stream) = ws.split();
    let (tx, rx) = mpsc::channel::<T>(queue.max(1));
    let writer = writer(sink, rx, core.clone(), deadlines, true, gone, encode);
    let reader = Reader::new(stream, core.clone(), deadlines, true);
    (tx, reader, writer)
}

/// A close frame; the reason cut to the 123 bytes a close frame holds.
pub fn close(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason[..end].to_string().into(),
    }))
}

/// What a [`Reader`] read.
#[derive(Debug)]
pub enum Read {
    /// A text or binary message (metered), or a control frame.
    Msg(Message),
    /// The client closed (with its frame, if it sent one).
    Closed(Option<CloseFrame>),
    /// The connection failed (a frame over the size limit is
    /// [`WsError::Capacity`]).
    Lost(WsError),
    /// No frame at all within the idle deadline.
    Idle(Duration),
    /// No complete data message within the data deadline.
    NoData(Duration),
}

impl Read {
    /// Why the connection ends, in words (`None`: it goes on).
    pub fn end(&self) -> Option<String> {
        match self {
            Read::Msg(_) => None,
            Read::Closed(Some(c)) => Some(format!(
                "closed by the client ({}{}{})",
                u16::from(c.code),
                if c.reason.is_empty() { "" } else { ": " },
                crate::text::sanitize_capped(&c.reason, 120)
            )),
            Read::Closed(None) => Some("closed by the client".into()),
            Read::Lost(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                Some("connection closed".into())
            }
            Read::Lost(e) => Some(format!("connection error: {e}")),
            Read::Idle(d) => Some(format!("nothing received for {d:?}")),
            Read::NoData(d) => Some(format!("no complete message for {d:?}")),
        }
    }
}

/// The read side of a connection: meters each data message as a frame in
/// (in-process connections are not metered) and enforces the deadlines.
pub struct Reader<S> {
    inner: S,
    core: Arc<Core>,
    metered: bool,
    idle: Option<Duration>,
    data: Option<Duration>,
    last_any: Instant,
    last_data: Instant,
    /// One timer for both deadlines, armed for the earliest they could
    /// pass and checked when it fires: a message only moves an `Instant`
    /// (a timer per message cost a quarter of a core at 100 k msgs/s).
    timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> Reader<S>
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    pub fn new(inner: S, core: Arc<Core>, deadlines: &Deadlines, metered: bool) -> Reader<S> {
        let now = Instant::now();
        let mut r = Reader {
            inner,
            core,
            metered,
            idle: deadlines.idle,
            data: deadlines.data,
            last_any: now,
            last_data: now,
            timer: None,
        };
        r.timer = r.wake().map(|at| Box::pin(tokio::time::sleep_until(at)));
        r
    }

    /// When the first deadline passes, as things stand.
    fn wake(&self) -> Option<Instant> {
        let idle_at = self.idle.map(|d| self.last_any + d);
        let data_at = self.data.map(|d| self.last_data + d);
        match (idle_at, data_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next thing read, or the end. Cancel-safe.
    pub async fn next(&mut self) -> Read {
        loop {
            let timer = async {
                match self.timer.as_mut() {
                    Some(t) => t.as_mut().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // What already arrived counts before a deadline that passed.
                biased;
                m = self.inner.next() => return self.took(m),
                () = timer => {}
            }
            // The timer fired: a deadline passed, or what came since moved
            // it (then wait again until then).
            let now = Instant::now();
            if self.data.is_some_and(|d| self.last_data + d <= now) {
                return Read::NoData(self.data.unwrap_or_default());
            }
            if self.idle.is_some_and(|d| self.last_any + d <= now) {
                return Read::Idle(self.idle.unwrap_or_default());
            }
            if let Some(at) = self.wake()
                && let Some(t) = self.timer.as_mut()
            {
                t.as_mut().reset(at);
            }
        }
    }

    fn took(&mut self, m: Option<Result<Message, WsError>>) -> Read {
        let now = Instant::now();
        match m {
            None => Read::Lost(WsError::ConnectionClosed),
            Some(Err(e)) => Read::Lost(e),
            Some(Ok(Message::Close(c))) => Read::Closed(c),
            Some(Ok(m)) => {
                self.last_any = now;
                if matches!(m, Message::Text(_) | Message::Binary(_)) {
                    self.last_data = now;
                    if self.metered {
                        match &m {
                            Message::Text(t) => self.core.meter.frame_in_raw(t.as_bytes(), true),
                            Message::Binary(b) => self.core.meter.frame_in_raw(b, false),
                            _ => self.core.meter.frame_in(m.len()),
                        }
                    }
                }
                Read::Msg(m)
            }
        }
    }

    /// After a close went out: read on (bounded) until the client's close
    /// arrives or the connection ends, so the close handshake completes.
    pub async fn until_closed(&mut self, within: Duration) {
        let _ = tokio::time::timeout(within, async {
            while let Some(Ok(m)) = self.inner.next().await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// Frames written at most in one batch before a flush.
const BATCH: usize = 256;

/// The write side of a connection: a task that takes what the server
/// queues (`T`, turned into a frame by `encode` in the task, off the hub's
/// lock), writes it in batches with one flush each, meters it, pings every
/// `deadlines.ping`, and ends — saying why — when a write takes longer
/// than `deadlines.write`, a close frame went out, or every sender is gone
/// ([`WriteEnd::Done`]; it then sends `gone`, or a bare close frame).
pub fn writer<T, W, E>(
    mut sink: W,
    mut rx: mpsc::Receiver<T>,
    core: Arc<Core>,
    deadlines: &Deadlines,
    metered: bool,
    gone: Option<Message>,
    mut encode: E,
) -> Writer
where
    T: Send + 'static,
    W: Sink<Message, Error = WsError> + Unpin + Send + 'static,
    E: FnMut(T) -> Message + Send + 'static,
{
    let write_within = deadlines.write;
    let ping = deadlines.ping;
    let task = tokio::spawn(async move {
        let mut pings = ping.map(|p| tokio::time::interval_at(Instant::now() + p, p));
        loop {
            let tick = async {
                match pings.as_mut() {
                    Some(p) => {
                        p.tick().await;
                    }
                    None => std::future::pending().await,
                }
            };
            let first = tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => encode(m),
                    None => {
                        let _ = tokio::time::timeout(write_within, async {
                            if let Some(m) = gone {
                                sink.send(m).await?;
                            }
                            sink.close().await
                        })
                        .await;
                        return WriteEnd::Done;
                    }
                },
                () = tick => Message::Ping(Vec::new().into()),
            };
            let write = async {
                let mut closing = close_code(&first);
                let (mut frames, mut bytes) = (1u64, first.len() as u64);
                sink.feed(first).await?;
                // Write what else is queued before one flush.
                while closing.is_none() && (frames as usize) < BATCH {
                    let Ok(m) = rx.try_recv() else { break };
                    let m = encode(m);
                    closing = close_code(&m);
                    frames += 1;
                    bytes += m.len() as u64;
                    sink.feed(m).await?;
                }
                sink.flush().await?;
                Ok::<_, WsError>((frames, bytes, closing))
            };
            match tokio::time::timeout(write_within, write).await {
                Ok(Ok((frames, bytes, closing))) => {
                    if metered {
                        core.meter.frames_out(frames, bytes);
                    }
                    if let Some(code) = closing {
                        return WriteEnd::Closed(code);
                    }
                }
                Ok(Err(e)) => return WriteEnd::Failed(format!("send failed: {e}")),
                Err(_) => {
                    return WriteEnd::Failed("send timed out: the client does not read".into());
                }
            }
        }
    });
    Writer { task, end: None }
}

/// The code of a close frame (`Some(None)`: a close without one).
fn close_code(m: &Message) -> Option<Option<u16>> {
    match m {
        Message::Close(f) => Some(f.as_ref().map(|f| u16::from(f.code))),
        _ => None,
    }
}

/// Why a [`writer`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteEnd {
    /// Every sender went away (the server dropped the client, or the
    /// connection ended).
    Done,
    /// A close frame went out, with this code.
    Closed(Option<u16>),
    /// A write failed or took too long (in words).
    Failed(String),
}

impl std::fmt::Display for WriteEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteEnd::Done => f.write_str("nothing more to send"),
            WriteEnd::Closed(Some(c)) => write!(f, "closed by the server with {c}"),
            WriteEnd::Closed(None) => f.write_str("closed by the server"),
            WriteEnd::Failed(why) => f.write_str(why),
        }
    }
}

/// A running [`writer`]: why it ended, once it has.
pub struct Writer {
    task: tokio::task::JoinHandle<WriteEnd>,
    end: Option<WriteEnd>,
}

impl Writer {
    /// Why it ended (waits until it has). Cancel-safe, and may be asked
    /// again.
    pub async fn ended(&mut self) -> WriteEnd {
        if let Some(e) = &self.end {
            return e.clone();
        }
        let e = (&mut self.task)
            .await
            .unwrap_or_else(|e| WriteEnd::Failed(format!("writer failed: {e}")));
        self.end = Some(e.clone());
        e
    }

    /// Let it finish what is queued, for at most `within`, then stop it.
    pub async fn finish(&mut self, within: Duration) {
        let _ = tokio::time::timeout(within, self.ended()).await;
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_reason_fits_a_close_frame() {
        let long = "é".repeat(100);
        let Message::Close(Some(f)) = close(4006, &long) else {
            panic!()
        };
        assert!(f.reason.len() <= 123);
        assert!(long.starts_with(f.reason.as_str()));
    }

    #[tokio::test(start_paused = true)]
    async fn control_frames_extend_the_idle_deadline_only() {
        let core = Arc::new(Core::new("t", 1, None));
        let d = Deadlines {
            idle: Some(Duration::from_secs(10)),
            data: Some(Duration::from_secs(30)),
            ..Deadlines::default()
        };
        let (tx, rx) = mpsc::unbounded_channel::<Result<Message, WsError>>();
        let stream = tokio_stream_of(rx);
        let mut r = Reader::new(stream, core.clone(), &d, true);
        // Pings every 5 s keep it from idling, but not past the data deadline.
        for _ in 0..6 {
            tx.send(Ok(Message::Ping(Vec::new().into()))).unwrap();
            assert!(matches!(r.next().await, Read::Msg(Message::Ping(_))));
            tokio::time::advance(Duration::from_secs(5)).await;
        }
        assert!(matches!(r.next().await, Read::NoData(_)));
        tx.send(Ok(Message::text("x"))).unwrap();
        assert!(matches!(r.next().await, Read::Msg(Message::Text(_))));
        assert_eq!(
            core.meter.stats().frames_in,
            1,
            "data is metered, pings not"
        );
        // Nothing at all: idle first.
        assert!(matches!(r.next().await, Read::Idle(_)));
    }

    fn tokio_stream_of(
        rx: mpsc::UnboundedReceiver<Result<Message, WsError>>,
    ) -> impl Stream<Item = Result<Message, WsError>> + Unpin {
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|m| (m, rx))
        }))
    }
}
