//! MeshAgent room source: developer logs from a room, both generations.

pub mod codec;
