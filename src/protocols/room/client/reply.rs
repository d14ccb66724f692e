//! `__response__`s: each matched to the request awaiting it, and handled
//! per kind of request.

use serde_json::{Value, json};

use super::Generation;
use crate::protocols::room::wire::codec::{self, Content};
use super::session::{Pending, Session, Watching};
use crate::event::{ChannelChange, EventKind, Level};
use crate::link::SessionEnd;

/// The error a response carries (text, code), if it is one.
type Refused = Option<(String, Option<i64>)>;

impl Session<'_> {
    pub(super) async fn on_response(
        &mut self,
        id: u64,
        head: &Value,
        payload: &[u8],
    ) -> Result<(), SessionEnd> {
        let Some((pending, at)) = self.pending.remove(&id) else {
            self.em
                .log(
                    Level::Debug,
                    "room",
                    format!("response to request {id}, which roomtap is not waiting for"),
                )
                .await;
            return Ok(());
        };
        self.em.emit(EventKind::Rtt(at.elapsed())).await;
        let error = match Content::from_parts(head, payload) {
            Content::Error { text, code } => Some((text, code)),
            _ => None,
        };
        match pending {
            Pending::OpenStream { call } if self.stream.as_deref() != Some(call.as_str()) => {
                // Given up on (no answer in time) or replaced.
                return self.late_stream_opened(call, error).await;
            }
            Pending::OpenStream { .. } => self.stream_opened(error).await?,
            Pending::Watch => self.watch_answered(error).await,
            Pending::Unwatch => self.unwatch_answered(error).await,
            Pending::Abandon => {}
            Pending::CloseStream { call } => self.close_answered(&call, error).await,
            Pending::Log {
                what,
                legacy_retry,
                legacy,
            } => self.log_answered(what, legacy_retry, legacy, error).await?,
        }
        self.report_facts().await;
        Ok(())
    }

    /// A stream the room opened after roomtap gave up on it is closed again.
    async fn late_stream_opened(&mut self, call: String, error: Refused) -> Result<(), SessionEnd> {
        if error.is_none() {
            let head = json!({
                "tool_call_id": call,
                "chunk": {"type": "control", "method": "close", "status_code": 1000},
            });
            self.closed_stream = Some(call);
            self.request("room.tool_call_request_chunk", &head, &[], Pending::Abandon)
                .await?;
        }
        Ok(())
    }

    /// The toolkit's `logs` stream: open, or why not (a room without the
    /// toolkit gets legacy `developer.watch` while its generation is unknown).
    async fn stream_opened(&mut self, error: Refused) -> Result<(), SessionEnd> {
        match error {
            // `w` was pressed while it opened: the close is on its way.
            None if self.watching == Watching::Closing => {
                self.learn(Generation::Current);
            }
            None => {
                self.watching_on(Generation::Current, "developer toolkit: logs stream")
                    .await
            }
            Some((_, Some(1003)))
                if self.cfg.generation == Generation::Auto && self.learned().is_none() =>
            {
                self.stream = None;
                self.watching = Watching::Off;
                self.em
                    .log(
                        Level::Info,
                        "room",
                        "the room has no developer toolkit: trying legacy developer.watch",
                    )
                    .await;
                self.open_watch_with(Some(Generation::Legacy)).await?;
            }
            Some((text, code)) => {
                self.stream = None;
                self.watch_refused(&text, code).await;
            }
        }
        Ok(())
    }

    /// Legacy `developer.watch`.
    async fn watch_answered(&mut self, error: Refused) {
        match error {
            None => {
                self.watching_on(Generation::Legacy, "legacy developer.watch")
                    .await
            }
            Some((text, code)) => self.watch_refused(&text, code).await,
        }
    }

    /// The room said yes to watching with `g` (`how`, in words).
    async fn watching_on(&mut self, g: Generation, how: &str) {
        self.learn(g);
        self.watching = Watching::On(g);
        self.channel_change(ChannelChange::Subscribed).await;
        self.em
            .log(
                Level::Info,
                "room",
                format!("watching developer logs ({how})"),
            )
            .await;
    }

    /// Legacy `developer.unwatch`: off either way.
    async fn unwatch_answered(&mut self, error: Refused) {
        self.watching = Watching::Off;
        self.channel_change(ChannelChange::Unsubscribed).await;
        match error {
            None => {
                self.em
                    .log(Level::Info, "room", "stopped watching developer logs")
                    .await
            }
            Some((text, code)) => {
                self.em
                    .log(
                        Level::Warn,
                        "room",
                        format!("developer.unwatch: {}", codec::describe_error(&text, code)),
                    )
                    .await
            }
        };
    }

    /// The close chunk sent to the `logs` stream.
    async fn close_answered(&mut self, call: &str, error: Refused) {
        // The close chunk that follows ends the stream; a room that sends
        // none still stops here.
        if let Some((text, code)) = error {
            self.em
                .log(
                    Level::Warn,
                    "room",
                    format!(
                        "closing the log stream: {}",
                        codec::describe_error(&text, code)
                    ),
                )
                .await;
        }
        if self.watching == Watching::Closing && self.stream.as_deref() == Some(call) {
            self.closed_stream = self.stream.take();
            self.watching = Watching::Off;
            self.channel_change(ChannelChange::Unsubscribed).await;
            self.em
                .log(Level::Info, "room", "stopped watching developer logs")
                .await;
        }
    }

    /// A developer log sent: accepted, refused, or (a room without the
    /// toolkit) sent again as legacy `developer.*`.
    async fn log_answered(
        &mut self,
        what: String,
        legacy_retry: Option<(String, Vec<u8>)>,
        legacy: bool,
        error: Refused,
    ) -> Result<(), SessionEnd> {
        match (error, legacy_retry) {
            (None, _) => {
                if legacy && self.learned().is_none() {
                    self.learn(Generation::Legacy);
                }
                self.em
                    .log(Level::Info, "sent", format!("developer {what}: accepted"))
                    .await;
            }
            (Some((_, Some(1003))), Some((kind, head))) => {
                let head: Value = serde_json::from_slice(&head).unwrap_or(json!({}));
                let retry = Pending::Log {
                    what,
                    legacy_retry: None,
                    legacy: true,
                };
                self.request(&kind, &head, &[], retry).await?;
            }
            (Some((text, code)), _) => {
                self.em
                    .log(
                        Level::Error,
                        "sent",
                        format!(
                            "developer {what}: refused: {}",
                            codec::describe_error(&text, code)
                        ),
                    )
                    .await;
            }
        }
        Ok(())
    }
}
