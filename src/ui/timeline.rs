//! The Timeline pane: notices about where commands go, the selected
//! app's action list (as filtered) and the detail of the selected action
//! (Action / State / Diff).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::lines::{self, Detail, highlighted};
use super::{DetailTab, Pane, Scroll, View, scroll_offset};
use crate::store::timeline::{Instance, Liveness};
use crate::text::clock as fmt_time;
use crate::text::{sanitize, sanitize_capped};

pub fn title(v: &View) -> String {
    let mut s = Pane::Timeline.title().to_string();
    let n = v.store.timeline.instances.len();
    if let Some(i) = v.instance {
        s.push_str(&format!(
            " · {} [{}/{}] {}",
            sanitize(&i.label()),
            v.ui.inst + 1,
            n,
            if v.read_only.is_some() {
                "recorded"
            } else {
                i.liveness.label()
            }
        ));
        if i.is_paused {
            s.push_str(" · paused");
        }
        if i.is_locked {
            s.push_str(" · locked");
        }
    }
    if let Some(q) = &v.ui.tl_filter {
        s.push_str(&format!(
            " · /{} · {} shown",
            sanitize_capped(&q.source, 40),
            v.timeline_rows.len()
        ));
    }
    s
}

pub fn draw(f: &mut Frame, v: &View, area: Rect, scroll: &mut Scroll) {
    let t = v.theme;
    let Some(inst) = v.instance else {
        f.render_widget(
            Paragraph::new(vec![
                Line::from(Span::styled("no app yet", t.dim)),
                Line::from(Span::styled(
                    "apps using @redux-devtools/remote appear here when they connect",
                    t.dim,
                )),
            ])
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let notices = notices(v, inst);
    let [warn_area, list_area, detail_area] = Layout::vertical([
        Constraint::Length(notices.len() as u16),
        Constraint::Percentage(45),
        Constraint::Min(3),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(notices), warn_area);
    draw_action_list(f, v, inst, list_area, scroll);
    scroll.detail = draw_detail(f, v, detail_area);
}

/// What is pending or wrong, and whom commands reach.
fn notices(v: &View, inst: &Instance) -> Vec<Line<'static>> {
    let t = v.theme;
    let live = v.store.timeline.live_on(inst.source);
    let mut notices = Vec::new();
    if let Some(p) = inst.pending {
        notices.push(Line::from(Span::styled(
            format!("waiting for the app's STATE after {p}"),
            t.notice,
        )));
    }
    if let Some(e) = &inst.last_error {
        notices.push(Line::from(Span::styled(
            format!("app error: {}", sanitize_capped(e, 200)),
            t.error,
        )));
    }
    if let Some(why) = v.read_only {
        notices.push(Line::from(Span::styled(
            format!(
                "{why}; {} and the history keys do nothing here",
                super::keys::name(&super::keymap::Action::Activate)
            ),
            t.notice,
        )));
    } else if v.store.targets_instances(inst.source) {
        notices.push(Line::from(Span::styled(
            if live > 1 {
                format!(
                    "→ commands reach {} only (roomtap relay); pause and lock reach all {live} apps",
                    inst.label()
                )
            } else {
                format!("→ commands reach {} only (roomtap relay)", inst.label())
            },
            t.notice,
        )));
    } else if live > 1 {
        notices.push(Line::from(Span::styled(
            format!(
                "⚠ {live} apps on this relay: @redux-devtools/remote apps all obey commands sent through it"
            ),
            t.warn,
        )));
    }
    notices
}

fn draw_action_list(f: &mut Frame, v: &View, inst: &Instance, area: Rect, scroll: &mut Scroll) {
    let t = v.theme;
    let view = v.timeline_rows;
    if view.is_empty() {
        let msg = if v.ui.tl_filter.is_some() {
            "no action matches the filter"
        } else if inst.liveness == Liveness::Announced {
            "waiting for the app's STATE…"
        } else {
            "no actions"
        };
        f.render_widget(Paragraph::new(Span::styled(msg, t.dim)), area);
        return;
    }
    let height = area.height as usize;
    let sel_pos = v.timeline_sel.unwrap_or(0);
    let sel = view
        .iter()
        .position(|&p| p >= sel_pos)
        .unwrap_or(view.len() - 1);
    let off = scroll_offset(scroll.timeline, sel, height, view.len());
    scroll.timeline = off;
    let list_focus = v.ui.focus == Pane::Timeline && !v.ui.detail_focus;
    let mut lines = Vec::with_capacity(height);
    for (row, &pos) in view.iter().enumerate().skip(off).take(height) {
        let mut line = action_line(v, inst, pos);
        if row == sel {
            line = line.style(if list_focus {
                t.selected
            } else {
                Style::default().add_modifier(Modifier::BOLD)
            });
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// One action: current marker, index in the app, type, time and delta.
fn action_line<'a>(v: &View, inst: &'a Instance, pos: usize) -> Line<'a> {
    let t = v.theme;
    let e = &inst.entries[pos];
    let prev_t = pos
        .checked_sub(1)
        .and_then(|p| inst.entries.get(p))
        .map(|p| p.time_ms());
    let delta = prev_t
        .map(|p| format!("+{}ms", e.time_ms().saturating_sub(p)))
        .unwrap_or_default();
    let in_app = inst.app_index_of(e.id);
    let is_current = inst.current_id() == Some(e.id);
    let marker = if is_current { "▶" } else { " " };
    let idx = match in_app {
        Some(i) => format!("{i:>4}"),
        None => "   -".to_string(),
    };
    let skipped = inst.skipped.contains(&e.id);
    let name_style = if skipped || in_app.is_none() {
        t.skipped
    } else if e.error.is_some() {
        t.error
    } else if is_current {
        t.current
    } else {
        t.base
    };
    let mut spans = vec![
        Span::styled(marker, t.current),
        Span::styled(idx, t.dim),
        Span::raw(" "),
    ];
    spans.extend(highlighted(
        &e.action_type,
        v.ui.tl_filter.as_ref(),
        name_style,
        t.highlight,
    ));
    spans.push(Span::styled(
        format!(
            "  {} {}{}",
            fmt_time(e.time_ms()),
            delta,
            match (&e.state_raw, e.state_dropped) {
                (Some(_), _) => "",
                // Dropped for --max-bytes: said in the State tab.
                (None, true) => " -",
                (None, false) => " ?",
            }
        ),
        t.dim,
    ));
    Line::from(spans)
}

/// The tabs and the selected action's detail; returns the scroll offset
/// used.
fn draw_detail(f: &mut Frame, v: &View, area: Rect) -> usize {
    let t = v.theme;
    let mut tabs = Vec::new();
    for tab in DetailTab::ALL {
        let st = if tab == v.ui.tab { t.selected } else { t.dim };
        tabs.push(Span::styled(format!(" {} ", tab.label()), st));
        tabs.push(Span::raw(" "));
    }
    let detail = Detail {
        lines: &v.ui.detail.lines,
        sel: v.ui.detail_sel,
        offset: v.ui.scroll.detail,
        focus: v.ui.focus == Pane::Timeline && v.ui.detail_focus,
    };
    lines::draw_detail(f, t, area, tabs, &detail)
}
