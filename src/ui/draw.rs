//! The frame: layout of the panes, their borders and titles, the status
//! line and the help over them. Drawing is a pure function of a [`View`];
//! the scroll offsets it used come back for the next frame.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme::Theme;
use super::{Pane, Scroll, UiState, channels, connections, help, logs, status, timeline};
use crate::store::Store;
use crate::store::timeline::Instance;

/// What one frame shows: the store and the ui state, read only, with what
/// the controller worked out for it (`App::prepare`, `App::view`).
pub struct View<'a> {
    pub store: &'a Store,
    pub ui: &'a UiState,
    pub theme: &'a Theme,
    /// Why commands are refused (replaying a recording, no live source).
    pub read_only: Option<&'a str>,
    /// The selected app instance.
    pub instance: Option<&'a Instance>,
    /// Positions (into the instance's entries) the timeline list shows.
    pub timeline_rows: &'a [usize],
    /// Position of the selected timeline entry.
    pub timeline_sel: Option<usize>,
    /// Entries of the Logs view shown (all, or up to a freeze).
    pub log_len: usize,
    /// View index of the selected log entry (None: following the end).
    pub log_sel: Option<usize>,
    /// The time of the frame (countdowns).
    pub now_ms: u64,
    /// The Channels pane's rows (filtered): source index and channel name.
    pub channel_rows: &'a [(usize, String)],
}

/// Below this many columns the panes are shown one at a time.
pub const NARROW: u16 = 100;

/// Draw everything; returns the scroll offsets used (keep them in
/// `UiState::scroll` for the next frame).
pub fn draw(f: &mut Frame, v: &View) -> Scroll {
    let mut scroll = v.ui.scroll;
    // Where panes and rows are is this frame's alone.
    scroll.panes = Default::default();
    scroll.rows = Default::default();
    scroll.hist = None;
    let area = f.area();
    if area.width < 20 || area.height < 6 {
        f.render_widget(Paragraph::new("roomtap: terminal too small"), area);
        return scroll;
    }
    let [body, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    // The Timeline steps aside when nothing here can bring an app (a room,
    // Leap, a TracimDaemon, legume on their own): the others get its room.
    let apps_possible = !v.store.timeline.instances.is_empty()
        || v.store
            .sources
            .iter()
            .any(|s| s.kind.first_pane() == crate::source::kind::FirstPane::Timeline);
    if v.ui.zoom || (!apps_possible && v.ui.focus == Pane::Timeline) {
        draw_pane(f, v, v.ui.focus, body, &mut scroll);
    } else if body.width < NARROW {
        // Too narrow for panes side by side: one at a time, under a tab
        // bar naming them all (1 2 3 4, Tab).
        let [bar, pane] = Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(body);
        let t = v.theme;
        let mut spans = Vec::new();
        for p in Pane::ALL {
            if p == Pane::Timeline && !apps_possible {
                continue;
            }
            let style = if p == v.ui.focus { t.selected } else { t.dim };
            spans.push(Span::styled(format!(" {} ", p.title()), style));
            spans.push(Span::raw(" "));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), bar);
        draw_pane(f, v, v.ui.focus, pane, &mut scroll);
    } else if !apps_possible {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(body);
        let [logs, conns] =
            Layout::vertical([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(left);
        draw_pane(f, v, Pane::Logs, logs, &mut scroll);
        draw_pane(f, v, Pane::Connections, conns, &mut scroll);
        draw_pane(f, v, Pane::Channels, right, &mut scroll);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        let [logs, conns] =
            Layout::vertical([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(left);
        let [timeline, channels] =
            Layout::vertical([Constraint::Percentage(72), Constraint::Percentage(28)]).areas(right);
        draw_pane(f, v, Pane::Logs, logs, &mut scroll);
        draw_pane(f, v, Pane::Connections, conns, &mut scroll);
        draw_pane(f, v, Pane::Timeline, timeline, &mut scroll);
        draw_pane(f, v, Pane::Channels, channels, &mut scroll);
    }
    status::draw(f, v, status);
    if v.ui.help {
        help::draw(f, v, body);
    }
    scroll
}

fn draw_pane(f: &mut Frame, v: &View, pane: Pane, area: Rect, scroll: &mut Scroll) {
    scroll.panes[pane as usize] = Some(area);
    let focused = v.ui.focus == pane;
    let t = v.theme;
    let border = if focused { t.border_focus } else { t.border };
    let title = match pane {
        Pane::Logs => logs::title(v),
        Pane::Timeline => timeline::title(v),
        Pane::Channels => channels::title(v),
        Pane::Connections => super::lines::Title::new(pane.title()),
    }
    // Inside the corners, with a space each side.
    .fit(usize::from(area.width.saturating_sub(4)));
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
        Pane::Logs => logs::draw(f, v, inner, scroll),
        Pane::Channels => channels::draw(f, v, inner, scroll),
        Pane::Connections => connections::draw(f, v, inner, scroll),
        Pane::Timeline => timeline::draw(f, v, inner, scroll),
    }
}
