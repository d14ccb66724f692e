//! The Channels pane: every source's channels, one row each (availability,
//! type, state updates, messages and their rate), and under the list the
//! selected stateful channel's detail: its facts, the current state as a
//! collapsible tree and its history of state updates, each with its diff
//! against the state before it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::keymap::Action;
use super::keys;
use super::lines::{self, Detail};
use super::{Pane, Scroll, View, scroll_offset};
use crate::store::ChannelInfo;
use crate::store::channels::Availability;
use crate::text::clock as fmt_time;
use crate::text::{sanitize, sanitize_capped};

pub fn title(v: &View) -> String {
    let all: usize = v.store.sources.iter().map(|s| s.channels.len()).sum();
    let mut s = format!("{} · {all}", Pane::Channels.title());
    if let Some(q) = &v.ui.chan_filter {
        s.push_str(&format!(
            " · /{} · {} {}",
            sanitize_capped(&q.source, 40),
            v.channel_rows.len(),
            if v.channel_rows.len() == 1 {
                "match"
            } else {
                "matches"
            }
        ));
    }
    s
}

/// The selected row, when there is one.
pub fn selected<'a>(v: &'a View) -> Option<(usize, &'a str, &'a ChannelInfo)> {
    let rows = v.channel_rows;
    let (si, name) = rows.get(v.ui.chan_sel.min(rows.len().checked_sub(1)?))?;
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
        let msg = if v.ui.chan_filter.is_some() {
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
    let sel = v.ui.chan_sel.min(rows.len() - 1);
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
    let wide = list.width >= 107;
    let mid = list.width >= 76;
    let header = if wide {
        format!(
            "{:<9} {:<22} {:<11} {:<12} {:>7} {:>9} {:>7} {:>10} {:>12}",
            "source", "channel", "state", "type", "updates", "messages", "rate/s", "bytes", "last"
        )
    } else if mid {
        format!(
            "{:<9} {:<16} {:<11} {:>7} {:>8} {:>6} {:>12}",
            "source", "channel", "state", "updates", "msgs", "rate/s", "last"
        )
    } else {
        format!(
            "{:<9} {:<16} {:<11} {:>7} {:>8} {:>6}",
            "source", "channel", "state", "updates", "msgs", "rate/s"
        )
    };
    let height = (list.height as usize).saturating_sub(1);
    let off = scroll_offset(scroll.channels, sel, height, rows.len());
    scroll.channels = off;
    let mut lines = vec![Line::from(Span::styled(header, t.dim))];
    for (i, (si, name)) in rows.iter().enumerate().skip(off).take(height) {
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
        let mut spans = vec![
            // Wide enough for every label roomtap gives (`redux srv`).
            Span::styled(format!("{:<9.9} ", s.label), t.key),
            Span::raw(format!(
                "{:<w$.w$} ",
                sanitize(name),
                w = if wide { 22 } else { 16 }
            )),
            Span::styled(format!("{state:<11.11} "), state_style),
        ];
        if wide {
            spans.push(Span::raw(format!(
                "{:<12.12} {updates:>7} {:>9} {rate:>7} {:>10} {:>12}",
                sanitize(&kind_cell(ch)),
                ch.messages,
                human_bytes(ch.bytes),
                ch.last_ms.map(fmt_time).unwrap_or_else(|| "-".into())
            )));
        } else if mid {
            spans.push(Span::raw(format!(
                "{updates:>7} {:>8} {rate:>6} {:>12}",
                ch.messages,
                ch.last_ms.map(fmt_time).unwrap_or_else(|| "-".into())
            )));
        } else {
            spans.push(Span::raw(format!(
                "{updates:>7} {:>8} {rate:>6}",
                ch.messages
            )));
        }
        let mut line = Line::from(spans);
        if i == sel && v.ui.focus == Pane::Channels && !v.ui.chan_detail_focus {
            line = line.style(t.selected);
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), list);
}

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
        lines: &v.ui.chan_view.lines,
        sel: v.ui.chan_detail_sel,
        offset: v.ui.scroll.chan_detail,
        focus: v.ui.focus == Pane::Channels && v.ui.chan_detail_focus,
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
