//! Hop's Leap Edge protocol on the wire, pure (no I/O): frames (text and
//! zlib), close codes, and the command type.

pub mod codec;
pub mod model;
