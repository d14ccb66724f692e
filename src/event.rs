//! Protocol-neutral events (sources → store) and commands (ui → sources).
//!
//! Every source maps its wire frames to [`SourceEvent`]s; the store is the only
//! consumer. Commands flow the other way: a key becomes an `Action` in the ui,
//! which may become a [`Command`] addressed to the source that owns it.

use std::time::Duration;

use crate::text::{Scrub, scrub_opt, scrub_string};

/// Index of a source registered in the store (`Store::add_source`).
pub type SourceId = u16;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceEvent {
    pub source: SourceId,
    /// When the source saw it (ms since epoch).
    pub at_ms: u64,
    pub kind: EventKind,
}

impl SourceEvent {
    pub fn new(source: SourceId, kind: EventKind) -> Self {
        Self {
            source,
            at_ms: now_ms(),
            kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum EventKind {
    /// The connection lifecycle moved.
    Conn(ConnState),
    /// Cumulative traffic counters of the current source (replace, not add).
    Stats(TrafficStats),
    /// Round-trip time of the last request/ack.
    Rtt(Duration),
    /// Subscription state or traffic on a named channel.
    Channel {
        channel: String,
        change: ChannelChange,
    },
    /// A stateful channel's availability, facts and state (Leap channels,
    /// pipe rooms): what the channel-state pane shows.
    ChannelState {
        channel: String,
        update: ChannelUpdate,
    },
    /// A generic log line from a source (protocol notices, developer logs).
    Log(LogRecord),
    /// A Redux DevTools app message or relay notice (the Timeline's state).
    Redux(crate::protocols::redux::wire::model::ReduxEvent),
    /// A frame that could not be decoded. Shown as an error entry; the
    /// connection goes on.
    Malformed { what: String, raw: String },
    /// A command really went out on the wire (echoed so the store can track
    /// state the remote side never confirms, e.g. JUMP_TO_STATE).
    CommandSent(Command),
    /// A server source's connected clients (replace, not add).
    Peers(Vec<PeerRow>),
    /// Named facts about the source for the Connections pane (room name,
    /// participant, developer-log watching...): each one set or, without a
    /// value, taken away; the others stay.
    Facts(Vec<Fact>),
    /// Numeric measures of the source (latency, pending acks, loss…), each
    /// the newest value of its series: the store keeps a bounded history of
    /// each, for Connections' sparklines and the recording.
    Metrics(Vec<Metric>),
    /// A frame as it went over the wire (`--keep-raw`), sent before what
    /// it is decoded into: the entries it came from.
    Raw(RawFrame),
}

/// Bytes of a frame kept (what is longer is cut, and its length said).
pub const RAW_CAP: usize = 16 << 10;

/// A frame on the wire, as it was, up to [`RAW_CAP`] bytes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RawFrame {
    /// Sent by roomtap (else received).
    pub out: bool,
    /// A text frame (WebSocket text, a JSON document): shown as text;
    /// else as hex and ASCII.
    pub text: bool,
    /// Its whole length.
    pub len: usize,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64_bytes")]
    pub bytes: Option<Vec<u8>>,
}

impl RawFrame {
    pub fn new(out: bool, text: bool, b: &[u8]) -> RawFrame {
        RawFrame {
            out,
            text,
            len: b.len(),
            bytes: Some(b[..b.len().min(RAW_CAP)].to_vec()),
        }
    }
}

/// One numeric measure a source reports, by name.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    pub unit: Unit,
    /// Connections draws its recent history as a sparkline.
    #[serde(default)]
    pub chart: bool,
}

impl Metric {
    pub fn new(name: impl Into<String>, value: f64, unit: Unit) -> Metric {
        Metric {
            name: name.into(),
            value,
            unit,
            chart: false,
        }
    }

    /// The same, charted.
    pub fn charted(mut self) -> Metric {
        self.chart = true;
        self
    }
}

/// What a [`Metric`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Count,
    Bytes,
    Ms,
    Percent,
    /// Bytes per second.
    Rate,
}

/// One named fact about a source: set to a value, or taken away (`None`).
/// Written as `["key", "value"]` (`["key", null]` to take it away), as
/// recordings always had it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "(String, Option<String>)", into = "(String, Option<String>)")]
pub struct Fact {
    pub key: String,
    pub value: Option<String>,
}

impl Fact {
    pub fn set(key: impl Into<String>, value: impl Into<String>) -> Fact {
        Fact {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    pub fn unset(key: impl Into<String>) -> Fact {
        Fact {
            key: key.into(),
            value: None,
        }
    }
}

impl From<(String, Option<String>)> for Fact {
    fn from((key, value): (String, Option<String>)) -> Fact {
        Fact { key, value }
    }
}

impl From<Fact> for (String, Option<String>) {
    fn from(f: Fact) -> Self {
        (f.key, f.value)
    }
}

/// What a client of one of roomtap's servers is to it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PeerRole {
    /// Connected; what it is not known yet (not logged in, not identified).
    #[default]
    Client,
    /// A Redux app (logged in as `master`).
    App,
    /// A Redux monitor.
    Monitor,
    /// A room's participant.
    Participant,
}

impl PeerRole {
    pub fn plural(self) -> &'static str {
        match self {
            PeerRole::Client => "clients",
            PeerRole::App => "apps",
            PeerRole::Monitor => "monitors",
            PeerRole::Participant => "participants",
        }
    }
}

impl std::fmt::Display for PeerRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            PeerRole::Client => "client",
            PeerRole::App => "app",
            PeerRole::Monitor => "monitor",
            PeerRole::Participant => "participant",
        })
    }
}

/// Which variant of its protocol a client of one of roomtap's servers
/// speaks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Not known yet.
    #[default]
    #[serde(rename = "?")]
    Unknown,
    /// SocketCluster protocol v1 (`remote-redux-devtools` 0.5).
    V1,
    /// SocketCluster protocol v2 (`@redux-devtools/remote`).
    V2,
    /// The room's current developer toolkit.
    Current,
    /// The room's legacy `developer.watch`.
    Legacy,
    /// Leap text frames.
    Json,
    /// Leap zlib binary frames.
    Zlib,
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Dialect::Unknown => "?",
            Dialect::V1 => "v1",
            Dialect::V2 => "v2",
            Dialect::Current => "current",
            Dialect::Legacy => "legacy",
            Dialect::Json => "json",
            Dialect::Zlib => "zlib",
        })
    }
}

/// One client of a server source, for the Connections pane.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PeerRow {
    /// Its id on the server (socket id, participant, cid).
    pub id: String,
    /// Remote address, or "in-process".
    pub addr: String,
    pub role: PeerRole,
    pub proto: Dialect,
    /// App name and instances, when known.
    pub name: Option<String>,
    pub instances: Vec<String>,
    /// Frames dropped because this client did not keep up.
    pub dropped: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ConnState {
    Connecting {
        attempt: u32,
    },
    Handshaking,
    Connected {
        session: Option<String>,
    },
    Errored {
        reason: String,
        will_reconnect: bool,
        retry_in: Option<Duration>,
    },
    /// Connected, but the peer's keep-alive is overdue: nothing heard from
    /// it for this long. `Connected` again once it is heard from.
    Silent {
        quiet_for: Duration,
    },
    Closed,
}

impl ConnState {
    pub fn label(&self) -> &'static str {
        match self {
            ConnState::Connecting { .. } => "connecting",
            ConnState::Handshaking => "handshaking",
            ConnState::Connected { .. } => "connected",
            ConnState::Silent { .. } => "silent",
            ConnState::Errored { .. } => "errored",
            ConnState::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrafficStats {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub frames_in: u64,
    pub frames_out: u64,
    /// Application messages (not pings, acks or handshakes).
    pub messages_in: u64,
    pub messages_out: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ChannelChange {
    Subscribed,
    Unsubscribed,
    /// Messages delivered on the channel since the last report (deltas).
    Messages {
        count: u64,
        bytes: u64,
    },
}

/// What changed on a stateful channel.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ChannelUpdate {
    /// Asked for (subscribing), no answer yet.
    Pending,
    /// Available, with what is known of it (type, capabilities, created…)
    /// and its state when the answer carried one (JSON text).
    Available {
        facts: Vec<(String, String)>,
        state: Option<String>,
    },
    /// Not available, and why (in words).
    Unavailable { reason: String },
    /// The channel's whole new state (JSON text).
    State { state: String },
    /// The state of this connection's token on the channel (JSON text).
    TokenState { state: String },
    /// No longer followed (unsubscribed).
    Left,
    /// An event name seen on the channel for the first time (MESSAGE's
    /// `e`): what `/` can select it by.
    Seen { event: String },
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogRecord {
    pub level: Level,
    pub kind: String,
    pub summary: String,
    /// Raw JSON text, kept unparsed until a view needs it.
    pub data: Option<String>,
    /// Bytes the entry is about (a datagram's undecoded rest…), as they
    /// came: shown as hex + ASCII, exported and recorded as base64.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64_bytes")]
    pub bytes: Option<Vec<u8>>,
}

/// `Option<Vec<u8>>` as base64 text in JSON (recordings).
mod b64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => s.serialize_str(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(t) => STANDARD
                .decode(t.as_bytes())
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// A command addressed to a source.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Command {
    pub source: SourceId,
    pub kind: CommandKind,
}

/// A command of one protocol. Each protocol's payload type lives in its own
/// module (`sources/<protocol>/model.rs`); a codec only ever matches its own.
/// This enum is the registry of command kinds: a new protocol adds a line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum CommandKind {
    /// Redux DevTools (relay monitor).
    Redux(crate::protocols::redux::wire::model::ReduxCommand),
    /// MeshAgent room.
    Room(crate::protocols::room::wire::model::RoomCommand),
    /// Hop Leap Edge.
    Leap(crate::protocols::leap::wire::model::LeapCommand),
    /// TracimDaemon.
    Tracim(crate::protocols::tracim::wire::model::TracimCommand),
    /// Legume.
    Legume(crate::protocols::legume::wire::model::LegumeCommand),
}

impl CommandKind {
    /// One line saying what the command does, for the Logs pane.
    pub fn describe(&self) -> String {
        match self {
            CommandKind::Redux(c) => c.describe(),
            CommandKind::Room(c) => c.describe(),
            CommandKind::Leap(c) => c.describe(),
            CommandKind::Tracim(c) => c.describe(),
            CommandKind::Legume(c) => c.describe(),
        }
    }
}

/// Bytes offered to `f` byte for character (Latin-1), so a secret is
/// found in bytes that are not UTF-8 too.
fn scrub_bytes(b: &mut Vec<u8>, f: Scrub) {
    let text: String = b.iter().map(|&c| char::from(c)).collect();
    if let Some(masked) = f(&text) {
        *b = masked
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'*'))
            .collect();
    }
}

impl EventKind {
    /// Offer every text this event holds to `f` (the hot kinds field by
    /// field; the rare ones through their JSON form, so no field is ever
    /// missed).
    pub fn scrub(&mut self, f: Scrub) {
        match self {
            EventKind::Stats(_) | EventKind::Rtt(_) | EventKind::Metrics(_) => {}
            EventKind::Log(r) => {
                scrub_string(&mut r.kind, f);
                scrub_string(&mut r.summary, f);
                scrub_opt(&mut r.data, f);
                if let Some(b) = &mut r.bytes {
                    scrub_bytes(b, f);
                }
            }
            EventKind::Raw(r) => {
                if let Some(b) = &mut r.bytes {
                    scrub_bytes(b, f);
                }
            }
            EventKind::Redux(r) => r.scrub(f),
            EventKind::Malformed { what, raw } => {
                scrub_string(what, f);
                scrub_string(raw, f);
            }
            EventKind::Channel { channel, .. } => scrub_string(channel, f),
            EventKind::Conn(ConnState::Errored { reason, .. }) => scrub_string(reason, f),
            EventKind::Conn(ConnState::Connected { session }) => scrub_opt(session, f),
            EventKind::Conn(_) => {}
            EventKind::ChannelState { .. }
            | EventKind::CommandSent(_)
            | EventKind::Peers(_)
            | EventKind::Facts(_) => {
                let Ok(text) = serde_json::to_string(self) else {
                    return;
                };
                if let Some(masked) = f(&text)
                    && let Ok(back) = serde_json::from_str::<EventKind>(&masked)
                {
                    *self = back;
                }
            }
        }
    }
}
