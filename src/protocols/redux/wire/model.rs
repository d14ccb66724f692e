//! Redux DevTools data: what apps report (actions, lifted states) and the
//! commands a monitor sends them. Pure types, shared by the relay codec, the
//! store's Timeline and the demo apps.

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

impl ReduxEvent {
    /// Offer every text this event holds to `f` (see `EventKind::scrub`).
    pub fn scrub(&mut self, f: crate::text::Scrub) {
        use crate::text::{scrub_opt, scrub_string};
        let app = |a: &mut AppRef, f: crate::text::Scrub| {
            scrub_opt(&mut a.socket_id, f);
            scrub_opt(&mut a.instance_id, f);
            scrub_opt(&mut a.name, f);
        };
        match self {
            ReduxEvent::Start { app: a } | ReduxEvent::Stop { app: a } => app(a, f),
            ReduxEvent::State {
                app: a,
                lifted,
                action_creators,
            } => {
                app(a, f);
                for r in &mut lifted.actions {
                    r.scrub(f);
                }
                scrub_opt(action_creators, f);
            }
            ReduxEvent::Action { app: a, action, .. } => {
                app(a, f);
                action.scrub(f);
            }
            ReduxEvent::Error { app: a, message } => {
                app(a, f);
                scrub_string(message, f);
            }
            ReduxEvent::Disconnected { socket_id } => scrub_string(socket_id, f),
            ReduxEvent::Other { app: a, msg_type, raw } => {
                app(a, f);
                scrub_string(msg_type, f);
                scrub_string(raw, f);
            }
        }
    }
}

impl ActionRecord {
    fn scrub(&mut self, f: crate::text::Scrub) {
        crate::text::scrub_string(&mut self.action_type, f);
        if let Some(n) = f(&self.action_raw) {
            self.action_raw = n.into();
        }
        if let Some(s) = &mut self.state_raw
            && let Some(n) = f(&s.text)
        {
            s.text = n.into();
        }
        crate::text::scrub_opt(&mut self.error, f);
    }
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

    /// What it does, in words, for the status line (`jump to state 3`).
    pub fn verb(&self) -> String {
        match self {
            LiftedAction::JumpToState { index } => format!("jump to state {index}"),
            LiftedAction::ToggleAction { id } => format!("skip / unskip #{id}"),
            LiftedAction::Sweep => "sweep".into(),
            LiftedAction::Commit => "commit".into(),
            LiftedAction::Rollback => "rollback".into(),
            LiftedAction::Reset => "reset".into(),
            LiftedAction::PauseRecording(true) => "pause recording".into(),
            LiftedAction::PauseRecording(false) => "resume recording".into(),
            LiftedAction::LockChanges(true) => "lock changes".into(),
            LiftedAction::LockChanges(false) => "unlock changes".into(),
        }
    }

    /// Whether the app answers with a STATE (everything but a jump).
    pub fn expects_state(&self) -> bool {
        !matches!(self, LiftedAction::JumpToState { .. })
    }
}

/// A command for the apps behind a Redux DevTools relay.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ReduxCommand {
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
}

impl ReduxCommand {
    /// One line for the Logs pane.
    pub fn describe(&self) -> String {
        match self {
            ReduxCommand::Dispatch { instance, action } => {
                let detail = match action {
                    LiftedAction::JumpToState { index } => format!(" {index}"),
                    LiftedAction::ToggleAction { id } => format!(" #{id}"),
                    LiftedAction::PauseRecording(s) | LiftedAction::LockChanges(s) => {
                        format!(" {s}")
                    }
                    _ => String::new(),
                };
                format!("DISPATCH {}{detail} → {instance}", action.type_name())
            }
            ReduxCommand::DispatchUserAction { instance, text } => {
                format!("ACTION {text} → {instance}")
            }
            ReduxCommand::Start => "START → all apps".to_string(),
            ReduxCommand::Update { instance } => format!("UPDATE → {instance}"),
        }
    }
}
