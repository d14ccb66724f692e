//! MeshAgent room commands (what the `:` line and `w` send). Pure types.

/// A command for a room source.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum RoomCommand {
    /// Developer-log watching: on, off, or the other way round.
    Watch(Option<bool>),
    /// Send a developer log to the room.
    DevLog(DevLog),
}

impl RoomCommand {
    /// One line for the Logs pane.
    pub fn describe(&self) -> String {
        match self {
            RoomCommand::Watch(Some(true)) => "developer logs: watch".to_string(),
            RoomCommand::Watch(Some(false)) => "developer logs: unwatch".to_string(),
            RoomCommand::Watch(None) => "developer logs: toggle watching".to_string(),
            RoomCommand::DevLog(DevLog::Log { ty, data }) => format!("developer.log {ty} {data}"),
            RoomCommand::DevLog(DevLog::Say { level, message }) => {
                format!("developer.{level} {message}")
            }
        }
    }
}

/// A developer log a room source sends (`RoomClient.developer`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum DevLog {
    /// `developer.log(type, data)`; `data` is JSON object text.
    Log { ty: String, data: String },
    /// `developer.info/warning/error(message)`; `level` is one of those.
    Say { level: String, message: String },
}
