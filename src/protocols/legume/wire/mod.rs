//! Legume 0.5 on the wire, pure (no I/O): the datagram codec (messages
//! back to back, legume's own types 2–10), user messages described by a
//! TOML schema, and the command type.

pub mod datagram;
pub mod model;
pub mod reliable;
pub mod schema;
pub mod stats;

/// The largest datagram legume sends or reads (`MTU` in legume).
pub const MTU: usize = 1400;
/// A message's transport header.
pub const HEADER: usize = 6;
/// The protocol a ConnectRequest names (legume 0.5).
pub const PROTOCOL: u8 = 4;
/// The first user message type id (`BASE_MESSAGETYPEID_USER`).
pub const USER_BASE: u8 = 20;
