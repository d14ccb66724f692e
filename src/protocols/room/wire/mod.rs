//! The MeshAgent room protocol on the wire, pure (no I/O): packets and
//! packed messages, participant tokens, developer-log payloads, and the
//! command type.

pub mod codec;
pub mod logs;
pub mod model;
pub mod token;
