//! The TracimDaemon protocol on the wire, pure (no I/O): the `DaemonEvent`
//! codec (one JSON document per connection, both encodings the real peers
//! write), the typed payloads, the Tracim live message (TLM) a
//! `daemon_tracim_event` carries, and the command type.

pub mod event;
pub mod model;
pub mod tlm;
