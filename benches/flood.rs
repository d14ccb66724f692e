//! Responsive under a flood: the real `roomtap` binary in a pseudo-terminal
//! while apps on its embedded relay push ACTION messages (plus a room
//! stream), with keys that change the screen.
//!
//! `cargo bench --bench flood` runs, in one invocation, an idle run (the
//! same roomtap, the same keys, no load) and a flood run, and prints a table
//! of both with the ratios flood / idle:
//!
//! - the binary: `env!("CARGO_BIN_EXE_roomtap")`, which cargo sets for
//!   benches too and builds before the bench, with the bench's profile
//!   (`cargo bench`: the `bench` profile, i.e. release, so
//!   `target/release/roomtap`; `cargo test --benches`: the dev build), or
//!   `FLOOD_BIN` (another build, to measure a change);
//! - roomtap runs as `roomtap --port 0 --room ws://127.0.0.1:P/rooms/flood
//!   --room-secret S --max-bytes B --max-entries E` in a pty of 120×40
//!   (`TERM=xterm-256color`, its own session, the pty as controlling
//!   terminal; killed with SIGKILL when the bench's main thread ends), its
//!   output read continuously into a `vt100::Parser`; cursor-position
//!   requests (crossterm asks once at start) are answered as a terminal
//!   does; the relay's port is read off the Connections pane
//!   (`ws://127.0.0.1:PORT/socketcluster/`);
//! - load: `FLOOD_APPS` app sockets that speak SocketCluster as
//!   `@redux-devtools/remote` does (`#handshake`, `login "master"`, START,
//!   `#subscribe respond`; frames from `benches/sc`, as in `benches/relay.rs`,
//!   ~1.17 KB each)
//!   push `FLOOD_RATE` ACTION msgs/s in total, paced every 5 ms (a sender
//!   that falls more than 100 ms behind drops the debt, counted as
//!   "not sent"); an in-process `roomtap::protocols::room::server::RoomServer` publishes
//!   `FLOOD_ROOM_RATE` developer logs/s to the room roomtap watches;
//! - keys: alternately `?` (the help overlay opens: `any key closes this
//!   help` appears) and `Esc` (it closes), one every 150–300 ms (uniform);
//!   key → frame is the time from writing the key to the pty to the read
//!   after which the virtual screen shows the change (no frame within 2 s
//!   counts as a timeout, at 2 s);
//! - frames: ratatui hides (or shows) the cursor once per `draw`, so every
//!   `ESC [ ? 25 l` / `ESC [ ? 25 h` in the output is one frame; fps is
//!   frames / seconds of the run, "longest gap" the longest time between two
//!   frames (the screen changes all the time under a flood);
//! - CPU: `/proc/PID/stat` utime + stime of roomtap over the run's seconds
//!   (% of one core); the bench's own CPU likewise (it shares the cores);
//!   "waiting for a CPU": the time roomtap's threads were runnable but not
//!   running (`/proc/PID/task/*/schedstat`, summed over threads, % of the
//!   run's seconds): how much the machine's other work starved it;
//! - RSS: `/proc/PID/status` VmHWM (peak) at the end of the run;
//! - events: after the load stops, once the Logs count settles, the Logs
//!   title (`1 Logs · N · M evicted`) and the zoomed Connections pane
//!   (`3`, `z`: `in … msgs` per source, `dropped N` on client rows) are read
//!   off the screen; nothing is lost when N + M ≥ ACTIONs sent + room logs
//!   delivered, the in-process monitor's `in` count covers every ACTION and
//!   START, and nothing is dropped.
//!
//! Targets (issue #12): key → frame p99 ≤ 50 ms at 100 k msgs/s, with the
//! apps having sent at least 99 % of that rate (the achieved rate is
//! printed); peak RSS within `--max-bytes` plus a fixed overhead (the idle
//! run's peak RSS + `FLOOD_RSS_OVERHEAD_MB`, default 64: queues between the
//! sockets and the store, the allocator's arenas); no event lost from the
//! store's count. A missed target is printed as MISSED.
//!
//! Environment (defaults in brackets): `FLOOD_SECS` [30] seconds per run,
//! `FLOOD_RATE` [100000] ACTION msgs/s in total, `FLOOD_APPS` [4],
//! `FLOOD_ROOM_RATE` [1000] room logs/s, `FLOOD_MAX_BYTES` [64M] passed as
//! `--max-bytes`, `FLOOD_MAX_ENTRIES` [1000000] passed as `--max-entries`
//! (above what 64 MB holds, so the byte bound is the one that binds),
//! `FLOOD_RSS_OVERHEAD_MB` [64], `FLOOD_KEY_MIN_MS` [150],
//! `FLOOD_KEY_MAX_MS` [300], `FLOOD_RUNS` [idle,flood], `FLOOD_FPS` (passed
//! as `--fps` when set), `FLOOD_DUMP=FILE` writes the flood run's raw pty
//! output to FILE (for checking the frame count), `FLOOD_BIN` [cargo's
//! build] the roomtap binary to run.
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a 2-second smoke
//! version (2 000 msgs/s, 2 apps, 100 room logs/s) that only checks that
//! everything works.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[path = "sc/mod.rs"]
mod sc;
use sc::{Frames, Res, Ws, cpu_secs, print_table, thousands};

/// The app's `name` in its START and ACTION frames.
const APP: &str = "flood";

const COLS: u16 = 120;
const ROWS: u16 = 40;
const ROOM: &str = "flood";
const HELP_MARKER: &str = "any other key closes";
/// One per ratatui `draw` (hide or show the cursor).
const FRAME_MARKS: [&[u8]; 2] = [b"\x1b[?25l", b"\x1b[?25h"];
/// A key whose change is not on screen by then is a timeout.
const KEY_TIMEOUT: Duration = Duration::from_secs(2);
/// Most keys per run (the run's seconds bound it first).
const MAX_KEYS: usize = 10_000;
/// Pacing tick of the senders.
const TICK: Duration = Duration::from_millis(5);

// ---------------------------------------------------------------- options

#[derive(Clone)]
struct Opts {
    secs: f64,
    rate: u64,
    apps: usize,
    room_rate: u64,
    max_bytes: String,
    max_entries: u64,
    rss_overhead_mb: f64,
    key_min_ms: u64,
    key_max_ms: u64,
    runs: Vec<String>,
    fps: Option<u32>,
    dump: Option<std::path::PathBuf>,
    smoke: bool,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    sc::env_or("flood bench", name, default)
}

impl Opts {
    fn from_env() -> Opts {
        let smoke = !std::env::args().any(|a| a == "--bench");
        let (secs, rate, apps, room_rate): (f64, u64, usize, u64) = if smoke {
            (2.0, 2_000, 2, 100)
        } else {
            (30.0, 100_000, 4, 1_000)
        };
        let key_min_ms = env_or("FLOOD_KEY_MIN_MS", 150u64).clamp(20, 5_000);
        Opts {
            secs: env_or("FLOOD_SECS", secs).clamp(1.0, 600.0),
            rate: env_or("FLOOD_RATE", rate).min(2_000_000),
            apps: env_or("FLOOD_APPS", apps).clamp(1, 256),
            room_rate: env_or("FLOOD_ROOM_RATE", room_rate).min(100_000),
            max_bytes: std::env::var("FLOOD_MAX_BYTES")
                .ok()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "64M".into()),
            max_entries: env_or("FLOOD_MAX_ENTRIES", 1_000_000u64).max(1),
            rss_overhead_mb: env_or("FLOOD_RSS_OVERHEAD_MB", 64.0),
            key_min_ms,
            key_max_ms: env_or("FLOOD_KEY_MAX_MS", 300u64).clamp(key_min_ms, 10_000),
            runs: std::env::var("FLOOD_RUNS")
                .ok()
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| s == "idle" || s == "flood")
                        .collect::<Vec<_>>()
                })
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| vec!["idle".into(), "flood".into()]),
            fps: std::env::var("FLOOD_FPS")
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            dump: std::env::var_os("FLOOD_DUMP")
                .filter(|v| !v.is_empty())
                .map(Into::into),
            smoke,
        }
    }

    fn max_bytes_value(&self) -> Option<u64> {
        roomtap::cli::parse_bytes(&self.max_bytes)
            .ok()
            .map(|b| b as u64)
    }
}

// ---------------------------------------------------------------- pty

/// The terminal side roomtap writes to: a vt100 screen fed by a reader
/// thread, the frame count, and the probe a key waits on.
struct Term {
    st: Mutex<TermState>,
    cv: Condvar,
}

struct TermState {
    parser: vt100::Parser,
    /// Time of every read that held at least one frame mark.
    frame_times: Vec<Instant>,
    frames: u64,
    bytes: u64,
    eof: bool,
    probe: Option<Probe>,
    /// Latency of the last probe that saw its change.
    seen: Option<Duration>,
    dump: Option<File>,
}

struct Probe {
    marker: &'static str,
    /// Wait for the marker to be shown (true) or gone (false).
    shown: bool,
    t0: Instant,
}

impl Term {
    fn lock(&self) -> MutexGuard<'_, TermState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn contents(&self) -> String {
        self.lock().parser.screen().contents()
    }

    /// Poll the screen (every 20 ms) until `cond` holds, at most `secs`.
    fn wait_for(&self, what: &str, secs: f64, cond: impl Fn(&str) -> bool) -> Res<String> {
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        loop {
            let (s, eof) = {
                let st = self.lock();
                (st.parser.screen().contents(), st.eof)
            };
            if cond(&s) {
                return Ok(s);
            }
            if eof {
                return Err(format!(
                    "roomtap exited while waiting for {what}; screen:\n{s}"
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!("timed out waiting for {what}; screen:\n{s}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn count_marks(hay: &[u8]) -> u64 {
    FRAME_MARKS
        .iter()
        .map(|m| memchr::memmem::find_iter(hay, m).count() as u64)
        .sum()
}

/// Cursor position request (DSR 6): a terminal answers `ESC [ row ; col R`.
const CPR_ASK: &[u8] = b"\x1b[6n";

/// Read the pty until roomtap is gone, feeding the screen and answering
/// cursor-position requests as a terminal does (crossterm asks at start).
fn reader(mut master: File, mut answer: File, term: Arc<Term>) {
    let mut buf = vec![0u8; 1 << 16];
    // The last bytes of the previous read: a mark may straddle two reads.
    // Shorter than a mark, so no mark is ever counted twice.
    let mut carry: Vec<u8> = Vec::with_capacity(64);
    loop {
        let n = match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break, // EIO once the child closed its side
        };
        let at = Instant::now();
        let chunk = &buf[..n];
        carry.extend_from_slice(chunk);
        let marks = count_marks(&carry);
        let asks = memchr::memmem::find_iter(&carry, CPR_ASK).count();
        let keep = carry.len().min(FRAME_MARKS[0].len().min(CPR_ASK.len()) - 1);
        carry.drain(..carry.len() - keep);
        let mut st = term.lock();
        st.bytes += n as u64;
        if marks > 0 {
            st.frames += marks;
            st.frame_times.push(at);
        }
        if let Some(f) = &mut st.dump {
            let _ = f.write_all(chunk);
        }
        st.parser.process(chunk);
        for _ in 0..asks {
            let (row, col) = st.parser.screen().cursor_position();
            let _ = write!(answer, "\x1b[{};{}R", row + 1, col + 1);
        }
        if let Some(p) = &st.probe {
            let shown = st.parser.screen().contents().contains(p.marker);
            if shown == p.shown {
                st.seen = Some(at - p.t0);
                st.probe = None;
                term.cv.notify_all();
            }
        }
    }
    let mut st = term.lock();
    st.eof = true;
    term.cv.notify_all();
}

/// roomtap in a pty; killed (and reaped) on drop, whatever the exit path.
struct Roomtap {
    child: Child,
    pid: u32,
    keys: File,
    term: Arc<Term>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Roomtap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

fn io_err(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

impl Roomtap {
    /// Must be called on the main thread: the child gets SIGKILL when the
    /// thread that spawned it ends (PR_SET_PDEATHSIG).
    fn spawn(args: &[String], dump: Option<File>) -> Res<Roomtap> {
        use rustix::fs::{Mode, OFlags};
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let e = |what: &'static str| move |e: rustix::io::Errno| format!("{what}: {e}");
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .map_err(e("openpt"))?;
        grantpt(&master).map_err(e("grantpt"))?;
        unlockpt(&master).map_err(e("unlockpt"))?;
        let name = ptsname(&master, Vec::new()).map_err(e("ptsname"))?;
        let slave = rustix::fs::open(
            name.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(e("open the pty's slave"))?;
        rustix::termios::tcsetwinsize(
            &slave,
            rustix::termios::Winsize {
                ws_row: ROWS,
                ws_col: COLS,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .map_err(e("set the pty's size"))?;
        let bin = roomtap_bin();
        let mut cmd = Command::new(&bin);
        cmd.args(args)
            .env_clear()
            .env("TERM", "xterm-256color")
            .env("LANG", "C.UTF-8")
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .stdin(Stdio::from(slave.try_clone().map_err(io_err("dup"))?))
            .stdout(Stdio::from(slave.try_clone().map_err(io_err("dup"))?))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe system calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(rustix::stdio::stdin())?;
                rustix::process::set_parent_process_death_signal(Some(
                    rustix::process::Signal::KILL,
                ))?;
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(io_err(&bin))?;
        // The slave's copies in `cmd` close here: the reader sees EIO when
        // roomtap exits.
        drop(cmd);
        let pid = child.id();
        let master = File::from(master);
        let keys = master.try_clone().map_err(io_err("dup"))?;
        let term = Arc::new(Term {
            st: Mutex::new(TermState {
                parser: vt100::Parser::new(
                    ROWS.try_into().expect("rows > 0"),
                    COLS.try_into().expect("cols > 0"),
                    0,
                ),
                frame_times: Vec::with_capacity(8192),
                frames: 0,
                bytes: 0,
                eof: false,
                probe: None,
                seen: None,
                dump,
            }),
            cv: Condvar::new(),
        });
        let t = term.clone();
        let answer = master.try_clone().map_err(io_err("dup"))?;
        let reader = std::thread::Builder::new()
            .name("pty-reader".into())
            .spawn(move || reader(master, answer, t))
            .map_err(io_err("reader thread"))?;
        Ok(Roomtap {
            child,
            pid,
            keys,
            term,
            reader: Some(reader),
        })
    }

    fn send(&mut self, key: &[u8]) -> Res<()> {
        self.keys.write_all(key).map_err(io_err("write a key"))?;
        self.keys.flush().map_err(io_err("write a key"))
    }

    /// Write `key` and wait until the screen shows (or no longer shows)
    /// `marker`: the time from the write to the read that showed it.
    fn probe(&mut self, key: &[u8], marker: &'static str, shown: bool) -> Res<Option<Duration>> {
        {
            let mut st = self.term.lock();
            st.seen = None;
            st.probe = Some(Probe {
                marker,
                shown,
                t0: Instant::now(),
            });
        }
        self.send(key)?;
        let st = self.term.lock();
        let (mut st, _) = self
            .term
            .cv
            .wait_timeout_while(st, KEY_TIMEOUT, |s| s.probe.is_some() && !s.eof)
            .unwrap_or_else(|p| p.into_inner());
        if st.eof {
            return Err("roomtap exited".into());
        }
        st.probe = None;
        Ok(st.seen.take())
    }
}

/// The binary under test: cargo's build of this package, or `FLOOD_BIN`
/// (another build, to compare a change).
fn roomtap_bin() -> String {
    std::env::var("FLOOD_BIN")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_roomtap").to_string())
}

// ---------------------------------------------------------------- /proc

/// Summed over a process's threads (`/proc/PID/task/*/schedstat`): seconds
/// on a CPU and seconds runnable but waiting for one (the run queue).
fn sched_secs(pid: u32) -> Option<(f64, f64)> {
    let mut run = 0u64;
    let mut wait = 0u64;
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) else {
            continue;
        };
        let mut f = s.split_whitespace().map(|x| x.parse::<u64>().unwrap_or(0));
        run += f.next().unwrap_or(0);
        wait += f.next().unwrap_or(0);
    }
    Some((run as f64 / 1e9, wait as f64 / 1e9))
}

/// A `/proc/PID/status` field in kB, as bytes.
fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .trim_start_matches(':')
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

// ---------------------------------------------------------------- load

/// What the load sent, shared by its tasks.
#[derive(Default)]
struct Load {
    actions: AtomicU64,
    /// Sends a paced sender gave up on (it was more than 100 ms behind).
    not_sent: AtomicU64,
    room_logs: AtomicU64,
    room_delivered: AtomicU64,
    room_not_sent: AtomicU64,
    errors: Mutex<Vec<String>>,
    stop: AtomicBool,
}

impl Load {
    fn error(&self, e: String) {
        let mut v = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() < 10 {
            v.push(e);
        }
    }
}

/// Sends `n` owed by now at `rate`/s since `start`, at most 100 ms behind.
struct Pacer {
    rate: f64,
    start: Instant,
    accounted: u64,
    max: u64,
}

impl Pacer {
    /// (to send now, given up)
    fn owed(&mut self, now: Instant) -> (u64, u64) {
        let due = ((now - self.start).as_secs_f64() * self.rate) as u64;
        let due = due.min(self.max);
        let owed = due.saturating_sub(self.accounted);
        let cap = ((self.rate * 0.1) as u64).max(1);
        let skipped = owed.saturating_sub(cap);
        self.accounted += owed;
        (owed - skipped, skipped)
    }
}

async fn app_task(
    ws: Ws,
    id: String,
    inst: String,
    frames: Arc<Frames>,
    load: Arc<Load>,
    mut pacer: Pacer,
    end: Instant,
) {
    // Pings are answered; what the relay sends on `respond` (UPDATE asks
    // from roomtap) is read and ignored.
    let (mut sink, mut pong_rx, reader) = sc::answer_pings(ws);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n = 0u64;
    'run: loop {
        tokio::select! {
            biased;
            p = pong_rx.recv() => match p {
                Some(p) => {
                    if sink.send(Message::text(p)).await.is_err() {
                        load.error(format!("app {inst}: pong failed"));
                        break;
                    }
                }
                None => {
                    load.error(format!("app {inst}: the relay closed the socket"));
                    break;
                }
            },
            _ = tick.tick() => {
                let now = Instant::now();
                if now >= end || load.stop.load(Relaxed) || pacer.accounted >= pacer.max {
                    break;
                }
                let (k, skipped) = pacer.owed(now);
                load.not_sent.fetch_add(skipped, Relaxed);
                for i in 0..k {
                    n += 1;
                    if let Err(e) = sink.feed(Message::text(frames.transmit(&id, &inst, n))).await {
                        load.error(format!("app {inst}: send: {e}"));
                        load.actions.fetch_add(i, Relaxed);
                        break 'run;
                    }
                }
                load.actions.fetch_add(k, Relaxed);
                if let Err(e) = sink.flush().await {
                    load.error(format!("app {inst}: flush: {e}"));
                    break;
                }
            }
        }
    }
    let _ = sink.flush().await;
    // Keep the socket open a moment: a close right away could race the
    // last frames through the relay (they are already written, though).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = sink.close().await;
    reader.abort();
}

async fn room_task(
    server: Arc<roomtap::protocols::room::server::RoomServer>,
    load: Arc<Load>,
    mut pacer: Pacer,
    end: Instant,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n = 0u64;
    loop {
        tick.tick().await;
        let now = Instant::now();
        if now >= end || load.stop.load(Relaxed) || pacer.accounted >= pacer.max {
            break;
        }
        let (k, skipped) = pacer.owed(now);
        load.room_not_sent.fetch_add(skipped, Relaxed);
        for _ in 0..k {
            n += 1;
            let data = json!({"message": format!("step {n} of the flood"), "step": n, "agent": "flood-bench"});
            let d = server.publish(ROOM, "agent.step", &data);
            load.room_logs.fetch_add(1, Relaxed);
            load.room_delivered.fetch_add(d as u64, Relaxed);
        }
    }
}

// ---------------------------------------------------------------- screen parsing

/// The relay's URL off the Connections pane.
fn relay_url(screen: &str) -> Option<String> {
    const HEAD: &str = "ws://127.0.0.1:";
    let mut at = 0;
    while let Some(i) = screen[at..].find(HEAD) {
        let s = &screen[at + i + HEAD.len()..];
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && s[digits.len()..].starts_with("/socketcluster/") {
            return Some(format!("{HEAD}{digits}/socketcluster/"));
        }
        at += i + HEAD.len();
    }
    None
}

/// `1 Logs · N · M evicted …` → (N, M).
fn logs_title(screen: &str) -> Option<(u64, u64)> {
    let line = screen.lines().find(|l| l.contains("1 Logs · "))?;
    let rest = &line[line.find("1 Logs · ")? + "1 Logs · ".len()..];
    let n: u64 = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    let evicted = rest
        .find(" evicted")
        .and_then(|e| rest[..e].rsplit(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Some((n, evicted))
}

/// One source's block in the zoomed Connections pane.
#[derive(Debug, Default, Clone)]
struct SourceBlock {
    head: String,
    in_frames: u64,
    in_msgs: u64,
    dropped: Vec<(String, u64)>,
    malformed: u64,
    lines: Vec<String>,
}

fn inner_line(l: &str) -> &str {
    let l = l.trim_end();
    let l = l.strip_prefix('│').unwrap_or(l);
    l.strip_suffix('│').unwrap_or(l).trim_end()
}

/// The selected source's detail in the Connections pane (under the
/// table of sources, from its `── label kind target ──` line).
fn connections(screen: &str) -> Vec<SourceBlock> {
    let mut out: Vec<SourceBlock> = Vec::new();
    for raw in screen.lines() {
        let l = inner_line(raw);
        if let Some(head) = l.strip_prefix("── ") {
            out.push(SourceBlock {
                head: head.trim_end_matches(" ──").to_string(),
                ..Default::default()
            });
            continue;
        }
        if l.is_empty() || l.starts_with('┌') || l.starts_with('└') || !l.starts_with(' ') {
            continue;
        }
        let Some(b) = out.last_mut() else { continue };
        b.lines.push(l.to_string());
        let t = l.trim();
        let words: Vec<&str> = t.split_whitespace().collect();
        if t.starts_with("in ") && words.len() >= 5 && words[words.len() - 1] == "msgs" {
            b.in_msgs = words[words.len() - 2].parse().unwrap_or(0);
            b.in_frames = words[words.len() - 4].parse().unwrap_or(0);
        }
        if let Some(i) = words.iter().position(|w| *w == "malformed") {
            b.malformed = words.get(i + 1).and_then(|w| w.parse().ok()).unwrap_or(0);
        }
        if let Some(i) = words.iter().position(|w| *w == "dropped")
            && let Some(n) = words.get(i + 1).and_then(|w| w.parse().ok())
        {
            b.dropped.push((words[..i].join(" "), n));
        }
    }
    out
}

// ---------------------------------------------------------------- one run

#[derive(Debug, Default, Clone)]
struct RunStats {
    label: String,
    secs: f64,
    lat_ms: Vec<f64>,
    timeouts: usize,
    frames: u64,
    fps: f64,
    longest_gap_ms: f64,
    out_mb: f64,
    cpu: Option<f64>,
    bench_cpu: Option<f64>,
    /// roomtap's threads runnable but not running (% of wall time, summed).
    runq: Option<f64>,
    hwm: Option<u64>,
    rss_end: Option<u64>,
    actions_sent: u64,
    not_sent: u64,
    room_sent: u64,
    room_delivered: u64,
    room_not_sent: u64,
    logs_len: u64,
    logs_evicted: u64,
    store_before: u64,
    blocks: Vec<SourceBlock>,
    errors: Vec<String>,
    drain_secs: f64,
}

impl RunStats {
    fn store_total(&self) -> u64 {
        self.logs_len + self.logs_evicted
    }
}

/// Simple deterministic jitter for the key spacing.
struct Rng(u64);

impl Rng {
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo + 1)
    }
}

fn run(
    label: &str,
    flood: bool,
    o: &Opts,
    rt: &tokio::runtime::Runtime,
    server: &Arc<roomtap::protocols::room::server::RoomServer>,
    secret: &str,
) -> Res<RunStats> {
    // `--port` (the alias of `--redux-port`) so that FLOOD_BIN can be a
    // build from before the flags had their protocol's prefix.
    let mut args: Vec<String> = [
        "--port",
        "0",
        "--room",
        &server.url(ROOM),
        "--room-secret",
        secret,
        "--max-bytes",
        &o.max_bytes,
        "--max-entries",
        &o.max_entries.to_string(),
    ]
    .map(String::from)
    .to_vec();
    if let Some(fps) = o.fps {
        args.extend(["--fps".into(), fps.to_string()]);
    }
    let dump = match (&o.dump, flood) {
        (Some(p), true) => Some(File::create(p).map_err(io_err("FLOOD_DUMP"))?),
        _ => None,
    };
    let mut rtap = Roomtap::spawn(&args, dump)?;
    let term = rtap.term.clone();
    let screen = term.wait_for("the four panes and the relay's URL", 30.0, |s| {
        s.contains("4 Timeline") && relay_url(s).is_some()
    })?;
    let url = relay_url(&screen).ok_or("no relay URL on screen")?;
    // The room source connected and watches the developer logs.
    let t = Instant::now();
    while server.watchers(ROOM) == 0 {
        if t.elapsed() > Duration::from_secs(20) {
            return Err(format!(
                "roomtap did not watch the room within 20 s; screen:\n{}",
                term.contents()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let load = Arc::new(Load::default());
    let frames = Arc::new(Frames::new(APP));
    let conns = if flood {
        rt.block_on(futures_util::future::try_join_all(
            (0..o.apps).map(|k| sc::app_connect(&url, k, APP, /* nodelay */ false)),
        ))?
    } else {
        Vec::new()
    };
    // Let the STARTs and connection notices land before measuring.
    std::thread::sleep(Duration::from_millis(500));
    let store_before = logs_title(&term.contents()).map_or(0, |(n, e)| n + e);

    // ---- the measured window
    let secs = o.secs;
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let count = (o.rate as f64 * secs).ceil() as u64;
    let mut tasks = Vec::new();
    if flood {
        let per_app = o.rate as f64 / o.apps as f64;
        for (k, (ws, id, inst)) in conns.into_iter().enumerate() {
            let max = count / o.apps as u64 + u64::from((k as u64) < count % o.apps as u64);
            let pacer = Pacer {
                rate: per_app,
                start,
                accounted: 0,
                max,
            };
            tasks.push(rt.spawn(app_task(
                ws,
                id,
                inst,
                frames.clone(),
                load.clone(),
                pacer,
                end,
            )));
        }
        if o.room_rate > 0 {
            let pacer = Pacer {
                rate: o.room_rate as f64,
                start,
                accounted: 0,
                max: (o.room_rate as f64 * secs).ceil() as u64,
            };
            tasks.push(rt.spawn(room_task(server.clone(), load.clone(), pacer, end)));
        }
    }
    let (cpu0, me0, f0) = (cpu_secs(Some(rtap.pid)), cpu_secs(None), term.lock().frames);
    let sched0 = sched_secs(rtap.pid);
    let b0 = term.lock().bytes;
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut lat_ms = Vec::new();
    let mut timeouts = 0;
    let mut result: Res<()> = Ok(());
    for _ in 0..MAX_KEYS {
        let gap = Duration::from_millis(rng.range(o.key_min_ms, o.key_max_ms));
        if Instant::now() + gap + KEY_TIMEOUT / 4 >= end {
            break;
        }
        std::thread::sleep(gap);
        let open = term.contents().contains(HELP_MARKER);
        let key: &[u8] = if open { b"\x1b" } else { b"?" };
        match rtap.probe(key, HELP_MARKER, !open) {
            Ok(Some(d)) => lat_ms.push(d.as_secs_f64() * 1000.0),
            Ok(None) => {
                timeouts += 1;
                lat_ms.push(KEY_TIMEOUT.as_secs_f64() * 1000.0);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    while Instant::now() < end && result.is_ok() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let wall = start.elapsed().as_secs_f64();
    let (cpu1, me1) = (cpu_secs(Some(rtap.pid)), cpu_secs(None));
    let sched1 = sched_secs(rtap.pid);
    let (f1, b1, gaps) = {
        let st = term.lock();
        let times: Vec<Instant> = st
            .frame_times
            .iter()
            .copied()
            .filter(|t| *t >= start && *t <= start + Duration::from_secs_f64(wall))
            .collect();
        let gap = times
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .fold(0.0, f64::max);
        (st.frames, st.bytes, gap)
    };
    load.stop.store(true, Relaxed);
    for t in tasks {
        let _ = rt.block_on(t);
    }
    result?;
    // Close the help overlay if a key left it open.
    if term.contents().contains(HELP_MARKER) {
        rtap.send(b"\x1b")?;
        term.wait_for("the help to close", 5.0, |s| !s.contains(HELP_MARKER))?;
    }

    // ---- settle: the Logs count stops moving (at most 60 s).
    let drain_start = Instant::now();
    let mut last = (logs_title(&term.contents()), Instant::now());
    while drain_start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
        let now = logs_title(&term.contents());
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() >= Duration::from_millis(1500) {
            break;
        }
    }
    let drain_secs = (last.1 - drain_start).as_secs_f64();
    let screen = term.contents();
    let (logs_len, logs_evicted) =
        logs_title(&screen).ok_or_else(|| format!("no Logs title on screen:\n{screen}"))?;
    // Connections, zoomed: every source's counters and client rows.
    rtap.send(b"3")?;
    std::thread::sleep(Duration::from_millis(150));
    rtap.send(b"z")?;
    let zoomed = term.wait_for("the zoomed Connections pane", 5.0, |s| {
        s.contains("3 Connections") && !s.contains("4 Timeline")
    })?;
    // One more frame so the counters are the latest.
    std::thread::sleep(Duration::from_millis(300));
    let zoomed = {
        let s = term.contents();
        if s.contains("3 Connections") {
            s
        } else {
            zoomed
        }
    };
    // The table of sources over the selected one's detail: each source's
    // detail in turn (j), until one comes again.
    let mut blocks: Vec<SourceBlock> = Vec::new();
    let mut screen_now = zoomed;
    for _ in 0..16 {
        let Some(b) = connections(&screen_now).into_iter().next() else {
            break;
        };
        if blocks.iter().any(|x| x.head == b.head) {
            break;
        }
        blocks.push(b);
        rtap.send(b"j")?;
        std::thread::sleep(Duration::from_millis(300));
        screen_now = term.contents();
    }
    let hwm = status_bytes(rtap.pid, "VmHWM");
    let rss_end = status_bytes(rtap.pid, "VmRSS");
    let cpu = match (cpu0, cpu1) {
        (Some(a), Some(b)) => Some((b - a) / wall * 100.0),
        _ => None,
    };
    let bench_cpu = match (me0, me1) {
        (Some(a), Some(b)) => Some((b - a) / wall * 100.0),
        _ => None,
    };
    let runq = match (sched0, sched1) {
        (Some(a), Some(b)) => Some((b.1 - a.1) / wall * 100.0),
        _ => None,
    };
    let errors = load
        .errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    drop(rtap);
    Ok(RunStats {
        label: label.into(),
        secs: wall,
        timeouts,
        frames: f1 - f0,
        fps: (f1 - f0) as f64 / wall,
        longest_gap_ms: gaps * 1000.0,
        out_mb: (b1 - b0) as f64 / 1e6,
        cpu,
        bench_cpu,
        runq,
        hwm,
        rss_end,
        actions_sent: load.actions.load(Relaxed),
        not_sent: load.not_sent.load(Relaxed),
        room_sent: load.room_logs.load(Relaxed),
        room_delivered: load.room_delivered.load(Relaxed),
        room_not_sent: load.room_not_sent.load(Relaxed),
        logs_len,
        logs_evicted,
        store_before,
        blocks,
        errors,
        drain_secs,
        lat_ms,
    })
}

// ---------------------------------------------------------------- report

/// Nearest-rank percentile.
fn pctl(v: &[f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    Some(s[rank.clamp(1, s.len()) - 1])
}

fn mb(b: Option<u64>) -> String {
    b.map_or("–".into(), |b| {
        format!("{:.0} MB", b as f64 / (1 << 20) as f64)
    })
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "–".into(),
    }
}

fn report(runs: &[RunStats], o: &Opts) -> bool {
    let idle = runs.iter().find(|r| r.label == "idle");
    let flood = runs.iter().find(|r| r.label == "flood");
    type Fig = Box<dyn Fn(&RunStats) -> (Option<f64>, String)>;
    let ms = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.1} ms"));
    let figs: Vec<(&str, Fig)> = vec![
        (
            "key → frame p50",
            Box::new(move |r: &RunStats| {
                let x = pctl(&r.lat_ms, 50.0);
                (x, ms(x))
            }),
        ),
        (
            "key → frame p99",
            Box::new(move |r: &RunStats| {
                let x = pctl(&r.lat_ms, 99.0);
                (x, ms(x))
            }),
        ),
        (
            "key → frame max",
            Box::new(move |r: &RunStats| {
                let x = pctl(&r.lat_ms, 100.0);
                (x, ms(x))
            }),
        ),
        (
            "keys (timeouts)",
            Box::new(|r: &RunStats| {
                (
                    Some(r.lat_ms.len() as f64),
                    format!("{} ({})", r.lat_ms.len(), r.timeouts),
                )
            }),
        ),
        (
            "frames/s (frames)",
            Box::new(|r: &RunStats| (Some(r.fps), format!("{:.1} ({})", r.fps, r.frames))),
        ),
        (
            "longest gap between frames",
            Box::new(move |r: &RunStats| (Some(r.longest_gap_ms), ms(Some(r.longest_gap_ms)))),
        ),
        (
            "terminal output",
            Box::new(|r: &RunStats| {
                let x = r.out_mb / r.secs;
                (Some(x), format!("{:.2} MB/s", x))
            }),
        ),
        (
            "roomtap CPU (% of a core)",
            Box::new(|r: &RunStats| (r.cpu, r.cpu.map_or("–".into(), |c| format!("{c:.1} %")))),
        ),
        (
            "roomtap waiting for a CPU (run queue)",
            Box::new(|r: &RunStats| (r.runq, r.runq.map_or("–".into(), |c| format!("{c:.1} %")))),
        ),
        (
            "bench client CPU",
            Box::new(|r: &RunStats| {
                (
                    r.bench_cpu,
                    r.bench_cpu.map_or("–".into(), |c| format!("{c:.0} %")),
                )
            }),
        ),
        (
            "peak RSS (VmHWM)",
            Box::new(|r: &RunStats| (r.hwm.map(|b| b as f64), mb(r.hwm))),
        ),
        (
            "RSS at the end (VmRSS)",
            Box::new(|r: &RunStats| (r.rss_end.map(|b| b as f64), mb(r.rss_end))),
        ),
        (
            "ACTIONs sent (msgs/s)",
            Box::new(|r: &RunStats| {
                let x = r.actions_sent as f64 / r.secs;
                (
                    Some(x),
                    format!("{} ({})", thousands(r.actions_sent), thousands(x as u64)),
                )
            }),
        ),
        (
            "room logs sent / delivered",
            Box::new(|r: &RunStats| {
                (
                    Some(r.room_delivered as f64),
                    format!(
                        "{} / {}",
                        thousands(r.room_sent),
                        thousands(r.room_delivered)
                    ),
                )
            }),
        ),
        (
            "store: entries + evicted",
            Box::new(|r: &RunStats| {
                (
                    Some(r.store_total() as f64),
                    format!("{} + {}", thousands(r.logs_len), thousands(r.logs_evicted)),
                )
            }),
        ),
        (
            "store: new during the run",
            Box::new(|r: &RunStats| {
                let x = r.store_total().saturating_sub(r.store_before);
                (Some(x as f64), thousands(x))
            }),
        ),
    ];
    let mut header = vec!["figure".to_string()];
    for r in runs {
        header.push(r.label.clone());
    }
    if idle.is_some() && flood.is_some() {
        header.push("flood / idle".into());
    }
    let mut rows = vec![header];
    for (name, f) in &figs {
        let mut row = vec![name.to_string()];
        for r in runs {
            row.push(f(r).1);
        }
        if let (Some(i), Some(fl)) = (idle, flood) {
            // Counts of what was sent have no idle counterpart.
            let counts = name.starts_with("keys")
                || name.starts_with("ACTIONs")
                || name.starts_with("room")
                || name.starts_with("store");
            row.push(if counts {
                String::new()
            } else {
                ratio(f(fl).0, f(i).0)
            });
        }
        rows.push(row);
    }
    println!();
    print_table(&rows);

    // Per-source counters off the Connections pane.
    for r in runs {
        println!();
        println!("  {} run, Connections pane:", r.label);
        for b in &r.blocks {
            let mut s = format!(
                "    {:<60} in {:>9} msgs ({:>9} frames)",
                b.head.chars().take(60).collect::<String>(),
                thousands(b.in_msgs),
                thousands(b.in_frames)
            );
            if b.malformed > 0 {
                let _ = write!(s, "  malformed {}", b.malformed);
            }
            for (who, n) in &b.dropped {
                let _ = write!(s, "  DROPPED {n} ({who})");
            }
            println!("{s}");
        }
        if r.not_sent > 0 || r.room_not_sent > 0 {
            println!(
                "    the load fell behind its pace: {} ACTIONs and {} room logs not sent",
                thousands(r.not_sent),
                thousands(r.room_not_sent)
            );
        }
        for e in &r.errors {
            println!("    load error: {e}");
        }
        println!(
            "    Logs count settled {:.1} s after the load stopped",
            r.drain_secs
        );
    }

    // Verdicts.
    let mut ok = true;
    println!();
    let Some(fl) = flood else {
        println!("no flood run: no verdict");
        return true;
    };
    let target_rate = o.rate as f64;
    let rate = fl.actions_sent as f64 / fl.secs;
    let p99 = pctl(&fl.lat_ms, 99.0).unwrap_or(f64::INFINITY);
    // The apps must have sent what they were asked to: a roomtap that
    // slows them down (backpressure) does not meet the target at that rate.
    println!(
        "load: {} ACTIONs sent in {:.1} s = {} msgs/s of the {} asked for ({:.1} %){}",
        thousands(fl.actions_sent),
        fl.secs,
        thousands(rate as u64),
        thousands(o.rate),
        100.0 * rate / target_rate,
        if fl.not_sent > 0 {
            format!("; {} not sent in time", thousands(fl.not_sent))
        } else {
            String::new()
        }
    );
    let at_rate = if rate >= 0.99 * target_rate {
        String::new()
    } else {
        format!(
            " (but only {} msgs/s were sent, not {})",
            thousands(rate as u64),
            thousands(o.rate)
        )
    };
    println!(
        "target key → frame p99 ≤ 50 ms under the flood: {} ({p99:.1} ms at {} msgs/s{at_rate}; idle p99 {})",
        if p99 <= 50.0 && at_rate.is_empty() {
            "MET"
        } else {
            "MISSED"
        },
        thousands(rate as u64),
        idle.and_then(|i| pctl(&i.lat_ms, 99.0))
            .map_or("–".into(), |x| format!("{x:.1} ms"))
    );
    if let (Some(h), Some(maxb)) = (fl.hwm, o.max_bytes_value()) {
        let base = idle.and_then(|i| i.hwm).unwrap_or(0);
        let budget = maxb + base + (o.rss_overhead_mb * (1 << 20) as f64) as u64;
        println!(
            "target peak RSS ≤ --max-bytes {} + idle peak {} + {} MB: {} ({} of {}; {} above idle)",
            mb(Some(maxb)),
            mb(Some(base)),
            o.rss_overhead_mb,
            if h <= budget { "MET" } else { "MISSED" },
            mb(Some(h)),
            mb(Some(budget)),
            mb(Some(h.saturating_sub(base)))
        );
    }
    let expected = fl.actions_sent + fl.room_delivered;
    let got = fl.store_total().saturating_sub(fl.store_before);
    let dropped: u64 = fl
        .blocks
        .iter()
        .flat_map(|b| b.dropped.iter().map(|d| d.1))
        .sum();
    let monitor = fl.blocks.iter().find(|b| b.head.starts_with("monitor"));
    let monitor_in = monitor.map_or(0, |b| b.in_msgs);
    let monitor_expected = fl.actions_sent + o.apps as u64; // + the STARTs
    let lost = expected.saturating_sub(got);
    println!(
        "target no event lost from the store's count: {} (store +{} during the run ≥ {} ACTIONs sent + {} room logs delivered = {}{}; in-process monitor in {} msgs ≥ {} ACTIONs + STARTs: {}; relay/room drops on screen: {})",
        if lost == 0 && dropped == 0 && monitor_in >= monitor_expected {
            "MET"
        } else {
            "MISSED"
        },
        thousands(got),
        thousands(fl.actions_sent),
        thousands(fl.room_delivered),
        thousands(expected),
        if lost > 0 {
            format!(", {} short", thousands(lost))
        } else {
            String::new()
        },
        thousands(monitor_in),
        thousands(monitor_expected),
        if monitor_in >= monitor_expected {
            "yes"
        } else {
            "NO"
        },
        dropped
    );
    if let Some(w) = fl.runq
        && w > 20.0
    {
        println!(
            "note: roomtap's threads waited {w:.0} % of the run for a CPU (run queue) while using {}: the machine was busy with other work, so these figures are those of a starved roomtap",
            fl.cpu.map_or("–".into(), |c| format!("{c:.0} % of a core"))
        );
    }
    ok &= !fl.lat_ms.is_empty() && fl.errors.is_empty();
    if o.smoke {
        // The smoke run only proves the machinery works.
        ok = runs.iter().all(|r| !r.lat_ms.is_empty()) && fl.actions_sent > 0;
    }
    ok
}

// ---------------------------------------------------------------- main

fn main() -> ExitCode {
    let o = Opts::from_env();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "flood bench{}: roomtap {} in a {COLS}×{ROWS} pty; {} s per run; load {} ACTION msgs/s over {} app sockets + {} room logs/s; --max-bytes {}; keys every {}–{} ms; {cores} cores, load average {}",
        if o.smoke { " (smoke test)" } else { "" },
        roomtap_bin(),
        o.secs,
        thousands(o.rate),
        o.apps,
        thousands(o.room_rate),
        o.max_bytes,
        o.key_min_ms,
        o.key_max_ms,
        sc::load_average()
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let secret = format!("flood-{:x}", std::process::id() as u64 * 0x9E37_79B9);
    let server = rt.block_on(roomtap::protocols::room::server::RoomServer::start(
        roomtap::protocols::room::server::RoomServerConfig {
            secret: Some(roomtap::protocols::room::wire::token::Secret::new(
                secret.clone(),
            )),
            ..Default::default()
        },
        None,
    ));
    let server = match server {
        Ok(s) => Arc::new(s),
        Err(e) => {
            println!("cannot start the room server: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("room server {}", server.url(ROOM));
    let mut runs = Vec::new();
    let mut failed = false;
    for label in &o.runs {
        let flood = label == "flood";
        println!(
            "{label} run: {} s{} (load average {})…",
            o.secs,
            if flood { " of flood" } else { ", no load" },
            sc::load_average()
        );
        match run(label, flood, &o, &rt, &server, &secret) {
            Ok(r) => runs.push(r),
            Err(e) => {
                println!("{label} run FAILED: {e}");
                failed = true;
            }
        }
    }
    let ok = report(&runs, &o);
    println!("load average after: {}", sc::load_average());
    println!(
        "reproduce: FLOOD_SECS={} FLOOD_RATE={} FLOOD_APPS={} FLOOD_ROOM_RATE={} FLOOD_MAX_BYTES={} cargo bench --bench flood",
        o.secs, o.rate, o.apps, o.room_rate, o.max_bytes
    );
    drop(server);
    rt.shutdown_timeout(Duration::from_secs(1));
    if failed || !ok {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
