//! Recordings at scale (issue #21): a generated recording of N events
//! (1 M by default, `ROOMTAP_BENCH_EVENTS`), and the same entries as plain
//! JSON Lines, asked the same question by roomtap and by lnav, ripgrep and
//! GNU grep in the same run; the match counts must agree.
//!
//! `cargo bench --bench recordings` prints, for each tool, the median of 3
//! runs of the time to print (or count) every match and its peak RSS
//! (`/usr/bin/time -f %M`), and roomtap's ratios to each. A tool that is
//! not installed is said and left out (`apt-get install lnav ripgrep`).
//! `ROOMTAP_BENCH_KEEP=1` keeps the generated files (their folder is said).

#[path = "sc/entries.rs"]
mod entries;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use entries::{GREP, QUERY};

/// One run of a command: wall time, peak RSS, and the lines it printed
/// that `count` counts.
struct Run {
    time: Duration,
    rss_kb: u64,
    count: u64,
}

/// Run `cmd` under `/usr/bin/time`, counting what its stdout says with
/// `count` (each line given in turn; the sum).
fn run(cmd: &[&str], env: &[(&str, &str)], count: &dyn Fn(&str) -> u64) -> Option<Run> {
    let rss_file = std::env::temp_dir().join(format!("roomtap-bench-rss-{}", std::process::id()));
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f").arg("%M").arg("-o").arg(&rss_file).args(cmd);
    for (k, v) in env {
        c.env(k, v);
    }
    let t = Instant::now();
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let out = child.stdout.take()?;
    let mut n = 0;
    for line in std::io::BufReader::with_capacity(1 << 20, out).lines() {
        n += count(&line.ok()?);
    }
    child.wait().ok()?;
    let time = t.elapsed();
    let rss_kb = std::fs::read_to_string(&rss_file)
        .ok()?
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()?;
    Some(Run {
        time,
        rss_kb,
        count: n,
    })
}

/// The median run of 3 (by time), with the largest RSS seen.
fn median(cmd: &[&str], env: &[(&str, &str)], count: &dyn Fn(&str) -> u64) -> Option<Run> {
    let mut runs: Vec<Run> = (0..3).filter_map(|_| run(cmd, env, count)).collect();
    if runs.len() < 3 {
        return None;
    }
    let rss = runs.iter().map(|r| r.rss_kb).max().unwrap_or(0);
    runs.sort_by_key(|r| r.time);
    let mut m = runs.swap_remove(1);
    m.rss_kb = rss;
    Some(m)
}

fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// The recording and the plain JSON Lines of `n` entries, in `dir`.
fn generate(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let rec = dir.join("session.jsonl");
    let plain = dir.join("entries.jsonl");
    let mut store = roomtap::store::Store::new(&Default::default());
    store.add_source(
        "room",
        roomtap::protocols::room::CLIENT,
        "ws://127.0.0.1/rooms/demo",
    );
    let _ = std::fs::remove_file(&rec);
    {
        let mut r = roomtap::record::Recorder::create(&rec, &store).expect("recording");
        for i in 0..n {
            r.write(&entries::record(i));
        }
        r.flush();
        assert!(r.error.is_none(), "{:?}", r.error);
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&plain).unwrap());
    for i in 0..n {
        writeln!(f, "{}", entries::plain_line(i)).unwrap();
    }
    f.flush().unwrap();
    (rec, plain)
}

/// `roomtap open FILE` in a terminal (tmux's): from the
/// start, when its first recorded entry is on screen, when it has loaded
/// the whole file (it then ends: `ROOMTAP_BENCH_OPEN`), its peak RSS, and
/// the entries it holds (`--max-entries`).
struct Opened {
    first: Duration,
    loaded: Duration,
    rss_kb: u64,
    /// Log entries held once loaded, and evicted.
    kept: u64,
    evicted: u64,
}

fn open_once(roomtap: &str, file: &str, dir: &Path) -> Option<Opened> {
    let trace = dir.join("open-trace");
    let rss_file = dir.join("open-rss");
    let _ = std::fs::remove_file(&trace);
    let _ = std::fs::remove_file(&rss_file);
    // tmux is the terminal: it answers what roomtap asks of one.
    let cmd = format!(
        "ROOMTAP_BENCH_OPEN={} /usr/bin/time -f %M -o {} {roomtap} --utc open {file}",
        trace.display(),
        rss_file.display()
    );
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", "roomtap-bench"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let start = roomtap::event::now_ms();
    if !tmux(&[
        "new-session",
        "-d",
        "-s",
        "open",
        "-x",
        "120",
        "-y",
        "40",
        &cmd,
    ]) {
        return None;
    }
    // It ends by itself once loaded (bounded: 10 minutes).
    let deadline = Instant::now() + Duration::from_secs(600);
    while tmux(&["has-session", "-t", "open"]) {
        if Instant::now() > deadline {
            tmux(&["kill-server"]);
            return None;
        }
        // allow-sleep: polling another process's end, not synchronising a test.
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&trace).ok()?;
    let at = |what: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(what)?.trim().parse::<u64>().ok())
            .map(|t| Duration::from_millis(t.saturating_sub(start)))
    };
    let kept = text.lines().find_map(|l| {
        let mut w = l.strip_prefix("kept ")?.split_whitespace();
        let kept = w.next()?.parse().ok()?;
        let evicted = w.nth(1)?.parse().ok()?;
        Some((kept, evicted))
    })?;
    Some(Opened {
        first: at("first ")?,
        loaded: at("loaded ")?,
        kept: kept.0,
        evicted: kept.1,
        rss_kb: std::fs::read_to_string(&rss_file)
            .ok()?
            .lines()
            .last()?
            .trim()
            .parse()
            .ok()?,
    })
}

fn main() {
    let n: usize = std::env::var("ROOMTAP_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("roomtap-recordings-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = Instant::now();
    let (rec, plain) = generate(&dir, n);
    let mb = |p: &Path| std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e6);
    eprintln!(
        "recordings: {n} events generated in {:.1} s: {:.0} MB recording, {:.0} MB plain JSON Lines",
        t.elapsed().as_secs_f64(),
        mb(&rec),
        mb(&plain)
    );
    let roomtap = env!("CARGO_BIN_EXE_roomtap");
    let rec_s = rec.to_str().unwrap();
    let plain_s = plain.to_str().unwrap();
    let home = dir.to_str().unwrap();
    let lines = |_: &str| 1;
    let number = |l: &str| l.trim().parse().unwrap_or(0);
    // lnav prints the lines the filter keeps; its own notes start otherwise.
    let json_lines = |l: &str| u64::from(l.starts_with('{'));
    let mut rows: Vec<(&str, String, Run)> = Vec::new();
    let ours = median(
        &[roomtap, "--utc", "tail", "--filter", QUERY, "open", rec_s],
        &[],
        &lines,
    )
    .expect("roomtap runs");
    rows.push((
        "roomtap",
        format!("tail --filter '{QUERY}' open (recording)"),
        ours,
    ));
    if installed("lnav") {
        if let Some(r) = median(
            &["lnav", "-n", "-c", &format!(":filter-in {GREP}"), plain_s],
            &[("HOME", home), ("TERM", "dumb")],
            &json_lines,
        ) {
            rows.push(("lnav", "-n -c ':filter-in …' (plain)".to_string(), r));
        }
    } else {
        eprintln!("recordings: lnav is not installed; left out");
    }
    if installed("rg") {
        if let Some(r) = median(&["rg", "-c", GREP, plain_s], &[], &number) {
            rows.push(("ripgrep", "rg -c (plain)".into(), r));
        }
    } else {
        eprintln!("recordings: ripgrep is not installed; left out");
    }
    if let Some(r) = median(
        &["grep", "-c", "-E", GREP, plain_s],
        &[("LC_ALL", "C")],
        &number,
    ) {
        rows.push(("grep", "grep -c -E (plain)".into(), r));
    }
    let mut opens: Vec<Opened> = (0..3)
        .filter_map(|_| open_once(roomtap, rec_s, &dir))
        .collect();
    opens.sort_by_key(|o| o.loaded);
    let opened = (opens.len() == 3).then(|| opens.swap_remove(1));
    if opened.is_none() {
        eprintln!("recordings: `roomtap open` in tmux did not run (is tmux installed?); left out");
    }
    let rec_mb = mb(&rec);
    if std::env::var_os("ROOMTAP_BENCH_KEEP").is_some() {
        eprintln!("recordings: kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let ours = &rows[0].2;
    println!("events: {n} ({rec_mb:.0} MB recording)");
    println!("query: {QUERY}");
    println!("grep, ripgrep, lnav: '{GREP}'");
    println!("| tool | how | matches | time | peak RSS | roomtap's time ÷ this |");
    println!("|---|---|---|---|---|---|");
    for (tool, how, r) in &rows {
        println!(
            "| {tool} | `{how}` | {} | {:.2} s | {:.0} MB | {:.2} |",
            r.count,
            r.time.as_secs_f64(),
            r.rss_kb as f64 / 1024.0,
            ours.time.as_secs_f64() / r.time.as_secs_f64()
        );
    }
    if let Some(o) = &opened {
        println!();
        println!("| `roomtap open` (in tmux, 120×40) | figure |");
        println!("|---|---|");
        println!(
            "| first recorded entry on screen | {:.2} s |",
            o.first.as_secs_f64()
        );
        println!(
            "| the whole file read (every event applied) | {:.2} s |",
            o.loaded.as_secs_f64()
        );
        println!("| log entries kept | {} ({} evicted) |", o.kept, o.evicted);
        assert!(
            o.evicted == 0 && o.kept >= n as u64,
            "`roomtap open` keeps every entry"
        );
        println!(
            "| peak RSS | {:.0} MB ({:.2} × the file) |",
            o.rss_kb as f64 / 1024.0,
            o.rss_kb as f64 * 1024.0 / 1e6 / rec_mb.max(1e-9)
        );
    }
    for (tool, _, r) in &rows[1..] {
        assert_eq!(
            r.count, ours.count,
            "{tool} and roomtap must find the same entries"
        );
    }
}
