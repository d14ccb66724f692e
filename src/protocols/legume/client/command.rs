//! The legume `:` command line.
//!
//! ```text
//! send Chat sender=me text="hi there" seq=3    a user message, unreliable
//! send! Chat text="must arrive"                reliable: resent until acked
//! connect                                      connect again now
//! disconnect                                   say Disconnected, stay away
//! ```
//!
//! Values are words or "double-quoted" (with \" and \\); the fields a line
//! leaves out are sent as zero or empty. The session checks the line
//! against the schema.

use crate::event::CommandKind;
use crate::protocols::legume::wire::model::LegumeCommand;

/// The words a legume source takes on the `:` line.
pub const VERBS: &[&str] = &["send", "send!", "connect", "disconnect"];

pub const USAGE: &str =
    "commands: send MESSAGE field=value… · send! MESSAGE field=value… (reliable) · connect · disconnect";

/// The line's words: spaces split them, except inside double quotes.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Err("a quote is not closed".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => cur.push(e),
                            Some('n') => cur.push('\n'),
                            Some(o) => {
                                cur.push('\\');
                                cur.push(o);
                            }
                            None => return Err("a quote is not closed".into()),
                        },
                        Some(o) => cur.push(o),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// Parse one command line; the error says what is wrong.
pub fn parse(line: &str) -> Result<LegumeCommand, String> {
    let w = words(line)?;
    let Some(verb) = w.first() else {
        return Err(USAGE.into());
    };
    match verb.as_str() {
        "send" | "send!" => {
            let reliable = verb == "send!";
            let Some(message) = w.get(1) else {
                return Err(format!("{verb} needs a message name; {USAGE}"));
            };
            let mut values = Vec::new();
            for pair in &w[2..] {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(format!(
                        "{} is not field=value",
                        crate::text::sanitize_capped(pair, 40)
                    ));
                };
                if values.iter().any(|(k2, _): &(String, String)| k2 == k) {
                    return Err(format!("{} is given twice", crate::text::sanitize_capped(k, 40)));
                }
                values.push((k.to_string(), v.to_string()));
            }
            Ok(LegumeCommand::Send {
                reliable,
                message: message.clone(),
                values,
            })
        }
        "connect" | "disconnect" if w.len() == 1 => Ok(if verb == "connect" {
            LegumeCommand::Connect
        } else {
            LegumeCommand::Disconnect
        }),
        "connect" | "disconnect" => Err(format!("{verb} takes nothing after it; {USAGE}")),
        other => Err(format!(
            "{} is not a legume command; {USAGE}",
            crate::text::sanitize_capped(other, 40)
        )),
    }
}

/// [`parse`] as the `:` line's parser.
pub fn parse_line(line: &str) -> Result<CommandKind, String> {
    parse(line).map(CommandKind::Legume)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_with_quoted_values_and_what_is_wrong() {
        assert_eq!(
            parse(r#"send Chat sender=me text="hi \"you\"" seq=3"#),
            Ok(LegumeCommand::Send {
                reliable: false,
                message: "Chat".into(),
                values: vec![
                    ("sender".into(), "me".into()),
                    ("text".into(), "hi \"you\"".into()),
                    ("seq".into(), "3".into()),
                ],
            })
        );
        assert!(matches!(
            parse("send! Chat text=\"\""),
            Ok(LegumeCommand::Send { reliable: true, ref values, .. }) if values[0].1.is_empty()
        ));
        assert_eq!(parse(" connect "), Ok(LegumeCommand::Connect));
        assert_eq!(parse("disconnect"), Ok(LegumeCommand::Disconnect));
        assert!(parse("send").unwrap_err().contains("needs a message name"));
        assert!(parse("send Chat seq").unwrap_err().contains("not field=value"));
        assert!(parse("send Chat a=1 a=2").unwrap_err().contains("given twice"));
        assert!(parse("send Chat text=\"open").unwrap_err().contains("not closed"));
        assert!(parse("connect now").unwrap_err().contains("takes nothing"));
        assert!(parse("jump").unwrap_err().contains("not a legume command"));
    }
}
