//! The TracimDaemon `:` command line.
//!
//! ```text
//! ping       daemon_ping: the pong's round trip is shown
//! clients    daemon_get_clients: the daemon's client list
//! account    daemon_get_account_info: the user it serves
//! ```

use crate::event::CommandKind;
use crate::protocols::tracim::wire::model::TracimCommand;

/// The words a TracimDaemon source takes on the `:` line.
pub const VERBS: &[&str] = &["ping", "clients", "account"];

pub const USAGE: &str = "commands: ping · clients · account";

/// Parse one command line; the error says what is wrong.
pub fn parse(line: &str) -> Result<TracimCommand, String> {
    let mut words = line.split_whitespace();
    let cmd = match words.next() {
        Some("ping") => TracimCommand::Ping,
        Some("clients") => TracimCommand::Clients,
        Some("account") => TracimCommand::Account,
        Some(other) => {
            return Err(format!(
                "{} is not a TracimDaemon command; {USAGE}",
                crate::text::sanitize_capped(other, 40)
            ));
        }
        None => return Err(USAGE.into()),
    };
    match words.next() {
        Some(extra) => Err(format!(
            "{} takes nothing after it (got {}); {USAGE}",
            line.split_whitespace().next().unwrap_or_default(),
            crate::text::sanitize_capped(extra, 40)
        )),
        None => Ok(cmd),
    }
}

/// [`parse`] as the `:` line's parser.
pub fn parse_line(line: &str) -> Result<CommandKind, String> {
    parse(line).map(CommandKind::Tracim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_commands_and_what_is_wrong() {
        assert_eq!(parse("ping"), Ok(TracimCommand::Ping));
        assert_eq!(parse("  clients "), Ok(TracimCommand::Clients));
        assert_eq!(parse("account"), Ok(TracimCommand::Account));
        assert!(parse("pong").unwrap_err().contains("not a TracimDaemon command"));
        assert!(parse("ping now").unwrap_err().contains("takes nothing"));
        assert!(parse("").unwrap_err().contains("ping"));
    }
}
