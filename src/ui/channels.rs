//! The Channels pane: every source's channels, one row each (availability,
//! type, state updates, messages and their rate), and under the list the
//! selected stateful channel's detail: its facts, the current state as a
//! collapsible tree and its history of state updates, each with its diff
//! against the state before it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::keymap::Action;
use super::keys;
use super::lines::{self, Detail};
use super::pane::{DetailState, Outcome, delta_of, step};
use super::table::{self, Column};
use super::{Pane, Scroll, View, scroll_offset};
use crate::store::ChannelInfo;
use crate::store::channels::Availability;
use crate::text::clock as fmt_time;
use crate::text::{sanitize, sanitize_capped};
use ratatui::style::Style;

/// The Channels pane's own state: its rows (every source's channels its
/// filter keeps), the selected channel by identity (source, name: new rows
/// above it never change which one), and its detail.
#[derive(Debug, Default)]
pub struct ChannelsPane {
    /// (source index, channel name), as listed.
    pub rows: Vec<(usize, String)>,
    /// What `rows` was built from: events applied, sources, the filter and
    /// its case.
    pub rows_key: Option<(u64, usize, Option<String>, bool)>,
    /// The selected channel's row in `rows` (kept in step with `pick`
    /// whenever the rows are rebuilt).
    pub sel: usize,
    /// The selected channel itself.
    pub pick: Option<(usize, String)>,
    /// The pane's `/` filter.
    pub filter: Option<crate::query::Query>,
    /// The selected channel's detail (state tree, history of diffs).
    pub detail: DetailState,
    /// What the detail was built from (source, channel, its rev, folding).
    pub key: Option<(usize, String, u64, u64)>,
}

impl ChannelsPane {
    /// Where its keys go.
    pub fn place(&self) -> super::keymap::Place {
        use super::keymap::Place;
        if self.detail.focus {
            Place::Detail
        } else {
            Place::List
        }
    }

    /// The rows: every source's channels the filter keeps; rebuilt only
    /// when an event was applied or the filter changed. The selection is a
    /// channel, not a row: it is found again.
    pub fn refresh(&mut self, store: &crate::store::Store) {
        let q = self.filter.as_ref();
        let key = (
            store.events,
            store.sources.len(),
            q.map(|q| q.source.clone()),
            q.is_some_and(|q| q.case_sensitive),
        );
        if self.rows_key.as_ref() == Some(&key) {
            return;
        }
        self.rows_key = Some(key);
        self.rows.clear();
        for (si, s) in store.sources.iter().enumerate() {
            for (name, ch) in &s.channels {
                let keep = q.is_none_or(|q| {
                    q.matches(&crate::store::channels::ChannelRecord::new(
                        &s.label, name, ch,
                    ))
                });
                if keep {
                    self.rows.push((si, name.clone()));
                }
            }
        }
        // `sel` where `pick` is now; the pick is the row at `sel` when
        // there is none yet, or when it is gone (filtered out).
        match self
            .pick
            .as_ref()
            .and_then(|p| self.rows.iter().position(|r| r == p))
        {
            Some(i) => self.sel = i,
            None => self.pick_row(self.sel),
        }
    }

    /// Select the row at `i` (clamped).
    pub fn pick_row(&mut self, i: usize) {
        self.sel = i.min(self.rows.len().saturating_sub(1));
        self.pick = self.rows.get(self.sel).cloned();
    }

    /// The selected row (source index, name).
    pub fn selected(&self) -> Option<&(usize, String)> {
        self.rows.get(self.sel.min(self.rows.len().checked_sub(1)?))
    }

    /// The pane's keys: movement in the list or (when it has the keys) in
    /// the selected channel's detail, Enter (into the detail, or fold
    /// there), `o` (detail focus), Esc (out of the detail, else the
    /// filter goes).
    pub fn act(&mut self, a: &Action, store: &crate::store::Store) -> Outcome {
        if self.detail.focus && self.detail.act(a) {
            return Outcome::Done;
        }
        if let Some(d) = delta_of(a) {
            self.refresh(store);
            self.pick_row(step(self.sel, d, self.rows.len()));
            self.detail.sel = 0;
            return Outcome::Done;
        }
        if let Action::Row(row) = a {
            self.refresh(store);
            if !self.rows.is_empty() {
                self.pick_row((*row).min(self.rows.len() - 1));
                self.detail.sel = 0;
            }
            return Outcome::Done;
        }
        let has_detail = !self.detail.view.lines.is_empty();
        match a {
            Action::Bottom | Action::Follow => {
                self.refresh(store);
                self.pick_row(usize::MAX / 2);
            }
            Action::Activate if has_detail => {
                self.detail.focus = true;
                self.detail.sel = 0;
            }
            Action::ToggleDetailFocus if has_detail || self.detail.focus => {
                self.detail.focus = !self.detail.focus
            }
            Action::Escape if self.detail.focus => self.detail.focus = false,
            Action::Escape if self.filter.is_some() => self.filter = None,
            Action::Activate | Action::ToggleDetailFocus => {}
            _ => return Outcome::Pass,
        }
        Outcome::Done
    }
}

pub fn title(v: &View) -> lines::Title {
    let all: usize = v.store.sources.iter().map(|s| s.channels.len()).sum();
    let mut s = lines::Title::new(Pane::Channels.title()).part(all.to_string(), 1);
    if let Some(q) = &v.ui.chans.filter {
        let n = v.channel_rows.len();
        s = s
            .cut(format!("/{}", sanitize_capped(&q.source, 40)))
            .keep(format!("{n} {}", if n == 1 { "match" } else { "matches" }));
    }
    s
}

/// The selected row, when there is one.
pub fn selected<'a>(v: &'a View) -> Option<(usize, &'a str, &'a ChannelInfo)> {
    let rows = v.channel_rows;
    let (si, name) = rows.get(v.ui.chans.sel.min(rows.len().checked_sub(1)?))?;
    let ch = v.store.sources.get(*si)?.channels.get(name)?;
    Some((*si, name.as_str(), ch))
}

fn state_cell(ch: &ChannelInfo) -> (String, bool) {
    match &ch.live {
        Some(l) => (
            l.availability.label().to_string(),
            l.availability == Availability::Available,
        ),
        None => (
            if ch.subscribed { "sub" } else { "-" }.to_string(),
            ch.subscribed,
        ),
    }
}

fn kind_cell(ch: &ChannelInfo) -> String {
    ch.live
        .as_ref()
        .and_then(|l| l.facts.iter().find(|(k, _)| k == "type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

pub fn draw(f: &mut Frame, v: &View, area: Rect, scroll: &mut Scroll) {
    let t = v.theme;
    let rows = v.channel_rows;
    if rows.is_empty() {
        let msg = if v.ui.chans.filter.is_some() {
            format!(
                "no channel matches the filter ({} clears it)",
                keys::name(&Action::Escape)
            )
        } else {
            "no channels yet".to_string()
        };
        f.render_widget(Paragraph::new(Span::styled(msg, t.dim)), area);
        return;
    }
    let sel = v.ui.chans.sel.min(rows.len() - 1);
    let live = selected(v).is_some_and(|(_, _, c)| c.live.is_some());
    let list = if live && area.height >= 8 {
        let want = (rows.len() as u16 + 1).min(area.height * 2 / 5).max(3);
        let [list, detail] =
            Layout::vertical([Constraint::Length(want), Constraint::Min(3)]).areas(area);
        scroll.chan_detail = draw_detail(f, v, detail);
        list
    } else {
        area
    };
    let height = (list.height as usize).saturating_sub(1);
    let off = scroll_offset(scroll.channels, sel, height, rows.len());
    scroll.channels = off;
    // Under the table's header.
    scroll.rows[Pane::Channels as usize] = Some((
        Rect {
            y: list.y + 1,
            height: list.height.saturating_sub(1),
            ..list
        },
        off,
    ));
    let mut cells = Vec::new();
    for (si, name) in rows.iter().skip(off).take(height) {
        let Some(s) = v.store.sources.get(*si) else {
            continue;
        };
        let Some(ch) = s.channels.get(name) else {
            continue;
        };
        let (state, good) = state_cell(ch);
        let updates = ch.live.as_ref().map_or(0, |l| l.updates);
        let rate = ch.rate_at(v.now_ms);
        let rate = if rate > 0.0 {
            format!("{rate:.1}")
        } else {
            "-".into()
        };
        let state_style = if good {
            t.info
        } else if matches!(
            ch.live.as_ref().map(|l| &l.availability),
            Some(Availability::Unavailable(_))
        ) {
            t.error
        } else {
            t.dim
        };
        let plain = |x: String| (x, Style::default());
        cells.push(vec![
            (sanitize(&s.label).into_owned(), t.key),
            plain(sanitize(name).into_owned()),
            (state, state_style),
            plain(sanitize(&kind_cell(ch)).into_owned()),
            plain(updates.to_string()),
            plain(ch.messages.to_string()),
            plain(rate),
            plain(human_bytes(ch.bytes)),
            plain(ch.last_ms.map(fmt_time).unwrap_or_else(|| "-".into())),
        ]);
    }
    let focused = v.ui.focus == Pane::Channels && !v.ui.chans.detail.focus;
    // Each channel's messages a second over the last 20 s, on a wide pane.
    let (list, trend) = table::with_trend(list);
    let table = table::table(
        &COLUMNS,
        cells,
        list.width,
        t.dim,
        focused.then_some((sel - off, t.selected)),
    );
    f.render_widget(table, list);
    if let Some(trend) = trend {
        let data: Vec<Vec<u64>> = rows
            .iter()
            .skip(off)
            .take(height)
            .map(|(si, name)| {
                v.store
                    .sources
                    .get(*si)
                    .and_then(|s| s.channels.get(name))
                    .map_or_else(Vec::new, |c| {
                        c.trend.last(v.now_ms, usize::from(table::TREND))
                    })
            })
            .collect();
        table::draw_trends(f, trend, "msgs/s, last 20 s", t.dim, t.info, &data);
    }
}

/// The Channels table: the name takes what is left; on a narrow pane the
/// type, the bytes and the last time go before the name is cut, then the
/// message count and the rate.
const COLUMNS: [Column; 9] = [
    Column::new("source").max(12),
    Column::new("channel").fill(10).max(48),
    Column::new("state").max(12),
    Column::new("type").drop(6).max(14),
    Column::new("updates").right(),
    Column::new("msgs").right().drop(2),
    Column::new("rate/s").right().drop(1),
    Column::new("bytes").right().drop(5),
    Column::new("last").drop(4),
];

/// The selected channel's detail; returns the scroll offset used.
fn draw_detail(f: &mut Frame, v: &View, area: Rect) -> usize {
    let title = match selected(v) {
        Some((_, name, ch)) => {
            let l = ch.live.as_deref();
            format!(
                " {} · {} · {} state update{}{} · {} fold · {} copy · {} list/detail",
                sanitize_capped(name, 40),
                l.map_or("", |l| l.availability.label()),
                l.map_or(0, |l| l.updates),
                if l.map_or(0, |l| l.updates) == 1 {
                    ""
                } else {
                    "s"
                },
                match l.map_or(0, |l| l.dropped()) {
                    0 => String::new(),
                    n => format!(" ({n} oldest dropped)"),
                },
                keys::name(&Action::Activate),
                keys::name(&Action::Copy),
                keys::name(&Action::ToggleDetailFocus),
            )
        }
        None => " channel".into(),
    };
    let detail = Detail {
        lines: &v.ui.chans.detail.view.lines,
        sel: v.ui.chans.detail.sel,
        offset: v.ui.scroll.chan_detail,
        focus: v.ui.focus == Pane::Channels && v.ui.chans.detail.focus,
    };
    lines::draw_detail(
        f,
        v.theme,
        area,
        vec![Span::styled(title, v.theme.dim)],
        &detail,
    )
}

pub fn human_bytes(b: u64) -> String {
    match b {
        0..=9_999 => format!("{b} B"),
        10_000..=9_999_999 => format!("{:.1} KB", b as f64 / 1e3),
        _ => format!("{:.1} MB", b as f64 / 1e6),
    }
}
