//! The controller: store + ui state. Source events and keys go in; commands
//! for sources and clipboard requests come out. It owns no I/O, so the same
//! code runs in the terminal and headless (tests drive it directly).

use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ratatui::Frame;

use crate::event::{Command, CommandKind, SourceEvent};
use crate::sources::relay::model::{LiftedAction, ReduxCommand};
use crate::store::timeline::{EntryRecord, Instance, Liveness};
use crate::store::{Store, StoreConfig};
use crate::ui::keymap::{self, Action};
use crate::ui::theme::Theme;
use crate::ui::{
    self, DetailLine, DetailTab, DetailView, Pace, Pane, Prompt, PromptKind, Replay, UiState, View,
    json,
};

/// Rows a page move covers when the real height is unknown.
const PAGE: usize = 10;
/// Most tree rows built for one detail view.
const MAX_DETAIL_ROWS: usize = 20_000;

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

    pub fn key(&mut self, key: KeyEvent) {
        if let Some(a) = keymap::map_key(key, self.ui.mode()) {
            self.act(a);
        }
    }

    /// Paste goes into an open prompt (a filter applies at once).
    pub fn paste(&mut self, text: &str) {
        if let Some(p) = &mut self.ui.prompt {
            p.text
                .extend(text.chars().filter(|c| !c.is_control() || *c == '\t'));
            self.dirty = true;
            if let PromptKind::Filter(pane) = p.kind {
                let text = p.text.clone();
                self.apply_filter(pane, &text);
            }
        }
    }

    pub fn act(&mut self, a: Action) {
        self.dirty = true;
        if self.ui.replay.is_some() {
            // Any key stops a replay.
            self.ui.replay = None;
            self.ui.say("replay stopped");
            if a != Action::Quit {
                return;
            }
        }
        if self.ui.choosing_pace {
            self.ui.choosing_pace = false;
            if let Action::Input(c) = a {
                let pace = match c {
                    '1' | 'r' => Some(Pace::Recorded(1.0)),
                    '2' => Some(Pace::Recorded(2.0)),
                    '4' => Some(Pace::Recorded(4.0)),
                    'f' => Some(Pace::Fixed(250)),
                    _ => None,
                };
                match pace {
                    Some(p) => self.start_replay(p, Instant::now()),
                    None => self.ui.say("replay cancelled"),
                }
            } else {
                self.ui.say("replay cancelled");
            }
            return;
        }
        if self.ui.prompt.is_some() {
            self.prompt_action(a);
            return;
        }
        if self.ui.help && a != Action::Quit {
            self.ui.help = false;
            if matches!(a, Action::Escape | Action::Help) {
                return;
            }
        }
        match a {
            Action::Quit => self.quit = true,
            Action::FocusNext => self.ui.focus = self.ui.focus.next(),
            Action::FocusPrev => self.ui.focus = self.ui.focus.prev(),
            Action::Focus(p) => self.ui.focus = p,
            Action::Up => self.move_sel(-1),
            Action::Down => self.move_sel(1),
            Action::PageUp => self.move_sel(-(PAGE as i64)),
            Action::PageDown => self.move_sel(PAGE as i64),
            Action::Top => self.move_sel(i64::MIN / 2),
            Action::Bottom | Action::Follow => self.follow(),
            Action::Activate => self.activate(),
            Action::ToggleDetailFocus => match self.ui.focus {
                Pane::Timeline => self.ui.detail_focus = !self.ui.detail_focus,
                Pane::Logs if self.ui.log_detail => {
                    self.ui.log_detail_focus = !self.ui.log_detail_focus
                }
                _ => {}
            },
            Action::Freeze => self.freeze(),
            Action::Export => self.export_requested = true,
            Action::CopyPath => self.copy_path(),
            Action::Skip => self.skip(),
            Action::Sweep => self.dispatch_history(LiftedAction::Sweep),
            Action::Commit => self.dispatch_history(LiftedAction::Commit),
            Action::Rollback => self.dispatch_history(LiftedAction::Rollback),
            Action::Reset => self.dispatch_history(LiftedAction::Reset),
            Action::Pause => {
                let paused = self.instance().map(|i| i.is_paused).unwrap_or(false);
                self.dispatch_history(LiftedAction::PauseRecording(!paused));
            }
            Action::Lock => {
                let locked = self.instance().map(|i| i.is_locked).unwrap_or(false);
                self.dispatch_history(LiftedAction::LockChanges(!locked));
            }
            Action::DispatchPrompt => {
                if self.target().is_some() {
                    self.ui.prompt = Some(Prompt {
                        kind: PromptKind::Dispatch,
                        text: String::new(),
                    });
                }
            }
            Action::Replay => {
                if self.target().is_some() {
                    self.ui.choosing_pace = true;
                    self.ui
                        .say("replay pace: 1 recorded · 2 2× · 4 4× · f every 250 ms · Esc cancel");
                }
            }
            Action::Refresh => {
                if let Some((source, instance)) = self.target() {
                    self.commands.push(Command {
                        source,
                        kind: CommandKind::Redux(ReduxCommand::Update { instance }),
                    });
                }
            }
            Action::Watch => {
                if let Some(source) = self.source_with(|c| c.watch.is_some()) {
                    let watch = self.store.sources[usize::from(source)].caps.watch;
                    if let Some(make) = watch {
                        let kind = make();
                        self.ui.say(kind.describe());
                        self.commands.push(Command { source, kind });
                    }
                }
            }
            Action::CommandLine => {
                if self.source_with(|c| c.command_line.is_some()).is_some() {
                    self.ui.prompt = Some(Prompt {
                        kind: PromptKind::Command,
                        text: String::new(),
                    });
                }
            }
            Action::NextInstance => {
                let n = self.store.timeline.instances.len();
                if n > 0 {
                    self.ui.inst = (self.ui.inst + 1) % n;
                    self.ui.tl_follow = true;
                    self.ui.tl_sel = None;
                    self.ui.detail_sel = 0;
                }
            }
            Action::PrevTab | Action::NextTab => {
                let i = DetailTab::ALL
                    .iter()
                    .position(|t| *t == self.ui.tab)
                    .unwrap_or(0);
                let step = if a == Action::NextTab { 1 } else { 2 };
                self.ui.tab = DetailTab::ALL[(i + step) % 3];
                self.ui.detail_sel = 0;
            }
            Action::FilterPrompt => {
                let pane = match self.ui.focus {
                    Pane::Timeline => Pane::Timeline,
                    _ => Pane::Logs,
                };
                let text = match pane {
                    Pane::Timeline => self
                        .ui
                        .tl_filter
                        .as_ref()
                        .map(|q| q.source.clone())
                        .unwrap_or_default(),
                    _ => self.store.logs.filter().unwrap_or_default().to_string(),
                };
                self.ui.filter_error = None;
                self.ui.focus = pane;
                self.ui.prompt = Some(Prompt {
                    kind: PromptKind::Filter(pane),
                    text,
                });
            }
            Action::NextMatch => self.move_sel(1),
            Action::PrevMatch => self.move_sel(-1),
            Action::Escape => {
                if self.ui.zoom {
                    self.ui.zoom = false;
                } else if self.ui.focus == Pane::Logs && self.ui.log_detail {
                    self.ui.log_detail = false;
                    self.ui.log_detail_focus = false;
                } else if self.ui.focus == Pane::Timeline && self.ui.tl_filter.is_some() {
                    self.ui.tl_filter = None;
                } else if self.store.logs.filter().is_some() {
                    self.store.logs.set_query(None);
                } else {
                    self.ui.status = None;
                }
            }
            Action::Zoom => self.ui.zoom = !self.ui.zoom,
            Action::Copy => self.copy(),
            Action::Help => self.ui.help = !self.ui.help,
            Action::Input(_) | Action::Backspace | Action::Submit | Action::ToggleCase => {}
        }
    }

    fn prompt_action(&mut self, a: Action) {
        let Some(p) = &mut self.ui.prompt else { return };
        match a {
            Action::Input(c) => p.text.push(c),
            Action::Backspace => {
                p.text.pop();
            }
            Action::Escape => {
                self.ui.prompt = None;
                self.ui.filter_error = None;
                return;
            }
            Action::ToggleCase => {
                if matches!(p.kind, PromptKind::Filter(_)) {
                    self.ui.case_sensitive = !self.ui.case_sensitive;
                } else {
                    return;
                }
            }
            Action::Quit => {
                self.quit = true;
                return;
            }
            Action::Submit => {
                let p = self.ui.prompt.take().unwrap_or(Prompt {
                    kind: PromptKind::Dispatch,
                    text: String::new(),
                });
                match p.kind {
                    PromptKind::Filter(_) => {
                        if let Some(e) = &self.ui.filter_error {
                            // Keep the prompt open until the query is fixed.
                            self.ui.warn(format!("bad filter {e}"));
                            self.ui.prompt = Some(p);
                        }
                    }
                    PromptKind::Command => match self.command_line(&p.text) {
                        Some(Ok((source, kind))) => {
                            self.ui.say(format!("sent: {}", kind.describe()));
                            self.commands.push(Command { source, kind });
                        }
                        Some(Err(e)) => {
                            // Keep the text so it can be fixed.
                            self.ui.warn(e);
                            self.ui.prompt = Some(p);
                        }
                        None => {}
                    },
                    PromptKind::Dispatch => {
                        let text = p.text.trim().to_string();
                        if text.is_empty() {
                            self.ui.say("nothing to dispatch");
                        } else if let Some((source, instance)) = self.target() {
                            self.send(Command {
                                source,
                                kind: CommandKind::Redux(ReduxCommand::DispatchUserAction {
                                    instance,
                                    text,
                                }),
                            });
                        }
                    }
                }
                return;
            }
            _ => return,
        }
        // Filters apply as you type.
        if let Some(Prompt {
            kind: PromptKind::Filter(pane),
            text,
        }) = &self.ui.prompt
        {
            let text = text.clone();
            let pane = *pane;
            self.apply_filter(pane, &text);
        }
    }

    /// Parse and apply the filter being typed; a bad query leaves the last
    /// good one in place and is shown with where it went wrong.
    fn apply_filter(&mut self, pane: Pane, text: &str) {
        let q = if text.trim().is_empty() {
            None
        } else {
            match crate::query::Query::parse(text, self.ui.case_sensitive) {
                Ok(q) => Some(q),
                Err(e) => {
                    self.ui.filter_error = Some(e);
                    return;
                }
            }
        };
        self.ui.filter_error = None;
        match pane {
            Pane::Timeline => self.ui.tl_filter = q,
            _ => {
                self.store.logs.set_query(q);
                self.ui.log_follow = true;
                self.ui.log_sel = None;
            }
        }
    }

    /// The source a capability's commands go to: the one selected in
    /// Connections when it has the capability, else the first that has it;
    /// a status says why when there is none.
    pub fn source_with(
        &mut self,
        has: impl Fn(&crate::sources::kind::Caps) -> bool,
    ) -> Option<crate::event::SourceId> {
        if let Some(why) = &self.read_only {
            let why = why.clone();
            self.ui.warn(why);
            return None;
        }
        let able: Vec<usize> = (0..self.store.sources.len())
            .filter(|&i| has(&self.store.sources[i].caps))
            .collect();
        let sel = self
            .ui
            .conn_sel
            .min(self.store.sources.len().saturating_sub(1));
        let chosen = if self.ui.focus == Pane::Connections && able.contains(&sel) {
            Some(sel)
        } else {
            able.first().copied()
        };
        if chosen.is_none() {
            self.ui
                .warn("no room source: start roomtap with `room URL` or --room URL");
        }
        chosen.map(|i| i as crate::event::SourceId)
    }

    /// The `:` line as a command for the source it is for: the targeted
    /// source (selected in Connections) when its command line takes the
    /// word, else the first whose command line does.
    fn command_line(
        &mut self,
        line: &str,
    ) -> Option<Result<(crate::event::SourceId, CommandKind), String>> {
        let target = self.source_with(|c| c.command_line.is_some())?;
        let word = line.split_whitespace().next().unwrap_or("");
        let takes = |s: &crate::store::SourceInfo| {
            s.caps.command_line.is_some_and(|c| c.verbs.contains(&word))
        };
        let source = if takes(&self.store.sources[usize::from(target)]) {
            target
        } else {
            self.store
                .sources
                .iter()
                .position(takes)
                .map_or(target, |i| i as crate::event::SourceId)
        };
        let cl = self.store.sources[usize::from(source)].caps.command_line?;
        Some((cl.parse)(line).map(|k| (source, k)))
    }

    /// The selected instance as a command target, or a status saying why not.
    fn target(&mut self) -> Option<(crate::event::SourceId, String)> {
        if let Some(why) = &self.read_only {
            let why = why.clone();
            self.ui.warn(why);
            return None;
        }
        let Some(i) = self.instance() else {
            self.ui.warn("no app instance yet");
            return None;
        };
        if i.liveness == Liveness::Disconnected {
            let label = i.label();
            self.ui
                .warn(format!("{label} is not connected: command not sent"));
            return None;
        }
        Some((i.source, i.key.clone()))
    }

    fn send(&mut self, c: Command) {
        let reach = self.store.timeline.live_on(c.source);
        if self.store.targets_instances(c.source) {
            if let Some(label) = self.instance().map(|i| i.label()) {
                let to_all = matches!(
                    &c.kind,
                    CommandKind::Redux(ReduxCommand::Dispatch {
                        action: LiftedAction::PauseRecording(_) | LiftedAction::LockChanges(_),
                        ..
                    })
                );
                self.ui.say(if to_all && reach > 1 {
                    format!("sent: pause and lock reach all {reach} apps")
                } else {
                    format!("sent to {label} only")
                });
            }
        } else if reach > 1 {
            self.ui.say(format!(
                "sent: the relay broadcasts it, so all {reach} apps on this relay obey it"
            ));
        }
        self.commands.push(c);
    }

    fn dispatch_history(&mut self, action: LiftedAction) {
        if let Some((source, instance)) = self.target() {
            self.send(Command {
                source,
                kind: CommandKind::Redux(ReduxCommand::Dispatch { instance, action }),
            });
        }
    }

    fn skip(&mut self) {
        let Some(e) = self.selected_entry() else {
            return;
        };
        if e.id == 0 {
            self.ui.warn("the initial state cannot be skipped");
            return;
        }
        let id = e.id;
        self.dispatch_history(LiftedAction::ToggleAction { id });
    }

    fn activate(&mut self) {
        match self.ui.focus {
            Pane::Timeline if self.ui.detail_focus => self.toggle_fold(),
            Pane::Timeline => self.jump_selected(),
            Pane::Logs if self.ui.log_detail_focus => {
                if let Some(DetailLine::Tree(row)) =
                    self.ui.log_view.lines.get(self.ui.log_detail_sel)
                {
                    let path = row.path.clone();
                    if !self.ui.log_collapsed.remove(&path) {
                        self.ui.log_collapsed.insert(path);
                    }
                    self.ui.log_collapsed_gen += 1;
                }
            }
            Pane::Logs => {
                if self.store.logs.view_len() == 0 {
                    return;
                }
                // Opening the detail pins the selection to what is shown.
                if self.ui.log_sel.is_none() {
                    let len = self.log_len();
                    self.ui.log_sel = len
                        .checked_sub(1)
                        .and_then(|i| self.store.logs.view_get(i))
                        .map(|e| e.seq);
                    if self.ui.log_follow {
                        self.ui.log_paused_at = self.store.logs.next_seq();
                    }
                    self.ui.log_follow = false;
                }
                self.ui.log_detail = !self.ui.log_detail;
                self.ui.log_detail_focus = self.ui.log_detail;
                self.ui.log_detail_sel = 0;
            }
            _ => {}
        }
    }

    /// Entries of the Logs view that are shown: all of it, or up to where
    /// Space froze it.
    pub fn log_len(&self) -> usize {
        let logs = &self.store.logs;
        match self.ui.log_frozen {
            Some(at) => logs.view_len() - logs.view_count_since(at),
            None => logs.view_len(),
        }
    }

    fn freeze(&mut self) {
        match self.ui.log_frozen.take() {
            Some(_) => {
                self.ui.log_follow = true;
                self.ui.log_sel = None;
                self.ui.say("live again");
            }
            None => {
                let at = self.store.logs.next_seq();
                self.ui.log_frozen = Some(at);
                if self.ui.log_follow {
                    self.ui.log_paused_at = at;
                    self.ui.log_follow = false;
                    let len = self.log_len();
                    self.ui.log_sel = len
                        .checked_sub(1)
                        .and_then(|i| self.store.logs.view_get(i))
                        .map(|e| e.seq);
                }
                self.ui
                    .say("frozen: new entries are kept and counted; Space shows them");
            }
        }
    }

    fn jump_selected(&mut self) {
        let Some(inst) = self.instance() else {
            self.ui.warn("no app instance yet");
            return;
        };
        let Some(pos) = self.selected_position() else {
            return;
        };
        let id = inst.entries[pos].id;
        match inst.app_index_of(id) {
            Some(index) => self.dispatch_history(LiftedAction::JumpToState { index }),
            None => self.ui.warn(format!(
                "action #{id} is no longer in the app's history (its maxAge dropped it)"
            )),
        }
    }

    fn toggle_fold(&mut self) {
        if let Some(DetailLine::Tree(row)) = self.ui.detail.lines.get(self.ui.detail_sel) {
            let path = row.path.clone();
            if !self.ui.collapsed.remove(&path) {
                self.ui.collapsed.insert(path);
            }
            self.ui.collapsed_gen += 1;
        }
    }

    fn follow(&mut self) {
        match self.ui.focus {
            Pane::Logs if self.ui.log_detail_focus => {
                self.ui.log_detail_sel = self.ui.log_view.lines.len().saturating_sub(1);
            }
            Pane::Logs => {
                self.ui.log_frozen = None;
                self.ui.log_follow = true;
                self.ui.log_sel = None;
            }
            Pane::Timeline if self.ui.detail_focus => {
                self.ui.detail_sel = self.ui.detail.lines.len().saturating_sub(1);
            }
            Pane::Timeline => {
                self.ui.tl_follow = true;
                self.ui.tl_sel = None;
            }
            Pane::Channels => self.ui.chan_sel = usize::MAX / 2,
            Pane::Connections => self.ui.conn_sel = usize::MAX / 2,
        }
    }

    fn move_sel(&mut self, delta: i64) {
        let step = |cur: usize, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            (cur as i64 + delta).clamp(0, len as i64 - 1) as usize
        };
        match self.ui.focus {
            Pane::Logs if self.ui.log_detail_focus => {
                let len = self.ui.log_view.lines.len();
                self.ui.log_detail_sel =
                    step(self.ui.log_detail_sel.min(len.saturating_sub(1)), len);
            }
            Pane::Logs => {
                let len = self.log_len();
                if len == 0 {
                    return;
                }
                let cur = self.log_view_index().unwrap_or(len - 1).min(len - 1);
                let next = step(cur, len);
                if self.ui.log_follow {
                    self.ui.log_paused_at = self.store.logs.next_seq();
                }
                self.ui.log_follow = false;
                self.ui.log_sel = self.store.logs.view_get(next).map(|e| e.seq);
                self.ui.log_detail_sel = 0;
                if delta > 0 && next + 1 == len && self.ui.log_frozen.is_none() {
                    self.ui.log_follow = true;
                    self.ui.log_sel = None;
                }
            }
            Pane::Channels => {
                let len = self.channel_rows();
                self.ui.chan_sel = step(self.ui.chan_sel.min(len.saturating_sub(1)), len);
            }
            Pane::Connections => {
                let len = self.store.sources.len();
                self.ui.conn_sel = step(self.ui.conn_sel.min(len.saturating_sub(1)), len);
            }
            Pane::Timeline if self.ui.detail_focus => {
                let len = self.ui.detail.lines.len();
                self.ui.detail_sel = step(self.ui.detail_sel, len);
            }
            Pane::Timeline => {
                self.refresh_timeline_rows();
                let rows = self.tl_rows.rows();
                if rows.is_empty() {
                    return;
                }
                let cur = self
                    .selected_position()
                    .and_then(|p| rows.iter().position(|&v| v >= p))
                    .unwrap_or(rows.len() - 1);
                let next = step(cur, rows.len());
                let last = next + 1 == rows.len();
                let Some(inst) = self.instance() else { return };
                let id = inst.entries[rows[next]].id;
                self.ui.tl_follow = delta > 0 && last;
                self.ui.tl_sel = (!self.ui.tl_follow).then_some(id);
                self.ui.detail_sel = 0;
            }
        }
    }

    pub fn channel_rows(&self) -> usize {
        self.store.sources.iter().map(|s| s.channels.len()).sum()
    }

    /// View index of the selected log entry (None = following the end).
    pub fn log_view_index(&self) -> Option<usize> {
        let seq = self.ui.log_sel?;
        let logs = &self.store.logs;
        // Binary search over the view by sequence number.
        let (mut lo, mut hi) = (0usize, logs.view_len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match logs.view_get(mid) {
                Some(e) if e.seq < seq => lo = mid + 1,
                _ => hi = mid,
            }
        }
        Some(lo.min(logs.view_len().saturating_sub(1)))
    }

    /// The frame's view of the store and ui state (after `prepare`).
    pub fn view(&self) -> View<'_> {
        debug_assert!(
            self.tl_rows.key == self.timeline_key(),
            "prepare() before view()"
        );
        View {
            store: &self.store,
            ui: &self.ui,
            theme: &self.theme,
            read_only: self.read_only.as_deref(),
            instance: self.instance(),
            timeline_rows: self.tl_rows.rows(),
            timeline_sel: self.selected_position(),
            log_len: self.log_len(),
            log_sel: self.log_view_index(),
            now_ms: crate::event::now_ms(),
        }
    }

    /// Draw a frame (after `prepare`) and keep the scroll offsets it used
    /// for the next one.
    pub fn draw(&mut self, f: &mut Frame) {
        self.ui.scroll = ui::draw(f, &self.view());
    }

    /// Positions (into the instance's entries) the timeline list shows.
    pub fn timeline_view(&self) -> Vec<usize> {
        if self.tl_rows.key == self.timeline_key() {
            self.tl_rows.rows.clone()
        } else {
            self.filter_timeline()
        }
    }

    /// Work the timeline list out again when the instance, its entries or
    /// the filter changed.
    fn refresh_timeline_rows(&mut self) {
        let key = self.timeline_key();
        if self.tl_rows.key != key {
            self.tl_rows.rows = self.filter_timeline();
            self.tl_rows.key = key;
        }
    }

    fn timeline_key(&self) -> Option<TimelineKey> {
        let inst = self.instance()?;
        let q = self.ui.tl_filter.as_ref();
        Some(TimelineKey {
            inst: self.ui.inst,
            source: inst.source,
            name: inst.key.clone(),
            rev: inst.rev,
            len: inst.entries.len(),
            first: inst.entries.front().map(|e| e.id),
            query: q.map(|q| q.source.clone()),
            case: q.is_some_and(|q| q.case_sensitive),
        })
    }

    fn filter_timeline(&self) -> Vec<usize> {
        let Some(inst) = self.instance() else {
            return Vec::new();
        };
        let Some(q) = &self.ui.tl_filter else {
            return (0..inst.entries.len()).collect();
        };
        let label = inst.label();
        inst.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                q.matches(&EntryRecord {
                    entry: e,
                    instance: &label,
                })
            })
            .map(|(i, _)| i)
            .collect()
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

    pub fn selected_entry(&self) -> Option<&crate::store::timeline::Entry> {
        let pos = self.selected_position()?;
        self.instance()?.entries.get(pos)
    }

    fn copy(&mut self) {
        let text = match self.ui.focus {
            Pane::Logs if self.ui.log_detail_focus => {
                let v = self.ui.log_view.value.as_ref();
                match self.ui.log_view.lines.get(self.ui.log_detail_sel) {
                    Some(DetailLine::Tree(row)) => v
                        .and_then(|v| json::at_path(v, &row.path))
                        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default()),
                    _ => v.map(|v| serde_json::to_string_pretty(v).unwrap_or_default()),
                }
            }
            Pane::Logs => {
                let idx = self
                    .log_view_index()
                    .unwrap_or(self.log_len().saturating_sub(1));
                self.store
                    .logs
                    .view_get(idx)
                    .map(|e| serde_json::to_string_pretty(&self.entry_json(e)).unwrap_or_default())
            }
            Pane::Timeline => {
                let v = self.ui.detail.value.as_ref();
                match (
                    self.ui.detail_focus,
                    self.ui.detail.lines.get(self.ui.detail_sel),
                ) {
                    (true, Some(DetailLine::Tree(row))) => v
                        .and_then(|v| json::at_path(v, &row.path))
                        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default()),
                    _ => v.map(|v| serde_json::to_string_pretty(v).unwrap_or_default()),
                }
            }
            Pane::Connections => self
                .store
                .sources
                .get(
                    self.ui
                        .conn_sel
                        .min(self.store.sources.len().saturating_sub(1)),
                )
                .map(|s| format!("{} {} {}", s.label, s.url, s.conn.state.label())),
            Pane::Channels => None,
        };
        match text {
            Some(t) => self.copies.push(t),
            None => self.ui.warn("nothing to copy here"),
        }
    }

    /// A log entry as one JSON object: time, source, level, kind, summary
    /// and its data (parsed when it is JSON, else kept as text).
    pub fn entry_json(&self, e: &crate::store::logs::LogEntry) -> serde_json::Value {
        let source = self
            .store
            .sources
            .get(usize::from(e.source))
            .map(|s| s.label.as_str())
            .unwrap_or("?");
        let mut o = serde_json::json!({
            "time": crate::text::iso_time(e.at_ms),
            "source": source,
            "level": e.level.label(),
            "kind": &*e.kind,
            "summary": &*e.summary,
        });
        if let Some(d) = &e.data {
            o["data"] = serde_json::from_str(d)
                .unwrap_or_else(|_| serde_json::Value::String(d.to_string()));
        }
        o
    }

    /// The Logs view as filtered (up to a freeze), one JSON object per
    /// line; returns how many entries were written.
    pub fn export_view(&self, w: &mut dyn std::io::Write) -> std::io::Result<usize> {
        let len = self.log_len();
        for i in 0..len {
            if let Some(e) = self.store.logs.view_get(i) {
                serde_json::to_writer(&mut *w, &self.entry_json(e))?;
                w.write_all(b"\n")?;
            }
        }
        Ok(len)
    }

    /// Y: the path of the value under the cursor in a detail view.
    fn copy_path(&mut self) {
        let row = match self.ui.focus {
            Pane::Logs if self.ui.log_detail_focus => {
                self.ui.log_view.lines.get(self.ui.log_detail_sel)
            }
            Pane::Timeline if self.ui.detail_focus => self.ui.detail.lines.get(self.ui.detail_sel),
            _ => None,
        };
        let in_logs = self.ui.focus == Pane::Logs;
        match row {
            Some(DetailLine::Tree(r)) if r.path == "$" => self
                .ui
                .warn("the root has no path: pick a value inside it (y copies the whole)"),
            Some(DetailLine::Tree(r)) => {
                // In Logs the path is a filter as is (`data.user.id`).
                let p = match r.path.strip_prefix("$.") {
                    Some(p) if in_logs => p,
                    _ => r.path.as_str(),
                };
                self.copies.push(p.to_string());
            }
            _ => self.ui.warn(
                "Y copies a path: open a detail (Enter in Logs, → in Timeline) and pick a value",
            ),
        }
    }

    fn start_replay(&mut self, pace: Pace, now: Instant) {
        let Some((source, instance)) = self.target() else {
            return;
        };
        let Some(inst) = self.instance() else { return };
        let Some(from) = self.selected_position() else {
            return;
        };
        let mut steps = Vec::new();
        let mut prev_t: Option<u64> = None;
        for e in inst.entries.iter().skip(from) {
            let Some(index) = inst.app_index_of(e.id) else {
                continue;
            };
            let t = e.time_ms();
            let delay = match (pace, prev_t) {
                (_, None) => 0,
                (Pace::Fixed(ms), _) => ms,
                (Pace::Recorded(f), Some(p)) => {
                    ((t.saturating_sub(p)) as f64 / f).min(5_000.0) as u64
                }
            };
            prev_t = Some(t);
            steps.push((index, delay));
        }
        if steps.is_empty() {
            self.ui
                .warn("nothing to replay: those actions left the app's history");
            return;
        }
        let n = steps.len();
        self.ui.replay = Some(Replay {
            source,
            instance,
            steps,
            next: 0,
            due: now,
            pace,
        });
        self.ui.say(format!(
            "replaying {n} steps at {}; any key stops",
            pace.label()
        ));
        self.tick(now);
    }

    /// Advance time-driven work (replay). Returns when it next wants a tick.
    pub fn tick(&mut self, now: Instant) -> Option<Instant> {
        let r = self.ui.replay.as_mut()?;
        while r.next < r.steps.len() && r.due <= now {
            let (index, _) = r.steps[r.next];
            self.commands.push(Command {
                source: r.source,
                kind: CommandKind::Redux(ReduxCommand::Dispatch {
                    instance: r.instance.clone(),
                    action: LiftedAction::JumpToState { index },
                }),
            });
            r.next += 1;
            if let Some((_, delay)) = r.steps.get(r.next) {
                r.due += Duration::from_millis(*delay);
            }
            self.dirty = true;
        }
        if r.next >= r.steps.len() {
            self.ui.replay = None;
            self.ui.say("replay finished");
            return None;
        }
        Some(r.due)
    }

    /// Bring view caches up to date before a frame (each is rebuilt only
    /// when its inputs changed).
    pub fn prepare(&mut self) {
        self.refresh_timeline_rows();
        self.prepare_log_detail();
        let Some(pos) = self.selected_position() else {
            self.ui.detail = DetailView::default();
            return;
        };
        let Some(inst) = self.instance() else { return };
        let entry = &inst.entries[pos];
        let key = (
            self.ui.inst,
            entry.id,
            self.ui.tab,
            inst.rev,
            self.ui.collapsed_gen,
        );
        if self.ui.detail.key == Some(key) {
            return;
        }
        let parse = |raw: &str| serde_json::from_str::<serde_json::Value>(raw);
        let mut lines = Vec::new();
        let mut value = None;
        match self.ui.tab {
            DetailTab::Action => match parse(&entry.action_raw) {
                Ok(v) => {
                    lines = tree_lines(&v, &self.ui.collapsed);
                    value = Some(v);
                }
                Err(e) => lines.push(DetailLine::Note(format!("action is not JSON: {e}"))),
            },
            DetailTab::State => match &entry.state_raw {
                Some(raw) => match raw
                    .text()
                    .and_then(|t| parse(&t).map_err(|e| e.to_string()))
                {
                    Ok(v) => {
                        if let Some(err) = &entry.error {
                            lines.push(DetailLine::Note(format!("reducer error: {err}")));
                        }
                        lines.extend(tree_lines(&v, &self.ui.collapsed));
                        value = Some(v);
                    }
                    Err(e) => lines.push(DetailLine::Note(format!("state is not JSON: {e}"))),
                },
                None => lines.push(DetailLine::Note(
                    "state unknown: the app was showing an earlier state when this action \
                     arrived; roomtap asked it for a fresh STATE (u asks again)"
                        .into(),
                )),
            },
            DetailTab::Diff => {
                let prev = pos
                    .checked_sub(1)
                    .and_then(|p| inst.entries.get(p))
                    .and_then(|e| e.state_raw.as_ref());
                match (prev, entry.state_raw.as_ref()) {
                    (_, None) => lines.push(DetailLine::Note("state unknown".into())),
                    (None, Some(_)) => {
                        lines.push(DetailLine::Note("no previous state to compare".into()))
                    }
                    (Some(a), Some(b)) => match (
                        a.text().ok().and_then(|t| parse(&t).ok()),
                        b.text().ok().and_then(|t| parse(&t).ok()),
                    ) {
                        (Some(a), Some(b)) => {
                            let d = json::diff(&a, &b, MAX_DETAIL_ROWS);
                            if d.is_empty() {
                                lines.push(DetailLine::Note("no change".into()));
                            }
                            lines.extend(d.into_iter().map(DetailLine::Diff));
                            value = Some(b);
                        }
                        _ => lines.push(DetailLine::Note("state is not JSON".into())),
                    },
                }
            }
        }
        if self.ui.detail_sel >= lines.len() {
            self.ui.detail_sel = lines.len().saturating_sub(1);
        }
        self.ui.detail = DetailView {
            key: Some(key),
            lines,
            value,
        };
    }
}

/// What the filtered timeline list depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TimelineKey {
    inst: usize,
    source: crate::event::SourceId,
    name: String,
    rev: u64,
    len: usize,
    first: Option<u64>,
    /// The filter's text, when there is one.
    query: Option<String>,
    case: bool,
}

/// Positions (into the instance's entries) the timeline list shows, and
/// what they were worked out from (None: no instance).
#[derive(Debug, Default)]
struct TimelineRows {
    key: Option<TimelineKey>,
    rows: Vec<usize>,
}

impl TimelineRows {
    fn rows(&self) -> &[usize] {
        &self.rows
    }
}

impl App {
    fn prepare_log_detail(&mut self) {
        if !self.ui.log_detail {
            return;
        }
        let Some(seq) = self.ui.log_sel else {
            self.ui.log_view = DetailView::default();
            return;
        };
        let key = (0, seq, DetailTab::Action, 0, self.ui.log_collapsed_gen);
        if self.ui.log_view.key == Some(key) {
            return;
        }
        let Some(e) = self.store.logs.by_seq(seq) else {
            self.ui.log_view = DetailView {
                key: Some(key),
                lines: vec![DetailLine::Note("this entry was evicted".into())],
                value: None,
            };
            return;
        };
        let v = self.entry_json(e);
        let lines = tree_lines(&v, &self.ui.log_collapsed);
        if self.ui.log_detail_sel >= lines.len() {
            self.ui.log_detail_sel = lines.len().saturating_sub(1);
        }
        self.ui.log_view = DetailView {
            key: Some(key),
            lines,
            value: Some(v),
        };
    }
}

fn tree_lines(
    v: &serde_json::Value,
    collapsed: &std::collections::HashSet<String>,
) -> Vec<DetailLine> {
    json::flatten(v, collapsed, MAX_DETAIL_ROWS)
        .into_iter()
        .map(DetailLine::Tree)
        .collect()
}
