//! Messages from the room: responses (see `reply`), the developer `logs`
//! stream's chunks, legacy `developer.log`, `room.status`, and anything
//! else shown as it came.

use serde_json::{Value, json};

use crate::protocols::room::wire::codec::{self, Content};
use crate::protocols::room::wire::logs;
use super::session::{Session, Watching, str_of};
use crate::event::{ChannelChange, EventKind, Level, LogRecord};
use crate::link::SessionEnd;

impl Session<'_> {
    pub(super) async fn on_message(
        &mut self,
        kind: String,
        id: u64,
        head: Value,
        payload: &[u8],
    ) -> Result<(), SessionEnd> {
        match kind.as_str() {
            "__response__" => self.on_response(id, &head, payload).await?,
            "room.tool_call_response_chunk" => self.on_stream_chunk(&head, payload).await,
            "developer.log" => {
                let ty = head
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                let data = head.get("data").cloned().unwrap_or(json!({}));
                self.dev_log(&ty, &data, payload.len()).await;
            }
            "room.status" => self.on_status(&head).await,
            "room_ready" | "connected" => {
                self.em
                    .emit(EventKind::Log(LogRecord {
                        level: Level::Debug,
                        kind: kind.clone(),
                        summary: format!("{kind} {}", head),
                        data: Some(head.to_string()),
                        bytes: None,
                    }))
                    .await;
            }
            other => {
                self.meter
                    .channel(other, head.to_string().len() + payload.len());
                let summary = logs::lines(other, &head)
                    .into_iter()
                    .next()
                    .map(|l| l.record.summary)
                    .unwrap_or_default();
                self.em
                    .emit(EventKind::Log(LogRecord {
                        level: Level::Debug,
                        kind: other.to_string(),
                        summary,
                        data: Some(head.to_string()),
                        bytes: None,
                    }))
                    .await;
            }
        }
        Ok(())
    }

    /// A chunk of a tool call's response stream: the developer `logs`
    /// stream's log lines, its close, or its error.
    async fn on_stream_chunk(&mut self, head: &Value, payload: &[u8]) {
        let call = str_of(head, "tool_call_id");
        if !call.is_empty() && self.closed_stream.as_deref() == Some(call.as_str()) {
            return; // in flight when we closed it, or its close chunk
        }
        if self.stream.as_deref() != Some(call.as_str()) || call.is_empty() {
            self.em
                .log(
                    Level::Debug,
                    "room",
                    format!("stream chunk for a tool call roomtap did not open ({call})"),
                )
                .await;
            return;
        }
        let chunk = head.get("chunk").cloned().unwrap_or(Value::Null);
        match Content::from_parts(&chunk, payload) {
            Content::Binary { headers, payload } => self.on_log_chunk(&headers, &payload).await,
            Content::Control { method, .. } if method == "close" => self.on_stream_closed().await,
            Content::Error { text, code } => self.on_stream_error(&text, code).await,
            other => {
                self.malformed(
                    format!("unexpected developer.logs chunk: {other:?}"),
                    payload,
                )
                .await
            }
        }
    }

    /// One developer log: its type in the headers, its data a JSON object.
    async fn on_log_chunk(&mut self, headers: &Value, payload: &[u8]) {
        let ty = headers.get("type").and_then(Value::as_str).unwrap_or("");
        if ty.is_empty() {
            self.malformed(
                "developer.logs chunk without a valid type (headers.type)".into(),
                payload,
            )
            .await;
            return;
        }
        let data = if payload.is_empty() {
            Ok(json!({}))
        } else {
            serde_json::from_slice::<Value>(payload)
                .map_err(|e| e.to_string())
                .and_then(|v| {
                    if v.is_object() {
                        Ok(v)
                    } else {
                        Err("not a JSON object".into())
                    }
                })
        };
        match data {
            Ok(d) => self.dev_log(ty, &d, payload.len()).await,
            Err(e) => {
                self.malformed(format!("developer log {ty}: data is {e}"), payload)
                    .await
            }
        }
    }

    /// The room closed the stream: as asked, or on its own.
    async fn on_stream_closed(&mut self) {
        let asked = self.watching == Watching::Closing;
        self.closed_stream = self.stream.take();
        self.watching = Watching::Off;
        self.channel_change(ChannelChange::Unsubscribed).await;
        self.em
            .log(
                if asked { Level::Info } else { Level::Warn },
                "room",
                if asked {
                    "developer log stream closed".to_string()
                } else {
                    "the room closed the developer log stream (w watches again)".to_string()
                },
            )
            .await;
        if !asked {
            self.set_want(false);
        }
        self.report_facts().await;
    }

    async fn on_stream_error(&mut self, text: &str, code: Option<i64>) {
        // As in the SDKs, an error ends the stream.
        self.closed_stream = self.stream.take();
        self.watching = Watching::Off;
        self.set_want(false);
        self.channel_change(ChannelChange::Unsubscribed).await;
        self.em
            .log(
                Level::Error,
                "room",
                format!(
                    "the developer log stream ended with an error: {} (w watches again)",
                    codec::describe_error(text, code)
                ),
            )
            .await;
        self.report_facts().await;
    }

    async fn on_status(&mut self, head: &Value) {
        let status = str_of(head, "status");
        let message = str_of(head, "message");
        self.meter.channel("room.status", head.to_string().len());
        self.status = Some(if message.is_empty() {
            status.clone()
        } else {
            format!("{status}: {message}")
        });
        self.em
            .emit(EventKind::Log(LogRecord {
                level: Level::Info,
                kind: "room.status".into(),
                summary: format!("{status} {message}").trim().to_string(),
                data: Some(head.to_string()),
                bytes: None,
            }))
            .await;
        self.report_facts().await;
    }

    /// Developer log lines, counted on channel `developer.logs`.
    async fn dev_log(&mut self, ty: &str, data: &Value, bytes: usize) {
        self.meter.channel("developer.logs", bytes.max(2));
        for line in logs::lines(ty, data) {
            let kind = EventKind::Log(line.record);
            match line.at_ms {
                Some(at) => self.em.emit_at(at, kind).await,
                None => self.em.emit(kind).await,
            };
        }
    }
}
