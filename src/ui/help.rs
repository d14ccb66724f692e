//! The `?` overlay: the key table, one line a binding.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::keys::BINDINGS;
use super::theme::Theme;

pub fn draw(f: &mut Frame, t: &Theme, area: Rect) {
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
