//! Where commands go: the source a capability's commands go to, the `:`
//! line's source, the selected app instance as a target, and the history
//! commands (skip, jump, sweep, commit, …) sent to it.

use super::App;
use crate::event::{Command, CommandKind, SourceId};
use crate::protocols::redux::wire::model::{LiftedAction, ReduxCommand};
use crate::source::kind::Caps;
use crate::store::SourceInfo;
use crate::store::timeline::Liveness;
use crate::ui::Pane;
use crate::ui::keymap::Action;

impl App {
    /// s x c r R p l u w: commands for the selected app or a room.
    pub(super) fn command(&mut self, a: Action) {
        match a {
            Action::Skip => self.skip(),
            Action::Sweep => self.dispatch_history(LiftedAction::Sweep),
            Action::Commit => self.dispatch_history(LiftedAction::Commit),
            Action::Rollback => self.dispatch_history(LiftedAction::Rollback),
            Action::Reset => self.dispatch_history(LiftedAction::Reset),
            Action::Pause => {
                let paused = self.instance().map(|i| i.is_paused).unwrap_or(false);
                self.dispatch_history(LiftedAction::PauseRecording(!paused));
            }
            Action::Lock => {
                let locked = self.instance().map(|i| i.is_locked).unwrap_or(false);
                self.dispatch_history(LiftedAction::LockChanges(!locked));
            }
            Action::Refresh => {
                if let Some((source, instance)) = self.target() {
                    self.send_command(Command {
                        source,
                        kind: CommandKind::Redux(ReduxCommand::Update { instance }),
                    });
                }
            }
            Action::Watch => {
                if let Some(source) = self.source_with(|c| c.watch.is_some()) {
                    let watch = self.store.sources[usize::from(source)].caps.watch;
                    if let Some(make) = watch {
                        let kind = make();
                        // Said as the state it goes to, from what the
                        // source last said of its watching.
                        let src = &self.store.sources[usize::from(source)];
                        let now = src
                            .facts
                            .iter()
                            .find(|(k, _)| k == "developer logs")
                            .map(|(_, v)| v.as_str());
                        let on =
                            now.is_some_and(|v| v.starts_with("on") || v.starts_with("opening"));
                        self.ui.say(if on {
                            format!("watching developer logs: off ({} stops it)", src.label)
                        } else {
                            format!("watching developer logs: on ({} starts it)", src.label)
                        });
                        self.send_command(Command { source, kind });
                    }
                }
            }
            _ => {}
        }
    }

    /// The source a capability's commands go to: the one selected in
    /// Connections when it has the capability, else the first that has it;
    /// a status says why when there is none.
    pub fn source_with(&mut self, has: impl Fn(&Caps) -> bool) -> Option<SourceId> {
        if let Some(why) = &self.read_only {
            let why = why.clone();
            self.ui.warn(why);
            return None;
        }
        let able: Vec<usize> = (0..self.store.sources.len())
            .filter(|&i| has(&self.store.sources[i].caps))
            .collect();
        let sel = self
            .ui
            .conns
            .sel
            .min(self.store.sources.len().saturating_sub(1));
        let chosen = if self.ui.focus == Pane::Connections && able.contains(&sel) {
            Some(sel)
        } else {
            able.first().copied()
        };
        if chosen.is_none() {
            self.ui
                .warn("no room source: start roomtap with `room URL` or --room URL");
        }
        chosen.map(|i| i as SourceId)
    }

    /// The `:` line as a command for the source it is for: the targeted
    /// source (selected in Connections) when its command line takes the
    /// word, else the first whose command line does.
    pub(super) fn command_line(&mut self, line: &str) -> Result<(SourceId, CommandKind), String> {
        if let Some(why) = &self.read_only {
            return Err(why.clone());
        }
        let has = |s: &SourceInfo| s.caps.command_line.is_some();
        let sel = self
            .ui
            .conns
            .sel
            .min(self.store.sources.len().saturating_sub(1));
        let target = match self.store.sources.get(sel) {
            Some(s) if self.ui.focus == Pane::Connections && has(s) => sel,
            _ => self.store.sources.iter().position(has).ok_or_else(|| {
                "no source here takes : commands (rooms do: start roomtap with `room URL` or --room URL)"
                    .to_string()
            })?,
        };
        let word = line.split_whitespace().next().unwrap_or("");
        let takes = |s: &SourceInfo| s.caps.command_line.is_some_and(|c| c.verbs.contains(&word));
        let source = if takes(&self.store.sources[target]) {
            target
        } else {
            match self.store.sources.iter().position(takes) {
                Some(s) => s,
                // No source here takes the word: every command that works
                // here, per protocol.
                None if !word.is_empty() => {
                    let mut seen: Vec<&str> = Vec::new();
                    let mut all = Vec::new();
                    for s in &self.store.sources {
                        let Some(cl) = s.caps.command_line else {
                            continue;
                        };
                        if seen.contains(&s.kind.name()) {
                            continue;
                        }
                        seen.push(s.kind.name());
                        let usage = cl.usage.strip_prefix("commands: ").unwrap_or(cl.usage);
                        all.push(format!("{}: {usage}", s.kind.name()));
                    }
                    return Err(format!(
                        "{} is not a command here; {}",
                        crate::text::sanitize_capped(word, 40),
                        all.join(" | ")
                    ));
                }
                None => target,
            }
        };
        let cl = self.store.sources[source]
            .caps
            .command_line
            .ok_or("no command line")?;
        (cl.parse)(line).map(|k| (source as SourceId, k))
    }

    /// The selected instance as a command target, or a status saying why not.
    pub(super) fn target(&mut self) -> Option<(SourceId, String)> {
        if let Some(why) = &self.read_only {
            let why = why.clone();
            self.ui.warn(why);
            return None;
        }
        let Some(i) = self.instance() else {
            self.ui.warn("no app instance yet");
            return None;
        };
        if i.liveness == Liveness::Disconnected {
            let label = i.label();
            self.ui
                .warn(format!("{label} is not connected: command not sent"));
            return None;
        }
        Some((i.source, i.key.clone()))
    }

    /// Send `c`, the status line naming the command and whom it reaches
    /// (`commit → chat`).
    pub(super) fn send(&mut self, c: Command) {
        let reach = self.store.timeline.live_on(c.source);
        let verb = match &c.kind {
            CommandKind::Redux(ReduxCommand::Dispatch { action, .. }) => action.verb(),
            CommandKind::Redux(ReduxCommand::DispatchUserAction { .. }) => "dispatch".into(),
            CommandKind::Redux(ReduxCommand::Update { .. }) => "refresh (UPDATE)".into(),
            other => other.describe(),
        };
        let label = self.instance().map(|i| i.label()).unwrap_or_default();
        if self.store.targets_instances(c.source) {
            let to_all = matches!(
                &c.kind,
                CommandKind::Redux(ReduxCommand::Dispatch {
                    action: LiftedAction::PauseRecording(_) | LiftedAction::LockChanges(_),
                    ..
                })
            );
            self.ui.say(if to_all && reach > 1 {
                format!("{verb} → all {reach} apps (pause and lock reach every app)")
            } else if reach > 1 {
                format!("{verb} → {label} only")
            } else {
                format!("{verb} → {label}")
            });
        } else if reach > 1 {
            self.ui.say(format!(
                "{verb} → all {reach} apps on this relay (it broadcasts)"
            ));
        } else {
            self.ui.say(format!("{verb} → {label}"));
        }
        self.send_command(c);
    }

    pub(super) fn dispatch_history(&mut self, action: LiftedAction) {
        let Some((source, instance)) = self.target() else {
            return;
        };
        let confirm = matches!(
            action,
            LiftedAction::Commit
                | LiftedAction::Rollback
                | LiftedAction::Reset
                | LiftedAction::Sweep
        );
        let verb = match action {
            LiftedAction::Commit => "commit the history of",
            LiftedAction::Rollback => "roll back",
            LiftedAction::Reset => "reset",
            _ => "sweep the skipped actions of",
        };
        let command = Command {
            source,
            kind: CommandKind::Redux(ReduxCommand::Dispatch { instance, action }),
        };
        if confirm {
            let question = format!("{verb} {}?", self.reach_of(source));
            self.ui.confirm = Some(crate::ui::Confirm { question, command });
        } else {
            self.send(command);
        }
    }

    /// Who a history command on `source` reaches, in words: the selected
    /// app only (roomtap's relay), or every live app on a relay that
    /// broadcasts it.
    fn reach_of(&self, source: SourceId) -> String {
        let label = self.instance().map(|i| i.label()).unwrap_or_default();
        if self.store.targets_instances(source) {
            return label;
        }
        let live: Vec<String> = self
            .store
            .timeline
            .instances
            .iter()
            .filter(|i| {
                i.source == source
                    && matches!(i.liveness, Liveness::Streaming | Liveness::Announced)
            })
            .map(|i| i.label())
            .collect();
        if live.len() > 1 {
            format!(
                "all {} apps on this relay (it broadcasts): {}",
                live.len(),
                live.join(", ")
            )
        } else {
            label
        }
    }

    fn skip(&mut self) {
        let Some(e) = self.selected_entry() else {
            return;
        };
        if e.id == 0 {
            self.ui.warn("the initial state cannot be skipped");
            return;
        }
        let id = e.id;
        self.dispatch_history(LiftedAction::ToggleAction { id });
    }

    pub(super) fn jump_selected(&mut self) {
        let Some(inst) = self.instance() else {
            self.ui.warn("no app instance yet");
            return;
        };
        let Some(pos) = self.selected_position() else {
            return;
        };
        let id = inst.entries[pos].id;
        match inst.app_index_of(id) {
            Some(index) => self.dispatch_history(LiftedAction::JumpToState { index }),
            None => self.ui.warn(format!(
                "action #{id} is no longer in the app's history (its maxAge dropped it)"
            )),
        }
    }
}
