//! The controller: store + ui state. Source events and keys go in; commands
//! for sources and clipboard requests come out. It owns no I/O, so the same
//! code runs in the terminal and headless (tests drive it directly).
//!
//! `actions` turns keys into changes of the ui state and `prompts` handles
//! what is typed; `targeting` picks where a command goes, `replay` steps
//! through recorded actions; `view` prepares what a frame shows (with
//! `detail`, the detail views) and `copy` what leaves for the clipboard or
//! a file.

mod actions;
mod copy;
mod detail;
mod mouse;
mod prompts;
mod replay;
mod targeting;
mod view;

use std::time::{Duration, Instant};

use crate::event::{Command, CommandKind, SourceEvent};
use crate::protocols::redux::wire::model::ReduxCommand;
use crate::store::timeline::{Entry, Instance, Liveness};
use crate::store::{Store, StoreConfig};
use crate::ui::theme::Theme;
use crate::ui::{DetailTab, UiState};

/// What a key asks for beyond the ui state.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A command for the source that owns it.
    Send(Command),
    /// Text for the clipboard.
    Copy(String),
    /// Write the view out (`e`; the runtime calls `export_view`).
    Export,
    /// Load the theme again from where it came (`T`; a file is read).
    ReloadTheme,
    /// Mouse reports on or off (`m`, `--mouse`).
    Mouse(bool),
    Quit,
}

pub struct App {
    pub store: Store,
    pub ui: UiState,
    pub theme: Theme,
    /// What keys asked for that leaves the app (the runtime, or a test,
    /// takes them in order): commands for sources, copies, an export, quit.
    pub effects: Vec<Effect>,
    /// The time frames are drawn at (`None`: the clock's); a test fixes it
    /// to draw what depends on it (the last minute's sparklines) the same
    /// way every run.
    pub clock_ms: Option<u64>,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// Commands are refused (replaying a recording, or no live source).
    pub read_only: Option<String>,
    /// When an UPDATE last went to each app (rate limit).
    last_update: std::collections::HashMap<(crate::event::SourceId, String), Instant>,
}

impl App {
    pub fn new(cfg: &StoreConfig, theme: Theme) -> Self {
        Self {
            store: Store::new(cfg),
            ui: UiState::default(),
            theme,
            effects: Vec::new(),
            clock_ms: None,
            dirty: true,
            read_only: None,
            last_update: std::collections::HashMap::new(),
        }
    }

    /// Fold a source event in.
    pub fn apply(&mut self, ev: SourceEvent) {
        if self.store.apply(ev).any() {
            self.dirty = true;
        }
    }

    /// After a batch of events: keep selections sensible, and ask an app for
    /// a fresh STATE (UPDATE) when roomtap needs one: no STATE seen yet (jump
    /// indexes unknown), or the user is looking at a state the app never sent
    /// (actions that arrived while it showed an earlier state). UPDATE is a
    /// broadcast that makes every app send its whole history, so it is asked
    /// for lazily and at most once a second per app.
    pub fn after_events(&mut self) {
        // Until a key chooses a pane, focus does not stay on an empty
        // Timeline while the Logs fill.
        if !self.ui.touched
            && self.ui.focus == crate::ui::Pane::Timeline
            && self.store.timeline.instances.is_empty()
            && !self.store.logs.is_empty()
        {
            self.ui.focus = crate::ui::Pane::Logs;
        }
        let n = self.store.timeline.instances.len();
        if n > 0 && self.ui.tl.inst >= n {
            self.ui.tl.inst = 0;
        }
        if self.read_only.is_some() {
            return;
        }
        let viewing_unknown = matches!(self.ui.tl.tab, DetailTab::State | DetailTab::Diff)
            && self.selected_entry().is_some_and(|e| e.state_raw.is_none());
        let now = Instant::now();
        let mut updates = Vec::new();
        for (idx, i) in self.store.timeline.instances.iter().enumerate() {
            let wanted = i.unsynced || (idx == self.ui.tl.inst && i.stale && viewing_unknown);
            let recent = self
                .last_update
                .get(&(i.source, i.key.clone()))
                .is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1));
            if wanted && !i.update_requested && !recent && i.liveness == Liveness::Streaming {
                updates.push((idx, i.source, i.key.clone()));
            }
        }
        for (idx, source, instance) in updates {
            self.store.timeline.instances[idx].update_requested = true;
            self.last_update.insert((source, instance.clone()), now);
            self.effects.push(Effect::Send(Command {
                source,
                kind: CommandKind::Redux(ReduxCommand::Update { instance }),
            }));
        }
    }

    /// Everything asked for, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// The commands asked for (the other effects stay).
    pub fn take_commands(&mut self) -> Vec<Command> {
        self.take_each(|e| match e {
            Effect::Send(c) => Ok(c),
            other => Err(other),
        })
    }

    /// The copies asked for (the other effects stay).
    pub fn take_copies(&mut self) -> Vec<String> {
        self.take_each(|e| match e {
            Effect::Copy(t) => Ok(t),
            other => Err(other),
        })
    }

    /// The effects `pick` takes (`Ok`), in order; the others stay.
    fn take_each<T>(&mut self, pick: impl Fn(Effect) -> Result<T, Effect>) -> Vec<T> {
        let mut out = Vec::new();
        for e in std::mem::take(&mut self.effects) {
            match pick(e) {
                Ok(t) => out.push(t),
                Err(e) => self.effects.push(e),
            }
        }
        out
    }

    /// Send a command (to the source it names).
    pub fn send_command(&mut self, c: Command) {
        self.effects.push(Effect::Send(c));
    }

    pub fn instance(&self) -> Option<&Instance> {
        self.ui.tl.instance(&self.store.timeline)
    }

    /// Position of the selected entry in the instance's list.
    pub fn selected_position(&self) -> Option<usize> {
        self.ui.tl.selected_position(&self.store.timeline)
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        let pos = self.selected_position()?;
        self.instance()?.entries.get(pos)
    }
}
