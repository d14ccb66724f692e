//! Key dispatch: what an [`Action`] does to the ui state, selection
//! movement, folding, freeze and follow.

use crossterm::event::KeyEvent;

use super::App;
use crate::ui::keymap::Action;
use crate::ui::{DetailLine, DetailTab, Pane};

/// Rows a page move covers when the real height is unknown.
const PAGE: usize = 10;

impl App {
    pub fn key(&mut self, key: KeyEvent) {
        if let Some(a) = crate::ui::keys::map_key(key, self.ui.mode()) {
            self.act(a);
        }
    }

    pub fn act(&mut self, a: Action) {
        self.dirty = true;
        self.ui.touched = true;
        if self.ui.replay.is_some() {
            // Any key stops a replay.
            self.ui.replay = None;
            self.ui.say("replay stopped");
            if a != Action::Quit {
                return;
            }
        }
        if self.ui.choosing_pace {
            self.choose_pace(a);
            return;
        }
        if self.ui.prompt.is_some() {
            self.prompt_action(a);
            return;
        }
        if let Some(c) = self.ui.confirm.take() {
            // Only `y` sends it; anything else (Esc, Enter, another key) does not.
            if a == Action::Input('y') {
                self.send(c.command);
            } else if a == Action::Quit {
                self.quit = true;
            } else {
                self.ui.say("cancelled: nothing was sent");
            }
            return;
        }
        if self.ui.help && a != Action::Quit {
            // The help scrolls; any other key only closes it.
            let s = &mut self.ui.help_scroll;
            match a {
                Action::Down => *s = s.saturating_add(1),
                Action::Up => *s = s.saturating_sub(1),
                Action::PageDown => *s = s.saturating_add(PAGE as u16),
                Action::PageUp => *s = s.saturating_sub(PAGE as u16),
                Action::Top => *s = 0,
                Action::Bottom | Action::Follow => *s = u16::MAX / 2,
                _ => self.ui.help = false,
            }
            return;
        }
        if changes_an_app(&a) && self.ui.focus != Pane::Timeline {
            // A key meant for another pane (a vim user's `l`, `c` in Logs)
            // must not change an app.
            self.ui.warn(format!(
                "{} changes the selected app: focus the Timeline first (4 or Tab)",
                key_of(&a)
            ));
            return;
        }
        match a {
            Action::Quit => self.quit = true,
            Action::Skip
            | Action::Sweep
            | Action::Commit
            | Action::Rollback
            | Action::Reset
            | Action::Pause
            | Action::Lock
            | Action::Refresh
            | Action::Watch => self.command(a),
            Action::DispatchPrompt
            | Action::Replay
            | Action::CommandLine
            | Action::FilterPrompt => self.open_prompt(a),
            Action::Freeze => self.freeze(),
            Action::Export => self.export_requested = true,
            Action::RelativeTime => {
                self.ui.log_relative = !self.ui.log_relative;
                self.ui.say(if self.ui.log_relative {
                    "Logs: times relative to the selected entry (t: clock times)"
                } else {
                    "Logs: clock times (t: relative to the selected entry)"
                });
            }
            Action::Copy => self.copy(),
            Action::CopyPath => self.copy_path(),
            Action::Escape => self.escape(),
            Action::Zoom => self.ui.zoom = !self.ui.zoom,
            Action::Help => {
                self.ui.help = true;
                self.ui.help_scroll = 0;
            }
            Action::Input(_) | Action::Backspace | Action::Submit | Action::ToggleCase => {}
            a => self.navigate(a),
        }
    }

    /// Focus, selection, detail focus, instance and tab.
    fn navigate(&mut self, a: Action) {
        match a {
            Action::FocusNext => self.ui.focus = self.ui.focus.next(),
            Action::FocusPrev => self.ui.focus = self.ui.focus.prev(),
            Action::Focus(p) => self.ui.focus = p,
            Action::Up | Action::PrevMatch => self.move_sel(-1),
            Action::Down | Action::NextMatch => self.move_sel(1),
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
                Pane::Channels
                    if !self.ui.chan_view.lines.is_empty() || self.ui.chan_detail_focus =>
                {
                    self.ui.chan_detail_focus = !self.ui.chan_detail_focus
                }
                _ => {}
            },
            Action::NextInstance => {
                let n = self.store.timeline.instances.len();
                if n > 0 {
                    self.ui.inst = (self.ui.inst + 1) % n;
                    self.ui.tl_follow = true;
                    self.ui.tl_sel = None;
                    self.ui.detail_sel = 0;
                    // What the status said of the last app is stale now.
                    let label = self.instance().map(|i| i.label()).unwrap_or_default();
                    self.ui.say(format!("commands now reach {label}"));
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
            _ => {}
        }
    }

    /// Esc: unzoom, else close the log detail, else clear the filter,
    /// else the message.
    fn escape(&mut self) {
        if self.ui.zoom {
            self.ui.zoom = false;
        } else if self.ui.focus == Pane::Logs && self.ui.log_detail {
            self.ui.log_detail = false;
            self.ui.log_detail_focus = false;
        } else if self.ui.focus == Pane::Channels && self.ui.chan_detail_focus {
            self.ui.chan_detail_focus = false;
        } else if self.ui.focus == Pane::Channels && self.ui.chan_filter.is_some() {
            self.ui.chan_filter = None;
        } else if self.ui.focus == Pane::Timeline && self.ui.tl_filter.is_some() {
            self.ui.tl_filter = None;
        } else if self.store.logs.filter().is_some() {
            self.store.logs.set_query(None);
        } else {
            self.ui.status = None;
        }
    }

    fn activate(&mut self) {
        match self.ui.focus {
            Pane::Timeline if self.ui.detail_focus => self.toggle_fold(),
            Pane::Timeline => self.jump_selected(),
            Pane::Channels if self.ui.chan_detail_focus => {
                if let Some(DetailLine::Tree(row)) =
                    self.ui.chan_view.lines.get(self.ui.chan_detail_sel)
                {
                    let path = row.path.clone();
                    if !self.ui.chan_collapsed.remove(&path) {
                        self.ui.chan_collapsed.insert(path);
                    }
                    self.ui.chan_collapsed_gen += 1;
                }
            }
            Pane::Channels if !self.ui.chan_view.lines.is_empty() => {
                self.ui.chan_detail_focus = true;
                self.ui.chan_detail_sel = 0;
            }
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
                    self.pin_log_selection();
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

    /// Select the last entry the Logs view shows.
    fn pin_log_selection(&mut self) {
        let len = self.log_len();
        self.ui.log_sel = len
            .checked_sub(1)
            .and_then(|i| self.store.logs.view_get(i))
            .map(|e| e.seq);
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
                    self.pin_log_selection();
                }
                self.ui
                    .say("frozen: new entries are kept and counted; Space shows them");
            }
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
            Pane::Channels if self.ui.chan_detail_focus => {
                self.ui.chan_detail_sel = self.ui.chan_view.lines.len().saturating_sub(1);
            }
            Pane::Channels => {
                self.refresh_channel_rows();
                self.pick_channel_row(usize::MAX / 2);
            }
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
            Pane::Channels if self.ui.chan_detail_focus => {
                let len = self.ui.chan_view.lines.len();
                self.ui.chan_detail_sel =
                    step(self.ui.chan_detail_sel.min(len.saturating_sub(1)), len);
            }
            Pane::Channels => {
                self.refresh_channel_rows();
                let len = self.channel_rows();
                let next = step(self.ui.chan_sel.min(len.saturating_sub(1)), len);
                self.pick_channel_row(next);
                self.ui.chan_detail_sel = 0;
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
}

/// Keys that change an app (its history, recording, lock, state): they act
/// only with the Timeline focused.
fn changes_an_app(a: &Action) -> bool {
    matches!(
        a,
        Action::Skip
            | Action::Sweep
            | Action::Commit
            | Action::Rollback
            | Action::Reset
            | Action::Pause
            | Action::Lock
            | Action::DispatchPrompt
            | Action::Replay
    )
}

/// The key the key table gives an action (for messages).
fn key_of(a: &Action) -> String {
    crate::ui::keys::BINDINGS
        .iter()
        .find_map(|b| {
            b.press.iter().find_map(|(k, x)| match k {
                crate::ui::keymap::Key::Code(crossterm::event::KeyCode::Char(c)) if x == a => {
                    Some(c.to_string())
                }
                _ => None,
            })
        })
        .unwrap_or_else(|| format!("{a:?}"))
}
