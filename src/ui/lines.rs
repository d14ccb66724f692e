//! Pieces the panes share: the detail lines (JSON tree, diff, notes) of
//! the timeline and of an open log entry, and query matches highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::json::{Change, DiffRow, LeafKind, RowKind, TreeRow};
use super::theme::Theme;
use super::{DetailLine, scroll_offset};
use crate::text::{sanitize, sanitize_capped};

/// `text` as spans, the parts the query matches in `hl`.
pub fn highlighted<'a>(
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

/// A detail view as drawn: its lines, the selected one, where the window
/// started last frame, and whether keys move in it.
pub struct Detail<'a> {
    pub lines: &'a [DetailLine],
    pub sel: usize,
    pub offset: usize,
    pub focus: bool,
}

/// A detail under a head line (a focus mark, then `head`); returns the
/// scroll offset used.
pub fn draw_detail(f: &mut Frame, t: &Theme, area: Rect, head: Vec<Span>, d: &Detail) -> usize {
    let [head_area, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let mut spans = vec![Span::styled(
        if d.focus { "▌" } else { " " },
        t.border_focus,
    )];
    spans.extend(head);
    f.render_widget(Paragraph::new(Line::from(spans)), head_area);
    draw(f, t, body, d)
}

/// A detail's lines, the visible slice only, the window kept from
/// `d.offset`; returns the offset used.
fn draw(f: &mut Frame, t: &Theme, body: Rect, d: &Detail) -> usize {
    let lines = d.lines;
    if lines.is_empty() {
        return d.offset;
    }
    let height = body.height as usize;
    let sel = d.sel.min(lines.len() - 1);
    let off = scroll_offset(d.offset, sel, height, lines.len());
    let mut out = Vec::with_capacity(height);
    for (i, l) in lines.iter().enumerate().skip(off).take(height) {
        let mut line = match l {
            DetailLine::Note(n) => Line::from(Span::styled(sanitize(n).into_owned(), t.warn)),
            DetailLine::Head(h) => Line::from(Span::styled(sanitize(h).into_owned(), t.dim)),
            DetailLine::Text(x) => Line::from(Span::raw(sanitize(x).into_owned())),
            DetailLine::Tree(r) => tree_line(t, r),
            DetailLine::Diff(row) => diff_line(t, row),
        };
        if d.focus && i == sel {
            line = line.style(t.selected);
        }
        out.push(line);
    }
    f.render_widget(Paragraph::new(out), body);
    off
}

fn tree_line<'a>(t: &Theme, r: &'a TreeRow) -> Line<'a> {
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

fn diff_line<'a>(t: &Theme, d: &'a DiffRow) -> Line<'a> {
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

/// Each line cut to `width` columns, `…` where it was cut.
pub fn fit_width<'a>(lines: Vec<Line<'a>>, width: u16) -> Vec<Line<'a>> {
    let width = usize::from(width);
    lines
        .into_iter()
        .map(|l| {
            if l.width() <= width {
                return l;
            }
            let style = l.style;
            let mut left = width.saturating_sub(1);
            let mut spans = Vec::new();
            for sp in l.spans {
                if left == 0 {
                    break;
                }
                let text: String = sp.content.chars().take(left).collect();
                left -= text.chars().count();
                spans.push(Span::styled(text, sp.style));
            }
            spans.push(Span::raw("…"));
            Line::from(spans).style(style)
        })
        .collect()
}

/// A pane's title as parts joined by ` · `: when it is wider than the
/// border, the parts that matter least go first (the zone, the total), then
/// the parts marked cuttable (a filter's text, an app's label) are cut with
/// `…`; the parts kept (the match count, follow / paused / FROZEN) stay.
#[derive(Debug, Default)]
pub struct Title {
    /// (text, drop order: highest goes first, 0 never; cuttable).
    parts: Vec<(String, u8, bool)>,
}

impl Title {
    pub fn new(name: impl Into<String>) -> Title {
        Title {
            parts: vec![(name.into(), 0, false)],
        }
    }

    /// A part that stays.
    pub fn keep(mut self, text: impl Into<String>) -> Title {
        self.parts.push((text.into(), 0, false));
        self
    }

    /// A part that goes when the width is short (highest `order` first).
    pub fn part(mut self, text: impl Into<String>, order: u8) -> Title {
        self.parts.push((text.into(), order, false));
        self
    }

    /// A part that stays but is cut to fit.
    pub fn cut(mut self, text: impl Into<String>) -> Title {
        self.parts.push((text.into(), 0, true));
        self
    }

    /// The title in `width` columns.
    pub fn fit(&self, width: usize) -> String {
        use unicode_width::UnicodeWidthStr;
        let mut parts: Vec<(String, u8, bool)> = self.parts.clone();
        let joined = |p: &[(String, u8, bool)]| {
            p.iter()
                .map(|(t, ..)| t.as_str())
                .collect::<Vec<_>>()
                .join(" · ")
        };
        loop {
            let s = joined(&parts);
            let over = s.width().saturating_sub(width);
            if over == 0 {
                return s;
            }
            if let Some(i) = (0..parts.len())
                .filter(|&i| parts[i].1 > 0)
                .max_by_key(|&i| (parts[i].1, i))
            {
                parts.remove(i);
                continue;
            }
            // Cut the longest cuttable part (to 4 columns at least).
            let longest = (0..parts.len())
                .filter(|&i| parts[i].2 && parts[i].0.width() > 4)
                .max_by_key(|&i| parts[i].0.width());
            match longest {
                Some(i) => {
                    let w = parts[i].0.width();
                    let to = w.saturating_sub(over).max(4) as u16;
                    parts[i].0 = super::table::cut(&parts[i].0, to);
                    parts[i].2 = false;
                }
                None => return super::table::cut(&s, width as u16),
            }
        }
    }
}

#[cfg(test)]
mod title_tests {
    use super::Title;

    #[test]
    fn a_short_title_drops_the_least_first_and_keeps_the_state() {
        let t = Title::new("1 Logs")
            .part("1200", 2)
            .cut("/level>=warn and data.msg~/time.?out/")
            .keep("17 matches")
            .keep("follow")
            .part("Europe/Paris", 3);
        let full = "1 Logs · 1200 · /level>=warn and data.msg~/time.?out/ · 17 matches · follow · Europe/Paris";
        assert_eq!(t.fit(200), full);
        assert_eq!(
            t.fit(80),
            "1 Logs · 1200 · /level>=warn and data.msg~/time.?out/ · 17 matches · follow"
        );
        let narrow = t.fit(50);
        assert_eq!(narrow, "1 Logs · /level>=warn and d… · 17 matches · follow");
        assert_eq!(narrow.chars().count(), 50);
        assert!(t.fit(20).chars().count() <= 20);
    }
}
