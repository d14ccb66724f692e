//! What the user sends a TracimDaemon (the `:` line): pure types.

/// A command for the daemon.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TracimCommand {
    /// `daemon_ping`: the pong's round trip is shown.
    Ping,
    /// `daemon_get_clients`: the daemon's client list.
    Clients,
    /// `daemon_get_account_info`: the Tracim user it serves.
    Account,
}

impl TracimCommand {
    /// One line saying what the command does, for the Logs pane.
    pub fn describe(&self) -> String {
        match self {
            TracimCommand::Ping => "daemon_ping to the daemon".into(),
            TracimCommand::Clients => "daemon_get_clients: the daemon's client list".into(),
            TracimCommand::Account => "daemon_get_account_info: the user the daemon serves".into(),
        }
    }
}
