//! The SocketCluster packet as both ends read it: the monitor source's
//! codec (`super::codec`) and roomtap's relay (`crate::protocols::redux::wire::packet`).
//! Both try their own scanner fast path first (`fast_publish`,
//! `fast_packet`) and come here for everything else.
//!
//! ```text
//! {"event":E,"data":D,"cid":N}                   RPC (a transmit has no cid)
//! {"rid":N,"data":D}  {"rid":N,"error":{..}}     reply
//! ```

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// One packet, its `data` and `error` kept as raw JSON.
///
/// `E` is how the event name is read: [`Name`] (borrowed unless it holds
/// escapes) on the monitor side; `&str` on the relay, where a name with
/// escapes fails to decode (nothing routes such names).
#[derive(Deserialize)]
#[serde(bound(deserialize = "E: Deserialize<'de>"))]
pub struct Envelope<'a, E = Name<'a>> {
    #[serde(default)]
    pub event: Option<E>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(default)]
    pub cid: Option<u64>,
    #[serde(default)]
    pub rid: Option<u64>,
    #[serde(borrow, default)]
    pub error: Option<&'a RawValue>,
}

/// An event name: borrowed from the frame unless it holds escapes.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Name<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl<'a, E: Deserialize<'a>> Envelope<'a, E> {
    /// `text` as one packet; the error is serde's words.
    pub fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A JSON string literal.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A transmit (no `cid`, no reply): `{"event":E,"data":D}`, `data` raw JSON.
pub fn transmit(event: &str, data: &str) -> String {
    format!(r#"{{"event":{},"data":{data}}}"#, quote(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_readings_of_the_event_name() {
        let p: Envelope<'_> =
            Envelope::parse(r#"{"event":"a\"b","data":{"x":1},"cid":3}"#).unwrap();
        assert_eq!(p.event.unwrap().0, "a\"b");
        assert_eq!(p.data.unwrap().get(), r#"{"x":1}"#);
        assert_eq!(p.cid, Some(3));
        let p: Envelope<'_> = Envelope::parse(r#"{"event":"plain"}"#).unwrap();
        assert!(matches!(p.event.unwrap().0, Cow::Borrowed("plain")));
        // The relay's reading: borrowed only.
        assert!(Envelope::<&str>::parse(r#"{"event":"a\"b"}"#).is_err());
        let p = Envelope::<&str>::parse(r#"{"rid":2,"error":{"message":"m"}}"#).unwrap();
        assert_eq!((p.rid, p.event), (Some(2), None));
        assert_eq!(p.error.unwrap().get(), r#"{"message":"m"}"#);
    }

    #[test]
    fn transmit_is_byte_exact() {
        assert_eq!(
            transmit("respond", r#"{"type":"START"}"#),
            r#"{"event":"respond","data":{"type":"START"}}"#
        );
        assert_eq!(quote("a\"b"), r#""a\"b""#);
    }
}
