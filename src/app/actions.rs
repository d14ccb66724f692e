//! Key dispatch: what an [`Action`] does to the ui state, selection
//! movement, folding, freeze and follow.

use crossterm::event::KeyEvent;

use super::{App, Effect};
use crate::ui::Pane;
use crate::ui::keymap::Action;
use crate::ui::pane::{Outcome, PAGE};

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
                self.effects.push(Effect::Quit);
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
            Action::Quit => self.effects.push(Effect::Quit),
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
            Action::Freeze | Action::RelativeTime | Action::ShiftLeft | Action::ShiftRight => {
                // The Logs' own keys, whatever has the focus.
                let o = self.ui.logs.act(&a, &self.store.logs);
                self.outcome(o);
            }
            Action::Export => self.effects.push(Effect::Export),
            Action::ReloadTheme => self.effects.push(Effect::ReloadTheme),
            Action::ToggleMouse => {
                self.ui.mouse = !self.ui.mouse;
                self.effects.push(Effect::Mouse(self.ui.mouse));
                self.ui.say(if self.ui.mouse {
                    "mouse on: wheel scrolls, click selects (m: off, for the terminal's text selection)"
                } else {
                    "mouse off: the terminal selects text (m: on)"
                });
            }
            Action::Copy => self.copy(),
            Action::CopyPath => self.copy_path(),
            Action::Zoom => self.ui.zoom = !self.ui.zoom,
            Action::Escape if self.ui.zoom => self.ui.zoom = false,
            Action::Help => {
                self.ui.help = true;
                self.ui.help_scroll = 0;
            }
            Action::FocusNext => self.ui.focus = self.ui.focus.next(),
            Action::FocusPrev => self.ui.focus = self.ui.focus.prev(),
            Action::Focus(p) => self.ui.focus = p,
            Action::Input(_) | Action::Backspace | Action::Submit | Action::ToggleCase => {}
            a => self.pane_key(a),
        }
    }

    /// The focused pane handles the key; what it passes on is the app's
    /// (Enter on the Timeline's list jumps; Esc clears the Logs filter,
    /// then the status).
    fn pane_key(&mut self, a: Action) {
        let o = match self.ui.focus {
            Pane::Logs => self.ui.logs.act(&a, &self.store.logs),
            Pane::Channels => self.ui.chans.act(&a, &self.store),
            Pane::Connections => self.ui.conns.act(&a, self.store.sources.len()),
            Pane::Timeline => self.ui.tl.act(&a, &self.store.timeline),
        };
        match (o, a) {
            (Outcome::Pass, Action::Activate) if self.ui.focus == Pane::Timeline => {
                self.jump_selected()
            }
            (Outcome::Pass, Action::Escape) => {
                if self.store.logs.filter().is_some() {
                    self.set_logs_query(None);
                } else {
                    self.ui.status = None;
                }
            }
            (o, _) => self.outcome(o),
        }
    }

    fn outcome(&mut self, o: Outcome) {
        if let Outcome::Say(text) = o {
            self.ui.say(text);
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
