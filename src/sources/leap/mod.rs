//! Hop Leap Edge source: connects like `@onehop/leap-edge-js` /
//! `go.hop.io/sdk/leap` (HELLO → IDENTIFY → INIT, heartbeats, close codes
//! 4000–4007), subscribes to channels (again after every reconnect or
//! redirect), and reports channel availability, state and messages as
//! neutral events. The token goes only into IDENTIFY.

pub mod codec;
pub mod command;
pub mod model;
