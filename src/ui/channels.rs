//! The Channels pane: every source's channels, one row each.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Pane, View, scroll_offset};
use crate::text::clock as fmt_time;
use crate::text::sanitize;

pub fn draw(f: &mut Frame, v: &View, area: Rect) {
    let t = v.theme;
    let mut rows = Vec::new();
    for s in &v.store.sources {
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
    let sel = v.ui.chan_sel.min(rows.len() - 1);
    let off = scroll_offset(0, sel, height, rows.len());
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
        if i == sel && v.ui.focus == Pane::Channels {
            line = line.style(t.selected);
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), area);
}

pub fn human_bytes(b: u64) -> String {
    match b {
        0..=9_999 => format!("{b} B"),
        10_000..=9_999_999 => format!("{:.1} KB", b as f64 / 1e3),
        _ => format!("{:.1} MB", b as f64 / 1e6),
    }
}
