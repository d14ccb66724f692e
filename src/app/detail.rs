//! The detail views: the selected timeline entry's Action / State / Diff
//! and an open log entry, as tree, diff and note lines. Each is rebuilt
//! only when what it shows changed.

use std::collections::HashSet;

use serde_json::Value;

use super::App;
use crate::sources::relay::model::RawJson;
use crate::store::timeline::{Entry, Instance};
use crate::ui::{DetailLine, DetailTab, DetailView, json};

/// Most tree rows built for one detail view.
const MAX_DETAIL_ROWS: usize = 20_000;

/// A detail's lines and the JSON behind them (for copying).
type Detail = (Vec<DetailLine>, Option<Value>);

impl App {
    pub(super) fn prepare_detail(&mut self) {
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
        let (lines, value) = match self.ui.tab {
            DetailTab::Action => action_detail(entry, &self.ui.collapsed),
            DetailTab::State => state_detail(entry, &self.ui.collapsed),
            DetailTab::Diff => diff_detail(inst, pos),
        };
        if self.ui.detail_sel >= lines.len() {
            self.ui.detail_sel = lines.len().saturating_sub(1);
        }
        self.ui.detail = DetailView {
            key: Some(key),
            lines,
            value,
        };
    }

    pub(super) fn prepare_log_detail(&mut self) {
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

fn parse(raw: &str) -> serde_json::Result<Value> {
    serde_json::from_str(raw)
}

fn note(text: impl Into<String>) -> Detail {
    (vec![DetailLine::Note(text.into())], None)
}

fn action_detail(entry: &Entry, collapsed: &HashSet<String>) -> Detail {
    match parse(&entry.action_raw) {
        Ok(v) => (tree_lines(&v, collapsed), Some(v)),
        Err(e) => note(format!("action is not JSON: {e}")),
    }
}

/// A state the store let go of to stay within its byte budget.
const DROPPED: &str = "state dropped: roomtap keeps its logs and states within --max-bytes and let \
     the oldest go (the action stays listed; u asks the app for a fresh STATE)";

fn state_detail(entry: &Entry, collapsed: &HashSet<String>) -> Detail {
    let Some(raw) = &entry.state_raw else {
        if entry.state_dropped {
            return note(DROPPED);
        }
        return note(
            "state unknown: the app was showing an earlier state when this action \
             arrived; roomtap asked it for a fresh STATE (u asks again)",
        );
    };
    match raw
        .text()
        .and_then(|t| parse(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => {
            let mut lines = Vec::new();
            if let Some(err) = &entry.error {
                lines.push(DetailLine::Note(format!("reducer error: {err}")));
            }
            lines.extend(tree_lines(&v, collapsed));
            (lines, Some(v))
        }
        Err(e) => note(format!("state is not JSON: {e}")),
    }
}

/// What changed from the previous entry's state to this one's.
fn diff_detail(inst: &Instance, pos: usize) -> Detail {
    let prev = pos
        .checked_sub(1)
        .and_then(|p| inst.entries.get(p))
        .and_then(|e| e.state_raw.as_ref());
    let (a, b) = match (prev, inst.entries[pos].state_raw.as_ref()) {
        (_, None) if inst.entries[pos].state_dropped => return note(DROPPED),
        (_, None) => return note("state unknown"),
        (None, Some(_)) => return note("no previous state to compare"),
        (Some(a), Some(b)) => (a, b),
    };
    let json_of = |raw: &RawJson| raw.text().ok().and_then(|t| parse(&t).ok());
    let (Some(a), Some(b)) = (json_of(a), json_of(b)) else {
        return note("state is not JSON");
    };
    let d = json::diff(&a, &b, MAX_DETAIL_ROWS);
    let mut lines = Vec::new();
    if d.is_empty() {
        lines.push(DetailLine::Note("no change".into()));
    }
    lines.extend(d.into_iter().map(DetailLine::Diff));
    (lines, Some(b))
}

fn tree_lines(v: &Value, collapsed: &HashSet<String>) -> Vec<DetailLine> {
    json::flatten(v, collapsed, MAX_DETAIL_ROWS)
        .into_iter()
        .map(DetailLine::Tree)
        .collect()
}
