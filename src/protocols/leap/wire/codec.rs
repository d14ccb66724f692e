//! Leap Edge frames: bytes ⇄ frames, pure (no I/O).
//!
//! Every message is `{"op": N, "d": …}` (any key order, `d` optional, a
//! trailing newline allowed: Go's encoder ends every frame with one). The
//! server sends text JSON, or binary zlib (RFC 1950) where each frame is
//! one complete stream; inflating is capped so that a small frame cannot
//! grow to gigabytes. A frame is decoded into a [`Frame`]; a dispatch's
//! event into an [`Event`]. Unknown ops and events are frames too (shown,
//! never dropped); what cannot be read is a [`DecodeError`] in words.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// Largest frame accepted, on the wire and after inflating.
pub const MAX_FRAME: usize = 1 << 20;

pub const OP_DISPATCH: i64 = 0;
pub const OP_HELLO: i64 = 1;
pub const OP_IDENTIFY: i64 = 2;
pub const OP_HEARTBEAT: i64 = 3;
pub const OP_HEARTBEAT_ACK: i64 = 4;

/// One Leap message.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// op 0: a service event (either direction).
    Dispatch(Dispatch),
    /// op 1: the server's first frame.
    Hello { heartbeat_interval: u64 },
    /// op 2: the client's credentials (a token is a secret: never shown).
    Identify {
        project_id: String,
        token: Option<String>,
    },
    /// op 3: either side; a server's `tag` is echoed by the client.
    Heartbeat { tag: Option<String> },
    /// op 4: the server's answer to a heartbeat.
    Ack {
        tag: Option<String>,
        latency: Option<u64>,
    },
    /// An op this roomtap does not know: kept whole, shown.
    Unknown { op: i64, d: Option<String> },
}

/// op 0's `d`: `{c, u, e, d}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    /// Channel id (`null` for connection-wide events).
    pub channel: Option<String>,
    /// Sent to this connection only.
    pub unicast: bool,
    /// The event name (`INIT`, `MESSAGE`, `SUBSCRIBE`…).
    pub event: String,
    /// The event's data as JSON text (`null` when absent).
    pub data: String,
}

/// Why bytes are not a Leap frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(s: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(s.into()))
}

/// Inflate one zlib stream, refusing more than `cap` bytes out (never
/// holding more than `cap + 1`). The inflater is reused per thread: a
/// fresh one costs more than a small frame.
pub fn inflate(bytes: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
    use flate2::{Decompress, FlushDecompress, Status};
    thread_local! {
        static Z: std::cell::RefCell<Decompress> = std::cell::RefCell::new(Decompress::new(true));
    }
    let too_big = || {
        err(format!(
            "zlib frame of {} B inflates past the {} B cap",
            bytes.len(),
            cap
        ))
    };
    Z.with(|z| {
        let mut z = z.borrow_mut();
        z.reset(true);
        let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).clamp(256, cap + 1));
        loop {
            let (seen_in, seen_out) = (z.total_in(), z.total_out());
            let input = bytes.get(seen_in as usize..).unwrap_or_default();
            let status = z
                .decompress_vec(input, &mut out, FlushDecompress::None)
                .map_err(|e| {
                    DecodeError(format!("zlib frame of {} B is not zlib: {e}", bytes.len()))
                })?;
            if out.len() > cap {
                return too_big();
            }
            if status == Status::StreamEnd {
                return Ok(out);
            }
            if out.len() == out.capacity() {
                if out.len() == cap + 1 {
                    return too_big();
                }
                let more = out.capacity().clamp(256, cap + 1 - out.len());
                out.reserve_exact(more);
            } else if z.total_in() == seen_in && z.total_out() == seen_out {
                return err(format!(
                    "zlib frame of {} B is not zlib: the stream is cut short",
                    bytes.len()
                ));
            }
        }
    })
}

/// Deflate `text` into one complete zlib stream (a server's binary frame).
pub fn deflate(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(text.as_bytes());
    z.finish().unwrap_or_default()
}

/// The JSON text of a wire frame: text as it is, binary inflated.
pub fn frame_text(bytes: &[u8], binary: bool) -> Result<std::borrow::Cow<'_, str>, DecodeError> {
    if bytes.len() > MAX_FRAME {
        return err(format!(
            "frame of {} B is over the {} B cap",
            bytes.len(),
            MAX_FRAME
        ));
    }
    if binary {
        let raw = inflate(bytes, MAX_FRAME)?;
        String::from_utf8(raw)
            .map(std::borrow::Cow::Owned)
            .map_err(|_| DecodeError("inflated frame is not UTF-8".into()))
    } else {
        std::str::from_utf8(bytes)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|_| DecodeError("text frame is not UTF-8".into()))
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    op: Option<Value>,
    #[serde(borrow)]
    d: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawDispatch<'a> {
    c: Option<String>,
    u: Option<bool>,
    e: Option<String>,
    #[serde(borrow)]
    d: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct RawHello {
    heartbeat_interval: Option<u64>,
}

#[derive(Deserialize, Default)]
struct RawIdentify {
    project_id: Option<String>,
    token: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawTag {
    tag: Option<String>,
    latency: Option<u64>,
}

fn de<'a, T: Deserialize<'a> + Default>(
    what: &str,
    d: Option<&'a RawValue>,
) -> Result<T, DecodeError> {
    match d {
        None => Ok(T::default()),
        Some(r) if r.get() == "null" => Ok(T::default()),
        Some(r) => object(what, r.get()),
    }
}

/// Read an object (serde would also read an array into a struct).
fn object<'a, T: Deserialize<'a>>(what: &str, text: &'a str) -> Result<T, DecodeError> {
    if !text.trim_start().starts_with('{') {
        return err(format!("{what}: not an object"));
    }
    serde_json::from_str(text).map_err(|e| DecodeError(format!("{what}: {e}")))
}

/// Decode one frame's JSON text.
pub fn decode(text: &str) -> Result<Frame, DecodeError> {
    let text = text.trim_end_matches(['\n', '\r']);
    if !text.trim_start().starts_with('{') {
        // serde would read an array as the struct's fields in order.
        return err(format!(
            "not JSON or not an object: {}",
            crate::text::sanitize_capped(text, 40)
        ));
    }
    let env: Envelope = serde_json::from_str(text).map_err(|e| {
        DecodeError(if text.trim_start().starts_with('{') {
            format!("not a Leap frame: {e}")
        } else {
            format!("not JSON or not an object: {e}")
        })
    })?;
    let op = match env.op {
        None => return err("frame has no op"),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(op) => op,
            None => return err(format!("op {n} is not an integer")),
        },
        Some(other) => return err(format!("op is not a number: {other}")),
    };
    match op {
        OP_DISPATCH => {
            let Some(d) = env.d.filter(|d| d.get() != "null") else {
                return err("dispatch without d");
            };
            let raw: RawDispatch = object("dispatch d", d.get())?;
            let Some(event) = raw.e else {
                return err("dispatch without an event name (e)");
            };
            Ok(Frame::Dispatch(Dispatch {
                channel: raw.c,
                unicast: raw.u.unwrap_or(false),
                event,
                data: raw
                    .d
                    .map_or_else(|| "null".to_string(), |r| r.get().to_string()),
            }))
        }
        OP_HELLO => {
            let h: RawHello = de("hello d", env.d)?;
            match h.heartbeat_interval {
                Some(ms) => Ok(Frame::Hello {
                    heartbeat_interval: ms,
                }),
                None => err("hello without heartbeat_interval"),
            }
        }
        OP_IDENTIFY => {
            let i: RawIdentify = de("identify d", env.d)?;
            Ok(Frame::Identify {
                project_id: i.project_id.unwrap_or_default(),
                token: i.token,
            })
        }
        OP_HEARTBEAT => {
            let t: RawTag = de("heartbeat d", env.d)?;
            Ok(Frame::Heartbeat { tag: t.tag })
        }
        OP_HEARTBEAT_ACK => {
            let t: RawTag = de("heartbeat ack d", env.d)?;
            Ok(Frame::Ack {
                tag: t.tag,
                latency: t.latency,
            })
        }
        op => Ok(Frame::Unknown {
            op,
            d: env.d.map(|d| d.get().to_string()),
        }),
    }
}

/// Decode a wire frame (text, or zlib binary).
pub fn decode_bytes(bytes: &[u8], binary: bool) -> Result<Frame, DecodeError> {
    decode(&frame_text(bytes, binary)?)
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn opt_q(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), q)
}

/// Encode a frame as the JS client and the server write it (insertion
/// order: `op` first). `data` of a dispatch must be JSON text.
pub fn encode(frame: &Frame) -> String {
    match frame {
        Frame::Dispatch(d) => format!(
            "{{\"op\":0,\"d\":{{\"c\":{},\"u\":{},\"e\":{},\"d\":{}}}}}",
            opt_q(d.channel.as_deref()),
            d.unicast,
            q(&d.event),
            if d.data.trim().is_empty() {
                "null"
            } else {
                &d.data
            }
        ),
        Frame::Hello { heartbeat_interval } => {
            format!("{{\"op\":1,\"d\":{{\"heartbeat_interval\":{heartbeat_interval}}}}}")
        }
        Frame::Identify { project_id, token } => match token {
            Some(t) => format!(
                "{{\"op\":2,\"d\":{{\"project_id\":{},\"token\":{}}}}}",
                q(project_id),
                q(t)
            ),
            None => format!("{{\"op\":2,\"d\":{{\"project_id\":{}}}}}", q(project_id)),
        },
        Frame::Heartbeat { tag: None } => "{\"op\":3}".to_string(),
        Frame::Heartbeat { tag: Some(t) } => format!("{{\"op\":3,\"d\":{{\"tag\":{}}}}}", q(t)),
        Frame::Ack { tag, latency } => {
            let mut parts = Vec::new();
            if let Some(t) = tag {
                parts.push(format!("\"tag\":{}", q(t)));
            }
            if let Some(l) = latency {
                parts.push(format!("\"latency\":{l}"));
            }
            format!("{{\"op\":4,\"d\":{{{}}}}}", parts.join(","))
        }
        Frame::Unknown { op, d: Some(d) } => format!("{{\"op\":{op},\"d\":{d}}}"),
        Frame::Unknown { op, d: None } => format!("{{\"op\":{op}}}"),
    }
}

/// A client's service event (`SUBSCRIBE`, `MESSAGE`…) as `@onehop/client`
/// writes it: `{"op":0,"d":{"e":…,"c":…,"d":…}}`.
pub fn client_event(event: &str, channel: Option<&str>, data: &str) -> String {
    format!(
        "{{\"op\":0,\"d\":{{\"e\":{},\"c\":{},\"d\":{}}}}}",
        q(event),
        opt_q(channel),
        if data.trim().is_empty() { "null" } else { data }
    )
}

// ---- dispatch events (server → client) ----

/// A channel as AVAILABLE and INIT describe it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Channel {
    pub id: String,
    #[serde(default)]
    pub project_id: Option<String>,
    /// private, public or unprotected.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub state: Option<Value>,
    #[serde(default)]
    pub capabilities: Option<Value>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// INIT's data.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Init {
    #[serde(default)]
    pub cid: Option<String>,
    #[serde(default)]
    pub connection_count: Option<u64>,
    /// project, token or noauth.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub channels: Vec<Channel>,
}

/// A pipe room (PIPE_ROOM_AVAILABLE / UPDATE).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct PipeRoom {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// A secret: masked wherever it is shown.
    #[serde(default)]
    pub join_token: Option<String>,
    /// live or offline.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub ingest_protocol: Option<String>,
    #[serde(default)]
    pub delivery_protocols: Vec<String>,
    #[serde(default)]
    pub ingest_region: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A dispatch's event, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Init(Init),
    Available(Channel),
    Unavailable {
        graceful: bool,
        error_code: Option<String>,
    },
    /// The new state, JSON text as it came (parsed once, by the store).
    StateUpdate {
        state: String,
    },
    TokenStateUpdate {
        state: String,
    },
    /// MESSAGE (on a channel) or DIRECT_MESSAGE (`channel` none).
    Message {
        event: String,
        /// JSON text of the payload.
        data: String,
    },
    PipeRoomAvailable {
        room: PipeRoom,
        /// Which delivery connections were offered (webrtc, llhls).
        connections: Vec<String>,
    },
    PipeRoomUpdate {
        room: PipeRoom,
        connections: Vec<String>,
    },
    PipeRoomUnavailable {
        join_token: Option<String>,
        graceful: bool,
        error_code: Option<String>,
    },
    /// An event this roomtap does not know (kept, shown).
    Unknown,
}

#[derive(Deserialize)]
struct RawAvailable {
    channel: Channel,
}

#[derive(Deserialize)]
struct RawUnavailable {
    #[serde(default)]
    graceful: Option<bool>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    join_token: Option<String>,
}

#[derive(Deserialize)]
struct RawState<'a> {
    #[serde(borrow)]
    state: &'a RawValue,
}

#[derive(Deserialize)]
struct RawMessage<'a> {
    e: Option<String>,
    #[serde(borrow, default)]
    d: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawPipe {
    pipe_room: PipeRoom,
    #[serde(default)]
    connection: Option<serde_json::Map<String, Value>>,
}

fn typed<'a, T: Deserialize<'a>>(e: &str, data: &'a str) -> Result<T, DecodeError> {
    object(&format!("{e} data"), data)
}

/// Read a server dispatch's event.
pub fn event(d: &Dispatch) -> Result<Event, DecodeError> {
    let data = d.data.as_str();
    let pipe = |data: &str| -> Result<(PipeRoom, Vec<String>), DecodeError> {
        let p: RawPipe = typed(&d.event, data)?;
        let conns = p
            .connection
            .map(|m| {
                m.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        Ok((p.pipe_room, conns))
    };
    Ok(match d.event.as_str() {
        "INIT" => Event::Init(typed(&d.event, data)?),
        "AVAILABLE" => Event::Available(typed::<RawAvailable>(&d.event, data)?.channel),
        "UNAVAILABLE" => {
            let u: RawUnavailable = typed(&d.event, data)?;
            Event::Unavailable {
                graceful: u.graceful.unwrap_or(false),
                error_code: u.error_code,
            }
        }
        "STATE_UPDATE" => Event::StateUpdate {
            state: typed::<RawState>(&d.event, data)?.state.get().to_string(),
        },
        "TOKEN_STATE_UPDATE" => Event::TokenStateUpdate {
            state: typed::<RawState>(&d.event, data)?.state.get().to_string(),
        },
        "MESSAGE" | "DIRECT_MESSAGE" => {
            let m: RawMessage = typed(&d.event, data)?;
            Event::Message {
                event: m
                    .e
                    .ok_or_else(|| DecodeError(format!("{} without an event name", d.event)))?,
                data: m.d.map_or_else(|| "null".into(), |r| r.get().to_string()),
            }
        }
        "PIPE_ROOM_AVAILABLE" => {
            let (room, connections) = pipe(data)?;
            Event::PipeRoomAvailable { room, connections }
        }
        "PIPE_ROOM_UPDATE" => {
            let (room, connections) = pipe(data)?;
            Event::PipeRoomUpdate { room, connections }
        }
        "PIPE_ROOM_UNAVAILABLE" => {
            let u: RawUnavailable = typed(&d.event, data)?;
            Event::PipeRoomUnavailable {
                join_token: u.join_token,
                graceful: u.graceful.unwrap_or(false),
                error_code: u.error_code,
            }
        }
        _ => Event::Unknown,
    })
}

/// A close code in words (leap-edge-js's map), and whether a client
/// should connect again.
pub fn close_code(code: u16) -> (&'static str, bool) {
    match code {
        4000 => ("unknown error", true),
        4001 => ("invalid auth", false),
        4002 => ("identify timeout", true),
        4003 => ("not authenticated", true),
        4004 => ("invalid opcode", true),
        4005 => ("invalid payload", true),
        4006 => ("bad route (redirected)", true),
        4007 => ("out of sync", true),
        1000 => ("normal close", true),
        1001 => ("going away", true),
        1005 => ("no status", true),
        1006 => ("abnormal close", true),
        1009 => ("message too big", true),
        1011 => ("server error", true),
        _ => ("unknown close code", true),
    }
}

/// Whether a 4006's reason is a URL roomtap may follow: ws or wss, with a
/// host, no control or space in it. The URL as the `url` crate writes it
/// (what [`redirect_allowed`] checks is what is dialled).
pub fn redirect_target(reason: &str) -> Result<String, String> {
    let r = reason.trim();
    let refused = || {
        format!(
            "4006 redirect to {:?} refused: not a ws:// or wss:// URL",
            crate::text::sanitize_capped(&crate::text::redact_url(r), 120)
        )
    };
    if r.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refused());
    }
    match url::Url::parse(r) {
        Ok(u) if matches!(u.scheme(), "ws" | "wss") && u.host().is_some() => Ok(u.into()),
        _ => Err(refused()),
    }
}

/// Registrable domains known to belong to one owner: a redirect may move
/// anywhere under the one the first URL is under (Hop's edges).
const KNOWN_DOMAINS: &[&str] = &["hop.io"];

/// Whether a 4006 may take the token from `origin` (the URL the user gave,
/// not one a redirect led to) to `target` (a URL [`redirect_target`]
/// accepted); `Err` says why not. Followed, unless `follow_any`, only:
///
/// - to loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, `localhost`):
///   the token stays on this machine; or
/// - to `origin`'s host itself (any port), or a host under it
///   (`leap.hop.io` → `edge-3.leap.hop.io`); or
/// - anywhere under a registrable domain roomtap knows has one owner
///   ([`KNOWN_DOMAINS`]: `hop.io`), when `origin` is under it too.
///
/// A sibling under `origin`'s parent domain is *not* followed in general:
/// without the public suffix list roomtap cannot tell `hop.io` (one owner)
/// from `co.uk`, `herokuapp.com` or `ngrok.io` (anyone's). IP addresses
/// match only themselves. And never, unless `follow_any`, from wss:// to
/// ws:// off loopback: the token would cross the network in clear.
pub fn redirect_allowed(origin: &str, target: &str, follow_any: bool) -> Result<(), String> {
    if follow_any {
        return Ok(());
    }
    let to = url::Url::parse(target).map_err(|e| format!("not a URL ({e})"))?;
    let Some(host) = to.host() else {
        return Err("no host".into());
    };
    if is_loopback(&host) {
        return Ok(());
    }
    let from = url::Url::parse(origin).ok();
    if from.as_ref().is_some_and(|f| f.scheme() == "wss") && to.scheme() == "ws" {
        return Err("it drops wss:// for ws://: the token would cross the network unencrypted".into());
    }
    let Some(home) = from.as_ref().and_then(url::Url::host) else {
        return Err(format!("{host} is not loopback"));
    };
    if same_owner(&home, &host) {
        Ok(())
    } else {
        Err(format!(
            "{host} is neither loopback nor {home} or a host under it"
        ))
    }
}

fn is_loopback(h: &url::Host<&str>) -> bool {
    match h {
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => {
            a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        url::Host::Domain(d) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
    }
}

/// `to` is `home`, under it, or under the same known domain.
fn same_owner(home: &url::Host<&str>, to: &url::Host<&str>) -> bool {
    match (home, to) {
        (url::Host::Domain(h), url::Host::Domain(t)) => {
            // The url crate lowercases (and punycodes) domains already.
            let (h, t) = (h.trim_end_matches('.'), t.trim_end_matches('.'));
            let under = |name: &str, domain: &str| {
                !domain.is_empty()
                    && (name == domain
                        || name
                            .strip_suffix(domain)
                            .is_some_and(|rest| rest.ends_with('.')))
            };
            under(t, h) || KNOWN_DOMAINS.iter().any(|k| under(h, k) && under(t, k))
        }
        (url::Host::Ipv4(a), url::Host::Ipv4(b)) => a == b,
        (url::Host::Ipv6(a), url::Host::Ipv6(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_key_order_trailing_newline_missing_d() {
        let a =
            decode("{\"d\":{\"c\":\"chan_1\",\"d\":null,\"e\":\"SUBSCRIBE\"},\"op\":0}\n").unwrap();
        let Frame::Dispatch(d) = a else { panic!() };
        assert_eq!(d.channel.as_deref(), Some("chan_1"));
        assert_eq!(d.event, "SUBSCRIBE");
        assert_eq!(d.data, "null");
        assert_eq!(
            decode("{\"op\":3}").unwrap(),
            Frame::Heartbeat { tag: None }
        );
        assert_eq!(
            decode("{\"op\":9,\"d\":{}}").unwrap(),
            Frame::Unknown {
                op: 9,
                d: Some("{}".into())
            }
        );
    }

    #[test]
    fn bad_frames_say_why() {
        for (text, word) in [
            ("{\"d\":{\"no\":\"op\"}}", "no op"),
            ("[1,2]", "not JSON or not an object"),
            ("nope", "not JSON"),
            ("{\"op\":\"0\"}", "not a number"),
            ("{\"op\":0,\"d\":5}", "dispatch d"),
            ("{\"op\":0}", "dispatch without d"),
            ("{\"op\":1,\"d\":{\"heartbeat_interval\":\"x\"}}", "hello d"),
            ("{\"op\":0,\"d\":{\"c\":1,\"e\":\"X\"}}", "dispatch d"),
            ("{\"op\":0,\"d\":[null,false,\"X\",null]}", "not an object"),
        ] {
            let e = decode(text).unwrap_err();
            assert!(e.0.contains(word), "{text}: {e}");
        }
    }

    #[test]
    fn zlib_is_capped_and_garbage_refused() {
        let text = "{\"op\":3}";
        assert_eq!(
            decode_bytes(&deflate(text), true).unwrap(),
            Frame::Heartbeat { tag: None }
        );
        let bomb = deflate(&" ".repeat(MAX_FRAME + 10));
        assert!(bomb.len() < 10_000);
        let e = decode_bytes(&bomb, true).unwrap_err();
        assert!(e.0.contains("cap"), "{e}");
        assert!(
            decode_bytes(b"\x78\x9cgarbage", true)
                .unwrap_err()
                .0
                .contains("not zlib")
        );
        assert!(
            decode_bytes(&vec![b' '; MAX_FRAME + 1], false)
                .unwrap_err()
                .0
                .contains("cap")
        );
    }

    #[test]
    fn encode_round_trips() {
        for f in [
            Frame::Hello {
                heartbeat_interval: 1000,
            },
            Frame::Identify {
                project_id: "p".into(),
                token: Some("t\"".into()),
            },
            Frame::Identify {
                project_id: "p".into(),
                token: None,
            },
            Frame::Heartbeat {
                tag: Some("x".into()),
            },
            Frame::Ack {
                tag: None,
                latency: Some(3),
            },
            Frame::Dispatch(Dispatch {
                channel: None,
                unicast: true,
                event: "DIRECT_MESSAGE".into(),
                data: "{\"e\":\"dm\",\"d\":{}}".into(),
            }),
        ] {
            assert_eq!(decode(&encode(&f)).unwrap(), f);
        }
    }

    #[test]
    fn close_codes_and_redirects() {
        assert_eq!(close_code(4001), ("invalid auth", false));
        assert!(close_code(4006).1);
        assert_eq!(redirect_target(" ws://h:1/ws ").unwrap(), "ws://h:1/ws");
        assert!(redirect_target("http://h/").is_err());
        assert!(redirect_target("ws://h/\u{1b}[2J").is_err());
        // What is checked is what is dialled: the url crate's reading.
        assert_eq!(redirect_target("WS://127.1:9/ws").unwrap(), "ws://127.0.0.1:9/ws");
        assert_eq!(
            redirect_target(r"ws://evil.example\@127.0.0.1/").unwrap(),
            "ws://evil.example/@127.0.0.1/"
        );
        assert!(redirect_target("ws://").is_err());
        assert!(redirect_target("ws://h/a b").is_err());
        let e = redirect_target("http://evil.example/?token=t0k3n").unwrap_err();
        assert!(e.contains("token=***") && !e.contains("t0k3n"), "{e}");
    }

    /// Where a 4006 may take the token, and why not.
    #[test]
    fn redirect_host_rule() {
        let ok = |from: &str, to: &str| redirect_allowed(from, to, false);
        let hop = "wss://leap.hop.io/ws?encoding=json";
        // Loopback, in any of its forms, from anywhere.
        for to in [
            "ws://127.0.0.1:9/ws",
            "ws://127.8.9.1/",
            "ws://[::1]:9/",
            "ws://[::ffff:127.0.0.1]:9/",
            "ws://localhost:9/",
            "ws://LOCALHOST./",
            "ws://2130706433:9/",
        ] {
            let to = redirect_target(to).unwrap();
            assert_eq!(ok(hop, &to), Ok(()), "{to}");
            assert_eq!(ok("ws://127.0.0.1:1/ws", &to), Ok(()), "{to}");
        }
        // The same host (any port), a host under it, under hop.io.
        for to in [
            "wss://leap.hop.io:8443/ws",
            "wss://edge-3.leap.hop.io/ws",
            "wss://a.b.leap.hop.io/ws",
            "wss://edge.hop.io/ws",
            "wss://hop.io/ws",
            "wss://Edge-3.Leap.Hop.IO./ws",
        ] {
            assert_eq!(ok(hop, &redirect_target(to).unwrap()), Ok(()), "{to}");
        }
        assert_eq!(ok("ws://edge.example/ws", "ws://x.edge.example/"), Ok(()));
        assert_eq!(ok("ws://10.0.0.5:1/", "ws://10.0.0.5:2/"), Ok(()));
        // Anywhere else: refused, in words.
        for (from, to, why) in [
            (hop, "wss://evil.example/ws", "evil.example is neither loopback nor leap.hop.io"),
            (hop, "wss://leap.hop.io.evil.example/", "neither"),
            (hop, "wss://evilleap.hop.io.example/", "neither"),
            (hop, "wss://hop.io.evil/", "neither"),
            (hop, "wss://xhop.io/", "neither"),
            ("ws://127.0.0.1:1/ws", "ws://evil.example/ws", "evil.example is neither"),
            ("ws://127.0.0.1:1/ws", "ws://0.0.0.0:9/ws", "0.0.0.0 is neither"),
            ("ws://127.0.0.1:1/ws", "ws://10.0.0.1/", "neither"),
            // Siblings under a parent that may be anyone's.
            ("wss://app.example.co.uk/", "wss://evil.co.uk/", "neither"),
            ("wss://abc.ngrok.io/", "wss://xyz.ngrok.io/", "neither"),
            ("wss://leap.example.com/", "wss://edge.example.com/", "neither"),
            // Up, not down.
            ("wss://edge.leap.example/", "wss://leap.example/", "neither"),
            ("ws://10.0.0.5/", "ws://10.0.0.6/", "neither"),
            ("ws://[2001:db8::1]/", "ws://[2001:db8::2]/", "neither"),
            // A downgrade, even to the same host.
            (hop, "ws://leap.hop.io/ws", "drops wss:// for ws://"),
            (hop, "ws://edge-3.leap.hop.io/ws", "unencrypted"),
        ] {
            let e = ok(from, to).unwrap_err();
            assert!(e.contains(why), "{from} → {to}: {e}");
            assert_eq!(redirect_allowed(from, to, true), Ok(()), "--leap-follow-any");
        }
        // ws → wss is fine; wss → ws to loopback too.
        assert_eq!(ok("ws://leap.example/", "wss://leap.example/"), Ok(()));
        assert_eq!(ok(hop, "ws://127.0.0.1:9/ws"), Ok(()));
    }
}
