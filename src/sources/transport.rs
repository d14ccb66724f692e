//! One WebSocket-or-in-process link, shared by everything that speaks
//! SocketCluster (the monitor source and the demo apps).

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
pub type WsError = tokio_tungstenite::tungstenite::Error;

/// A WebSocket, or an in-process pipe to roomtap's own relay (same frames).
pub enum Transport {
    Ws(Box<Ws>),
    Local {
        tx: mpsc::Sender<Message>,
        rx: mpsc::Receiver<Message>,
    },
}

impl Transport {
    pub async fn next(&mut self) -> Option<Result<Message, WsError>> {
        match self {
            Transport::Ws(ws) => ws.next().await,
            Transport::Local { rx, .. } => rx.recv().await.map(Ok),
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
