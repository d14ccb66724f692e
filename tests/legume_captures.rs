//! The legume codec against every datagram captured between the real
//! legume 0.5 Server and Client (`tests/fixtures/captures/legume/`): each
//! decodes to the messages the capture's own decoder saw, field by field,
//! with nothing left over, and re-encodes to the same bytes (but where
//! legume's encoding is wrong: a varstring's length in characters).

use roomtap::protocols::legume::wire::datagram::{self, Body, FieldValue, Stop};
use roomtap::protocols::legume::wire::schema::Schema;
use serde_json::Value;

const SCHEMA: &str = include_str!("fixtures/legume/captures.toml");

/// Every captured datagram: (file, its record).
fn datagrams() -> Vec<(String, Value)> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures/legume");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if v.get("hex").is_some() {
                out.push((name.clone(), v));
            }
        }
    }
    assert!(out.len() > 100, "{} datagrams", out.len());
    out
}

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_captured_datagram_decodes_as_legume_decoded_it() {
    let schema = Schema::parse(SCHEMA).unwrap();
    let mut seen_types = std::collections::BTreeSet::new();
    for (file, rec) in datagrams() {
        let d = bytes(rec["hex"].as_str().unwrap());
        assert_eq!(d.len() as u64, rec["len"].as_u64().unwrap());
        let got = datagram::decode(&d, &schema);
        assert!(got.rest.is_none(), "{file}: {:?}", got.rest);
        let want = rec["decoded"].as_array().unwrap();
        assert_eq!(got.messages.len(), want.len(), "{file}: {rec}");
        for (m, w) in got.messages.iter().zip(want) {
            let ctx = format!("{file}: {w}");
            assert_eq!(
                m.header.id as u64,
                w["message_id"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_eq!(
                m.header.seq as u64,
                w["inorder_seq"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_eq!(m.header.ordered(), w["ordered"] == true, "{ctx}");
            assert_eq!(m.header.flags & 2 != 0, w["reliable"] == true, "{ctx}");
            assert_eq!(
                m.header.type_id as u64,
                w["type_id"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_eq!(m.body.name(), w["type"].as_str().unwrap(), "{ctx}");
            seen_types.insert(m.body.name().to_string());
            // Field by field, as legume's own decoder read them.
            let values = w["values"].as_object().unwrap();
            match &m.body {
                Body::User { fields, .. } => {
                    assert_eq!(fields.len(), values.len(), "{ctx}");
                    for (k, v) in fields {
                        assert_eq!(&v.to_json(), &values[k], "{ctx}: {k}");
                    }
                }
                Body::ConnectRequest { protocol } => assert_eq!(values["protocol"], *protocol),
                Body::MessageAck { id } => assert_eq!(values["message_to_ack"], *id),
                Body::Ping { id }
                | Body::Pong { id }
                | Body::KeepAliveRequest { id }
                | Body::KeepAliveResponse { id } => assert_eq!(values["id"], *id),
                _ => assert!(values.is_empty(), "{ctx}"),
            }
            // Its bytes again (an ordered message's sequence aside).
            let own = &d[m.offset..m.offset + m.len];
            let again = match &m.body {
                Body::User { fields, notes, .. } => {
                    let def = schema.get(m.header.type_id).unwrap();
                    let vals: Vec<FieldValue> = fields.iter().map(|(_, v)| v.clone()).collect();
                    let e =
                        datagram::user_message(m.header.id, m.header.flags, def, &vals).unwrap();
                    if !notes.is_empty() {
                        // legume cut a non-ASCII varstring: roomtap writes
                        // it whole, so its bytes differ, and the note says so.
                        assert!(
                            notes[0].contains("characters, not bytes"),
                            "{ctx}: {notes:?}"
                        );
                        continue;
                    }
                    e
                }
                body => datagram::system(m.header.id, m.header.flags, body),
            };
            if m.header.seq == 0 {
                assert_eq!(again, own, "{ctx}");
            }
        }
    }
    for t in [
        "ConnectRequest",
        "ConnectRequestAccepted",
        "ConnectRequestRejected",
        "KeepAliveRequest",
        "KeepAliveResponse",
        "Disconnected",
        "MessageAck",
        "Ping",
        "Pong",
        "Chat",
    ] {
        assert!(seen_types.contains(t), "no captured {t}: {seen_types:?}");
    }
}

#[test]
fn what_legume_loses_is_kept_and_said() {
    let all = datagrams();
    let find = |file: &str, f: &dyn Fn(&Value) -> bool| {
        all.iter()
            .find(|(n, v)| n == file && f(v))
            .map(|(_, v)| bytes(v["hex"].as_str().unwrap()))
            .unwrap()
    };
    // The Chat the server had no class for (legume raised MessageError and
    // lost the datagram): without a schema, its type, offset and bytes.
    let d = find("unknowntype.jsonl", &|v| v["len"] == 49);
    let got = datagram::decode(&d, &Schema::default());
    assert!(got.messages.is_empty());
    let rest = got.rest.unwrap();
    assert_eq!(
        (rest.stop, rest.offset, rest.bytes.len()),
        (Stop::Undescribed, 0, 49)
    );
    let h = rest.header.unwrap();
    assert_eq!((h.id, h.type_id), (3, 20));
    assert!(rest.what.contains("type 20 (no --schema)"), "{}", rest.what);

    // legume's varstring length in characters: "héllo" arrived as "héll";
    // "é" as a lone 0xc3, which legume's receiver could not decode.
    let schema = Schema::parse(SCHEMA).unwrap();
    let text_of = |d: &[u8]| match &datagram::decode(d, &schema).messages[0].body {
        Body::User { fields, notes, .. } => (fields[1].1.clone(), notes.clone()),
        b => panic!("{b:?}"),
    };
    let (t, notes) = text_of(&find("varstring.jsonl", &|v| {
        v["len"] == 37 && v["dir"] == "c2s"
    }));
    assert_eq!(t, FieldValue::Str("héll".into()));
    assert!(notes[0].contains("non-ASCII"), "{notes:?}");
    let (t, notes) = text_of(&find("varstring.jsonl", &|v| v["len"] == 33));
    assert_eq!(t, FieldValue::Str("\u{fffd}".into()));
    assert!(notes[0].contains("not valid UTF-8"), "{notes:?}");

    // The id legume could not send (65 536): roomtap's ids wrap.
    let d = find("overflow.jsonl", &|v| v["len"] == 36);
    assert_eq!(datagram::decode(&d, &schema).messages[0].header.id, 65_535);

    // Cut anywhere, each captured Chat says where and why, and keeps the
    // bytes from there.
    let d = find("basic.jsonl", &|v| v["len"] == 37);
    for cut in 1..d.len() {
        let got = datagram::decode(&d[..cut], &schema);
        let rest = got.rest.unwrap_or_else(|| panic!("cut at {cut}"));
        assert_eq!(rest.offset, 0);
        assert_eq!(rest.bytes, d[..cut]);
        // header 6, sender 8, text's length 2, text 5, then the rest.
        let why = match cut {
            ..6 => Stop::ShortHeader,
            16..21 => Stop::VarstringOverrun,
            _ => Stop::Truncated,
        };
        assert_eq!(rest.stop, why, "cut at {cut}: {}", rest.what);
    }
}

#[test]
fn bad_flags_a_varstring_past_the_end_and_foreign_types_are_said() {
    let schema = Schema::parse(SCHEMA).unwrap();
    // A Ping, then a message with flag bits legume never sets.
    let mut d = datagram::system(7, 0, &Body::Ping { id: 1 });
    d.extend_from_slice(&[0, 8, 0, 0, 0x80, 9, 0, 1]);
    let got = datagram::decode(&d, &schema);
    assert_eq!(got.messages.len(), 1);
    let rest = got.rest.unwrap();
    assert_eq!((rest.stop, rest.offset), (Stop::BadFlags, 8));
    assert!(rest.what.contains("flags 0x80"), "{}", rest.what);
    // A varstring that says 500 bytes in a 20-byte datagram.
    let mut d = vec![0, 1, 0, 0, 0, 20];
    d.extend_from_slice(b"srv\0\0\0\0\0");
    d.extend_from_slice(&500u16.to_be_bytes());
    d.extend_from_slice(b"hi");
    let rest = datagram::decode(&d, &schema).rest.unwrap();
    assert_eq!(rest.stop, Stop::VarstringOverrun);
    assert!(
        rest.what.contains("a varstring of 500 bytes, 2 left"),
        "{}",
        rest.what
    );
    // Type 11: neither legume's nor a user's.
    let rest = datagram::decode(&[0, 1, 0, 0, 0, 11], &schema)
        .rest
        .unwrap();
    assert_eq!(rest.stop, Stop::UnknownSystem);
    // Nothing at all.
    assert_eq!(
        datagram::decode(&[], &schema).rest.unwrap().stop,
        Stop::ShortHeader
    );
}
