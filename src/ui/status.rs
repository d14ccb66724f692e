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
        prompt_line(v, p)
    } else if let Some(c) = &v.ui.confirm {
        Line::from(vec![
            Span::styled(format!(" {} ", sanitize(&c.question)), t.notice),
            Span::styled(" y yes · any other key no", t.key),
        ])
    } else if let Some((msg, kind)) = &v.ui.status {
        let st = match kind {
            StatusKind::Info => t.status,
            StatusKind::Warn => t.notice,
        };
        Line::from(Span::styled(format!(" {}", sanitize(msg)), st))
    } else {
        let sources = &v.store.sources;
        let has_command_line = sources.iter().any(|s| s.caps.command_line.is_some());
        let hint = hint_line(v.ui.focus, |need| match need {
            Need::None => true,
            Need::CommandLine => has_command_line,
            Need::Watch => sources.iter().any(|s| s.caps.watch.is_some()),
            Need::NoCommandLine => !has_command_line,
        });
        Line::from(Span::styled(format!(" {hint}"), t.status))
    };
    f.render_widget(Paragraph::new(line).style(t.status), area);
}

/// The prompt being typed, a bad filter marked where it goes wrong.
fn prompt_line<'a>(v: &View, p: &'a Prompt) -> Line<'a> {
    let t = v.theme;
    let label = match p.kind {
        PromptKind::Filter(_) => "filter /",
        PromptKind::Dispatch => "dispatch (JS object literal) ›",
        PromptKind::Command => ":",
    };
    let mut spans = vec![Span::styled(format!(" {label} "), t.key)];
    let err = match p.kind {
        PromptKind::Filter(_) => v.ui.filter_error.as_ref(),
        _ => None,
    };
    match err {
        // Mark where the query went wrong.
        Some(e) if e.pos < p.text.len() && p.text.is_char_boundary(e.pos) => {
            let (a, b) = p.text.split_at(e.pos);
            let cut = b.chars().next().map_or(0, char::len_utf8);
            spans.push(Span::raw(sanitize(a).into_owned()));
            spans.push(Span::styled(
                sanitize(&b[..cut]).into_owned(),
                t.error.add_modifier(Modifier::REVERSED),
            ));
            spans.push(Span::raw(sanitize(&b[cut..]).into_owned()));
            spans.push(Span::styled("█", t.key));
        }
        _ => {
            spans.push(Span::raw(sanitize(&p.text).into_owned()));
            spans.push(Span::styled("█", t.key));
        }
    }
    if let Some(e) = err {
        spans.push(Span::styled(
            format!("  ✗ {}", sanitize(&e.to_string())),
            t.error,
        ));
    } else if let (false, Some(e)) = (matches!(p.kind, PromptKind::Filter(_)), &v.ui.prompt_error) {
        spans.push(Span::styled(format!("  ✗ {}", sanitize(e)), t.error));
    } else if matches!(p.kind, PromptKind::Filter(_)) {
        let case = if v.ui.case_sensitive {
            "Aa exact case"
        } else {
            "aa any case"
        };
        spans.push(Span::styled(
            format!(
                "   {case} ({}) · {} ok · {} close",
                keys::name(&Action::ToggleCase),
                keys::name(&Action::Submit),
                keys::name(&Action::Escape)
            ),
            t.dim,
        ));
    } else {
        spans.push(Span::styled(
            format!(
                "   {} ok · {} cancel",
                keys::name(&Action::Submit),
                keys::name(&Action::Escape)
            ),
            t.dim,
        ));
    }
    Line::from(spans)
}
