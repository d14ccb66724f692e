//! Pure rendering of the store and ui state. Rows are built only for the
//! visible slice; all remote text is already sanitized (store) or is
//! sanitized here (details).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::json::{Change, LeafKind, RowKind};
use super::keymap::{Need, hint_line};
use super::keys::BINDINGS;
use super::{DetailLine, DetailTab, Pane, PromptKind, StatusKind, scroll_offset};
use crate::app::App;
use crate::event::ConnState;
use crate::store::timeline::Liveness;
use crate::text::{sanitize, sanitize_capped};

/// Draw everything.
pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    if area.width < 20 || area.height < 6 {
        f.render_widget(Paragraph::new("roomtap: terminal too small"), area);
        return;
    }
    let [body, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    if app.ui.zoom {
        draw_pane(f, app, app.ui.focus, body);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        let [logs, conns] =
            Layout::vertical([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(left);
        let [timeline, channels] =
            Layout::vertical([Constraint::Percentage(72), Constraint::Percentage(28)]).areas(right);
        draw_pane(f, app, Pane::Logs, logs);
        draw_pane(f, app, Pane::Connections, conns);
        draw_pane(f, app, Pane::Timeline, timeline);
        draw_pane(f, app, Pane::Channels, channels);
    }
    draw_status(f, app, status);
    if app.ui.help {
        draw_help(f, app, body);
    }
}

fn draw_pane(f: &mut Frame, app: &App, pane: Pane, area: Rect) {
    let focused = app.ui.focus == pane;
    let t = &app.theme;
    let border = if focused { t.border_focus } else { t.border };
    let title = pane_title(app, pane);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Line::from(vec![Span::styled(
            format!(" {title} "),
            t.title,
        )]));
    let inner = block.inner(area);
    f.render_widget(block, area);
    match pane {
        Pane::Logs => draw_logs(f, app, inner),
        Pane::Channels => draw_channels(f, app, inner),
        Pane::Connections => draw_connections(f, app, inner),
        Pane::Timeline => draw_timeline(f, app, inner),
    }
}

fn pane_title(app: &App, pane: Pane) -> String {
    match pane {
        Pane::Logs => {
            let logs = &app.store.logs;
            let mut s = format!("{} · {}", pane.title(), logs.len());
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
            s.push_str(if app.ui.log_frozen.is_some() {
                " · FROZEN"
            } else if app.ui.log_follow {
                " · follow"
            } else {
                " · paused"
            });
            s
        }
        Pane::Timeline => {
            let mut s = pane.title().to_string();
            let n = app.store.timeline.instances.len();
            if let Some(i) = app.instance() {
                s.push_str(&format!(
                    " · {} [{}/{}] {}",
                    sanitize(&i.label()),
                    app.ui.inst + 1,
                    n,
                    if app.read_only.is_some() {
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
            if let Some(q) = &app.ui.tl_filter {
                s.push_str(&format!(
                    " · /{} · {} shown",
                    sanitize_capped(&q.source, 40),
                    app.timeline_view().len()
                ));
            }
            s
        }
        _ => pane.title().to_string(),
    }
}

use crate::text::clock as fmt_time;

fn highlighted<'a>(
    text: &'a str,
    q: Option<&crate::query::Query>,
    base: Style,
    hl: Style,
) -> Vec<Span<'a>> {
    let Some(q) = q else {
        return vec![Span::styled(text, base)];
    };
    let ranges = q.highlights(text);
    if ranges.is_empty() {
        return vec![Span::styled(text, base)];
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (a, b) in ranges {
        if a > at {
            out.push(Span::styled(&text[at..a], base));
        }
        out.push(Span::styled(&text[a..b], hl));
        at = b;
    }
    if at < text.len() {
        out.push(Span::styled(&text[at..], base));
    }
    out
}

fn draw_logs(f: &mut Frame, app: &App, area: Rect) {
    let area = if app.ui.log_detail {
        let [list, detail] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Min(3)]).areas(area);
        draw_log_detail(f, app, detail);
        list
    } else {
        area
    };
    let t = &app.theme;
    let logs = &app.store.logs;
    let len = app.log_len();
    let mut height = area.height as usize;
    // Entries that arrived since following stopped (and still match).
    let new_count = if app.ui.log_follow {
        0
    } else {
        logs.view_count_since(app.ui.log_paused_at)
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
    let sel = app.log_view_index().unwrap_or(len - 1);
    let off = scroll_offset(&app.ui.log_offset, sel, height, len);
    let mut lines = Vec::with_capacity(height);
    // As wide as the longest source label (labels are short: 4..10).
    let src_w = app
        .store
        .sources
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(4, 10);
    for i in off..(off + height).min(len) {
        let Some(e) = logs.view_get(i) else { break };
        let src = app
            .store
            .sources
            .get(e.source as usize)
            .map(|s| s.label.as_str())
            .unwrap_or("?");
        let mut spans = vec![
            Span::styled(fmt_time(e.at_ms), t.dim),
            Span::raw(" "),
            Span::styled(format!("{src:<src_w$.src_w$}"), t.key),
            Span::raw(" "),
            Span::styled(format!("{:<5}", e.level.label()), t.level(e.level)),
            Span::raw(" "),
            Span::styled(format!("{:<12.12}", e.kind), t.title),
            Span::raw(" "),
        ];
        spans.extend(highlighted(&e.summary, logs.query(), t.base, t.highlight));
        let mut line = Line::from(spans);
        if !app.ui.log_follow && i == sel && app.ui.focus == Pane::Logs {
            line = line.style(t.selected);
        }
        lines.push(line);
    }
    let [list, footer] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length((new_count > 0) as u16),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(lines), list);
    if new_count > 0 {
        let how = if app.ui.log_frozen.is_some() {
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

/// The selected log entry as a collapsible tree, under the list.
fn draw_log_detail(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let focus = app.ui.focus == Pane::Logs && app.ui.log_detail_focus;
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let title = match app.ui.log_sel {
        Some(seq) => format!(
            " entry #{seq} · Enter fold · y copy value · Y copy path · ← → list/detail · Esc close"
        ),
        None => " entry".to_string(),
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(if focus { "▌" } else { " " }, t.border_focus),
            Span::styled(title, t.dim),
        ])),
        head,
    );
    draw_lines(
        f,
        app,
        body,
        &app.ui.log_view.lines,
        app.ui.log_detail_sel,
        &app.ui.log_detail_offset,
        focus,
    );
}

fn draw_channels(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let mut rows = Vec::new();
    for s in &app.store.sources {
        for (name, ch) in &s.channels {
            rows.push((s, name, ch));
        }
    }
    if rows.is_empty() {
        f.render_widget(Paragraph::new(Span::styled("no channels yet", t.dim)), area);
        return;
    }
    let header = Line::from(Span::styled(
        format!(
            "{:<8} {:<18} {:<5} {:>9} {:>10} {:>12}",
            "source", "channel", "sub", "messages", "bytes", "last"
        ),
        t.dim,
    ));
    let height = (area.height as usize).saturating_sub(1);
    let sel = app.ui.chan_sel.min(rows.len() - 1);
    let off = scroll_offset(&std::cell::Cell::new(0), sel, height, rows.len());
    let mut lines = vec![header];
    for (i, (s, name, ch)) in rows.iter().enumerate().skip(off).take(height) {
        let mut line = Line::from(vec![
            Span::styled(format!("{:<8.8} ", s.label), t.key),
            Span::raw(format!("{:<18.18} ", sanitize(name))),
            Span::styled(
                format!("{:<5} ", if ch.subscribed { "yes" } else { "no" }),
                if ch.subscribed { t.info } else { t.dim },
            ),
            Span::raw(format!(
                "{:>9} {:>10} {:>12}",
                ch.messages,
                human_bytes(ch.bytes),
                ch.last_ms.map(fmt_time).unwrap_or_else(|| "-".into())
            )),
        ]);
        if i == sel && app.ui.focus == Pane::Channels {
            line = line.style(t.selected);
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn human_bytes(b: u64) -> String {
    match b {
        0..=9_999 => format!("{b} B"),
        10_000..=9_999_999 => format!("{:.1} KB", b as f64 / 1e3),
        _ => format!("{:.1} MB", b as f64 / 1e6),
    }
}

fn draw_connections(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    if app.store.sources.is_empty() {
        f.render_widget(Paragraph::new(Span::styled("no sources", t.dim)), area);
        return;
    }
    let now = crate::event::now_ms();
    let mut lines = Vec::new();
    let selected = app.ui.conn_sel.min(app.store.sources.len() - 1);
    let mut selected_at = 0;
    for (i, s) in app.store.sources.iter().enumerate() {
        if i == selected {
            selected_at = lines.len();
        }
        let c = &s.conn;
        let state_style = match c.state {
            ConnState::Connected { .. } => t.info,
            ConnState::Errored { .. } => t.error,
            ConnState::Closed => t.dim,
            _ => t.warn,
        };
        let mut head = Line::from(vec![
            Span::styled(format!("{} ", s.label), t.key),
            Span::styled(format!("{} ", s.kind.name()), t.dim),
            Span::raw(sanitize_capped(&s.url, 80).into_owned()),
        ]);
        if i == app.ui.conn_sel.min(app.store.sources.len() - 1)
            && app.ui.focus == Pane::Connections
        {
            head = head.style(t.selected);
        }
        lines.push(head);
        let mut state = vec![
            Span::raw("  state "),
            Span::styled(c.state.label(), state_style),
        ];
        if let ConnState::Connecting { attempt } = c.state {
            state.push(Span::raw(format!(" (attempt {attempt})")));
        }
        if let Some(at) = c.retry_at_ms {
            let left = at.saturating_sub(now);
            state.push(Span::styled(
                format!("  retry in {:.1}s", left as f64 / 1000.0),
                t.warn,
            ));
        }
        state.push(Span::raw(format!(
            "  session {}",
            c.session.as_deref().map(sanitize).unwrap_or("-".into())
        )));
        lines.push(Line::from(state));
        lines.push(Line::from(vec![Span::raw(format!(
            "  rtt {}  reconnects {}  malformed {}",
            c.rtt
                .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "-".into()),
            c.reconnects,
            s.malformed
        ))]));
        let st = &c.stats;
        lines.push(Line::from(Span::raw(format!(
            "  in  {:>10} {:>8} frames {:>8} msgs",
            human_bytes(st.bytes_in),
            st.frames_in,
            st.messages_in
        ))));
        lines.push(Line::from(Span::raw(format!(
            "  out {:>10} {:>8} frames {:>8} msgs",
            human_bytes(st.bytes_out),
            st.frames_out,
            st.messages_out
        ))));
        for (k, v) in &s.facts {
            lines.push(Line::from(vec![
                Span::raw(format!("  {} ", sanitize_capped(k, 30))),
                Span::styled(sanitize_capped(v, 120).into_owned(), t.key),
            ]));
        }
        if let Some(e) = &c.last_error {
            lines.push(Line::from(vec![
                Span::raw("  last error "),
                Span::styled(sanitize_capped(e, 200).into_owned(), t.error),
            ]));
        }
        peer_lines(&mut lines, app, s);
    }
    // Keep the selected source's block in view (its head at the top when
    // the whole list does not fit).
    let fits = lines.len() <= usize::from(area.height);
    let top = if fits {
        0
    } else {
        selected_at.min(u16::MAX as usize) as u16
    };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((top, 0)),
        area,
    );
}

/// A server source's clients, one line each (the first few).
fn peer_lines(lines: &mut Vec<Line<'static>>, app: &App, s: &crate::store::SourceInfo) {
    const SHOWN: usize = 8;
    if s.peers.is_empty() {
        return;
    }
    let t = &app.theme;
    let count = |role: &str| s.peers.iter().filter(|p| p.role == role).count();
    lines.push(Line::from(Span::raw(format!(
        "  clients {} (apps {}, monitors {})",
        s.peers.len(),
        count("app"),
        count("monitor")
    ))));
    for p in s.peers.iter().take(SHOWN) {
        let mut who = p.role.to_string();
        if let Some(n) = &p.name {
            who.push(' ');
            who.push_str(&sanitize_capped(n, 40));
        }
        if !p.instances.is_empty() {
            who.push_str(&format!(
                " [{}]",
                sanitize_capped(&p.instances.join(", "), 60)
            ));
        }
        let mut spans = vec![
            Span::raw("    "),
            Span::styled(format!("{who:<24}"), t.key),
            Span::styled(format!(" {:<3}", p.proto), t.dim),
            Span::raw(format!(
                " {}  {}",
                sanitize_capped(&p.addr, 40),
                sanitize_capped(&p.id, 24)
            )),
        ];
        if p.dropped > 0 {
            spans.push(Span::styled(format!("  dropped {}", p.dropped), t.warn));
        }
        lines.push(Line::from(spans));
    }
    if s.peers.len() > SHOWN {
        lines.push(Line::from(Span::styled(
            format!("    … {} more", s.peers.len() - SHOWN),
            t.dim,
        )));
    }
}

fn draw_timeline(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let Some(inst) = app.instance() else {
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
    let live = app.store.timeline.live_on(inst.source);
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
    if let Some(why) = &app.read_only {
        notices.push(Line::from(Span::styled(
            format!("{why}; Enter and the history keys do nothing here"),
            t.notice,
        )));
    } else if app.store.targets_instances(inst.source) {
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
    let [warn_area, list_area, detail_area] = Layout::vertical([
        Constraint::Length(notices.len() as u16),
        Constraint::Percentage(45),
        Constraint::Min(3),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(notices), warn_area);
    draw_action_list(f, app, inst, list_area);
    draw_detail(f, app, detail_area);
}

fn draw_action_list(f: &mut Frame, app: &App, inst: &crate::store::timeline::Instance, area: Rect) {
    let t = &app.theme;
    let view = app.timeline_view();
    if view.is_empty() {
        let msg = if app.ui.tl_filter.is_some() {
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
    let sel_pos = app.selected_position().unwrap_or(0);
    let sel = view
        .iter()
        .position(|&p| p >= sel_pos)
        .unwrap_or(view.len() - 1);
    let off = scroll_offset(&app.ui.tl_offset, sel, height, view.len());
    let current = inst.current_id();
    let list_focus = app.ui.focus == Pane::Timeline && !app.ui.detail_focus;
    let mut lines = Vec::with_capacity(height);
    for (row, &pos) in view.iter().enumerate().skip(off).take(height) {
        let e = &inst.entries[pos];
        let prev_t = pos
            .checked_sub(1)
            .and_then(|p| inst.entries.get(p))
            .map(|p| p.time_ms());
        let delta = prev_t
            .map(|p| format!("+{}ms", e.time_ms().saturating_sub(p)))
            .unwrap_or_default();
        let in_app = inst.app_index_of(e.id);
        let is_current = current == Some(e.id);
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
            app.ui.tl_filter.as_ref(),
            name_style,
            t.highlight,
        ));
        spans.push(Span::styled(
            format!(
                "  {} {}{}",
                fmt_time(e.time_ms()),
                delta,
                if e.state_raw.is_none() { " ?" } else { "" }
            ),
            t.dim,
        ));
        let mut line = Line::from(spans);
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

fn draw_detail(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let focus = app.ui.focus == Pane::Timeline && app.ui.detail_focus;
    let mut tabs = vec![Span::styled(if focus { "▌" } else { " " }, t.border_focus)];
    for tab in DetailTab::ALL {
        let st = if tab == app.ui.tab { t.selected } else { t.dim };
        tabs.push(Span::styled(format!(" {} ", tab.label()), st));
        tabs.push(Span::raw(" "));
    }
    let [tabs_area, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    f.render_widget(Paragraph::new(Line::from(tabs)), tabs_area);
    draw_lines(
        f,
        app,
        body,
        &app.ui.detail.lines,
        app.ui.detail_sel,
        &app.ui.detail_offset,
        focus,
    );
}

/// JSON tree, note and diff lines, the visible slice only.
fn draw_lines(
    f: &mut Frame,
    app: &App,
    body: Rect,
    lines: &[DetailLine],
    sel: usize,
    offset: &std::cell::Cell<usize>,
    focus: bool,
) {
    let t = &app.theme;
    if lines.is_empty() {
        return;
    }
    let height = body.height as usize;
    let sel = sel.min(lines.len() - 1);
    let off = scroll_offset(offset, sel, height, lines.len());
    let mut out = Vec::with_capacity(height);
    for (i, l) in lines.iter().enumerate().skip(off).take(height) {
        let mut line = match l {
            DetailLine::Note(n) => Line::from(Span::styled(sanitize(n).into_owned(), t.warn)),
            DetailLine::Tree(r) => {
                let indent = "  ".repeat(r.depth as usize);
                let mut spans = vec![Span::raw(indent)];
                match &r.kind {
                    RowKind::Object { len, collapsed } | RowKind::Array { len, collapsed } => {
                        let arrow = if *collapsed { "▸ " } else { "▾ " };
                        spans.push(Span::styled(arrow, t.dim));
                        if !r.key.is_empty() {
                            spans.push(Span::styled(format!("{}: ", r.key), t.json_key));
                        }
                        let (open, close, what) = if matches!(r.kind, RowKind::Object { .. }) {
                            ("{", "}", "keys")
                        } else {
                            ("[", "]", "items")
                        };
                        spans.push(Span::styled(format!("{open}{len} {what}{close}"), t.dim));
                    }
                    RowKind::Leaf { kind, text } => {
                        spans.push(Span::raw("  "));
                        if !r.key.is_empty() {
                            spans.push(Span::styled(format!("{}: ", r.key), t.json_key));
                        }
                        let st = match kind {
                            LeafKind::String => t.json_string,
                            LeafKind::Number => t.json_number,
                            LeafKind::Literal => t.json_literal,
                            LeafKind::Reference => t.warn,
                        };
                        spans.push(Span::styled(text.clone(), st));
                    }
                }
                Line::from(spans)
            }
            DetailLine::Diff(d) => {
                let path = sanitize_capped(&d.path, 120).into_owned();
                match &d.change {
                    Change::Added(v) => Line::from(vec![
                        Span::styled("+ ", t.added),
                        Span::styled(path, t.json_key),
                        Span::raw(": "),
                        Span::styled(v.clone(), t.added),
                    ]),
                    Change::Removed(v) => Line::from(vec![
                        Span::styled("- ", t.removed),
                        Span::styled(path, t.json_key),
                        Span::raw(": "),
                        Span::styled(v.clone(), t.removed),
                    ]),
                    Change::Changed(a, b) => Line::from(vec![
                        Span::styled("~ ", t.changed),
                        Span::styled(path, t.json_key),
                        Span::raw(": "),
                        Span::styled(a.clone(), t.removed),
                        Span::raw(" → "),
                        Span::styled(b.clone(), t.added),
                    ]),
                }
            }
        };
        if focus && i == sel {
            line = line.style(t.selected);
        }
        out.push(line);
    }
    f.render_widget(Paragraph::new(out), body);
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let line = if let Some(p) = &app.ui.prompt {
        let label = match p.kind {
            PromptKind::Filter(_) => "filter /",
            PromptKind::Dispatch => "dispatch (JS object literal) ›",
            PromptKind::Command => ":",
        };
        let mut spans = vec![Span::styled(format!(" {label} "), t.key)];
        let err = match p.kind {
            PromptKind::Filter(_) => app.ui.filter_error.as_ref(),
            _ => None,
        };
        match err {
            // Mark where the query went wrong.
            Some(e) if e.pos < p.text.len() && p.text.is_char_boundary(e.pos) => {
                let (a, b) = p.text.split_at(e.pos);
                let cut = b.chars().next().map_or(0, char::len_utf8);
                spans.push(Span::raw(sanitize(a).into_owned()));
                spans.push(Span::styled(
                    sanitize(&b[..cut]).into_owned(),
                    t.error.add_modifier(Modifier::REVERSED),
                ));
                spans.push(Span::raw(sanitize(&b[cut..]).into_owned()));
                spans.push(Span::styled("█", t.key));
            }
            _ => {
                spans.push(Span::raw(sanitize(&p.text).into_owned()));
                spans.push(Span::styled("█", t.key));
            }
        }
        if let Some(e) = err {
            spans.push(Span::styled(
                format!("  ✗ {}", sanitize(&e.to_string())),
                t.error,
            ));
        } else if matches!(p.kind, PromptKind::Filter(_)) {
            spans.push(Span::styled(
                if app.ui.case_sensitive {
                    "   Aa exact case (Tab) · Enter ok · Esc close"
                } else {
                    "   aa any case (Tab) · Enter ok · Esc close"
                },
                t.dim,
            ));
        } else {
            spans.push(Span::styled("   Enter ok · Esc cancel", t.dim));
        }
        Line::from(spans)
    } else if let Some((msg, kind)) = &app.ui.status {
        let st = match kind {
            StatusKind::Info => t.status,
            StatusKind::Warn => t.notice,
        };
        Line::from(Span::styled(format!(" {}", sanitize(msg)), st))
    } else {
        let sources = &app.store.sources;
        let has_command_line = sources.iter().any(|s| s.caps.command_line.is_some());
        let hint = hint_line(app.ui.focus, |need| match need {
            Need::None => true,
            Need::CommandLine => has_command_line,
            Need::Watch => sources.iter().any(|s| s.caps.watch.is_some()),
            Need::NoCommandLine => !has_command_line,
        });
        Line::from(Span::styled(format!(" {hint}"), t.status))
    };
    f.render_widget(Paragraph::new(line).style(t.status), area);
}

fn draw_help(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let w = area.width.min(78);
    let h = area.height.min(BINDINGS.len() as u16 + 4);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let mut lines = Vec::new();
    for b in BINDINGS {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>16}  ", b.keys), t.key),
            Span::raw(b.help),
        ]));
    }
    lines.push(Line::from(Span::styled(
        "  any key closes this help",
        t.dim,
    )));
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_focus)
                .title(" keys "),
        ),
        r,
    );
}
