//! roomtap's MeshAgent room server as a server source (`room-server`): the
//! kit's generic server source.

use crate::serve::source::ServerSource;

/// roomtap's room server as a source.
pub type RoomServerSource = ServerSource<super::RoomServer>;
