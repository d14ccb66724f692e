//! Leap commands (what the `:` line sends a Leap source). Pure types.

/// A command for a Leap source.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LeapCommand {
    /// SUBSCRIBE to a channel (and again after every reconnect).
    Subscribe { channel: String },
    /// UNSUBSCRIBE (and no longer after reconnects).
    Unsubscribe { channel: String },
    /// MESSAGE on a channel: `data` is JSON text.
    Message {
        channel: String,
        event: String,
        data: String,
    },
    /// SET_CHANNEL_STATE: `state` is JSON object text.
    SetState { channel: String, state: String },
    /// PIPE_ROOM_SUBSCRIBE with a join token (a secret: never described).
    PipeSubscribe { join_token: String },
}

/// A join token as shown: its first two characters and its length.
pub fn mask_token(t: &str) -> String {
    let head: String = t.chars().take(2).collect();
    format!("{head}…({} chars)", t.chars().count())
}

impl LeapCommand {
    /// One line for the Logs pane (no secret in it).
    pub fn describe(&self) -> String {
        match self {
            LeapCommand::Subscribe { channel } => format!("subscribe {channel}"),
            LeapCommand::Unsubscribe { channel } => format!("unsubscribe {channel}"),
            LeapCommand::Message {
                channel,
                event,
                data,
            } => format!("message {channel} {event} {data}"),
            LeapCommand::SetState { channel, state } => {
                format!("set state of {channel} to {state}")
            }
            LeapCommand::PipeSubscribe { join_token } => {
                format!("subscribe to pipe room {}", mask_token(join_token))
            }
        }
    }

    /// Tokens in it the recorder must mask.
    pub fn secrets(&self) -> Vec<String> {
        match self {
            LeapCommand::PipeSubscribe { join_token } => vec![join_token.clone()],
            _ => Vec::new(),
        }
    }
}
