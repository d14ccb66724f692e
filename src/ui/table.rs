//! Aligned tables whose rows never wrap: columns sized from their content
//! and the width there is, the least useful dropped first when they do
//! not fit, one column taking what is left, every cut cell ending in `…`.
//! Drawn with ratatui's `Table` (Channels, Connections).

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};
use unicode_width::UnicodeWidthStr;

/// Columns whose `drop` is at least this go before the fill column is cut.
pub const SOFT: u8 = 3;

/// Rows looked at to size the columns (a long list is sized by its first).
const SIZED_BY: usize = 1000;

/// A column: its head, how it aligns, when it goes, how wide it may be.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub head: &'static str,
    /// Numbers align right.
    pub right: bool,
    /// Columns go highest first when the width is short; 0 never goes;
    /// [`SOFT`] and more go before the fill column is cut.
    pub drop: u8,
    /// Takes the width the others leave, up to its content (one column:
    /// the name, the URL).
    pub fill: bool,
    /// Narrowest it is drawn (a fill column narrower than this goes, with
    /// others, until it fits).
    pub min: u16,
    /// Widest it is sized to from its content.
    pub max: u16,
}

impl Column {
    pub const fn new(head: &'static str) -> Column {
        Column {
            head,
            right: false,
            drop: 0,
            fill: false,
            min: 1,
            max: 40,
        }
    }

    pub const fn right(self) -> Column {
        Column {
            right: true,
            ..self
        }
    }

    pub const fn drop(self, order: u8) -> Column {
        Column {
            drop: order,
            ..self
        }
    }

    pub const fn fill(self, min: u16) -> Column {
        Column {
            fill: true,
            min,
            ..self
        }
    }

    pub const fn max(self, max: u16) -> Column {
        Column { max, ..self }
    }
}

/// A cell: its text and style.
pub type Text = (String, Style);

/// The width of each column in `width` columns (None: dropped), sized from
/// the heads and `rows`.
pub fn widths(cols: &[Column], rows: &[Vec<Text>], width: u16) -> Vec<Option<u16>> {
    let content: Vec<u16> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let longest = rows
                .iter()
                .take(SIZED_BY)
                .filter_map(|r| r.get(i))
                .map(|(t, _)| t.width())
                .max()
                .unwrap_or(0);
            (longest.max(c.head.width()).min(usize::from(c.max)) as u16).max(c.min)
        })
        .collect();
    let mut kept: Vec<bool> = vec![true; cols.len()];
    let fill = cols.iter().position(|c| c.fill);
    // First the columns that go before the fill column is cut (`drop` of
    // SOFT and more) make room for all of its content; then the others go
    // until it has its narrowest.
    for (least, fill_w) in [
        (SOFT, fill.map_or(0, |f| content[f])),
        (1, fill.map_or(0, |f| cols[f].min)),
    ] {
        loop {
            let n = kept.iter().filter(|k| **k).count() as u16;
            let fixed: u16 = (0..cols.len())
                .filter(|&i| kept[i] && !cols[i].fill)
                .map(|i| content[i])
                .sum();
            let need = fixed + n.saturating_sub(1) + fill_w;
            if need <= width {
                let left = width - (need - fill_w);
                return (0..cols.len())
                    .map(|i| {
                        kept[i].then_some(if cols[i].fill {
                            // What is left, up to its content.
                            left.min(content[i])
                        } else {
                            content[i]
                        })
                    })
                    .collect();
            }
            // The next to go: the highest `drop` still kept.
            match (0..cols.len())
                .filter(|&i| kept[i] && cols[i].drop >= least)
                .max_by_key(|&i| (cols[i].drop, i))
            {
                Some(i) => kept[i] = false,
                None => break,
            }
        }
    }
    // Nothing more can go: what is kept is cut to fit.
    let mut left = width;
    (0..cols.len())
        .map(|i| {
            kept[i].then(|| {
                let w = content[i].min(left);
                left = left.saturating_sub(w + 1);
                w
            })
        })
        .collect()
}

/// `text` cut to `width` columns, `…` where cut.
pub fn cut(text: &str, width: u16) -> String {
    let width = usize::from(width);
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in text.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// The table of `rows` (each cell cut to its column, `…` where cut), with
/// a head row in `head`; row `selected` (an index into `rows`) in `sel`.
pub fn table<'a>(
    cols: &[Column],
    rows: Vec<Vec<Text>>,
    width: u16,
    head: Style,
    selected: Option<(usize, Style)>,
) -> Table<'a> {
    let w = widths(cols, &rows, width);
    let line = |text: String, style: Style, col: &Column| {
        let l = Line::from(Span::styled(text, style));
        if col.right { l.right_aligned() } else { l }
    };
    let heads: Vec<Cell> = cols
        .iter()
        .zip(&w)
        .filter_map(|(c, w)| w.map(|w| Cell::from(line(cut(c.head, w), head, c))))
        .collect();
    let body: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let cells: Vec<Cell> = r
                .into_iter()
                .zip(cols.iter().zip(&w))
                .filter_map(|((t, st), (c, w))| w.map(|w| Cell::from(line(cut(&t, w), st, c))))
                .collect();
            let row = Row::new(cells);
            match selected {
                Some((s, style)) if s == i => row.style(style),
                _ => row,
            }
        })
        .collect();
    let constraints: Vec<Constraint> = w.iter().flatten().map(|w| Constraint::Length(*w)).collect();
    Table::new(body, constraints)
        .header(Row::new(heads))
        .column_spacing(1)
}

/// Columns a trend column takes (a bar a second), and the pane width it
/// needs beside the table.
pub const TREND: u16 = 20;
pub const TREND_FROM: u16 = 90;

/// Split a table's area for a trend column on its right when it is wide
/// enough: the table's part, and the trend column's.
pub fn with_trend(area: Rect) -> (Rect, Option<Rect>) {
    if area.width < TREND_FROM {
        return (area, None);
    }
    let table = Rect {
        width: area.width - TREND - 1,
        ..area
    };
    let trend = Rect {
        x: area.x + area.width - TREND,
        width: TREND,
        ..area
    };
    (table, Some(trend))
}

/// A trend column: its heading on the first row, then a one-row
/// sparkline (ratatui's) for each row drawn, of that row's last seconds.
pub fn draw_trends(
    f: &mut ratatui::Frame,
    area: Rect,
    heading: &str,
    head: Style,
    bar: Style,
    rows: &[Vec<u64>],
) {
    use ratatui::widgets::{Paragraph, Sparkline};
    f.render_widget(
        Paragraph::new(Span::styled(heading.to_string(), head)),
        Rect { height: 1, ..area },
    );
    for (i, data) in rows.iter().enumerate() {
        let y = area.y + 1 + i as u16;
        if y >= area.y + area.height {
            break;
        }
        f.render_widget(
            Sparkline::default().data(data.as_slice()).style(bar),
            Rect {
                y,
                height: 1,
                ..area
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Text {
        (s.to_string(), Style::default())
    }

    const COLS: [Column; 4] = [
        Column::new("source").max(12),
        Column::new("channel").fill(7),
        Column::new("rate/s").right().drop(2),
        Column::new("bytes").right().drop(1),
    ];

    #[test]
    fn columns_size_from_content_and_the_fill_takes_the_rest() {
        let rows = vec![vec![t("leap"), t("presence"), t("1.5"), t("12 KB")]];
        assert_eq!(
            widths(&COLS, &rows, 40),
            [Some(6), Some(8), Some(6), Some(5)]
        );
        // A long name takes what the others leave.
        let rows = vec![vec![t("leap"), t(&"p".repeat(60)), t("1.5"), t("12 KB")]];
        assert_eq!(widths(&COLS, &rows, 40)[1], Some(40 - 6 - 6 - 5 - 3));
    }

    #[test]
    fn the_first_to_drop_go_first_and_the_rest_is_cut_with_an_ellipsis() {
        let rows = vec![vec![t("a-long-source-label"), t("x"), t("1"), t("2 B")]];
        // 12 + 7 + 6 + 5 + 3 gaps = 33: at 30, rate/s (drop 2) goes.
        let w = widths(&COLS, &rows, 30);
        assert_eq!(w, [Some(12), Some(7), None, Some(5)]);
        // At 14, both numbers go and the fill is at its narrowest… cut.
        let w = widths(&COLS, &rows, 14);
        assert_eq!(w[2], None);
        assert_eq!(w[3], None);
        assert_eq!(cut("a-long-source-label", 12), "a-long-sour…");
        assert_eq!(cut("short", 12), "short");
        assert_eq!(cut("日本語テキスト", 5), "日本…");
    }
}
