//! Protocol-neutral events (sources → store) and commands (ui → sources).
//!
//! Every source maps its wire frames to [`SourceEvent`]s; the store is the only
//! consumer. Commands flow the other way: a key becomes an `Action` in the ui,
//! which may become a [`Command`] addressed to the source that owns it.

use std::time::Duration;

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
    /// A generic log line from a source (protocol notices, developer logs).
    Log(LogRecord),
    /// A Redux DevTools app message or relay notice.
    Redux(ReduxEvent),
    /// A frame that could not be decoded. Shown as an error entry; the
    /// connection goes on.
    Malformed { what: String, raw: String },
    /// A command really went out on the wire (echoed so the store can track
    /// state the remote side never confirms, e.g. JUMP_TO_STATE).
    CommandSent(Command),
    /// A server source's connected clients (replace, not add).
    Peers(Vec<PeerRow>),
    /// Named facts about the source for the Connections pane (room name,
    /// participant, developer-log watching...). Replace, not add.
    Facts(Vec<(String, String)>),
}

/// One client of a server source (roomtap's relay), for the Connections pane.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PeerRow {
    /// Socket id.
    pub id: String,
    /// Remote address, or "in-process".
    pub addr: String,
    /// "app", "monitor" or "client" (not logged in yet).
    pub role: std::borrow::Cow<'static, str>,
    /// Protocol generation ("v1", "v2", "?").
    pub proto: std::borrow::Cow<'static, str>,
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
    Closed,
}

impl ConnState {
    pub fn label(&self) -> &'static str {
        match self {
            ConnState::Connecting { .. } => "connecting",
            ConnState::Handshaking => "handshaking",
            ConnState::Connected { .. } => "connected",
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
}

/// Who sent an app message: the socket that carried it, the app's own
/// `instanceId` (absent in legacy `remote-redux-devtools`) and its `name`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppRef {
    pub socket_id: Option<String>,
    pub instance_id: Option<String>,
    pub name: Option<String>,
}

impl AppRef {
    /// Instances are keyed by `instanceId`, falling back to the socket id.
    pub fn key(&self) -> Option<&str> {
        self.instance_id.as_deref().or(self.socket_id.as_deref())
    }
}

/// JSON text kept as it arrived, parsed only when a view needs it: either
/// plain JSON, or still inside the JSON string literal that carried it (an
/// app's `payload` is a string holding JSON; unescaping waits until viewed).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RawJson {
    text: Box<str>,
    quoted: bool,
}

impl RawJson {
    pub fn plain(text: &str) -> Self {
        Self {
            text: text.into(),
            quoted: false,
        }
    }

    /// `literal` is a whole JSON string literal, quotes included.
    pub fn quoted(literal: &str) -> Self {
        Self {
            text: literal.into(),
            quoted: true,
        }
    }

    /// The JSON text (unescaped now if it was kept quoted).
    pub fn text(&self) -> Result<std::borrow::Cow<'_, str>, String> {
        if !self.quoted {
            return Ok(std::borrow::Cow::Borrowed(&self.text));
        }
        let inner = self
            .text
            .get(1..self.text.len().saturating_sub(1))
            .unwrap_or("");
        if !inner.contains('\\') {
            return Ok(std::borrow::Cow::Borrowed(inner));
        }
        serde_json::from_str::<String>(&self.text)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| format!("payload is not a valid JSON string: {e}"))
    }

    /// Bytes kept.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// One recorded action of an app's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActionRecord {
    /// The app's action id (key of `actionsById`).
    pub id: u64,
    /// `action.type`, already extracted.
    pub action_type: String,
    pub timestamp_ms: Option<u64>,
    /// Raw JSON of the user action (`PERFORM_ACTION.action`).
    /// Shared with the log entry that shows the same action.
    pub action_raw: std::sync::Arc<str>,
    /// The state after this action, when known.
    pub state_raw: Option<RawJson>,
    /// Reducer error recorded for this state.
    pub error: Option<String>,
}

/// A decoded lifted state (the payload of a STATE message).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct LiftedState {
    /// In `stagedActionIds` order: index = state index.
    pub actions: Vec<ActionRecord>,
    pub skipped: Vec<u64>,
    pub current_index: usize,
    pub next_action_id: u64,
    pub is_locked: bool,
    pub is_paused: bool,
    pub has_committed_state: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ReduxEvent {
    Start {
        app: AppRef,
    },
    State {
        app: AppRef,
        lifted: LiftedState,
        /// Raw JSON of declared action creators, if any.
        action_creators: Option<String>,
    },
    Action {
        app: AppRef,
        action: ActionRecord,
        is_excess: Option<bool>,
    },
    Stop {
        app: AppRef,
    },
    Error {
        app: AppRef,
        message: String,
    },
    /// The relay says a socket went away.
    Disconnected {
        socket_id: String,
    },
    /// A message type roomtap does not model (INIT, PARTIAL_STATE, ...).
    Other {
        app: AppRef,
        msg_type: String,
        raw: String,
    },
}

/// A lifted action as sent inside DISPATCH (`@redux-devtools/instrument`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LiftedAction {
    JumpToState { index: usize },
    ToggleAction { id: u64 },
    Sweep,
    Commit,
    Rollback,
    Reset,
    PauseRecording(bool),
    LockChanges(bool),
}

impl LiftedAction {
    pub fn type_name(&self) -> &'static str {
        match self {
            LiftedAction::JumpToState { .. } => "JUMP_TO_STATE",
            LiftedAction::ToggleAction { .. } => "TOGGLE_ACTION",
            LiftedAction::Sweep => "SWEEP",
            LiftedAction::Commit => "COMMIT",
            LiftedAction::Rollback => "ROLLBACK",
            LiftedAction::Reset => "RESET",
            LiftedAction::PauseRecording(_) => "PAUSE_RECORDING",
            LiftedAction::LockChanges(_) => "LOCK_CHANGES",
        }
    }

    /// Whether the app answers with a STATE (everything but a jump).
    pub fn expects_state(&self) -> bool {
        !matches!(self, LiftedAction::JumpToState { .. })
    }
}

/// A command addressed to a source.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Command {
    pub source: SourceId,
    pub kind: CommandKind,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum CommandKind {
    /// `DISPATCH` a lifted action to an instance.
    Dispatch {
        instance: String,
        action: LiftedAction,
    },
    /// `ACTION`: the app evaluates the text as a JavaScript expression.
    DispatchUserAction { instance: String, text: String },
    /// Ask every app for a full STATE.
    Start,
    /// Ask for a fresh STATE.
    Update { instance: String },
    /// Developer-log watching on a room: on, off, or the other way round.
    Watch(Option<bool>),
    /// Send a developer log to a room.
    DevLog(DevLog),
}

/// A developer log a room source sends (`RoomClient.developer`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum DevLog {
    /// `developer.log(type, data)`; `data` is JSON object text.
    Log { ty: String, data: String },
    /// `developer.info/warning/error(message)`; `level` is one of those.
    Say { level: String, message: String },
}
