//! What the `:` line asks a legume client to do.

/// A command to a legume client.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LegumeCommand {
    /// Send a user message the schema describes: its name and `field=value`
    /// pairs as typed (checked against the schema by the session).
    Send {
        reliable: bool,
        message: String,
        values: Vec<(String, String)>,
    },
    /// Connect again now (after a rejection, or a `disconnect`).
    Connect,
    /// Say Disconnected to the server and stay away until `connect`.
    Disconnect,
}

impl LegumeCommand {
    pub fn describe(&self) -> String {
        match self {
            LegumeCommand::Send {
                reliable,
                message,
                values,
            } => {
                let mut s = format!("{} {message}", if *reliable { "send!" } else { "send" });
                for (k, v) in values {
                    s.push_str(&format!(" {k}={}", serde_json::Value::String(v.clone())));
                }
                s
            }
            LegumeCommand::Connect => "connect".into(),
            LegumeCommand::Disconnect => "disconnect".into(),
        }
    }
}
