//! What a frame needs: `prepare` brings the caches up to date (the
//! filtered timeline list, the detail views), `view` hands them to the
//! ui with the store, and `draw` keeps the scroll offsets the frame used.

use ratatui::Frame;

use super::App;
use crate::store::logs::LogEntry;
use crate::ui::{self, View};

impl App {
    /// Bring view caches up to date before a frame (each is rebuilt only
    /// when its inputs changed).
    pub fn prepare(&mut self) {
        self.refresh_timeline_rows();
        self.refresh_channel_rows();
        self.prepare_log_detail();
        self.prepare_detail();
        self.prepare_chan_detail();
        // The histogram: a bar a column of the Logs pane as last drawn.
        let bars = self.ui.scroll.panes[crate::ui::Pane::Logs as usize]
            .map_or(60, |r| usize::from(r.width.saturating_sub(2)));
        self.ui
            .logs
            .refresh_histogram(&self.store.logs, bars, crate::event::now_ms());
    }

    /// The frame's view of the store and ui state (after `prepare`).
    pub fn view(&self) -> View<'_> {
        debug_assert!(
            self.ui.tl.rows_fresh(&self.store.timeline),
            "prepare() before view()"
        );
        View {
            store: &self.store,
            ui: &self.ui,
            theme: &self.theme,
            read_only: self.read_only.as_deref(),
            instance: self.instance(),
            timeline_rows: self.ui.tl.rows.rows(),
            timeline_sel: self.selected_position(),
            log_len: self.log_len(),
            log_sel: self.log_view_index(),
            now_ms: self.clock_ms.unwrap_or_else(crate::event::now_ms),
            channel_rows: &self.ui.chans.rows,
        }
    }

    /// Draw a frame (after `prepare`) and keep the scroll offsets it used
    /// for the next one.
    pub fn draw(&mut self, f: &mut Frame) {
        self.ui.scroll = ui::draw(f, &self.view());
    }

    /// Positions (into the instance's entries) the timeline list shows.
    pub fn timeline_view(&self) -> Vec<usize> {
        self.ui.tl.rows_now(&self.store.timeline)
    }

    pub(super) fn refresh_timeline_rows(&mut self) {
        self.ui.tl.refresh(&self.store.timeline);
    }

    /// Entries of the Logs view that are shown.
    pub fn log_len(&self) -> usize {
        self.ui.logs.len(&self.store.logs)
    }

    /// View index of the selected log entry (None = following the end).
    pub fn log_view_index(&self) -> Option<usize> {
        self.ui.logs.view_index(&self.store.logs)
    }

    pub fn channel_rows(&self) -> usize {
        self.ui.chans.rows.len()
    }

    pub(super) fn refresh_channel_rows(&mut self) {
        self.ui.chans.refresh(&self.store);
    }

    /// The selected channel row (source index, name).
    pub fn selected_channel(&self) -> Option<&(usize, String)> {
        self.ui.chans.selected()
    }

    /// A log entry as one JSON object: time, source, level, kind, summary
    /// and its data (parsed when it is JSON, else kept as text).
    pub fn entry_json(&self, e: &LogEntry) -> serde_json::Value {
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
        if let Some(b) = &e.bytes {
            use base64::Engine;
            o["bytes"] = serde_json::json!({
                "len": b.len(),
                "base64": base64::engine::general_purpose::STANDARD.encode(b),
            });
        }
        o
    }
}
