//! TracimDaemon ingest (issue #18 §7): events per second from a daemon
//! stand-in over real Unix sockets into the store, one connection per
//! event, against the real Python SDK receiving the same stream in the same
//! run.
//!
//! `nice cargo bench --bench tracim` runs, for TLMs (Tracim live messages)
//! of 1 KB and 10 KB of JSON text, `TRACIM_BENCH_REPEAT` times, interleaved
//! (each repeat: 1 KB to every target, then 10 KB to every target):
//!
//! - the daemon: roomtap's own `Daemon` (`protocols::tracim::server`),
//!   fresh for each run, in a temporary directory (`/tmp/rtb-PID-K/`: short
//!   paths, for the AF_UNIX limit), its ping round an hour (no ping in a
//!   run), its config otherwise the default; ONE client registered at a
//!   time. The N TLMs go through `Daemon::tracim_event`, paced by the room
//!   in the daemon's per-client queue (`DaemonConfig::queue`, 1024): at
//!   most 1000 ahead of what the peer has taken, so none is dropped; the
//!   daemon's per-client sender sends them in order, each on a connection
//!   of its own (connect, write the `daemon_tracim_event` document, close),
//!   as the Go daemon sends events;
//! - TLMs: the fields of `protocols::tracim::demo::Tlms` (author,
//!   workspace, content), all `content.*` events (modified and created
//!   html-documents, comments, files), each with its own `event_id`, an
//!   HTML `raw_content` padding the JSON text to exactly 1024 or 10240
//!   bytes; a workspace label `Recherche & <dev>` and the HTML body make
//!   the daemon's Go-style escaping (`\u003c`…) do its work;
//! - `roomtap`: a `TracimSource` attached through `roomtap::wiring::Wiring`
//!   to a `roomtap::store::Store`, as roomtap attaches it, the events of the
//!   wiring's receiver applied to the store as they come. Timed from the
//!   first `tracim_event` to the moment the store holds all N TLM log
//!   entries (kinds starting with `content.`); the first entry's data must
//!   be the TLM sent, and nothing may be lost, malformed or evicted;
//! - `sdk`: the real PyPI `tracim-daemon-sdk` 1.0.3 through
//!   `tests/peers/tracim/sdk_client.py --log-errors` (its venv:
//!   `tests/peers/tracim/install.sh`), started and registered before the
//!   clock starts (`{"registered": true}`, then its `daemon_client_added`
//!   line). Timed from the first `tracim_event` until N
//!   `{"handler": "custom_message", "type": "daemon_tracim_event"}` lines
//!   have been read from its stdout; since the SDK JSON-decodes each
//!   4096-byte `recv` on its own and so loses every event over 4 KiB (one
//!   `custom_error` line each), until N lines of either kind. The first
//!   delivered TLM is compared with the one sent. Note: the SDK listens
//!   with a backlog of 1; roomtap's daemon (`link::unix::send`) then waits
//!   in a blocking `connect` (on the blocking pool, bounded by its send
//!   timeout) for room, as the next peer does, so this figure is the
//!   daemon's pace towards the SDK; beside it:
//! - `sdk-blocking`: the same documents to the SDK from a thread of the
//!   bench's own, each on a blocking `std` connection, whose `connect`
//!   waits in the kernel for room in the backlog: the SDK's own ceiling.
//!   (`roomtap-blocking`, not run by default: roomtap fed the same way.)
//!
//! Per run: events/s, MB/s (the `daemon_tracim_event` documents on the
//! sockets, MB = 10^6 B), what was lost (N − delivered), and the CPU used
//! (% of one core: the bench process, which holds the daemon, roomtap's
//! client and the store; and the Python process). The tables show the
//! median of the repeats by events/s, the ratio roomtap/SDK and the most
//! lost in any repeat, and the load average before and after.
//!
//! Every wait is bounded (`TRACIM_BENCH_TIMEOUT` seconds per run, and a run
//! with no progress for `TRACIM_BENCH_STALL` seconds ends there, what is
//! missing counted lost); temporary directories are removed; the Python
//! child is asked to quit and killed if it has not within 3 s, and killed
//! on any other way out (its guard's drop; its `--lifetime` bounds it too).
//!
//! Environment (defaults in brackets): `TRACIM_BENCH_N` N for both sizes,
//! `TRACIM_BENCH_N_1K` [4000], `TRACIM_BENCH_N_10K` [1500] (the SDK takes
//! ~1,000 events/s from roomtap's daemon: these keep a run near 30 s),
//! `TRACIM_BENCH_REPEAT` [3], `TRACIM_BENCH_PEERS` [roomtap,sdk,sdk-blocking;
//! also roomtap-blocking], `TRACIM_BENCH_TIMEOUT` [60], `TRACIM_BENCH_STALL`
//! [10].
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a short smoke
//! version (200 and 50 events, once; the SDK only if its venv is there).

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roomtap::protocols::tracim::client::TracimConfig;
use roomtap::protocols::tracim::client::source::TracimSource;
use roomtap::protocols::tracim::demo::{DOCS, PEOPLE, SPACES};
use roomtap::protocols::tracim::server::{Daemon, DaemonConfig};
use roomtap::protocols::tracim::wire::event::{self, Type};
use serde_json::json;
use tokio::time::Instant;

#[path = "sc/mod.rs"]
mod sc;
use sc::{StoreSink, cpu_secs, load_average, print_table, thousands};

/// As the binary runs (`src/main.rs`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The daemon's ping round: longer than any run, so no ping interferes.
const ROUND: Duration = Duration::from_secs(3600);
/// How long the SDK may take to start and register.
const SDK_START: Duration = Duration::from_secs(20);
/// How long roomtap's client may take to register.
const REGISTER: Duration = Duration::from_secs(10);

const SDK_TLM: &str = r#"{"handler": "custom_message", "type": "daemon_tracim_event""#;
const SDK_ADDED: &str = r#"{"handler": "custom_message", "type": "daemon_client_added""#;
const SDK_ERROR: &str = r#"{"handler": "custom_error""#;
const SDK_REGISTERED: &str = r#"{"registered": true"#;

/// Events per run, by default.
const DEFAULT_N_1K: usize = 4_000;
const DEFAULT_N_10K: usize = 1_500;

// ---------------------------------------------------------------- options

struct Opts {
    /// (label, TLM bytes, N) per size.
    sizes: Vec<(&'static str, usize, usize)>,
    repeat: usize,
    /// The targets measured, in `TARGETS` order.
    targets: Vec<Target>,
    timeout: Duration,
    stall: Duration,
    smoke: bool,
}

/// Who receives the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Roomtap,
    Sdk,
}

/// Who sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// `Daemon::tracim_event`: the daemon's per-client queue and sender.
    Daemon,
    /// A thread of the bench's own: the same documents, each on a blocking
    /// `std` connection (a full backlog makes `connect` wait for room).
    Blocking,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    /// Its name in `TRACIM_BENCH_PEERS`.
    name: &'static str,
    /// As the report says it.
    label: &'static str,
    peer: Peer,
    feed: Feed,
}

const TARGETS: [Target; 4] = [
    Target {
        name: "roomtap",
        label: "roomtap",
        peer: Peer::Roomtap,
        feed: Feed::Daemon,
    },
    Target {
        name: "sdk",
        label: "SDK",
        peer: Peer::Sdk,
        feed: Feed::Daemon,
    },
    Target {
        name: "sdk-blocking",
        label: "SDK, blocking sender",
        peer: Peer::Sdk,
        feed: Feed::Blocking,
    },
    Target {
        name: "roomtap-blocking",
        label: "roomtap, blocking sender",
        peer: Peer::Roomtap,
        feed: Feed::Blocking,
    },
];

impl Opts {
    fn from_env() -> Opts {
        let smoke = !std::env::args().any(|a| a == "--bench");
        let (n1, n10, repeat) = if smoke {
            (200, 50, 1)
        } else {
            (DEFAULT_N_1K, DEFAULT_N_10K, 3)
        };
        let both: Option<usize> = std::env::var("TRACIM_BENCH_N")
            .ok()
            .and_then(|v| v.trim().parse().ok());
        let n1 =
            sc::env_or("tracim bench", "TRACIM_BENCH_N_1K", both.unwrap_or(n1)).clamp(1, 1_000_000);
        let n10 =
            sc::env_or("tracim bench", "TRACIM_BENCH_N_10K", both.unwrap_or(n10)).clamp(1, 200_000);
        let names = std::env::var("TRACIM_BENCH_PEERS")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "roomtap,sdk,sdk-blocking".into());
        let names: Vec<&str> = names.split(',').map(str::trim).collect();
        for n in &names {
            if !TARGETS.iter().any(|t| t.name == *n) {
                eprintln!(
                    "tracim bench: ignoring {n:?} in TRACIM_BENCH_PEERS (roomtap, sdk, sdk-blocking, roomtap-blocking)"
                );
            }
        }
        Opts {
            sizes: vec![("1 KB", 1024, n1), ("10 KB", 10 * 1024, n10)],
            repeat: sc::env_or("tracim bench", "TRACIM_BENCH_REPEAT", repeat).clamp(1, 20),
            targets: TARGETS
                .iter()
                .filter(|t| names.contains(&t.name))
                .copied()
                .collect(),
            timeout: Duration::from_secs_f64(
                sc::env_or("tracim bench", "TRACIM_BENCH_TIMEOUT", 60.0f64).clamp(1.0, 600.0),
            ),
            stall: Duration::from_secs_f64(
                sc::env_or("tracim bench", "TRACIM_BENCH_STALL", 10.0f64).clamp(0.5, 600.0),
            ),
            smoke,
        }
    }

    fn repro(&self) -> String {
        let names: Vec<&str> = self.targets.iter().map(|t| t.name).collect();
        format!(
            "TRACIM_BENCH_N_1K={} TRACIM_BENCH_N_10K={} TRACIM_BENCH_REPEAT={} TRACIM_BENCH_PEERS={} TRACIM_BENCH_TIMEOUT={} TRACIM_BENCH_STALL={} nice cargo bench --bench tracim",
            self.sizes[0].2,
            self.sizes[1].2,
            self.repeat,
            names.join(","),
            self.timeout.as_secs_f64(),
            self.stall.as_secs_f64()
        )
    }
}

// ---------------------------------------------------------------- TLMs

const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ";

/// TLM `i` as `protocols::tracim::demo::Tlms` makes them (its fields: the
/// author, the workspace, the content), always a `content.*` one, its
/// `raw_content` (an HTML body) padded so the JSON text is `size` bytes.
fn tlm(i: usize, size: usize, t0_ms: u64) -> String {
    let id = 1000 + i as u64;
    let (name, user) = PEOPLE[i % PEOPLE.len()];
    let space = (i / 4) % SPACES.len();
    let d = (i / 3) % DOCS.len();
    let author = json!({"user_id": 10 + (i % 4) as u64, "public_name": name, "username": user});
    let workspace = json!({"workspace_id": space + 1, "label": SPACES[space]});
    let (event_type, content) = match i % 4 {
        0 => (
            "content.modified.html-document",
            json!({"content_id": 70 + d, "label": DOCS[d], "content_type": "html-document"}),
        ),
        1 => (
            "content.created.comment",
            json!({"content_id": 500 + id, "parent_id": 70 + d, "label": format!("Re: {}", DOCS[d]), "content_type": "comment"}),
        ),
        2 => (
            "content.created.html-document",
            json!({"content_id": 900 + id, "label": format!("Draft {}", i % 50), "content_type": "html-document"}),
        ),
        _ => (
            "content.created.file",
            json!({"content_id": 1200 + id, "label": "screenshot.png", "content_type": "file", "size": 1000 + (i * 7919) % 899_000}),
        ),
    };
    let make = |body: &str| {
        let mut content = content.clone();
        content["raw_content"] = json!(body);
        json!({
            "event_id": id,
            "event_type": event_type,
            "read": null,
            "created": roomtap::text::iso_time(t0_ms + i as u64),
            "fields": {"author": author, "workspace": workspace, "content": content},
        })
        .to_string()
    };
    // The body is ASCII without quotes or backslashes: each byte of it is
    // one byte of the JSON text.
    let bare = make("<p></p>").len();
    let fill = size.saturating_sub(bare);
    let mut body = String::with_capacity(fill + 7);
    body.push_str("<p>");
    while body.len() < 3 + fill {
        body.push_str(LOREM);
    }
    body.truncate(3 + fill);
    body.push_str("</p>");
    make(&body)
}

/// The document the daemon writes for `tlm` (its length: the bytes on
/// the socket).
fn document_len(master: &Path, tlm: &str) -> usize {
    event::encode(
        &master.to_string_lossy(),
        &Type::TracimEvent,
        Some(&event::go_string(tlm)),
    )
    .len()
}

// ---------------------------------------------------------------- helpers

/// A private temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(k: usize) -> Result<TempDir, String> {
        let d = PathBuf::from(format!("/tmp/rtb-{}-{k}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).map_err(|e| format!("cannot make {}: {e}", d.display()))?;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod {}: {e}", d.display()))?;
        Ok(TempDir(d))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How many events the daemon is given ahead of what the peer has taken
/// (delivered or failed): under its per-client queue's default (1024), so
/// none is dropped for want of room, and the queue's memory stays bounded.
const WINDOW: u64 = 1000;

/// How the stream is being sent.
enum Feeding {
    /// Through the daemon, [`WINDOW`] ahead: how many it was given, and
    /// how many of those it did not queue.
    Daemon { given: usize, unqueued: u64 },
    /// The sender thread: how many documents it could not send.
    Thread(std::thread::JoinHandle<u64>),
}

/// Start sending every TLM to the client at `to`.
fn feed(
    how: Feed,
    daemon: &Daemon,
    tlms: &[String],
    docs: Vec<String>,
    to: &Path,
    stop: &Arc<AtomicBool>,
) -> Feeding {
    match how {
        Feed::Daemon => {
            let mut f = Feeding::Daemon {
                given: 0,
                unqueued: 0,
            };
            f.top_up(daemon, tlms, 0);
            f
        }
        Feed::Blocking => {
            let (to, stop) = (to.to_path_buf(), stop.clone());
            Feeding::Thread(std::thread::spawn(move || {
                let mut failed = 0;
                for d in &docs {
                    if stop.load(Relaxed) {
                        failed += 1;
                        continue;
                    }
                    // A blocking connect waits while the peer's backlog is
                    // full; the peer going away wakes it with an error.
                    let sent = std::os::unix::net::UnixStream::connect(&to).and_then(|mut s| {
                        s.set_write_timeout(Some(Duration::from_secs(5)))?;
                        s.write_all(d.as_bytes())
                    });
                    failed += u64::from(sent.is_err());
                }
                failed
            }))
        }
    }
}

impl Feeding {
    /// Give the daemon more TLMs, up to [`WINDOW`] ahead of the `taken`.
    fn top_up(&mut self, daemon: &Daemon, tlms: &[String], taken: u64) {
        if let Feeding::Daemon { given, unqueued } = self {
            while *given < tlms.len() && (*given as u64) < taken + WINDOW {
                *unqueued += u64::from(daemon.tracim_event(&tlms[*given]) != 1);
                *given += 1;
            }
        }
    }

    /// Documents that did not go (the thread is waited for at most 5 s,
    /// once the peer is gone, which wakes a blocked connect).
    async fn unsent(self, n: usize) -> Result<u64, String> {
        match self {
            Feeding::Daemon { given, unqueued } => Ok(unqueued + (n - given) as u64),
            Feeding::Thread(h) => {
                let by = Instant::now() + Duration::from_secs(5);
                while !h.is_finished() {
                    if Instant::now() >= by {
                        return Err("the sender thread is still blocked (left behind)".into());
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                h.join()
                    .map_err(|_| "the sender thread panicked".to_string())
            }
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone)]
struct Outcome {
    n: usize,
    /// Events the peer delivered (store entries, SDK handler lines).
    delivered: u64,
    /// Events the SDK reported as decode errors.
    errors: u64,
    /// Until every event was delivered, or failed, or the wait ended.
    secs: f64,
    /// Bytes of one document on the socket (their mean).
    doc_bytes: u64,
    /// Log entries the store evicted (its byte budget, as roomtap's
    /// `--max-bytes`): counted as delivered, said, not a failure.
    evicted: u64,
    /// Whether all N came within the bounds.
    complete: bool,
    /// CPU seconds of the bench process / the Python process over the run.
    cpu_self: Option<f64>,
    cpu_peer: Option<f64>,
    /// Anything else that went wrong (lost by the daemon, a mismatch…).
    notes: Vec<String>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.delivered as f64 / self.secs.max(1e-9)
    }

    fn mbps(&self) -> f64 {
        self.rate() * self.doc_bytes as f64 / 1e6
    }

    fn lost(&self) -> u64 {
        self.n as u64 - self.delivered.min(self.n as u64)
    }

    fn line(&self) -> String {
        // CPU time is counted in ticks (10 ms): too coarse for a short run.
        let pct = |c: Option<f64>| match c {
            Some(c) if self.secs >= 0.2 => format!("{:.0} %", c / self.secs * 100.0),
            _ => "–".into(),
        };
        let mut s = format!(
            "{} of {} delivered in {:.3} s: {} events/s ({:.1} MB/s), lost {}",
            thousands(self.delivered),
            thousands(self.n as u64),
            self.secs,
            thousands(self.rate() as u64),
            self.mbps(),
            thousands(self.lost())
        );
        if self.errors > 0 {
            let _ = write!(
                s,
                ", {} decode errors ({} events/s rejected)",
                thousands(self.errors),
                thousands((self.errors as f64 / self.secs.max(1e-9)) as u64)
            );
        }
        if self.evicted > 0 {
            let _ = write!(
                s,
                " ({} of them since evicted by the store's byte budget)",
                thousands(self.evicted)
            );
        }
        if !self.complete {
            s.push_str(", INCOMPLETE (timed out or stalled)");
        }
        let _ = write!(s, "; CPU: bench process {}", pct(self.cpu_self));
        if self.cpu_peer.is_some() {
            let _ = write!(s, ", Python {}", pct(self.cpu_peer));
        }
        for n in &self.notes {
            let _ = write!(s, "; {n}");
        }
        s
    }
}

// ---------------------------------------------------------------- roomtap

/// roomtap: its client attached to a store (`sc::StoreSink`), its TLM
/// entries counted.
struct Roomtap {
    sink: StoreSink,
    /// `content.*` entries seen.
    tlms: u64,
    first: Option<std::sync::Arc<str>>,
}

impl Roomtap {
    /// A `TracimSource` attached as roomtap attaches it, registered with
    /// the daemon at `master`.
    async fn start(master: &Path, own: &Path, daemon: &Daemon) -> Result<Roomtap, String> {
        let mut cfg = TracimConfig::new(master, own);
        cfg.round = ROUND;
        let mut r = Roomtap {
            sink: StoreSink::attach(Box::new(TracimSource::new("tracim", cfg))).await?,
            tlms: 0,
            first: None,
        };
        let by = Instant::now() + REGISTER;
        while !(r.sink.connected() && daemon.clients().len() == 1) {
            if Instant::now() >= by || r.sink.ended() {
                r.stop().await;
                return Err(format!(
                    "roomtap's client did not register within {REGISTER:?}"
                ));
            }
            r.pump(by.min(Instant::now() + Duration::from_millis(50)))
                .await;
        }
        Ok(r)
    }

    /// Apply what has come (waiting at most until `until`) and count the
    /// new TLM entries.
    async fn pump(&mut self, until: Instant) {
        let (tlms, first) = (&mut self.tlms, &mut self.first);
        self.sink
            .pump(until, |e| {
                if e.kind.starts_with("content.") {
                    *tlms += 1;
                    if first.is_none() {
                        first.clone_from(&e.data);
                    }
                }
            })
            .await;
    }

    /// Its goodbye (it unregisters, its socket goes), then it ends.
    async fn stop(mut self) {
        // Its end is not waited for: the daemon's view of the goodbye is.
        let _ = self.sink.stop(Duration::ZERO).await;
    }
}

// ---------------------------------------------------------------- the SDK

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tracim")
}

fn sdk_python() -> Result<PathBuf, String> {
    let py = sdk_dir().join("venv/bin/python");
    if py.exists() {
        Ok(py)
    } else {
        Err(format!(
            "{} is missing: run tests/peers/tracim/install.sh",
            py.display()
        ))
    }
}

/// What the SDK driver's stdout said, counted by its reader thread.
#[derive(Default)]
struct Heard {
    registered: AtomicBool,
    added: AtomicBool,
    tlms: AtomicU64,
    errors: AtomicU64,
    /// Set as the stream starts: the first TLM and error after it are kept.
    armed: AtomicBool,
    /// Its stdout closed.
    ended: AtomicBool,
    first_tlm: Mutex<Option<String>>,
    first_error: Mutex<Option<String>>,
    /// Lines that say something went wrong in the driver.
    trouble: Mutex<Vec<String>>,
}

/// Keep `line` in `slot` if it is the first since the stream started.
fn keep_first(h: &Heard, slot: &Mutex<Option<String>>, line: &[u8]) {
    if h.armed.load(Relaxed) {
        let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_none() {
            *s = Some(String::from_utf8_lossy(line).trim().to_string());
        }
    }
}

/// `sdk_client.py`: killed (and reaped) on drop, whatever the way out.
struct Sdk {
    peer: sc::Peer,
    heard: Arc<Heard>,
    /// Counts when the stream started.
    base: (u64, u64),
}

impl Sdk {
    /// The driver, registered with the daemon at `master` (its
    /// `daemon_client_added` seen: what the daemon sent it on registering
    /// has been handled).
    async fn start(
        master: &Path,
        own: &Path,
        lifetime: Duration,
        daemon: &Daemon,
    ) -> Result<Sdk, String> {
        let py = sdk_python()?;
        let mut cmd = std::process::Command::new(&py);
        cmd.arg(sdk_dir().join("sdk_client.py"))
            .arg("--log-errors")
            .arg("--lifetime")
            .arg(format!("{:.0}", lifetime.as_secs_f64()))
            .arg("--master")
            .arg(master)
            .arg("--socket")
            .arg(own);
        let heard = Arc::new(Heard::default());
        let h = heard.clone();
        let peer = sc::Peer::spawn(cmd, move |line| {
            let Some(line) = line else {
                h.ended.store(true, Relaxed);
                return;
            };
            if line.starts_with(SDK_TLM.as_bytes()) {
                keep_first(&h, &h.first_tlm, line);
                h.tlms.fetch_add(1, Relaxed);
            } else if line.starts_with(SDK_ERROR.as_bytes()) {
                keep_first(&h, &h.first_error, line);
                h.errors.fetch_add(1, Relaxed);
            } else if line.starts_with(SDK_ADDED.as_bytes()) {
                h.added.store(true, Relaxed);
            } else if line.starts_with(SDK_REGISTERED.as_bytes()) {
                h.registered.store(true, Relaxed);
            } else if [
                &b"{\"driver_error\""[..],
                b"{\"socket_error\"",
                b"{\"register_error\"",
            ]
            .iter()
            .any(|p| line.starts_with(p))
            {
                sc::note_trouble(&h.trouble, line);
            }
        })?;
        let sdk = Sdk {
            peer,
            heard,
            base: (0, 0),
        };
        let by = Instant::now() + SDK_START;
        loop {
            let h = &sdk.heard;
            if h.registered.load(Relaxed) && h.added.load(Relaxed) && daemon.clients().len() == 1 {
                return Ok(sdk);
            }
            if Instant::now() >= by || h.ended.load(Relaxed) {
                let trouble = h
                    .trouble
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .join(" | ");
                let clients = daemon.clients().len();
                sdk.stop().await;
                return Err(format!(
                    "the SDK did not register within {SDK_START:?} (the daemon has {clients} clients) {trouble}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.peer.pid()
    }

    /// The stream starts: count from here.
    fn arm(&mut self) {
        let h = &self.heard;
        self.base = (h.tlms.load(Relaxed), h.errors.load(Relaxed));
        h.armed.store(true, Relaxed);
    }

    /// (delivered, errors) since the stream started.
    fn counts(&self) -> (u64, u64) {
        let h = &self.heard;
        (
            h.tlms.load(Relaxed) - self.base.0,
            h.errors.load(Relaxed) - self.base.1,
        )
    }

    /// Ask it to quit (it unregisters); killed if it has not within 3 s.
    async fn stop(self) {
        self.peer.stop(Some(b"{\"op\": \"quit\"}\n")).await;
    }
}

// ---------------------------------------------------------------- a run

enum Receiving {
    Roomtap(Box<Roomtap>),
    Sdk(Sdk),
}

impl Receiving {
    /// (delivered, errors) so far.
    fn counts(&self) -> (u64, u64) {
        match self {
            Receiving::Roomtap(r) => (r.tlms, 0),
            Receiving::Sdk(s) => s.counts(),
        }
    }

    fn ended(&self) -> bool {
        match self {
            Receiving::Roomtap(r) => r.sink.drained(),
            Receiving::Sdk(s) => s.heard.ended.load(Relaxed),
        }
    }

    /// Wait for more (at most until `until`).
    async fn step(&mut self, until: Instant) {
        match self {
            Receiving::Roomtap(r) => r.pump(until).await,
            Receiving::Sdk(_) => {
                tokio::time::sleep_until(until.min(Instant::now() + Duration::from_millis(1))).await
            }
        }
    }
}

/// One run: a fresh daemon and peer, N TLMs streamed to it.
/// `quoted`: the mean length of the TLMs as the daemon quotes them
/// (`go_string`), for the bytes on the socket.
async fn run(
    t: Target,
    tlms: &[String],
    quoted: u64,
    k: usize,
    o: &Opts,
) -> Result<Outcome, String> {
    let n = tlms.len();
    let dir = TempDir::new(k)?;
    let (master, own) = (dir.0.join("d.sock"), dir.0.join("c.sock"));
    let mut cfg = DaemonConfig::new(&master);
    cfg.round = ROUND;
    let daemon = Daemon::start(cfg, None)
        .await
        .map_err(|e| format!("cannot start the daemon on {}: {e}", master.display()))?;
    let mut rx = match t.peer {
        Peer::Roomtap => {
            Receiving::Roomtap(Box::new(Roomtap::start(&master, &own, &daemon).await?))
        }
        Peer::Sdk => {
            let lifetime = o.timeout + SDK_START + Duration::from_secs(30);
            Receiving::Sdk(Sdk::start(&master, &own, lifetime, &daemon).await?)
        }
    };
    // The blocking sender's documents, as the daemon writes them.
    let docs: Vec<String> = match t.feed {
        Feed::Blocking => tlms
            .iter()
            .map(|t| {
                event::encode(
                    &master.to_string_lossy(),
                    &Type::TracimEvent,
                    Some(&event::go_string(t)),
                )
            })
            .collect(),
        Feed::Daemon => Vec::new(),
    };
    // `document_len` of "" counts the two quotes of an empty string.
    let doc_bytes = (document_len(&master, "") - 2) as u64 + quoted;
    let pid = match &rx {
        Receiving::Sdk(s) => Some(s.pid()),
        Receiving::Roomtap(_) => None,
    };
    if let Receiving::Sdk(s) = &mut rx {
        s.arm();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (cpu0, pcpu0) = (cpu_secs(None), pid.and_then(|p| cpu_secs(Some(p))));
    let t0 = Instant::now();
    let mut feeding = feed(t.feed, &daemon, tlms, docs, &own, &stop);
    let hard = t0 + o.timeout;
    let mut progress = (0u64, t0);
    let mut done_at = None;
    loop {
        let (got, failed) = rx.counts();
        if got + failed >= n as u64 {
            done_at = Some(Instant::now());
            break;
        }
        feeding.top_up(&daemon, tlms, got + failed);
        if got + failed > progress.0 {
            progress = (got + failed, Instant::now());
        }
        let until = hard.min(progress.1 + o.stall);
        if Instant::now() >= until || rx.ended() {
            break;
        }
        rx.step(until).await;
    }
    let end = done_at.unwrap_or_else(Instant::now);
    let (cpu1, pcpu1) = (cpu_secs(None), pid.and_then(|p| cpu_secs(Some(p))));
    stop.store(true, Relaxed);
    let (delivered, errors) = rx.counts();
    let evicted = match &rx {
        Receiving::Roomtap(r) => r.sink.store.logs.evicted(),
        Receiving::Sdk(_) => 0,
    };
    let mut notes = Vec::new();
    for what in ["dropped (client queue full)", "unsent (client unreachable)"] {
        let t = daemon.tallied(what);
        if t > 0 {
            notes.push(format!("daemon: {t} {what}"));
        }
    }
    match &rx {
        Receiving::Roomtap(r) => {
            let src = &r.sink.store.sources[0];
            if src.malformed > 0 {
                notes.push(format!("{} malformed", src.malformed));
            }
            if r.first.as_deref() != Some(tlms[0].as_str()) {
                notes.push("MISMATCH: the first TLM entry's data is not the TLM sent".into());
            }
        }
        Receiving::Sdk(s) => {
            let h = &s.heard;
            if let Some(first) = h
                .first_tlm
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_deref()
            {
                let data = serde_json::from_str::<serde_json::Value>(first)
                    .ok()
                    .and_then(|v| v["data"].as_str().map(str::to_string));
                if data.as_deref() != Some(tlms[0].as_str()) {
                    notes.push(
                        "MISMATCH: the first TLM the SDK handed over is not the TLM sent".into(),
                    );
                }
            }
            if let Some(e) = h
                .first_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_deref()
            {
                notes.push(format!(
                    "its first error: {}",
                    e.chars().take(160).collect::<String>()
                ));
            }
            for tr in h.trouble.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                notes.push(tr.clone());
            }
        }
    }
    match rx {
        Receiving::Roomtap(r) => r.stop().await,
        Receiving::Sdk(s) => s.stop().await,
    }
    match feeding.unsent(n).await {
        Ok(0) => {}
        Ok(u) => notes.push(format!("{u} not sent (not queued, or the sender failed)")),
        Err(e) => notes.push(e),
    }
    drop(daemon);
    drop(dir);
    Ok(Outcome {
        n,
        delivered,
        errors,
        secs: (end - t0).as_secs_f64(),
        doc_bytes,
        evicted,
        complete: done_at.is_some(),
        cpu_self: cpu0.zip(cpu1).map(|(a, b)| b - a),
        cpu_peer: pcpu0.zip(pcpu1).map(|(a, b)| b - a),
        notes,
    })
}

// ---------------------------------------------------------------- main

fn median(runs: &[Outcome]) -> Option<&Outcome> {
    let mut v: Vec<&Outcome> = runs.iter().collect();
    v.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    v.get(v.len() / 2).copied()
}

fn cell(m: Option<&Outcome>) -> String {
    match m {
        None => "–".into(),
        Some(m) if m.delivered == 0 => "0".into(),
        Some(m) => format!("{} ({:.1} MB/s)", thousands(m.rate() as u64), m.mbps()),
    }
}

fn ratio(a: Option<&Outcome>, b: Option<&Outcome>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b.delivered > 0 => format!("{:.1}×", a.rate() / b.rate()),
        (Some(_), Some(_)) => "∞ (SDK: none)".into(),
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
        "tracim bench{}: roomtap's Daemon → one client at a time over Unix sockets, one connection per event; N = {} (1 KB), {} (10 KB); {} repeat(s), median shown; {cores} cores; load average {}",
        if o.smoke { " (smoke test)" } else { "" },
        thousands(o.sizes[0].2 as u64),
        thousands(o.sizes[1].2 as u64),
        o.repeat,
        load_average()
    );
    if o.targets.iter().any(|t| t.peer == Peer::Sdk)
        && let Err(e) = sdk_python()
    {
        println!("SDK: not available ({e})");
        if !o.smoke {
            println!("reproduce: {}", o.repro());
            return false;
        }
        o.targets.retain(|t| t.peer != Peer::Sdk);
    }
    let t0_ms = roomtap::event::now_ms();
    let sets: Vec<Vec<String>> = o
        .sizes
        .iter()
        .map(|&(_, size, n)| (0..n).map(|i| tlm(i, size, t0_ms)).collect())
        .collect();
    // The mean length of a TLM as the daemon quotes it in its document.
    let quoted: Vec<u64> = sets
        .iter()
        .map(|set| {
            set.iter()
                .map(|t| event::go_string(t).len() as u64)
                .sum::<u64>()
                / set.len().max(1) as u64
        })
        .collect();
    for ((label, _, _), set) in o.sizes.iter().zip(&sets) {
        let probe = Path::new("/tmp/rtb-1234567-10/d.sock");
        println!(
            "  {label}: a TLM is {} B of JSON text, {} B on the socket (its daemon_tracim_event document)",
            set[0].len(),
            document_len(probe, &set[0])
        );
    }
    // results[size][target]
    let mut results: Vec<Vec<Vec<Outcome>>> = o
        .sizes
        .iter()
        .map(|_| TARGETS.iter().map(|_| Vec::new()).collect())
        .collect();
    let mut ok = true;
    let mut k = 0;
    for rep in 1..=o.repeat {
        for (si, (label, _, _)) in o.sizes.iter().enumerate() {
            for t in &o.targets {
                let ti = TARGETS.iter().position(|x| x == t).unwrap_or(0);
                k += 1;
                match run(*t, &sets[si], quoted[si], k, &o).await {
                    Ok(r) => {
                        println!("  {label} {} run {rep}: {}", t.label, r.line());
                        if t.peer == Peer::Roomtap && (r.lost() > 0 || !r.notes.is_empty()) {
                            ok = false;
                        }
                        results[si][ti].push(r);
                    }
                    Err(e) => {
                        println!("  {label} {} run {rep}: FAILED: {e}", t.label);
                        ok = false;
                    }
                }
            }
        }
    }
    let at = |si: usize, name: &str| -> &[Outcome] {
        TARGETS
            .iter()
            .position(|t| t.name == name)
            .map_or(&[], |ti| &results[si][ti])
    };
    println!();
    println!(
        "median of {} by events/s; MB/s = daemon_tracim_event documents on the sockets (10^6 B); lost = the most in any repeat:",
        o.repeat
    );
    let mut rows = vec![vec![
        "size".to_string(),
        "N".into(),
        "roomtap events/s (MB/s)".into(),
        "SDK events/s (MB/s)".into(),
        "roomtap/SDK".into(),
        "lost: roomtap".into(),
        "SDK".into(),
    ]];
    for (si, (label, _, n)) in o.sizes.iter().enumerate() {
        let (r, s) = (median(at(si, "roomtap")), median(at(si, "sdk")));
        rows.push(vec![
            label.to_string(),
            thousands(*n as u64),
            cell(r),
            cell(s),
            ratio(r, s),
            lost(at(si, "roomtap")),
            lost(at(si, "sdk")),
        ]);
    }
    print_table(&rows);
    let blocking: Vec<&Target> = o
        .targets
        .iter()
        .filter(|t| t.feed == Feed::Blocking)
        .collect();
    if !blocking.is_empty() {
        println!(
            "the same documents from a thread of the bench's own, each on a blocking connection (a full backlog makes connect() wait for room; the SDK's own ceiling, without roomtap's daemon in the way):"
        );
        let mut rows = vec![vec![
            "size".to_string(),
            "peer".into(),
            "events/s (MB/s)".into(),
            "roomtap/it".into(),
            "lost".into(),
        ]];
        for (si, (label, _, _)) in o.sizes.iter().enumerate() {
            let r = median(at(si, "roomtap"));
            for t in &blocking {
                let m = median(at(si, t.name));
                rows.push(vec![
                    label.to_string(),
                    t.label.to_string(),
                    cell(m),
                    if t.peer == Peer::Sdk {
                        ratio(r, m)
                    } else {
                        "–".into()
                    },
                    lost(at(si, t.name)),
                ]);
            }
        }
        print_table(&rows);
    }
    for (si, (label, _, _)) in o.sizes.iter().enumerate() {
        for t in o.targets.iter().filter(|t| t.peer == Peer::Sdk) {
            if let Some(s) = median(at(si, t.name))
                && s.errors > 0
            {
                println!(
                    "  {label}, {}: {} decode errors, at {} events/s (the SDK JSON-decodes each 4096-byte recv on its own)",
                    t.label,
                    thousands(s.errors),
                    thousands((s.errors as f64 / s.secs.max(1e-9)) as u64)
                );
            }
        }
    }
    println!("load average after: {}", load_average());
    println!("reproduce: {}", o.repro());
    ok
}

fn main() -> ExitCode {
    let o = Opts::from_env();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            println!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Ctrl-C drops the bench where it is: its guards remove the temporary
    // directory and kill the Python child.
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
