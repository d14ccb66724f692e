//! Links every protocol shares: the connection lifecycle (backoff and the
//! supervisor that reconnects), WebSocket connections (and the in-process
//! pipe to roomtap's own relay), and the traffic meter.

mod lifecycle;
pub mod meter;
pub mod unix;
pub mod ws;

pub use lifecycle::{Backoff, SessionEnd, supervise};
