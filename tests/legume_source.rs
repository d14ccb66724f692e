//! roomtap's legume client against a scripted server on 127.0.0.1 that
//! sends what no real server sends on cue: bad datagrams (each an error
//! entry, the session goes on), the same reliable message three times
//! (acked three times, shown once), ordered messages out of order (shown in
//! order), ids across the wrap, keep-alives and pings (answered, same id),
//! and never an ack for ours (given up, said).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::peers::{Harness, dump_logs, has_log};
use roomtap::app::App;
use roomtap::event::ConnState;
use roomtap::protocols::legume::client::LegumeConfig;
use roomtap::protocols::legume::client::source::LegumeSource;
use roomtap::protocols::legume::wire::datagram::{self, Body, FieldValue, ORDERED, RELIABLE};
use roomtap::protocols::legume::wire::schema::Schema;
use tokio::net::UdpSocket;

const SCHEMA: &str = r#"
[[message]]
id = 20
name = "Chat"
fields = [{ name = "sender", type = "string 8" }, { name = "text", type = "varstring" }, { name = "seq", type = "int" }]
"#;

/// A server that says what the test tells it to.
struct Script {
    sock: UdpSocket,
    client: Option<SocketAddr>,
    schema: Schema,
    /// Every message the client sent, in order.
    got: Vec<Body>,
}

impl Script {
    async fn new() -> Script {
        Script {
            sock: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            client: None,
            schema: Schema::parse(SCHEMA).unwrap(),
            got: Vec::new(),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    async fn send(&self, d: &[u8]) {
        self.sock.send_to(d, self.client.unwrap()).await.unwrap();
    }

    /// Read (bounded) until the client has sent a message `f` accepts.
    async fn until(&mut self, what: &str, f: impl Fn(&Body) -> bool) -> Body {
        if let Some(i) = self.got.iter().position(&f) {
            return self.got.remove(i);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut buf = vec![0u8; 2048];
        loop {
            let (n, from) = tokio::time::timeout_at(deadline, self.sock.recv_from(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no {what} from roomtap in 10 s: {:?}", self.got))
                .unwrap();
            self.client = Some(from);
            let d = datagram::decode(&buf[..n], &self.schema);
            assert!(
                d.rest.is_none(),
                "roomtap sent what legume cannot read: {d:?}"
            );
            for m in d.messages {
                self.got.push(m.body);
            }
            if let Some(i) = self.got.iter().position(&f) {
                return self.got.remove(i);
            }
        }
    }

    fn chat(&self, id: u16, flags: u8, seq_no: u16, text: &str) -> Vec<u8> {
        let mut d = datagram::user_message(
            id,
            flags,
            self.schema.get(20).unwrap(),
            &[
                FieldValue::Str("srv".into()),
                FieldValue::Str(text.into()),
                FieldValue::Int(1),
            ],
        )
        .unwrap();
        d[2..4].copy_from_slice(&seq_no.to_be_bytes());
        d
    }
}

fn connected(app: &App) -> bool {
    matches!(app.store.sources[0].conn.state, ConnState::Connected { .. })
}

fn metric(app: &App, name: &str) -> f64 {
    app.store.sources[0]
        .metrics
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.last())
        .unwrap_or(f64::NAN)
}

/// The Logs lines of kind Chat, their texts in order.
fn chats(app: &App) -> Vec<String> {
    let logs = &app.store.logs;
    (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .filter(|e| e.kind == "Chat")
        .map(|e| e.summary.to_string())
        .collect()
}

async fn connect(s: &mut Script, cfg: impl FnOnce(&mut LegumeConfig)) -> Harness {
    let mut c = LegumeConfig::new(&s.addr().to_string());
    c.schema = Arc::new(Schema::parse(SCHEMA).unwrap());
    cfg(&mut c);
    let mut h = Harness::wired(vec![Box::new(LegumeSource::new("legume", c))]).await;
    let req = s
        .until("its ConnectRequest", |b| {
            matches!(b, Body::ConnectRequest { .. })
        })
        .await;
    assert_eq!(req, Body::ConnectRequest { protocol: 4 });
    s.send(&datagram::system(1, 0, &Body::MessageAck { id: 1 }))
        .await;
    s.send(&datagram::system(
        2,
        RELIABLE,
        &Body::ConnectRequestAccepted,
    ))
    .await;
    s.until("the Accepted's ack", |b| *b == Body::MessageAck { id: 2 })
        .await;
    h.until("connected", 10, connected).await;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_datagrams_are_error_entries_and_the_session_goes_on() {
    let mut s = Script::new().await;
    let mut h = connect(&mut s, |_| {}).await;
    let good = s.chat(10, 0, 0, "before");
    // A good Chat, then one cut short, in one datagram.
    let mut d = good.clone();
    d.extend_from_slice(&s.chat(11, 0, 0, "cut")[..12]);
    s.send(&d).await;
    // Bad flags; a varstring past the end; a type nobody has; a reliable
    // message of a type the schema lacks (acked all the same).
    s.send(&[0, 12, 0, 0, 0x44, 20, 1, 2]).await;
    let mut over = vec![0, 13, 0, 0, 0, 20];
    over.extend_from_slice(b"srv\0\0\0\0\0\x01\xf4hi");
    s.send(&over).await;
    s.send(&[0, 14, 0, 0, 0, 11]).await;
    s.send(&[0, 15, 0, 0, RELIABLE, 42, 0xde, 0xad]).await;
    // Over legume's MTU: read whole, said.
    let mut big = Vec::new();
    for i in 0..200u16 {
        big.extend(datagram::system(
            100 + i,
            0,
            &Body::KeepAliveResponse { id: i },
        ));
    }
    s.send(&big).await;
    s.send(&s.chat(16, 0, 0, "after")).await;
    s.until("the ack of type 42", |b| *b == Body::MessageAck { id: 15 })
        .await;
    h.until("every entry", 10, |a| {
        a.store.sources[0].malformed >= 4 && chats(a).iter().any(|c| c.contains("after"))
    })
    .await;
    let logs = dump_logs(&h.app);
    assert!(chats(&h.app)[0].contains(r#"text="before""#), "{logs}");
    for said in [
        "Chat cut short at field sender",
        "flags 0x44",
        "a varstring of 500 bytes, 2 left",
        "type 11 is not one of legume's",
    ] {
        assert!(logs.contains(said), "{said}: {logs}");
    }
    assert!(
        has_log(&h.app, "type 42", "type 42 (not in the schema)"),
        "{logs}"
    );
    assert!(
        has_log(
            &h.app,
            "legume",
            "a datagram of 1600 bytes, over legume's 1400-byte MTU"
        ),
        "{logs}"
    );
    assert!(connected(&h.app));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_acked_again_ordered_ones_shown_in_order_ids_wrap() {
    let mut s = Script::new().await;
    let mut h = connect(&mut s, |_| {}).await;
    // The same reliable Chat three times: three acks, one line.
    let d = s.chat(5, RELIABLE, 0, "again");
    for _ in 0..3 {
        s.send(&d).await;
        s.until("an ack of 5", |b| *b == Body::MessageAck { id: 5 })
            .await;
    }
    // Ordered: seq 2 (legume's first), then 4, then 3.
    for (id, seq) in [(6u16, 2u16), (8, 4), (7, 3)] {
        s.send(&s.chat(id, ORDERED, seq, &format!("o{seq}"))).await;
    }
    // Ids across the wrap (1 and 2 went in the handshake: within the
    // window, they would be duplicates).
    for id in [65_534u16, 65_535, 0] {
        s.send(&s.chat(id, 0, 0, &format!("w{id}"))).await;
    }
    h.until("all of them", 10, |a| {
        chats(a).iter().any(|c| c.contains("w0\""))
    })
    .await;
    let texts: Vec<String> = chats(&h.app)
        .iter()
        .map(|c| {
            c.split("text=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(texts, ["again", "o2", "o3", "o4", "w65534", "w65535", "w0"]);
    h.until("duplicates counted", 10, |a| metric(a, "duplicates") == 2.0)
        .await;
    // A keep-alive and a ping: answered with their ids.
    s.send(&datagram::system(20, 0, &Body::KeepAliveRequest { id: 77 }))
        .await;
    s.until("the keep-alive's answer", |b| {
        *b == Body::KeepAliveResponse { id: 77 }
    })
    .await;
    s.send(&datagram::system(21, 0, &Body::Ping { id: 9 }))
        .await;
    s.until("the pong", |b| *b == Body::Pong { id: 9 }).await;
    h.until("the keep-alive counted", 10, |a| {
        metric(a, "keep-alives") == 1.0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_are_resent_until_given_up() {
    let mut s = Script::new().await;
    let mut h = connect(&mut s, |c| c.give_up_after = 3).await;
    // Typed on the `:` line, as a user does.
    h.typed(r#"send! Chat text="never acked" seq=7"#);
    let first = s
        .until(
            "our Chat",
            |b| matches!(b, Body::User { name, .. } if name == "Chat"),
        )
        .await;
    // Sent three times in all, never acked: given up, said.
    for _ in 0..2 {
        let again = s
            .until(
                "a resend",
                |b| matches!(b, Body::User { name, .. } if name == "Chat"),
            )
            .await;
        assert_eq!(again, first);
    }
    h.until("given up", 10, |a| has_log(a, "legume", "after 3 sends"))
        .await;
    h.until("counted", 10, |a| {
        metric(a, "given up") == 1.0
            && metric(a, "pending acks") == 0.0
            && metric(a, "resends") == 2.0
    })
    .await;
}
