//! roomtap's own relay as a server source (`roomtap`, `redux-server`, the
//! demo): the kit's generic server source, with the in-process monitor the
//! panes watch it through (the one place a server brings its protocol's
//! client along, as ARCHITECTURE.md allows).

use crate::protocols::redux::client::source::RelayMonitor;
use crate::serve::source::ServerSource;

use super::{Relay, RelayConfig};

/// roomtap's own relay as a source.
pub type EmbeddedRelay = ServerSource<Relay>;

/// roomtap's relay, alone (headless: its notices, channels and clients).
pub fn alone(cfg: RelayConfig) -> EmbeddedRelay {
    ServerSource::new(cfg)
}

/// roomtap's relay with the inspector's monitor attached in-process (no
/// socket; its commands reach only the app they name).
pub fn with_monitor(cfg: RelayConfig) -> EmbeddedRelay {
    alone(cfg).then(|relay, started| {
        started.more.push(Box::new(RelayMonitor::attached(
            &relay.url(),
            super::local_connector(relay),
        )));
    })
}
