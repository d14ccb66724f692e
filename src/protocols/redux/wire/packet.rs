//! Pure server-side codec for roomtap's relay: client packets in, server
//! frames out. No I/O; tested from the captured frames.

use serde_json::value::RawValue;

use crate::scan::{Span, plain_str, rest_is_ws, value, walk};
use crate::protocols::redux::wire::envelope::Envelope;
pub use crate::protocols::redux::wire::envelope::{quote, transmit};

/// One packet a client sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `""`: a protocol v2 pong (clients answer the server's `""` ping).
    PongV2,
    /// `"#2"`: a protocol v1 pong.
    PongV1,
    /// `"#1"`: a v1 ping from a client (answered with `"#2"`).
    PingV1,
    /// `{"event":E,"data":D,"cid":N}`; `data` is raw JSON (None when absent).
    Event {
        event: &'a str,
        data: Option<&'a str>,
        cid: Option<u64>,
    },
    /// `{"rid":N,...}`: a reply to something the server asked (never, here).
    Reply { rid: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketError(pub String);

impl std::fmt::Display for PacketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decode one text frame into its packets (a JSON array is a batch).
pub fn decode(text: &str) -> Result<Vec<Packet<'_>>, PacketError> {
    decode_with(text, true)
}

/// [`decode`] without the hot path (serde only): the reference the
/// `relay_packet` fuzz target holds the hot path to.
#[doc(hidden)]
pub fn decode_reference(text: &str) -> Result<Vec<Packet<'_>>, PacketError> {
    decode_with(text, false)
}

fn decode_with(text: &str, fast: bool) -> Result<Vec<Packet<'_>>, PacketError> {
    match text {
        "" => return Ok(vec![Packet::PongV2]),
        "#2" => return Ok(vec![Packet::PongV1]),
        "#1" => return Ok(vec![Packet::PingV1]),
        _ => {}
    }
    if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text)
            .map_err(|e| PacketError(format!("batch is not a JSON array: {e}")))?;
        return items.into_iter().map(|i| packet(i.get(), fast)).collect();
    }
    packet(text, fast).map(|p| vec![p])
}

fn packet(text: &str, fast: bool) -> Result<Packet<'_>, PacketError> {
    if fast && let Some(p) = fast_packet(text) {
        return Ok(p);
    }
    // The event name borrowed: one with escapes fails (nothing routes such names).
    let p = Envelope::<&str>::parse(text)
        .map_err(|e| PacketError(format!("not a SocketCluster packet: {e}")))?;
    if let Some(rid) = p.rid {
        return Ok(Packet::Reply { rid });
    }
    match p.event {
        Some(event) => Ok(Packet::Event {
            event,
            data: p.data.map(RawValue::get),
            cid: p.cid,
        }),
        None => Err(PacketError("packet has neither `event` nor `rid`".into())),
    }
}

/// The hot path: `{"event":..,"data":..,"cid"?:..}` walked once, without
/// building the data. `None` defers to serde (which also explains errors).
fn fast_packet(text: &str) -> Option<Packet<'_>> {
    let b = text.as_bytes();
    let (mut event, mut data, mut cid) = (None, None, None);
    let end = walk(text, 0, |k, start| {
        let v: Span = value(b, start)?;
        // Anything else (a field twice included) is left to serde.
        match k {
            "event" if event.is_none() => event = Some(plain_str(text, v)?),
            "data" if data.is_none() => data = Some(v.of(text)),
            "cid" if cid.is_none() => cid = Some(v.of(text).parse::<u64>().ok()?),
            _ => return None,
        }
        Some(v.end)
    })?;
    if !rest_is_ws(text, end) {
        return None;
    }
    Some(Packet::Event {
        event: event?,
        data,
        cid,
    })
}

/// What the relay needs to know of an app message (`log` data).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AppFacts<'a> {
    pub instance_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub ty: Option<&'a str>,
}

/// Top-level string fields of an app message, borrowed (escaped values are
/// skipped: instance ids and names have none in practice).
pub fn app_facts(data: &str) -> AppFacts<'_> {
    let b = data.as_bytes();
    let mut f = AppFacts::default();
    let (mut has_inst, mut has_name, mut has_ty) = (false, false, false);
    let _ = walk(data, 0, |k, start| {
        // Apps send these before the large payload: once all three were
        // seen, stop rather than scan the payload again.
        if has_inst && has_name && has_ty {
            return None;
        }
        let v = value(b, start)?;
        match k {
            "instanceId" => (f.instance_id, has_inst) = (plain_str(data, v), true),
            "name" => (f.name, has_name) = (plain_str(data, v), true),
            "type" => (f.ty, has_ty) = (plain_str(data, v), true),
            _ => {}
        }
        Some(v.end)
    });
    f
}

/// What the relay needs to know of a monitor's command (`respond` data).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CommandFacts<'a> {
    pub ty: Option<&'a str>,
    pub instance_id: Option<&'a str>,
    /// `action.type` of a DISPATCH.
    pub lifted: Option<&'a str>,
}

pub fn command_facts(data: &str) -> CommandFacts<'_> {
    let b = data.as_bytes();
    let mut f = CommandFacts::default();
    let _ = walk(data, 0, |k, start| {
        let v = value(b, start)?;
        match k {
            "type" => f.ty = plain_str(data, v),
            "instanceId" => f.instance_id = plain_str(data, v),
            "action" if b[v.start] == b'{' => {
                let _ = walk(data, v.start, |k, start| {
                    let w = value(b, start)?;
                    if k == "type" {
                        f.lifted = plain_str(data, w);
                    }
                    Some(w.end)
                });
            }
            _ => {}
        }
        Some(v.end)
    });
    f
}

/// `{"rid":N,"data":D}` (or without data).
pub fn reply(rid: u64, data: Option<&str>) -> String {
    match data {
        Some(d) => format!(r#"{{"rid":{rid},"data":{d}}}"#),
        None => format!(r#"{{"rid":{rid}}}"#),
    }
}

/// `{"rid":N,"error":{"message":..,"name":..}}`
pub fn reply_error(rid: u64, name: &str, message: &str) -> String {
    format!(
        r#"{{"rid":{rid},"error":{{"message":{},"name":{}}}}}"#,
        quote(message),
        quote(name)
    )
}

/// The handshake reply, as socketcluster-server words it.
pub fn handshake_reply(rid: u64, socket_id: &str, ping_timeout_ms: u64) -> String {
    format!(
        r#"{{"rid":{rid},"data":{{"id":{},"pingTimeout":{ping_timeout_ms},"isAuthenticated":false}}}}"#,
        quote(socket_id)
    )
}

/// Delivery of `data` (raw JSON) on `channel` to a subscriber.
pub fn publish(channel: &str, data: &str) -> String {
    let mut s = String::with_capacity(data.len() + channel.len() + 40);
    s.push_str(r##"{"event":"#publish","data":{"channel":"##);
    s.push_str(&quote(channel));
    s.push_str(r#","data":"#);
    s.push_str(data);
    s.push_str("}}");
    s
}

/// `log-noid` delivery: the message wrapped with the sender's socket id.
pub fn wrap_noid(socket_id: &str, data: &str) -> String {
    format!(r#"{{"id":{},"data":{data}}}"#, quote(socket_id))
}

/// `{"id":..,"type":"DISCONNECTED"}`
pub fn disconnected(socket_id: &str) -> String {
    format!(r#"{{"id":{},"type":"DISCONNECTED"}}"#, quote(socket_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_client_packets() {
        assert_eq!(decode("").unwrap(), vec![Packet::PongV2]);
        assert_eq!(decode("#2").unwrap(), vec![Packet::PongV1]);
        assert_eq!(
            decode(r##"{"event":"#handshake","data":{"authToken":null},"cid":1}"##).unwrap(),
            vec![Packet::Event {
                event: "#handshake",
                data: Some(r#"{"authToken":null}"#),
                cid: Some(1)
            }]
        );
        assert_eq!(
            decode(r#"[{"event":"a","data":1},{"rid":3}]"#).unwrap(),
            vec![
                Packet::Event {
                    event: "a",
                    data: Some("1"),
                    cid: None
                },
                Packet::Reply { rid: 3 }
            ]
        );
        // Field order and whitespace do not matter (serde path).
        assert_eq!(
            decode(r#" { "cid" : 2 , "event" : "login", "data": "master", "x": 1 } "#).unwrap(),
            vec![Packet::Event {
                event: "login",
                data: Some(r#""master""#),
                cid: Some(2)
            }]
        );
    }

    #[test]
    fn bad_packets_are_errors() {
        for bad in ["{", "nope", "42", r#"{"data":1}"#, "[1", r#"[{"x":1}]"#] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    /// Found by the `relay_packet` fuzz target: the hot path took packets
    /// serde refuses (a field twice, non-JSON whitespace after the object,
    /// data that is not JSON), and the relay forwarded such data to the
    /// monitors as is.
    #[test]
    fn hot_path_refuses_what_serde_refuses() {
        for bad in [
            r#"{"event":"log","data":1,"data":2}"#,
            r#"{"event":"log","event":"x","data":1}"#,
            r#"{"event":"log","data":1,"cid":1,"cid":2}"#,
            "{\"event\":\"log\",\"data\":1}\u{a0}",
            r#"{"event":"log","data":{"a":[}}"#,
            r#"{"event":"log","data":tru}"#,
            r#"{"event":"log","data":"\q"}"#,
            r#"{"event":"log","data":01}"#,
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
        // An escaped key is the key it spells (serde reads it so too).
        assert_eq!(
            app_facts(r#"{"typ\u0065":"START","x\"":1,"instanceId":"i"}"#),
            AppFacts {
                instance_id: Some("i"),
                name: None,
                ty: Some("START")
            }
        );
    }

    #[test]
    fn facts_of_app_messages_and_commands() {
        let f = app_facts(
            r#"{"type":"ACTION","id":"s1","name":"counter","instanceId":"abc","payload":"{\"a\":1}"}"#,
        );
        assert_eq!(
            f,
            AppFacts {
                instance_id: Some("abc"),
                name: Some("counter"),
                ty: Some("ACTION")
            }
        );
        let c = command_facts(
            r#"{"type":"DISPATCH","action":{"type":"JUMP_TO_STATE","index":2},"instanceId":"m8"}"#,
        );
        assert_eq!(
            c,
            CommandFacts {
                ty: Some("DISPATCH"),
                instance_id: Some("m8"),
                lifted: Some("JUMP_TO_STATE")
            }
        );
        assert_eq!(command_facts(r#"{"type":"START"}"#).instance_id, None);
    }

    #[test]
    fn frames_as_the_node_relay_words_them() {
        // From captures/redux (§3 of the research note).
        assert_eq!(
            publish(
                "log",
                r#"{"id":"fPqOqdOidbLO9k8WAAAC","data":{"type":"STATE","name":"raw-app","instanceId":"inst-1","payload":"{\"x\":1}"}}"#
            ),
            r##"{"event":"#publish","data":{"channel":"log","data":{"id":"fPqOqdOidbLO9k8WAAAC","data":{"type":"STATE","name":"raw-app","instanceId":"inst-1","payload":"{\"x\":1}"}}}}"##
        );
        assert_eq!(
            wrap_noid("fPqOqdOidbLO9k8WAAAC", r#"{"type":"STATE"}"#),
            r#"{"id":"fPqOqdOidbLO9k8WAAAC","data":{"type":"STATE"}}"#
        );
        assert_eq!(
            disconnected("3NLBcxaOlQqcSW0pAAAB"),
            r#"{"id":"3NLBcxaOlQqcSW0pAAAB","type":"DISCONNECTED"}"#
        );
        assert_eq!(
            handshake_reply(1, "Up_24t8RyzhUb1e8AAAB", 30000),
            r#"{"rid":1,"data":{"id":"Up_24t8RyzhUb1e8AAAB","pingTimeout":30000,"isAuthenticated":false}}"#
        );
        assert_eq!(
            reply_error(
                5,
                "InvalidActionError",
                "Client publish feature is disabled"
            ),
            r#"{"rid":5,"error":{"message":"Client publish feature is disabled","name":"InvalidActionError"}}"#
        );
        assert_eq!(reply(3, None), r#"{"rid":3}"#);
        assert_eq!(reply(2, Some(r#""log""#)), r#"{"rid":2,"data":"log"}"#);
    }
}
