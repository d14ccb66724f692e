//! Hop Leap Edge source: connects like `@onehop/leap-edge-js` /
//! `go.hop.io/sdk/leap` (HELLO → IDENTIFY → INIT, heartbeats, close codes
//! 4000–4007), subscribes to channels (again after every reconnect or
//! redirect), and reports channel availability, state and messages as
//! neutral events. The token goes only into IDENTIFY: it is never shown,
//! logged, recorded or exported.
//!
//! Where the SDKs differ or go wrong, roomtap does what they mean: HELLO
//! must come within 10 s (Go); no ack within the window → one more
//! heartbeat, then give up and reconnect (JS, without its leftover
//! timers); 4001 stops for good (all three); 4006 follows the close
//! reason's URL once it is checked to be ws/wss and to keep the token
//! where it was going (loopback, the same host or a host under it, no
//! wss → ws: `codec::redirect_allowed`; `follow_any` lifts it), else the
//! same edge is dialled again (the SDKs follow any URL); anything else
//! reconnects with exponential backoff and jitter (the SDKs retry once a
//! second or faster).

pub mod command;
pub mod source;

pub mod events;
mod session;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::Command;
use crate::secret::Secret;
use crate::link::{Backoff, supervise};
use crate::source::Emitter;

/// Hop's Leap Edge.
pub const DEFAULT_URL: &str = "wss://leap.hop.io/ws";

#[derive(Clone)]
pub struct LeapConfig {
    /// The edge's URL as it will be dialled (query included).
    pub url: String,
    pub project: String,
    pub token: Option<Secret>,
    /// Subscribed on every connect.
    pub channels: Vec<String>,
    /// Pipe rooms' join tokens, subscribed on every connect (secrets).
    pub pipes: Vec<Secret>,
    pub connect_timeout: Duration,
    /// HELLO must come this soon after the upgrade (Go: 10 s).
    pub hello_timeout: Duration,
    /// INIT must come this soon after IDENTIFY.
    pub init_timeout: Duration,
    /// No HEARTBEAT_ACK this long after a heartbeat → one more heartbeat
    /// (JS: 5 s)…
    pub ack_window: Duration,
    /// …and no ack this long after that one → give up (JS: 750 ms).
    pub ack_grace: Duration,
    /// A command's reply (AVAILABLE, STATE_UPDATE…) is awaited this long.
    pub reply_timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Follow a 4006 redirect to any host, and from wss to ws
    /// (`--leap-follow-any`); else only as `codec::redirect_allowed` says.
    pub follow_any: bool,
}

impl LeapConfig {
    pub fn new(url: &str, project: &str, token: Option<Secret>) -> Self {
        Self {
            url: url.to_string(),
            project: project.to_string(),
            token,
            channels: Vec::new(),
            pipes: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            hello_timeout: Duration::from_secs(10),
            init_timeout: Duration::from_secs(10),
            ack_window: Duration::from_secs(5),
            ack_grace: Duration::from_millis(750),
            reply_timeout: Duration::from_secs(5),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            follow_any: false,
        }
    }
}

/// `url` with `?encoding=json&compression=…` added, unless it already says.
pub fn dial_url(url: &str, compression: &str) -> String {
    let has = |k: &str| {
        url.split_once('?')
            .is_some_and(|(_, q)| q.split('&').any(|p| p.split('=').next() == Some(k)))
    };
    let mut add = Vec::new();
    if !has("encoding") {
        add.push("encoding=json".to_string());
    }
    if !has("compression") {
        add.push(format!("compression={compression}"));
    }
    if add.is_empty() {
        return url.to_string();
    }
    let sep = if url.contains('?') {
        if url.ends_with('?') || url.ends_with('&') {
            ""
        } else {
            "&"
        }
    } else {
        "?"
    };
    format!("{url}{sep}{}", add.join("&"))
}

/// What outlives one connection: the channels to subscribe and the URL a
/// 4006 sent us to.
struct Persist {
    channels: BTreeSet<String>,
    url: String,
    redirected: bool,
    /// The facts said, across reconnects.
    facts: crate::source::FactBook,
}

pub fn spawn(
    cfg: LeapConfig,
    em: Emitter,
    commands: mpsc::Receiver<Command>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let persist = Arc::new(Mutex::new(Persist {
            channels: cfg.channels.iter().cloned().collect(),
            url: cfg.url.clone(),
            redirected: false,
            facts: Default::default(),
        }));
        let backoff = Backoff::new(cfg.backoff_base, cfg.backoff_max);
        supervise(em, commands, backoff, |_attempt, em, mut cmds| {
            let cfg = cfg.clone();
            let persist = persist.clone();
            async move {
                let end = session::session(&cfg, &em, &mut cmds, &persist).await;
                (end, cmds)
            }
        })
        .await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_added_unless_the_url_says() {
        assert_eq!(
            dial_url("wss://leap.hop.io/ws", "zlib"),
            "wss://leap.hop.io/ws?encoding=json&compression=zlib"
        );
        assert_eq!(
            dial_url("ws://h/ws?compression=none", "zlib"),
            "ws://h/ws?compression=none&encoding=json"
        );
        assert_eq!(
            dial_url("ws://h/ws?a=1&encoding=json&compression=zlib", "none"),
            "ws://h/ws?a=1&encoding=json&compression=zlib"
        );
        assert_eq!(
            dial_url("ws://h/ws", "none"),
            "ws://h/ws?encoding=json&compression=none"
        );
    }
}
