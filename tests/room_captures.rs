//! The MeshAgent codec against frames captured between the real clients
//! (`@meshagent/meshagent` 0.39.9 and 0.35.8, `meshagent-api` 0.56.0 and
//! 0.29.4) and a room: every client frame reassembles into the message
//! the server logged, and every server message re-encodes to the same
//! bytes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use roomtap::sources::room::codec::{Assembler, DEFAULT_MAX_MESSAGE, encode, unpack};
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rows(name: &str) -> Vec<Value> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/research/captures/meshagent")
        .join(name);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const FILES: [&str; 5] = [
    "frames_js_0399.jsonl",
    "frames_js_0358.jsonl",
    "frames_py_current.jsonl",
    "frames_py_legacy.jsonl",
    "frames_py_edge.jsonl",
];

#[test]
fn client_frames_reassemble_into_the_logged_messages() {
    let mut checked = 0;
    for f in FILES {
        let mut asm: BTreeMap<u64, Assembler> = BTreeMap::new();
        let mut got: BTreeMap<u64, Vec<(u64, String, Value, usize)>> = BTreeMap::new();
        let mut want: BTreeMap<u64, Vec<(u64, String, Value, usize)>> = BTreeMap::new();
        for r in rows(f) {
            let conn = r["conn"].as_u64().unwrap();
            match r["dir"].as_str() {
                Some("in") => {
                    let a = asm
                        .entry(conn)
                        .or_insert_with(|| Assembler::new(DEFAULT_MAX_MESSAGE));
                    if let Some(m) = a.push(&hex(r["hex"].as_str().unwrap())).unwrap() {
                        let (header, payload) = unpack(&m.data).unwrap();
                        got.entry(conn)
                            .or_default()
                            .push((m.id, m.kind, header, payload.len()));
                    }
                }
                Some("msg") => want.entry(conn).or_default().push((
                    r["id"].as_u64().unwrap(),
                    r["type"].as_str().unwrap().to_string(),
                    r["header"].clone(),
                    r["payload_len"].as_u64().unwrap() as usize,
                )),
                _ => {}
            }
        }
        assert_eq!(got, want, "{f}");
        checked += want.values().map(Vec::len).sum::<usize>();
    }
    assert!(checked >= 20, "{checked} messages");
}

#[test]
fn server_messages_reencode_byte_for_byte() {
    let mut checked = 0;
    for f in FILES {
        let mut asm: BTreeMap<u64, Assembler> = BTreeMap::new();
        let mut frames: BTreeMap<u64, Vec<Vec<u8>>> = BTreeMap::new();
        for r in rows(f) {
            if r["dir"] != "out" {
                continue;
            }
            let conn = r["conn"].as_u64().unwrap();
            let bytes = hex(r["hex"].as_str().unwrap());
            let a = asm
                .entry(conn)
                .or_insert_with(|| Assembler::new(DEFAULT_MAX_MESSAGE));
            let pending = frames.entry(conn).or_default();
            pending.push(bytes.clone());
            if let Some(m) = a.push(&bytes).unwrap() {
                assert_eq!(
                    &encode(m.id, &m.kind, &m.data),
                    pending,
                    "{f}: {} re-encodes differently",
                    m.kind
                );
                // Every server message carries a JSON object.
                if !m.data.is_empty() {
                    unpack(&m.data).unwrap();
                }
                pending.clear();
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "{checked} messages");
}
