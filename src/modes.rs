//! How roomtap runs once its arguments are read: the panes (the TUI),
//! `tail` (matching entries on stdout) or a headless server (its log on
//! stderr). Each takes its sources from the registry and wires them in one
//! way (`crate::wiring`).

use std::io::Write;

use tokio::sync::mpsc;

use crate::app::App;
use crate::event::{ConnState, EventKind, SourceEvent};
use crate::record::Recorder;
use crate::source::{Headless, Source};
use crate::store::StoreConfig;
use crate::ui::theme::Theme;
use crate::wiring::{Session, Wiring};

/// What every mode that shows entries needs.
pub struct Setup {
    pub store: StoreConfig,
    pub theme: Theme,
    pub fps: u32,
    /// `--record FILE`.
    pub record: Option<std::path::PathBuf>,
    /// `--record-max SIZE`: the recording in parts.
    pub record_max: Option<u64>,
    /// `--utc`: times in UTC, not the local zone.
    pub utc: bool,
    /// `--mouse`: mouse reports on from the start.
    pub mouse: bool,
    /// No `--max-entries` was given: an opened recording keeps every entry
    /// (within `--max-bytes`), as the live cap is for live streams.
    pub keep_recordings_whole: bool,
}

/// The store a run of sources of these kinds gets: an opened recording
/// (its file's source replays the sources it declares, whose events are
/// the user's data, not a live stream) keeps every entry unless
/// `--max-entries` says otherwise; `--max-bytes` bounds it still.
fn store_for(
    setup: &Setup,
    mut kinds: impl Iterator<Item = crate::source::SourceKind>,
) -> StoreConfig {
    let mut store = setup.store.clone();
    if setup.keep_recordings_whole && kinds.any(|k| k == crate::source::SourceKind::RECORDING) {
        store.max_log_entries = usize::MAX;
    }
    store
}

/// An `App` with `sources` attached, the events they send, and the session.
async fn wired(
    setup: &Setup,
    sources: Vec<Box<dyn Source>>,
) -> Result<(App, mpsc::Receiver<SourceEvent>, Session), String> {
    if setup.utc {
        crate::text::show_utc();
    }
    let store = store_for(setup, sources.iter().map(|s| s.kind()));
    // Sources' meters send frames as they are when some are kept.
    crate::source::keep_raw(store.keep_raw > 0);
    let mut app = App::new(&store, setup.theme.clone());
    app.ui.mouse = setup.mouse;
    let (mut wiring, rx) = Wiring::new();
    wiring.attach_all(&mut app.store, sources).await?;
    let session = wiring.finish();
    app.read_only.clone_from(&session.read_only);
    if session.unmaskable > 0 {
        app.apply(SourceEvent::new(
            0,
            EventKind::Log(crate::event::LogRecord {
                level: crate::event::Level::Warn,
                kind: "secret".into(),
                summary: format!(
                    "{} secret(s) shorter than {} characters cannot be masked where they might appear: use longer secrets",
                    session.unmaskable,
                    crate::secret::MIN_MASKED
                ),
                data: None,
                bytes: None,
            }),
        ));
    }
    // The first source's protocol says where to start (a room on its own
    // is all developer logs: the Logs).
    if let Some(first) = app.store.sources.first() {
        app.ui.focus = crate::ui::Pane::of(first.kind.first_pane());
    }
    Ok((app, rx, session))
}

/// The recorder `--record` asks for, on the sources attached to `app`.
fn recorder(setup: &Setup, app: &App) -> Result<Option<Recorder>, String> {
    setup
        .record
        .as_ref()
        .map(|path| {
            let opts = crate::record::RecordOptions {
                max_part: setup.record_max,
            };
            Recorder::create_with(path, &app.store, opts)
                .map_err(|e| format!("cannot record to {}: {e}", path.display()))
        })
        .transpose()
}

/// The panes (the TUI) on `sources`, recording when asked.
pub async fn panes(setup: Setup, sources: Vec<Box<dyn Source>>) -> Result<(), String> {
    // Said before anything starts, in words (not the tty's errno).
    use std::io::IsTerminal;
    for (name, is) in [
        ("output", std::io::stdout().is_terminal()),
        ("input", std::io::stdin().is_terminal()),
    ] {
        if !is {
            return Err(format!(
                "the panes need a terminal, and the {name} is not one (a pipe or a file); \
                 `roomtap tail …` prints the same sources as lines (e.g. `roomtap tail demo | head`)"
            ));
        }
    }
    let (app, rx, session) = wired(&setup, sources).await?;
    let recorder = recorder(&setup, &app)?;
    let Session {
        routes,
        keep,
        goodbyes,
        ..
    } = session;
    // The sources say goodbye however the panes end (a panic included).
    let out = crate::wiring::with_goodbyes(
        goodbyes,
        crate::runtime::run_tui(app, rx, routes, setup.fps, recorder),
    )
    .await;
    drop(keep);
    let rx = out.map_err(|e| e.to_string())?;
    wind_down(rx).await;
    Ok(())
}

/// Give the sources a moment (at most half a second) to close their
/// connections once their commands and servers are gone: a room hears its
/// watcher leave, the apps their monitor.
async fn wind_down(mut rx: mpsc::Receiver<SourceEvent>) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(500);
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, rx.recv()).await {}
}

/// How `tail` prints.
pub struct TailHow<'a> {
    /// Only entries matching this query.
    pub filter: Option<&'a str>,
    /// JSON lines.
    pub json: bool,
    /// Every event, not only log entries.
    pub all: bool,
}

/// `roomtap tail`: the same sources, matching entries printed to stdout.
pub async fn tail(
    mut setup: Setup,
    mut sources: Vec<Box<dyn Source>>,
    how: TailHow<'_>,
) -> Result<(), String> {
    let TailHow { filter, json, all } = how;
    let query = match filter {
        Some(f) if !f.trim().is_empty() => {
            Some(crate::query::Query::parse(f, false).map_err(|e| format!("--filter {f:?}: {e}"))?)
        }
        _ => None,
    };
    // What is printed is only what the filter keeps (unless `--all` prints
    // every event, or `--record` keeps them all): the sources may leave the
    // rest out before parsing it (a recording does).
    if let Some(q) = &query
        && !all
        && setup.record.is_none()
    {
        for s in &mut sources {
            s.narrow(q);
        }
    }
    // Entries are printed as they come: the store need not keep many.
    // Nor seal them compact: they are gone before they would be read again.
    setup.store.max_log_entries = setup.store.max_log_entries.min(TAIL_KEEPS);
    setup.store.compact = false;
    setup.store.keep_raw = 0;
    setup.keep_recordings_whole = false;
    // One Ctrl-C listener for the whole run, installed before anything
    // starts: a new one per turn would miss a signal between turns.
    let mut interrupt = crate::runtime::StopSignals::new()?;
    let (mut app, mut rx, mut session) = wired(&setup, sources).await?;
    let mut recorder = recorder(&setup, &app)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut next = 0u64;
    let mut batch = Vec::with_capacity(1024);
    // The sources say goodbye however the loop ends (a panic included).
    let goodbyes = std::mem::take(&mut session.goodbyes);
    let result = crate::wiring::with_goodbyes(goodbyes, async { loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, 1024) => {
                if n == 0 {
                    break stopped_recording(&app).map_or(Ok(()), Err);
                }
                let mut failed = None;
                for ev in batch.drain(..) {
                    if let Some(r) = &mut recorder {
                        r.write(&ev);
                    }
                    if all && failed.is_none() {
                        failed = print_event_line(&app, &mut out, &ev, json).err();
                    }
                    app.apply(ev);
                }
                // Said once; the session goes on without the recording.
                if let Some(e) = recorder.as_mut().and_then(|r| r.error.take()) {
                    eprintln!("roomtap: {e}; the session goes on without it");
                    recorder = None;
                }
                if failed.is_none() {
                    failed = print_new(&app, &mut out, &mut next, query.as_ref(), json).err();
                }
                // Nothing more can come when every source has given up.
                let gave_up = |s: &crate::store::SourceInfo| {
                    matches!(s.conn.state, ConnState::Errored { will_reconnect: false, .. })
                };
                if failed.is_none() && !app.store.sources.is_empty() && app.store.sources.iter().all(gave_up) {
                    let _ = out.flush();
                    break Err(stopped_recording(&app)
                        .unwrap_or_else(|| "every source gave up (see the error above)".to_string()));
                }
                if failed.is_none() && rx.is_empty() {
                    failed = out.flush().err();
                }
                match failed {
                    // `| head` closed the pipe: that is a normal end.
                    Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break Ok(()),
                    Some(e) => break Err(format!("cannot write: {e}")),
                    None => {}
                }
            }
            _ = interrupt.recv() => break Ok(()),
        }
    }})
    .await;
    let _ = out.flush();
    drop(session);
    result
}

/// Why a recording being replayed stopped before its end (a run of NUL
/// bytes, lines that are not events…), when one did.
fn stopped_recording(app: &App) -> Option<String> {
    app.store.sources.iter().find_map(|s| match &s.conn.state {
        ConnState::Errored {
            reason,
            will_reconnect: false,
            ..
        } if s.kind == crate::source::SourceKind::RECORDING => Some(format!("{}: {reason}", s.url)),
        _ => None,
    })
}

/// Print the entries that arrived since `next` and match `query`.
fn print_new(
    app: &App,
    out: &mut impl Write,
    next: &mut u64,
    query: Option<&crate::query::Query>,
    json: bool,
) -> std::io::Result<()> {
    let logs = &app.store.logs;
    let first = logs.by_seq(*next).map_or(logs.next_seq(), |e| e.seq);
    let from = first.max(*next);
    *next = logs.next_seq();
    // What goes to stderr, written once for the batch.
    let mut to_stderr = String::new();
    for seq in from..logs.next_seq() {
        let Some(e) = logs.by_seq(seq) else { continue };
        if let Some(q) = query
            && !q.matches(&logs.record(&e))
        {
            // What the filter leaves out is not lost when it is about the
            // connection or an error: it goes to stderr.
            if e.kind == "connection" || e.level >= crate::event::Level::Error {
                to_stderr.push_str(&text_line(app, &e));
                to_stderr.push('\n');
            }
            continue;
        }
        if json {
            // The JSON's own value, with what a terminal must not get raw
            // (U+2028, C1, bidi…) written as \u escapes.
            let line = app.entry_json(&e).to_string();
            writeln!(out, "{}", crate::text::json_printable(&line))?;
        } else {
            writeln!(out, "{}", text_line(app, &e))?;
        }
    }
    if !to_stderr.is_empty() {
        // A closed stderr is no reason to stop printing.
        let _ = std::io::stderr().lock().write_all(to_stderr.as_bytes());
    }
    Ok(())
}

/// Log entries `tail`'s store keeps: more than a batch of events, since it
/// prints each batch's entries as they come (nothing reads them later).
const TAIL_KEEPS: usize = 16_384;

/// The width `tail`'s kind column pads to (longer kinds push the summary
/// along rather than being cut).
const TAIL_KIND: usize = 16;

/// A source's label, and the width `tail`'s source column pads to (the
/// longest label, 4 to 12).
fn label_of(app: &App, source: crate::event::SourceId) -> (&str, usize) {
    let labels = &app.store.sources;
    let w = labels
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 12);
    let src = labels
        .get(usize::from(source))
        .map_or("?", |s| s.label.as_str());
    (src, w)
}

/// One entry as `tail` prints it: time, source, level and kind in aligned
/// columns, then the summary.
fn text_line(app: &App, e: &crate::store::logs::LogEntry) -> String {
    let (src, w) = label_of(app, e.source);
    format!(
        "{} {src:<w$} {:<5} {:<TAIL_KIND$} {}",
        crate::text::stamp(e.at_ms),
        e.level.label(),
        crate::text::sanitize(&e.kind),
        e.summary
    )
}

/// `tail --all`: an event that is not a log entry, as a line (or a JSON
/// object with its `event`).
fn print_event_line(
    app: &App,
    out: &mut impl Write,
    ev: &SourceEvent,
    json: bool,
) -> std::io::Result<()> {
    use crate::event::EventKind as K;
    // Log lines, malformed frames and app messages are the Logs' entries.
    if matches!(ev.kind, K::Log(_) | K::Malformed { .. } | K::Redux(_)) {
        return Ok(());
    }
    let (src, w) = label_of(app, ev.source);
    if json {
        let v = serde_json::json!({
            "time": crate::text::iso_time(ev.at_ms),
            "source": src,
            "event": ev.kind,
        });
        return writeln!(out, "{}", crate::text::json_printable(&v.to_string()));
    }
    let text = serde_json::to_string(&ev.kind).unwrap_or_default();
    let name = text
        .trim_start_matches(['{', '"'])
        .split('"')
        .next()
        .unwrap_or("?")
        .to_string();
    writeln!(
        out,
        "{} {src:<w$} event {name:<TAIL_KIND$} {}",
        crate::text::stamp(ev.at_ms),
        crate::text::sanitize_capped(&text, 400)
    )
}

/// A server alone, headless: its banner (given the URL it listens on) on
/// stderr once it listens, then its notices until Ctrl-C.
pub async fn headless(server: Headless) -> Result<(), String> {
    let (source, banner, who) = match server {
        Headless::Serve {
            source,
            banner,
            who,
        } => (source, banner, who),
        Headless::Print(text) => {
            print!("{text}");
            return Ok(());
        }
    };
    let mut interrupt = crate::runtime::StopSignals::new()?;
    let mut store = crate::store::Store::new(&StoreConfig::default());
    let (mut wiring, mut rx) = Wiring::new();
    wiring.attach(&mut store, source).await?;
    let mut session = wiring.finish();
    eprintln!("{}", banner(&store.sources[0].url));
    let out = loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => print_event(&ev),
                None => break Ok(()),
            },
            _ = interrupt.recv() => {
                eprintln!("{who}: stopping");
                break Ok(());
            }
        }
    };
    session.goodbye().await;
    drop(session);
    out
}

fn print_event(ev: &SourceEvent) {
    let t = crate::text::clock(ev.at_ms);
    match &ev.kind {
        EventKind::Log(r) => eprintln!(
            "{t} {:<5} {}",
            r.level.label(),
            crate::text::sanitize_capped(&r.summary, 400)
        ),
        EventKind::Malformed { what, .. } => {
            eprintln!("{t} error {}", crate::text::sanitize_capped(what, 400))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceKind;

    fn setup(keep_recordings_whole: bool) -> Setup {
        Setup {
            store: StoreConfig::default(),
            theme: Theme::builtin("dark").expect("a built-in theme"),
            fps: 30,
            record: None,
            record_max: None,
            utc: true,
            mouse: false,
            keep_recordings_whole,
        }
    }

    /// A live protocol's client.
    static LIVE: crate::source::kind::Protocol = crate::source::kind::Protocol {
        name: "live",
        server: "live server",
        older: &[],
        caps: crate::source::kind::Caps::NONE,
        token_env: None,
        first_pane: crate::source::kind::FirstPane::Logs,
    };

    #[test]
    fn an_opened_recording_keeps_every_entry_unless_told_otherwise() {
        let live = StoreConfig::default().max_log_entries;
        let room = SourceKind::client(&LIVE);
        // Live sources: the live cap.
        let s = store_for(&setup(true), [room].into_iter());
        assert_eq!(s.max_log_entries, live);
        // A recording (its file's source beside the ones it declares).
        let s = store_for(&setup(true), [room, SourceKind::RECORDING].into_iter());
        assert_eq!(s.max_log_entries, usize::MAX);
        assert_eq!(s.max_bytes, StoreConfig::default().max_bytes);
        assert!(s.compact);
        // --max-entries given: it holds.
        let s = store_for(&setup(false), [SourceKind::RECORDING].into_iter());
        assert_eq!(s.max_log_entries, live);
    }
}
