//! What the user asks of a room: `w` (watch or not) and developer logs
//! sent, through the toolkit or, for older rooms, legacy `developer.*`.

use serde_json::{Value, json};

use super::Generation;
use crate::protocols::room::wire::model::{DevLog, RoomCommand};
use super::session::{Pending, Session, Watching};
use crate::event::{Command, CommandKind, EventKind, Level};
use crate::link::SessionEnd;

impl Session<'_> {
    pub(super) async fn on_command(&mut self, cmd: Command) -> Result<(), SessionEnd> {
        match &cmd.kind {
            CommandKind::Room(RoomCommand::Watch(on)) => {
                let watching = matches!(self.watching, Watching::On(_) | Watching::Opening(..));
                let want = on.unwrap_or(!watching);
                self.set_want(want);
                if want {
                    self.open_watch().await?;
                } else {
                    self.close_watch().await?;
                }
            }
            CommandKind::Room(RoomCommand::DevLog(log)) => self.send_log(log).await?,
            other => {
                self.em
                    .log(
                        Level::Warn,
                        "command",
                        format!("a room does not take {other:?}: not sent"),
                    )
                    .await;
                return Ok(());
            }
        }
        self.em.emit(EventKind::CommandSent(cmd)).await;
        Ok(())
    }
    async fn send_log(&mut self, log: &DevLog) -> Result<(), SessionEnd> {
        let (tool, args, what) = match log {
            DevLog::Log { ty, data } => {
                let data: Value = match serde_json::from_str(data) {
                    Ok(v @ Value::Object(_)) => v,
                    Ok(_) | Err(_) => {
                        self.em
                            .log(
                                Level::Warn,
                                "command",
                                format!("developer log data must be a JSON object: {data}"),
                            )
                            .await;
                        return Ok(());
                    }
                };
                (
                    "log",
                    json!({"type": ty, "data": data}),
                    format!("log {ty}"),
                )
            }
            DevLog::Say { level, message } => (
                &**level,
                json!({"message": message, "extra": {}}),
                format!("{level} {message}"),
            ),
        };
        let legacy_kind = format!("developer.{tool}");
        let legacy_head = args.to_string().into_bytes();
        if self.learned() == Some(Generation::Legacy) {
            self.request(
                &legacy_kind,
                &args,
                &[],
                Pending::Log {
                    what,
                    legacy_retry: None,
                    legacy: true,
                },
            )
            .await?;
        } else {
            let head = json!({
                "toolkit": "developer",
                "tool": tool,
                "arguments": {"type": "json", "json": args},
            });
            // Fall back to legacy only while the room's generation is
            // unknown: a room that served the toolkit keeps it.
            let retry = (self.cfg.generation == Generation::Auto && self.learned().is_none())
                .then_some((legacy_kind, legacy_head));
            self.request(
                "room.invoke_tool",
                &head,
                &[],
                Pending::Log {
                    what,
                    legacy_retry: retry,
                    legacy: false,
                },
            )
            .await?;
        }
        Ok(())
    }
}
