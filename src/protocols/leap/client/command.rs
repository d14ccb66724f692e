//! The Leap `:` command line: what the user types → a Leap command.
//!
//! ```text
//! sub ID                    SUBSCRIBE (kept across reconnects)
//! unsub ID                  UNSUBSCRIBE
//! msg ID EVENT [json]       MESSAGE on channel ID          e.g. msg lobby chat {"text":"hi"}
//! state ID {json}           SET_CHANNEL_STATE              e.g. state flags {"dark":true}
//! pipe JOIN_TOKEN           PIPE_ROOM_SUBSCRIBE (the token is never shown)
//! ```

use crate::protocols::leap::wire::model::LeapCommand;
use crate::event::CommandKind;

/// The words a Leap source takes on the `:` line.
pub const VERBS: &[&str] = &["sub", "unsub", "msg", "state", "pipe"];

pub const USAGE: &str =
    "commands: sub ID · unsub ID · msg ID EVENT {json} · state ID {json} · pipe JOIN_TOKEN";

fn word(s: &str) -> (&str, &str) {
    match s.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (s, ""),
    }
}

fn json(what: &str, text: &str, object: bool) -> Result<String, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if object && !v.is_object() => Err(format!(
            "{what} must be a JSON object, e.g. {{\"count\":1}}"
        )),
        Ok(_) => Ok(text.to_string()),
        Err(e) => Err(format!("{what} is not JSON: {e}")),
    }
}

/// Parse one command line; the error says what is wrong and how to fix it.
pub fn parse(line: &str) -> Result<LeapCommand, String> {
    let (verb, rest) = word(line.trim());
    let (id, rest) = word(rest);
    let need_id = |v: &str| -> Result<(), String> {
        if id.is_empty() {
            Err(format!("{v} needs a channel id; {USAGE}"))
        } else {
            Ok(())
        }
    };
    match verb {
        "sub" => {
            need_id("sub")?;
            Ok(LeapCommand::Subscribe {
                channel: id.to_string(),
            })
        }
        "unsub" => {
            need_id("unsub")?;
            Ok(LeapCommand::Unsubscribe {
                channel: id.to_string(),
            })
        }
        "msg" => {
            need_id("msg")?;
            let (event, data) = word(rest);
            if event.is_empty() {
                return Err("msg needs an event name: msg ID EVENT {json}".into());
            }
            let data = if data.is_empty() { "null" } else { data };
            Ok(LeapCommand::Message {
                channel: id.to_string(),
                event: event.to_string(),
                data: json("message data", data, false)?,
            })
        }
        "state" => {
            need_id("state")?;
            if rest.is_empty() {
                return Err("state needs the new state: state ID {json}".into());
            }
            Ok(LeapCommand::SetState {
                channel: id.to_string(),
                state: json("state", rest, true)?,
            })
        }
        "pipe" => {
            if id.is_empty() {
                return Err("pipe needs a join token: pipe JOIN_TOKEN".into());
            }
            Ok(LeapCommand::PipeSubscribe {
                join_token: id.to_string(),
            })
        }
        "" => Err(USAGE.into()),
        other => Err(format!("unknown command {other:?}; {USAGE}")),
    }
}

/// The `:` line as a command of this protocol.
pub fn parse_line(line: &str) -> Result<CommandKind, String> {
    parse(line).map(CommandKind::Leap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_verb() {
        assert_eq!(
            parse("sub lobby").unwrap(),
            LeapCommand::Subscribe {
                channel: "lobby".into()
            }
        );
        assert_eq!(
            parse(r#"msg lobby chat {"text": "hi there"}"#).unwrap(),
            LeapCommand::Message {
                channel: "lobby".into(),
                event: "chat".into(),
                data: r#"{"text": "hi there"}"#.into()
            }
        );
        assert_eq!(
            parse("msg lobby ping").unwrap(),
            LeapCommand::Message {
                channel: "lobby".into(),
                event: "ping".into(),
                data: "null".into()
            }
        );
        assert!(matches!(
            parse(r#"state flags {"dark":true}"#).unwrap(),
            LeapCommand::SetState { .. }
        ));
        let p = parse("pipe jt_secret").unwrap();
        assert!(!p.describe().contains("jt_secret"), "{}", p.describe());
    }

    #[test]
    fn errors_say_how() {
        assert!(parse("sub").unwrap_err().contains("channel id"));
        assert!(
            parse("state flags [1]")
                .unwrap_err()
                .contains("JSON object")
        );
        assert!(parse("msg c e {nope").unwrap_err().contains("not JSON"));
        assert!(parse("frob x").unwrap_err().contains("unknown command"));
    }
}
