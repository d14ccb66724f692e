//! What every pane shares: a detail it can open (folding, its cursor, the
//! lines it shows), list movement, and what a pane's key handling asks of
//! the app ([`Outcome`]). Each pane's own state lives in its file
//! (`logs::LogsPane`, `channels::ChannelsPane`, `connections::ConnectionsPane`,
//! `timeline::TimelinePane`), beside its drawing.

use std::collections::HashSet;

use super::keymap::Action;
use super::{DetailLine, DetailView};

/// Rows a page move covers.
pub const PAGE: usize = 10;

/// What a pane's key handling leaves for the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The pane handled the key (or it meant nothing there).
    Done,
    /// Handled; this is worth a notice on the status line.
    Say(String),
    /// The pane does not handle this key: the app does (Esc falls through
    /// to the filter and the status, Enter on the Timeline is a jump).
    Pass,
}

/// How far a movement key moves a cursor: `None` for keys that do not.
pub fn delta_of(a: &Action) -> Option<i64> {
    Some(match a {
        Action::Up | Action::PrevMatch => -1,
        Action::Down | Action::NextMatch => 1,
        Action::PageUp => -(PAGE as i64),
        Action::PageDown => PAGE as i64,
        Action::Top => i64::MIN / 2,
        _ => return None,
    })
}

/// `cur` moved by `delta` inside `0..len`.
pub fn step(cur: usize, delta: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (cur.min(len - 1) as i64 + delta).clamp(0, len as i64 - 1) as usize
}

/// A detail a pane opens beside or under its list: a tree of JSON (its
/// folded paths), a diff, notes; the cursor in it; and whether keys move in
/// it instead of the list. The same for the Logs, Channels and Timeline.
#[derive(Debug, Default)]
pub struct DetailState {
    /// Keys move in the detail instead of the list.
    pub focus: bool,
    /// The cursor's line.
    pub sel: usize,
    /// Folded tree paths.
    pub collapsed: HashSet<String>,
    /// Bumped on every fold change (the view is rebuilt).
    pub folds: u64,
    /// What the detail shows (built by the app before a frame).
    pub view: DetailView,
}

impl DetailState {
    /// A movement key inside the detail.
    pub fn move_by(&mut self, delta: i64) {
        self.sel = step(self.sel, delta, self.view.lines.len());
    }

    /// To its last line.
    pub fn to_end(&mut self) {
        self.sel = self.view.lines.len().saturating_sub(1);
    }

    /// Fold or unfold the tree row under the cursor.
    pub fn toggle_fold(&mut self) {
        if let Some(DetailLine::Tree(row)) = self.view.lines.get(self.sel) {
            let path = row.path.clone();
            if !self.collapsed.remove(&path) {
                self.collapsed.insert(path);
            }
            self.folds += 1;
        }
    }

    /// Keys a focused detail handles: movement, Enter folds, End.
    pub fn act(&mut self, a: &Action) -> bool {
        if let Some(d) = delta_of(a) {
            self.move_by(d);
        } else {
            match a {
                Action::Bottom | Action::Follow => self.to_end(),
                Action::Activate => self.toggle_fold(),
                _ => return false,
            }
        }
        true
    }

    /// A new view of the same subject (a channel's detail rebuilt as its
    /// updates come): the cursor stays on the thing it was on when the views
    /// name their lines (`DetailView::ids`), and inside the view.
    pub fn update(&mut self, view: DetailView) {
        let was = self.view.ids.get(self.sel);
        if let Some(i) = was.and_then(|w| view.ids.iter().position(|x| x == w)) {
            self.sel = i;
        }
        self.set(view);
    }

    /// A new view: the cursor kept inside it.
    pub fn set(&mut self, view: DetailView) {
        if self.sel >= view.lines.len() {
            self.sel = view.lines.len().saturating_sub(1);
        }
        self.view = view;
    }

    /// Emptied (nothing selected).
    pub fn clear(&mut self) {
        self.view = DetailView::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::json::{RowKind, TreeRow};

    fn tree(paths: &[&str]) -> DetailView {
        DetailView {
            lines: paths
                .iter()
                .map(|p| {
                    DetailLine::Tree(TreeRow {
                        depth: 0,
                        key: p.to_string(),
                        path: p.to_string(),
                        kind: RowKind::Object {
                            len: 1,
                            collapsed: false,
                        },
                    })
                })
                .collect(),
            ..DetailView::default()
        }
    }

    #[test]
    fn a_detail_moves_folds_and_keeps_its_cursor_inside() {
        let mut d = DetailState::default();
        d.set(tree(&["a", "a.b", "c"]));
        assert!(d.act(&Action::PageDown));
        assert_eq!(d.sel, 2);
        assert!(d.act(&Action::Up));
        assert!(d.act(&Action::Activate));
        assert!(d.collapsed.contains("a.b") && d.folds == 1);
        assert!(d.act(&Action::Activate));
        assert!(d.collapsed.is_empty() && d.folds == 2);
        d.set(tree(&["a"]));
        assert_eq!(d.sel, 0, "kept inside a shorter view");
        assert!(!d.act(&Action::Copy), "not a detail key");
    }

    #[test]
    fn steps_stay_in_range() {
        assert_eq!(step(0, -1, 5), 0);
        assert_eq!(step(9, 1, 5), 4);
        assert_eq!(step(2, i64::MIN / 2, 5), 0);
        assert_eq!(step(3, 1, 0), 0);
    }
}
