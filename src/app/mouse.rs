//! The mouse, when asked for (`--mouse`, `m`): the wheel moves the
//! selection of the pane under the pointer (three rows a notch), a click
//! focuses a pane and selects the row under it. A click never jumps: a
//! Timeline row is selected, and Enter jumps.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::App;
use crate::ui::keymap::Action;

/// Rows a wheel notch moves.
const NOTCH: usize = 3;

impl App {
    pub fn mouse(&mut self, m: MouseEvent) {
        if !self.ui.mouse {
            return;
        }
        // What waits for a key (a prompt, a confirmation, a replay, the
        // pace) is not the mouse's to answer; the help scrolls.
        if self.ui.help {
            let step = match m.kind {
                MouseEventKind::ScrollDown => Action::Down,
                MouseEventKind::ScrollUp => Action::Up,
                _ => return,
            };
            for _ in 0..NOTCH {
                self.act(step.clone());
            }
            return;
        }
        if self.ui.prompt.is_some()
            || self.ui.confirm.is_some()
            || self.ui.replay.is_some()
            || self.ui.choosing_pace
        {
            return;
        }
        let Some(pane) = self.ui.scroll.pane_at(m.column, m.row) else {
            return;
        };
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                if self.ui.focus != pane {
                    self.act(Action::Focus(pane));
                }
                let step = if m.kind == MouseEventKind::ScrollDown {
                    Action::Down
                } else {
                    Action::Up
                };
                for _ in 0..NOTCH {
                    self.act(step.clone());
                }
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if self.ui.focus != pane {
                    self.act(Action::Focus(pane));
                }
                // A bar of the Logs' histogram: its first entry.
                if let Some(r) = self.ui.scroll.hist
                    && r.contains(ratatui::layout::Position {
                        x: m.column,
                        y: m.row,
                    })
                {
                    self.act(Action::HistBar(usize::from(m.column - r.x)));
                    return;
                }
                if let Some(row) = self.ui.scroll.row_at(pane, m.column, m.row) {
                    self.act(Action::Row(row));
                }
            }
            _ => {}
        }
    }
}
