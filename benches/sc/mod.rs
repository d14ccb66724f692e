//! The SocketCluster load client shared by the `relay` and `flood` benches
//! (each includes it with `#[path = "sc/mod.rs"] mod sc;`; a folder module is
//! not a bench target of its own): ACTION frames shaped like
//! `@redux-devtools/remote` 1.0.0's, an app's connect sequence, ping
//! answers, plus the few `/proc`, environment and table helpers every bench
//! uses (`tracim` takes only those).

// Each bench that includes this uses a part of it.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::stream::{SplitSink, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type Res<T> = Result<T, String>;

/// Timestamp of action 0 (as in the captures, ms since epoch).
const TS0: u64 = 1_795_343_079_289;

// ---------------------------------------------------------------- options

/// `name` parsed from the environment, or `default` (unset, blank or not a
/// number: then a warning prefixed with `bench`, e.g. `"relay bench"`).
pub fn env_or<T: std::str::FromStr>(bench: &str, name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("{bench}: ignoring {name}={v:?} (not a number)");
            default
        }),
        _ => default,
    }
}

// ---------------------------------------------------------------- /proc

/// utime + stime of a process (all its threads), in seconds.
pub fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".into(),
    };
    let s = std::fs::read_to_string(path).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / rustix::param::clock_ticks_per_second() as f64)
}

/// The load average over 1, 5 and 15 minutes (`/proc/loadavg`), or `?`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------- frames

/// ACTION frames shaped like `@redux-devtools/remote` 1.0.0's (§4.1 of
/// shared/research/redux-devtools.md): field order, jsan-stringified state
/// and PERFORM_ACTION, `isExcess`, `nextActionId`, ~1 KB of state. Action
/// `n` (1, 2, …) carries state `count = n` and `nextActionId = n + 1`, so a
/// delivered frame can be rebuilt from its own `id`, `instanceId` and
/// `nextActionId` and compared byte for byte.
pub struct Frames {
    /// The app's `name` in every frame.
    name: &'static str,
    /// JSON-escaped tail of the state after `{"count":N`.
    state_tail: String,
}

impl Frames {
    pub fn new(name: &'static str) -> Frames {
        let mut raw = String::from(",\"todos\":[");
        for t in 0..13 {
            if t > 0 {
                raw.push(',');
            }
            let _ = write!(
                raw,
                "{{\"text\":\"todo {t}: water the plants\",\"done\":{}}}",
                t % 3 == 0
            );
        }
        raw.push_str("],\"meta\":{\"a\":{\"note\":\"same object referenced twice\"},\"b\":{\"note\":\"same object referenced twice\"},\"created\":\"1970-01-01T00:00:00.000Z\"}}");
        let esc = serde_json::to_string(&raw).expect("string serializes");
        Frames {
            name,
            state_tail: esc[1..esc.len() - 1].to_string(),
        }
    }

    /// The `data` object of action `n`.
    pub fn data(&self, out: &mut String, id: &str, inst: &str, n: u64) {
        out.push_str(r#"{"type":"ACTION","id":""#);
        out.push_str(id);
        out.push_str(r#"","name":""#);
        out.push_str(self.name);
        out.push_str(r#"","instanceId":""#);
        out.push_str(inst);
        let _ = write!(out, r#"","payload":"{{\"count\":{n}"#);
        out.push_str(&self.state_tail);
        let _ = write!(
            out,
            r#"","action":"{{\"type\":\"PERFORM_ACTION\",\"action\":{{\"type\":\"INCREMENT\",\"by\":1}},\"timestamp\":{}}}","isExcess":false,"nextActionId":{}}}"#,
            TS0 + n,
            n + 1
        );
    }

    /// App → relay: the `log` transmit of action `n`.
    pub fn transmit(&self, id: &str, inst: &str, n: u64) -> String {
        let mut s = String::with_capacity(1400);
        s.push_str(r#"{"event":"log","data":"#);
        self.data(&mut s, id, inst, n);
        s.push('}');
        s
    }
}

/// The answer to a SocketCluster ping (`""` → `""`, `"#1"` → `"#2"`).
pub fn pong_for(t: &str) -> Option<&'static str> {
    match t {
        "" => Some(""),
        "#1" => Some("#2"),
        _ => None,
    }
}

// ---------------------------------------------------------------- client

/// Open a WebSocket (10 s at most); `nodelay` turns Nagle's algorithm off.
pub async fn connect(url: &str, nodelay: bool) -> Res<Ws> {
    let fut = tokio_tungstenite::connect_async_with_config(url, None, nodelay);
    match tokio::time::timeout(Duration::from_secs(10), fut).await {
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(e)) => Err(format!("connect {url}: {e}")),
        Err(_) => Err(format!("connect {url}: timed out")),
    }
}

pub async fn send(ws: &mut Ws, s: String) -> Res<()> {
    ws.send(Message::text(s))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// Wait (10 s) for the reply to RPC `cid`, answering pings meanwhile.
pub async fn wait_rid(ws: &mut Ws, cid: u64) -> Res<Value> {
    let fut = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    if let Some(p) = pong_for(&t) {
                        send(ws, p.into()).await?;
                        continue;
                    }
                    let Ok(v) = serde_json::from_str::<Value>(&t) else {
                        continue;
                    };
                    if v["rid"].as_u64() == Some(cid) {
                        if let Some(e) = v.get("error") {
                            return Err(format!("rpc {cid} failed: {e}"));
                        }
                        return Ok(v.get("data").cloned().unwrap_or(Value::Null));
                    }
                }
                Some(Ok(Message::Close(f))) => return Err(format!("closed by relay: {f:?}")),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("read: {e}")),
                None => return Err("connection ended".into()),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .map_err(|_| format!("no reply to rpc {cid} within 10 s"))?
}

/// `#handshake` (cid 1): the socket id the relay gave.
pub async fn handshake(ws: &mut Ws) -> Res<String> {
    send(
        ws,
        r##"{"event":"#handshake","data":{"authToken":null},"cid":1}"##.into(),
    )
    .await?;
    let d = wait_rid(ws, 1).await?;
    d["id"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("handshake reply without id: {d}"))
}

/// An app named `name` as `@redux-devtools/remote` starts: handshake,
/// `login` `"master"`, START transmitted before the login reply,
/// `#subscribe` `respond`. Returns the socket, its id and the instance id.
pub async fn app_connect(
    url: &str,
    k: usize,
    name: &str,
    nodelay: bool,
) -> Res<(Ws, String, String)> {
    let mut ws = connect(url, nodelay).await?;
    let id = handshake(&mut ws).await?;
    let inst = instance_id(k);
    send(
        &mut ws,
        r#"{"event":"login","data":"master","cid":2}"#.into(),
    )
    .await?;
    send(
        &mut ws,
        format!(
            r#"{{"event":"log","data":{{"type":"START","id":"{id}","name":"{name}","instanceId":"{inst}"}}}}"#
        ),
    )
    .await?;
    let ch = wait_rid(&mut ws, 2).await?;
    if ch != "respond" {
        return Err(format!("app login answered {ch}, expected \"respond\""));
    }
    send(
        &mut ws,
        r##"{"event":"#subscribe","data":{"channel":"respond"},"cid":3}"##.into(),
    )
    .await?;
    wait_rid(&mut ws, 3).await?;
    Ok((ws, id, inst))
}

/// 11 base-36 characters, like `Math.random().toString(36).substr(2)`.
fn instance_id(k: usize) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = t ^ ((k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut s = String::new();
    for _ in 0..11 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        s.push(char::from_digit(((x >> 33) % 36) as u32, 36).unwrap_or('0'));
    }
    s
}

/// Split an app socket: the sink to write to, and a task that reads the
/// socket and hands the pongs its pings ask for to the receiver (what else
/// the relay sends, e.g. on `respond`, is read and ignored). The receiver
/// ends when the socket does.
pub fn answer_pings(
    ws: Ws,
) -> (
    SplitSink<Ws, Message>,
    mpsc::UnboundedReceiver<&'static str>,
    JoinHandle<()>,
) {
    let (sink, mut stream) = ws.split();
    let (pong_tx, pong_rx) = mpsc::unbounded_channel::<&'static str>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            if let Message::Text(t) = m
                && let Some(p) = pong_for(&t)
                && pong_tx.send(p).is_err()
            {
                break;
            }
        }
    });
    (sink, pong_rx, reader)
}

// ---------------------------------------------------------------- report

/// `1234567` → `1 234 567`.
pub fn thousands(x: u64) -> String {
    let s = x.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Rows as a table (the first row is the header, ruled off), the first
/// column left-aligned, the others right-aligned.
pub fn print_table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let w: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| {
                let pad = w[c] - s.chars().count();
                if c == 0 {
                    format!("{s}{}", " ".repeat(pad))
                } else {
                    format!("{}{s}", " ".repeat(pad))
                }
            })
            .collect();
        println!("  {}", line.join(" | "));
        if i == 0 {
            let rule: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
            println!("  {}", rule.join("-|-"));
        }
    }
}

// ---------------------------------------------------------------- roomtap's side

/// A source attached to a store as roomtap attaches it (`Wiring`), the
/// wiring's events applied to the store as they come: what an ingest bench
/// measures on roomtap's side (`tracim`, `legume`).
pub struct StoreSink {
    pub store: roomtap::store::Store,
    rx: mpsc::Receiver<roomtap::event::SourceEvent>,
    session: Option<roomtap::wiring::Session>,
    batch: Vec<roomtap::event::SourceEvent>,
    /// Log entries looked at so far (by sequence number).
    scanned: u64,
}

impl StoreSink {
    pub async fn attach(source: Box<dyn roomtap::source::Source>) -> Res<StoreSink> {
        let mut store = roomtap::store::Store::new(&roomtap::store::StoreConfig::default());
        let (mut wiring, rx) = roomtap::wiring::Wiring::new();
        wiring.attach_all(&mut store, vec![source]).await?;
        Ok(StoreSink {
            store,
            rx,
            session: Some(wiring.finish()),
            batch: Vec::with_capacity(1024),
            scanned: 0,
        })
    }

    /// The (first) source is connected.
    pub fn connected(&self) -> bool {
        matches!(
            self.store.sources[0].conn.state,
            roomtap::event::ConnState::Connected { .. }
        )
    }

    /// Whether every event sender is gone.
    pub fn ended(&self) -> bool {
        self.rx.is_closed()
    }

    /// Whether every event sender is gone and every event was applied.
    pub fn drained(&self) -> bool {
        self.rx.is_closed() && self.rx.is_empty()
    }

    /// Apply what has come (waiting at most until `until`); `each` sees
    /// every log entry that arrived.
    pub async fn pump(
        &mut self,
        until: tokio::time::Instant,
        mut each: impl FnMut(&roomtap::store::logs::LogEntry),
    ) {
        match tokio::time::timeout_at(until, self.rx.recv_many(&mut self.batch, 1024)).await {
            Ok(0) | Err(_) => {}
            Ok(_) => {
                for e in self.batch.drain(..) {
                    self.store.apply(e);
                }
                let logs = &self.store.logs;
                let next = logs.next_seq();
                while self.scanned < next {
                    if let Some(e) = logs.by_seq(self.scanned) {
                        each(&e);
                    }
                    self.scanned += 1;
                }
            }
        }
    }

    /// The sources' goodbyes, then wait (at most `within`) for their tasks
    /// to end (every event sender gone); whether they did.
    pub async fn stop(&mut self, within: Duration) -> bool {
        if let Some(mut s) = self.session.take() {
            s.goodbye().await;
        }
        let by = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(by, self.rx.recv_many(&mut self.batch, 1024)).await {
                Ok(0) => return true,
                Ok(_) => self.batch.clear(),
                Err(_) => return false,
            }
        }
    }
}

// ---------------------------------------------------------------- peers

/// Keep a peer's line that says something went wrong: the first five,
/// each cut at 300 characters (what a bench's verdict prints).
pub fn note_trouble(trouble: &std::sync::Mutex<Vec<String>>, line: &[u8]) {
    let mut t = trouble.lock().unwrap_or_else(|p| p.into_inner());
    if t.len() < 5 {
        t.push(
            String::from_utf8_lossy(line)
                .trim()
                .chars()
                .take(300)
                .collect(),
        );
    }
}

/// A peer process a bench drives (a Python client): its stdin held (EOF
/// on it, or a quit line, makes it quit), each line of its stdout handed
/// to `on_line` on a thread of its own (then `None` at its end); killed and
/// reaped on drop, whatever the way out.
pub struct Peer {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Peer {
    /// Run `cmd` (its stdin and stdout are piped here).
    pub fn spawn(
        mut cmd: std::process::Command,
        mut on_line: impl FnMut(Option<&[u8]>) + Send + 'static,
    ) -> Res<Peer> {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut r = std::io::BufReader::with_capacity(1 << 16, out);
            let mut line = Vec::with_capacity(1 << 14);
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => on_line(Some(&line)),
                }
            }
            on_line(None);
        });
        Ok(Peer {
            child,
            stdin,
            reader: Some(reader),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ask it to quit (`quit` written, then its stdin closed); killed if it
    /// has not within 3 s.
    pub async fn stop(mut self, quit: Option<&[u8]>) {
        use std::io::Write;
        if let (Some(q), Some(stdin)) = (quit, self.stdin.as_mut()) {
            let _ = stdin.write_all(q);
        }
        drop(self.stdin.take());
        let by = tokio::time::Instant::now() + Duration::from_secs(3);
        while tokio::time::Instant::now() < by {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Drop kills it if it still runs, and reaps it.
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}
