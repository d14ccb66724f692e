//! The replay engine: P asks for a pace, then the app is made to jump to
//! each action from the selected one to the last, in time.

use std::time::{Duration, Instant};

use super::App;
use crate::event::{Command, CommandKind};
use crate::protocols::redux::wire::model::{LiftedAction, ReduxCommand};
use crate::ui::keymap::Action;
use crate::ui::{Pace, Replay};

impl App {
    /// The key after P: a pace starts the replay, anything else cancels.
    pub(super) fn choose_pace(&mut self, a: Action) {
        self.ui.choosing_pace = false;
        if let Action::Input(c) = a {
            let pace = match c {
                '1' | 'r' => Some(Pace::Recorded(1.0)),
                '2' => Some(Pace::Recorded(2.0)),
                '4' => Some(Pace::Recorded(4.0)),
                'f' => Some(Pace::Fixed(250)),
                _ => None,
            };
            match pace {
                Some(p) => self.start_replay(p, Instant::now()),
                None => self.ui.say("replay cancelled"),
            }
        } else {
            self.ui.say("replay cancelled");
        }
    }

    fn start_replay(&mut self, pace: Pace, now: Instant) {
        let Some((source, instance)) = self.target() else {
            return;
        };
        let Some(inst) = self.instance() else { return };
        let Some(from) = self.selected_position() else {
            return;
        };
        let mut steps = Vec::new();
        let mut prev_t: Option<u64> = None;
        for e in inst.entries.iter().skip(from) {
            let Some(index) = inst.app_index_of(e.id) else {
                continue;
            };
            let t = e.time_ms();
            let delay = match (pace, prev_t) {
                (_, None) => 0,
                (Pace::Fixed(ms), _) => ms,
                (Pace::Recorded(f), Some(p)) => {
                    ((t.saturating_sub(p)) as f64 / f).min(5_000.0) as u64
                }
            };
            prev_t = Some(t);
            steps.push((index, delay));
        }
        if steps.is_empty() {
            self.ui
                .warn("nothing to replay: those actions left the app's history");
            return;
        }
        let n = steps.len();
        self.ui.replay = Some(Replay {
            source,
            instance,
            steps,
            next: 0,
            due: now,
            pace,
        });
        self.ui.say(format!(
            "replaying {n} steps at {}; any key stops",
            pace.label()
        ));
        self.tick(now);
    }

    /// Advance time-driven work (a replay, a Logs filter waiting for typing
    /// to pause). Returns when it next wants a tick.
    pub fn tick(&mut self, now: Instant) -> Option<Instant> {
        let filter = self.tick_pending_filter(now);
        let replay = self.tick_replay(now);
        match (filter, replay) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A pending Logs filter: due a pause after it was typed (the first
    /// tick after a key dates it), then applied.
    fn tick_pending_filter(&mut self, now: Instant) -> Option<Instant> {
        let p = self.ui.logs.pending.as_mut()?;
        let due = *p.due.get_or_insert(now + crate::ui::PENDING_PAUSE);
        if due > now {
            return Some(due);
        }
        self.apply_pending_filter();
        None
    }

    fn tick_replay(&mut self, now: Instant) -> Option<Instant> {
        let r = self.ui.replay.as_mut()?;
        while r.next < r.steps.len() && r.due <= now {
            let (index, _) = r.steps[r.next];
            self.effects.push(super::Effect::Send(Command {
                source: r.source,
                kind: CommandKind::Redux(ReduxCommand::Dispatch {
                    instance: r.instance.clone(),
                    action: LiftedAction::JumpToState { index },
                }),
            }));
            r.next += 1;
            if let Some((_, delay)) = r.steps.get(r.next) {
                r.due += Duration::from_millis(*delay);
            }
            self.dirty = true;
        }
        if r.next >= r.steps.len() {
            self.ui.replay = None;
            self.ui.say("replay finished");
            return None;
        }
        Some(r.due)
    }
}
