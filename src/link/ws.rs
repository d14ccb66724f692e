//! Links every source shares: connecting a WebSocket (with a timeout, and
//! the failure classified in the protocol's own words), and one
//! WebSocket-or-in-process link for everything that speaks SocketCluster
//! (the monitor source and the demo apps).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::link::SessionEnd;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
pub type WsError = tokio_tungstenite::tungstenite::Error;

/// Opens an in-process connection to roomtap's own relay (what you send
/// goes to it as frames; what it sends comes back).
pub type LocalConnect =
    std::sync::Arc<dyn Fn() -> (mpsc::Sender<Message>, mpsc::Receiver<Message>) + Send + Sync>;

/// A WebSocket, or an in-process pipe to roomtap's own relay (same frames).
pub enum Transport {
    Ws(Box<Ws>),
    Local {
        tx: mpsc::Sender<Message>,
        rx: mpsc::Receiver<Message>,
        /// Taken from `rx` in batches (newest first, popped from the end):
        /// one wake-up and one release of queue room per batch, not per
        /// frame, which the relay's senders waiting for room would feel.
        batch: Vec<Message>,
    },
}

/// Frames taken from an in-process pipe at once.
const LOCAL_BATCH: usize = 256;

impl Transport {
    pub fn local(tx: mpsc::Sender<Message>, rx: mpsc::Receiver<Message>) -> Transport {
        Transport::Local {
            tx,
            rx,
            batch: Vec::with_capacity(LOCAL_BATCH),
        }
    }

    pub async fn next(&mut self) -> Option<Result<Message, WsError>> {
        match self {
            Transport::Ws(ws) => ws.next().await,
            Transport::Local { rx, batch, .. } => {
                if batch.is_empty() {
                    if rx.recv_many(batch, LOCAL_BATCH).await == 0 {
                        return None;
                    }
                    batch.reverse();
                }
                batch.pop().map(Ok)
            }
        }
    }

    pub async fn send(&mut self, m: Message) -> Result<(), WsError> {
        match self {
            Transport::Ws(ws) => ws.send(m).await,
            Transport::Local { tx, .. } => tx.send(m).await.map_err(|_| WsError::ConnectionClosed),
        }
    }

    pub async fn close(&mut self) {
        match self {
            Transport::Ws(ws) => {
                let _ = ws.close(None).await;
            }
            Transport::Local { rx, .. } => rx.close(),
        }
    }
}

/// How to open a WebSocket.
#[derive(Debug, Clone, Copy)]
pub struct Dial {
    pub timeout: Duration,
    pub config: Option<WebSocketConfig>,
    /// Set TCP_NODELAY.
    pub nodelay: bool,
}

impl Dial {
    /// tungstenite's defaults, Nagle on.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            config: None,
            nodelay: false,
        }
    }
}

/// A protocol's reading of an HTTP answer instead of the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Retrying cannot help (not found, forbidden...).
    Fatal(String),
    /// Try again later.
    Retry(String),
}

/// A protocol's words for a failed connect.
pub struct Words<'a> {
    /// What a URL tungstenite cannot use is called: `{bad_url}: {error}`.
    pub bad_url: &'a str,
    /// The status and body (as text, empty when none) of an HTTP answer.
    pub http: &'a (dyn Fn(StatusCode, &str) -> Refusal + Sync),
}

/// Connect within `dial.timeout`. Failures are said in `words` where the
/// protocol has its own, else as `connect timed out after …` and
/// `connect failed: …` (retried).
pub async fn connect<R>(request: R, dial: &Dial, words: &Words<'_>) -> Result<Ws, SessionEnd>
where
    R: IntoClientRequest + Unpin,
{
    let connect = tokio_tungstenite::connect_async_with_config(request, dial.config, dial.nodelay);
    match tokio::time::timeout(dial.timeout, connect).await {
        Err(_) => Err(SessionEnd::Lost {
            reason: format!("connect timed out after {:?}", dial.timeout),
            was_connected: false,
        }),
        Ok(Err(e)) => Err(classify(e, words)),
        Ok(Ok((ws, _response))) => Ok(ws),
    }
}

fn classify(e: WsError, words: &Words<'_>) -> SessionEnd {
    match e {
        WsError::Url(u) => SessionEnd::Fatal {
            reason: format!("{}: {u}", words.bad_url),
        },
        WsError::Http(resp) => {
            let body = resp
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            match (words.http)(resp.status(), &body) {
                Refusal::Fatal(reason) => SessionEnd::Fatal { reason },
                Refusal::Retry(reason) => SessionEnd::Lost {
                    reason,
                    was_connected: false,
                },
            }
        }
        other => SessionEnd::Lost {
            reason: format!("connect failed: {other}"),
            was_connected: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(status: StatusCode, body: &str) -> Refusal {
        match status.as_u16() {
            404 => Refusal::Fatal(format!("gone ({body})")),
            _ => Refusal::Retry(format!("HTTP {status}")),
        }
    }

    /// Answers one connection with `response`, then closes.
    async fn http_once(response: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/x", l.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(response.as_bytes()).await;
        });
        url
    }

    #[tokio::test]
    async fn failures_in_the_protocol_words() {
        let w = Words {
            bad_url: "bad test URL",
            http: &words,
        };
        let dial = Dial::new(Duration::from_secs(5));
        let url = http_once(
            "HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope",
        )
        .await;
        match connect(url.as_str(), &dial, &w).await {
            Err(SessionEnd::Fatal { reason }) => assert_eq!(reason, "gone (nope)"),
            other => panic!("{:?}", other.err()),
        }
        let url = http_once("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n").await;
        match connect(url.as_str(), &dial, &w).await {
            Err(SessionEnd::Lost { reason, .. }) => {
                assert_eq!(reason, "HTTP 503 Service Unavailable")
            }
            other => panic!("{:?}", other.err()),
        }
        match connect("ftp://127.0.0.1/", &dial, &w).await {
            Err(SessionEnd::Fatal { reason }) => assert!(reason.starts_with("bad test URL: ")),
            other => panic!("{:?}", other.err()),
        }
    }
}
