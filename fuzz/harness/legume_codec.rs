//! The legume codec on arbitrary bytes. The first byte says what the rest
//! is: a datagram decoded with the captures' schema (mode 0), with none
//! (1), or a TOML schema, a NUL, then a datagram decoded with it (2).
//! Decoding never panics; the messages it finds sit back to back from
//! offset 0 and what is left is the rest of the datagram; each message
//! (but an ordered one, or one whose text was not valid UTF-8) re-encodes
//! to its very bytes; one end of a connection takes any datagram in and
//! acks each message that asks for it. The `:` line parser never panics.

use roomtap::protocols::legume::client::command;
use roomtap::protocols::legume::wire::datagram::{self, Body, FieldValue};
use roomtap::protocols::legume::wire::reliable::Endpoint;
use roomtap::protocols::legume::wire::schema::Schema;

/// The research captures' Chat and Pos.
pub const SCHEMA: &str = include_str!("../../tests/fixtures/legume/captures.toml");

pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (schema, d) = match mode % 3 {
        0 => (Schema::parse(SCHEMA).expect("the schema reads"), rest),
        1 => (Schema::default(), rest),
        _ => {
            let cut = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let text = String::from_utf8_lossy(&rest[..cut]);
            let schema = match Schema::parse(&text) {
                Ok(s) => s,
                Err(e) => {
                    assert!(!e.is_empty(), "an error says what is wrong");
                    return;
                }
            };
            (schema, rest.get(cut + 1..).unwrap_or(&[]))
        }
    };
    let decoded = datagram::decode(d, &schema);
    let mut at = 0;
    for m in &decoded.messages {
        assert_eq!(m.offset, at, "messages sit back to back");
        at += m.len;
        let bytes = &d[m.offset..m.offset + m.len];
        if m.header.seq != 0 {
            continue;
        }
        let again = match &m.body {
            Body::User { fields, notes, .. } => {
                if !notes.is_empty() {
                    continue;
                }
                let def = schema
                    .get(m.header.type_id)
                    .expect("decoded by its schema entry");
                let vals: Vec<FieldValue> = fields.iter().map(|(_, v)| v.clone()).collect();
                datagram::user_message(m.header.id, m.header.flags, def, &vals)
                    .expect("what decoded encodes")
            }
            body => datagram::system(m.header.id, m.header.flags, body),
        };
        // A `string N` keeps what is not trailing NULs: padding is NULs.
        assert_eq!(again, bytes, "{m:?} re-encodes to its bytes");
    }
    match &decoded.rest {
        Some(r) => {
            assert_eq!(r.offset, at, "the rest starts where the messages end");
            assert_eq!(r.bytes, d[at..], "the rest is kept whole");
            assert!(!r.what.is_empty());
        }
        None => assert_eq!(at, d.len(), "every byte decoded"),
    }
    let asks = decoded
        .messages
        .iter()
        .filter(|m| m.header.wants_ack())
        .count()
        + decoded
            .rest
            .as_ref()
            .and_then(|r| r.header)
            .is_some_and(|h| h.wants_ack()) as usize;
    let mut end = Endpoint::new(Default::default(), 3, 4);
    let inbound = end.take_in(decoded);
    let acks: usize = inbound.acks.iter().map(|a| a.len() / 10).sum();
    assert_eq!(acks, asks, "every message that asks is acked");
    if let Ok(text) = std::str::from_utf8(d) {
        let _ = command::parse(text.lines().next().unwrap_or(""));
    }
}
