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

use super::keymap::Action;
use super::pane::{DetailState, Outcome, delta_of, step};
use crate::event::SourceId;
use crate::store::timeline::{EntryRecord, Timeline};

/// The Timeline pane's own state: the selected app (instances are only
/// ever added, so its index is its identity), the selected action by id
/// (new actions never move it), follow, the filter, the detail's tab and
/// the detail, and the filtered list.
#[derive(Debug)]
pub struct TimelinePane {
    pub inst: usize,
    pub follow: bool,
    /// The selected action's id when not following.
    pub sel: Option<u64>,
    pub filter: Option<crate::query::Query>,
    pub tab: DetailTab,
    pub detail: DetailState,
    /// The list as filtered, kept until the instance or the filter changes.
    pub rows: TimelineRows,
}

impl Default for TimelinePane {
    fn default() -> Self {
        Self {
            inst: 0,
            follow: true,
            sel: None,
            filter: None,
            tab: DetailTab::Action,
            detail: DetailState::default(),
            rows: TimelineRows::default(),
        }
    }
}

/// What the filtered timeline list depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TimelineKey {
    inst: usize,
    source: SourceId,
    name: String,
    rev: u64,
    len: usize,
    first: Option<u64>,
    /// The filter's text, when there is one.
    query: Option<String>,
    case: bool,
}

/// Positions (into the instance's entries) the timeline list shows, and
/// what they were worked out from (None: no instance).
#[derive(Debug, Default)]
pub struct TimelineRows {
    key: Option<TimelineKey>,
    rows: Vec<usize>,
}

impl TimelineRows {
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }
}

impl TimelinePane {
    /// Where its keys go.
    pub fn place(&self) -> super::keymap::Place {
        use super::keymap::Place;
        if self.detail.focus {
            Place::Detail
        } else {
            Place::List
        }
    }

    /// The selected app.
    pub fn instance<'a>(&self, t: &'a Timeline) -> Option<&'a Instance> {
        t.instances.get(self.inst)
    }

    /// Positions (into the instance's entries) the list shows.
    pub fn rows_now(&self, t: &Timeline) -> Vec<usize> {
        if self.rows.key == self.key(t) {
            self.rows.rows.clone()
        } else {
            self.filtered(t)
        }
    }

    /// The cached rows are those of the instance and filter now.
    pub fn rows_fresh(&self, t: &Timeline) -> bool {
        self.rows.key == self.key(t)
    }

    /// Work the list out again when the instance, its entries or the
    /// filter changed.
    pub fn refresh(&mut self, t: &Timeline) {
        let key = self.key(t);
        if self.rows.key != key {
            self.rows.rows = self.filtered(t);
            self.rows.key = key;
        }
    }

    fn key(&self, t: &Timeline) -> Option<TimelineKey> {
        let inst = self.instance(t)?;
        let q = self.filter.as_ref();
        Some(TimelineKey {
            inst: self.inst,
            source: inst.source,
            name: inst.key.clone(),
            rev: inst.rev,
            len: inst.entries.len(),
            first: inst.entries.front().map(|e| e.id),
            query: q.map(|q| q.source.clone()),
            case: q.is_some_and(|q| q.case_sensitive),
        })
    }

    fn filtered(&self, t: &Timeline) -> Vec<usize> {
        let Some(inst) = self.instance(t) else {
            return Vec::new();
        };
        let Some(q) = &self.filter else {
            return (0..inst.entries.len()).collect();
        };
        let label = inst.label();
        inst.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                q.matches(&EntryRecord {
                    entry: e,
                    instance: &label,
                })
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The pane's keys: movement in the list or (when it has the keys) in
    /// the detail, End/F (follow), Enter in the detail (fold; in the list
    /// it is a jump, which the app sends), `o`, `n` (next app), `[`/`]`
    /// (tabs), Esc (the filter goes).
    pub fn act(&mut self, a: &Action, t: &Timeline) -> Outcome {
        if self.detail.focus && self.detail.act(a) {
            return Outcome::Done;
        }
        if let Some(d) = delta_of(a) {
            self.move_by(d, t);
            return Outcome::Done;
        }
        if let Action::Row(row) = a {
            // Selected, never jumped to (Enter jumps).
            self.refresh(t);
            let n = self.rows.rows().len();
            if n > 0 {
                let cur = self
                    .selected_position(t)
                    .and_then(|p| self.rows.rows().iter().position(|&v| v >= p))
                    .unwrap_or(n - 1);
                self.move_by((*row).min(n - 1) as i64 - cur as i64, t);
            }
            return Outcome::Done;
        }
        match a {
            Action::Bottom | Action::Follow => {
                self.follow = true;
                self.sel = None;
            }
            Action::ToggleDetailFocus => self.detail.focus = !self.detail.focus,
            Action::NextInstance => {
                let n = t.instances.len();
                if n == 0 {
                    return Outcome::Done;
                }
                self.inst = (self.inst + 1) % n;
                self.follow = true;
                self.sel = None;
                self.detail.sel = 0;
                // What the status said of the last app is stale now.
                let label = self.instance(t).map(|i| i.label()).unwrap_or_default();
                return Outcome::Say(format!("commands now reach {label}"));
            }
            Action::PrevTab | Action::NextTab => {
                let i = DetailTab::ALL
                    .iter()
                    .position(|x| *x == self.tab)
                    .unwrap_or(0);
                let by = if *a == Action::NextTab { 1 } else { 2 };
                self.tab = DetailTab::ALL[(i + by) % 3];
                self.detail.sel = 0;
            }
            Action::Escape if self.filter.is_some() => self.filter = None,
            _ => return Outcome::Pass,
        }
        Outcome::Done
    }

    fn move_by(&mut self, delta: i64, t: &Timeline) {
        self.refresh(t);
        let rows = self.rows.rows();
        if rows.is_empty() {
            return;
        }
        let cur = self
            .selected_position(t)
            .and_then(|p| rows.iter().position(|&v| v >= p))
            .unwrap_or(rows.len() - 1);
        let next = step(cur, delta, rows.len());
        let last = next + 1 == rows.len();
        let Some(inst) = self.instance(t) else { return };
        let id = inst.entries[rows[next]].id;
        self.follow = delta > 0 && last;
        self.sel = (!self.follow).then_some(id);
        self.detail.sel = 0;
    }

    /// Position of the selected entry in the instance's list.
    pub fn selected_position(&self, t: &Timeline) -> Option<usize> {
        let inst = self.instance(t)?;
        if inst.entries.is_empty() {
            return None;
        }
        if self.follow {
            return Some(inst.entries.len() - 1);
        }
        let id = self.sel?;
        inst.position_of(id).or(Some(inst.entries.len() - 1))
    }
}

pub fn title(v: &View) -> lines::Title {
    let mut s = lines::Title::new(Pane::Timeline.title());
    let n = v.store.timeline.instances.len();
    if let Some(i) = v.instance {
        s = s
            .cut(sanitize(&i.label()).into_owned())
            .part(format!("[{}/{}]", v.ui.tl.inst + 1, n), 2)
            .part(
                if v.read_only.is_some() {
                    "recorded"
                } else {
                    i.liveness.label()
                },
                1,
            );
        if i.is_paused {
            s = s.keep("paused");
        }
        if i.is_locked {
            s = s.keep("locked");
        }
    }
    if let Some(q) = &v.ui.tl.filter {
        s = s
            .cut(format!("/{}", sanitize_capped(&q.source, 40)))
            .keep(format!("{} shown", v.timeline_rows.len()));
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
        let msg = if v.ui.tl.filter.is_some() {
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
    let list_focus = v.ui.focus == Pane::Timeline && !v.ui.tl.detail.focus;
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
    scroll.rows[Pane::Timeline as usize] = Some((area, off));
}

/// One action: current marker, index in the app, type, time and delta.
/// The gap before an action as one bar, a step a tenfold: under 10 ms,
/// 100 ms, 1 s, 10 s, a minute, more.
pub fn gap_bar(ms: u64) -> &'static str {
    match ms {
        0..10 => "▁",
        10..100 => "▂",
        100..1_000 => "▃",
        1_000..10_000 => "▅",
        10_000..60_000 => "▆",
        _ => "█",
    }
}

fn action_line<'a>(v: &View, inst: &'a Instance, pos: usize) -> Line<'a> {
    let t = v.theme;
    let e = &inst.entries[pos];
    let prev_t = pos
        .checked_sub(1)
        .and_then(|p| inst.entries.get(p))
        .map(|p| p.time_ms());
    let gap = prev_t.map(|p| e.time_ms().saturating_sub(p));
    let delta = gap.map(|g| format!("+{g}ms")).unwrap_or_default();
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
        // The gap since the action before, as a bar: a burst reads low,
        // a pause high.
        Span::styled(gap.map_or(" ", gap_bar), t.key),
        Span::raw(" "),
    ];
    spans.extend(highlighted(
        &e.action_type,
        v.ui.tl.filter.as_ref(),
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
        let st = if tab == v.ui.tl.tab {
            t.selected
        } else {
            t.dim
        };
        tabs.push(Span::styled(format!(" {} ", tab.label()), st));
        tabs.push(Span::raw(" "));
    }
    let detail = Detail {
        lines: &v.ui.tl.detail.view.lines,
        sel: v.ui.tl.detail.sel,
        offset: v.ui.scroll.detail,
        focus: v.ui.focus == Pane::Timeline && v.ui.tl.detail.focus,
    };
    lines::draw_detail(f, t, area, tabs, &detail)
}
