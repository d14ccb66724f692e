//! SocketCluster framing and Redux DevTools app messages: a pure codec.
//!
//! Text frames hold one JSON packet (or a JSON array of packets); the only
//! non-JSON frames are pings: `""` (protocol v2, answered `""`) and `"#1"`
//! (protocol v1, answered `"#2"`). App messages arrive inside `#publish` on
//! channel `log`; their `payload`/`action` fields are strings holding jsan.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::envelope::{Envelope, Name, quote};
use crate::protocols::redux::wire::model::{
    ActionRecord, AppRef, LiftedAction, LiftedState, RawJson, ReduxCommand, ReduxEvent,
};

/// Which keep-alive dialect a peer speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingStyle {
    /// SocketCluster protocol v2 (`@redux-devtools/cli`, client 20): `""` ↔ `""`.
    V2,
    /// SocketCluster protocol v1 (`remotedev-server`, client 14): `"#1"` → `"#2"`.
    V1,
}

impl PingStyle {
    pub fn pong(self) -> &'static str {
        match self {
            PingStyle::V2 => "",
            PingStyle::V1 => "#2",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub what: String,
}

impl DecodeError {
    fn new(what: impl Into<String>) -> Self {
        Self { what: what.into() }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

/// One decoded frame.
#[derive(Debug)]
pub enum Frame<'a> {
    /// A keep-alive that must be answered in kind.
    Ping(PingStyle),
    /// `"#2"`: a v1 pong (seen by a relay, never by a monitor).
    Pong,
    /// Answer to an RPC we sent.
    Reply {
        rid: u64,
        data: Option<&'a RawValue>,
        error: Option<String>,
    },
    /// A delivery on a channel we subscribed to (`data`: raw JSON text).
    /// The hot path (an app's ACTION) arrives already decoded in `decoded`.
    Publish {
        channel: Cow<'a, str>,
        data: &'a str,
        decoded: Option<ReduxEvent>,
    },
    /// Any other event (transmit, or RPC when `cid` is set).
    Event {
        event: Cow<'a, str>,
        data: Option<&'a RawValue>,
        cid: Option<u64>,
    },
    /// A JSON array of packets.
    Batch(Vec<Frame<'a>>),
}

#[derive(Deserialize)]
struct RawPublish<'a> {
    #[serde(borrow)]
    channel: Cow<'a, str>,
    #[serde(borrow)]
    data: &'a RawValue,
}

/// Decode one text frame.
pub fn decode_frame(text: &str) -> Result<Frame<'_>, DecodeError> {
    decode_frame_with(text, true)
}

/// [`decode_frame`] without the hot path (serde only): the reference the
/// `redux_codec` fuzz target holds the hot path to.
#[doc(hidden)]
pub fn decode_frame_reference(text: &str) -> Result<Frame<'_>, DecodeError> {
    decode_frame_with(text, false)
}

fn decode_frame_with(text: &str, fast: bool) -> Result<Frame<'_>, DecodeError> {
    match text {
        "" => return Ok(Frame::Ping(PingStyle::V2)),
        "#1" => return Ok(Frame::Ping(PingStyle::V1)),
        "#2" => return Ok(Frame::Pong),
        _ => {}
    }
    let first = text.trim_start().as_bytes().first().copied();
    if first == Some(b'[') {
        let items: Vec<&RawValue> = serde_json::from_str(text)
            .map_err(|e| DecodeError::new(format!("batch is not a JSON array: {e}")))?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(decode_packet(item.get(), fast)?);
        }
        return Ok(Frame::Batch(out));
    }
    decode_packet(text, fast)
}

fn decode_packet(text: &str, fast: bool) -> Result<Frame<'_>, DecodeError> {
    // Hot path: a publish, walked once by the scanner.
    if fast && let Some(f) = fast_publish(text) {
        return Ok(f);
    }
    let p: Envelope<'_> = Envelope::parse(text)
        .map_err(|e| DecodeError::new(format!("not a SocketCluster packet: {e}")))?;
    if let Some(rid) = p.rid {
        return Ok(Frame::Reply {
            rid,
            data: p.data,
            error: p.error.map(error_text),
        });
    }
    let Some(Name(event)) = p.event else {
        return Err(DecodeError::new("packet has neither `event` nor `rid`"));
    };
    if event == "#publish" {
        let data = p
            .data
            .ok_or_else(|| DecodeError::new("#publish without data"))?;
        let pb: RawPublish<'_> = serde_json::from_str(data.get())
            .map_err(|e| DecodeError::new(format!("#publish data: {e}")))?;
        return Ok(Frame::Publish {
            channel: pb.channel,
            data: pb.data.get(),
            decoded: None,
        });
    }
    Ok(Frame::Event {
        event,
        data: p.data,
        cid: p.cid,
    })
}

/// A publish walked once: the app message inside is decoded in place when
/// it is an ACTION.
fn fast_publish(text: &str) -> Option<Frame<'_>> {
    use crate::scan::{Span, plain_str, rest_is_ws, value, value_end, walk};
    let b = text.as_bytes();
    let (mut event, mut channel, mut inner, mut decoded) = (None, None, None, None);
    let (mut extra, mut seen, mut seen_inner) = (false, 0, 0);
    let end = walk(text, 0, |k, start| match k {
        _ if repeated(&mut seen, &["event", "data"], k) => {
            extra = true;
            value_end(b, start)
        }
        "event" => {
            let v = value(b, start)?;
            // Not a publish: leave it to the serde path at once.
            event = Some(plain_str(text, v).filter(|e| *e == "#publish")?);
            Some(v.end)
        }
        "data" => walk(text, start, |k, start| match k {
            _ if repeated(&mut seen_inner, &["channel", "data"], k) => {
                extra = true;
                value_end(b, start)
            }
            "channel" => {
                let v = value(b, start)?;
                channel = plain_str(text, v);
                Some(v.end)
            }
            "data" => {
                let end = match fast_action_at(text, start) {
                    Some((ev, end)) => {
                        decoded = Some(ev);
                        end
                    }
                    None => value_end(b, start)?,
                };
                inner = Some(Span {
                    start,
                    end,
                    escaped: false,
                });
                Some(end)
            }
            _ => value_end(b, start),
        }),
        _ => {
            extra = true;
            value_end(b, start)
        }
    })?;
    if event != Some("#publish") || extra || !rest_is_ws(text, end) {
        return None;
    }
    Some(Frame::Publish {
        channel: Cow::Borrowed(channel?),
        data: inner?.of(text),
        decoded,
    })
}

/// Whether field `k` (one of `names`) was seen before: serde refuses a
/// field twice, so the hot paths leave such input to it.
fn repeated(seen: &mut u16, names: &[&str], k: &str) -> bool {
    let bit = names.iter().position(|n| *n == k).map_or(0, |i| 1 << i);
    let again = *seen & bit != 0;
    *seen |= bit;
    again
}

/// Human text of an SC error object (`{"message":..,"name":..}`) or any JSON.
fn error_text(raw: &RawValue) -> String {
    #[derive(Deserialize)]
    struct E {
        message: Option<String>,
        name: Option<String>,
    }
    match serde_json::from_str::<E>(raw.get()) {
        Ok(E {
            message: Some(m),
            name,
        }) => match name {
            Some(n) => format!("{n}: {m}"),
            None => m,
        },
        _ => raw.get().to_string(),
    }
}

/// The socket id and ping timeout from a `#handshake` reply's data (raw JSON).
pub fn handshake_id(data: Option<&str>) -> Option<(String, Option<u64>)> {
    #[derive(Deserialize)]
    struct H {
        id: String,
        #[serde(rename = "pingTimeout")]
        ping_timeout: Option<u64>,
    }
    let h: H = serde_json::from_str(data?).ok()?;
    Some((h.id, h.ping_timeout))
}

#[derive(Deserialize)]
struct RawAppMessage<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Id<'a>>,
    #[serde(rename = "instanceId", borrow, default)]
    instance_id: Option<Id<'a>>,
    #[serde(borrow, default)]
    name: Option<Id<'a>>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(borrow, default)]
    action: Option<&'a RawValue>,
    #[serde(rename = "nextActionId", default)]
    next_action_id: Option<u64>,
    #[serde(rename = "isExcess", default)]
    is_excess: Option<bool>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

impl RawAppMessage<'_> {
    const FIELDS: [&'static str; 9] = [
        "type",
        "id",
        "instanceId",
        "name",
        "payload",
        "action",
        "nextActionId",
        "isExcess",
        "data",
    ];
}

/// An id or name: normally a string (borrowed when it has no escapes), but
/// any JSON value is accepted and shown as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Other(serde_json::Value),
}

fn id_text(v: Option<Id<'_>>) -> Option<String> {
    match v? {
        Id::Text(s) => Some(s.into_owned()),
        Id::Other(serde_json::Value::Null) => None,
        Id::Other(other) => Some(other.to_string()),
    }
}

/// Decode a message published on channel `log` (an app message, the
/// `log-noid` wrapper `{"id":..,"data":{..}}`, or a relay DISCONNECTED notice).
pub fn decode_app_message(raw: &str) -> Result<ReduxEvent, DecodeError> {
    match fast_action(raw) {
        Some(ev) => Ok(ev),
        None => decode_app_message_full(raw),
    }
}

/// The reference decoder (serde): used for everything the hot path does
/// not take, and to produce errors.
pub fn decode_app_message_full(raw: &str) -> Result<ReduxEvent, DecodeError> {
    let m: RawAppMessage<'_> = serde_json::from_str(raw)
        .map_err(|e| DecodeError::new(format!("app message is not an object: {e}")))?;
    if m.ty.is_none()
        && let Some(inner) = m.data
    {
        // log-noid: the relay wrapped the message with the sender's socket id.
        let socket = id_text(m.id);
        let mut ev = decode_app_message_full(inner.get())?;
        if let Some(app) = app_of_mut(&mut ev)
            && app.socket_id.is_none()
        {
            app.socket_id = socket;
        }
        return Ok(ev);
    }
    let ty =
        m.ty.ok_or_else(|| DecodeError::new("app message has no `type`"))?;
    let app = AppRef {
        socket_id: id_text(m.id),
        instance_id: id_text(m.instance_id),
        name: id_text(m.name),
    };
    Ok(match ty.as_ref() {
        "START" => ReduxEvent::Start { app },
        "STOP" => ReduxEvent::Stop { app },
        "DISCONNECTED" => ReduxEvent::Disconnected {
            socket_id: app.socket_id.unwrap_or_default(),
        },
        "ERROR" => ReduxEvent::Error {
            message: m
                .payload
                .map(|p| json_string_or_raw(p).into_owned())
                .unwrap_or_default(),
            app,
        },
        "STATE" => {
            let payload = m
                .payload
                .ok_or_else(|| DecodeError::new("STATE without payload"))?;
            let text = json_string(payload, "STATE payload")?;
            let lifted = decode_lifted_state(&text)?;
            ReduxEvent::State {
                app,
                lifted,
                action_creators: m
                    .action
                    .filter(|a| a.get().starts_with('['))
                    .map(|a| a.get().to_string()),
            }
        }
        "ACTION" => {
            let action = m
                .action
                .ok_or_else(|| DecodeError::new("ACTION without action"))?;
            let action_text = json_string(action, "ACTION action")?;
            // Kept as the string literal it came in: unescaped when viewed.
            let state = match m.payload {
                Some(p) if p.get().starts_with('"') => Some(RawJson::quoted(p.get())),
                Some(_) => return Err(DecodeError::new("ACTION payload is not a string")),
                None => None,
            };
            let id = m.next_action_id.map(|n| n.saturating_sub(1)).unwrap_or(0);
            let mut rec = decode_performed_action(id, &action_text)?;
            rec.state_raw = state;
            ReduxEvent::Action {
                app,
                action: rec,
                is_excess: m.is_excess,
            }
        }
        other => ReduxEvent::Other {
            app,
            msg_type: other.to_string(),
            raw: raw.to_string(),
        },
    })
}

fn app_of_mut(ev: &mut ReduxEvent) -> Option<&mut AppRef> {
    match ev {
        ReduxEvent::Start { app }
        | ReduxEvent::State { app, .. }
        | ReduxEvent::Action { app, .. }
        | ReduxEvent::Stop { app }
        | ReduxEvent::Error { app, .. }
        | ReduxEvent::Other { app, .. } => Some(app),
        ReduxEvent::Disconnected { .. } => None,
    }
}

/// Hot path: an ACTION message decoded with the scanner, in one pass, its
/// state kept as the escaped literal. `None` means "use the serde path",
/// which also produces the error for anything malformed.
fn fast_action(raw: &str) -> Option<ReduxEvent> {
    let (ev, end) = fast_action_at(raw, 0)?;
    crate::scan::rest_is_ws(raw, end).then_some(ev)
}

/// [`fast_action`] on the object starting at `at`; also returns its end.
fn fast_action_at(raw: &str, at: usize) -> Option<(ReduxEvent, usize)> {
    use crate::scan::{Span, fields, plain_str, string_value};
    let mut ty = None;
    let (mut id, mut inst, mut name) = (None, None, None);
    let (mut payload, mut action, mut next, mut excess) = (None, None, None, None);
    let (mut other, mut seen) = (false, 0);
    let obj_end = fields(raw, at, |k, v: Span| match k {
        _ if repeated(&mut seen, &RawAppMessage::FIELDS, k) => other = true,
        "type" => ty = plain_str(raw, v),
        "id" => id = Some(v),
        "instanceId" => inst = Some(v),
        "name" => name = Some(v),
        "payload" => payload = Some(v),
        "action" => action = Some(v),
        "nextActionId" | "isExcess" if v.of(raw) == "null" => {}
        // What serde would not read as a u64 / a bool is left to it.
        "nextActionId" => match v.of(raw).parse::<u64>() {
            Ok(n) => next = Some(n),
            Err(_) => other = true,
        },
        "isExcess" => match v.of(raw) {
            "true" => excess = Some(true),
            "false" => excess = Some(false),
            _ => other = true,
        },
        "data" => other = true,
        _ => {}
    })?;
    if ty != Some("ACTION") || other {
        return None;
    }
    let text = |s: Option<Span>| -> Option<Option<String>> {
        match s {
            None => Some(None),
            Some(s) if s.of(raw) == "null" => Some(None),
            Some(s) => string_value(raw, s).map(|c| Some(c.into_owned())),
        }
    };
    let app = AppRef {
        socket_id: text(id)?,
        instance_id: text(inst)?,
        name: text(name)?,
    };
    let payload = payload?;
    if raw.as_bytes()[payload.start] != b'"' {
        return None;
    }
    let action_text = string_value(raw, action?)?;
    let id = next.map(|n| n.saturating_sub(1)).unwrap_or(0);
    let mut rec = fast_performed_action(id, &action_text)?;
    rec.state_raw = Some(RawJson::quoted(payload.of(raw)));
    Some((
        ReduxEvent::Action {
            app,
            action: rec,
            is_excess: excess,
        },
        obj_end,
    ))
}

/// `PERFORM_ACTION` with the scanner; `None` → serde path.
fn fast_performed_action(id: u64, text: &str) -> Option<ActionRecord> {
    use crate::scan::{fields, rest_is_ws, string_value};
    let (mut inner, mut ts, mut odd, mut seen) = (None, None, false, 0);
    let end = fields(text, 0, |k, v| match k {
        _ if repeated(&mut seen, &["type", "action", "timestamp"], k) => odd = true,
        "action" => inner = Some(v),
        "timestamp" if v.of(text) == "null" => {}
        // serde reads an f64: integers read alike; the rest goes to serde.
        "timestamp" => match v.of(text).parse::<u64>() {
            Ok(n) => ts = Some(n as f64),
            Err(_) => odd = true,
        },
        _ => {}
    })?;
    if odd || !rest_is_ws(text, end) {
        return None;
    }
    let inner = inner?;
    let action_raw = inner.of(text);
    let mut ty = None;
    fields(action_raw, 0, |k, v| {
        if k == "type" {
            odd |= ty.replace(v).is_some();
        }
    })?;
    if odd {
        return None;
    }
    let action_type = string_value(action_raw, ty?)?.into_owned();
    Some(ActionRecord {
        id,
        action_type,
        timestamp_ms: ts.filter(|t| t.is_finite() && *t >= 0.0).map(|t| t as u64),
        action_raw: action_raw.into(),
        state_raw: None,
        error: None,
    })
}

/// The text of a JSON string value (payloads are jsan *strings*).
fn json_string<'a>(raw: &'a RawValue, what: &str) -> Result<Cow<'a, str>, DecodeError> {
    let s = raw.get();
    if !s.starts_with('"') {
        return Err(DecodeError::new(format!("{what} is not a string")));
    }
    // Fast path: no escapes.
    let inner = &s[1..s.len() - 1];
    if !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(s)
        .map(Cow::Owned)
        .map_err(|e| DecodeError::new(format!("{what}: {e}")))
}

fn json_string_or_raw(raw: &RawValue) -> Cow<'_, str> {
    json_string(raw, "").unwrap_or(Cow::Borrowed(raw.get()))
}

#[derive(Deserialize)]
struct RawPerformAction<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Option<&'a RawValue>,
    #[serde(borrow, default)]
    action: Option<&'a RawValue>,
    #[serde(default)]
    timestamp: Option<f64>,
}

/// Decode a lifted `PERFORM_ACTION` (or, from other libraries, a bare action).
pub fn decode_performed_action(id: u64, text: &str) -> Result<ActionRecord, DecodeError> {
    let p: RawPerformAction<'_> = serde_json::from_str(text)
        .map_err(|e| DecodeError::new(format!("action is not a JSON object: {e}")))?;
    let (inner, timestamp) = match p.action {
        Some(a) => (a.get(), p.timestamp),
        None => (text, p.timestamp),
    };
    let action_type = if p.action.is_some() {
        type_of(inner)
    } else {
        p.ty.map(|t| json_string_or_raw(t).into_owned())
            .unwrap_or_else(|| "(no type)".into())
    };
    Ok(ActionRecord {
        id,
        action_type,
        timestamp_ms: timestamp
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| t as u64),
        action_raw: inner.into(),
        state_raw: None,
        error: None,
    })
}

/// `type` of an action object, as text.
fn type_of(action: &str) -> String {
    #[derive(Deserialize)]
    struct T<'a> {
        #[serde(rename = "type", borrow, default)]
        ty: Option<&'a RawValue>,
    }
    match serde_json::from_str::<T<'_>>(action) {
        Ok(T { ty: Some(t) }) => json_string_or_raw(t).into_owned(),
        Ok(T { ty: None }) => "(no type)".into(),
        Err(_) => "(not an object)".into(),
    }
}

#[derive(Deserialize)]
struct RawLifted<'a> {
    #[serde(rename = "actionsById", borrow)]
    actions_by_id: HashMap<Cow<'a, str>, &'a RawValue>,
    #[serde(rename = "nextActionId", default)]
    next_action_id: Option<u64>,
    #[serde(rename = "stagedActionIds")]
    staged: Vec<u64>,
    #[serde(rename = "skippedActionIds", default)]
    skipped: Vec<u64>,
    #[serde(rename = "currentStateIndex", default)]
    current: Option<usize>,
    #[serde(rename = "computedStates", borrow, default)]
    computed: Vec<RawComputed<'a>>,
    #[serde(rename = "isLocked", default)]
    locked: bool,
    #[serde(rename = "isPaused", default)]
    paused: bool,
    #[serde(rename = "committedState", borrow, default)]
    committed: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawComputed<'a> {
    #[serde(borrow, default)]
    state: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// Decode a lifted state (jsan text of a STATE payload).
pub fn decode_lifted_state(text: &str) -> Result<LiftedState, DecodeError> {
    let l: RawLifted<'_> = serde_json::from_str(text)
        .map_err(|e| DecodeError::new(format!("STATE payload is not a lifted state: {e}")))?;
    let mut actions = Vec::with_capacity(l.staged.len());
    for (index, id) in l.staged.iter().enumerate() {
        let key = id.to_string();
        let mut rec = match l.actions_by_id.get(key.as_str()) {
            Some(raw) => decode_performed_action(*id, raw.get())?,
            None => {
                return Err(DecodeError::new(format!(
                    "stagedActionIds names {id}, which actionsById lacks"
                )));
            }
        };
        if let Some(c) = l.computed.get(index) {
            rec.state_raw = c.state.map(|s| RawJson::plain(s.get()));
            rec.error = c.error.as_ref().map(|e| match e {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        actions.push(rec);
    }
    let last = actions.len().saturating_sub(1);
    Ok(LiftedState {
        current_index: l.current.unwrap_or(last).min(last),
        next_action_id: l
            .next_action_id
            .unwrap_or_else(|| l.staged.iter().max().map_or(0, |m| m + 1)),
        actions,
        skipped: l.skipped,
        is_locked: l.locked,
        is_paused: l.paused,
        has_committed_state: l.committed.is_some(),
    })
}

// ---------------------------------------------------------------- encoding

pub use super::envelope::transmit as encode_transmit;

pub fn encode_handshake(cid: u64) -> String {
    format!(r##"{{"event":"#handshake","data":{{"authToken":null}},"cid":{cid}}}"##)
}

/// `login` with any non-`"master"` credential makes us a monitor.
pub fn encode_login_monitor(cid: u64) -> String {
    format!(r#"{{"event":"login","data":{{}},"cid":{cid}}}"#)
}

pub fn encode_subscribe(channel: &str, cid: u64) -> String {
    format!(
        r##"{{"event":"#subscribe","data":{{"channel":{}}},"cid":{cid}}}"##,
        quote(channel)
    )
}

/// JSON of a lifted action as `@redux-devtools/instrument` expects it.
pub fn lifted_action_json(a: &LiftedAction, now_ms: u64) -> String {
    match a {
        LiftedAction::JumpToState { index } => {
            format!(r#"{{"type":"JUMP_TO_STATE","index":{index}}}"#)
        }
        LiftedAction::ToggleAction { id } => format!(r#"{{"type":"TOGGLE_ACTION","id":{id}}}"#),
        LiftedAction::Sweep => r#"{"type":"SWEEP"}"#.into(),
        LiftedAction::Commit => format!(r#"{{"type":"COMMIT","timestamp":{now_ms}}}"#),
        LiftedAction::Rollback => format!(r#"{{"type":"ROLLBACK","timestamp":{now_ms}}}"#),
        LiftedAction::Reset => format!(r#"{{"type":"RESET","timestamp":{now_ms}}}"#),
        LiftedAction::PauseRecording(s) => {
            format!(r#"{{"type":"PAUSE_RECORDING","status":{s}}}"#)
        }
        LiftedAction::LockChanges(s) => format!(r#"{{"type":"LOCK_CHANGES","status":{s}}}"#),
    }
}

/// The `data` of the `respond` transmit that carries a command.
pub fn command_message(cmd: &ReduxCommand, now_ms: u64) -> String {
    match cmd {
        ReduxCommand::Dispatch { instance, action } => format!(
            r#"{{"type":"DISPATCH","action":{},"instanceId":{}}}"#,
            lifted_action_json(action, now_ms),
            quote(instance)
        ),
        ReduxCommand::DispatchUserAction { instance, text } => format!(
            r#"{{"type":"ACTION","action":{},"instanceId":{}}}"#,
            quote(text),
            quote(instance)
        ),
        ReduxCommand::Start => r#"{"type":"START"}"#.into(),
        ReduxCommand::Update { instance } => {
            format!(r#"{{"type":"UPDATE","instanceId":{}}}"#, quote(instance))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_both_styles() {
        assert!(matches!(decode_frame(""), Ok(Frame::Ping(PingStyle::V2))));
        assert!(matches!(decode_frame("#1"), Ok(Frame::Ping(PingStyle::V1))));
        assert_eq!(PingStyle::V1.pong(), "#2");
        assert_eq!(PingStyle::V2.pong(), "");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            "{",
            "[1,",
            "42",
            "null",
            "{\"x\":1}",
            "[{\"rid\":\"a\"}]",
            "\u{1b}[2J",
        ] {
            assert!(decode_frame(bad).is_err(), "{bad:?} should not decode");
        }
    }

    /// Found by the `relay_codec` fuzz target: inputs where the hot paths
    /// (the scanner's ACTION decoder, `fast_publish`) took what the serde
    /// paths refuse or read differently. They must agree on everything.
    #[test]
    fn hot_paths_agree_with_serde() {
        let action = r#"{\"type\":\"PERFORM_ACTION\",\"action\":{\"type\":\"INC\"},\"timestamp\":1700000000000}"#;
        let msg = format!(
            r#"{{"type":"ACTION","id":"s1","instanceId":"i1","name":"app","payload":"{{\"n\":1}}","action":"{action}","nextActionId":2}}"#
        );
        let mut cases = vec![msg.clone(), format!("{msg}\u{a0}"), format!("{msg} \n")];
        for (from, to) in [
            // Not what serde reads as a u64, a bool, an f64.
            (r#""nextActionId":2"#, r#""nextActionId":1.5"#),
            (r#""nextActionId":2"#, r#""nextActionId":-1"#),
            (r#""nextActionId":2"#, r#""nextActionId":"2""#),
            (r#""nextActionId":2"#, r#""nextActionId":01"#),
            (r#""nextActionId":2"#, r#""nextActionId":null"#),
            (r#""nextActionId":2"#, r#""nextActionId":2,"isExcess":1"#),
            (r#""nextActionId":2"#, r#""nextActionId":2,"isExcess":null"#),
            // serde_json rounds this one up (…497), str::parse to even.
            ("1700000000000", "4503599627370496.5"),
            ("1700000000000", "1e400"),
            ("1700000000000", r#"\"5\""#),
            ("1700000000000", "null"),
            // Trailing text after the action, fields twice.
            (r#"}","nextActionId"#, r#"} x","nextActionId"#),
            (r#""name":"app""#, r#""name":"app","name":"b""#),
            (r#""type":"ACTION""#, r#""type":"ACTION","payload":"{}""#),
            (r#"\"timestamp\""#, r#"\"type\":1,\"timestamp\""#),
            (
                r#"{\"type\":\"INC\"}"#,
                r#"{\"type\":\"INC\",\"type\":\"DEC\"}"#,
            ),
            // Not JSON inside: an escape, a literal, a bracket.
            (r#""name":"app""#, r#""name":"a\qp""#),
            (r#""name":"app""#, r#""name":"app","x":tru"#),
            (r#""name":"app""#, r#""name":"app","x":[}"#),
        ] {
            assert!(msg.contains(from), "{from}");
            cases.push(msg.replacen(from, to, 1));
        }
        for m in &cases {
            assert_eq!(decode_app_message(m), decode_app_message_full(m), "{m}");
            // In a publish, decoded in place, against the serde path (forced
            // by an unknown field, which serde ignores).
            let frame =
                format!(r##"{{"event":"#publish","data":{{"channel":"log","data":{m}}}}}"##);
            let serde = frame.replacen('{', r#"{"x":0,"#, 1);
            match (decode_frame(&frame), decode_frame(&serde)) {
                (Ok(Frame::Publish { data, decoded, .. }), Ok(Frame::Publish { data: d2, .. })) => {
                    assert_eq!(data, d2);
                    if let Some(ev) = decoded {
                        assert_eq!(decode_app_message_full(data), Ok(ev), "{m}");
                    }
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{m}: {a:?} vs {b:?}"),
            }
        }
        for frame in [
            r##"{"event":"#publish","data":{"channel":"log","data":{}}}"##,
            r##"{"event":"#publish","data":{"channel":"log","data":{}}}\u{a0}"##,
            r##"{"event":"#publish","event":"#publish","data":{"channel":"log","data":{}}}"##,
            r##"{"event":"#publish","data":{"channel":"log","data":{}},"data":{"channel":"a","data":1}}"##,
            r##"{"event":"#publish","data":{"channel":"log","channel":"x","data":{}}}"##,
            r##"{"event":"#publish","data":{"channel":"log","data":{},"data":1}}"##,
        ] {
            let serde = frame.replacen('{', r#"{"x":0,"#, 1);
            let (a, b) = (decode_frame(frame), decode_frame(&serde));
            assert_eq!(a.is_ok(), b.is_ok(), "{frame}: {a:?} vs {b:?}");
        }
    }

    #[test]
    fn commands_encode_as_the_relay_expects() {
        let k = ReduxCommand::Dispatch {
            instance: "m8mwyg2jqk".into(),
            action: LiftedAction::JumpToState { index: 2 },
        };
        assert_eq!(
            encode_transmit("respond", &command_message(&k, 0)),
            r#"{"event":"respond","data":{"type":"DISPATCH","action":{"type":"JUMP_TO_STATE","index":2},"instanceId":"m8mwyg2jqk"}}"#
        );
    }
}
