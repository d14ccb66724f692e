//! The room's `:` command line: what the user types → a room command.
//!
//! ```text
//! log TYPE [JSON object]     developer.log(TYPE, data)      e.g. log info {"message":"hello"}
//! info|warn|error TEXT        developer.info/warning/error(TEXT)
//! watch | unwatch             developer-log watching on / off
//! ```

use crate::event::CommandKind;
use crate::protocols::room::wire::model::{DevLog, RoomCommand};

/// The words a room takes on the `:` line.
pub const VERBS: &[&str] = &[
    "log", "info", "warn", "warning", "error", "watch", "unwatch",
];

pub const USAGE: &str = "commands: log TYPE {json} · info|warn|error TEXT · watch · unwatch";

/// Parse one command line; the error says what is wrong and how to fix it.
pub fn parse(line: &str) -> Result<RoomCommand, String> {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    match word {
        "log" => {
            let (ty, data) = match rest.split_once(char::is_whitespace) {
                Some((t, d)) => (t, d.trim()),
                None => (rest, ""),
            };
            if ty.is_empty() {
                return Err("log needs a type: log TYPE {json}".into());
            }
            let data = if data.is_empty() { "{}" } else { data };
            match serde_json::from_str::<serde_json::Value>(data) {
                Ok(serde_json::Value::Object(_)) => Ok(RoomCommand::DevLog(DevLog::Log {
                    ty: ty.to_string(),
                    data: data.to_string(),
                })),
                Ok(_) => Err("log data must be a JSON object, e.g. {\"message\":\"hi\"}".into()),
                Err(e) => Err(format!("log data is not JSON: {e}")),
            }
        }
        "info" | "warn" | "warning" | "error" => {
            if rest.is_empty() {
                return Err(format!("{word} needs a message: {word} TEXT"));
            }
            let level = match word {
                "info" => "info",
                "error" => "error",
                _ => "warning",
            };
            Ok(RoomCommand::DevLog(DevLog::Say {
                level: level.to_string(),
                message: rest.to_string(),
            }))
        }
        "watch" => Ok(RoomCommand::Watch(Some(true))),
        "unwatch" => Ok(RoomCommand::Watch(Some(false))),
        "" => Err(USAGE.into()),
        other => Err(format!("unknown command {other:?}; {USAGE}")),
    }
}

/// The `:` line as a command of this protocol.
pub fn parse_line(line: &str) -> Result<CommandKind, String> {
    parse(line).map(CommandKind::Room)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_readme_shows() {
        assert_eq!(
            parse(r#"log info {"message":"hello"}"#).unwrap(),
            RoomCommand::DevLog(DevLog::Log {
                ty: "info".into(),
                data: r#"{"message":"hello"}"#.into()
            })
        );
        assert_eq!(
            parse("log ping").unwrap(),
            RoomCommand::DevLog(DevLog::Log {
                ty: "ping".into(),
                data: "{}".into()
            })
        );
        assert_eq!(
            parse("warn disk  almost full").unwrap(),
            RoomCommand::DevLog(DevLog::Say {
                level: "warning".into(),
                message: "disk  almost full".into()
            })
        );
        assert_eq!(parse(" watch ").unwrap(), RoomCommand::Watch(Some(true)));
        assert_eq!(parse("unwatch").unwrap(), RoomCommand::Watch(Some(false)));
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(parse("log").unwrap_err().contains("needs a type"));
        assert!(parse("log t [1]").unwrap_err().contains("JSON object"));
        assert!(parse("log t {oops").unwrap_err().contains("not JSON"));
        assert!(parse("error").unwrap_err().contains("needs a message"));
        assert!(parse("frobnicate").unwrap_err().contains("unknown command"));
        assert!(parse("").unwrap_err().starts_with("commands:"));
    }
}
