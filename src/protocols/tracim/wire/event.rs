//! `DaemonEvent`: `{"path": <sender's own socket>, "type": <event type>,
//! "data": <any, optional>}`, one JSON document per connection.
//!
//! Decoding accepts both encodings the real peers write (the Go daemon's
//! compact `json.Marshal` with `data` omitted when nil, the Python SDK's
//! spaced `json.dumps` with `"data": null`) and says in words what is wrong
//! with anything else. Encoding writes the Go daemon's form: fields in the
//! order `path, type, data`, `data` left out when there is none.

use serde_json::value::RawValue;

/// The event types both SDKs define (`daemonEvents.go`, `event.py`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    ClientAdd,
    ClientDelete,
    GetClients,
    GetAccountInfo,
    DoRequest,
    Ack,
    Ping,
    Pong,
    RequestResult,
    AccountInfo,
    Clients,
    TracimEvent,
    ClientAdded,
    ClientDeleted,
    /// A type neither SDK defines (kept as sent; the daemon acks it).
    Other(String),
}

const NAMES: [(Type, &str); 14] = [
    (Type::ClientAdd, "daemon_client_add"),
    (Type::ClientDelete, "daemon_client_delete"),
    (Type::GetClients, "daemon_get_clients"),
    (Type::GetAccountInfo, "daemon_get_account_info"),
    (Type::DoRequest, "daemon_do_request"),
    (Type::Ack, "daemon_ack"),
    (Type::Ping, "daemon_ping"),
    (Type::Pong, "daemon_pong"),
    (Type::RequestResult, "daemon_request_result"),
    (Type::AccountInfo, "daemon_account_info"),
    (Type::Clients, "daemon_clients"),
    (Type::TracimEvent, "daemon_tracim_event"),
    (Type::ClientAdded, "daemon_client_added"),
    (Type::ClientDeleted, "daemon_client_deleted"),
];

impl Type {
    pub fn parse(name: &str) -> Type {
        NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map_or_else(|| Type::Other(name.to_string()), |(t, _)| t.clone())
    }

    pub fn name(&self) -> &str {
        match self {
            Type::Other(n) => n,
            t => NAMES
                .iter()
                .find(|(k, _)| k == t)
                .map_or("?", |(_, n)| n),
        }
    }
}

/// One event as it came: its sender's path, its type, and its data as
/// JSON text (`None` when absent or `null`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonEvent {
    pub path: String,
    pub ty: Type,
    pub data: Option<String>,
}

/// What is wrong with a document, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(what: impl Into<String>) -> DecodeError {
    DecodeError(what.into())
}

/// The JSON type of a value, in words.
fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Decode one document (what one connection carried, read to its end).
pub fn decode(bytes: &[u8]) -> Result<DaemonEvent, DecodeError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| err(format!("not UTF-8 text ({e})")))?;
    if text.trim().is_empty() {
        return Err(err("an empty document"));
    }
    let fields: std::collections::BTreeMap<String, Box<RawValue>> = match serde_json::from_str(text)
    {
        Ok(m) => m,
        Err(e) => {
            return Err(match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => err(format!("not a JSON object but {}", kind_of(&v))),
                Err(_) if e.is_eof() => err(format!("cut off: {e}")),
                Err(_) => err(format!("not JSON: {e}")),
            });
        }
    };
    let string = |key: &str| -> Result<String, DecodeError> {
        let raw = fields
            .get(key)
            .ok_or_else(|| err(format!("no \"{key}\"")))?;
        match serde_json::from_str::<serde_json::Value>(raw.get()) {
            Ok(serde_json::Value::String(s)) => Ok(s),
            Ok(v) => Err(err(format!("\"{key}\" is {}, not a string", kind_of(&v)))),
            Err(e) => Err(err(format!("\"{key}\": {e}"))),
        }
    };
    let ty = Type::parse(&string("type")?);
    let path = string("path")?;
    let data = fields
        .get("data")
        .map(|r| r.get())
        .filter(|r| r.trim() != "null")
        .map(str::to_string);
    Ok(DaemonEvent { path, ty, data })
}

/// A JSON string literal as Go's `json.Marshal` writes it: `&`, `<`, `>`,
/// U+2028 and U+2029 as `\u` escapes (its HTML-safe form).
pub fn go_string(s: &str) -> String {
    let json = serde_json::Value::String(s.to_string()).to_string();
    if !json.contains(['&', '<', '>', '\u{2028}', '\u{2029}']) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '&' => out.push_str("\\u0026"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The document for an event, as the Go daemon writes it: `data` is JSON
/// text, left out when `None`.
pub fn encode(path: &str, ty: &Type, data: Option<&str>) -> String {
    let q = go_string;
    match data {
        Some(d) => format!(
            "{{\"path\":{},\"type\":{},\"data\":{d}}}",
            q(path),
            q(ty.name())
        ),
        None => format!("{{\"path\":{},\"type\":{}}}", q(path), q(ty.name())),
    }
}

/// A client of the daemon: its socket path and its pid, both strings (the
/// Go daemon skips a field whose type does not match).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Client {
    pub path: String,
    pub pid: String,
}

impl Client {
    /// `{"path","pid"}` as the daemon reads it: both strings, strictly.
    pub fn parse(data: Option<&str>) -> Result<Client, DecodeError> {
        let v: serde_json::Value = serde_json::from_str(data.ok_or_else(|| err("no data"))?)
            .map_err(|e| err(format!("data: {e}")))?;
        let field = |k: &str| -> Result<String, DecodeError> {
            match v.get(k) {
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(err(format!(
                    "\"{k}\" is {}: the daemon wants a string (Go skips the field)",
                    kind_of(other)
                ))),
                None => Err(err(format!("no \"{k}\" in data"))),
            }
        };
        if !v.is_object() {
            return Err(err(format!("data is {}, not an object", kind_of(&v))));
        }
        Ok(Client {
            path: field("path")?,
            pid: field("pid")?,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `daemon_clients`'s data: a list of clients.
pub fn parse_clients(data: Option<&str>) -> Result<Vec<Client>, DecodeError> {
    let v: Vec<Box<RawValue>> = serde_json::from_str(data.unwrap_or("[]"))
        .map_err(|e| err(format!("the client list: {e}")))?;
    v.iter().map(|c| Client::parse(Some(c.get()))).collect()
}

/// `daemon_account_info`'s user id (a string on the wire; a number is
/// taken too, and said to be one).
pub fn parse_user_id(data: Option<&str>) -> Result<String, DecodeError> {
    let v: serde_json::Value = serde_json::from_str(data.ok_or_else(|| err("no data"))?)
        .map_err(|e| err(format!("data: {e}")))?;
    match v.get("user_id") {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(err(format!("\"user_id\" is {}", kind_of(other)))),
        None => Err(err("no \"user_id\" in data")),
    }
}

/// `daemon_tracim_event`'s data: a JSON string holding the TLM's JSON text.
pub fn tlm_text(data: Option<&str>) -> Result<String, DecodeError> {
    let raw = data.ok_or_else(|| err("a Tracim event without data"))?;
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(v) => Err(err(format!(
            "a Tracim event's data is {}: the daemon sends the TLM as a JSON string",
            kind_of(&v)
        ))),
        Err(e) => Err(err(format!("data: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_decode_and_the_go_one_is_written() {
        let go = decode(br#"{"path":"/m.sock","type":"daemon_ping"}"#).unwrap();
        assert_eq!((go.path.as_str(), &go.ty, go.data), ("/m.sock", &Type::Ping, None));
        let py = decode(br#"{"path": "/c.sock", "type": "daemon_pong", "data": null}"#).unwrap();
        assert_eq!((py.ty, py.data), (Type::Pong, None));
        assert_eq!(
            encode("/m.sock", &Type::Ping, None),
            r#"{"path":"/m.sock","type":"daemon_ping"}"#
        );
        assert_eq!(
            encode("/m.sock", &Type::AccountInfo, Some(r#"{"user_id":"42"}"#)),
            r#"{"path":"/m.sock","type":"daemon_account_info","data":{"user_id":"42"}}"#
        );
        let other = decode(br#"{"type":"client_add","path":"p"}"#).unwrap();
        assert_eq!(other.ty, Type::Other("client_add".into()));
        assert_eq!(other.ty.name(), "client_add");
    }

    #[test]
    fn bad_documents_say_what_is_wrong() {
        let e = |b: &[u8]| decode(b).unwrap_err().0;
        assert!(e(b"").contains("empty"));
        assert!(e(b"hello").contains("not JSON"));
        assert!(e(br#"{"path":"p","type":"daemon_pi"#).contains("cut off"));
        assert!(e(b"[1,2]").contains("an array"));
        assert!(e(br#"{"path":"p"}"#).contains("no \"type\""));
        assert!(e(br#"{"path":1,"type":"daemon_ping"}"#).contains("\"path\" is a number"));
        assert!(e(b"\xff\xfe").contains("UTF-8"));
        let pid = Client::parse(Some(r#"{"path":"/c","pid":19411}"#)).unwrap_err().0;
        assert!(pid.contains("\"pid\" is a number"), "{pid}");
        assert!(tlm_text(Some(r#"{"event_id":1}"#)).unwrap_err().0.contains("an object"));
        assert_eq!(tlm_text(Some(r#""{\"a\":1}""#)).unwrap(), r#"{"a":1}"#);
    }

    #[test]
    fn typed_payloads() {
        assert_eq!(parse_user_id(Some(r#"{"user_id":"42"}"#)).unwrap(), "42");
        assert_eq!(parse_user_id(Some(r#"{"user_id":42}"#)).unwrap(), "42");
        let list = parse_clients(Some(r#"[{"path":"/a","pid":"1"},{"path":"/b","pid":"2"}]"#));
        assert_eq!(list.unwrap().len(), 2);
        for t in NAMES.iter().map(|(t, _)| t) {
            assert_eq!(&Type::parse(t.name()), t);
        }
    }
}
