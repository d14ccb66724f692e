//! Relay throughput: the real `@redux-devtools/cli` relay vs `roomtap serve`.
//!
//! `cargo bench --bench relay` starts, as separate processes on 127.0.0.1,
//! the real Node relay (`node tests/peers/redux/relay.mjs PORT SECS`, needs
//! `tests/peers/install.sh`) and `roomtap redux-server --redux-port 0`, plus an in-process
//! minimal forwarder ("loopback": the ceiling of this bench's own client on
//! this machine). It drives each with the same load and prints, per scenario,
//! the median msgs/s (and MB/s) delivered to the monitor and the ratio
//! roomtap/node (target: ≥ 10×).
//!
//! Load (shaped like the captured frames of `@redux-devtools/remote` 1.0.0 and
//! a raw monitor, see shared/research/redux-devtools.md §4.1, §9):
//! - app socket: `#handshake` (cid 1), `login` `"master"` (cid 2), a `log`
//!   START transmit, `#subscribe` `respond` (cid 3), then `log` ACTION
//!   transmits of ~1.17 KB (~1 KB jsan state in `payload`);
//! - monitor socket: `#handshake`, `login` `{}`, `#subscribe` `log`; counts
//!   `#publish` ACTION frames on `log` and byte-compares a sample of them
//!   with what the app sent;
//! - both answer pings in kind (`""` → `""`, `"#1"` → `"#2"`);
//! - window: at most W messages in flight (sent − received by the monitor),
//!   W shared by all the apps of a scenario (one app: W for it alone). An
//!   app takes window permits B = 8 at a time and writes those B frames at
//!   once (then any permits free right away, up to 32): otherwise 50 apps
//!   sharing 256 permits write one frame per syscall and the client, not
//!   the relay, eats the cores.
//!
//! Scenarios: (1) 1 app → 1 monitor, (2) N apps (50) → 1 monitor. Every run
//! is bounded by count and seconds; runs are interleaved across relays.
//!
//! Environment (defaults in brackets):
//! `RELAY_BENCH_SECS` [3] measured seconds per run, `RELAY_BENCH_WARMUP` [1],
//! `RELAY_BENCH_REPEAT` [3], `RELAY_BENCH_WINDOW` [256], `RELAY_BENCH_BURST` [8],
//! `RELAY_BENCH_APPS` [50],
//! `RELAY_BENCH_COUNT` [5000000] most messages per run,
//! `RELAY_BENCH_TARGETS` [node,roomtap,loopback],
//! `RELAY_BENCH_EXTRA` comma-separated `ws://…` URLs of relays already running
//! (measured too, as `extra1`, `extra2`…), `RELAY_BENCH_CLIENT_THREADS` [cores],
//! `RELAY_BENCH_SHOW=1` prints one sent and one received frame.
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a short smoke test
//! against the loopback forwarder only.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

#[path = "sc/mod.rs"]
mod sc;
use sc::{Frames, Res, Ws, connect, cpu_secs, handshake, pong_for, print_table, send, wait_rid};

/// The app's `name` in its START and ACTION frames.
const APP: &str = "bench";

/// Frames per flush on an app socket (taken from the window at once).
const BATCH: usize = 32;
/// Every VERIFY_EVERY-th delivered frame (and the first) is compared byte
/// for byte with the frame the app built.
const VERIFY_EVERY: u64 = 997;
/// No delivery for this long = the run stalled (lost frames hold the window).
const STALL: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------- options

#[derive(Clone)]
struct Opts {
    secs: f64,
    warmup: f64,
    repeat: usize,
    window: usize,
    apps: usize,
    count: u64,
    targets: Vec<String>,
    extra: Vec<String>,
    client_threads: usize,
    burst: usize,
    show: bool,
    smoke: bool,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    sc::env_or("relay bench", name, default)
}

fn list(name: &str) -> Option<Vec<String>> {
    let v = std::env::var(name).ok()?;
    Some(
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

impl Opts {
    fn from_env() -> Opts {
        let smoke = !std::env::args().any(|a| a == "--bench");
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (secs, warmup, repeat, apps): (f64, f64, usize, usize) = if smoke {
            (0.5, 0.2, 1, 5)
        } else {
            (3.0, 1.0, 3, 50)
        };
        let default_targets: Vec<String> = if smoke {
            vec!["loopback".into()]
        } else {
            ["node", "roomtap", "loopback"].map(String::from).to_vec()
        };
        Opts {
            secs: env_or("RELAY_BENCH_SECS", secs).clamp(0.1, 60.0),
            warmup: env_or("RELAY_BENCH_WARMUP", warmup).clamp(0.0, 10.0),
            repeat: env_or("RELAY_BENCH_REPEAT", repeat).clamp(1, 20),
            window: env_or("RELAY_BENCH_WINDOW", 256usize).clamp(1, 1 << 20),
            apps: env_or("RELAY_BENCH_APPS", apps).clamp(1, 1000),
            count: env_or("RELAY_BENCH_COUNT", 5_000_000u64).max(1),
            targets: list("RELAY_BENCH_TARGETS").unwrap_or(default_targets),
            extra: list("RELAY_BENCH_EXTRA").unwrap_or_default(),
            client_threads: env_or("RELAY_BENCH_CLIENT_THREADS", cores).clamp(1, 64),
            burst: env_or("RELAY_BENCH_BURST", 8usize).clamp(1, BATCH),
            show: env_or("RELAY_BENCH_SHOW", 0u8) != 0,
            smoke,
        }
    }

    /// Never more than the window (or nothing could ever be sent).
    fn burst(&self) -> usize {
        self.burst.min(self.window)
    }

    fn repro(&self) -> String {
        let mut s = format!(
            "RELAY_BENCH_SECS={} RELAY_BENCH_WARMUP={} RELAY_BENCH_REPEAT={} RELAY_BENCH_WINDOW={} RELAY_BENCH_BURST={} RELAY_BENCH_APPS={} RELAY_BENCH_TARGETS={}",
            self.secs,
            self.warmup,
            self.repeat,
            self.window,
            self.burst(),
            self.apps,
            self.targets.join(",")
        );
        if !self.extra.is_empty() {
            let _ = write!(s, " RELAY_BENCH_EXTRA={}", self.extra.join(","));
        }
        s + " cargo bench --bench relay"
    }
}

// ---------------------------------------------------------------- frames

/// What only this bench needs of the frames (`sc::Frames`: the app's side):
/// the monitor's side, to compare a delivered frame byte for byte.
impl Frames {
    /// Relay → monitor: what the relay must deliver for action `n`.
    fn publish(&self, id: &str, inst: &str, n: u64) -> String {
        let mut s = String::with_capacity(1400);
        s.push_str(r##"{"event":"#publish","data":{"channel":"log","data":"##);
        self.data(&mut s, id, inst, n);
        s.push_str("}}");
        s
    }

    /// Rebuild the expected frame from a delivered one: `Ok(true)` if equal.
    fn verify(&self, frame: &str) -> Res<bool> {
        let v: Value = serde_json::from_str(frame).map_err(|e| format!("not JSON: {e}"))?;
        let d = &v["data"]["data"];
        let (Some(id), Some(inst), Some(next)) = (
            d["id"].as_str(),
            d["instanceId"].as_str(),
            d["nextActionId"].as_u64(),
        ) else {
            return Err("no id/instanceId/nextActionId".into());
        };
        Ok(next >= 2 && self.publish(id, inst, next - 1) == frame)
    }
}

/// A delivered ACTION (fast path: the exact prefix Node and roomtap send).
fn is_action_publish(t: &str) -> bool {
    const PREFIX: &str = r##"{"event":"#publish","data":{"channel":"log","data":{"type":"ACTION""##;
    t.starts_with(PREFIX)
        || (t.contains(r##""event":"#publish""##)
            && t.contains(r#""channel":"log""#)
            && t.contains(r#""type":"ACTION""#))
}

// ---------------------------------------------------------------- client

/// A monitor: handshake, `login` `{}`, `#subscribe` `log`.
async fn monitor_connect(url: &str) -> Res<Ws> {
    let mut ws = connect(url, /* nodelay */ true).await?;
    handshake(&mut ws).await?;
    send(&mut ws, r#"{"event":"login","data":{},"cid":2}"#.into()).await?;
    let ch = wait_rid(&mut ws, 2).await?;
    if ch != "log" {
        return Err(format!("monitor login answered {ch}, expected \"log\""));
    }
    send(
        &mut ws,
        r##"{"event":"#subscribe","data":{"channel":"log"},"cid":3}"##.into(),
    )
    .await?;
    wait_rid(&mut ws, 3).await?;
    Ok(ws)
}

/// Counters of one run, shared by its app and monitor tasks.
struct Shared {
    window: Semaphore,
    /// Window permits an app takes at once (it then sends that many frames
    /// in one write, plus any further permits free right away, up to BATCH).
    burst: usize,
    stop: AtomicBool,
    count: u64,
    sent: AtomicU64,
    recv: AtomicU64,
    bytes: AtomicU64,
    other: AtomicU64,
    verified: AtomicU64,
    bad: AtomicU64,
    bad_example: Mutex<Option<String>>,
    show: AtomicBool,
}

async fn app_task(ws: Ws, id: String, inst: String, frames: Arc<Frames>, sh: Arc<Shared>) {
    let (mut sink, mut pong_rx, reader) = sc::answer_pings(ws);
    let mut n = 0u64;
    let mut stopped = false;
    loop {
        tokio::select! {
            biased;
            p = pong_rx.recv() => match p {
                Some(p) => {
                    if sink.send(Message::text(p)).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            permit = sh.window.acquire_many(sh.burst as u32), if !stopped => {
                let Ok(permit) = permit else { break };
                permit.forget();
                let mut k = sh.burst;
                while k < BATCH {
                    match sh.window.try_acquire() {
                        Ok(p) => {
                            p.forget();
                            k += 1;
                        }
                        Err(_) => break,
                    }
                }
                for _ in 0..k {
                    if sh.stop.load(Relaxed) || sh.sent.fetch_add(1, Relaxed) >= sh.count {
                        stopped = true;
                        break;
                    }
                    n += 1;
                    let f = frames.transmit(&id, &inst, n);
                    if sh.show.swap(false, Relaxed) {
                        println!("  sent:      {f}");
                    }
                    if sink.feed(Message::text(f)).await.is_err() {
                        stopped = true;
                        break;
                    }
                }
                if sink.flush().await.is_err() {
                    stopped = true;
                }
            }
        }
    }
    reader.abort();
}

async fn monitor_task(mut ws: Ws, frames: Arc<Frames>, sh: Arc<Shared>, show: bool) -> Res<()> {
    let mut shown = !show;
    while let Some(m) = ws.next().await {
        match m.map_err(|e| format!("monitor read: {e}"))? {
            Message::Text(t) => {
                if let Some(p) = pong_for(&t) {
                    send(&mut ws, p.into()).await?;
                } else if is_action_publish(&t) {
                    let c = sh.recv.fetch_add(1, Relaxed) + 1;
                    sh.bytes.fetch_add(t.len() as u64, Relaxed);
                    sh.window.add_permits(1);
                    if !shown {
                        shown = true;
                        println!("  received:  {}", t.as_str());
                    }
                    if c == 1 || c.is_multiple_of(VERIFY_EVERY) {
                        match frames.verify(&t) {
                            Ok(true) => {
                                sh.verified.fetch_add(1, Relaxed);
                            }
                            r => {
                                sh.bad.fetch_add(1, Relaxed);
                                let mut ex = sh.bad_example.lock().unwrap();
                                if ex.is_none() {
                                    let why = r.err().unwrap_or_else(|| "differs".into());
                                    let head: String = t.chars().take(300).collect();
                                    *ex = Some(format!("{why}: {head}…"));
                                }
                            }
                        }
                    }
                } else {
                    sh.other.fetch_add(1, Relaxed);
                }
            }
            Message::Close(f) => return Err(format!("monitor closed by relay: {f:?}")),
            _ => {}
        }
    }
    Err("monitor connection ended".into())
}

// ---------------------------------------------------------------- one run

#[derive(Clone, Debug, Default)]
struct RunStats {
    msgs_s: f64,
    mb_s: f64,
    relay_cpu: Option<f64>,
    client_cpu: Option<f64>,
    delivered: u64,
    lost: u64,
    verified: u64,
    bad: u64,
    stalled: bool,
}

struct Snap {
    at: Instant,
    recv: u64,
    bytes: u64,
    me: Option<f64>,
    relay: Option<f64>,
}

fn snap(sh: &Shared, pid: Option<u32>) -> Snap {
    Snap {
        at: Instant::now(),
        recv: sh.recv.load(Relaxed),
        bytes: sh.bytes.load(Relaxed),
        me: cpu_secs(None),
        relay: pid.and_then(|p| cpu_secs(Some(p))),
    }
}

async fn run_once(
    url: &str,
    pid: Option<u32>,
    apps: usize,
    o: &Opts,
    frames: &Arc<Frames>,
    show: bool,
) -> Res<RunStats> {
    let sh = Arc::new(Shared {
        window: Semaphore::new(o.window),
        burst: o.burst(),
        stop: AtomicBool::new(false),
        count: o.count,
        sent: AtomicU64::new(0),
        recv: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        other: AtomicU64::new(0),
        verified: AtomicU64::new(0),
        bad: AtomicU64::new(0),
        bad_example: Mutex::new(None),
        show: AtomicBool::new(show),
    });
    let mon = monitor_connect(url).await?;
    let conns = futures_util::future::try_join_all(
        (0..apps).map(|k| sc::app_connect(url, k, APP, /* nodelay */ true)),
    )
    .await?;
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let monitor = tokio::spawn(monitor_task(mon, frames.clone(), sh.clone(), show));
    for (ws, id, inst) in conns {
        tasks.push(tokio::spawn(app_task(
            ws,
            id,
            inst,
            frames.clone(),
            sh.clone(),
        )));
    }
    let result = measure(&sh, pid, o, &monitor).await;
    sh.stop.store(true, Relaxed);
    // Drain what is in flight, then count what never arrived.
    let deadline = Instant::now() + STALL;
    while sh.recv.load(Relaxed) < sh.sent.load(Relaxed).min(o.count)
        && Instant::now() < deadline
        && !monitor.is_finished()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for t in &tasks {
        t.abort();
    }
    let monitor_err = if monitor.is_finished() {
        monitor.await.ok().and_then(|r| r.err())
    } else {
        monitor.abort();
        None
    };
    let mut st = result?;
    st.lost = sh
        .sent
        .load(Relaxed)
        .min(o.count)
        .saturating_sub(sh.recv.load(Relaxed));
    st.verified = sh.verified.load(Relaxed);
    st.bad = sh.bad.load(Relaxed);
    if let Some(ex) = sh.bad_example.lock().unwrap().take() {
        eprintln!("  MISMATCH (delivered frame ≠ sent frame): {ex}");
    }
    if let Some(e) = monitor_err {
        if st.delivered == 0 {
            return Err(e);
        }
        eprintln!("  note: {e}");
    }
    // Let the relay notice the closed sockets before the next run.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(st)
}

async fn measure(
    sh: &Shared,
    pid: Option<u32>,
    o: &Opts,
    monitor: &JoinHandle<Res<()>>,
) -> Res<RunStats> {
    tokio::time::sleep(Duration::from_secs_f64(o.warmup)).await;
    let a = snap(sh, pid);
    let mut last = (Instant::now(), a.recv);
    let mut stalled = false;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = Instant::now();
        let r = sh.recv.load(Relaxed);
        if now - a.at >= Duration::from_secs_f64(o.secs) || r >= o.count || monitor.is_finished() {
            break;
        }
        if r != last.1 {
            last = (now, r);
        } else if now - last.0 >= STALL {
            stalled = true;
            break;
        }
    }
    let b = snap(sh, pid);
    let dt = (b.at - a.at).as_secs_f64();
    let delivered = b.recv - a.recv;
    let cpu = |x: Option<f64>, y: Option<f64>| Some((y? - x?) / dt * 100.0);
    Ok(RunStats {
        msgs_s: delivered as f64 / dt,
        mb_s: (b.bytes - a.bytes) as f64 / dt / 1e6,
        relay_cpu: cpu(a.relay, b.relay),
        client_cpu: cpu(a.me, b.me),
        delivered,
        stalled,
        ..Default::default()
    })
}

// ---------------------------------------------------------------- relays

/// A relay under test. Child processes are killed on drop.
struct Target {
    label: String,
    url: String,
    pid: Option<u32>,
    note: String,
    _child: Option<Child>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Target {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

type Ring = Arc<Mutex<VecDeque<String>>>;

/// Keep reading a child's output (a full pipe would block it); the last
/// lines are kept for error messages.
fn drain<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    mut lines: tokio::io::Lines<BufReader<R>>,
    ring: Ring,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok(Some(l)) = lines.next_line().await {
            let mut r = ring.lock().unwrap();
            if r.len() == 20 {
                r.pop_front();
            }
            r.push_back(l);
        }
    })
}

fn tail(ring: &Ring) -> String {
    let r = ring.lock().unwrap();
    if r.is_empty() {
        "no output".into()
    } else {
        r.iter().cloned().collect::<Vec<_>>().join(" | ")
    }
}

/// The real `@redux-devtools/cli` 5.0.0 relay (`tests/peers/redux/relay.mjs`).
async fn start_node(lifetime_secs: u64) -> Res<Target> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/redux");
    if !dir.join("node_modules").is_dir() {
        return Err(format!(
            "{} has no node_modules: run tests/peers/install.sh",
            dir.display()
        ));
    }
    let mut why = String::new();
    for _ in 0..3 {
        let mut child = Command::new("node")
            .arg("relay.mjs")
            .arg("0") // a port the kernel picks; READY says which
            .arg(lifetime_secs.to_string())
            .current_dir(&dir)
            .stdin(Stdio::piped()) // relay.mjs exits when it closes
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run node: {e}"))?;
        let ring: Ring = Arc::default();
        let err = drain(
            BufReader::new(child.stderr.take().expect("piped")).lines(),
            ring.clone(),
        );
        let mut out = BufReader::new(child.stdout.take().expect("piped")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(l)) = out.next_line().await {
                if let Some(p) = l.strip_prefix("READY ") {
                    return p.trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await;
        match ready {
            Ok(Some(p)) => {
                let ring2: Ring = Arc::default();
                let outd = drain(out, ring2);
                return Ok(Target {
                    label: "node".into(),
                    url: format!("ws://127.0.0.1:{p}/socketcluster/"),
                    pid: child.id(),
                    note: "@redux-devtools/cli 5.0.0 (tests/peers/redux/relay.mjs)".into(),
                    _child: Some(child),
                    tasks: vec![err, outd],
                });
            }
            Ok(None) => {
                let st = child.wait().await.ok();
                tokio::time::sleep(Duration::from_millis(50)).await;
                why = format!("relay.mjs exited ({st:?}): {}", tail(&ring));
            }
            Err(_) => why = format!("no READY within 30 s: {}", tail(&ring)),
        }
        err.abort();
    }
    Err(why)
}

/// `roomtap redux-server --redux-port 0`; its URL comes from the stderr line
/// `… listening on ws://127.0.0.1:<PORT>/socketcluster/`.
async fn start_roomtap() -> Res<Target> {
    let bin = env!("CARGO_BIN_EXE_roomtap");
    let mut child = Command::new(bin)
        .args(["redux-server", "--redux-port", "0"])
        .env_remove("ROOMTAP_SECRET")
        .env_remove("ROOMTAP_BIND")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {bin}: {e}"))?;
    let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
    let mut seen: Vec<String> = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(l)) = lines.next_line().await {
            if let Some(i) = l.find("listening on ws://") {
                let url = l[i + "listening on ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                return Some(url);
            }
            seen.push(l);
        }
        None
    })
    .await;
    let url = match found {
        Ok(Some(u)) => u,
        Ok(None) => {
            return Err(format!(
                "exited without listening: {}",
                seen.join(" | ").chars().take(400).collect::<String>()
            ));
        }
        Err(_) => return Err("no \"listening on ws://…\" line within 10 s".into()),
    };
    let ring: Ring = Arc::default();
    let t = drain(lines, ring);
    Ok(Target {
        label: "roomtap".into(),
        note: format!("{bin} redux-server --redux-port 0"),
        pid: child.id(),
        url,
        _child: Some(child),
        tasks: vec![t],
    })
}

/// In-process minimal forwarder: just enough SocketCluster for the bench
/// (handshake, login, subscribe; `log` transmits published to `log`
/// subscribers by slicing, no JSON parse). What the client reaches against
/// it, sharing this machine's cores, is the ceiling of any relay's figure.
async fn start_loopback() -> Res<Target> {
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let port = l.local_addr().map_err(|e| e.to_string())?.port();
    let monitors: Arc<Mutex<Vec<mpsc::Sender<Message>>>> = Arc::default();
    let task = tokio::spawn(async move {
        let mut next_id = 0u64;
        while let Ok((tcp, _)) = l.accept().await {
            next_id += 1;
            let _ = tcp.set_nodelay(true);
            tokio::spawn(loopback_conn(tcp, next_id, monitors.clone()));
        }
    });
    Ok(Target {
        label: "loopback".into(),
        url: format!("ws://127.0.0.1:{port}/socketcluster/"),
        pid: None,
        note: "in-process minimal forwarder (bench client ceiling; its CPU counts as client)"
            .into(),
        _child: None,
        tasks: vec![task],
    })
}

async fn loopback_conn(tcp: TcpStream, n: u64, monitors: Arc<Mutex<Vec<mpsc::Sender<Message>>>>) {
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Message>(8192);
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.feed(m).await.is_err() {
                return;
            }
            while let Ok(m) = rx.try_recv() {
                if sink.feed(m).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    const LOG: &str = r#"{"event":"log","data":"#;
    while let Some(Ok(m)) = stream.next().await {
        let Message::Text(t) = m else { continue };
        if t.starts_with(LOG) && t.ends_with('}') {
            let data = &t[LOG.len()..t.len() - 1];
            let mut p = String::with_capacity(t.len() + 40);
            p.push_str(r##"{"event":"#publish","data":{"channel":"log","data":"##);
            p.push_str(data);
            p.push_str("}}");
            let m = Message::text(p);
            for s in monitors.lock().unwrap().iter() {
                let _ = s.try_send(m.clone());
            }
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(&t) else {
            continue;
        };
        let Some(cid) = v["cid"].as_u64() else {
            continue;
        };
        let reply = match v["event"].as_str() {
            Some("#handshake") => format!(
                r#"{{"rid":{cid},"data":{{"id":"loopback{n}","pingTimeout":30000,"isAuthenticated":false}}}}"#
            ),
            Some("login") => {
                let ch = if v["data"] == "master" {
                    "respond"
                } else {
                    "log"
                };
                format!(r#"{{"rid":{cid},"data":"{ch}"}}"#)
            }
            Some("#subscribe") => {
                if v["data"]["channel"] == "log" {
                    monitors.lock().unwrap().push(tx.clone());
                }
                format!(r#"{{"rid":{cid}}}"#)
            }
            _ => continue,
        };
        if tx.send(Message::text(reply)).await.is_err() {
            break;
        }
    }
    monitors.lock().unwrap().retain(|s| !s.same_channel(&tx));
    writer.abort();
}

// ---------------------------------------------------------------- report

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Msgs/s as `1 234 567` (rounded half to even, as `{:.0}` does).
fn thousands(x: f64) -> String {
    sc::thousands(x.max(0.0).round_ties_even() as u64)
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), |c| format!("{c:.0} %"))
}

// ---------------------------------------------------------------- main

struct Scenario {
    name: String,
    apps: usize,
}

async fn bench(o: Opts) -> ExitCode {
    let frames = Arc::new(Frames::new(APP));
    let sample_tx = frames.transmit("Up_24t8RyzhUb1e8AAAB", "138uihzddk2", 2);
    let sample_pub = frames.publish("Up_24t8RyzhUb1e8AAAB", "138uihzddk2", 2);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let scenarios = [
        Scenario {
            name: "1 app → 1 monitor".into(),
            apps: 1,
        },
        Scenario {
            name: format!("{} apps → 1 monitor", o.apps),
            apps: o.apps,
        },
    ];
    println!(
        "relay throughput bench{}: {} cores, client runtime {} threads, ACTION frames {} B app→relay, {} B relay→monitor",
        if o.smoke { " (smoke test)" } else { "" },
        cores,
        o.client_threads,
        sample_tx.len(),
        sample_pub.len()
    );
    println!(
        "window W={} messages in flight (sent − received), shared by all apps of a scenario, taken {} at a time (one write per burst); {} × ({} s warm-up + {} s measured) per relay and scenario, ≤ {} msgs per run",
        o.window,
        o.burst(),
        o.repeat,
        o.warmup,
        o.secs,
        o.count
    );

    // Relays.
    let per_run = o.warmup + o.secs + 4.0;
    let lifetime = (per_run * (o.repeat * scenarios.len()) as f64 * 4.0) as u64 + 120;
    let mut targets: Vec<Target> = Vec::new();
    let mut unavailable: Vec<(String, String)> = Vec::new();
    for t in &o.targets {
        let r = match t.as_str() {
            "node" => start_node(lifetime).await,
            "roomtap" => start_roomtap().await,
            "loopback" => start_loopback().await,
            other => Err(format!(
                "unknown target {other:?} (node, roomtap, loopback)"
            )),
        };
        match r {
            Ok(t) => targets.push(t),
            Err(e) => {
                println!("{t}: not available ({e})");
                unavailable.push((t.clone(), e));
            }
        }
    }
    for (i, url) in o.extra.iter().enumerate() {
        targets.push(Target {
            label: format!("extra{}", i + 1),
            url: url.clone(),
            pid: None,
            note: "RELAY_BENCH_EXTRA (already running)".into(),
            _child: None,
            tasks: vec![],
        });
    }
    for t in &targets {
        println!(
            "  {:<9} {}  {}{}",
            t.label,
            t.url,
            t.note,
            t.pid.map_or(String::new(), |p| format!(" (pid {p})"))
        );
    }
    if targets.is_empty() {
        println!("nothing to measure");
        return ExitCode::FAILURE;
    }

    // results[scenario][target] = runs
    let mut results: Vec<Vec<Vec<RunStats>>> = vec![vec![Vec::new(); targets.len()]; 2];
    let mut errors: Vec<Vec<Option<String>>> = vec![vec![None; targets.len()]; 2];
    let total = o.repeat * scenarios.len() * targets.len();
    let mut k = 0;
    let started = Instant::now();
    for rep in 0..o.repeat {
        for (si, sc) in scenarios.iter().enumerate() {
            for (ti, t) in targets.iter().enumerate() {
                k += 1;
                let show = o.show && rep == 0;
                if show {
                    println!("  frames seen on {} ({}):", t.label, sc.name);
                }
                let r = run_once(&t.url, t.pid, sc.apps, &o, &frames, show).await;
                let head = format!(
                    "[{k:>2}/{total}] {:<20} {:<9} run {}:",
                    sc.name,
                    t.label,
                    rep + 1
                );
                match r {
                    Ok(st) => {
                        println!(
                            "{head} {:>9} msgs/s {:>7.1} MB/s  relay CPU {:>5}  client CPU {:>5}  lost {}  verified {}/{}{}",
                            thousands(st.msgs_s),
                            st.mb_s,
                            pct(st.relay_cpu),
                            pct(st.client_cpu),
                            st.lost,
                            st.verified,
                            st.verified + st.bad,
                            if st.stalled { "  STALLED" } else { "" }
                        );
                        results[si][ti].push(st);
                    }
                    Err(e) => {
                        println!("{head} FAILED: {e}");
                        errors[si][ti] = Some(e);
                    }
                }
            }
        }
    }

    // Table.
    println!();
    println!(
        "median of {} runs, {} s each after {} s warm-up; W={} in flight shared by the apps; {} B frames to the monitor; {:.0} s total",
        o.repeat,
        o.secs,
        o.warmup,
        o.window,
        sample_pub.len(),
        started.elapsed().as_secs_f64()
    );
    let node = targets.iter().position(|t| t.label == "node");
    let mut header = vec!["scenario".to_string()];
    for t in &targets {
        header.push(format!("{} msgs/s (MB/s)", t.label));
    }
    let ratio_of: Vec<usize> = (0..targets.len())
        .filter(|&i| Some(i) != node && targets[i].label != "loopback")
        .collect();
    if node.is_some() {
        for &i in &ratio_of {
            header.push(format!("{}/node", targets[i].label));
        }
    }
    for (name, _) in &unavailable {
        header.push(name.to_string());
    }
    let mut rows = vec![header];
    let med = |si: usize, ti: usize| -> Option<(f64, f64)> {
        let runs = &results[si][ti];
        if runs.is_empty() {
            return None;
        }
        let m = median(&runs.iter().map(|r| r.msgs_s).collect::<Vec<_>>());
        let mb = median(&runs.iter().map(|r| r.mb_s).collect::<Vec<_>>());
        Some((m, mb))
    };
    let mut verdicts = Vec::new();
    for (si, sc) in scenarios.iter().enumerate() {
        let mut row = vec![sc.name.clone()];
        for ti in 0..targets.len() {
            row.push(match med(si, ti) {
                Some((m, mb)) => {
                    let lossy = results[si][ti].iter().any(|r| r.lost > 0 || r.bad > 0);
                    let mark = if lossy { " LOSSY" } else { "" };
                    format!("{} ({mb:.1}){mark}", thousands(m))
                }
                None if errors[si][ti].is_some() => "failed".into(),
                None => "–".into(),
            });
        }
        if let Some(n) = node {
            for &i in &ratio_of {
                row.push(match (med(si, i), med(si, n)) {
                    (Some((a, _)), Some((b, _))) if b > 0.0 => {
                        if targets[i].label == "roomtap" {
                            verdicts.push((sc.name.clone(), a / b));
                        }
                        format!("{:.1}×", a / b)
                    }
                    _ => "–".into(),
                });
            }
        }
        for _ in &unavailable {
            row.push("not available".into());
        }
        rows.push(row);
    }
    print_table(&rows);

    // CPU and losses.
    println!();
    for (ti, t) in targets.iter().enumerate() {
        let mut parts = Vec::new();
        for (si, sc) in scenarios.iter().enumerate() {
            let runs = &results[si][ti];
            if runs.is_empty() {
                continue;
            }
            let rc: Vec<f64> = runs.iter().filter_map(|r| r.relay_cpu).collect();
            let cc: Vec<f64> = runs.iter().filter_map(|r| r.client_cpu).collect();
            let lost: u64 = runs.iter().map(|r| r.lost).sum();
            let bad: u64 = runs.iter().map(|r| r.bad).sum();
            let stalled = runs.iter().filter(|r| r.stalled).count();
            let mut s = format!(
                "{}: relay CPU {}, client CPU {}",
                sc.name,
                pct((!rc.is_empty()).then(|| median(&rc))),
                pct((!cc.is_empty()).then(|| median(&cc)))
            );
            if lost > 0 {
                let _ = write!(s, ", LOST {lost}");
            }
            if bad > 0 {
                let _ = write!(s, ", {bad} MISMATCHED frames");
            }
            if stalled > 0 {
                let _ = write!(s, ", {stalled} runs stalled");
            }
            parts.push(s);
        }
        if !parts.is_empty() {
            println!("  {:<9} {}", t.label, parts.join("; "));
        }
    }
    println!(
        "  (CPU = % of one core over the measured seconds; {cores} cores shared by relay and client)"
    );
    for (name, e) in &unavailable {
        println!("  {name}: not available ({e})");
    }
    if !verdicts.is_empty() {
        let worst = verdicts.iter().map(|v| v.1).fold(f64::INFINITY, f64::min);
        println!(
            "target roomtap ≥ 10× node: {} (worst scenario {:.1}×)",
            if worst >= 10.0 { "MET" } else { "NOT MET" },
            worst
        );
    }
    println!("reproduce: {}", o.repro());
    let failed = results.iter().flatten().all(Vec::is_empty);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let o = Opts::from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.client_threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = rt.block_on(bench(o));
    // Children are killed on drop (kill_on_drop) when `bench` returns.
    rt.shutdown_timeout(Duration::from_secs(1));
    code
}
