//! The Logs pane: the (filtered, maybe frozen) log view, the count of
//! entries that arrived since following stopped, and an open entry's
//! detail under the list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::keymap::Action;
use super::keys;
use super::lines::{self, Detail, highlighted};
use super::{Pane, Scroll, View, scroll_offset};
use crate::text::clock as fmt_time;
use crate::text::sanitize_capped;

pub fn title(v: &View) -> String {
    let logs = &v.store.logs;
    let mut s = format!("{} · {}", Pane::Logs.title(), logs.len());
    if let Some(flt) = logs.filter() {
        let n = logs.view_len();
        s.push_str(&format!(
            " · /{} · {n} {}",
            sanitize_capped(flt, 40),
            if n == 1 { "match" } else { "matches" }
        ));
    }
    if logs.evicted() > 0 {
        s.push_str(&format!(" · {} evicted", logs.evicted()));
    }
    s.push_str(if v.ui.log_frozen.is_some() {
        " · FROZEN"
    } else if v.ui.log_follow {
        " · follow"
    } else {
        " · paused"
    });
    // The zone, once, here.
    if v.ui.log_relative {
        s.push_str(" · times relative");
    } else {
        s.push_str(&format!(" · {}", crate::text::zone_name(v.now_ms)));
    }
    s
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
    let area = if v.ui.log_detail {
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
    let new_count = if v.ui.log_follow {
        0
    } else {
        logs.view_count_since(v.ui.log_paused_at)
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
    if new_count > 0 {
        let how = if v.ui.log_frozen.is_some() {
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
    let style = if v.ui.log_relative {
        let n = logs.view_len();
        let base = logs
            .view_get(sel.min(n.saturating_sub(1)))
            .map_or(0, |e| e.at_ms);
        TimeStyle::Relative(base)
    } else {
        let first = logs.view_get(0).map(|e| e.at_ms);
        let last = logs
            .view_len()
            .checked_sub(1)
            .and_then(|i| logs.view_get(i))
            .map(|e| e.at_ms);
        match (first, last) {
            (Some(a), Some(b)) if crate::text::day_of(a) != crate::text::day_of(b) => {
                TimeStyle::Dated
            }
            _ => TimeStyle::Clock,
        }
    };
    // The kind column: as wide as the longest kind in view, 8 to 24.
    let kind_w = range
        .clone()
        .filter_map(|i| logs.view_get(i))
        .map(|e| e.kind.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 24);
    for i in range {
        let Some(e) = logs.view_get(i) else { break };
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
        spans.extend(highlighted(&e.summary, logs.query(), t.base, t.highlight));
        let mut line = Line::from(spans);
        if !v.ui.log_follow && i == sel && v.ui.focus == Pane::Logs {
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

/// The selected log entry as a collapsible tree, under the list; returns
/// the scroll offset used.
fn draw_detail(f: &mut Frame, v: &View, area: Rect) -> usize {
    // The entry shown: the selected one, or the newest when following.
    let shown = v.ui.log_sel.or(v.ui.log_view.key.map(|k| k.1));
    let title = match shown {
        Some(seq) => format!(
            " entry #{seq}{} · {} fold · {} copy value · {} copy path · {} list/detail · {} close",
            if v.ui.log_sel.is_none() {
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
        lines: &v.ui.log_view.lines,
        sel: v.ui.log_detail_sel,
        offset: v.ui.scroll.log_detail,
        focus: v.ui.focus == Pane::Logs && v.ui.log_detail_focus,
    };
    let head = vec![Span::styled(title, v.theme.dim)];
    lines::draw_detail(f, v.theme, area, head, &detail)
}
