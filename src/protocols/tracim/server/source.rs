//! roomtap's TracimDaemon as a server source (`tracim-daemon`): the kit's
//! generic server source.

use crate::serve::source::ServerSource;

/// roomtap's TracimDaemon as a source.
pub type DaemonSource = ServerSource<super::Daemon>;
