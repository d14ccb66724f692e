//! roomtap's Leap Edge as a server source (`leap-server`): the kit's
//! generic server source, with the channels it serves from the start.

use serde_json::json;

use crate::serve::source::ServerSource;

use super::{LeapServer, LeapServerConfig};

/// roomtap's Leap Edge as a source.
pub type LeapServerSource = ServerSource<LeapServer>;

/// roomtap's Leap Edge serving `channels` (unprotected, state `{}`) from
/// the start.
pub fn with_channels(cfg: LeapServerConfig, channels: Vec<String>) -> LeapServerSource {
    LeapServerSource::new(cfg).then(move |server, _| {
        for c in &channels {
            server.add_channel(c, "unprotected", json!({}));
        }
    })
}
