//! MeshAgent room protocol, pure: binary packets ⇄ messages, packed
//! messages (JSON header + payload), content objects and error codes.
//!
//! ```text
//! header packet: u64 BE message id | u32 BE 0 | u32 BE packet count | UTF-8 type
//! data packet:   u64 BE message id | u32 BE n (1..=count)  | ≤ 1024 data bytes
//! data:          u64 BE json length | JSON object | optional binary payload
//! ```
//! Nothing declared is trusted before the bytes arrive: a message grows as
//! its packets come, up to a cap.

use serde_json::{Value, json};

/// Bytes of data per data packet (what every sender uses).
pub const CHUNK: usize = 1024;
/// Default cap on one message's data.
pub const DEFAULT_MAX_MESSAGE: usize = 64 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub String);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(s: impl Into<String>) -> Result<T, CodecError> {
    Err(CodecError(s.into()))
}

/// One logical message: id, type and its raw data (a packed message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: u64,
    pub kind: String,
    pub data: Vec<u8>,
}

/// The packets (binary WebSocket frames) of a message, in order.
pub fn encode(id: u64, kind: &str, data: &[u8]) -> Vec<Vec<u8>> {
    let count = data.len().div_ceil(CHUNK);
    let mut out = Vec::with_capacity(count + 1);
    let mut head = Vec::with_capacity(16 + kind.len());
    head.extend_from_slice(&id.to_be_bytes());
    head.extend_from_slice(&0u32.to_be_bytes());
    head.extend_from_slice(&(count as u32).to_be_bytes());
    head.extend_from_slice(kind.as_bytes());
    out.push(head);
    for (i, chunk) in data.chunks(CHUNK).enumerate() {
        let mut p = Vec::with_capacity(12 + chunk.len());
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&((i + 1) as u32).to_be_bytes());
        p.extend_from_slice(chunk);
        out.push(p);
    }
    out
}

/// `u64 BE json length | JSON | payload`.
pub fn pack(json: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + json.len() + payload.len());
    v.extend_from_slice(&(json.len() as u64).to_be_bytes());
    v.extend_from_slice(json.as_bytes());
    v.extend_from_slice(payload);
    v
}

/// The JSON header (an object; Python's `__meshagent__` trace key removed)
/// and the payload of a packed message.
pub fn unpack(data: &[u8]) -> Result<(Value, &[u8]), CodecError> {
    if data.is_empty() {
        // Some one-way messages carry nothing at all.
        return Ok((json!({}), &[]));
    }
    if data.len() < 8 {
        return err(format!(
            "packed message of {} bytes is shorter than its 8-byte length",
            data.len()
        ));
    }
    let len = u64::from_be_bytes(data[..8].try_into().unwrap_or_default());
    let rest = &data[8..];
    if len > rest.len() as u64 {
        return err(format!(
            "packed message declares {len} bytes of JSON but only {} follow",
            rest.len()
        ));
    }
    let (j, payload) = rest.split_at(len as usize);
    let mut v: Value = serde_json::from_slice(j)
        .map_err(|e| CodecError(format!("message JSON does not parse: {e}")))?;
    let Some(o) = v.as_object_mut() else {
        return err(format!("message JSON is {}, not an object", kind_of(&v)));
    };
    o.remove("__meshagent__");
    Ok((v, payload))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A message being received.
#[derive(Debug)]
struct Partial {
    id: u64,
    kind: String,
    count: u32,
    next: u32,
    data: Vec<u8>,
}

/// Reassembles packets into messages. Errors are reported and the stream
/// resynchronises on the next header packet, as the real clients do.
#[derive(Debug)]
pub struct Assembler {
    current: Option<Partial>,
    /// Skipping data packets until the next header (after an error).
    skipping: bool,
    max: usize,
}

impl Assembler {
    pub fn new(max_message: usize) -> Self {
        Self {
            current: None,
            skipping: false,
            max: max_message,
        }
    }

    /// Whether a message is started and not complete yet.
    pub fn partial(&self) -> bool {
        self.current.is_some()
    }

    /// One binary frame. `Ok(Some)` when it completed a message. When a
    /// frame both reports an error (an interrupted message) and completes
    /// a new one, use [`Assembler::feed`] to get both.
    pub fn push(&mut self, frame: &[u8]) -> Result<Option<Message>, CodecError> {
        match self.feed(frame) {
            (Some(e), _) => Err(e),
            (None, m) => Ok(m),
        }
    }

    /// One binary frame: an error to report, and/or a completed message.
    pub fn feed(&mut self, frame: &[u8]) -> (Option<CodecError>, Option<Message>) {
        match self.data(frame) {
            Ok(m) => (None, m),
            Err(Interrupted { error, message }) => (Some(error), message),
        }
    }

    fn data(&mut self, frame: &[u8]) -> Result<Option<Message>, Interrupted> {
        if frame.len() < 12 {
            self.current = None;
            self.skipping = true;
            return fail(format!(
                "packet of {} bytes is shorter than its 12-byte header",
                frame.len()
            ));
        }
        let id = u64::from_be_bytes(frame[..8].try_into().unwrap_or_default());
        let n = u32::from_be_bytes(frame[8..12].try_into().unwrap_or_default());
        if n == 0 {
            return self.header(id, frame);
        }
        if self.skipping {
            return Ok(None);
        }
        let Some(cur) = self.current.as_mut() else {
            self.skipping = true;
            return fail(format!(
                "data packet {n} of message {id} with no message started"
            ));
        };
        if cur.id != id || cur.next != n {
            let want = (cur.id, cur.next);
            self.current = None;
            self.skipping = true;
            return fail(format!(
                "out of order: got packet {n} of message {id}, expected packet {} of message {}; message dropped",
                want.1, want.0
            ));
        }
        let body = &frame[12..];
        if cur.data.len() + body.len() > self.max {
            let kind = cur.kind.clone();
            self.current = None;
            self.skipping = true;
            return fail(format!(
                "message {id} ({kind}) grew over the {} byte limit; dropped",
                self.max
            ));
        }
        cur.data.extend_from_slice(body);
        cur.next += 1;
        if cur.next > cur.count {
            return Ok(self.current.take().map(|p| Message {
                id: p.id,
                kind: p.kind,
                data: p.data,
            }));
        }
        Ok(None)
    }

    fn header(&mut self, id: u64, frame: &[u8]) -> Result<Option<Message>, Interrupted> {
        let interrupted = self.current.take().map(|p| {
            CodecError(format!(
                "message {} ({}) interrupted after {} of {} packets; dropped",
                p.id,
                p.kind,
                p.next - 1,
                p.count
            ))
        });
        self.skipping = false;
        let bad = |me: &mut Self, why: String| {
            me.skipping = true;
            // An interruption is reported first; this packet's own problem
            // is in the same entry.
            Err(Interrupted {
                error: match &interrupted {
                    Some(i) => CodecError(format!("{i}; then {why}")),
                    None => CodecError(why),
                },
                message: None,
            })
        };
        if frame.len() < 16 {
            return bad(
                self,
                format!("header packet of {} bytes is shorter than 16", frame.len()),
            );
        }
        let count = u32::from_be_bytes(frame[12..16].try_into().unwrap_or_default());
        let kind = match std::str::from_utf8(&frame[16..]) {
            Ok(k) if !k.is_empty() => k.to_string(),
            Ok(_) => return bad(self, format!("message {id} has an empty type")),
            Err(_) => return bad(self, format!("message {id} type is not UTF-8")),
        };
        if (count as u64).saturating_sub(1) * CHUNK as u64 > self.max as u64 {
            return bad(
                self,
                format!(
                    "message {id} ({kind}) declares {count} packets, over the {} byte limit; dropped",
                    self.max
                ),
            );
        }
        let done = if count == 0 {
            Some(Message {
                id,
                kind,
                data: Vec::new(),
            })
        } else {
            self.current = Some(Partial {
                id,
                kind,
                count,
                next: 1,
                // Grows as bytes arrive: the declared count is not trusted.
                data: Vec::new(),
            });
            None
        };
        match interrupted {
            Some(error) => Err(Interrupted {
                error,
                message: done,
            }),
            None => Ok(done),
        }
    }
}

/// An error, and possibly a message completed by the same packet.
struct Interrupted {
    error: CodecError,
    message: Option<Message>,
}

fn fail<T>(s: String) -> Result<T, Interrupted> {
    Err(Interrupted {
        error: CodecError(s),
        message: None,
    })
}

/// A content object (`__response__` bodies, tool arguments, stream chunks).
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Empty,
    Json(Value),
    Text(String),
    Error {
        text: String,
        code: Option<i64>,
    },
    Binary {
        headers: Value,
        payload: Vec<u8>,
    },
    File {
        name: String,
        mime_type: String,
        payload: Vec<u8>,
    },
    Link {
        name: String,
        url: String,
    },
    Control {
        method: String,
        status_code: Option<i64>,
        message: Option<String>,
    },
    Other {
        kind: String,
        json: Value,
    },
}

impl Content {
    pub fn from_parts(header: &Value, payload: &[u8]) -> Content {
        let s = |k: &str| {
            header
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        match header.get("type").and_then(Value::as_str).unwrap_or("") {
            "empty" => Content::Empty,
            "json" => Content::Json(header.get("json").cloned().unwrap_or(Value::Null)),
            "text" => Content::Text(s("text")),
            "error" => Content::Error {
                text: s("text"),
                code: header.get("code").and_then(Value::as_i64),
            },
            "binary" => Content::Binary {
                headers: header.get("headers").cloned().unwrap_or(json!({})),
                payload: payload.to_vec(),
            },
            "file" => Content::File {
                name: s("name"),
                mime_type: s("mime_type"),
                payload: payload.to_vec(),
            },
            "link" => Content::Link {
                name: s("name"),
                url: s("url"),
            },
            "control" => Content::Control {
                method: s("method"),
                status_code: header.get("status_code").and_then(Value::as_i64),
                message: header
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
            other => Content::Other {
                kind: other.to_string(),
                json: header.clone(),
            },
        }
    }
}

/// Words for a MeshAgent error code (Python `ErrorCode`), with a hint where
/// a user can act on it.
pub fn error_words(code: i64) -> &'static str {
    match code {
        1001 => "permission denied: does the token carry the developer grant?",
        1002 => "invalid request",
        1003 => "not found",
        1004 => "already exists",
        1005 => "conflict",
        1006 => "invalid state",
        1007 => "dependency missing",
        1008 => "operation failed",
        1009 => "timeout",
        1100 => "unexpected response type",
        2000..=2999 => "memory error",
        3000..=3999 => "storage error",
        4000..=4999 => "sync error",
        5000..=5999 => "queue error",
        6001 => "container error",
        7000..=7999 => "service error",
        _ => "error",
    }
}

/// `"text (code N: words)"`.
pub fn describe_error(text: &str, code: Option<i64>) -> String {
    match code {
        Some(c) => format!("{text} (code {c}: {})", error_words(c)),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(kind: &str, data: &[u8]) -> Message {
        let mut a = Assembler::new(DEFAULT_MAX_MESSAGE);
        let mut got = None;
        for p in encode(7, kind, data) {
            if let Some(m) = a.push(&p).unwrap() {
                assert!(got.is_none());
                got = Some(m);
            }
        }
        got.unwrap()
    }

    #[test]
    fn messages_split_into_1024_byte_packets_and_back() {
        for len in [0usize, 1, 1023, 1024, 1025, 3000, 4096] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let packets = encode(7, "developer.log", &data);
            assert_eq!(packets.len(), 1 + len.div_ceil(CHUNK), "{len}");
            assert!(packets[1..].iter().all(|p| p.len() <= 12 + CHUNK));
            let m = roundtrip("developer.log", &data);
            assert_eq!((m.id, m.kind.as_str(), m.data), (7, "developer.log", data));
        }
    }

    #[test]
    fn canonical_watch_frames() {
        // research note §5a: developer.watch, id 1, `{}`.
        let p = encode(1, "developer.watch", &pack("{}", &[]));
        assert_eq!(
            p[0],
            b"\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x01developer.watch".to_vec()
        );
        assert_eq!(
            p[1],
            b"\0\0\0\0\0\0\0\x01\0\0\0\x01\0\0\0\0\0\0\0\x02{}".to_vec()
        );
    }

    #[test]
    fn bad_packets_are_errors_and_the_stream_resyncs() {
        let mut a = Assembler::new(4096);
        // A data packet with no header: error, then skipped until a header.
        let data = pack(r#"{"a":1}"#, b"");
        let ps = encode(3, "x", &data);
        assert!(a.push(&ps[1]).is_err());
        assert_eq!(a.push(&ps[1]), Ok(None), "skipped: already reported");
        assert!(a.push(b"short").is_err());
        // Out of order: packet 2 first.
        let big = vec![b'x'; 3000];
        let ps = encode(4, "y", &big);
        assert_eq!(a.push(&ps[0]), Ok(None));
        assert!(a.push(&ps[2]).unwrap_err().0.contains("out of order"));
        assert_eq!(a.push(&ps[3]), Ok(None), "skipped until the next header");
        // A whole good message afterwards comes through.
        let ps = encode(5, "z", &data);
        assert_eq!(a.push(&ps[0]), Ok(None));
        assert_eq!(a.push(&ps[1]).unwrap().unwrap().kind, "z");
        // A header cutting a message short: reported, and the new (empty)
        // message it starts is not lost.
        let ps = encode(6, "long", &big);
        assert_eq!(a.push(&ps[0]), Ok(None));
        assert_eq!(a.push(&ps[1]), Ok(None));
        let (e, m) = a.feed(&encode(7, "room.status", &[])[0]);
        assert!(e.unwrap().0.contains("interrupted after 1 of 3"));
        assert_eq!(m.unwrap().kind, "room.status");
    }

    #[test]
    fn declared_sizes_are_not_trusted() {
        let mut a = Assembler::new(4096);
        // A header claiming 4 billion packets: refused without allocating.
        let mut h = 9u64.to_be_bytes().to_vec();
        h.extend_from_slice(&0u32.to_be_bytes());
        h.extend_from_slice(&u32::MAX.to_be_bytes());
        h.extend_from_slice(b"huge");
        assert!(a.push(&h).unwrap_err().0.contains("limit"));
        // Packets bigger than 1024 that add up over the cap.
        let mut h = 10u64.to_be_bytes().to_vec();
        h.extend_from_slice(&0u32.to_be_bytes());
        h.extend_from_slice(&3u32.to_be_bytes());
        h.extend_from_slice(b"fat");
        assert_eq!(a.push(&h), Ok(None));
        let mut d = 10u64.to_be_bytes().to_vec();
        d.extend_from_slice(&1u32.to_be_bytes());
        d.extend(std::iter::repeat_n(b'x', 5000));
        assert!(a.push(&d).unwrap_err().0.contains("limit"));
        // A packed message whose JSON length lies.
        let mut lie = (1u64 << 40).to_be_bytes().to_vec();
        lie.extend_from_slice(b"{}");
        assert!(unpack(&lie).unwrap_err().0.contains("declares"));
    }

    #[test]
    fn unpack_checks_the_json() {
        assert_eq!(
            unpack(&pack(r#"{"a":1,"__meshagent__":{"v":1}}"#, b"PAY")).unwrap(),
            (json!({"a": 1}), &b"PAY"[..])
        );
        assert!(
            unpack(&pack("[1]", b""))
                .unwrap_err()
                .0
                .contains("an array")
        );
        assert!(unpack(&pack("{", b"")).is_err());
        assert_eq!(unpack(&[]).unwrap().0, json!({}));
    }

    #[test]
    fn contents_and_error_words() {
        let c = Content::from_parts(&json!({"type": "error", "text": "no", "code": 1001}), b"");
        assert_eq!(
            c,
            Content::Error {
                text: "no".into(),
                code: Some(1001)
            }
        );
        assert!(describe_error("no", Some(1001)).contains("developer grant"));
        let c = Content::from_parts(
            &json!({"type": "binary", "headers": {"type": "otel.log"}}),
            b"{}",
        );
        assert!(matches!(c, Content::Binary { .. }));
    }
}
