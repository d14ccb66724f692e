//! Prompts: opening them, typing and pasting into them, submitting them;
//! filters apply as they are typed.

use super::App;
use crate::event::{Command, CommandKind};
use crate::protocols::redux::wire::model::ReduxCommand;
use crate::ui::keymap::Action;
use crate::ui::{Pane, Prompt, PromptKind};

impl App {
    /// Paste goes into an open prompt (a filter applies at once).
    pub fn paste(&mut self, text: &str) {
        if let Some(p) = &mut self.ui.prompt {
            let clean: String = text
                .chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect();
            p.insert(&clean);
            self.dirty = true;
            if let PromptKind::Filter(pane) = p.kind {
                let text = p.text.clone();
                self.apply_filter(pane, &text, true);
            }
        }
    }

    /// d, P (the pace choice), : and /.
    pub(super) fn open_prompt(&mut self, a: Action) {
        let open = |kind, text| Some(Prompt::new(kind, text));
        match a {
            Action::DispatchPrompt => {
                if self.target().is_none() {
                    return;
                }
                self.ui.prompt = open(PromptKind::Dispatch, String::new());
            }
            Action::Replay => {
                if self.target().is_none() {
                    return;
                }
                self.ui.choosing_pace = true;
                self.ui.say(format!(
                    "replay pace: 1 recorded · 2 2× · 4 4× · f every 250 ms · {} cancel",
                    crate::ui::keys::name(&Action::Escape)
                ));
            }
            // Always opens: what cannot be sent is said inside it.
            Action::CommandLine => self.ui.prompt = open(PromptKind::Command, String::new()),
            Action::FilterPrompt => {
                let pane = match self.ui.focus {
                    Pane::Timeline => Pane::Timeline,
                    Pane::Channels => Pane::Channels,
                    _ => Pane::Logs,
                };
                let text = match pane {
                    Pane::Timeline => self
                        .ui
                        .tl
                        .filter
                        .as_ref()
                        .map(|q| q.source.clone())
                        .unwrap_or_default(),
                    Pane::Channels => self
                        .ui
                        .chans
                        .filter
                        .as_ref()
                        .map(|q| q.source.clone())
                        .unwrap_or_default(),
                    _ => self.store.logs.filter().unwrap_or_default().to_string(),
                };
                self.ui.filter_error = None;
                self.ui.focus = pane;
                let mut p = Prompt::new(PromptKind::Filter(pane), text.clone());
                p.before = Some(text);
                self.ui.prompt = Some(p);
            }
            _ => {}
        }
    }

    pub(super) fn prompt_action(&mut self, a: Action) {
        let Some(p) = &mut self.ui.prompt else { return };
        let edits = matches!(
            a,
            Action::Input(_)
                | Action::Backspace
                | Action::Delete
                | Action::KillStart
                | Action::KillWord
                | Action::Escape
                | Action::HistoryPrev
                | Action::HistoryNext
        );
        if edits {
            self.ui.prompt_error = None;
        }
        match a {
            Action::Input(c) => p.insert(c.encode_utf8(&mut [0; 4])),
            Action::Backspace => p.backspace(),
            Action::Delete => p.delete(),
            Action::KillStart => p.kill_start(),
            Action::KillWord => p.kill_word(),
            Action::CursorLeft => return p.left(),
            Action::CursorRight => return p.right(),
            Action::LineStart => return p.cursor = 0,
            Action::LineEnd => return p.cursor = p.text.len(),
            Action::HistoryPrev | Action::HistoryNext => {
                let past = self
                    .ui
                    .prompt_history
                    .get(p.history_key())
                    .cloned()
                    .unwrap_or_default();
                let at = match (&p.hist, a == Action::HistoryPrev) {
                    (None, true) => past.len().checked_sub(1),
                    (None, false) => None,
                    (Some((i, _)), true) => Some(i.saturating_sub(1)),
                    (Some((i, _)), false) => Some(i + 1),
                };
                match at {
                    Some(i) if i < past.len() => {
                        let draft = p.hist.take().map_or_else(|| p.text.clone(), |(_, d)| d);
                        p.set(past[i].clone());
                        p.hist = Some((i, draft));
                    }
                    // Past the newest: back to what was being typed.
                    Some(_) => {
                        if let Some((_, draft)) = p.hist.take() {
                            p.set(draft);
                        }
                    }
                    None => return,
                }
            }
            Action::Escape => {
                // A filter prompt puts back the filter it opened with.
                let back = match (&p.kind, &p.before) {
                    (PromptKind::Filter(pane), Some(before)) => Some((*pane, before.clone())),
                    _ => None,
                };
                self.ui.prompt = None;
                self.ui.logs.pending = None;
                if let Some((pane, before)) = back {
                    self.apply_filter(pane, &before, false);
                }
                self.ui.filter_error = None;
                self.ui.clear_bad_filter();
                return;
            }
            Action::ToggleCase => {
                if matches!(p.kind, PromptKind::Filter(_)) {
                    self.ui.case_sensitive = !self.ui.case_sensitive;
                } else {
                    return;
                }
            }
            Action::Quit => {
                self.effects.push(super::Effect::Quit);
                return;
            }
            Action::Submit => {
                self.submit();
                return;
            }
            _ => return,
        }
        // Filters apply as you type.
        if let Some(Prompt {
            kind: PromptKind::Filter(pane),
            text,
            ..
        }) = &self.ui.prompt
        {
            let text = text.clone();
            let pane = *pane;
            self.apply_filter(pane, &text, true);
        }
    }

    /// Enter in a prompt: keep a filter, send a command or a dispatch.
    fn submit(&mut self) {
        let Some(p) = self.ui.prompt.take() else {
            return;
        };
        if !p.text.trim().is_empty() {
            let past = self.ui.prompt_history.entry(p.history_key()).or_default();
            past.retain(|x| *x != p.text);
            past.push(p.text.clone());
            if past.len() > crate::ui::HISTORY {
                past.remove(0);
            }
        }
        match p.kind {
            PromptKind::Filter(_) => {
                self.apply_pending_filter();
                if let Some(e) = &self.ui.filter_error {
                    // Keep the prompt open until the query is fixed.
                    self.ui
                        .tell(crate::ui::StatusKind::BadFilter, format!("bad filter {e}"));
                    self.ui.prompt = Some(p);
                }
            }
            PromptKind::Command => match self.command_line(&p.text) {
                Ok((source, kind)) => {
                    self.ui.say(format!("sent: {}", kind.describe()));
                    self.send_command(Command { source, kind });
                }
                Err(e) => {
                    // Said inside the prompt, which keeps the text to fix.
                    self.ui.prompt_error = Some(e);
                    self.ui.prompt = Some(p);
                }
            },
            PromptKind::Dispatch => {
                let text = p.text.trim().to_string();
                if text.is_empty() {
                    self.ui.say("nothing to dispatch");
                } else if let Some((source, instance)) = self.target() {
                    self.send(Command {
                        source,
                        kind: CommandKind::Redux(ReduxCommand::DispatchUserAction {
                            instance,
                            text,
                        }),
                    });
                }
            }
        }
    }

    /// Parse and apply the filter being typed; a bad query leaves the last
    /// good one in place and is shown with where it went wrong. While
    /// `typing` over logs too many to rescan at every key, the Logs' filter
    /// waits for a pause ([`App::tick`]) or Enter.
    fn apply_filter(&mut self, pane: Pane, text: &str, typing: bool) {
        let q = if text.trim().is_empty() {
            None
        } else {
            match crate::query::Query::parse(text, self.ui.case_sensitive) {
                Ok(q) => Some(q),
                Err(e) => {
                    self.ui.filter_error = Some(e);
                    return;
                }
            }
        };
        self.ui.filter_error = None;
        // A warning about the query is over once it is fixed.
        self.ui.clear_bad_filter();
        match pane {
            Pane::Timeline => self.ui.tl.filter = q,
            Pane::Channels => {
                self.ui.chans.filter = q;
                self.ui.chans.sel = 0;
                self.ui.chans.detail.focus = false;
            }
            _ if typing && self.store.logs.slow_to_rescan() => {
                self.ui.logs.pending = Some(crate::ui::PendingFilter {
                    query: q,
                    due: None,
                });
            }
            _ => self.set_logs_query(q),
        }
    }

    /// The Logs' filter, now (a pending one is dropped).
    pub(super) fn set_logs_query(&mut self, q: Option<crate::query::Query>) {
        self.ui.logs.pending = None;
        self.store.logs.set_query(q);
        self.ui.logs.follow = true;
        self.ui.logs.sel = None;
    }

    /// A pending Logs filter, applied now (Enter, or typing paused).
    pub(super) fn apply_pending_filter(&mut self) {
        if let Some(p) = self.ui.logs.pending.take() {
            self.set_logs_query(p.query);
            self.dirty = true;
        }
    }
}
