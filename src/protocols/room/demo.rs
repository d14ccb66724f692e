//! The demo's MeshAgent room: roomtap's room server with simulated agents
//! that join it as real clients (WebSocket, token, packets) and emit
//! developer logs through the developer toolkit, `otel.log` records
//! included, plus an occasional `room.status` push.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use fastrand::Rng;
use crate::event::Command;
use crate::protocols::room::server::{RoomServer, RoomServerConfig};
use crate::source::{Emitter, Source, SourceKind, Started, Starting};
use tokio::sync::mpsc;
use crate::protocols::room::wire::codec;
use crate::protocols::room::wire::token::{Secret, participant_token};

pub const ROOM: &str = "demo";

/// The running demo room: its server, a token for the inspector and the
/// agent tasks (stopped when dropped).
pub struct DemoRoom {
    pub server: Arc<RoomServer>,
    pub url: String,
    pub token: Secret,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for DemoRoom {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Start the room on a free loopback port, with a fresh secret, and its agents.
pub async fn start(seed: u64) -> std::io::Result<DemoRoom> {
    let mut rng = Rng::with_seed(seed ^ 0x005e_ed0f_da7a);
    let secret = format!("demo-{:016x}{:016x}", rng.u64(..), rng.u64(..));
    let server = Arc::new(
        RoomServer::start(
            RoomServerConfig {
                secret: Some(Secret::new(secret.clone())),
                ..Default::default()
            },
            None,
        )
        .await?,
    );
    let url = server.url(ROOM);
    let mut tasks = Vec::new();
    for (name, script) in [
        ("indexer", indexer as Script),
        ("assistant", assistant as Script),
    ] {
        let token = participant_token(&secret, name, ROOM);
        tasks.push(tokio::spawn(agent(
            url.clone(),
            token,
            Rng::with_seed(rng.u64(..)),
            script,
        )));
    }
    let s = server.clone();
    let mut r = Rng::with_seed(rng.u64(..));
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(r.u64(20..=40))).await;
            let (status, msg) = *r.choice(&[
                ("running", "all agents healthy"),
                ("degraded", "indexer queue is backing up"),
                ("running", "indexer caught up"),
            ])
            .expect("not empty");
            s.push_status(ROOM, status, msg);
        }
    }));
    Ok(DemoRoom {
        token: participant_token(&secret, "roomtap", ROOM),
        server,
        url,
        tasks,
    })
}

/// One developer log an agent emits: (type, data).
type Script = fn(&mut Rng, u64) -> (String, Value);

fn otel(service: &str, severity: (i64, &str), body: &str, attrs: &[(&str, Value)]) -> Value {
    let now_ns = crate::event::now_ms() as u128 * 1_000_000;
    let attributes: Vec<Value> = attrs
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => json!({"stringValue": s}),
                Value::Bool(b) => json!({"boolValue": b}),
                Value::Number(n) if n.is_i64() => json!({"intValue": n.to_string()}),
                other => json!({"doubleValue": other}),
            };
            json!({"key": k, "value": value})
        })
        .collect();
    json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeLogs": [{"scope": {"name": "meshagent.agents"}, "logRecords": [{
            "timeUnixNano": now_ns.to_string(),
            "severityNumber": severity.0,
            "severityText": severity.1,
            "body": {"stringValue": body},
            "attributes": attributes,
        }]}]
    }]})
}

const INFO: (i64, &str) = (9, "INFO");
const WARN: (i64, &str) = (13, "WARN");
const ERROR: (i64, &str) = (17, "ERROR");
const DEBUG: (i64, &str) = (5, "DEBUG");

fn indexer(r: &mut Rng, n: u64) -> (String, Value) {
    let docs = r.u64(1..=400);
    let ms = r.u64(3..=900);
    match r.u64(0..=9) {
        0 => (
            "otel.log".into(),
            otel(
                "indexer",
                WARN,
                "embedding request timed out, retrying",
                &[
                    ("attempt", json!(r.u64(1..=3))),
                    ("timeout_ms", json!(5000)),
                ],
            ),
        ),
        1 => (
            "otel.log".into(),
            otel(
                "indexer",
                ERROR,
                "cannot read storage object",
                &[
                    ("path", json!(format!("docs/report-{}.pdf", r.u64(1..=40)))),
                    ("code", json!(3003)),
                ],
            ),
        ),
        2 | 3 => (
            "indexer.rebuild".into(),
            json!({"batch": n, "documents": docs, "took_ms": ms}),
        ),
        4 => (
            "otel.log".into(),
            otel(
                "indexer",
                DEBUG,
                "cache stats",
                &[
                    ("hits", json!(r.u64(100..=999))),
                    ("misses", json!(r.u64(0..=99))),
                ],
            ),
        ),
        _ => (
            "otel.log".into(),
            otel(
                "indexer",
                INFO,
                &format!("indexed {docs} documents"),
                &[("batch", json!(n)), ("took_ms", json!(ms))],
            ),
        ),
    }
}

fn assistant(r: &mut Rng, n: u64) -> (String, Value) {
    let user = *r.choice(&["ana", "bo", "chen", "dara"]).expect("not empty");
    match r.u64(0..=7) {
        0 => (
            "error".into(),
            json!({"message": "tool call failed: search timed out", "extra": {"tool": "web.search", "turn": n}}),
        ),
        1 => (
            "warning".into(),
            json!({"message": "context window 90% full", "extra": {"tokens": r.u64(110_000..=120_000)}}),
        ),
        2 | 3 => (
            "otel.log".into(),
            otel(
                "assistant",
                INFO,
                "turn completed",
                &[
                    ("user", json!(user)),
                    ("tokens", json!(r.u64(200..=4000))),
                    ("latency_ms", json!(r.u64(300..=6000))),
                ],
            ),
        ),
        _ => (
            "agent.turn".into(),
            json!({"turn": n, "user": user, "message": *r.choice(&["summarise the report", "draft a reply", "what changed since Monday?", "book the room"]).expect("not empty")}),
        ),
    }
}

/// An agent: joins the room as a client and logs at a human pace;
/// reconnects when the room goes away.
async fn agent(url: String, token: Secret, mut rng: Rng, script: Script) {
    let mut n = 0u64;
    loop {
        let _ = agent_session(&url, &token, &mut rng, script, &mut n).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn agent_session(
    url: &str,
    token: &Secret,
    rng: &mut Rng,
    script: Script,
    n: &mut u64,
) -> Result<(), String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", token.expose())
            .parse()
            .map_err(|_| "bad token")?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| e.to_string())?;
    let mut id = 0u64;
    loop {
        let wait = Duration::from_millis(rng.u64(400..=2500));
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                m = ws.next() => match m {
                    // Responses and pushes need nothing from an agent.
                    Some(Ok(_)) => {}
                    _ => return Err("room gone".into()),
                },
            }
        }
        *n += 1;
        let (ty, data) = script(rng, *n);
        let head = json!({
            "toolkit": "developer",
            "tool": "log",
            "arguments": {"type": "json", "json": {"type": ty, "data": data}},
        });
        id += 1;
        for p in codec::encode(id, "room.invoke_tool", &codec::pack(&head.to_string(), &[])) {
            ws.feed(Message::Binary(p.into()))
                .await
                .map_err(|e| e.to_string())?;
        }
        ws.flush().await.map_err(|e| e.to_string())?;
    }
}

/// `roomtap demo`'s room: roomtap's room server with its agents, watched by
/// a room client.
pub fn sources(
    _flags: &super::Flags,
    _shared: crate::source::Shared,
    seed: u64,
) -> Result<Vec<Box<dyn Source>>, String> {
    Ok(vec![Box::new(DemoRoomSource { seed })])
}

/// The demo room (its server and agents) and the room client on it.
struct DemoRoomSource {
    seed: u64,
}

impl Source for DemoRoomSource {
    fn kind(&self) -> SourceKind {
        super::CLIENT
    }
    fn label(&self) -> String {
        "room".into()
    }
    fn url(&self) -> String {
        format!("ws://127.0.0.1/rooms/{}", ROOM)
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let room = start(self.seed)
                .await
                .map_err(|e| format!("cannot start the demo room: {e}"))?;
            em.mask_secret(room.token.expose());
            let cfg = crate::protocols::room::client::RoomConfig::new(&room.url, Some(room.token.clone()));
            crate::protocols::room::client::spawn(cfg, em, commands);
            Ok(Started {
                url: Some(room.url.clone()),
                secrets: vec![room.token.expose().to_string()],
                ..Started::keeping(room)
            })
        })
    }
}

