//! Recorded sessions and the headless tail: a session recorded and opened
//! again gives the same store; secrets never reach the file; `roomtap tail`
//! prints what matches (readable or JSON), survives a cut-off recording,
//! and ends cleanly on a closed pipe and on Ctrl-C; `e` exports the view.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use roomtap::event::{
    ChannelChange, ConnState, EventKind, Level, LogRecord, PeerRow, SourceEvent, TrafficStats,
};
use roomtap::record::{Recorder, read};
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;

const SECRET: &str = "s3cret-token-value";

fn session() -> Vec<SourceEvent> {
    let mut v = vec![
        ev(T0, EventKind::Conn(ConnState::Connecting { attempt: 1 })),
        ev(
            T0 + 1,
            EventKind::Conn(ConnState::Connected {
                session: Some("sock-1".into()),
            }),
        ),
        ev(
            T0 + 2,
            EventKind::Channel {
                channel: "log".into(),
                change: ChannelChange::Subscribed,
            },
        ),
        // A frame as it came (`--keep-raw`), the secret in it.
        ev(
            T0 + 3,
            EventKind::Raw(roomtap::event::RawFrame::new(
                false,
                true,
                format!("{{\"event\":\"#publish\",\"token\":\"{SECRET}\"}}").as_bytes(),
            )),
        ),
        ev(
            T0 + 3,
            state_msg("inst-a", "counter", &lifted(&[0, 1], 1, &[])),
        ),
    ];
    for i in 2..6 {
        v.push(ev(
            T0 + 100 * i,
            action_msg("inst-a", "counter", i, "INCREMENT", i as i64),
        ));
    }
    v.push(ev(
        T0 + 700,
        EventKind::Log(LogRecord {
            level: Level::Warn,
            kind: "indexer".into(),
            summary: format!("upstream timed out (token {SECRET})"),
            data: Some(format!(r#"{{"msg":"time-out","auth":"{SECRET}"}}"#)),
            bytes: None,
        }),
    ));
    v.push(ev(
        T0 + 800,
        EventKind::Stats(TrafficStats {
            bytes_in: 10,
            frames_in: 2,
            ..Default::default()
        }),
    ));
    v.push(ev(
        T0 + 801,
        EventKind::Peers(vec![PeerRow {
            id: "p1".into(),
            addr: "127.0.0.1:1".into(),
            role: roomtap::event::PeerRole::App,
            proto: roomtap::event::Dialect::V2,
            name: Some("counter".into()),
            instances: vec!["inst-a".into()],
            dropped: 0,
        }]),
    ));
    v.push(ev(
        T0 + 802,
        EventKind::Facts(vec![roomtap::event::Fact::set("room", "test")]),
    ));
    v.push(ev(
        T0 + 900,
        EventKind::Malformed {
            what: "bad frame".into(),
            raw: "{".into(),
        },
    ));
    // A source's metrics, twice (their history), and an entry about bytes.
    for (i, latency) in [(0u64, 3.5), (1, 4.25)] {
        v.push(ev(
            T0 + 950 + i,
            EventKind::Metrics(vec![
                roomtap::event::Metric::new("latency", latency, roomtap::event::Unit::Ms).charted(),
                roomtap::event::Metric::new("resends", i as f64, roomtap::event::Unit::Count),
            ]),
        ));
    }
    v.push(ev(
        T0 + 960,
        EventKind::Log(LogRecord {
            level: Level::Info,
            kind: "type 30".into(),
            summary: "bytes".into(),
            data: None,
            bytes: Some(vec![0, 0xff, b'a', 0x1b]),
        }),
    ));
    v
}

fn logs_of(a: &roomtap::app::App) -> Vec<String> {
    let l = &a.store.logs;
    (0..l.view_len())
        .filter_map(|i| l.view_get(i))
        .map(|e| {
            format!(
                "{} {} {} {} {} {:?}",
                e.at_ms,
                e.source,
                e.level.label(),
                e.kind,
                e.summary,
                e.data
            )
        })
        .collect()
}

fn timeline_of(a: &roomtap::app::App) -> Vec<String> {
    a.store
        .timeline
        .instances
        .iter()
        .flat_map(|i| {
            i.entries.iter().map(move |e| {
                format!(
                    "{} {} {} {:?}",
                    i.key,
                    e.id,
                    e.action_type,
                    e.state_raw.as_ref().map(|s| s.text().unwrap().into_owned())
                )
            })
        })
        .collect()
}

/// `s` with runs of spaces made one (tail's columns are padded).
fn sq(s: &str) -> String {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("roomtap-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&d);
    d
}

#[test]
fn a_recorded_session_opens_into_the_same_store_and_keeps_no_secret() {
    let path = temp("roundtrip.jsonl");
    let mut a = app();
    {
        let mut rec = Recorder::create(&path, &a.store).unwrap();
        // As the run masks every event where its source emits it.
        let mask = roomtap::secret::Masker::default();
        assert!(mask.add(SECRET));
        for mut e in session() {
            e.kind.scrub(&mut |s| mask.mask(s));
            rec.write(&e);
            a.apply(e);
        }
        a.after_events();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(SECRET), "a secret reached the recording");
    assert!(text.contains("***"));

    let rec = read(&path).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    let mut b = app_blank();
    for s in &rec.header.sources {
        b.store
            .add_source(&s.label, roomtap::protocols::redux::CLIENT, &s.url);
    }
    for e in rec.events {
        b.apply(e);
    }
    b.after_events();
    // Same logs and timeline, except that the secret is masked.
    let masked: Vec<String> = logs_of(&a)
        .into_iter()
        .map(|l| l.replace(SECRET, "***"))
        .collect();
    assert_eq!(logs_of(&b), masked);
    assert_eq!(timeline_of(&b), timeline_of(&a));
    assert!(!timeline_of(&a).is_empty());
    let (sa, sb) = (&a.store.sources[0], &b.store.sources[0]);
    assert_eq!(sa.conn.state, sb.conn.state);
    assert_eq!(sa.conn.stats, sb.conn.stats);
    assert_eq!(sa.channels.len(), sb.channels.len());
    assert_eq!(sa.peers, sb.peers);
    assert_eq!(sa.facts, sb.facts);
    assert_eq!(sa.malformed, sb.malformed);
    assert_eq!(sa.metrics, sb.metrics);
    assert_eq!(sb.metrics[0].history, [3.5, 4.25]);
    let bytes_of = |a: &roomtap::app::App| {
        let l = &a.store.logs;
        (0..l.view_len())
            .filter_map(|i| l.view_get(i))
            .find_map(|e| e.bytes.clone())
    };
    assert_eq!(bytes_of(&b).as_deref(), Some(&[0, 0xff, b'a', 0x1b][..]));
    // The kept frame came back with its place among the entries, masked.
    assert_eq!(b.store.raw.len(), 1);
    let seq = b.store.logs.view_get(0).unwrap().seq;
    let frames = b.store.raw.of(0, seq + 5);
    assert_eq!(frames.len(), 1);
    let kept = String::from_utf8_lossy(frames[0].frame.bytes.as_deref().unwrap()).into_owned();
    assert!(kept.contains("#publish") && kept.contains("***"), "{kept}");
    assert!(!kept.contains(SECRET));
    // Opened as `roomtap open` does: commands are refused and it says so.
    b.read_only = Some("replaying a recording: commands are disabled".into());
    b.act(Action::Focus(Pane::Timeline));
    b.act(Action::Activate);
    b.act(Action::Commit);
    b.act(Action::Input('y'));
    assert!(b.take_commands().is_empty());
    let t = render(&mut b, 120, 40);
    let screen = screen_text(&t);
    assert!(screen.contains("recorded"), "{screen}");
    assert!(
        screen.contains("replaying a recording: commands are disabled"),
        "{screen}"
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn e_exports_the_filtered_view_as_json_lines() {
    let mut a = app();
    for e in session() {
        a.apply(e);
    }
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::FilterPrompt);
    a.paste("level>=warn");
    a.act(Action::Submit);
    a.act(Action::Export);
    assert!(a.effects.contains(&roomtap::app::Effect::Export));
    let mut out = Vec::new();
    let n = a.export_view(&mut out).unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(n, lines.len());
    assert_eq!(n, 2, "the warning and the malformed frame");
    assert_eq!(lines[0]["kind"], "indexer");
    assert_eq!(lines[0]["data"]["msg"], "time-out");
}

/// A file `e` wrote opens (issue #20): each line an entry again, its
/// source, time, level, kind, summary, data and bytes as exported.
#[test]
fn an_export_opens_like_a_recording() {
    let mut a = app();
    for e in session() {
        a.apply(e);
    }
    let mut out = Vec::new();
    let n = a.export_view(&mut out).unwrap();
    let path = temp("export.jsonl");
    let _gone = Gone(path.clone());
    std::fs::write(&path, &out).unwrap();
    let r = read(&path).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.header.sources[0].label, "relay");
    assert_eq!(r.events.len(), n);
    let mut b = app_blank();
    for s in &r.header.sources {
        b.store
            .add_source(&s.label, roomtap::source::SourceKind::RECORDED, &s.url);
    }
    for e in r.events {
        b.apply(e);
    }
    let entries = |a: &roomtap::app::App| {
        let l = &a.store.logs;
        (0..l.view_len())
            .filter_map(|i| l.view_get(i))
            .map(|e| {
                let data = e
                    .data
                    .as_deref()
                    .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap_or(d.into()));
                (
                    e.at_ms,
                    e.level,
                    e.kind.to_string(),
                    e.summary.to_string(),
                    data,
                    e.bytes.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(entries(&b), entries(&a));
    assert!(entries(&b).iter().any(|e| e.5.is_some()), "bytes came back");
    // `tail` reads it too.
    let out = roomtap()
        .args(["tail", "--utc", "--filter", "level>=warn", "open"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        sq(&text).contains("relay WARN indexer upstream timed out"),
        "{text}"
    );
}

fn roomtap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_roomtap"))
}

/// A recording written by the recorder, with a cut-off last line as a
/// crash leaves it.
fn crashed_recording(name: &str) -> std::path::PathBuf {
    let path = temp(name);
    let a = app();
    {
        let mut rec = Recorder::create(&path, &a.store).unwrap();
        for e in session() {
            rec.write(&e);
        }
    }
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(r#"{"source":0,"at_ms":17953441"#);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn tail_prints_matches_from_a_recording_readable_or_json() {
    let path = crashed_recording("crashed.jsonl");
    let out = roomtap()
        .args(["tail", "--utc", "--filter", "level>=warn", "open"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| sq(l).contains(" file WARN recording line 19: the last line is cut off")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| sq(l).contains(" relay WARN indexer upstream timed out")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.contains("ERROR malformed")),
        "{text}"
    );
    // Recorded entries keep their recorded time.
    assert!(
        lines
            .iter()
            .filter(|l| !l.contains(" file "))
            .all(|l| l.starts_with("2026-11-22 10:42:40")),
        "{text}"
    );

    let out = roomtap()
        .args(["tail", "--json", "--filter", "data.msg~/time.?out/", "open"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v.len(), 1, "{text}");
    assert_eq!(v[0]["level"], "WARN");
    assert_eq!(v[0]["source"], "relay");
    assert_eq!(v[0]["data"]["msg"], "time-out");

    // A bad filter is a clear error, exit 1, nothing on stdout.
    let out = roomtap()
        .args(["tail", "--filter", "level>=loud", "open"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown level"));
    let _ = std::fs::remove_file(&path);
}

/// Wait (bounded) for the child to exit; its status.
fn wait_exit(c: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = c.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = c.kill();
            panic!("roomtap tail did not exit within {secs}s");
        }
        std::thread::sleep(Duration::from_millis(20)); // allow-sleep: polling another process's exit
    }
}

#[test]
fn tail_on_a_live_source_ends_cleanly_on_a_closed_pipe_and_on_ctrl_c() {
    for how in ["pipe", "ctrl-c"] {
        let mut c = roomtap()
            .args(["tail", "--port", "0", "demo", "--seed", "5"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut r = BufReader::new(c.stdout.take().unwrap());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("20"), "{line}");
        match how {
            // `| head -1`: the reader goes away.
            "pipe" => drop(r),
            _ => {
                let ok = Command::new("kill")
                    .args(["-INT", &c.id().to_string()])
                    .status()
                    .unwrap();
                assert!(ok.success());
            }
        }
        let status = wait_exit(&mut c, 20);
        assert!(status.success(), "{how}: {status:?}");
    }
}

/// `tail` on a room that refuses the token: the 403 is printed, explained,
/// and tail ends with a failure instead of waiting forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_ends_with_an_error_when_every_source_gave_up() {
    let srv = roomtap::protocols::room::server::RoomServer::start(
        roomtap::protocols::room::server::RoomServerConfig {
            secret: Some(roomtap::protocols::room::wire::token::Secret::new("right")),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args(["tail", "--room-secret", "wrong", "room", &srv.url("test")])
        .env_remove("MESHAGENT_TOKEN")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .expect("tail ends by itself")
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the room refused the token (HTTP 403)"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("every source gave up"));
    assert!(!text.contains("wrong"), "the secret is not printed");
}

/// A recording is a file anyone can write: its source labels and URLs
/// are remote text too, and never reach the terminal raw.
#[test]
fn labels_from_a_recording_are_sanitised() {
    let path = temp("hostile.jsonl");
    let a = app();
    {
        let mut rec = Recorder::create(&path, &a.store).unwrap();
        for e in session() {
            rec.write(&e);
        }
    }
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen(
            "\"label\":\"relay\"",
            "\"label\":\"re\\u001b]0;pwn\\u0007\\u001b[2Jlay\"",
            1,
        )
        .replacen("\"url\":\"ws://", "\"url\":\"\\u001b[31mws://", 1);
    std::fs::write(&path, text).unwrap();
    let out = roomtap()
        .args(["tail", "--filter", "level>=warn", "open"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(sq(&text).contains("indexer upstream timed out"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    let _ = std::fs::remove_file(&path);
}

/// A Leap session recorded and read back: channel states, their history
/// and diffs, event names, and a pipe subscription whose join token the
/// recording never holds.
#[test]
fn a_recorded_leap_session_reopens_with_its_channel_states() {
    use roomtap::event::{ChannelUpdate, Command, CommandKind};
    use roomtap::protocols::leap::wire::model::LeapCommand;
    let path = temp("leap.jsonl");
    let mut a = app_blank();
    a.store.add_source(
        "leap",
        roomtap::protocols::leap::CLIENT,
        "ws://127.0.0.1:8790/ws",
    );
    let cs = |update: ChannelUpdate| EventKind::ChannelState {
        channel: "game".into(),
        update,
    };
    let events = vec![
        cs(ChannelUpdate::Available {
            facts: vec![("type".into(), "unprotected".into())],
            state: Some(r#"{"round":1}"#.into()),
        }),
        cs(ChannelUpdate::State {
            state: r#"{"round":2,"mvp":"bo"}"#.into(),
        }),
        cs(ChannelUpdate::Seen {
            event: "chat".into(),
        }),
        EventKind::CommandSent(Command {
            source: 0,
            // Echoed masked, as the Leap source echoes it.
            kind: CommandKind::Leap(LeapCommand::PipeSubscribe {
                join_token: roomtap::protocols::leap::wire::model::mask_token("jt_secret_join"),
            }),
        }),
    ];
    {
        let mut rec = Recorder::create(&path, &a.store).unwrap();
        let mask = roomtap::secret::Masker::default();
        assert!(mask.add("jt_secret_join"));
        for mut kind in events {
            kind.scrub(&mut |s| mask.mask(s));
            let e = SourceEvent {
                source: 0,
                at_ms: 1,
                kind,
            };
            rec.write(&e);
            a.apply(e);
        }
    }
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("jt_secret_join")
    );
    let rec = read(&path).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    let kind = roomtap::protocols::kind_named(&rec.header.sources[0].kind);
    assert_eq!(kind, roomtap::protocols::leap::CLIENT);
    let mut b = app_blank();
    b.store.add_source(
        &rec.header.sources[0].label,
        kind,
        &rec.header.sources[0].url,
    );
    for e in rec.events {
        b.apply(e);
    }
    let (ca, cb) = (
        &a.store.sources[0].channels["game"],
        &b.store.sources[0].channels["game"],
    );
    let (la, lb) = (ca.live.as_ref().unwrap(), cb.live.as_ref().unwrap());
    assert_eq!(lb.state(), la.state());
    assert_eq!(lb.history.len(), 2);
    assert_eq!((lb.history[1].added, lb.history[1].changed), (1, 1));
    assert_eq!(cb.events, ["chat"]);
    assert_eq!(logs_of(&b), logs_of(&a));
    let _ = std::fs::remove_file(&path);
}

/// A temporary file, removed when the test ends (passed or failed: a
/// failed run must not leave a 50 GB sparse file or a 65 MB recording).
struct Gone(std::path::PathBuf);

impl Drop for Gone {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What [`run_measured`] saw.
struct Measured {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
    /// The highest peak RSS (VmHWM) read while it ran, in bytes.
    peak: u64,
}

/// The peak RSS (VmHWM) of a running process, in bytes; `None` once it
/// is gone (or on a system without /proc).
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// Run `roomtap args` to its end, within `secs`, reading its peak RSS as
/// it runs: past `max_rss` bytes it is killed and the test fails (a
/// recording that exhausts memory must not take the machine with it).
fn run_measured(args: &[&std::ffi::OsStr], secs: u64, max_rss: u64) -> Measured {
    use std::io::Read;
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out_path = Gone(temp(&format!("stdout-{run}.txt")));
    let out = std::fs::File::create(&out_path.0).unwrap();
    let mut c = roomtap()
        .args(args)
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut peak = 0;
    let status = loop {
        // VmHWM only grows: the last one read is the peak but for the
        // last few milliseconds.
        if let Some(p) = peak_rss(c.id()) {
            peak = peak.max(p);
        }
        if peak > max_rss {
            let _ = c.kill();
            let _ = c.wait();
            panic!(
                "roomtap {args:?}: peak RSS {} MiB, over {} MiB",
                peak >> 20,
                max_rss >> 20
            );
        }
        if let Some(s) = c.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = c.kill();
            let _ = c.wait();
            panic!(
                "roomtap {args:?} did not end within {secs}s (peak RSS {} MiB)",
                peak >> 20
            );
        }
        std::thread::sleep(Duration::from_millis(10)); // allow-sleep: polling another process's memory and exit
    };
    let mut stderr = String::new();
    c.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let stdout = std::fs::read_to_string(&out_path.0).unwrap();
    Measured {
        status,
        stdout,
        stderr,
        peak,
    }
}

/// A recording's header line, as the recorder writes it.
fn header_only(name: &str) -> std::path::PathBuf {
    let path = temp(name);
    Recorder::create(&path, &app().store).unwrap();
    path
}

/// A valid header, then 50 GB of nothing (4 KB on disk): reading stops at
/// the run of NUL bytes, says why and ends with a failure, in bounded
/// memory (it grew past 4 GB in 15 s).
#[test]
fn tail_stops_on_a_sparse_recording_in_bounded_memory() {
    let path = header_only("sparse.jsonl");
    let _gone = Gone(path.clone());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(50 << 30)
        .unwrap();
    let m = run_measured(
        &["tail".as_ref(), "open".as_ref(), path.as_os_str()],
        20,
        200 << 20,
    );
    assert!(!m.status.success(), "{:?}", m.status);
    assert!(
        m.stderr.contains("line 2: 1 MiB of NUL bytes in a row")
            && m.stderr.contains("reading stopped"),
        "{}",
        m.stderr
    );
    assert!(
        sq(&m.stdout).contains("ERROR connection line 2: 1 MiB of NUL bytes"),
        "{}",
        m.stdout
    );
    eprintln!("sparse recording: peak RSS {} MiB", m.peak >> 20);
}

/// A symlink to /dev/zero (or any FIFO, device or directory) is refused
/// before anything starts.
#[test]
fn a_recording_that_is_not_a_regular_file_is_refused() {
    let path = temp("zero.jsonl");
    let _gone = Gone(path.clone());
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    for cmd in [&["tail", "open"][..], &["open"][..]] {
        let mut args: Vec<&std::ffi::OsStr> = cmd.iter().map(|a| a.as_ref()).collect();
        args.push(path.as_os_str());
        let m = run_measured(&args, 20, 200 << 20);
        assert!(!m.status.success(), "{cmd:?}: {:?}", m.status);
        assert!(m.stdout.is_empty(), "{cmd:?}: {}", m.stdout);
        assert!(
            m.stderr.contains(&format!(
                "{} is not a regular file (a character device)",
                path.display()
            )),
            "{cmd:?}: {}",
            m.stderr
        );
    }
}

/// A line of 20 MiB among good events: one WARN entry that says which
/// line and how long, and the events after it still load.
#[test]
fn a_line_over_16_mib_is_one_warning_and_the_rest_loads() {
    let path = crashed_recording("long-line.jsonl");
    let _gone = Gone(path.clone());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    let long = format!("{{\"source\":0,\"junk\":\"{}\"}}\n", "x".repeat(20 << 20));
    lines.insert(3, long.clone());
    std::fs::write(&path, lines.concat()).unwrap();
    let m = run_measured(
        &[
            "tail".as_ref(),
            "--filter".as_ref(),
            "level>=warn".as_ref(),
            "open".as_ref(),
            path.as_os_str(),
        ],
        60,
        400 << 20,
    );
    assert!(m.status.success(), "{:?} {}", m.status, m.stderr);
    let out: Vec<&str> = m.stdout.lines().collect();
    assert_eq!(out.len(), 4, "{}", m.stdout);
    assert!(
        sq(out[0]).contains(&format!(
            " file WARN recording line 4: {} bytes long, over the 16 MiB a line may be; skipped",
            long.len() - 1
        )),
        "{}",
        m.stdout
    );
    // What comes after it: the recorded warning and error, and the cut-off
    // last line.
    assert!(
        sq(out[1]).contains(" relay WARN indexer upstream timed out"),
        "{}",
        m.stdout
    );
    assert!(out[2].contains("ERROR malformed"), "{}", m.stdout);
    assert!(
        sq(out[3]).contains("recording line 20: the last line is cut off"),
        "{}",
        m.stdout
    );
}

/// A recording far bigger than `--max-bytes` streams into the store: the
/// peak RSS stays far below the file's size (it was read whole first).
#[test]
fn tail_streams_a_recording_bigger_than_its_limits() {
    let path = temp("big.jsonl");
    let _gone = Gone(path.clone());
    const EVENTS: u64 = 60_000;
    {
        let mut rec = Recorder::create(&path, &app().store).unwrap();
        let pad = "x".repeat(1000);
        for i in 0..EVENTS {
            rec.write(&ev(
                T0 + i,
                EventKind::Log(LogRecord {
                    level: Level::Info,
                    kind: "bulk".into(),
                    summary: format!("event {i}"),
                    data: Some(format!(r#"{{"i":{i},"pad":"{pad}"}}"#)),
                    bytes: None,
                }),
            ));
        }
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 60 << 20, "{size}");
    let bound = size / 2 + (40 << 20);
    let m = run_measured(
        &[
            "tail".as_ref(),
            "--max-bytes".as_ref(),
            "8M".as_ref(),
            "--max-entries".as_ref(),
            "10000".as_ref(),
            "open".as_ref(),
            path.as_os_str(),
        ],
        120,
        bound,
    );
    assert!(m.status.success(), "{:?} {}", m.status, m.stderr);
    assert!(
        m.stdout
            .contains(&format!("replay finished: {EVENTS} events")),
        "{}",
        &m.stdout[m.stdout.len().saturating_sub(500)..]
    );
    eprintln!(
        "{} MiB recording: peak RSS {} MiB (bound {} MiB)",
        size >> 20,
        m.peak >> 20,
        bound >> 20
    );
}

/// Line separators, zero-width and tag characters in a recorded summary,
/// kind or source label are printed by `tail` as symbols, never raw (a
/// terminal would break the line or hide them).
#[test]
fn tail_prints_separators_and_invisibles_as_symbols() {
    let path = temp("invisible.jsonl");
    let a = app();
    let raw = [
        '\u{2028}',
        '\u{2029}',
        '\u{200b}',
        '\u{200d}',
        '\u{e0041}',
        '\u{feff}',
    ];
    {
        let mut rec = Recorder::create(&path, &a.store).unwrap();
        rec.write(&ev(
            T0,
            EventKind::Log(LogRecord {
                level: Level::Warn,
                kind: "ki\u{200b}nd".into(),
                summary: "one\u{2028}two\u{2029}three\u{200b}four\u{200d}five\u{e0041}\u{e007f}six"
                    .into(),
                data: None,
                bytes: None,
            }),
        ));
    }
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "\"label\":\"relay\"",
        "\"label\":\"re\u{2028}l\u{feff}ay\"",
        1,
    );
    assert!(text.contains('\u{2028}'), "the recording holds them raw");
    std::fs::write(&path, text).unwrap();
    for json in [false, true] {
        let mut cmd = roomtap();
        cmd.arg("tail");
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .args(["--filter", "level>=warn", "open"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains(raw), "{json}: {text:?}");
        let line = text
            .lines()
            .find(|l| l.contains("one"))
            .unwrap_or_else(|| panic!("{json}: {text}"));
        assert!(line.contains("one␤two␤three�four�five��six"), "{line}");
        if json {
            // The kind was neutralised as it was kept, like the summary.
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["kind"], "ki�nd");
        } else {
            assert!(sq(line).contains(" re␤l�ay WARN ki�nd one␤two"), "{line}");
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// `tail`'s options go before or after its source; what the filter leaves
/// out about the connection or an error goes to stderr; `--all` prints the
/// events that are not log entries too (issue #20).
#[test]
fn tail_options_after_the_source_and_what_the_filter_leaves_out() {
    let path = crashed_recording("after.jsonl");
    let out = roomtap()
        .args(["tail", "open"])
        .arg(&path)
        .args(["--utc", "--filter", "level>=warn", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 2, "{text}");
    assert!(text.lines().all(|l| l.starts_with('{')), "JSON: {text}");
    assert!(!text.contains("\"connection\""), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("connection") && err.contains("connected"),
        "{err}"
    );
    // --all: the recorded Stats and Peers as events.
    let out = roomtap()
        .args(["tail", "--all", "--utc", "open"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(" event Stats "), "{text}");
    assert!(text.contains(" event Peers "), "{text}");
}

/// An export's bad lines are skipped and said, the rest loads (issue #20).
#[test]
fn an_exports_bad_lines_are_said_and_the_rest_loads() {
    let good = r#"{"time":"2026-11-22T10:42:40.700Z","source":"relay","level":"WARN","kind":"indexer","summary":"upstream timed out"}"#;
    let bad_time = good.replace("2026-11-22T10:42:40.700Z", "yesterday");
    let bad_bytes = good.replace(
        r#""summary""#,
        r#""bytes":{"base64":"not base64!"},"summary""#,
    );
    let text = format!(
        "{good}\nnot json\n{bad_time}\n{bad_bytes}\n{good}\n{}",
        &good[..30]
    );
    let r = roomtap::record::read_export_from(text.as_bytes(), "x.jsonl").unwrap();
    assert_eq!(r.events.len(), 2, "{:?}", r.warnings);
    assert_eq!(r.warnings.len(), 4, "{:?}", r.warnings);
    assert!(
        r.warnings[0].starts_with("line 2: not an exported entry"),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings[1].contains("a time \"yesterday\""),
        "{:?}",
        r.warnings
    );
    assert!(r.warnings[2].contains("bytes:"), "{:?}", r.warnings);
    assert!(r.warnings[3].contains("cut off"), "{:?}", r.warnings);
}

/// Found by the `recording` fuzz target: an export whose source labels
/// are not valid UTF-8, or whose lines name none the scan can read, still
/// replays every entry into a declared source.
#[test]
fn an_exports_entries_always_have_a_declared_source() {
    let line = |src: &[u8]| {
        let mut l = br#"{"time":"2026-11-22T10:42:40.700Z","source":""#.to_vec();
        l.extend_from_slice(src);
        l.extend_from_slice(br#"","level":"INFO","kind":"k","summary":"s"}"#);
        l.push(b'\n');
        l
    };
    let mut text = line(b"leg\x93me");
    text.extend(line(b"relay"));
    let r = roomtap::record::read_export_from(&text, "x").unwrap();
    assert_eq!(r.events.len(), 2);
    let n = r.header.sources.len();
    assert!(r.events.iter().all(|e| usize::from(e.source) < n), "{n}");
    assert_eq!(r.header.sources[0].label, "leg\u{fffd}me");
}

/// `tail --filter Q open FILE` leaves out, before parsing them, the lines
/// the query cannot keep: what it prints (stdout and stderr) is what the
/// unnarrowed path prints (`--record` keeps every event, so it reads every
/// line), for queries of every shape, on entries with escapes, quotes and
/// non-ASCII in every field.
#[test]
fn a_narrowed_tail_prints_what_the_whole_read_prints() {
    use roomtap::event::{EventKind, Level, LogRecord, SourceEvent};
    let path = temp("narrowed.jsonl");
    let a = app();
    let words = [
        "timeout",
        "time-out",
        "say \"hi\"",
        "café",
        "a\nb",
        "x/y",
        "{\"k\":1}",
        "indexer",
        "relay",
        "WARN",
        "42",
    ];
    let levels = [Level::Debug, Level::Info, Level::Warn, Level::Error];
    {
        let mut rec = Recorder::create(&path, &a.store).unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut pick = || words[rng.usize(..words.len())];
        for i in 0..400u64 {
            let msg = pick();
            let data = match i % 3 {
                0 => None,
                1 => Some(serde_json::json!({"msg": msg, "n": i % 50}).to_string()),
                _ => Some(msg.to_string()),
            };
            rec.write(&SourceEvent {
                source: 0,
                at_ms: 1_795_000_000_000 + i,
                kind: EventKind::Log(LogRecord {
                    level: levels[(i % 4) as usize],
                    kind: pick().to_string(),
                    summary: format!("{} {}", pick(), pick()),
                    data,
                    bytes: None,
                }),
            });
        }
    }
    for q in [
        "level>=warn and data.msg~/time.?out/",
        "timeout",
        "data.msg=\"say \\\"hi\\\"\"",
        "café or kind=indexer",
        "data.n>25",
        "not timeout",
        "relay",
    ] {
        let run = |record: bool| {
            let mut c = roomtap();
            c.args(["--utc", "tail", "--filter", q]);
            if record {
                c.arg("--record").arg(temp("narrowed-again.jsonl"));
            }
            let out = c.arg("open").arg(&path).output().unwrap();
            assert!(out.status.success(), "{q}: {out:?}");
            // The file's own lines (when it was opened) aside.
            let recorded = |b: Vec<u8>| {
                String::from_utf8(b)
                    .unwrap()
                    .lines()
                    .filter(|l| !l.contains(" file "))
                    .map(|l| format!("{l}\n"))
                    .collect::<String>()
            };
            (recorded(out.stdout), recorded(out.stderr))
        };
        let (narrowed, whole) = (run(false), run(true));
        assert_eq!(narrowed, whole, "{q}");
        assert!(
            !narrowed.0.is_empty() || q == "data.n>25",
            "{q}: nothing printed"
        );
    }
}

/// Events `0..n` as log entries, numbered in their summaries.
fn numbered(n: u64) -> Vec<SourceEvent> {
    (0..n)
        .map(|i| {
            ev(
                T0 + i,
                EventKind::Log(roomtap::event::LogRecord {
                    level: roomtap::event::Level::Info,
                    kind: "n".into(),
                    summary: format!("entry {i} {}", "x".repeat(40)),
                    data: None,
                    bytes: None,
                }),
            )
        })
        .collect()
}

fn summaries(r: &roomtap::record::Recording) -> Vec<String> {
    r.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log(l) => Some(l.summary.split(' ').take(2).collect::<Vec<_>>().join(" ")),
            _ => None,
        })
        .collect()
}

/// `--record-max`: the recording is written in parts (`FILE`, `FILE.1`…),
/// each starting with the header and none much over the size, which
/// `open` reads as one, in order; a later run appends to the last part.
#[test]
fn a_recording_in_parts_opens_as_one() {
    use roomtap::record::{RecordOptions, part_path};
    let path = temp("parts.jsonl");
    for k in 1..20 {
        let _ = std::fs::remove_file(part_path(&path, k));
    }
    let a = app();
    let opts = RecordOptions {
        max_part: Some(1000),
    };
    {
        let mut rec = Recorder::create_with(&path, &a.store, opts).unwrap();
        for e in numbered(60) {
            rec.write(&e);
        }
        assert!(rec.error.is_none(), "{:?}", rec.error);
    }
    let parts: Vec<_> = (0..20)
        .map(|k| part_path(&path, k))
        .take_while(|p| p.exists())
        .collect();
    assert!(parts.len() >= 4, "{parts:?}");
    for p in &parts {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(
            text.starts_with("{\"roomtap_recording\""),
            "{}",
            p.display()
        );
        // A part ends at the first line that takes it to the size.
        assert!(text.len() < 1000 + 200, "{}: {}", p.display(), text.len());
    }
    let r = roomtap::record::read(&path).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let want: Vec<String> = (0..60).map(|i| format!("entry {i}")).collect();
    assert_eq!(summaries(&r), want);
    // Appended to by a later run: its events follow, in the last part.
    {
        let mut rec = Recorder::create_with(&path, &a.store, opts).unwrap();
        assert_eq!(rec.part_path(), *parts.last().unwrap());
        rec.write(&numbered(61).pop().unwrap());
    }
    let r = roomtap::record::read(&path).unwrap();
    assert_eq!(summaries(&r).last().unwrap(), "entry 60");
    assert_eq!(r.events.len(), 61);
    // And `tail` reads them as one.
    let out = roomtap()
        .args(["--utc", "tail", "open"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches(" entry ").count(), 61, "{text}");
}

/// A recording to `FILE.zst` is zstd-compressed (several times smaller),
/// in parts too, and read back transparently by `open` and `tail open`;
/// a cut-off compressed file gives what it holds, then says why it stops.
#[test]
fn a_zstd_recording_is_read_transparently() {
    use roomtap::record::{RecordOptions, part_path};
    let path = temp("session.jsonl.zst");
    let plain = temp("session-plain.jsonl");
    for k in 1..20 {
        let _ = std::fs::remove_file(part_path(&path, k));
    }
    let a = app();
    {
        let mut rec = Recorder::create(&plain, &a.store).unwrap();
        let mut zst = Recorder::create_with(
            &path,
            &a.store,
            RecordOptions {
                max_part: Some(4000),
            },
        )
        .unwrap();
        for e in numbered(300) {
            rec.write(&e);
            zst.write(&e);
        }
    }
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd's magic");
    assert!(part_path(&path, 1).exists(), "in parts");
    let total: u64 = (0..20)
        .map(|k| part_path(&path, k))
        .take_while(|p| p.exists())
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let plain_len = std::fs::metadata(&plain).unwrap().len();
    assert!(total * 3 < plain_len, "{total} vs {plain_len}");
    let r = roomtap::record::read(&path).unwrap();
    assert!(r.warnings.is_empty() && r.stopped.is_none(), "{r:?}");
    assert_eq!(
        summaries(&r),
        summaries(&roomtap::record::read(&plain).unwrap())
    );
    assert_eq!(r.events.len(), 300);
    let out = roomtap()
        .args(["--utc", "tail", "--filter", "entry 299", "open"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    // Cut off (a crash before the frame's end): what was flushed (every
    // second, a block each time), then why it stops.
    let cut = temp("cut.jsonl.zst");
    {
        let one = temp("one.jsonl.zst");
        let flushed;
        {
            let mut rec = Recorder::create(&one, &a.store).unwrap();
            let events = numbered(200);
            for e in &events[..100] {
                rec.write(e);
            }
            rec.flush();
            flushed = std::fs::metadata(&one).unwrap().len() as usize;
            for e in &events[100..] {
                rec.write(e);
            }
        }
        let b = std::fs::read(&one).unwrap();
        std::fs::write(&cut, &b[..flushed + (b.len() - flushed) / 2]).unwrap();
    }
    let r = roomtap::record::read(&cut).unwrap();
    assert!(
        r.events.len() >= 100 && r.events.len() < 200,
        "{}",
        r.events.len()
    );
    assert!(
        r.stopped
            .as_deref()
            .is_some_and(|s| s.contains("cannot read")),
        "{:?}",
        r.stopped
    );
}

/// The header says which roomtap wrote a recording: the replay says so;
/// one from a newer format is refused with the reason.
#[test]
fn a_recording_says_which_roomtap_wrote_it() {
    let path = temp("which.jsonl");
    let a = app();
    {
        let mut rec = Recorder::create(&path, &a.store).unwrap();
        rec.write(&numbered(1).pop().unwrap());
    }
    let out = roomtap()
        .args(["--utc", "tail", "--all", "open"])
        .arg(&path)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains(&format!("by roomtap {}", env!("CARGO_PKG_VERSION"))),
        "{all}"
    );
    let newer = temp("newer.jsonl");
    std::fs::write(
        &newer,
        "{\"roomtap_recording\":9,\"version\":\"9.0.0\",\"started_ms\":0,\"sources\":[]}\n",
    )
    .unwrap();
    let out = roomtap()
        .args(["tail", "open"])
        .arg(&newer)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("recording format 9 from a newer roomtap; this one reads format 1"),
        "{err}"
    );
}

/// A zstd recording whose frame asks for a window over 16 MiB (what a
/// crafted file would ask, to make roomtap hold it) is refused with the
/// reason, before anything is held; `tail` says so and fails.
#[test]
fn a_zstd_recording_asking_for_a_huge_window_is_refused() {
    let path = temp("huge-window.jsonl.zst");
    let header = "{\"roomtap_recording\":1,\"version\":\"0\",\"started_ms\":0,\"sources\":[]}\n";
    {
        let f = std::fs::File::create(&path).unwrap();
        let mut z = zstd::stream::write::Encoder::new(f, 3).unwrap();
        // A 128 MiB window declared in the frame's header.
        z.set_parameter(zstd::zstd_safe::CParameter::WindowLog(27))
            .unwrap();
        z.include_contentsize(false).unwrap();
        std::io::Write::write_all(&mut z, header.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    let err = roomtap::record::read(&path).expect_err("refused");
    assert!(err.contains("cannot read"), "{err}");
    let out = roomtap()
        .args(["tail", "open"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cannot read"), "{said}");
}
