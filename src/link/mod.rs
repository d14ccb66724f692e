//! Links every protocol shares: the connection lifecycle (backoff and the
//! supervisor that reconnects), WebSocket connections (and the in-process
//! pipe to roomtap's own relay), and the traffic meter.

mod lifecycle;
pub mod meter;
pub mod udp;
pub mod unix;
pub mod ws;

pub use lifecycle::{Backoff, SessionEnd, supervise, supervise_idle};

/// What a link received: one document (a connection's whole content, a
/// datagram), or what went wrong with one.
#[derive(Debug)]
pub enum Received {
    /// A whole document.
    Document(Vec<u8>),
    /// What went wrong, in words (too big, held open, a read error); what
    /// had arrived is kept (cut) for the error entry.
    Bad { why: String, head: Vec<u8> },
    /// The peer cannot be reached any more (its port is closed: ICMP port
    /// unreachable), in words.
    Gone { why: String },
}

/// A link that carries whole documents, each on its own (a connection per
/// document on a Unix socket; a datagram, next): what a session reads and
/// writes, whatever carries it. `Addr` is where a document goes.
pub trait Documents: Send {
    type Addr: Clone + Send + Sync + std::fmt::Debug;
    /// The next document that came, or what went wrong with one; `None`
    /// once the link is closed. Cancel-safe.
    fn recv(&mut self) -> impl std::future::Future<Output = Option<Received>> + Send;
    /// Send one document to `to`.
    fn send(
        &self,
        to: &Self::Addr,
        doc: &[u8],
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
}
