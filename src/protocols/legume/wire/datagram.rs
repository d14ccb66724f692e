//! Legume datagrams: one or more messages back to back, each a 6-byte
//! big-endian header (message id u16, in-order sequence u16, flags u8, type
//! id u8) and its fields in declaration order. No packet header, no length
//! prefix: a message's length comes from its type, so a message that cannot
//! be decoded ends the datagram's decoding, and what is left is kept (its
//! offset and bytes) to be shown, not lost as legume loses it.

use serde_json::{Map, Value};

use super::schema::{FieldType, MessageDef, Schema};
use super::{HEADER, MTU};

/// Flag bit: deliver in order.
pub const ORDERED: u8 = 0x01;
/// Flag bit: keep sending until acked.
pub const RELIABLE: u8 = 0x02;

/// legume's own message types.
pub mod ty {
    pub const CONNECT_REQUEST: u8 = 2;
    pub const CONNECT_REQUEST_REJECTED: u8 = 3;
    pub const CONNECT_REQUEST_ACCEPTED: u8 = 4;
    pub const KEEP_ALIVE_REQUEST: u8 = 5;
    pub const KEEP_ALIVE_RESPONSE: u8 = 6;
    pub const DISCONNECTED: u8 = 7;
    pub const MESSAGE_ACK: u8 = 8;
    pub const PING: u8 = 9;
    pub const PONG: u8 = 10;
}

/// A message's transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub id: u16,
    pub seq: u16,
    pub flags: u8,
    pub type_id: u8,
}

impl Header {
    /// Its sender keeps it until acked (reliable or ordered).
    pub fn wants_ack(&self) -> bool {
        self.flags & (RELIABLE | ORDERED) != 0
    }

    pub fn ordered(&self) -> bool {
        self.flags & ORDERED != 0
    }

    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.push(self.flags);
        out.push(self.type_id);
    }
}

/// One field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Int(i32),
    Short(u16),
    Float(f64),
    Bool(i8),
    UChar(u8),
    Str(String),
}

impl FieldValue {
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Int(n) => Value::from(*n),
            FieldValue::Short(n) => Value::from(*n),
            FieldValue::Float(x) => serde_json::Number::from_f64(*x)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(x.to_string())),
            FieldValue::Bool(n) => Value::from(*n),
            FieldValue::UChar(n) => Value::from(*n),
            FieldValue::Str(s) => Value::String(s.clone()),
        }
    }

    /// The value `text` (as typed on the `:` line) for a field of `ty`.
    pub fn parse(ty: FieldType, text: &str) -> Result<FieldValue, String> {
        let int = |lo: i64, hi: i64| -> Result<i64, String> {
            text.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| format!("{text:?} is not a {ty} ({lo} to {hi})"))
        };
        Ok(match ty {
            FieldType::Int => FieldValue::Int(int(i32::MIN.into(), i32::MAX.into())? as i32),
            FieldType::Short => FieldValue::Short(int(0, u16::MAX.into())? as u16),
            FieldType::UChar => FieldValue::UChar(int(0, 255)? as u8),
            FieldType::Bool => FieldValue::Bool(match text.trim() {
                "true" => 1,
                "false" => 0,
                _ => int(-128, 127)? as i8,
            }),
            FieldType::Float => FieldValue::Float(
                text.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{text:?} is not a float"))?,
            ),
            FieldType::Str(n) => {
                if text.len() > n {
                    return Err(format!("{text:?} is {} bytes: string {n} holds {n}", text.len()));
                }
                FieldValue::Str(text.to_string())
            }
            FieldType::VarStr => {
                if text.len() > MTU {
                    return Err(format!("{} bytes do not fit a datagram", text.len()));
                }
                FieldValue::Str(text.to_string())
            }
        })
    }

    /// Zero, or empty: a field the `:` line left out.
    pub fn zero(ty: FieldType) -> FieldValue {
        match ty {
            FieldType::Int => FieldValue::Int(0),
            FieldType::Short => FieldValue::Short(0),
            FieldType::Float => FieldValue::Float(0.0),
            FieldType::Bool => FieldValue::Bool(0),
            FieldType::UChar => FieldValue::UChar(0),
            FieldType::Str(_) | FieldType::VarStr => FieldValue::Str(String::new()),
        }
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    ConnectRequest { protocol: u8 },
    ConnectRequestRejected,
    ConnectRequestAccepted,
    KeepAliveRequest { id: u16 },
    KeepAliveResponse { id: u16 },
    Disconnected,
    MessageAck { id: i32 },
    Ping { id: u16 },
    Pong { id: u16 },
    /// A user message the schema describes: its name and fields in order.
    User {
        name: String,
        fields: Vec<(String, FieldValue)>,
        /// What looked wrong but was decoded (a varstring cut by legume's
        /// length in characters…).
        notes: Vec<String>,
    },
}

impl Body {
    /// legume's name for it.
    pub fn name(&self) -> &str {
        match self {
            Body::ConnectRequest { .. } => "ConnectRequest",
            Body::ConnectRequestRejected => "ConnectRequestRejected",
            Body::ConnectRequestAccepted => "ConnectRequestAccepted",
            Body::KeepAliveRequest { .. } => "KeepAliveRequest",
            Body::KeepAliveResponse { .. } => "KeepAliveResponse",
            Body::Disconnected => "Disconnected",
            Body::MessageAck { .. } => "MessageAck",
            Body::Ping { .. } => "Ping",
            Body::Pong { .. } => "Pong",
            Body::User { name, .. } => name,
        }
    }

    /// A user message's fields as a JSON object (what `/` selects with
    /// `data.<field>`).
    pub fn fields_json(&self) -> Option<Value> {
        let Body::User { fields, .. } = self else {
            return None;
        };
        let mut m = Map::new();
        for (k, v) in fields {
            m.insert(k.clone(), v.to_json());
        }
        Some(Value::Object(m))
    }

    /// One line: `Chat sender=cli text="hello" seq=1`.
    pub fn line(&self) -> String {
        match self {
            Body::User { name, fields, .. } => {
                let mut s = name.clone();
                for (k, v) in fields {
                    s.push(' ');
                    s.push_str(k);
                    s.push('=');
                    match v {
                        FieldValue::Str(t) => s.push_str(&Value::String(t.clone()).to_string()),
                        other => s.push_str(&other.to_json().to_string()),
                    }
                }
                s
            }
            Body::ConnectRequest { protocol } => format!("ConnectRequest protocol={protocol}"),
            Body::KeepAliveRequest { id } | Body::KeepAliveResponse { id } => {
                format!("{} id={id}", self.name())
            }
            Body::Ping { id } | Body::Pong { id } => format!("{} id={id}", self.name()),
            Body::MessageAck { id } => format!("MessageAck {id}"),
            _ => self.name().to_string(),
        }
    }
}

/// One decoded message: where it sat in its datagram, its header, and what
/// it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub offset: usize,
    pub len: usize,
    pub header: Header,
    pub body: Body,
}

/// Why the rest of a datagram could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Fewer than 6 bytes left.
    ShortHeader,
    /// Flag bits legume does not set.
    BadFlags,
    /// A type id below 20 that is not legume's own.
    UnknownSystem,
    /// A user type id (20 and up) without a schema entry.
    Undescribed,
    /// The message ends before its fields do.
    Truncated,
    /// A varstring's length runs past the datagram.
    VarstringOverrun,
}

/// What is left of a datagram that could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Rest {
    /// Where it starts.
    pub offset: usize,
    /// The header read there, when there was one (a type id to show, an id
    /// to ack).
    pub header: Option<Header>,
    pub stop: Stop,
    /// In words, for the Logs.
    pub what: String,
    /// The bytes from `offset` to the datagram's end.
    pub bytes: Vec<u8>,
}

/// A datagram, decoded as far as it goes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    pub messages: Vec<Message>,
    pub rest: Option<Rest>,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }
    fn i32(&mut self) -> Option<i32> {
        self.take(4).map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f64(&mut self) -> Option<f64> {
        self.take(8).map(|s| f64::from_be_bytes(s.try_into().unwrap_or([0; 8])))
    }
}

/// Decode `datagram` with `schema`: every message up to the first that
/// cannot be decoded, and what is left from there.
pub fn decode(datagram: &[u8], schema: &Schema) -> Decoded {
    let mut out = Decoded::default();
    let mut r = Reader { b: datagram, at: 0 };
    if datagram.is_empty() {
        out.rest = Some(Rest {
            offset: 0,
            header: None,
            stop: Stop::ShortHeader,
            what: "an empty datagram".into(),
            bytes: Vec::new(),
        });
        return out;
    }
    while r.at < datagram.len() {
        let start = r.at;
        let stop = |stop: Stop, header: Option<Header>, what: String| Rest {
            offset: start,
            header,
            stop,
            what,
            bytes: datagram[start..].to_vec(),
        };
        let (Some(id), Some(seq), Some(flags), Some(type_id)) = (r.u16(), r.u16(), r.u8(), r.u8())
        else {
            out.rest = Some(stop(
                Stop::ShortHeader,
                None,
                format!(
                    "{} bytes at offset {start}: a message header takes {HEADER}",
                    datagram.len() - start
                ),
            ));
            return out;
        };
        let header = Header {
            id,
            seq,
            flags,
            type_id,
        };
        if flags & !(ORDERED | RELIABLE) != 0 {
            out.rest = Some(stop(
                Stop::BadFlags,
                Some(header),
                format!("message {id} at offset {start}: flags {flags:#04x} (legume sets only 0x01 ordered and 0x02 reliable)"),
            ));
            return out;
        }
        let body = match type_id {
            ty::CONNECT_REQUEST => r.u8().map(|protocol| Body::ConnectRequest { protocol }),
            ty::CONNECT_REQUEST_REJECTED => Some(Body::ConnectRequestRejected),
            ty::CONNECT_REQUEST_ACCEPTED => Some(Body::ConnectRequestAccepted),
            ty::KEEP_ALIVE_REQUEST => r.u16().map(|id| Body::KeepAliveRequest { id }),
            ty::KEEP_ALIVE_RESPONSE => r.u16().map(|id| Body::KeepAliveResponse { id }),
            ty::DISCONNECTED => Some(Body::Disconnected),
            ty::MESSAGE_ACK => r.i32().map(|id| Body::MessageAck { id }),
            ty::PING => r.u16().map(|id| Body::Ping { id }),
            ty::PONG => r.u16().map(|id| Body::Pong { id }),
            t if t < super::USER_BASE => {
                out.rest = Some(stop(
                    Stop::UnknownSystem,
                    Some(header),
                    format!("message {id} at offset {start}: type {t} is not one of legume's (2-10) nor a user type (20+)"),
                ));
                return out;
            }
            t => match schema.get(t) {
                None => {
                    let why = if schema.is_empty() {
                        "no --schema".to_string()
                    } else {
                        "not in the schema".to_string()
                    };
                    out.rest = Some(stop(
                        Stop::Undescribed,
                        Some(header),
                        format!("message {id} at offset {start}: type {t} ({why})"),
                    ));
                    return out;
                }
                Some(def) => match user(&mut r, def) {
                    Ok(body) => Some(body),
                    Err((s, what)) => {
                        out.rest = Some(stop(
                            s,
                            Some(header),
                            format!("message {id} at offset {start}: {} {what}", def.name),
                        ));
                        return out;
                    }
                },
            },
        };
        let Some(body) = body else {
            out.rest = Some(stop(
                Stop::Truncated,
                Some(header),
                format!(
                    "message {id} at offset {start}: type {type_id} cut short ({} bytes after its header)",
                    datagram.len() - start - HEADER
                ),
            ));
            return out;
        };
        out.messages.push(Message {
            offset: start,
            len: r.at - start,
            header,
            body,
        });
    }
    out
}

fn user(r: &mut Reader, def: &MessageDef) -> Result<Body, (Stop, String)> {
    let mut fields = Vec::with_capacity(def.fields.len());
    let mut notes = Vec::new();
    for f in &def.fields {
        let short = || {
            (
                Stop::Truncated,
                format!("cut short at field {} ({})", f.name, f.ty),
            )
        };
        let v = match f.ty {
            FieldType::Int => FieldValue::Int(r.i32().ok_or_else(short)?),
            FieldType::Short => FieldValue::Short(r.u16().ok_or_else(short)?),
            FieldType::Float => FieldValue::Float(r.f64().ok_or_else(short)?),
            FieldType::Bool => FieldValue::Bool(r.u8().ok_or_else(short)? as i8),
            FieldType::UChar => FieldValue::UChar(r.u8().ok_or_else(short)?),
            FieldType::Str(n) => {
                let b = r.take(n).ok_or_else(short)?;
                let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
                let (s, bad) = utf8(&b[..end]);
                if bad {
                    notes.push(format!("{}: not valid UTF-8", f.name));
                }
                FieldValue::Str(s)
            }
            FieldType::VarStr => {
                let n = r.u16().ok_or_else(short)? as usize;
                let left = r.b.len() - r.at;
                let b = r.take(n).ok_or_else(|| {
                    (
                        Stop::VarstringOverrun,
                        format!(
                            "field {}: a varstring of {n} bytes, {left} left in the datagram",
                            f.name
                        ),
                    )
                })?;
                let (s, bad) = utf8(b);
                if bad {
                    notes.push(format!(
                        "{}: not valid UTF-8 as it arrived (legume writes a varstring's length in characters, not bytes: a non-ASCII text is cut)",
                        f.name
                    ));
                } else if !s.is_ascii() {
                    notes.push(format!(
                        "{}: non-ASCII: a legume sender counts characters, not bytes, so its end may be cut",
                        f.name
                    ));
                }
                FieldValue::Str(s)
            }
        };
        fields.push((f.name.clone(), v));
    }
    Ok(Body::User {
        name: def.name.clone(),
        fields,
        notes,
    })
}

/// `b` as text, and whether it was not valid UTF-8 (then lossy).
fn utf8(b: &[u8]) -> (String, bool) {
    match std::str::from_utf8(b) {
        Ok(s) => (s.to_string(), false),
        Err(_) => (String::from_utf8_lossy(b).into_owned(), true),
    }
}

/// Append one of legume's own messages to `out`.
pub fn put_system(out: &mut Vec<u8>, header: Header, body: &Body) {
    header.put(out);
    match body {
        Body::ConnectRequest { protocol } => out.push(*protocol),
        Body::KeepAliveRequest { id }
        | Body::KeepAliveResponse { id }
        | Body::Ping { id }
        | Body::Pong { id } => out.extend_from_slice(&id.to_be_bytes()),
        Body::MessageAck { id } => out.extend_from_slice(&id.to_be_bytes()),
        Body::ConnectRequestRejected
        | Body::ConnectRequestAccepted
        | Body::Disconnected
        | Body::User { .. } => {}
    }
}

/// The type id of one of legume's own messages.
pub fn system_type(body: &Body) -> Option<u8> {
    Some(match body {
        Body::ConnectRequest { .. } => ty::CONNECT_REQUEST,
        Body::ConnectRequestRejected => ty::CONNECT_REQUEST_REJECTED,
        Body::ConnectRequestAccepted => ty::CONNECT_REQUEST_ACCEPTED,
        Body::KeepAliveRequest { .. } => ty::KEEP_ALIVE_REQUEST,
        Body::KeepAliveResponse { .. } => ty::KEEP_ALIVE_RESPONSE,
        Body::Disconnected => ty::DISCONNECTED,
        Body::MessageAck { .. } => ty::MESSAGE_ACK,
        Body::Ping { .. } => ty::PING,
        Body::Pong { .. } => ty::PONG,
        Body::User { .. } => return None,
    })
}

/// One whole system message: `id`, no flags but `flags`.
pub fn system(id: u16, flags: u8, body: &Body) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    let type_id = system_type(body).unwrap_or(0);
    put_system(
        &mut out,
        Header {
            id,
            seq: 0,
            flags,
            type_id,
        },
        body,
    );
    out
}

/// One whole user message of `def` with `values` (in `def`'s order). A
/// varstring's length is its UTF-8 bytes (legume writes characters).
pub fn user_message(id: u16, flags: u8, def: &MessageDef, values: &[FieldValue]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(64);
    Header {
        id,
        seq: 0,
        flags,
        type_id: def.id,
    }
    .put(&mut out);
    for (f, v) in def.fields.iter().zip(values) {
        match (f.ty, v) {
            (FieldType::Int, FieldValue::Int(n)) => out.extend_from_slice(&n.to_be_bytes()),
            (FieldType::Short, FieldValue::Short(n)) => out.extend_from_slice(&n.to_be_bytes()),
            (FieldType::Float, FieldValue::Float(x)) => out.extend_from_slice(&x.to_be_bytes()),
            (FieldType::Bool, FieldValue::Bool(n)) => out.push(*n as u8),
            (FieldType::UChar, FieldValue::UChar(n)) => out.push(*n),
            (FieldType::Str(n), FieldValue::Str(s)) => {
                if s.len() > n {
                    return Err(format!("{}: {} bytes, string {n} holds {n}", f.name, s.len()));
                }
                out.extend_from_slice(s.as_bytes());
                out.resize(out.len() + n - s.len(), 0);
            }
            (FieldType::VarStr, FieldValue::Str(s)) => {
                let n = u16::try_from(s.len()).map_err(|_| format!("{}: too long", f.name))?;
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            (ty, v) => return Err(format!("{}: a {ty} cannot hold {v:?}", f.name)),
        }
    }
    if values.len() != def.fields.len() {
        return Err(format!(
            "{} has {} fields, {} given",
            def.name,
            def.fields.len(),
            values.len()
        ));
    }
    if out.len() > MTU {
        return Err(format!(
            "{} is {} bytes: over the {MTU}-byte datagram",
            def.name,
            out.len()
        ));
    }
    Ok(out)
}

/// Whole messages packed into datagrams of at most [`MTU`] bytes, in order
/// (a message over it goes alone, as it is).
pub fn pack<'a>(messages: impl IntoIterator<Item = &'a [u8]>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for m in messages {
        match out.last_mut() {
            Some(d) if d.len() + m.len() <= MTU => d.extend_from_slice(m),
            _ => out.push(m.to_vec()),
        }
    }
    out
}
