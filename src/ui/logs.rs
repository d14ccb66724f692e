//! The Logs pane: the (filtered, maybe frozen) log view, the count of
//! entries that arrived since following stopped, and an open entry's
//! detail under the list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::keymap::{Action, Place};
use super::keys;
use super::lines::{self, Detail, highlighted};
use super::pane::{DetailState, Outcome, delta_of, step};
use super::{Pane, Scroll, View, scroll_offset};
use std::borrow::Cow;

use crate::store::logs::{LogEntry, Logs};
use crate::text::clock as fmt_time;
use crate::text::sanitize_capped;

/// The Logs pane's own state: what is selected (an entry, by sequence
/// number: new entries never move it), follow, freeze, and the open
/// entry's detail.
#[derive(Debug)]
pub struct LogsPane {
    pub follow: bool,
    /// Times are shown relative to the selected entry (`t`).
    pub relative: bool,
    /// The selected entry (by sequence number) when not following.
    pub sel: Option<u64>,
    /// `next_seq` when following stopped: entries after it are "new".
    pub paused_at: u64,
    /// Space froze the view at this sequence number: newer entries are
    /// kept (and counted) but not shown until Space again.
    pub frozen: Option<u64>,
    /// The selected entry's detail is open under the list (Enter).
    pub open: bool,
    pub detail: DetailState,
    /// Columns of every summary scrolled out of view on the left (`>`).
    pub shift: usize,
    /// A filter typed over logs too many to rescan at every key: applied
    /// once typing pauses ([`PENDING_PAUSE`]) or on Enter.
    pub pending: Option<PendingFilter>,
    /// The histogram above the list (`I`): shown, its bars, what they
    /// were counted from and when, and the bar `{` `}` chose.
    pub hist: bool,
    pub hist_bars: crate::store::logs::Histogram,
    pub hist_key: Option<HistKey>,
    pub hist_cursor: Option<usize>,
}

/// What a histogram was counted from: the filter, the entries (the next
/// sequence number and the evictions), a freeze, the bars' count.
#[derive(Debug, Clone, PartialEq)]
pub struct HistKey {
    pub filter: Option<String>,
    pub next_seq: u64,
    pub evicted: u64,
    pub frozen: Option<u64>,
    pub bars: usize,
    /// When (ms), to count a live stream again at most four times a second.
    pub at_ms: u64,
}

/// Rows the histogram takes above the list (bars, then a legend).
pub const HIST_ROWS: u16 = 4;

/// A filter waiting to be applied, and when (set at the first tick after
/// it was typed).
#[derive(Debug, Clone, Default)]
pub struct PendingFilter {
    pub query: Option<crate::query::Query>,
    pub due: Option<std::time::Instant>,
}

/// The pause in typing after which a pending filter applies.
pub const PENDING_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

impl LogsPane {
    /// Where its keys go.
    pub fn place(&self) -> Place {
        if self.open && self.detail.focus {
            Place::Detail
        } else {
            Place::List
        }
    }

    /// Entries of the view that are shown: all of it, or up to where Space
    /// froze it.
    pub fn len(&self, logs: &Logs) -> usize {
        match self.frozen {
            Some(at) => logs.view_len() - logs.view_count_since(at),
            None => logs.view_len(),
        }
    }

    /// View index of the selected entry (None = following the end).
    pub fn view_index(&self, logs: &Logs) -> Option<usize> {
        let seq = self.sel?;
        let at = logs.view_index_of(seq);
        Some(at.min(logs.view_len().saturating_sub(1)))
    }

    /// The pane's keys: movement (in the list, or in the open detail when
    /// it has the keys), Enter (open the entry, or fold in its detail),
    /// End/F (follow), Space (freeze), `t` (relative times), Tab-less
    /// detail focus (`o`), Esc (close the detail).
    pub fn act(&mut self, a: &Action, logs: &Logs) -> Outcome {
        if self.open && self.detail.focus && self.detail.act(a) {
            return Outcome::Done;
        }
        if let Some(d) = delta_of(a) {
            self.move_by(d, logs);
            return Outcome::Done;
        }
        match a {
            Action::Histogram => {
                self.hist = !self.hist;
                self.hist_cursor = None;
                return Outcome::Say(
                    if self.hist {
                        "histogram on: { } the previous / next bar, I off"
                    } else {
                        "histogram off"
                    }
                    .into(),
                );
            }
            Action::HistPrev | Action::HistNext if self.hist => {
                let bars = &self.hist_bars.bars;
                let n = bars.len();
                // From the chosen bar; with none yet, from either end.
                let next = match (self.hist_cursor, *a == Action::HistNext) {
                    (Some(c), true) => (c + 1..n).find(|&i| bars[i].first.is_some()),
                    (None, true) => (0..n).find(|&i| bars[i].first.is_some()),
                    (Some(c), false) => (0..c.min(n)).rev().find(|&i| bars[i].first.is_some()),
                    (None, false) => (0..n).rev().find(|&i| bars[i].first.is_some()),
                };
                if let Some(i) = next {
                    self.pick_bar(i, logs);
                }
                return Outcome::Done;
            }
            Action::HistBar(i) if self.hist => {
                if self
                    .hist_bars
                    .bars
                    .get(*i)
                    .is_some_and(|b| b.first.is_some())
                {
                    self.pick_bar(*i, logs);
                }
                return Outcome::Done;
            }
            _ => {}
        }
        if let Action::Row(row) = a {
            let len = self.len(logs);
            if len > 0 {
                let cur = self.view_index(logs).unwrap_or(len - 1).min(len - 1);
                self.move_by(*row.min(&(len - 1)) as i64 - cur as i64, logs);
            }
            return Outcome::Done;
        }
        match a {
            Action::Bottom | Action::Follow => {
                self.frozen = None;
                self.follow = true;
                self.sel = None;
            }
            Action::Activate => self.toggle_open(logs),
            Action::ToggleDetailFocus if self.open => self.detail.focus = !self.detail.focus,
            Action::Escape if self.open => {
                self.open = false;
                self.detail.focus = false;
            }
            Action::Freeze => return Outcome::Say(self.freeze(logs).into()),
            Action::ShiftRight => self.shift = (self.shift + SHIFT).min(MAX_SHIFT),
            Action::ShiftLeft => self.shift = self.shift.saturating_sub(SHIFT),
            Action::RelativeTime => {
                self.relative = !self.relative;
                return Outcome::Say(
                    if self.relative {
                        "Logs: times relative to the selected entry (t: clock times)"
                    } else {
                        "Logs: clock times (t: relative to the selected entry)"
                    }
                    .into(),
                );
            }
            _ => return Outcome::Pass,
        }
        Outcome::Done
    }

    fn move_by(&mut self, delta: i64, logs: &Logs) {
        let len = self.len(logs);
        if len == 0 {
            return;
        }
        let cur = self.view_index(logs).unwrap_or(len - 1).min(len - 1);
        let next = step(cur, delta, len);
        if self.follow {
            self.paused_at = logs.next_seq();
        }
        self.follow = false;
        self.sel = logs.view_seq(next);
        self.detail.sel = 0;
        if delta > 0 && next + 1 == len && self.frozen.is_none() {
            self.follow = true;
            self.sel = None;
        }
    }

    /// The histogram's bar `i` chosen: its first entry selected.
    fn pick_bar(&mut self, i: usize, logs: &Logs) {
        let Some(first) = self.hist_bars.bars.get(i).and_then(|b| b.first) else {
            return;
        };
        if self.follow {
            self.paused_at = logs.next_seq();
        }
        self.follow = false;
        self.hist_cursor = Some(i);
        self.sel = Some(first);
        self.detail.sel = 0;
    }

    /// Count the histogram again if what it shows changed: at once for a
    /// new filter, freeze or width, at most every 250 ms for new entries.
    pub fn refresh_histogram(&mut self, logs: &Logs, bars: usize, now_ms: u64) {
        if !self.hist {
            return;
        }
        let key = HistKey {
            filter: logs.filter().map(str::to_string),
            next_seq: logs.next_seq(),
            evicted: logs.evicted(),
            frozen: self.frozen,
            bars,
            at_ms: now_ms,
        };
        if let Some(old) = &self.hist_key {
            let same_view =
                old.filter == key.filter && old.frozen == key.frozen && old.bars == key.bars;
            let same_entries = old.next_seq == key.next_seq && old.evicted == key.evicted;
            if same_view && (same_entries || now_ms < old.at_ms + 250) {
                return;
            }
            if !same_view {
                self.hist_cursor = None;
            }
        }
        let new = logs.histogram(bars, self.frozen);
        // Bars of another time: the chosen one is not there any more.
        if (new.t0, new.dt) != (self.hist_bars.t0, self.hist_bars.dt) {
            self.hist_cursor = None;
        }
        self.hist_bars = new;
        self.hist_key = Some(key);
    }

    /// Select the last entry the view shows.
    fn pin(&mut self, logs: &Logs) {
        self.sel = self.len(logs).checked_sub(1).and_then(|i| logs.view_seq(i));
    }

    fn toggle_open(&mut self, logs: &Logs) {
        if logs.view_len() == 0 {
            return;
        }
        // Opening the detail pins the selection to what is shown.
        if self.sel.is_none() {
            self.pin(logs);
            if self.follow {
                self.paused_at = logs.next_seq();
            }
            self.follow = false;
        }
        self.open = !self.open;
        self.detail.focus = self.open;
        self.detail.sel = 0;
    }

    fn freeze(&mut self, logs: &Logs) -> &'static str {
        match self.frozen.take() {
            Some(_) => {
                self.follow = true;
                self.sel = None;
                "live again"
            }
            None => {
                let at = logs.next_seq();
                self.frozen = Some(at);
                if self.follow {
                    self.paused_at = at;
                    self.follow = false;
                    self.pin(logs);
                }
                "frozen: new entries are kept and counted; Space shows them"
            }
        }
    }
}

/// Columns `>` and `<` scroll the summaries by, and how far they go.
const SHIFT: usize = 16;
const MAX_SHIFT: usize = 4096;

impl Default for LogsPane {
    fn default() -> Self {
        Self {
            follow: true,
            relative: false,
            sel: None,
            paused_at: 0,
            frozen: None,
            open: false,
            detail: DetailState::default(),
            shift: 0,
            pending: None,
            hist: false,
            hist_bars: Default::default(),
            hist_key: None,
            hist_cursor: None,
        }
    }
}

pub fn title(v: &View) -> lines::Title {
    let logs = &v.store.logs;
    let mut s = lines::Title::new(Pane::Logs.title()).part(logs.len().to_string(), 2);
    if let Some(flt) = logs.filter() {
        let n = logs.view_len();
        s = s
            .cut(format!("/{}", sanitize_capped(flt, 40)))
            .keep(format!("{n} {}", if n == 1 { "match" } else { "matches" }));
    }
    if logs.evicted() > 0 {
        s = s.part(format!("{} evicted", logs.evicted()), 1);
    }
    // A recording being opened: how far it is.
    if let Some(l) = v
        .store
        .sources
        .iter()
        .filter(|s| s.kind == crate::source::kind::SourceKind::RECORDING)
        .find_map(|s| s.facts.iter().find(|(k, _)| k == "loading"))
    {
        s = s.keep(format!("loading {}", sanitize_capped(&l.1, 40)));
    }
    if v.ui.logs.shift > 0 {
        s = s.keep(format!(
            "→{} ({} back)",
            v.ui.logs.shift,
            keys::name(&Action::ShiftLeft)
        ));
    }
    s = s.keep(if v.ui.logs.frozen.is_some() {
        "FROZEN"
    } else if v.ui.logs.follow {
        "follow"
    } else {
        "paused"
    });
    // The zone, once, here.
    if v.ui.logs.relative {
        s.part("times relative", 3)
    } else {
        s.part(crate::text::zone_name(v.now_ms), 3)
    }
}

/// How a row's time is written: relative to `base` (`t`), with the date
/// when the view spans days, or the clock time.
#[derive(Clone, Copy)]
enum TimeStyle {
    Clock,
    Dated,
    Relative(u64),
}

fn fmt_row_time(ms: u64, style: TimeStyle) -> String {
    match style {
        TimeStyle::Clock => fmt_time(ms),
        TimeStyle::Dated => format!("{} {}", crate::text::date(ms), fmt_time(ms)),
        TimeStyle::Relative(base) => {
            let (sign, d) = if ms >= base {
                ('+', ms - base)
            } else {
                ('-', base - ms)
            };
            format!("{sign}{:>10.3}s", d as f64 / 1000.0)
        }
    }
}

pub fn draw(f: &mut Frame, v: &View, area: Rect, scroll: &mut Scroll) {
    // The histogram above the list, when asked for and there is room.
    let area = if v.ui.logs.hist && area.height >= HIST_ROWS + 6 {
        let [hist, rest] =
            Layout::vertical([Constraint::Length(HIST_ROWS), Constraint::Min(3)]).areas(area);
        draw_histogram(f, v, hist, scroll);
        rest
    } else {
        area
    };
    let area = if v.ui.logs.open {
        let [list, detail] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Min(3)]).areas(area);
        scroll.log_detail = draw_detail(f, v, detail);
        list
    } else {
        area
    };
    let t = v.theme;
    let logs = &v.store.logs;
    let len = v.log_len;
    let mut height = area.height as usize;
    // Entries that arrived since following stopped (and still match).
    let new_count = if v.ui.logs.follow {
        0
    } else {
        logs.view_count_since(v.ui.logs.paused_at)
    };
    if new_count > 0 {
        height = height.saturating_sub(1);
    }
    if len == 0 {
        let msg = if logs.filter().is_some() {
            "no entry matches the filter"
        } else {
            "waiting for events…"
        };
        f.render_widget(Paragraph::new(Span::styled(msg, t.dim)), area);
        return;
    }
    let sel = v.log_sel.unwrap_or(len - 1);
    let off = scroll_offset(scroll.logs, sel, height, len);
    scroll.logs = off;
    // A row that does not fit ends with … (the summary is what is cut).
    let lines = lines::fit_width(rows(v, off..(off + height).min(len), sel), area.width);
    let [list, footer] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length((new_count > 0) as u16),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(lines), list);
    scroll.rows[Pane::Logs as usize] = Some((list, off));
    if new_count > 0 {
        let how = if v.ui.logs.frozen.is_some() {
            "Space to unfreeze"
        } else {
            "f or End to follow"
        };
        f.render_widget(
            Paragraph::new(Span::styled(
                format!(" {new_count} new ↓  ({how})"),
                t.notice,
            )),
            footer,
        );
    }
}

/// The lines of view rows `range`, `sel` marked.
fn rows<'a>(v: &View<'a>, range: std::ops::Range<usize>, sel: usize) -> Vec<Line<'a>> {
    let t = v.theme;
    let logs = &v.store.logs;
    let mut lines = Vec::with_capacity(range.len());
    // As wide as the longest source label (labels are short: 4..10).
    let src_w = v
        .store
        .sources
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(4, 10);
    let style = if v.ui.logs.relative {
        let n = logs.view_len();
        let base = logs
            .view_seq(sel.min(n.saturating_sub(1)))
            .and_then(|seq| logs.meta_of(seq))
            .map_or(0, |m| m.0);
        TimeStyle::Relative(base)
    } else {
        let at = |i: usize| {
            logs.view_seq(i)
                .and_then(|seq| logs.meta_of(seq))
                .map(|m| m.0)
        };
        let first = at(0);
        let last = logs.view_len().checked_sub(1).and_then(at);
        match (first, last) {
            (Some(a), Some(b)) if crate::text::day_of(a) != crate::text::day_of(b) => {
                TimeStyle::Dated
            }
            _ => TimeStyle::Clock,
        }
    };
    // The kind column: as wide as the longest kind in view, 8 to 24.
    // The rows' entries, a sealed one made whole (once).
    let rows: Vec<(usize, Cow<'_, LogEntry>)> =
        range.map_while(|i| Some((i, logs.view_get(i)?))).collect();
    let kind_w = rows
        .iter()
        .map(|(_, e)| e.kind.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 24);
    for (i, e) in &rows {
        let i = *i;
        let src = v
            .store
            .sources
            .get(e.source as usize)
            .map(|s| s.label.as_str())
            .unwrap_or("?");
        let mut spans = vec![
            Span::styled(fmt_row_time(e.at_ms, style), t.dim),
            Span::raw(" "),
            Span::styled(format!("{src:<src_w$.src_w$}"), t.key),
            Span::raw(" "),
            Span::styled(format!("{:<5}", e.level.label()), t.level(e.level)),
            Span::raw(" "),
            Span::styled(format!("{:<kind_w$.kind_w$}", e.kind), t.title),
            Span::raw(" "),
        ];
        let summary = match e {
            Cow::Borrowed(e) => highlighted(&e.summary, logs.query(), t.base, t.highlight),
            // A sealed entry's text lives only as long as this draw.
            Cow::Owned(e) => highlighted(&e.summary, logs.query(), t.base, t.highlight)
                .into_iter()
                .map(|s| Span::styled(s.content.into_owned(), s.style))
                .collect(),
        };
        if v.ui.logs.shift > 0 {
            spans.push(Span::styled("…", t.dim));
            spans.extend(skip_columns(summary, v.ui.logs.shift + 1));
        } else {
            spans.extend(summary);
        }
        let mut line = Line::from(spans);
        if !v.ui.logs.follow && i == sel && v.ui.focus == Pane::Logs {
            // The bar's colours for every cell: a span's own colour (the
            // source's, a level's) would vanish into the bar; matches stay
            // marked by reverse video.
            for sp in &mut line.spans {
                let hit = sp.style == t.highlight;
                sp.style = if hit {
                    t.selected.add_modifier(ratatui::style::Modifier::REVERSED)
                } else {
                    t.selected
                };
            }
            line = line.style(t.selected);
        }
        lines.push(line);
    }
    lines
}

/// `spans` without their first `n` characters (a summary scrolled
/// sideways).
fn skip_columns(spans: Vec<Span<'_>>, mut n: usize) -> Vec<Span<'_>> {
    let mut out = Vec::with_capacity(spans.len());
    for sp in spans {
        if n == 0 {
            out.push(sp);
            continue;
        }
        let len = sp.content.chars().count();
        if len <= n {
            n -= len;
            continue;
        }
        let rest: String = sp.content.chars().skip(n).collect();
        n = 0;
        out.push(Span::styled(rest, sp.style));
    }
    out
}

/// The selected log entry as a collapsible tree, under the list; returns
/// the scroll offset used.
/// The histogram: a bar a column, its height the entries in its time, its
/// colour the most severe level among them; the bar `{` `}` chose in the
/// selection's colours; under it the span, a bar's length and the counts.
fn draw_histogram(f: &mut Frame, v: &View, area: Rect, scroll: &mut Scroll) {
    use ratatui::widgets::{Sparkline, SparklineBar};
    let t = v.theme;
    let h = &v.ui.logs.hist_bars;
    let [bars_area, legend] =
        Layout::vertical([Constraint::Length(HIST_ROWS - 1), Constraint::Length(1)]).areas(area);
    if h.bars.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("histogram: no entries in view", t.dim)),
            legend,
        );
        return;
    }
    let data: Vec<SparklineBar> = h
        .bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let style = if v.ui.logs.hist_cursor == Some(i) {
                t.selected
            } else {
                b.worst().map_or(t.dim, |l| t.level(l))
            };
            SparklineBar::from(b.total()).style(style)
        })
        .collect();
    f.render_widget(Sparkline::default().data(data), bars_area);
    scroll.hist = Some(Rect {
        width: (h.bars.len() as u16).min(bars_area.width),
        ..bars_area
    });
    let count = |l: crate::event::Level| -> u64 {
        h.bars.iter().map(|b| u64::from(b.counts[l as usize])).sum()
    };
    let span = |ms: u64| crate::text::clock(ms);
    let end = h.t0 + h.dt * h.bars.len() as u64;
    let mut parts = vec![
        Span::styled(format!("{} – {}", span(h.t0), span(end)), t.dim),
        Span::styled(format!(" · {} a bar", duration(h.dt)), t.dim),
    ];
    for (l, label) in [
        (crate::event::Level::Error, "error"),
        (crate::event::Level::Warn, "warn"),
    ] {
        let n = count(l);
        if n > 0 {
            parts.push(Span::raw(" · "));
            parts.push(Span::styled(format!("{label} {n}"), t.level(l)));
        }
    }
    if let Some(b) =
        v.ui.logs
            .hist_cursor
            .and_then(|i| h.bars.get(i).map(|b| (i, b)))
    {
        let (i, b) = b;
        parts.push(Span::styled(
            format!(
                " · bar {} from {}: {} entries",
                i + 1,
                span(h.t0 + h.dt * i as u64),
                b.total()
            ),
            t.key,
        ));
    }
    f.render_widget(
        Paragraph::new(lines::fit_width(vec![Line::from(parts)], legend.width)),
        legend,
    );
}

/// A bar's length as people say it: `250 ms`, `5 s`, `1 min`, `6 h`.
fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{} s", ms / 1_000),
        60_000..3_600_000 => format!("{} min", ms / 60_000),
        _ => format!("{} h", ms / 3_600_000),
    }
}

fn draw_detail(f: &mut Frame, v: &View, area: Rect) -> usize {
    // The entry shown: the selected one, or the newest when following.
    let shown = v.ui.logs.sel.or(v.ui.logs.detail.view.key.map(|k| k.1));
    let title = match shown {
        Some(seq) => format!(
            " entry #{seq}{} · {} fold · {} copy value · {} copy path · {} list/detail · {} close",
            if v.ui.logs.sel.is_none() {
                " (the newest)"
            } else {
                ""
            },
            keys::name(&Action::Activate),
            keys::name(&Action::Copy),
            keys::name(&Action::CopyPath),
            keys::name(&Action::ToggleDetailFocus),
            keys::name(&Action::Escape),
        ),
        None => " entry".to_string(),
    };
    let detail = Detail {
        lines: &v.ui.logs.detail.view.lines,
        sel: v.ui.logs.detail.sel,
        offset: v.ui.scroll.log_detail,
        focus: v.ui.focus == Pane::Logs && v.ui.logs.detail.focus,
    };
    let head = vec![Span::styled(title, v.theme.dim)];
    lines::draw_detail(f, v.theme, area, head, &detail)
}
