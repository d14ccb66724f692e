//! The Leap codec against every frame captured between the real clients
//! (`@onehop/leap-edge-js` 1.0.11, `leap_client_rs` 0.1.5) and a Leap Edge
//! stand-in (`tests/fixtures/captures/leap/`): each frame decodes to
//! what the capture says, in any key order, zlib included; the two bad
//! frames the server sent on purpose are errors in words, never a panic.

use std::path::PathBuf;

use roomtap::protocols::leap::wire::codec::{self, Event, Frame};
use serde_json::Value;

const FILES: [&str; 8] = [
    "session.jsonl",
    "zlib.jsonl",
    "redirect.jsonl",
    "authfail.jsonl",
    "notoken.jsonl",
    "hbtimeout.jsonl",
    "hbrecover.jsonl",
    "rust_probe_server.log",
];

fn rows(name: &str) -> Vec<Value> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captures/leap")
        .join(name);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Every frame of every capture: (direction, decoded, raw text).
fn frames() -> Vec<(String, Result<Frame, codec::DecodeError>, String)> {
    let mut out = Vec::new();
    for f in FILES {
        for r in rows(f) {
            let Some(dir) = r["dir"].as_str() else {
                continue;
            };
            if let Some(z) = r["zlib_hex"].as_str() {
                let text = r["json"].as_str().unwrap().to_string();
                let bytes = hex(z);
                assert_eq!(
                    codec::frame_text(&bytes, true).unwrap(),
                    text,
                    "{f}: the zlib frame inflates to the captured JSON"
                );
                out.push((dir.to_string(), codec::decode_bytes(&bytes, true), text));
            } else {
                let text = r["text"].as_str().unwrap().to_string();
                out.push((
                    dir.to_string(),
                    codec::decode_bytes(text.as_bytes(), false),
                    text,
                ));
            }
        }
    }
    out
}

#[test]
fn every_captured_frame_decodes_or_is_refused_in_words() {
    let all = frames();
    assert!(all.len() > 120, "{} frames", all.len());
    let mut refused = Vec::new();
    for (dir, f, text) in &all {
        match f {
            Ok(Frame::Unknown { op, .. }) => assert_eq!(*op, 9, "{text}"),
            Ok(_) => {}
            Err(e) => refused.push((dir.clone(), text.clone(), e.to_string())),
        }
    }
    // Only the frame the stand-in sent without an op on purpose.
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].1, r#"{"d":{"no":"op"}}"#);
    assert!(refused[0].2.contains("no op"));
}

#[test]
fn every_server_dispatch_is_a_typed_event() {
    let mut seen = std::collections::BTreeSet::new();
    for (dir, f, text) in frames() {
        let Ok(Frame::Dispatch(d)) = f else { continue };
        if dir != "server->client" {
            continue;
        }
        let ev = codec::event(&d).unwrap_or_else(|e| panic!("{text}: {e}"));
        seen.insert(d.event.clone());
        match (d.event.as_str(), &ev) {
            ("INIT", Event::Init(i)) => {
                assert!(i.cid.is_some() && i.scope.is_some(), "{text}")
            }
            ("AVAILABLE", Event::Available(c)) => {
                assert_eq!(c.id, "chan_1");
                assert_eq!(c.kind.as_deref(), Some("unprotected"));
                assert_eq!(c.state, Some(serde_json::json!({"count": 1})));
            }
            ("UNAVAILABLE", Event::Unavailable { error_code, .. }) => {
                assert_eq!(error_code.as_deref(), Some("NOT_GRANTED"))
            }
            ("STATE_UPDATE", Event::StateUpdate { state }) => {
                assert_eq!(
                    serde_json::from_str::<Value>(state).unwrap(),
                    serde_json::json!({"count": 2})
                )
            }
            ("TOKEN_STATE_UPDATE", Event::TokenStateUpdate { .. }) => {}
            ("MESSAGE" | "DIRECT_MESSAGE", Event::Message { event, data }) => {
                assert!(!event.is_empty());
                serde_json::from_str::<Value>(data).unwrap();
            }
            ("PIPE_ROOM_AVAILABLE", Event::PipeRoomAvailable { room, connections }) => {
                assert_eq!(room.state.as_deref(), Some("live"));
                assert_eq!(room.delivery_protocols, ["webrtc"]);
                assert_eq!(connections, &["webrtc"]);
            }
            ("PIPE_ROOM_UPDATE", Event::PipeRoomUpdate { room, .. }) => {
                assert_eq!(room.state.as_deref(), Some("offline"))
            }
            ("PIPE_ROOM_UNAVAILABLE", Event::PipeRoomUnavailable { join_token, .. }) => {
                assert_eq!(join_token.as_deref(), Some("jt_2"))
            }
            ("SOMETHING_NEW", Event::Unknown) => {}
            (e, ev) => panic!("{e} read as {ev:?}"),
        }
    }
    assert_eq!(seen.len(), 11, "{seen:?}");
}

#[test]
fn client_frames_of_both_real_clients_decode() {
    let mut events = std::collections::BTreeSet::new();
    let mut identifies = 0;
    for (dir, f, text) in frames() {
        if dir != "client->server" {
            continue;
        }
        match f.unwrap_or_else(|e| panic!("{text}: {e}")) {
            Frame::Identify { project_id, .. } => {
                assert_eq!(project_id, "project_test");
                identifies += 1;
            }
            Frame::Heartbeat { .. } => {}
            Frame::Dispatch(d) => {
                events.insert(d.event);
            }
            other => panic!("client sent {other:?}"),
        }
    }
    assert!(identifies >= 8);
    for e in [
        "SUBSCRIBE",
        "UNSUBSCRIBE",
        "MESSAGE",
        "SET_CHANNEL_STATE",
        "PIPE_ROOM_SUBSCRIBE",
    ] {
        assert!(events.contains(e), "{e} not in {events:?}");
    }
}

#[test]
fn frames_roomtap_writes_read_back_as_the_captured_ones() {
    // The server frames roomtap's Leap Edge writes decode to the same frames
    // as the captured ones (byte order of keys aside).
    for (dir, f, text) in frames() {
        let Ok(frame) = f else { continue };
        if dir != "server->client" || matches!(frame, Frame::Unknown { .. }) {
            continue;
        }
        let again = codec::decode(&codec::encode(&frame)).unwrap();
        assert_eq!(again, frame, "{text}");
    }
    let sub = codec::client_event("SUBSCRIBE", Some("chan_1"), "null");
    let Frame::Dispatch(d) = codec::decode(&sub).unwrap() else {
        panic!()
    };
    assert_eq!(
        (d.channel.as_deref(), d.event.as_str()),
        (Some("chan_1"), "SUBSCRIBE")
    );
}
