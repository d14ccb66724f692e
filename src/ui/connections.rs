//! The Connections pane: one block per source (state, retry, session,
//! rtt, traffic, facts, last error, a server's clients).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::channels::human_bytes;
use super::theme::Theme;
use super::{Pane, View};
use crate::event::ConnState;
use crate::store::SourceInfo;
use crate::text::{sanitize, sanitize_capped};

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
            _ => return Outcome::Pass,
        }
        Outcome::Done
    }
}

pub fn draw(f: &mut Frame, v: &View, area: Rect) {
    let t = v.theme;
    let sources = &v.store.sources;
    if sources.is_empty() {
        f.render_widget(Paragraph::new(Span::styled("no sources", t.dim)), area);
        return;
    }
    let mut lines = Vec::new();
    let selected = v.ui.conns.sel.min(sources.len() - 1);
    let mut selected_at = 0;
    for (i, s) in sources.iter().enumerate() {
        if i == selected {
            selected_at = lines.len();
        }
        let mut head = Line::from(vec![
            Span::styled(format!("{} ", s.label), t.key),
            Span::styled(format!("{} ", s.kind.name()), t.dim),
            Span::raw(sanitize_capped(&s.url, 80).into_owned()),
        ]);
        if i == selected && v.ui.focus == Pane::Connections {
            head = head.style(t.selected);
        }
        lines.push(head);
        source_lines(&mut lines, t, s, v.now_ms);
        metric_lines(&mut lines, t, s, area.width);
        peer_lines(&mut lines, t, s);
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
        // Rows are never wrapped (a wrapped row puts its end at column 0,
        // where it reads as the next row): what does not fit ends with …
        Paragraph::new(super::lines::fit_width(lines, area.width)).scroll((top, 0)),
        area,
    );
}

/// A source's connection: state, counters, facts and last error.
fn source_lines(lines: &mut Vec<Line<'static>>, t: &Theme, s: &SourceInfo, now: u64) {
    let c = &s.conn;
    let state_style = match c.state {
        ConnState::Connected { .. } => t.info,
        ConnState::Errored { .. } => t.error,
        ConnState::Closed => t.dim,
        _ => t.warn,
    };
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
