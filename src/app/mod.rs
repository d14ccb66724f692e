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

use view::TimelineRows;

pub struct App {
    pub store: Store,
    pub ui: UiState,
    pub theme: Theme,
    /// Commands waiting to be routed to their sources.
    pub commands: Vec<Command>,
    /// Text waiting to be copied to the clipboard.
    pub copies: Vec<String>,
    /// `e` was pressed: the runtime writes the view out (`export_view`).
    pub export_requested: bool,
    pub quit: bool,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// Commands are refused (replaying a recording, or no live source).
    pub read_only: Option<String>,
    /// The timeline list as filtered, kept until the instance or the
    /// filter changes (`prepare` brings it up to date).
    tl_rows: TimelineRows,
    /// The Channels pane's rows (filtered), rebuilt in `prepare`.
    chan_rows: Vec<(usize, String)>,
    /// What `chan_rows` was built from: events applied, sources, the filter
    /// and its case.
    chan_rows_key: Option<(u64, usize, Option<String>, bool)>,
    /// When an UPDATE last went to each app (rate limit).
    last_update: std::collections::HashMap<(crate::event::SourceId, String), Instant>,
}

impl App {
    pub fn new(cfg: &StoreConfig, theme: Theme) -> Self {
        Self {
            store: Store::new(cfg),
            ui: UiState::default(),
            theme,
            commands: Vec::new(),
            copies: Vec::new(),
            export_requested: false,
            quit: false,
            dirty: true,
            read_only: None,
            last_update: std::collections::HashMap::new(),
            tl_rows: TimelineRows::default(),
            chan_rows: Vec::new(),
            chan_rows_key: None,
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
        if n > 0 && self.ui.inst >= n {
            self.ui.inst = 0;
        }
        if self.read_only.is_some() {
            return;
        }
        let viewing_unknown = matches!(self.ui.tab, DetailTab::State | DetailTab::Diff)
            && self.selected_entry().is_some_and(|e| e.state_raw.is_none());
        let now = Instant::now();
        let mut updates = Vec::new();
        for (idx, i) in self.store.timeline.instances.iter().enumerate() {
            let wanted = i.unsynced || (idx == self.ui.inst && i.stale && viewing_unknown);
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
            self.commands.push(Command {
                source,
                kind: CommandKind::Redux(ReduxCommand::Update { instance }),
            });
        }
    }

    pub fn take_commands(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.commands)
    }

    pub fn instance(&self) -> Option<&Instance> {
        self.store.timeline.instances.get(self.ui.inst)
    }

    /// Position of the selected entry in the instance's list.
    pub fn selected_position(&self) -> Option<usize> {
        let inst = self.instance()?;
        if inst.entries.is_empty() {
            return None;
        }
        if self.ui.tl_follow {
            return Some(inst.entries.len() - 1);
        }
        let id = self.ui.tl_sel?;
        inst.position_of(id).or(Some(inst.entries.len() - 1))
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        let pos = self.selected_position()?;
        self.instance()?.entries.get(pos)
    }
}
