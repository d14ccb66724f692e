//! Watching developer logs: opening and closing the toolkit's `logs`
//! stream or legacy `developer.watch`, and the facts shown about it.

use serde_json::json;
use tokio::time::Instant;

use super::Generation;
use crate::protocols::room::wire::codec;
use super::session::{Pending, Session, Watching};
use crate::event::{ChannelChange, EventKind, Level};
use crate::link::SessionEnd;

impl Session<'_> {
    pub(super) async fn report_facts(&mut self) {
        let watching = match self.watching {
            Watching::Off => "off (w to watch)".to_string(),
            Watching::Opening(g, _) => format!("opening ({})", gen_words(g)),
            Watching::On(g) => format!("on ({})", gen_words(g)),
            Watching::Closing => "closing".into(),
        };
        let mut facts = vec![
            ("room".to_string(), self.room.clone()),
            ("participant".to_string(), self.participant.clone()),
            ("developer logs".to_string(), watching),
        ];
        if let Some(s) = &self.status {
            facts.push(("status".to_string(), s.clone()));
        }
        let changes = self
            .persist
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .facts
            .update(facts);
        if let Some(changes) = changes {
            self.em.emit(EventKind::Facts(changes)).await;
        }
    }
    /// Start watching with the generation known (or the toolkit first).
    pub(super) async fn open_watch(&mut self) -> Result<(), SessionEnd> {
        self.open_watch_with(None).await
    }
    /// Start watching with `g`, else the generation learned, else the
    /// toolkit. The generation is learned only from a success.
    pub(super) async fn open_watch_with(
        &mut self,
        g: Option<Generation>,
    ) -> Result<(), SessionEnd> {
        if matches!(self.watching, Watching::On(_) | Watching::Opening(..)) {
            return Ok(());
        }
        let g = g.or(self.learned()).unwrap_or(Generation::Current);
        match g {
            Generation::Legacy => {
                self.request("developer.watch", &json!({}), &[], Pending::Watch)
                    .await?;
            }
            _ => {
                let call = self.next_call_id();
                let head = json!({
                    "toolkit": "developer",
                    "tool": "logs",
                    "tool_call_id": call,
                    "arguments": {"type": "control", "method": "open"},
                });
                self.stream = Some(call.clone());
                self.request("room.invoke_tool", &head, &[], Pending::OpenStream { call })
                    .await?;
            }
        }
        self.watching = Watching::Opening(g, Instant::now());
        self.report_facts().await;
        Ok(())
    }
    pub(super) async fn close_watch(&mut self) -> Result<(), SessionEnd> {
        match self.watching {
            Watching::On(Generation::Legacy) | Watching::Opening(Generation::Legacy, _) => {
                self.request("developer.unwatch", &json!({}), &[], Pending::Unwatch)
                    .await?;
                self.watching = Watching::Closing;
            }
            Watching::On(_) | Watching::Opening(..) => {
                if let Some(call) = self.stream.clone() {
                    let head = json!({
                        "tool_call_id": call,
                        "chunk": {"type": "control", "method": "close", "status_code": 1000},
                    });
                    self.request(
                        "room.tool_call_request_chunk",
                        &head,
                        &[],
                        Pending::CloseStream { call },
                    )
                    .await?;
                    self.watching = Watching::Closing;
                } else {
                    self.watching = Watching::Off;
                }
            }
            Watching::Off | Watching::Closing => {}
        }
        self.report_facts().await;
        Ok(())
    }
    /// The room said no to watching: off, and why in words.
    pub(super) async fn watch_refused(&mut self, text: &str, code: Option<i64>) {
        self.watching = Watching::Off;
        self.set_want(false);
        self.em
            .log(
                Level::Error,
                "room",
                format!(
                    "cannot watch developer logs: {}",
                    codec::describe_error(text, code)
                ),
            )
            .await;
    }
    pub(super) async fn channel_change(&self, change: ChannelChange) {
        self.em
            .emit(EventKind::Channel {
                channel: "developer.logs".into(),
                change,
            })
            .await;
    }
}

fn gen_words(g: Generation) -> &'static str {
    match g {
        Generation::Current | Generation::Auto => "developer toolkit",
        Generation::Legacy => "legacy developer.watch",
    }
}
