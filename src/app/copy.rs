//! What leaves roomtap: y copies the thing under the cursor, Y its path,
//! e exports the Logs view.

use super::App;
use crate::ui::keymap::Action;
use crate::ui::{DetailLine, Pane, json};

impl App {
    pub(super) fn copy(&mut self) {
        let text = match self.ui.focus {
            Pane::Logs if self.ui.logs.detail.focus => {
                let v = self.ui.logs.detail.view.value.as_ref();
                match self.ui.logs.detail.view.lines.get(self.ui.logs.detail.sel) {
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
                    .map(|e| serde_json::to_string_pretty(&self.entry_json(&e)).unwrap_or_default())
            }
            Pane::Timeline => {
                let v = self.ui.tl.detail.view.value.as_ref();
                match (
                    self.ui.tl.detail.focus,
                    self.ui.tl.detail.view.lines.get(self.ui.tl.detail.sel),
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
                        .conns
                        .sel
                        .min(self.store.sources.len().saturating_sub(1)),
                )
                .map(|s| format!("{} {} {}", s.label, s.url, s.conn.state.label())),
            Pane::Channels => {
                let v = self.ui.chans.detail.view.value.as_ref();
                match (
                    self.ui.chans.detail.focus,
                    self.ui
                        .chans
                        .detail
                        .view
                        .lines
                        .get(self.ui.chans.detail.sel),
                ) {
                    (true, Some(DetailLine::Tree(row))) => v
                        .and_then(|v| json::at_path(v, &row.path))
                        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default()),
                    _ => v.map(|v| serde_json::to_string_pretty(v).unwrap_or_default()),
                }
            }
        };
        match text {
            Some(t) => self.effects.push(super::Effect::Copy(t)),
            None => self.ui.warn("nothing to copy here"),
        }
    }

    /// The Logs view as filtered (up to a freeze), one JSON object per
    /// line; returns how many entries were written.
    pub fn export_view(&self, w: &mut dyn std::io::Write) -> std::io::Result<usize> {
        let len = self.log_len();
        for i in 0..len {
            if let Some(e) = self.store.logs.view_get(i) {
                serde_json::to_writer(&mut *w, &self.entry_json(&e))?;
                w.write_all(b"\n")?;
            }
        }
        Ok(len)
    }

    /// Y: the path of the value under the cursor in a detail view.
    pub(super) fn copy_path(&mut self) {
        let row = match self.ui.focus {
            Pane::Logs if self.ui.logs.detail.focus => {
                self.ui.logs.detail.view.lines.get(self.ui.logs.detail.sel)
            }
            Pane::Timeline if self.ui.tl.detail.focus => {
                self.ui.tl.detail.view.lines.get(self.ui.tl.detail.sel)
            }
            Pane::Channels if self.ui.chans.detail.focus => self
                .ui
                .chans
                .detail
                .view
                .lines
                .get(self.ui.chans.detail.sel),
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
                self.effects.push(super::Effect::Copy(p.to_string()));
            }
            _ => {
                let name = |a: &Action| crate::ui::keys::name(a);
                self.ui.warn(format!(
                    "{} copies a path: open a detail ({} in Logs, {} in Timeline) and pick a value",
                    name(&Action::CopyPath),
                    name(&Action::Activate),
                    name(&Action::ToggleDetailFocus),
                ))
            }
        }
    }
}
