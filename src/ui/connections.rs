//! The Connections pane: one block per source (state, retry, session,
//! rtt, traffic, facts, last error, a server's clients).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::channels::human_bytes;
use super::table::{self, Column};
use super::theme::Theme;
use super::{Pane, View, scroll_offset};
use crate::event::ConnState;
use crate::store::SourceInfo;
use crate::text::{sanitize, sanitize_capped};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::Style;

/// The Connections pane's own state: the selected source (sources are
/// never removed or reordered, so its index is its identity).
#[derive(Debug, Default)]
pub struct ConnectionsPane {
    pub sel: usize,
}

impl ConnectionsPane {
    /// Movement among `sources` sources.
    pub fn act(&mut self, a: &super::keymap::Action, sources: usize) -> super::pane::Outcome {
        use super::keymap::Action;
        use super::pane::{Outcome, delta_of, step};
        match (delta_of(a), a) {
            (Some(d), _) => self.sel = step(self.sel, d, sources),
            (None, Action::Bottom | Action::Follow) => self.sel = sources.saturating_sub(1),
            (None, Action::Row(row)) => self.sel = (*row).min(sources.saturating_sub(1)),
            _ => return Outcome::Pass,
        }
        Outcome::Done
    }
}

/// The Connections table: what each source is and how its connection
/// does, one row each; on a narrow pane the error counts (the detail
/// under the table has them too), the byte counts, the round trip and the
/// kind go before the target is cut, then the message counts.
const COLUMNS: [Column; 10] = [
    Column::new("source").max(12),
    Column::new("kind").max(14).drop(3),
    Column::new("state").max(14),
    Column::new("rtt").right().drop(4),
    Column::new("in").right().drop(5),
    Column::new("out").right().drop(5),
    Column::new("msgs in/out").right().drop(2),
    Column::new("reconn").right().drop(6),
    Column::new("malformed").right().drop(7),
    Column::new("target").fill(12).max(80),
];

pub fn draw(f: &mut Frame, v: &View, area: Rect, scroll: &mut super::Scroll) {
    let t = v.theme;
    let sources = &v.store.sources;
    if sources.is_empty() {
        f.render_widget(Paragraph::new(Span::styled("no sources", t.dim)), area);
        return;
    }
    let selected = v.ui.conns.sel.min(sources.len() - 1);
    // The table on top, the selected source's detail under it when there
    // is room for both; one source is its detail alone.
    let rows = sources.len() as u16 + 1;
    let (list, detail) = if sources.len() == 1 {
        (Rect::default(), Some(area))
    } else if area.height >= rows + 4 {
        let [a, b] = Layout::vertical([Constraint::Length(rows), Constraint::Min(3)]).areas(area);
        (a, Some(b))
    } else if area.height >= 9 {
        let want = (area.height / 2).max(3);
        let [a, b] = Layout::vertical([Constraint::Length(want), Constraint::Min(3)]).areas(area);
        (a, Some(b))
    } else {
        (area, None)
    };
    let height = usize::from(list.height.saturating_sub(1));
    if height > 0 {
        let off = draw_table(f, v, list, selected, height);
        // Under the table's header.
        scroll.rows[Pane::Connections as usize] = Some((
            Rect {
                y: list.y + 1,
                height: list.height - 1,
                ..list
            },
            off,
        ));
    }
    let Some(detail) = detail else { return };
    let s = &sources[selected];
    // Messages and round trips of the last seconds, on the detail's last
    // row.
    let detail =
        if detail.height >= 5 && !(s.conn.rtt_trend.is_empty() && s.conn.msg_trend.is_empty()) {
            let [rest, row] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(detail);
            draw_trend_row(f, v, s, row);
            rest
        } else {
            detail
        };
    let mut lines = vec![Line::from(vec![
        Span::styled("── ", t.dim),
        Span::styled(format!("{} ", sanitize(&s.label)), t.key),
        Span::styled(format!("{} ", s.kind.name()), t.dim),
        Span::raw(sanitize_capped(&s.url, 200).into_owned()),
        Span::styled(" ──", t.dim),
    ])];
    source_lines(&mut lines, t, s, v.now_ms);
    metric_lines(&mut lines, t, s, detail.width);
    peer_lines(&mut lines, t, s);
    f.render_widget(
        // Rows are never wrapped (a wrapped row puts its end at column 0,
        // where it reads as the next row): what does not fit ends with …
        Paragraph::new(super::lines::fit_width(lines, detail.width)),
        detail,
    );
}

/// `msgs/s ▁▂█▁ · rtt ▁▂▅▃ max 12.3 ms · last 20 s`: the selected source's
/// messages each second and largest round trip of each second, as
/// sparklines (ratatui's), then the largest round trip.
fn draw_trend_row(f: &mut Frame, v: &View, s: &crate::store::SourceInfo, row: Rect) {
    use ratatui::widgets::Sparkline;
    let t = v.theme;
    let n = usize::from(table::TREND);
    let msgs = s.conn.msg_trend.last(v.now_ms, n);
    let rtt = s.conn.rtt_trend.last(v.now_ms, n);
    let max = rtt.iter().copied().max().unwrap_or(0);
    let mut x = row.x;
    let end = row.x + row.width;
    let text = |f: &mut Frame, x: &mut u16, s: String| {
        let w = (s.chars().count() as u16).min(end.saturating_sub(*x));
        f.render_widget(
            Paragraph::new(Span::styled(s, t.dim)),
            Rect {
                x: *x,
                width: w,
                ..row
            },
        );
        *x += w;
    };
    let spark = |f: &mut Frame, x: &mut u16, data: &[u64]| {
        let w = (data.len() as u16).min(end.saturating_sub(*x));
        f.render_widget(
            Sparkline::default().data(data).style(t.key),
            Rect {
                x: *x,
                width: w,
                ..row
            },
        );
        *x += w;
    };
    text(f, &mut x, "  msgs/s ".into());
    spark(f, &mut x, &msgs);
    text(f, &mut x, " · rtt ".into());
    spark(f, &mut x, &rtt);
    text(
        f,
        &mut x,
        format!(" max {:.1} ms · last {n} s", max as f64 / 1000.0),
    );
}

/// The table of sources, `height` rows of it, the selected one in view.
fn draw_table(f: &mut Frame, v: &View, area: Rect, selected: usize, height: usize) -> usize {
    let t = v.theme;
    let sources = &v.store.sources;
    let off = scroll_offset(0, selected, height, sources.len());
    // Each source's messages a second over the last 20 s, on a wide pane.
    let (area, trend) = table::with_trend(area);
    if let Some(trend) = trend {
        let data: Vec<Vec<u64>> = sources
            .iter()
            .skip(off)
            .take(height)
            .map(|s| s.conn.msg_trend.last(v.now_ms, usize::from(table::TREND)))
            .collect();
        table::draw_trends(f, trend, "msgs/s, last 20 s", t.dim, t.info, &data);
    }
    let cells: Vec<Vec<table::Text>> = sources
        .iter()
        .skip(off)
        .take(height)
        .map(|s| row(t, s, v.now_ms))
        .collect();
    let focused = v.ui.focus == Pane::Connections;
    f.render_widget(
        table::table(
            &COLUMNS,
            cells,
            area.width,
            t.dim,
            Some((
                selected - off,
                if focused {
                    t.selected
                } else {
                    Style::default()
                },
            )),
        ),
        area,
    );
    off
}

/// A source's row of the table.
fn row(t: &Theme, s: &SourceInfo, now: u64) -> Vec<table::Text> {
    let c = &s.conn;
    let plain = |x: String| (x, Style::default());
    let mut state = c.state.label().to_string();
    if let Some(at) = c.retry_at_ms {
        state = format!(
            "{state} {:.0}s",
            (at.saturating_sub(now) as f64 / 1000.0).ceil()
        );
    }
    let st = &c.stats;
    vec![
        (sanitize(&s.label).into_owned(), t.key),
        (s.kind.name().to_string(), t.dim),
        (state, state_style(t, &c.state)),
        plain(
            c.rtt
                .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "-".into()),
        ),
        plain(human_bytes(st.bytes_in)),
        plain(human_bytes(st.bytes_out)),
        plain(format!("{}/{}", st.messages_in, st.messages_out)),
        plain(c.reconnects.to_string()),
        (
            s.malformed.to_string(),
            if s.malformed > 0 {
                t.warn
            } else {
                Style::default()
            },
        ),
        plain(sanitize_capped(&s.url, 200).into_owned()),
    ]
}

fn state_style(t: &Theme, s: &ConnState) -> Style {
    match s {
        ConnState::Connected { .. } => t.info,
        ConnState::Errored { .. } => t.error,
        ConnState::Closed => t.dim,
        _ => t.warn,
    }
}

/// A source's connection: state, counters, facts and last error.
fn source_lines(lines: &mut Vec<Line<'static>>, t: &Theme, s: &SourceInfo, now: u64) {
    let c = &s.conn;
    let mut state = vec![
        Span::raw("  state "),
        Span::styled(c.state.label(), state_style(t, &c.state)),
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
    let mut counts = vec![Span::raw(format!(
        "  rtt {}  reconnects {}  malformed {}",
        c.rtt
            .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "-".into()),
        c.reconnects,
        s.malformed
    ))];
    if s.channels_dropped > 0 {
        counts.push(Span::styled(
            format!("  channels not kept {}", s.channels_dropped),
            t.warn,
        ));
    }
    lines.push(Line::from(counts));
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
}

/// A metric's value with its unit: `3.8 ms`, `1.2 kB`, `12 %`.
pub fn metric_value(value: f64, unit: crate::event::Unit) -> String {
    use crate::event::Unit;
    match unit {
        Unit::Count => {
            if value.fract() == 0.0 && value.abs() < 1e15 {
                format!("{}", value as i64)
            } else {
                format!("{value:.1}")
            }
        }
        Unit::Bytes => human_bytes(value.max(0.0) as u64),
        Unit::Ms => format!("{value:.1} ms"),
        Unit::Percent => format!("{value:.0} %"),
        Unit::Rate => format!("{}/s", human_bytes(value.max(0.0) as u64)),
    }
}

/// `values` as a row of block characters, the newest on the right, scaled
/// from 0 to their largest.
pub fn sparkline(values: impl ExactSizeIterator<Item = f64> + Clone, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let skip = values.len().saturating_sub(width);
    let top = values.clone().skip(skip).fold(0.0f64, f64::max);
    values
        .skip(skip)
        .map(|v| {
            if top <= 0.0 || !v.is_finite() {
                BARS[0]
            } else {
                BARS[((v.max(0.0) / top) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

/// A source's metrics: the charted ones a line each with a sparkline of
/// their recent values, the others as `name value` pairs filling lines of
/// the pane's width.
fn metric_lines(lines: &mut Vec<Line<'static>>, t: &Theme, s: &SourceInfo, width: u16) {
    let width = usize::from(width).max(20);
    for m in s.metrics.iter().filter(|m| m.chart) {
        let value = metric_value(m.last(), m.unit);
        let head = format!("  {:<12} {:>11} ", sanitize_capped(&m.name, 12), value);
        let room = width
            .saturating_sub(head.chars().count() + 1)
            .min(crate::store::SERIES_LEN);
        lines.push(Line::from(vec![
            Span::raw(head),
            Span::styled(sparkline(m.history.iter().copied(), room), t.key),
        ]));
    }
    let mut line: Vec<Span<'static>> = vec![Span::raw(" ")];
    let mut used = 1;
    for m in s.metrics.iter().filter(|m| !m.chart) {
        let name = sanitize_capped(&m.name, 24).into_owned();
        let value = metric_value(m.last(), m.unit);
        let w = 2 + name.chars().count() + 1 + value.chars().count();
        if used + w > width && used > 1 {
            lines.push(Line::from(std::mem::replace(
                &mut line,
                vec![Span::raw(" ")],
            )));
            used = 1;
        }
        line.push(Span::styled(format!(" {name} "), t.dim));
        line.push(Span::raw(value));
        line.push(Span::raw(" "));
        used += w;
    }
    if used > 1 {
        lines.push(Line::from(line));
    }
}

/// A server source's clients, one line each (the first few).
fn peer_lines(lines: &mut Vec<Line<'static>>, t: &Theme, s: &SourceInfo) {
    const SHOWN: usize = 8;
    if s.peers.is_empty() {
        return;
    }
    // Each role present, counted: `clients 3 (apps 1, monitors 2)`.
    let mut roles: Vec<crate::event::PeerRole> = s.peers.iter().map(|p| p.role).collect();
    roles.sort();
    roles.dedup();
    let counts: Vec<String> = roles
        .iter()
        .map(|r| {
            let n = s.peers.iter().filter(|p| p.role == *r).count();
            format!("{} {n}", r.plural())
        })
        .collect();
    lines.push(Line::from(Span::raw(format!(
        "  clients {} ({})",
        s.peers.len(),
        counts.join(", ")
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
