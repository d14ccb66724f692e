//! The status line: the open prompt, else the last message, else the
//! focused pane's key hints (from the key table).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::keymap::{Action, Need};
use super::keys::{self, hint_line};
use super::{Prompt, PromptKind, StatusKind, View};
use crate::text::sanitize;

pub fn draw(f: &mut Frame, v: &View, area: Rect) {
    let t = v.theme;
    let line = if let Some(p) = &v.ui.prompt {
        prompt_line(v, p, usize::from(area.width))
    } else if let Some(c) = &v.ui.confirm {
        Line::from(vec![
            Span::styled(format!(" {} ", sanitize(&c.question)), t.notice),
            Span::styled(" y yes · any other key no", t.key),
        ])
    } else if let Some(r) = &v.ui.replay {
        // Progress, for as long as it runs.
        Line::from(vec![
            Span::styled(
                format!(
                    " ▶ replay {}/{} · {} ",
                    r.next,
                    r.steps.len(),
                    r.pace.label()
                ),
                t.notice,
            ),
            Span::styled(" any key stops", t.key),
        ])
    } else if let Some((msg, kind)) = v.ui.status_now(v.now_ms) {
        let st = match kind {
            StatusKind::Info => t.status,
            StatusKind::Warn | StatusKind::BadFilter => t.notice,
        };
        Line::from(Span::styled(format!(" {}", sanitize(msg)), st))
    } else {
        let sources = &v.store.sources;
        let has_command_line = sources.iter().any(|s| s.caps.command_line.is_some());
        let hint = hint_line(v.ui.focus, v.ui.place(), |need| match need {
            Need::None => true,
            Need::CommandLine => has_command_line,
            Need::Watch => sources.iter().any(|s| s.caps.watch.is_some()),
            Need::NoCommandLine => !has_command_line,
            // Replaying a recording: what changes an app does nothing.
            Need::Live => v.read_only.is_none(),
        });
        Line::from(Span::styled(
            format!(
                " {}",
                fit_hints(&hint, usize::from(area.width).saturating_sub(1))
            ),
            t.status,
        ))
    };
    f.render_widget(Paragraph::new(line).style(t.status), area);
}

/// The hints that fit `width` columns, the focused pane's first (the
/// table orders them so): what does not fit goes from the end, but `?
/// help` always ends the line.
pub fn fit_hints(line: &str, width: usize) -> String {
    // The help's hint, with its key as the run binds it.
    let help = format!("{} help", keys::name(&Action::Help));
    let help = help.as_str();
    let mut parts: Vec<&str> = line.split(" · ").filter(|p| *p != help).collect();
    let len = |parts: &[&str]| {
        parts.iter().map(|p| p.chars().count() + 3).sum::<usize>() + help.chars().count()
    };
    while !parts.is_empty() && len(&parts) > width {
        parts.pop();
    }
    parts.push(help);
    parts.join(" · ")
}

/// The prompt being typed, within `width` columns: the label, a window of
/// the text that keeps the cursor (and a bad filter's mark) in view, the
/// cursor, and after it the error in full, or the prompt's keys.
fn prompt_line<'a>(v: &View, p: &'a Prompt, width: usize) -> Line<'a> {
    let t = v.theme;
    let label = match p.kind {
        PromptKind::Filter(_) => "filter /",
        PromptKind::Dispatch => "dispatch (JS object literal) ›",
        PromptKind::Command => ":",
    };
    let label = format!(" {label} ");
    let err = match p.kind {
        PromptKind::Filter(_) => {
            v.ui.filter_error
                .as_ref()
                .map(|e| (Some(e.pos), e.to_string()))
        }
        _ => v.ui.prompt_error.as_ref().map(|e| (None, e.clone())),
    };
    let tail = match &err {
        Some((_, e)) => format!("  ✗ {}", sanitize(e)),
        None if matches!(p.kind, PromptKind::Filter(_)) => {
            let case = if v.ui.case_sensitive {
                "Aa exact case"
            } else {
                "aa any case"
            };
            // Over logs too many to rescan at every key, the filter
            // applies once typing pauses.
            let waits = if v.ui.logs.pending.is_some() {
                " · applies at a pause"
            } else {
                ""
            };
            format!(
                "   {case} ({}){waits} · {} ok · {} close",
                keys::name(&Action::ToggleCase),
                keys::name(&Action::Submit),
                keys::name(&Action::Escape)
            )
        }
        None => format!(
            "   {} ok · {} cancel",
            keys::name(&Action::Submit),
            keys::name(&Action::Escape)
        ),
    };
    // The text gets what the label and the tail leave, at least a third
    // of the line; an error is shown whole before the keys' reminder.
    let width = width.max(20);
    let tail_w = tail.chars().count();
    let min_text = (width / 5).max(12);
    let text_w = width
        .saturating_sub(label.chars().count() + 1)
        .saturating_sub(tail_w.min(width.saturating_sub(label.chars().count() + min_text)))
        .max(min_text);
    let chars: Vec<(usize, char)> = p.text.char_indices().collect();
    let cur = chars
        .iter()
        .position(|(i, _)| *i >= p.cursor)
        .unwrap_or(chars.len());
    let mark = err
        .as_ref()
        .and_then(|(pos, _)| *pos)
        .and_then(|pos| chars.iter().position(|(i, _)| *i >= pos));
    // The window: the cursor in view, and the mark too when both fit.
    let focus_lo = mark.map_or(cur, |m| m.min(cur));
    let focus_hi = mark.map_or(cur, |m| m.max(cur));
    let room = text_w.saturating_sub(2);
    let mut start = (focus_hi + 1).saturating_sub(room);
    if focus_lo < start {
        start = focus_lo;
    }
    let end = (start + room).min(chars.len());
    let mut spans = vec![Span::styled(label, t.key)];
    if start > 0 {
        spans.push(Span::styled("…", t.dim));
    }
    for (k, (_, c)) in chars.iter().enumerate().take(end).skip(start) {
        let text = sanitize(&c.to_string()).into_owned();
        let style = if k == cur {
            t.key.add_modifier(Modifier::REVERSED)
        } else if Some(k) == mark {
            t.error.add_modifier(Modifier::REVERSED)
        } else {
            ratatui::style::Style::default()
        };
        spans.push(Span::styled(text, style));
    }
    if end < chars.len() {
        spans.push(Span::styled("…", t.dim));
    }
    if cur >= chars.len() {
        spans.push(Span::styled("█", t.key));
    }
    let st = if err.is_some() { t.error } else { t.dim };
    spans.push(Span::styled(tail, st));
    Line::from(spans)
}
