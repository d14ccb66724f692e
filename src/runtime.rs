//! The terminal side: raw mode and alternate screen behind a guard that is
//! undone on every exit (panics included), the event loop (keys, source
//! events, frame cap), command routing and the clipboard.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use crossterm::event::{
    DisableBracketedPaste, EnableBracketedPaste, Event, EventStream, KeyEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use crate::app::{App, Effect};
use crate::event::{Command, SourceEvent, SourceId};

/// Whether roomtap owns the terminal (raw mode, alternate screen).
static ACTIVE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Undo everything `TerminalGuard::enter` did, once: a second "leave the
/// alternate screen" would move the cursor back over a panic message.
pub fn restore_terminal() {
    if !ACTIVE.swap(false, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(
        out,
        crossterm::event::DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

pub struct TerminalGuard;

impl TerminalGuard {
    pub fn enter() -> io::Result<Self> {
        // Restore before the default hook prints, so the message is readable.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        enable_raw_mode()?;
        ACTIVE.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, EnableBracketedPaste) {
            restore_terminal();
            return Err(e);
        }
        Ok(TerminalGuard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Keeps one system clipboard alive (Linux clipboard ownership) and falls
/// back to OSC 52 when there is no display or it fails.
pub struct Clipboard {
    system: Option<arboard::Clipboard>,
}

impl Clipboard {
    pub fn new() -> Self {
        let has_display =
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
        let system = if has_display || cfg!(any(target_os = "macos", target_os = "windows")) {
            arboard::Clipboard::new().ok()
        } else {
            None
        };
        Self { system }
    }

    /// Copy; returns how it was done.
    pub fn copy(&mut self, text: &str) -> Result<&'static str, String> {
        if let Some(cb) = &mut self.system
            && cb.set_text(text.to_string()).is_ok()
        {
            return Ok("system clipboard");
        }
        execute!(
            io::stdout(),
            crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
        )
        .map(|_| "OSC 52 (terminal clipboard)")
        .map_err(|e| format!("copy failed: {e}"))
    }
}

impl Default for Clipboard {
    fn default() -> Self {
        Self::new()
    }
}

/// What `ROOMTAP_BENCH_OPEN=FILE` writes to FILE (ms since the epoch):
/// `first T` when a frame first shows an entry, `loaded T` when a
/// recording has loaded (that frame drawn); then the run ends.
struct OpenTrace {
    path: std::ffi::OsString,
    first: bool,
}

impl OpenTrace {
    fn new(path: std::ffi::OsString) -> OpenTrace {
        OpenTrace { path, first: false }
    }

    /// After a frame: whether the run should end.
    fn frame(&mut self, app: &App) -> bool {
        let say = |what: &str| {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
            {
                let _ = writeln!(f, "{what} {}", crate::event::now_ms());
            }
        };
        // A recorded entry on screen (not the file's own lines).
        let logs = &app.store.logs;
        let recorded = logs
            .view_len()
            .checked_sub(1)
            .and_then(|i| logs.view_seq(i))
            .and_then(|seq| logs.meta_of(seq))
            .and_then(|(_, source, _)| app.store.sources.get(usize::from(source)))
            .is_some_and(|s| s.kind != crate::source::SourceKind::RECORDING);
        if !self.first && recorded {
            self.first = true;
            say("first");
        }
        let loaded = app.store.sources.iter().any(|s| {
            s.kind == crate::source::SourceKind::RECORDING
                && s.facts.iter().any(|(k, _)| k == "loaded")
        });
        if loaded {
            say("loaded");
            say(&format!(
                "kept {} evicted {} at",
                logs.len(),
                logs.evicted()
            ));
        }
        loaded
    }
}

/// Mouse reports on or off (off, the terminal selects text itself).
fn mouse_capture(on: bool) {
    let mut out = io::stdout();
    let _ = if on {
        execute!(out, crossterm::event::EnableMouseCapture)
    } else {
        execute!(out, crossterm::event::DisableMouseCapture)
    };
}

/// `T`: the theme loaded again from its file (or built-in name); a
/// broken file keeps the theme in use, and says why.
pub fn reload_theme(app: &mut App) {
    let spec = app.theme.spec.clone();
    match crate::ui::theme::Theme::load(&spec) {
        Ok(t) => {
            app.theme = t;
            app.ui.say(format!(
                "theme {} loaded again",
                crate::text::sanitize(&spec)
            ));
        }
        Err(e) => app.ui.warn(format!(
            "{}; the theme in use stays",
            crate::text::sanitize(&e)
        )),
    }
    app.dirty = true;
}

/// Send commands to their sources; say so when one cannot be delivered.
pub fn route_commands(app: &mut App, routes: &HashMap<SourceId, mpsc::Sender<Command>>) {
    for c in app.take_commands() {
        route_command(app, routes, c);
    }
}

fn route_command(app: &mut App, routes: &HashMap<SourceId, mpsc::Sender<Command>>, c: Command) {
    match routes.get(&c.source) {
        Some(tx) => {
            if let Err(e) = tx.try_send(c) {
                app.ui.warn(format!("command not sent: {e}"));
            }
        }
        None => app
            .ui
            .warn("command not sent: that source takes no commands"),
    }
}

/// Run the TUI until the user quits.
pub async fn run_tui(
    mut app: App,
    mut events: mpsc::Receiver<SourceEvent>,
    routes: HashMap<SourceId, mpsc::Sender<Command>>,
    fps: u32,
    mut recorder: Option<crate::record::Recorder>,
) -> io::Result<mpsc::Receiver<SourceEvent>> {
    let _guard = TerminalGuard::enter()?;
    if app.ui.mouse {
        mouse_capture(true);
    }
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let mut input = EventStream::new();
    let frame = Duration::from_millis(1000 / u64::from(fps.clamp(1, 120)));
    let mut last_draw = Instant::now() - frame;
    let mut clipboard = Clipboard::new();
    let mut batch = Vec::with_capacity(1024);
    let mut events_open = true;
    // Test hook: lets the terminal tests prove the panic path restores the
    // terminal (`!` panics only when this variable is set).
    let panic_key = std::env::var_os("ROOMTAP_TEST_PANIC_KEY").is_some();
    // Bench hook (`benches/recordings.rs`): when the first entry is on
    // screen and when a recording has loaded, then quit.
    let mut opened = std::env::var_os("ROOMTAP_BENCH_OPEN").map(OpenTrace::new);
    let mut flush_tick = tokio::time::interval(Duration::from_secs(1));
    flush_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut recorder_error_shown = false;
    let mut slow_tick = tokio::time::interval(Duration::from_millis(250));
    slow_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // SIGTERM, SIGHUP (the terminal went away) and SIGINT end the session
    // like `q`: terminal restored, recording flushed, sources closed.
    let mut stop = StopSignals::new().map_err(io::Error::other)?;
    // A key (or a paste, a resize) gets its frame at once: the frame cap
    // paces what the sources change, not what the user does.
    let mut urgent = false;
    loop {
        let mut quit = false;
        for effect in app.take_effects() {
            match effect {
                Effect::Send(c) => route_command(&mut app, &routes, c),
                Effect::Copy(text) => {
                    match clipboard.copy(&text) {
                        Ok(how) => app.ui.say(format!("copied {} bytes via {how}", text.len())),
                        Err(e) => app.ui.warn(e),
                    }
                    app.dirty = true;
                }
                Effect::Export => export(&mut app),
                Effect::ReloadTheme => reload_theme(&mut app),
                Effect::Mouse(on) => mouse_capture(on),
                Effect::Quit => quit = true,
            }
        }
        if let Some(r) = &recorder
            && let Some(e) = &r.error
            && !recorder_error_shown
        {
            // Said once; the session goes on without the recording.
            recorder_error_shown = true;
            app.ui.warn(format!("{e}; the session goes on without it"));
            app.dirty = true;
        }
        if quit {
            break;
        }
        let now = Instant::now();
        if app.dirty && (urgent || now >= last_draw + frame) {
            urgent = false;
            app.prepare();
            terminal.draw(|f| app.draw(f))?;
            app.dirty = false;
            last_draw = now;
            if opened.as_mut().is_some_and(|t| t.frame(&app)) {
                break;
            }
        }
        // Ticked first: what a tick changes is drawn without waiting for
        // an event.
        let tick_at = app.tick(now);
        let draw_at = app.dirty.then_some(last_draw + frame);
        // A status message that is no longer news goes (the hints are back).
        if app.ui.status.is_some() && app.ui.status_now(crate::event::now_ms()).is_none() {
            app.ui.status = None;
            app.dirty = true;
        }
        // Countdowns ("retry in 3.2s") need a slow redraw while visible, and
        // a status message, to see it go.
        let countdown = app.ui.status.is_some()
            || app
                .store
                .sources
                .iter()
                .any(|s| s.conn.retry_at_ms.is_some());
        tokio::select! {
            biased;
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press => {
                    if panic_key && k.code == crossterm::event::KeyCode::Char('!') {
                        panic!("panic requested by ROOMTAP_TEST_PANIC_KEY");
                    }
                    app.key(k);
                    urgent = true;
                }
                Some(Ok(Event::Paste(text))) => {
                    app.paste(&text);
                    urgent = true;
                }
                Some(Ok(Event::Mouse(m))) => {
                    app.mouse(m);
                    urgent = true;
                }
                Some(Ok(Event::Resize(..))) => {
                    app.dirty = true;
                    urgent = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => break,
            },
            n = events.recv_many(&mut batch, 4096), if events_open => {
                if n == 0 {
                    events_open = false;
                }
                for ev in batch.drain(..) {
                    if let Some(r) = &mut recorder {
                        r.write(&ev);
                    }
                    app.apply(ev);
                }
                app.after_events();
            }
            _ = flush_tick.tick(), if recorder.is_some() => {
                if let Some(r) = &mut recorder {
                    r.flush_if_due();
                }
            }
            _ = sleep_opt(draw_at) => {}
            _ = sleep_opt(tick_at) => {}
            _ = slow_tick.tick(), if countdown => app.dirty = true,
            _ = stop.recv() => break,
        }
    }
    if let Some(r) = &mut recorder {
        r.flush();
    }
    drop(terminal);
    // The routes go with this frame: sources see their commands end and
    // close their connections (undoing what they registered).
    drop(routes);
    Ok(events)
}

/// The signals that end a session (SIGINT, SIGTERM, SIGHUP), listened to
/// from creation on so none is missed between turns.
pub struct StopSignals {
    #[cfg(unix)]
    sigs: [tokio::signal::unix::Signal; 3],
}

impl StopSignals {
    pub fn new() -> Result<StopSignals, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let on =
                |k: SignalKind| signal(k).map_err(|e| format!("cannot listen for signals: {e}"));
            Ok(StopSignals {
                sigs: [
                    on(SignalKind::interrupt())?,
                    on(SignalKind::terminate())?,
                    on(SignalKind::hangup())?,
                ],
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Resolves when one arrives.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let [a, b, c] = &mut self.sigs;
            tokio::select! {
                _ = a.recv() => {}
                _ = b.recv() => {}
                _ = c.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `e`: the Logs view as it is filtered, one JSON object per line, into
/// `roomtap-export-<time>.jsonl` in the current directory.
fn export(app: &mut App) {
    let name = format!(
        "roomtap-export-{}.jsonl",
        crate::text::iso_time(crate::event::now_ms())
            .replace([':', '.'], "-")
            .trim_end_matches('Z')
    );
    let result = std::fs::File::create(&name).and_then(|f| {
        let mut w = std::io::BufWriter::new(f);
        let n = app.export_view(&mut w)?;
        w.flush()?;
        Ok(n)
    });
    match result {
        Ok(n) => app.ui.say(format!("exported {n} entries to {name}")),
        Err(e) => app.ui.warn(format!("export failed: {e}")),
    }
    app.dirty = true;
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}
