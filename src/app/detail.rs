//! The detail views: the selected timeline entry's Action / State / Diff
//! and an open log entry, as tree, diff and note lines. Each is rebuilt
//! only when what it shows changed.

use std::collections::HashSet;

use serde_json::Value;

use super::App;
use crate::protocols::redux::wire::model::RawJson;
use crate::store::timeline::{Entry, Instance};
use crate::ui::{DetailLine, DetailTab, DetailView, json};

/// Most bytes of an entry shown as hex + ASCII (copy and export keep all).
const HEX_SHOWN: usize = 16 << 10;

/// Most tree rows built for one detail view.
const MAX_DETAIL_ROWS: usize = 20_000;

/// A detail's lines and the JSON behind them (for copying).
type Detail = (Vec<DetailLine>, Option<Value>);

impl App {
    pub(super) fn prepare_detail(&mut self) {
        let Some(pos) = self.selected_position() else {
            self.ui.tl.detail.clear();
            return;
        };
        let Some(inst) = self.instance() else { return };
        let entry = &inst.entries[pos];
        let key = (
            self.ui.tl.inst,
            entry.id,
            self.ui.tl.tab,
            inst.rev,
            self.ui.tl.detail.folds,
        );
        if self.ui.tl.detail.view.key == Some(key) {
            return;
        }
        let (lines, value) = match self.ui.tl.tab {
            DetailTab::Action => {
                // The action, then the frame(s) it came in.
                let (mut lines, value) = action_detail(entry, &self.ui.tl.detail.collapsed);
                raw_lines(
                    &mut lines,
                    &self.store.raw,
                    inst.source,
                    entry.log_seq,
                    false,
                );
                (lines, value)
            }
            DetailTab::State => state_detail(entry, &self.ui.tl.detail.collapsed),
            DetailTab::Diff => diff_detail(inst, pos),
        };
        self.ui.tl.detail.set(DetailView {
            key: Some(key),
            lines,
            value,
            ids: Vec::new(),
        });
    }

    pub(super) fn prepare_log_detail(&mut self) {
        if !self.ui.logs.open {
            return;
        }
        // Following: the newest entry of the view is the one shown.
        let followed = || {
            let n = self.store.logs.view_len();
            n.checked_sub(1)
                .and_then(|i| self.store.logs.view_get(i))
                .map(|e| e.seq)
        };
        let Some(seq) = self.ui.logs.sel.or_else(followed) else {
            let why = if self.store.logs.filter().is_some() {
                "no entry matches the filter (Esc clears it)"
            } else {
                "no entry yet"
            };
            self.ui.logs.detail.view = DetailView {
                lines: vec![DetailLine::Note(why.into())],
                ..DetailView::default()
            };
            return;
        };
        let key = (0, seq, DetailTab::Action, 0, self.ui.logs.detail.folds);
        if self.ui.logs.detail.view.key == Some(key) {
            return;
        }
        let Some(e) = self.store.logs.by_seq(seq) else {
            self.ui.logs.detail.view = DetailView {
                key: Some(key),
                lines: vec![DetailLine::Note("this entry was evicted".into())],
                value: None,
                ids: Vec::new(),
            };
            return;
        };
        let v = self.entry_json(&e);
        let mut shown = v.clone();
        if let Some(o) = shown.as_object_mut() {
            o.remove("bytes");
        }
        let mut lines = tree_lines(&shown, &self.ui.logs.detail.collapsed);
        if let Some(b) = &e.bytes {
            lines.push(DetailLine::Head(format!("── bytes ({}) ──", b.len())));
            lines.extend(
                crate::text::hex_dump(b, HEX_SHOWN)
                    .into_iter()
                    .map(DetailLine::Text),
            );
        }
        raw_lines(&mut lines, &self.store.raw, e.source, e.seq, true);
        self.ui.logs.detail.set(DetailView {
            key: Some(key),
            lines,
            value: Some(v),
            ids: Vec::new(),
        });
    }
}

impl App {
    /// The selected channel's detail: facts, the state tree, the history
    /// of updates with their diffs (newest first). Rebuilt only when the
    /// selection, the channel or the folding changed.
    pub(super) fn prepare_chan_detail(&mut self) {
        let Some((si, name)) = self.selected_channel().cloned() else {
            self.ui.chans.key = None;
            self.ui.chans.detail.clear();
            return;
        };
        let Some(live) = self.store.sources[si]
            .channels
            .get(&name)
            .and_then(|c| c.live.as_deref())
        else {
            self.ui.chans.key = None;
            self.ui.chans.detail.clear();
            return;
        };
        let key = (si, name.clone(), live.rev, self.ui.chans.detail.folds);
        if self.ui.chans.key.as_ref() == Some(&key) {
            return;
        }
        let events = &self.store.sources[si].channels[&name].events;
        let ((lines, value), ids) = channel_lines(live, events, &self.ui.chans.detail.collapsed);
        // The cursor stays on what it was on (a state path, a line of an
        // update) when the same channel's detail is rebuilt: newer updates
        // come in above it.
        let same = self
            .ui
            .chans
            .key
            .as_ref()
            .is_some_and(|(s, n, ..)| *s == si && *n == name);
        let view = DetailView {
            key: None,
            lines,
            value,
            ids,
        };
        if same {
            self.ui.chans.detail.update(view);
        } else {
            self.ui.chans.detail.set(view);
        }
        self.ui.chans.key = Some(key);
    }
}

/// Updates of the history drawn with their diff rows (the newest).
const HISTORY_SHOWN: usize = 64;
/// Diff rows drawn per update.
const DIFF_ROWS: usize = 40;

fn channel_lines(
    live: &crate::store::channels::LiveChannel,
    events: &[String],
    collapsed: &HashSet<String>,
) -> (Detail, Vec<String>) {
    use crate::store::channels::Availability;
    let mut lines = Vec::new();
    // What each line is (see `DetailView::ids`), pushed beside it.
    let mut ids: Vec<String> = Vec::new();
    let id_heads = |lines: &Vec<DetailLine>, ids: &mut Vec<String>, what: &str| {
        while ids.len() < lines.len() {
            let k = ids.len();
            ids.push(format!("{what}{k}"));
        }
    };
    let mut facts: Vec<String> = vec![match &live.availability {
        Availability::Unavailable(why) => format!("unavailable: {why}"),
        a => a.label().to_string(),
    }];
    facts.extend(live.facts.iter().map(|(k, v)| format!("{k} {v}")));
    if !events.is_empty() {
        facts.push(format!("events {}", events.join(", ")));
    }
    lines.push(DetailLine::Head(facts.join(" · ")));
    if let Some(ts) = &live.token_state {
        lines.push(DetailLine::Head(format!(
            "token state ({} update{}): {ts}",
            live.token_updates,
            if live.token_updates == 1 { "" } else { "s" }
        )));
    }
    let current = live.state().and_then(|s| parse(s).ok());
    lines.push(DetailLine::Head("── state ──".into()));
    id_heads(&lines, &mut ids, "head:");
    match &current {
        Some(v) => {
            for l in tree_lines(v, collapsed) {
                ids.push(match &l {
                    DetailLine::Tree(r) => format!("state:{}", r.path),
                    _ => format!("state#{}", ids.len()),
                });
                lines.push(l);
            }
        }
        None if live.state().is_some() => {
            lines.push(DetailLine::Note("the current state is not JSON".into()))
        }
        None => lines.push(DetailLine::Note("no state yet".into())),
    }
    id_heads(&lines, &mut ids, "state#");
    let n = live.history.len();
    ids.push("history".into());
    lines.push(DetailLine::Head(format!(
        "── history: {} update{}, newest first{} ──",
        live.updates,
        if live.updates == 1 { "" } else { "s" },
        match live.dropped() {
            0 => String::new(),
            d => format!(" ({d} oldest no longer kept)"),
        }
    )));
    for i in (0..n).rev().take(HISTORY_SHOWN) {
        let c = &live.history[i];
        // An update's lines are named by its number, which never changes.
        let number = live.updates - (n - 1 - i) as u64;
        let start = lines.len();
        let mut head = format!(
            "{}  #{}  +{} -{} ~{}",
            crate::text::clock(c.at_ms),
            live.updates - (n - 1 - i) as u64,
            c.added,
            c.removed,
            c.changed
        );
        if c.first {
            head = format!("{}  #1  first state", crate::text::clock(c.at_ms));
        }
        lines.push(DetailLine::Head(head));
        if c.invalid {
            lines.push(DetailLine::Note(format!(
                "not JSON: {}",
                crate::text::sanitize_capped(&c.state, 120)
            )));
            ids.push(format!("update:{number}:0"));
            ids.push(format!("update:{number}:1"));
            continue;
        }
        let prev = i.checked_sub(1).map(|p| &live.history[p]);
        let (Some(prev), Ok(new)) = (prev, parse(&c.state)) else {
            ids.push(format!("update:{number}:0"));
            continue;
        };
        let Ok(old) = parse(&prev.state) else {
            ids.push(format!("update:{number}:0"));
            continue;
        };
        let d = json::diff(&old, &new, DIFF_ROWS);
        if d.is_empty() {
            lines.push(DetailLine::Note("no change".into()));
        }
        lines.extend(d.into_iter().map(DetailLine::Diff));
        for k in 0..lines.len() - start {
            ids.push(format!("update:{number}:{k}"));
        }
    }
    if n > HISTORY_SHOWN {
        lines.push(DetailLine::Head(format!(
            "… {} older updates kept (y copies the state)",
            n - HISTORY_SHOWN
        )));
    }
    id_heads(&lines, &mut ids, "tail:");
    debug_assert_eq!(ids.len(), lines.len());
    ((lines, current), ids)
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

/// Rows of a frame's text shown (each cut into rows of [`RAW_ROW`]).
const RAW_ROWS: usize = 400;
const RAW_ROW: usize = 100;

/// The frame(s) entry `seq` of `source` came from, as they went over the
/// wire: their direction and size, then the text (sanitised, in rows) or
/// hex and ASCII; or, if `say_none`, why there is none.
fn raw_lines(
    lines: &mut Vec<DetailLine>,
    raw: &crate::store::raw::RawFrames,
    source: crate::event::SourceId,
    seq: u64,
    say_none: bool,
) {
    if raw.cap() == 0 {
        return;
    }
    let frames = raw.of(source, seq);
    if frames.is_empty() {
        if !say_none {
            return;
        }
        lines.push(DetailLine::Head("── frame ──".into()));
        lines.push(DetailLine::Note(format!(
            "no frame kept for it: not from one, or older than the last {} (--keep-raw)",
            raw.cap()
        )));
        return;
    }
    for k in frames {
        let f = &k.frame;
        let b = f.bytes.as_deref().unwrap_or_default();
        let cut = if b.len() < f.len {
            format!(", the first {} shown", b.len())
        } else {
            String::new()
        };
        lines.push(DetailLine::Head(format!(
            "── frame {} at {} · {} B {}{cut} ──",
            if f.out { "sent" } else { "received" },
            crate::text::clock(k.at_ms),
            f.len,
            if f.text { "text" } else { "binary" },
        )));
        if f.text {
            // Each line sanitised, cut into rows; at most RAW_ROWS of them.
            let text = String::from_utf8_lossy(b);
            let mut rows = text.lines().flat_map(|line| {
                let chars: Vec<char> = crate::text::sanitize(line).chars().collect();
                chars
                    .chunks(RAW_ROW)
                    .map(|c| c.iter().collect::<String>())
                    .collect::<Vec<_>>()
            });
            lines.extend(rows.by_ref().take(RAW_ROWS).map(DetailLine::Text));
            if rows.next().is_some() {
                lines.push(DetailLine::Note("… (cut)".into()));
            }
        } else {
            lines.extend(
                crate::text::hex_dump(b, HEX_SHOWN)
                    .into_iter()
                    .map(DetailLine::Text),
            );
        }
    }
}
