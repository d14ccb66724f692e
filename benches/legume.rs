//! Legume ingest (issue #19 §7): datagrams per second decoded and applied
//! on one core, 20-byte and 1 400-byte datagrams, with and without a schema,
//! against the real legume 0.5 `Client` receiving the same stream in the
//! same run.
//!
//! `nice cargo bench --bench legume` runs, for each datagram size,
//! `LEGUME_BENCH_REPEAT` times, interleaved (each repeat: 20 B to every
//! receiver, then 1 400 B to every receiver):
//!
//! - the server: the bench itself, in Rust, on a UDP socket of its own on
//!   `127.0.0.1:0`, fresh for each run. A thread of the bench waits for the
//!   client's ConnectRequest (reliable, type 2), answers MessageAck and a
//!   reliable ConnectRequestAccepted (type 4), and once the receiver says it
//!   is connected, streams N datagrams of unreliable user messages (flags
//!   0), every message with a fresh, increasing id (u16, wrapping: legume
//!   drops an id seen among its last 1000); what the client sends meanwhile
//!   (acks, pings) is read and ignored. The datagrams are built before the
//!   run with `wire::datagram::user_message` (only the message ids are
//!   written in as each goes out);
//! - the datagrams: **20 B**, one `Tick` (type 22: seq `int`, x `float`,
//!   room `short`: 6 + 14 bytes), declared in the bench's schema and in
//!   `tests/peers/legume/bench_client.py`; **1 400 B** (legume's MTU), ten
//!   `Chat` messages (type 20, the layout of `tests/peers/legume/
//!   peer_messages.py`: sender `string 8`, text `varstring`, seq `int`, x
//!   `float`, flag `bool`, small `short`, tiny `uchar`), 140 bytes each, the
//!   text 108 ASCII bytes: many messages per datagram, as legume packs them;
//! - `roomtap`: a `LegumeSource` (its `LegumeConfig` with the bench's
//!   schema) attached through `roomtap::wiring::Wiring` to a
//!   `roomtap::store::Store`, as roomtap attaches it, the wiring's events
//!   applied to the store as they come; all of it (socket, decoding, the
//!   source's task, the store) on ONE thread, a current-thread tokio
//!   runtime: the figure is one core's. Counted: the store's Logs entries of
//!   the message's kind (`Tick`, `Chat`: one per message, its fields as
//!   JSON data), their number ÷ messages per datagram;
//! - `roomtap, no schema`: the same with an empty schema: each datagram is
//!   one entry (`type 22`, `type 20`: the type id, the message id and the
//!   bytes, in hex), since without a schema the first user message ends a
//!   datagram's decoding (a message's length comes from its type): this
//!   counts datagrams, not messages;
//! - `legume`: the real PyPI `legume` 0.5 `Client` through
//!   `tests/peers/legume/bench_client.py` (its venv:
//!   `tests/peers/legume/install.sh`), which always needs its message
//!   classes (it cannot decode without them: measured once per size). It
//!   counts `OnMessage` calls and prints `{"event":"progress","n":N}` every
//!   K messages, and whenever an `update()` brings nothing new while some
//!   are unreported; a thread of the bench reads its stdout.
//!
//! Pacing: UDP drops what a full receive buffer cannot hold, so the sender
//! stays at most W datagrams ahead of what the receiver has counted
//! (processed: applied to the store, or handed to `OnMessage`), sending up
//! to 32 at a time with `sendmmsg`. W is half of what a socket with the
//! default receive buffer was measured to hold, per size, at the start (on
//! this VM, 212 992 bytes of `rmem_default`: 256 datagrams of 20 B, 92 of
//! 1 400 B, so W = 128 and 46). The margin is needed: the kernel frees a
//! socket's buffer in batches as it is read, and W = 88 of 92 lost 1 400 B
//! datagrams. K = 16 messages. Both receivers use default buffers. What did
//! not arrive is lost (N − delivered), and the kernel's UDP `RcvbufErrors`
//! over the run (system-wide) is said when not zero.
//!
//! Timed from the first datagram sent (once the receiver is connected) to
//! the moment the receiver has counted all N. Per run: datagrams/s,
//! messages/s, MB/s of datagram payload (MB = 10^6 B), what was lost, the
//! CPU used (% of one core, from `/proc/…/schedstat`, in ns): the receiver
//! (roomtap's runtime thread, or the Python process), the sender thread, and
//! the whole bench process; and datagrams per CPU-second of the receiver,
//! which other load on the machine moves less than the wall-clock figure.
//! The tables show the median of the repeats by datagrams/s, the ratio
//! roomtap/legume for each size, the most lost in any repeat, and the load
//! average before and after.
//!
//! Every wait is bounded (`LEGUME_BENCH_TIMEOUT` seconds per run, and a run
//! with no progress for `LEGUME_BENCH_STALL` seconds ends there, what is
//! missing counted lost; the handshake within 20 s); the server binds
//! 127.0.0.1 only; roomtap's client says goodbye and its task is waited
//! for; the Python child is asked to quit (its stdin closed) and killed if
//! it has not within 3 s, and killed on any other way out (its guard's drop;
//! its `--lifetime` bounds it too).
//!
//! Environment (defaults in brackets): `LEGUME_BENCH_N` N for both sizes,
//! `LEGUME_BENCH_N_20` [180000], `LEGUME_BENCH_N_1400` [15000] (legume takes
//! ~40 000 and ~3 000 datagrams/s: these keep a legume run near 5 s, a
//! roomtap run near 0.5 s with the schema, the whole bench under 40 s, and
//! the store under its 200 000 entries), `LEGUME_BENCH_REPEAT` [3],
//! `LEGUME_BENCH_PEERS` [roomtap,roomtap-hex,legume], `LEGUME_BENCH_WINDOW`
//! [measured: W for both sizes], `LEGUME_BENCH_EVERY` [16: K],
//! `LEGUME_BENCH_TIMEOUT` [60], `LEGUME_BENCH_STALL` [5].
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a short smoke
//! version (2 000 and 200 datagrams, once; legume only if its venv is
//! there).

use std::fmt::Write as _;
use std::io::{ErrorKind, Write as _};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{
    AtomicBool, AtomicU16, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roomtap::protocols::legume::client::LegumeConfig;
use roomtap::protocols::legume::client::source::LegumeSource;
use roomtap::protocols::legume::wire::datagram::{self, Body, FieldValue, RELIABLE};
use roomtap::protocols::legume::wire::schema::Schema;
use serde_json::Value;
use tokio::time::Instant;

#[path = "sc/mod.rs"]
mod sc;
use sc::{StoreSink, load_average, print_table, thousands};

/// As the binary runs (`src/main.rs`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The bench's schema: `Chat` and `Pos` as `peer_messages.py` declares
/// them, `Tick` as `bench_client.py` does.
const SCHEMA: &str = r#"
[[message]]
id = 20
name = "Chat"
fields = [
  { name = "sender", type = "string 8" },
  { name = "text",   type = "varstring" },
  { name = "seq",    type = "int" },
  { name = "x",      type = "float" },
  { name = "flag",   type = "bool" },
  { name = "small",  type = "short" },
  { name = "tiny",   type = "uchar" },
]

[[message]]
id = 21
name = "Pos"
fields = [
  { name = "who", type = "string 8" },
  { name = "x",   type = "float" },
  { name = "y",   type = "float" },
]

[[message]]
id = 22
name = "Tick"
fields = [
  { name = "seq",  type = "int" },
  { name = "x",    type = "float" },
  { name = "room", type = "short" },
]
"#;

/// How long the receiver may take to start and connect (Python imports
/// legume first).
const CONNECT: Duration = Duration::from_secs(20);

/// Datagrams per run, by default.
const DEFAULT_N_20: usize = 180_000;
const DEFAULT_N_1400: usize = 15_000;

const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ";

// ---------------------------------------------------------------- options

/// A datagram size and what fills it.
struct Shape {
    label: &'static str,
    /// Bytes of one datagram.
    bytes: usize,
    /// Messages in one datagram.
    per: usize,
    /// The message (its name in the schema).
    name: &'static str,
    type_id: u8,
}

const SHAPES: [Shape; 2] = [
    Shape {
        label: "20 B",
        bytes: 20,
        per: 1,
        name: "Tick",
        type_id: 22,
    },
    Shape {
        label: "1 400 B",
        bytes: 1400,
        per: 10,
        name: "Chat",
        type_id: 20,
    },
];

/// Who receives the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    /// roomtap with the schema.
    Roomtap,
    /// roomtap with an empty schema (hex).
    Hex,
    /// The real legume Client.
    Legume,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    /// Its name in `LEGUME_BENCH_PEERS`.
    name: &'static str,
    label: &'static str,
    peer: Peer,
}

const TARGETS: [Target; 3] = [
    Target {
        name: "roomtap",
        label: "roomtap, schema",
        peer: Peer::Roomtap,
    },
    Target {
        name: "roomtap-hex",
        label: "roomtap, no schema",
        peer: Peer::Hex,
    },
    Target {
        name: "legume",
        label: "legume Client",
        peer: Peer::Legume,
    },
];

struct Opts {
    /// N per shape.
    n: [usize; 2],
    repeat: usize,
    targets: Vec<Target>,
    /// W for both sizes, when given.
    window: Option<u64>,
    /// K.
    every: u64,
    timeout: Duration,
    stall: Duration,
    smoke: bool,
}

impl Opts {
    fn from_env() -> Opts {
        const B: &str = "legume bench";
        let smoke = !std::env::args().any(|a| a == "--bench");
        let (n20, n1400, repeat) = if smoke {
            (2_000, 200, 1)
        } else {
            (DEFAULT_N_20, DEFAULT_N_1400, 3)
        };
        let both: Option<usize> = std::env::var("LEGUME_BENCH_N")
            .ok()
            .and_then(|v| v.trim().parse().ok());
        let n20 = sc::env_or(B, "LEGUME_BENCH_N_20", both.unwrap_or(n20)).clamp(1, 10_000_000);
        let n1400 = sc::env_or(B, "LEGUME_BENCH_N_1400", both.unwrap_or(n1400)).clamp(1, 200_000);
        let names = std::env::var("LEGUME_BENCH_PEERS")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "roomtap,roomtap-hex,legume".into());
        let names: Vec<&str> = names.split(',').map(str::trim).collect();
        for n in &names {
            if !TARGETS.iter().any(|t| t.name == *n) {
                eprintln!(
                    "{B}: ignoring {n:?} in LEGUME_BENCH_PEERS (roomtap, roomtap-hex, legume)"
                );
            }
        }
        let window = sc::env_or(B, "LEGUME_BENCH_WINDOW", 0u64);
        Opts {
            n: [n20, n1400],
            repeat: sc::env_or(B, "LEGUME_BENCH_REPEAT", repeat).clamp(1, 20),
            targets: TARGETS
                .iter()
                .filter(|t| names.contains(&t.name))
                .copied()
                .collect(),
            window: (window > 0).then_some(window.min(100_000)),
            every: sc::env_or(B, "LEGUME_BENCH_EVERY", 16u64).clamp(1, 100_000),
            timeout: Duration::from_secs_f64(
                sc::env_or(B, "LEGUME_BENCH_TIMEOUT", 60.0f64).clamp(1.0, 600.0),
            ),
            stall: Duration::from_secs_f64(
                sc::env_or(B, "LEGUME_BENCH_STALL", 5.0f64).clamp(0.5, 600.0),
            ),
            smoke,
        }
    }

    fn repro(&self) -> String {
        let names: Vec<&str> = self.targets.iter().map(|t| t.name).collect();
        format!(
            "LEGUME_BENCH_N_20={} LEGUME_BENCH_N_1400={} LEGUME_BENCH_REPEAT={} LEGUME_BENCH_PEERS={} {}LEGUME_BENCH_EVERY={} LEGUME_BENCH_TIMEOUT={} LEGUME_BENCH_STALL={} nice cargo bench --bench legume",
            self.n[0],
            self.n[1],
            self.repeat,
            names.join(","),
            self.window
                .map(|w| format!("LEGUME_BENCH_WINDOW={w} "))
                .unwrap_or_default(),
            self.every,
            self.timeout.as_secs_f64(),
            self.stall.as_secs_f64()
        )
    }
}

// ---------------------------------------------------------------- the stream

/// N datagrams of one shape, built before the runs; their message ids are
/// written in as each goes out.
struct Stream {
    shape: &'static Shape,
    n: usize,
    /// The datagrams back to back, `shape.bytes` each, message ids 0.
    data: Vec<u8>,
    /// Where each message starts in a datagram.
    offsets: Vec<usize>,
    /// The first message's fields, as JSON.
    first: Value,
}

/// Message `m`'s values (`text` only for a `Chat`).
fn values(shape: &Shape, m: usize, text: &str) -> Vec<FieldValue> {
    match shape.name {
        "Tick" => vec![
            FieldValue::Int(m as i32),
            FieldValue::Float(m as f64 + 0.25),
            FieldValue::Short(m as u16),
        ],
        _ => vec![
            FieldValue::Str("bench".into()),
            FieldValue::Str(text.into()),
            FieldValue::Int(m as i32),
            FieldValue::Float(m as f64 + 0.25),
            FieldValue::Bool((m % 2) as i8),
            FieldValue::Short(m as u16),
            FieldValue::UChar(m as u8),
        ],
    }
}

impl Stream {
    fn build(shape: &'static Shape, n: usize, schema: &Schema) -> Result<Stream, String> {
        let def = schema
            .named(shape.name)
            .ok_or_else(|| format!("{} is not in the bench's schema", shape.name))?;
        let each = shape.bytes / shape.per;
        // A Chat's text fills the message to `each` bytes (ASCII: a byte
        // a character, as legume counts them).
        let bare = datagram::user_message(0, 0, def, &values(shape, 0, ""))?.len();
        let fill = each.checked_sub(bare).ok_or("the message does not fit")?;
        let text = |m: usize| -> String {
            if shape.name != "Chat" {
                return String::new();
            }
            let mut t = format!("message {m:08}: ");
            while t.len() < fill {
                t.push_str(LOREM);
            }
            t.truncate(fill);
            t
        };
        let mut data = Vec::with_capacity(n * shape.bytes);
        let mut offsets = Vec::new();
        for i in 0..n {
            let start = data.len();
            for j in 0..shape.per {
                let m = i * shape.per + j;
                if i == 0 {
                    offsets.push(data.len() - start);
                }
                data.extend(datagram::user_message(
                    0,
                    0,
                    def,
                    &values(shape, m, &text(m)),
                )?);
            }
            if data.len() - start != shape.bytes {
                return Err(format!(
                    "datagram {i} is {} bytes, not {}",
                    data.len() - start,
                    shape.bytes
                ));
            }
        }
        let mut first = serde_json::Map::new();
        for (f, v) in def.fields.iter().zip(values(shape, 0, &text(0))) {
            first.insert(f.name.clone(), v.to_json());
        }
        Ok(Stream {
            shape,
            n,
            data,
            offsets,
            first: Value::Object(first),
        })
    }

    fn datagram(&self, i: usize) -> &[u8] {
        let b = self.shape.bytes;
        &self.data[i * b..(i + 1) * b]
    }

    /// Datagram `i` in `buf`, its message ids counted from `base`.
    fn fill(&self, buf: &mut [u8], i: usize, base: u16) {
        buf.copy_from_slice(self.datagram(i));
        for (j, &off) in self.offsets.iter().enumerate() {
            let id = base.wrapping_add((i * self.shape.per + j) as u16);
            buf[off..off + 2].copy_from_slice(&id.to_be_bytes());
        }
    }
}

/// How many datagrams of `bytes` a socket with the default receive buffer
/// holds (4096 sent to one that does not read).
fn buffer_holds(bytes: usize) -> Result<u64, String> {
    let e = |e: std::io::Error| format!("probing the receive buffer: {e}");
    let r = UdpSocket::bind("127.0.0.1:0").map_err(e)?;
    let s = UdpSocket::bind("127.0.0.1:0").map_err(e)?;
    s.connect(r.local_addr().map_err(e)?).map_err(e)?;
    let d = vec![0u8; bytes];
    for _ in 0..4096 {
        s.send(&d).map_err(e)?;
    }
    r.set_nonblocking(true).map_err(e)?;
    let mut buf = vec![0u8; 2048];
    let mut n = 0;
    while r.recv(&mut buf).is_ok() {
        n += 1;
    }
    Ok(n)
}

/// The kernel's UDP `RcvbufErrors` (`/proc/net/snmp`, system-wide).
fn rcvbuf_errors() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut udp = s.lines().filter(|l| l.starts_with("Udp: "));
    let names: Vec<&str> = udp.next()?.split_whitespace().collect();
    let vals: Vec<&str> = udp.next()?.split_whitespace().collect();
    let at = names.iter().position(|n| *n == "RcvbufErrors")?;
    vals.get(at)?.parse().ok()
}

/// Seconds on a CPU of one task (`schedstat`'s first field, in ns: finer
/// than the 10 ms ticks of `stat`).
fn sched_secs(path: &str) -> Option<f64> {
    let s = std::fs::read_to_string(path).ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// CPU seconds of every thread of a process (`None`: this one).
fn process_cpu(pid: Option<u32>) -> Option<f64> {
    let dir = match pid {
        Some(p) => format!("/proc/{p}/task"),
        None => "/proc/self/task".into(),
    };
    let mut sum = 0.0;
    for e in std::fs::read_dir(&dir).ok()? {
        let e = e.ok()?;
        sum += sched_secs(&format!(
            "{dir}/{}/schedstat",
            e.file_name().to_string_lossy()
        ))
        .unwrap_or(0.0);
    }
    Some(sum)
}

/// CPU seconds of one thread of this process: the calling one, or a task id.
fn thread_cpu(tid: Option<u32>) -> Option<f64> {
    match tid {
        Some(t) => sched_secs(&format!("/proc/self/task/{t}/schedstat")),
        None => sched_secs("/proc/thread-self/schedstat"),
    }
}

// ---------------------------------------------------------------- the server

/// Between the run and its server thread.
#[derive(Default)]
struct Ctl {
    /// The receiver is connected: stream.
    go: AtomicBool,
    /// The run is over: the thread ends.
    stop: AtomicBool,
    /// ConnectRequestAccepted was sent.
    accepted: AtomicBool,
    /// Datagrams the receiver has counted (processed).
    done: AtomicU64,
    /// The id of the first user message.
    base: AtomicU16,
    /// When the first datagram went.
    started: Mutex<Option<std::time::Instant>>,
}

/// What the server thread did.
#[derive(Default)]
struct Served {
    sent: u64,
    /// Why it stopped early, if it did.
    trouble: Option<String>,
    /// CPU seconds of the thread while it streamed.
    cpu: Option<f64>,
    /// Datagrams the client sent it (acks, pings).
    heard: u64,
}

/// Legume's server end for one client: the handshake, then the stream,
/// at most `window` datagrams ahead of `ctl.done`.
fn serve(
    sock: Arc<UdpSocket>,
    stream: Arc<Stream>,
    window: u64,
    ctl: Arc<Ctl>,
    by: std::time::Instant,
) -> Served {
    let mut out = Served::default();
    let mut buf = [0u8; 2048];
    let mut next_id: u16 = 1;
    let mut peer: Option<SocketAddr> = None;
    if let Err(e) = sock.set_read_timeout(Some(Duration::from_millis(20))) {
        out.trouble = Some(format!("set_read_timeout: {e}"));
        return out;
    }
    // The handshake, then what the client says until the go.
    loop {
        if ctl.stop.load(Acquire) {
            return out;
        }
        if peer.is_some() && ctl.go.load(Acquire) {
            break;
        }
        if peer.is_none() && std::time::Instant::now() >= by {
            out.trouble = Some("no ConnectRequest came".into());
            return out;
        }
        let (len, from) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock
                        | ErrorKind::TimedOut
                        | ErrorKind::Interrupted
                        | ErrorKind::ConnectionRefused
                ) =>
            {
                continue;
            }
            Err(e) => {
                out.trouble = Some(format!("recv_from: {e}"));
                return out;
            }
        };
        out.heard += 1;
        if peer.is_some_and(|p| p != from) {
            continue;
        }
        let d = datagram::decode(&buf[..len], &Schema::default());
        for m in d.messages {
            if !matches!(m.body, Body::ConnectRequest { .. }) {
                continue;
            }
            let ack = datagram::system(
                next_id,
                0,
                &Body::MessageAck {
                    id: i32::from(m.header.id),
                },
            );
            next_id += 1;
            let _ = sock.send_to(&ack, from);
            if peer.is_none() {
                let acc = datagram::system(next_id, RELIABLE, &Body::ConnectRequestAccepted);
                next_id += 1;
                let _ = sock.send_to(&acc, from);
                peer = Some(from);
                ctl.accepted.store(true, Release);
                // From now on the go is waited for: look often.
                let _ = sock.set_read_timeout(Some(Duration::from_millis(1)));
            }
        }
    }
    let Some(peer) = peer else { return out };
    if let Err(e) = sock.connect(peer).and_then(|()| sock.set_nonblocking(true)) {
        out.trouble = Some(format!("connect/set_nonblocking: {e}"));
        return out;
    }
    let base = next_id;
    ctl.base.store(base, Release);
    let cpu0 = thread_cpu(None);
    *ctl.started.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
    let size = stream.shape.bytes;
    let mut batch = vec![0u8; BATCH * size];
    let mut i = 0usize;
    let mut idle = 0u32;
    let drain = |out: &mut Served, buf: &mut [u8]| {
        while sock.recv(buf).is_ok() {
            out.heard += 1;
        }
    };
    while i < stream.n {
        if ctl.stop.load(Relaxed) {
            break;
        }
        let room = (ctl.done.load(Acquire) + window).saturating_sub(i as u64) as usize;
        if room > 0 {
            let k = room.min(BATCH).min(stream.n - i);
            for b in 0..k {
                stream.fill(&mut batch[b * size..(b + 1) * size], i + b, base);
            }
            match send_batch(&sock, &batch[..k * size], size) {
                Ok(m) => i += m,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                    std::thread::yield_now()
                }
                Err(e) => {
                    out.trouble = Some(format!("sendmmsg (from datagram {i}): {e}"));
                    break;
                }
            }
            idle = 0;
        } else {
            idle += 1;
            if idle % 64 == 1 {
                drain(&mut out, &mut buf);
            }
            if idle < 100 {
                std::hint::spin_loop();
            } else if idle < 200 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(20));
            }
        }
    }
    out.sent = i as u64;
    out.cpu = cpu0.zip(thread_cpu(None)).map(|(a, b)| b - a);
    // Keep reading what the client says until the run is over.
    while !ctl.stop.load(Acquire) {
        drain(&mut out, &mut buf);
        std::thread::sleep(Duration::from_millis(2));
    }
    out
}

/// Datagrams sent in one `sendmmsg` at most.
const BATCH: usize = 32;

/// `bufs` (datagrams of `size` bytes back to back) in one `sendmmsg` on the
/// connected `sock`: how many went.
fn send_batch(sock: &UdpSocket, bufs: &[u8], size: usize) -> std::io::Result<usize> {
    use rustix::net::{MMsgHdr, SendAncillaryBuffer, SendFlags, sendmmsg};
    use std::io::IoSlice;
    let iovs: Vec<[IoSlice<'_>; 1]> = bufs.chunks(size).map(|c| [IoSlice::new(c)]).collect();
    let mut ctrls: Vec<SendAncillaryBuffer<'_, '_, '_>> = iovs
        .iter()
        .map(|_| SendAncillaryBuffer::default())
        .collect();
    let mut hdrs: Vec<MMsgHdr<'_>> = iovs
        .iter()
        .zip(ctrls.iter_mut())
        .map(|(iov, c)| MMsgHdr::new(iov, c))
        .collect();
    Ok(sendmmsg(sock, &mut hdrs, SendFlags::empty())?)
}

/// The server thread, its socket, and the run's controls.
struct Server {
    sock: Arc<UdpSocket>,
    ctl: Arc<Ctl>,
    thread: Option<std::thread::JoinHandle<Served>>,
}

impl Server {
    fn start(stream: &Arc<Stream>, window: u64) -> Result<Server, String> {
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
        let sock = Arc::new(sock);
        let ctl = Arc::new(Ctl::default());
        let (s, st, c) = (sock.clone(), stream.clone(), ctl.clone());
        let by = std::time::Instant::now() + CONNECT;
        let thread = std::thread::Builder::new()
            .name("legume-server".into())
            .spawn(move || serve(s, st, window, c, by))
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        Ok(Server {
            sock,
            ctl,
            thread: Some(thread),
        })
    }

    fn addr(&self) -> Result<SocketAddr, String> {
        self.sock
            .local_addr()
            .map_err(|e| format!("local_addr: {e}"))
    }

    /// Stop the thread (it looks every 20 ms at most) and take its report.
    async fn stop(&mut self) -> Served {
        self.ctl.stop.store(true, Release);
        let Some(h) = self.thread.take() else {
            return Served::default();
        };
        let by = Instant::now() + Duration::from_secs(5);
        while !h.is_finished() {
            if Instant::now() >= by {
                return Served {
                    trouble: Some("the server thread did not stop within 5 s (left behind)".into()),
                    ..Served::default()
                };
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        h.join().unwrap_or_else(|_| Served {
            trouble: Some("the server thread panicked".into()),
            ..Served::default()
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.ctl.stop.store(true, Release);
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}

// ---------------------------------------------------------------- roomtap

/// A log entry's data and bytes.
type Kept = (Option<Arc<str>>, Option<Arc<[u8]>>);

/// roomtap: its legume client attached to a store (`sc::StoreSink`), the
/// entries of one kind counted.
struct Roomtap {
    sink: StoreSink,
    /// The kind counted.
    kind: String,
    /// Entries of that kind seen.
    count: u64,
    /// The first one's data and bytes.
    first: Option<Kept>,
}

impl Roomtap {
    async fn start(addr: SocketAddr, schema: Arc<Schema>, kind: String) -> Result<Roomtap, String> {
        let mut cfg = LegumeConfig::new(&addr.to_string());
        if !schema.is_empty() {
            cfg.schema = schema;
            cfg.schema_from = Some("the bench's schema".into());
        }
        Ok(Roomtap {
            sink: StoreSink::attach(Box::new(LegumeSource::new("legume", cfg))).await?,
            kind,
            count: 0,
            first: None,
        })
    }

    fn connected(&self) -> bool {
        self.sink.connected()
    }

    /// Apply what has come (waiting at most until `until`) and count the
    /// new entries of the kind.
    async fn pump(&mut self, until: Instant) {
        let (kind, count, first) = (&self.kind, &mut self.count, &mut self.first);
        self.sink
            .pump(until, |e| {
                if e.kind == kind.as_str() {
                    *count += 1;
                    if first.is_none() {
                        *first = Some((e.data.clone(), e.bytes.clone()));
                    }
                }
            })
            .await;
    }

    /// Its goodbye (Disconnected), then its task ends (its command route
    /// dropped): waited for, 3 s at most.
    async fn stop(mut self) -> Result<(), String> {
        if self.sink.stop(Duration::from_secs(3)).await {
            Ok(())
        } else {
            Err("roomtap's client task did not end within 3 s".into())
        }
    }
}

// ---------------------------------------------------------------- legume

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/legume")
}

fn legume_python() -> Result<PathBuf, String> {
    let py = peer_dir().join("venv/bin/python");
    if py.exists() {
        Ok(py)
    } else {
        Err(format!(
            "{} is missing: run tests/peers/legume/install.sh",
            py.display()
        ))
    }
}

/// What `bench_client.py` said, read by a thread of the bench.
#[derive(Default)]
struct Heard {
    connected: AtomicBool,
    /// Messages it has counted.
    messages: AtomicU64,
    /// Its stdout closed.
    ended: AtomicBool,
    /// When it had counted them all.
    all_at: Mutex<Option<Instant>>,
    first: Mutex<Option<Value>>,
    /// Lines that say something went wrong.
    trouble: Mutex<Vec<String>>,
}

/// `bench_client.py`: killed (and reaped) on drop, whatever the way out.
struct Legume {
    peer: sc::Peer,
    heard: Arc<Heard>,
}

impl Legume {
    /// The client, started; `ctl.done` follows its progress (÷ `per`).
    fn start(
        addr: SocketAddr,
        every: u64,
        lifetime: Duration,
        ctl: Arc<Ctl>,
        per: u64,
        total: u64,
    ) -> Result<Legume, String> {
        let py = legume_python()?;
        let mut cmd = std::process::Command::new(&py);
        cmd.arg(peer_dir().join("bench_client.py"))
            .arg("--host")
            .arg(addr.ip().to_string())
            .arg("--port")
            .arg(addr.port().to_string())
            .arg("--every")
            .arg(every.to_string())
            .arg("--lifetime")
            .arg(format!("{:.0}", lifetime.as_secs_f64()))
            .current_dir(peer_dir());
        let heard = Arc::new(Heard::default());
        let h = heard.clone();
        let peer = sc::Peer::spawn(cmd, move |line| {
            let Some(line) = line else {
                h.ended.store(true, Release);
                return;
            };
            let Ok(v) = serde_json::from_slice::<Value>(line) else {
                return;
            };
            match v["event"].as_str() {
                Some("progress") => {
                    let n = v["n"].as_u64().unwrap_or(0);
                    h.messages.store(n, Relaxed);
                    ctl.done.store(n / per, Release);
                    if n >= total {
                        let mut a = h.all_at.lock().unwrap_or_else(|p| p.into_inner());
                        a.get_or_insert_with(Instant::now);
                    }
                }
                Some("connected") => h.connected.store(true, Release),
                Some("first") => {
                    *h.first.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
                }
                Some("start" | "done") => {}
                _ => {
                    sc::note_trouble(&h.trouble, line);
                }
            }
        })?;
        Ok(Legume { peer, heard })
    }

    fn pid(&self) -> u32 {
        self.peer.pid()
    }

    /// Close its stdin (it quits); killed if it has not within 3 s.
    async fn stop(self) {
        self.peer.stop(None).await;
    }
}

// ---------------------------------------------------------------- a run

/// What one run measured.
#[derive(Debug, Clone)]
struct Outcome {
    n: usize,
    /// Bytes of a datagram.
    size: usize,
    /// Messages per datagram (1 without a schema: one entry each).
    per: usize,
    /// Messages counted (entries, OnMessage calls).
    messages: u64,
    /// Whether messages are counted (not without a schema).
    decodes: bool,
    /// Until all N were counted, or the wait ended.
    secs: f64,
    /// Log entries the store evicted (counted as delivered, said).
    evicted: u64,
    complete: bool,
    /// CPU seconds over the run: the receiver (roomtap's runtime thread or
    /// the Python process), the sender thread, the bench process.
    cpu_recv: Option<f64>,
    cpu_sender: Option<f64>,
    cpu_self: Option<f64>,
    notes: Vec<String>,
}

impl Outcome {
    fn delivered(&self) -> u64 {
        self.messages / self.per as u64
    }

    fn rate(&self) -> f64 {
        self.delivered() as f64 / self.secs.max(1e-9)
    }

    fn msg_rate(&self) -> f64 {
        self.messages as f64 / self.secs.max(1e-9)
    }

    fn mbps(&self) -> f64 {
        self.rate() * self.size as f64 / 1e6
    }

    fn lost(&self) -> u64 {
        self.n as u64 - self.delivered().min(self.n as u64)
    }

    /// % of one core.
    fn pct(&self, c: Option<f64>) -> String {
        match c {
            Some(c) if self.secs > 0.0 => format!("{:.0} %", c / self.secs * 100.0),
            _ => "–".into(),
        }
    }

    /// Datagrams per second of the receiver's CPU time.
    fn per_cpu(&self) -> Option<f64> {
        self.cpu_recv
            .filter(|c| *c > 0.0)
            .map(|c| self.delivered() as f64 / c)
    }

    fn line(&self) -> String {
        let mut s = format!(
            "{} of {} datagrams in {:.3} s: {} datagrams/s",
            thousands(self.delivered()),
            thousands(self.n as u64),
            self.secs,
            thousands(self.rate() as u64),
        );
        if self.decodes {
            let _ = write!(s, ", {} messages/s", thousands(self.msg_rate() as u64));
        }
        let _ = write!(
            s,
            " ({:.1} MB/s), lost {}",
            self.mbps(),
            thousands(self.lost())
        );
        if self.evicted > 0 {
            let _ = write!(
                s,
                " ({} entries since evicted by the store's limits)",
                thousands(self.evicted)
            );
        }
        if !self.complete {
            s.push_str(", INCOMPLETE (timed out or stalled)");
        }
        if let Some(r) = self.per_cpu() {
            let _ = write!(
                s,
                "; {} datagrams per CPU-second of the receiver",
                thousands(r as u64)
            );
        }
        let _ = write!(
            s,
            "; CPU: receiver {}, sender thread {}, bench process {}",
            self.pct(self.cpu_recv),
            self.pct(self.cpu_sender),
            self.pct(self.cpu_self)
        );
        for n in &self.notes {
            let _ = write!(s, "; {n}");
        }
        s
    }
}

enum Receiving {
    Roomtap(Box<Roomtap>),
    Legume(Legume),
}

/// One run: a fresh server and receiver, the stream sent to it.
async fn run(
    t: Target,
    stream: &Arc<Stream>,
    window: u64,
    schema: &Arc<Schema>,
    o: &Opts,
) -> Result<Outcome, String> {
    let shape = stream.shape;
    let n = stream.n;
    let mut server = Server::start(stream, window)?;
    let addr = server.addr()?;
    let ctl = server.ctl.clone();
    // Entries (roomtap) or messages (legume) per datagram.
    let per = match t.peer {
        Peer::Hex => 1,
        _ => shape.per,
    };
    let total = (n * per) as u64;
    let mut rx = match t.peer {
        Peer::Roomtap => Receiving::Roomtap(Box::new(
            Roomtap::start(addr, schema.clone(), shape.name.into()).await?,
        )),
        Peer::Hex => Receiving::Roomtap(Box::new(
            Roomtap::start(
                addr,
                Arc::new(Schema::default()),
                format!("type {}", shape.type_id),
            )
            .await?,
        )),
        Peer::Legume => {
            let lifetime = o.timeout + CONNECT + Duration::from_secs(30);
            Receiving::Legume(Legume::start(
                addr,
                o.every,
                lifetime,
                ctl.clone(),
                per as u64,
                total,
            )?)
        }
    };
    // Connected, both ends, within CONNECT.
    let by = Instant::now() + CONNECT;
    loop {
        let connected = match &rx {
            Receiving::Roomtap(r) => r.connected(),
            Receiving::Legume(l) => l.heard.connected.load(Acquire),
        };
        if connected && ctl.accepted.load(Acquire) {
            break;
        }
        let ended = match &rx {
            Receiving::Roomtap(r) => r.sink.ended(),
            Receiving::Legume(l) => l.heard.ended.load(Acquire),
        };
        if Instant::now() >= by || ended {
            let served = server.stop().await;
            let mut why = format!("the receiver did not connect within {CONNECT:?}");
            if let Some(t) = served.trouble {
                let _ = write!(why, " (server: {t})");
            }
            match rx {
                Receiving::Roomtap(r) => {
                    let _ = r.stop().await;
                }
                Receiving::Legume(l) => {
                    let t = l
                        .heard
                        .trouble
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .join(" | ");
                    if !t.is_empty() {
                        let _ = write!(why, " ({t})");
                    }
                    l.stop().await;
                }
            }
            return Err(why);
        }
        match &mut rx {
            Receiving::Roomtap(r) => {
                r.pump(by.min(Instant::now() + Duration::from_millis(20)))
                    .await
            }
            Receiving::Legume(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    let pid = match &rx {
        Receiving::Legume(l) => Some(l.pid()),
        Receiving::Roomtap(_) => None,
    };
    // This thread runs the runtime (roomtap's receiver).
    let me = std::process::id();
    let recv_cpu = || match pid {
        Some(p) => process_cpu(Some(p)),
        None => thread_cpu(Some(me)),
    };
    let drops0 = rcvbuf_errors();
    let (cpu0, rcpu0) = (process_cpu(None), recv_cpu());
    let t0 = Instant::now();
    ctl.go.store(true, Release);
    let hard = t0 + o.timeout;
    let mut progress = (0u64, t0);
    let mut done_at = None;
    loop {
        let got = match &rx {
            Receiving::Roomtap(r) => r.count,
            Receiving::Legume(l) => l.heard.messages.load(Relaxed),
        };
        if got >= total {
            done_at = Some(match &rx {
                Receiving::Legume(l) => l
                    .heard
                    .all_at
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .unwrap_or_else(Instant::now),
                Receiving::Roomtap(_) => Instant::now(),
            });
            break;
        }
        if got > progress.0 {
            progress = (got, Instant::now());
        }
        let until = hard.min(progress.1 + o.stall);
        let ended = match &rx {
            Receiving::Roomtap(r) => r.sink.drained(),
            Receiving::Legume(l) => l.heard.ended.load(Acquire),
        };
        if Instant::now() >= until || ended {
            break;
        }
        match &mut rx {
            Receiving::Roomtap(r) => {
                r.pump(until).await;
                ctl.done.store(r.count / per as u64, Release);
            }
            Receiving::Legume(_) => {
                tokio::time::sleep_until(until.min(Instant::now() + Duration::from_millis(1))).await
            }
        }
    }
    let end = done_at.unwrap_or_else(Instant::now);
    // Timed from the first datagram sent (the sender sees the go within a
    // millisecond).
    let t0 = ctl
        .started
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .map_or(t0, Instant::from_std)
        .min(end);
    let (cpu1, rcpu1) = (process_cpu(None), recv_cpu());
    let served = server.stop().await;
    let drops = drops0.zip(rcvbuf_errors()).map_or(0, |(a, b)| b - a);
    let base = ctl.base.load(Acquire);
    let mut notes = Vec::new();
    if let Some(t) = served.trouble {
        notes.push(format!("server: {t}"));
    }
    if (served.sent as usize) < n {
        notes.push(format!("only {} sent", thousands(served.sent)));
    }
    if drops > 0 {
        notes.push(format!(
            "kernel: {} UDP datagrams dropped for a full receive buffer (system-wide)",
            thousands(drops)
        ));
    }
    let (messages, evicted) = match &rx {
        Receiving::Roomtap(r) => (r.count, r.sink.store.logs.evicted()),
        Receiving::Legume(l) => (l.heard.messages.load(Relaxed), 0),
    };
    // The first message, as each receiver has it.
    match &rx {
        Receiving::Roomtap(r) => {
            let src = &r.sink.store.sources[0];
            if src.malformed > 0 {
                notes.push(format!("{} malformed", src.malformed));
            }
            let ok = match (t.peer, &r.first) {
                (Peer::Roomtap, Some((Some(data), _))) => {
                    serde_json::from_str::<Value>(data).ok().as_ref() == Some(&stream.first)
                }
                (Peer::Hex, Some((_, Some(bytes)))) => {
                    let mut d = vec![0u8; shape.bytes];
                    stream.fill(&mut d, 0, base);
                    **bytes == *d
                }
                _ => messages == 0,
            };
            if !ok {
                notes.push("MISMATCH: the first entry is not the message sent".into());
            }
        }
        Receiving::Legume(l) => {
            let first = l
                .heard
                .first
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(f) = first
                && (f["type"] != shape.name || f["values"] != stream.first)
            {
                notes.push(format!(
                    "MISMATCH: legume's first message is not the one sent: {}",
                    f.to_string().chars().take(200).collect::<String>()
                ));
            }
            for tr in l
                .heard
                .trouble
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
            {
                notes.push(tr.clone());
            }
        }
    }
    match rx {
        Receiving::Roomtap(r) => {
            if let Err(e) = r.stop().await {
                notes.push(e);
            }
        }
        Receiving::Legume(l) => l.stop().await,
    }
    drop(server);
    Ok(Outcome {
        n,
        size: shape.bytes,
        per,
        messages,
        decodes: t.peer != Peer::Hex,
        secs: (end - t0).as_secs_f64(),
        evicted,
        complete: done_at.is_some(),
        cpu_recv: rcpu0.zip(rcpu1).map(|(a, b)| b - a),
        cpu_sender: served.cpu,
        cpu_self: cpu0.zip(cpu1).map(|(a, b)| b - a),
        notes,
    })
}

// ---------------------------------------------------------------- main

fn median(runs: &[Outcome]) -> Option<&Outcome> {
    let mut v: Vec<&Outcome> = runs.iter().collect();
    v.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    v.get(v.len() / 2).copied()
}

fn ratio(a: Option<&Outcome>, b: Option<&Outcome>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b.delivered() > 0 => format!("{:.1}×", a.rate() / b.rate()),
        (Some(_), Some(_)) => "∞ (legume: none)".into(),
        _ => "–".into(),
    }
}

/// The most lost in any repeat.
fn lost(runs: &[Outcome]) -> String {
    match runs.iter().max_by_key(|r| r.lost()) {
        None => "–".into(),
        Some(r) if r.lost() == r.n as u64 => format!("all {}", thousands(r.n as u64)),
        Some(r) => format!("{}/{}", thousands(r.lost()), thousands(r.n as u64)),
    }
}

async fn bench(mut o: Opts) -> bool {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "legume bench{}: the bench's legume server → one client at a time over UDP on 127.0.0.1, unreliable user messages; N = {} (20 B), {} (1 400 B); {} repeat(s), median shown; {cores} cores; load average {}",
        if o.smoke { " (smoke test)" } else { "" },
        thousands(o.n[0] as u64),
        thousands(o.n[1] as u64),
        o.repeat,
        load_average()
    );
    if o.targets.iter().any(|t| t.peer == Peer::Legume)
        && let Err(e) = legume_python()
    {
        println!("legume: not available ({e})");
        if !o.smoke {
            println!("reproduce: {}", o.repro());
            return false;
        }
        o.targets.retain(|t| t.peer != Peer::Legume);
    }
    let schema = match Schema::parse(SCHEMA) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            println!("the bench's schema does not read: {e}");
            return false;
        }
    };
    let mut streams = Vec::new();
    let mut windows = Vec::new();
    for (shape, &n) in SHAPES.iter().zip(&o.n) {
        match Stream::build(shape, n, &schema) {
            Ok(s) => streams.push(Arc::new(s)),
            Err(e) => {
                println!("cannot build the {} datagrams: {e}", shape.label);
                return false;
            }
        }
        let holds = match buffer_holds(shape.bytes) {
            Ok(h) => h,
            Err(e) => {
                println!("{e}");
                return false;
            }
        };
        let w = o.window.unwrap_or((holds / 2).max(1));
        windows.push(w);
        println!(
            "  {}: {} {} of {} B{}; a default receive buffer holds {holds} of them: W = {w} datagrams ahead, K = {} messages",
            shape.label,
            shape.per,
            shape.name,
            shape.bytes / shape.per,
            if shape.per > 1 { " each" } else { "" },
            o.every
        );
    }
    // results[shape][target]
    let mut results: Vec<Vec<Vec<Outcome>>> = SHAPES
        .iter()
        .map(|_| TARGETS.iter().map(|_| Vec::new()).collect())
        .collect();
    let mut ok = true;
    for rep in 1..=o.repeat {
        for (si, shape) in SHAPES.iter().enumerate() {
            for t in &o.targets {
                let ti = TARGETS.iter().position(|x| x == t).unwrap_or(0);
                match run(*t, &streams[si], windows[si], &schema, &o).await {
                    Ok(r) => {
                        println!("  {} {} run {rep}: {}", shape.label, t.label, r.line());
                        if t.peer != Peer::Legume && (r.lost() > 0 || !r.notes.is_empty()) {
                            ok = false;
                        }
                        results[si][ti].push(r);
                    }
                    Err(e) => {
                        println!("  {} {} run {rep}: FAILED: {e}", shape.label, t.label);
                        ok = false;
                    }
                }
            }
        }
    }
    println!();
    println!(
        "median of {} by datagrams/s; MB/s = datagram payload (10^6 B); lost = the most in any repeat; CPU = % of one core (receiver: roomtap's runtime thread, or the Python process):",
        o.repeat
    );
    let mut rows = vec![vec![
        "size".to_string(),
        "receiver".into(),
        "N".into(),
        "datagrams/s".into(),
        "messages/s".into(),
        "MB/s".into(),
        "per receiver CPU-s".into(),
        "lost".into(),
        "CPU: receiver".into(),
        "sender".into(),
        "bench process".into(),
    ]];
    for (si, shape) in SHAPES.iter().enumerate() {
        for t in &o.targets {
            let ti = TARGETS.iter().position(|x| x == t).unwrap_or(0);
            let runs = &results[si][ti];
            let m = median(runs);
            rows.push(vec![
                shape.label.to_string(),
                t.label.to_string(),
                thousands(o.n[si] as u64),
                m.map_or("–".into(), |m| thousands(m.rate() as u64)),
                m.filter(|m| m.decodes)
                    .map_or("–".into(), |m| thousands(m.msg_rate() as u64)),
                m.map_or("–".into(), |m| format!("{:.1}", m.mbps())),
                m.and_then(Outcome::per_cpu)
                    .map_or("–".into(), |r| thousands(r as u64)),
                lost(runs),
                m.map_or("–".into(), |m| m.pct(m.cpu_recv)),
                m.map_or("–".into(), |m| m.pct(m.cpu_sender)),
                m.map_or("–".into(), |m| m.pct(m.cpu_self)),
            ]);
        }
    }
    print_table(&rows);
    let at = |si: usize, p: Peer| -> Option<&Outcome> {
        TARGETS
            .iter()
            .position(|t| t.peer == p)
            .and_then(|ti| median(&results[si][ti]))
    };
    if o.targets.iter().any(|t| t.peer == Peer::Legume) {
        println!("roomtap / legume (datagrams/s, medians):");
        let mut rows = vec![vec![
            "size".to_string(),
            "roomtap, schema / legume".into(),
            "roomtap, no schema / legume".into(),
        ]];
        for (si, shape) in SHAPES.iter().enumerate() {
            let l = at(si, Peer::Legume);
            rows.push(vec![
                shape.label.to_string(),
                ratio(at(si, Peer::Roomtap), l),
                ratio(at(si, Peer::Hex), l),
            ]);
        }
        print_table(&rows);
    }
    println!("load average after: {}", load_average());
    println!("reproduce: {}", o.repro());
    ok
}

fn main() -> ExitCode {
    let o = Opts::from_env();
    // One thread: roomtap's socket, client task and store all run on it
    // (the figure is one core's); the sender is a thread of its own.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = std::io::stdout().flush();
    // Ctrl-C drops the bench where it is: its guards stop the server thread
    // and kill the Python child.
    let ok = rt.block_on(async {
        tokio::select! {
            ok = bench(o) => ok,
            _ = tokio::signal::ctrl_c() => {
                println!("interrupted");
                false
            }
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
