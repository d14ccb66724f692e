//! The Redux DevTools remote protocol on the wire, pure (no I/O): the
//! SocketCluster envelope, the monitor's codec, the relay's packet codec, and
//! the payload types (commands and events).

pub mod codec;
pub mod envelope;
pub mod model;
pub mod packet;
