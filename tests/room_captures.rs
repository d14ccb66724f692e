//! The MeshAgent codec against frames captured between the real clients
//! (`@meshagent/meshagent` 0.39.9 and 0.35.8, `meshagent-api` 0.56.0 and
//! 0.29.4) and a room: every client frame reassembles into the message
//! the server logged, and every server message re-encodes to the same
//! bytes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use roomtap::protocols::room::wire::codec::{Assembler, DEFAULT_MAX_MESSAGE, encode, unpack};
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rows(name: &str) -> Vec<Value> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captures/meshagent")
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

/// What a server sent on one connection, reduced to what a client relies
/// on: each `__response__` by request id (content type, error code,
/// control method) and the pushes (type, chunk type, log type).
#[derive(Debug, Default, PartialEq)]
struct ServerSide {
    responses: BTreeMap<u64, (String, Option<i64>, Option<String>)>,
    pushes: Vec<(String, String, String)>,
}

impl ServerSide {
    fn add(&mut self, id: u64, kind: &str, data: &[u8]) {
        let (h, _) = unpack(data).unwrap();
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        match kind {
            "__response__" => {
                self.responses.insert(
                    id,
                    (
                        s(&h, "type"),
                        h.get("code").and_then(Value::as_i64),
                        h.get("method").and_then(Value::as_str).map(str::to_string),
                    ),
                );
            }
            "room_ready" | "connected" => {
                self.pushes
                    .push((kind.into(), String::new(), String::new()))
            }
            "room.tool_call_response_chunk" => {
                let c = &h["chunk"];
                let ty = c.get("headers").map(|x| s(x, "type")).unwrap_or_default();
                let m = s(c, "method");
                self.pushes.push((
                    kind.into(),
                    s(c, "type"),
                    if ty.is_empty() { m } else { ty },
                ));
            }
            "developer.log" => self
                .pushes
                .push((kind.into(), String::new(), s(&h, "type"))),
            other => self
                .pushes
                .push((other.into(), String::new(), String::new())),
        }
    }
}

/// roomtap's room server answers the real clients' captured frames as the
/// room they were captured against did: same responses for the same
/// requests, same pushes. Tokens are the captured ones (signed by the real
/// SDKs with `devsecret`) or, where the client sent it in a header the
/// capture does not keep, re-signed from the captured claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_server_answers_captured_clients_like_the_capture() {
    use futures_util::{SinkExt, StreamExt};
    use roomtap::protocols::room::server::{RoomServer, RoomServerConfig};
    use roomtap::protocols::room::wire::token::{Secret, sign_hs256};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let srv = RoomServer::start(
        RoomServerConfig {
            secret: Some(Secret::new("devsecret")),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    for f in FILES {
        let rows = rows(f);
        let info = rows.iter().find(|r| r["dir"] == "info").unwrap();
        let token = match info["query"].get("token").and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None => sign_hs256(b"devsecret", &info["claims"]),
        };
        let mut want = ServerSide::default();
        let mut out_asm = Assembler::new(DEFAULT_MAX_MESSAGE);
        let mut frames = Vec::new();
        for r in rows.iter().filter(|r| r["conn"] == 1) {
            let b = hex(r["hex"].as_str().unwrap());
            match r["dir"].as_str() {
                Some("in") => frames.push(b),
                Some("out") => {
                    if let Some(m) = out_asm.push(&b).unwrap() {
                        want.add(m.id, &m.kind, &m.data);
                    }
                }
                _ => {}
            }
        }
        let mut req = srv.url("test").into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        for b in frames {
            ws.send(Message::Binary(b.into())).await.unwrap();
        }
        let mut got = ServerSide::default();
        let mut asm = Assembler::new(DEFAULT_MAX_MESSAGE);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while got.responses.len() < want.responses.len() || got.pushes.len() < want.pushes.len() {
            match tokio::time::timeout_at(deadline, ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    if let Some(m) = asm.push(&b).unwrap() {
                        got.add(m.id, &m.kind, &m.data);
                    }
                }
                Ok(Some(Ok(_))) => {}
                other => panic!(
                    "{f}: connection ended or timed out ({other:?}); got {got:?}, want {want:?}"
                ),
            }
        }
        eprintln!(
            "{f}: {} responses, {} pushes match",
            want.responses.len(),
            want.pushes.len()
        );
        assert_eq!(got, want, "{f}");
        assert!(!want.responses.is_empty(), "{f}");
    }
}
