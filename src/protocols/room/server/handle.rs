//! A participant's requests: the developer toolkit (`room.invoke_tool`
//! `logs` stream and `log`/`info`/`warning`/`error`, the stream's close
//! chunk) and legacy `developer.*`, each answered with a `__response__`
//! except `set_attributes`.

use serde_json::{Value, json};

use super::Hub;
use super::admit::Admitted;
use crate::event::Dialect;
use crate::event::Level;
use crate::protocols::room::wire::codec;

/// One request being answered.
struct Call<'a> {
    hub: &'a Hub,
    conn: u64,
    adm: &'a Admitted,
    id: u64,
}

impl Call<'_> {
    fn respond(&self, content: &Value) {
        let data = codec::pack(&content.to_string(), &[]);
        let mut st = self.hub.state();
        self.hub
            .send_to(&mut st, self.conn, Some(self.id), "__response__", &data);
    }

    fn error(&self, code: i64, text: String) {
        self.respond(&json!({"type": "error", "text": text, "code": code}));
    }

    fn empty(&self) {
        self.respond(&json!({"type": "empty"}));
    }

    /// Refused for want of a developer grant: says so, returns true.
    fn denied(&self) -> bool {
        let Some(why) = &self.adm.refused else {
            return false;
        };
        self.error(1001, format!("permission denied: {why}"));
        true
    }

    /// Note which generation the participant speaks (shown in the peers).
    fn set_generation(&self, g: Dialect) {
        let changed = {
            let mut st = self.hub.state();
            match st.peers.get_mut(&self.conn) {
                Some(p) if p.generation != g => {
                    p.generation = g;
                    true
                }
                _ => false,
            }
        };
        if changed {
            self.hub.report_peers();
        }
    }
}

pub(super) fn handle(hub: &Hub, conn: u64, adm: &Admitted, m: codec::Message) {
    let c = Call {
        hub,
        conn,
        adm,
        id: m.id,
    };
    let (head, payload) = match codec::unpack(&m.data) {
        Ok(x) => x,
        Err(e) => {
            hub.notice(
                Level::Warn,
                format!("bad {} message from {}: {e}", m.kind, adm.name),
            );
            if m.kind != "set_attributes" {
                c.error(1002, format!("invalid request: {e}"));
            }
            return;
        }
    };
    match m.kind.as_str() {
        "room.invoke_tool" if hub.cfg.toolkit => invoke_tool(&c, &head, payload),
        "room.tool_call_request_chunk" if hub.cfg.toolkit => request_chunk(&c, &head),
        "developer.watch" | "developer.unwatch" if hub.cfg.legacy => {
            c.set_generation(Dialect::Legacy);
            if c.denied() {
                return;
            }
            let on = m.kind == "developer.watch";
            if let Some(p) = hub.state().peers.get_mut(&conn) {
                p.legacy_watch = on;
            }
            c.empty();
        }
        "developer.log" | "developer.info" | "developer.warning" | "developer.error"
            if hub.cfg.legacy =>
        {
            legacy_log(&c, &m.kind, &head)
        }
        "set_attributes" => {}
        other => c.error(1003, format!("roomtap room: unknown message type {other}")),
    }
}

/// `room.invoke_tool`: the developer toolkit only.
fn invoke_tool(c: &Call<'_>, head: &Value, payload: &[u8]) {
    let toolkit = head.get("toolkit").and_then(Value::as_str).unwrap_or("");
    let tool = head.get("tool").and_then(Value::as_str).unwrap_or("");
    let args = head.get("arguments").cloned().unwrap_or(Value::Null);
    if toolkit != "developer" || !matches!(tool, "logs" | "log" | "info" | "warning" | "error") {
        c.error(1003, format!("roomtap room: no tool {toolkit}.{tool}"));
        return;
    }
    c.set_generation(Dialect::Current);
    if c.denied() {
        return;
    }
    if tool == "logs" {
        return open_logs(c, head, &args);
    }
    let body = match codec::Content::from_parts(&args, payload) {
        codec::Content::Json(v) => v,
        codec::Content::Empty => json!({}),
        other => {
            c.error(
                1002,
                format!("developer.{tool} takes json arguments, not {other:?}"),
            );
            return;
        }
    };
    let (ty, data) = if tool == "log" {
        type_and_data(&body)
    } else {
        (tool.to_string(), body)
    };
    if !data.is_object() {
        c.error(1002, "developer log data must be a JSON object".into());
        return;
    }
    c.empty();
    c.hub.publish(&c.adm.room, &ty, &data);
}

/// developer/`logs`: a stream opened with a control open (bounded per
/// participant).
fn open_logs(c: &Call<'_>, head: &Value, args: &Value) {
    let open = args.get("type").and_then(Value::as_str) == Some("control")
        && args.get("method").and_then(Value::as_str) == Some("open");
    let Some(tc) = head.get("tool_call_id").and_then(Value::as_str) else {
        c.error(
            1002,
            "developer.logs is a stream: tool_call_id is required".into(),
        );
        return;
    };
    if !open {
        c.error(1002, "developer.logs expects a control open".into());
        return;
    }
    let max = c.hub.cfg.max_streams;
    let opened = match c.hub.state().peers.get_mut(&c.conn) {
        Some(p) if p.streams.len() < max || p.streams.contains(tc) => {
            p.streams.insert(tc.to_string());
            true
        }
        _ => false,
    };
    if opened {
        c.respond(&json!({"type": "control", "method": "open"}));
    } else {
        c.error(
            1008,
            format!("too many developer log streams open (at most {max})"),
        );
    }
}

/// `room.tool_call_request_chunk`: a control close ends that stream, and
/// the close chunk follows the answer.
fn request_chunk(c: &Call<'_>, head: &Value) {
    let tc = head
        .get("tool_call_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let chunk = head.get("chunk").cloned().unwrap_or(Value::Null);
    let close = chunk.get("type").and_then(Value::as_str) == Some("control")
        && chunk.get("method").and_then(Value::as_str) == Some("close");
    let removed = close
        && c.hub
            .state()
            .peers
            .get_mut(&c.conn)
            .is_some_and(|p| p.streams.remove(&tc));
    c.empty();
    if removed {
        let head = json!({
            "tool_call_id": tc,
            "chunk": {"type": "control", "method": "close", "status_code": 1000},
        });
        let data = codec::pack(&head.to_string(), &[]);
        let mut st = c.hub.state();
        c.hub.send_to(
            &mut st,
            c.conn,
            None,
            "room.tool_call_response_chunk",
            &data,
        );
    }
}

/// Legacy `developer.log` (type and data) or `developer.info` & co. (the
/// head is the data).
fn legacy_log(c: &Call<'_>, kind: &str, head: &Value) {
    c.set_generation(Dialect::Legacy);
    if c.denied() {
        return;
    }
    let (ty, data) = if kind == "developer.log" {
        type_and_data(head)
    } else {
        (kind["developer.".len()..].to_string(), head.clone())
    };
    c.empty();
    c.hub.publish(&c.adm.room, &ty, &data);
}

/// `{"type": T, "data": D}` of a developer log (`unknown`, `{}` when absent).
fn type_and_data(v: &Value) -> (String, Value) {
    (
        v.get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        v.get("data").cloned().unwrap_or(json!({})),
    )
}
