//! What a frame needs: `prepare` brings the caches up to date (the
//! filtered timeline list, the detail views), `view` hands them to the
//! ui with the store, and `draw` keeps the scroll offsets the frame used.

use ratatui::Frame;

use super::App;
use crate::event::SourceId;
use crate::store::logs::LogEntry;
use crate::store::timeline::EntryRecord;
use crate::ui::{self, View};

/// What the filtered timeline list depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TimelineKey {
    inst: usize,
    source: SourceId,
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
pub(super) struct TimelineRows {
    key: Option<TimelineKey>,
    rows: Vec<usize>,
}

impl TimelineRows {
    pub(super) fn rows(&self) -> &[usize] {
        &self.rows
    }
}

impl App {
    /// Bring view caches up to date before a frame (each is rebuilt only
    /// when its inputs changed).
    pub fn prepare(&mut self) {
        self.refresh_timeline_rows();
        self.refresh_channel_rows();
        self.prepare_log_detail();
        self.prepare_detail();
        self.prepare_chan_detail();
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
            channel_rows: &self.chan_rows,
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
    pub(super) fn refresh_timeline_rows(&mut self) {
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

    /// Entries of the Logs view that are shown: all of it, or up to where
    /// Space froze it.
    pub fn log_len(&self) -> usize {
        let logs = &self.store.logs;
        match self.ui.log_frozen {
            Some(at) => logs.view_len() - logs.view_count_since(at),
            None => logs.view_len(),
        }
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

    pub fn channel_rows(&self) -> usize {
        self.chan_rows.len()
    }

    /// The Channels pane's rows: every source's channels the filter keeps;
    /// rebuilt only when an event was applied or the filter changed.
    pub(super) fn refresh_channel_rows(&mut self) {
        let q = self.ui.chan_filter.as_ref();
        let key = (
            self.store.events,
            self.store.sources.len(),
            q.map(|q| q.source.clone()),
            q.is_some_and(|q| q.case_sensitive),
        );
        if self.chan_rows_key.as_ref() == Some(&key) {
            return;
        }
        self.chan_rows_key = Some(key);
        self.chan_rows.clear();
        // The selection is a channel, not a row: find it again below.
        for (si, s) in self.store.sources.iter().enumerate() {
            for (name, ch) in &s.channels {
                let keep = q.is_none_or(|q| {
                    q.matches(&crate::store::channels::ChannelRecord::new(
                        &s.label, name, ch,
                    ))
                });
                if keep {
                    self.chan_rows.push((si, name.clone()));
                }
            }
        }
        self.sync_chan_sel();
    }

    /// `chan_sel` where `chan_pick` is now; the pick is the row at
    /// `chan_sel` when there is none yet, or when it is gone (filtered out,
    /// its source gone).
    fn sync_chan_sel(&mut self) {
        let found = self
            .ui
            .chan_pick
            .as_ref()
            .and_then(|p| self.chan_rows.iter().position(|r| r == p));
        match found {
            Some(i) => self.ui.chan_sel = i,
            None => {
                let n = self.chan_rows.len();
                self.ui.chan_sel = self.ui.chan_sel.min(n.saturating_sub(1));
                self.ui.chan_pick = self.chan_rows.get(self.ui.chan_sel).cloned();
            }
        }
    }

    /// Select the channel row at `i` (clamped).
    pub(super) fn pick_channel_row(&mut self, i: usize) {
        let n = self.chan_rows.len();
        self.ui.chan_sel = i.min(n.saturating_sub(1));
        self.ui.chan_pick = self.chan_rows.get(self.ui.chan_sel).cloned();
    }

    /// The selected channel row (source index, name).
    pub fn selected_channel(&self) -> Option<&(usize, String)> {
        let n = self.chan_rows.len();
        self.chan_rows.get(self.ui.chan_sel.min(n.checked_sub(1)?))
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
