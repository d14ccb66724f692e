//! The `?` overlay: the key table, one line a binding, grouped under
//! headings (the focused pane's keys first), then the `:`
//! commands of every protocol a source of this run speaks; as wide as the
//! screen allows, scrolled with the list keys when it does not fit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::View;
use super::keymap::Group;
use super::keys::BINDINGS;
use crate::text::sanitize;

/// The keys' column.
const KEYS: usize = 18;

/// `text` cut at spaces into rows of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut rows = vec![String::new()];
    for word in text.split(' ') {
        let row = rows.last_mut().expect("one row");
        let n = row.chars().count();
        if n > 0 && n + 1 + word.chars().count() > width {
            rows.push(word.to_string());
        } else {
            if n > 0 {
                row.push(' ');
            }
            row.push_str(word);
        }
    }
    rows
}

/// The overlay's lines for a box `inner` columns wide: a key column, the
/// text beside it wrapped under itself (also what a test reads).
pub fn lines(v: &View, inner: usize) -> Vec<Line<'static>> {
    let t = v.theme;
    let text_w = inner.saturating_sub(KEYS + 2).max(20);
    let mut lines = Vec::new();
    let entry = |lines: &mut Vec<Line<'static>>, keys: &str, text: &str| {
        let keys = sanitize(keys).into_owned();
        let mut rows = wrap(text, text_w).into_iter();
        if keys.chars().count() > KEYS {
            // Keys too long for the column: on a row of their own.
            lines.push(Line::from(Span::styled(format!(" {keys}"), t.key)));
        } else {
            let first = rows.next().unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(format!("{keys:>KEYS$}  "), t.key),
                Span::raw(first),
            ]));
        }
        for r in rows {
            lines.push(Line::from(Span::raw(format!("{:KEYS$}  {r}", ""))));
        }
    };
    // Grouped, the focused pane's own keys first.
    let first = match v.ui.focus {
        super::Pane::Logs => Group::Logs,
        super::Pane::Timeline => Group::Timeline,
        super::Pane::Channels | super::Pane::Connections => Group::Moving,
    };
    let order = std::iter::once(first).chain(Group::ALL.into_iter().filter(|g| *g != first));
    for g in order {
        lines.push(Line::from(Span::styled(
            format!("{:KEYS$}  ── {} ──", "", g.heading()),
            t.dim,
        )));
        let keys = super::rebind::current();
        for b in BINDINGS.iter().filter(|b| b.group == g) {
            entry(&mut lines, &keys.shown(b, b.keys, ' '), b.help);
        }
    }
    // Each protocol once, in the order its first source came.
    let mut seen: Vec<&str> = Vec::new();
    for s in &v.store.sources {
        let Some(cl) = s.caps.command_line else {
            continue;
        };
        let name = s.kind.name();
        if seen.contains(&name) {
            continue;
        }
        if seen.is_empty() {
            lines.push(Line::from(Span::styled(
                format!("{:KEYS$}  ── : commands ──", ""),
                t.dim,
            )));
        }
        seen.push(name);
        let usage = cl.usage.strip_prefix("commands: ").unwrap_or(cl.usage);
        entry(&mut lines, name, usage);
    }
    lines
}

pub fn draw(f: &mut Frame, v: &View, area: Rect) {
    let t = v.theme;
    let w = area.width.saturating_sub(2).clamp(20.min(area.width), 120);
    let body = lines(v, usize::from(w.saturating_sub(2)));
    let rows = body.len();
    let h = area.height.min(rows as u16 + 2);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let visible = usize::from(h.saturating_sub(2));
    let max_scroll = rows.saturating_sub(visible) as u16;
    let scroll = v.ui.help_scroll.min(max_scroll);
    let title = if max_scroll > 0 {
        format!(
            " keys · {}/{} · j k PgUp PgDn g G scroll · any other key closes ",
            (usize::from(scroll) + visible).min(rows),
            rows
        )
    } else {
        " keys · any key closes ".to_string()
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(body).scroll((scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_focus)
                .title(title),
        ),
        r,
    );
}
