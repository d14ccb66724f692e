//! The lifted store of `@redux-devtools/instrument` 3.0.0, ported: the
//! history every `@redux-devtools/remote` app keeps and that monitors
//! time-travel. Pure: states and actions are JSON values, time comes in as
//! an argument, the reducer is a plain function.
//!
//! Faithfulness is tested by replaying the captured sessions
//! (`history-frames`, `pauselock-frames`) and comparing every STATE the
//! real app sent with the one this port produces.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

/// The app's reducer: `(state or undefined, action) → state`, or the
/// message of the exception it threw.
pub type Reducer = fn(Option<&Value>, &Value) -> Result<Value, String>;

/// `actionsById` entry: a `PERFORM_ACTION` lifted action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Performed {
    #[serde(rename = "type")]
    kind: &'static str,
    pub action: Value,
    pub timestamp: u64,
}

impl Performed {
    pub fn new(action: Value, timestamp: u64) -> Self {
        Self {
            kind: "PERFORM_ACTION",
            action,
            timestamp,
        }
    }

    fn init(timestamp: u64) -> Self {
        Self::new(json!({"type": "@@INIT"}), timestamp)
    }
}

/// `computedStates` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Computed {
    pub state: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A lifted action (`DISPATCH.action`, or the app's own actions).
#[derive(Debug, Clone, PartialEq)]
pub enum Lifted {
    Perform(Value),
    Reset,
    Commit,
    Rollback,
    Toggle(u64),
    SetActive {
        start: u64,
        end: u64,
        active: bool,
    },
    JumpToState(usize),
    JumpToAction(u64),
    Sweep,
    Reorder {
        action_id: u64,
        before_action_id: u64,
    },
    /// `IMPORT_STATE` with a whole lifted state (as JSON).
    Import(Value),
    Lock(bool),
    Pause(bool),
    /// Anything else: a monitor action, which cannot change history.
    Other(String),
}

impl Lifted {
    /// The lifted action as monitors send it in `DISPATCH`.
    pub fn from_json(v: &Value) -> Result<Lifted, String> {
        let ty = v
            .get("type")
            .and_then(Value::as_str)
            .ok_or("lifted action without a type")?;
        let num = |k: &str| {
            v.get(k)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("{ty} without a numeric {k}"))
        };
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        Ok(match ty {
            "PERFORM_ACTION" => Lifted::Perform(v.get("action").cloned().unwrap_or(Value::Null)),
            "RESET" => Lifted::Reset,
            "COMMIT" => Lifted::Commit,
            "ROLLBACK" => Lifted::Rollback,
            "TOGGLE_ACTION" => Lifted::Toggle(num("id")?),
            "SET_ACTIONS_ACTIVE" => Lifted::SetActive {
                start: num("start")?,
                end: num("end")?,
                active: flag("active"),
            },
            "JUMP_TO_STATE" => Lifted::JumpToState(num("index")? as usize),
            "JUMP_TO_ACTION" => Lifted::JumpToAction(num("actionId")?),
            "SWEEP" => Lifted::Sweep,
            "REORDER_ACTION" => Lifted::Reorder {
                action_id: num("actionId")?,
                before_action_id: num("beforeActionId")?,
            },
            "IMPORT_STATE" => Lifted::Import(v.get("nextLiftedState").cloned().unwrap_or_default()),
            "LOCK_CHANGES" => Lifted::Lock(flag("status")),
            "PAUSE_RECORDING" => Lifted::Pause(flag("status")),
            other => Lifted::Other(other.to_string()),
        })
    }

    /// The type name (what the remote enhancer's monitor reducer records
    /// as its `lastAction`).
    pub fn type_name(&self) -> &str {
        match self {
            Lifted::Perform(_) => "PERFORM_ACTION",
            Lifted::Reset => "RESET",
            Lifted::Commit => "COMMIT",
            Lifted::Rollback => "ROLLBACK",
            Lifted::Toggle(_) => "TOGGLE_ACTION",
            Lifted::SetActive { .. } => "SET_ACTIONS_ACTIVE",
            Lifted::JumpToState(_) => "JUMP_TO_STATE",
            Lifted::JumpToAction(_) => "JUMP_TO_ACTION",
            Lifted::Sweep => "SWEEP",
            Lifted::Reorder { .. } => "REORDER_ACTION",
            Lifted::Import(_) => "IMPORT_STATE",
            Lifted::Lock(_) => "LOCK_CHANGES",
            Lifted::Pause(_) => "PAUSE_RECORDING",
            Lifted::Other(t) => t,
        }
    }
}

/// The lifted state and its reducer.
#[derive(Debug, Clone)]
pub struct Instrument {
    reducer: Reducer,
    /// `initialCommittedState` (the store's preloaded state; `None` is
    /// `undefined`, so the reducer starts from its default).
    initial_committed: Option<Value>,
    pub actions_by_id: BTreeMap<u64, Performed>,
    pub next_action_id: u64,
    pub staged: Vec<u64>,
    /// In instrument's order (a toggled id goes first).
    pub skipped: Vec<u64>,
    pub committed: Option<Value>,
    pub current: usize,
    pub computed: Vec<Computed>,
    pub locked: bool,
    pub paused: bool,
    pub max_age: Option<usize>,
    /// `@redux-devtools/remote` sets `@@PAUSED`.
    pub pause_action_type: Option<&'static str>,
}

/// `stagedActionIds.indexOf(id)`, -1 as None.
fn index_of(ids: &[u64], id: u64) -> Option<usize> {
    ids.iter().position(|&x| x == id)
}

impl Instrument {
    /// A store created at `now`: the lifted state starts with `@@INIT` and
    /// redux's own init dispatch computes the first state.
    pub fn new(reducer: Reducer, max_age: Option<usize>, now: u64) -> Self {
        let mut s = Self {
            reducer,
            initial_committed: None,
            actions_by_id: BTreeMap::from([(0, Performed::init(now))]),
            next_action_id: 1,
            staged: vec![0],
            skipped: Vec::new(),
            committed: None,
            current: 0,
            computed: Vec::new(),
            locked: false,
            paused: false,
            max_age,
            pause_action_type: Some("@@PAUSED"),
        };
        // `@@redux/INIT…`: recompute everything (hot reload keeps history).
        s.recompute(0);
        s
    }

    /// The state the app shows (`store.getState()`).
    pub fn state(&self) -> &Value {
        &self.computed[self.current].state
    }

    /// Dispatch a lifted action. Returns true when instrument's monitor
    /// reducer ran (everything but an action ignored while locked or
    /// recorded while paused), which is when the remote enhancer learns
    /// the action's type.
    ///
    /// A reducer that throws on a new action throws out of `dispatch` and
    /// records nothing (seen with the real app: `ERROR`, and the next
    /// action gets the id the failed one would have had); the error is
    /// returned and the history is unchanged.
    pub fn dispatch(&mut self, action: Lifted, now: u64) -> Result<bool, String> {
        if let Lifted::Perform(a) = &action
            && !self.locked
        {
            let prev = if self.paused {
                self.state()
            } else {
                &self.computed[self.computed.len() - 1].state
            };
            (self.reducer)(Some(prev), a)?;
        }
        Ok(self.apply(action, now))
    }

    fn apply(&mut self, action: Lifted, now: u64) -> bool {
        let mut min_invalidated: usize = 0;
        const NONE: usize = usize::MAX;
        match action {
            Lifted::Perform(a) => {
                if self.locked {
                    return false;
                }
                if self.paused {
                    self.paused_action(Some(a), now);
                    return false;
                }
                if let Some(max) = self.max_age
                    && self.staged.len() >= max
                {
                    self.commit_excess(self.staged.len() + 1 - max);
                }
                if self.current + 1 == self.staged.len() {
                    self.current += 1;
                }
                let id = self.next_action_id;
                self.next_action_id += 1;
                self.actions_by_id.insert(id, Performed::new(a, now));
                self.staged.push(id);
                min_invalidated = self.staged.len() - 1;
            }
            Lifted::Reset => {
                self.restart(now);
                self.committed = self.initial_committed.clone();
            }
            Lifted::Commit => {
                let state = self.computed[self.current].state.clone();
                self.restart(now);
                self.committed = Some(state);
            }
            Lifted::Rollback => self.restart(now),
            Lifted::Toggle(id) => {
                match index_of(&self.skipped, id) {
                    None => self.skipped.insert(0, id),
                    Some(_) => self.skipped.retain(|&x| x != id),
                }
                min_invalidated = index_of(&self.staged, id).unwrap_or(NONE);
            }
            Lifted::SetActive { start, end, active } => {
                if active {
                    self.skipped.retain(|x| !(start..end).contains(x));
                } else {
                    // lodash union: existing first, then the new ones
                    // (ids that never existed cannot be skipped: a huge
                    // range from a monitor stays cheap).
                    for id in start..end.min(self.next_action_id) {
                        if !self.skipped.contains(&id) {
                            self.skipped.push(id);
                        }
                    }
                }
                min_invalidated = index_of(&self.staged, start).unwrap_or(NONE);
            }
            Lifted::JumpToState(i) => {
                // instrument trusts the index; an out-of-range one would
                // break the app, so it is clamped here.
                self.current = i.min(self.staged.len() - 1);
                min_invalidated = NONE;
            }
            Lifted::JumpToAction(id) => {
                if let Some(i) = index_of(&self.staged, id) {
                    self.current = i;
                }
                min_invalidated = NONE;
            }
            Lifted::Sweep => {
                let skipped = std::mem::take(&mut self.skipped);
                self.staged.retain(|id| !skipped.contains(id));
                self.current = self.current.min(self.staged.len() - 1);
            }
            Lifted::Reorder {
                action_id,
                before_action_id,
            } => match index_of(&self.staged, action_id) {
                None | Some(0) => min_invalidated = NONE,
                Some(idx) => {
                    let count = self.staged.len();
                    let new_idx = match index_of(&self.staged, before_action_id) {
                        Some(i) if i >= 1 => i,
                        _ if before_action_id > self.staged[count - 1] => count,
                        _ => 1,
                    };
                    if idx > new_idx {
                        let id = self.staged.remove(idx);
                        self.staged.insert(new_idx, id);
                        min_invalidated = new_idx;
                    } else if idx < new_idx {
                        let id = self.staged.remove(idx);
                        self.staged.insert(new_idx - 1, id);
                        min_invalidated = idx;
                    } else {
                        min_invalidated = NONE;
                    }
                }
            },
            Lifted::Import(next) => {
                if self.import(&next, now).is_err() {
                    // The enhancer would throw; nothing changes.
                    return true;
                }
            }
            Lifted::Lock(on) => {
                self.locked = on;
                min_invalidated = NONE;
            }
            Lifted::Pause(on) => {
                self.paused = on;
                if on {
                    self.paused_action(None, now);
                    return true;
                }
                // Commit when unpausing.
                let state = self.computed[self.current].state.clone();
                self.restart(now);
                self.committed = Some(state);
            }
            Lifted::Other(_) => min_invalidated = NONE,
        }
        self.recompute(min_invalidated);
        true
    }

    /// History = `[@@INIT]` (RESET, COMMIT, ROLLBACK, unpause).
    fn restart(&mut self, now: u64) {
        self.actions_by_id = BTreeMap::from([(0, Performed::init(now))]);
        self.next_action_id = 1;
        self.staged = vec![0];
        self.skipped.clear();
        self.current = 0;
        self.computed.clear();
    }

    /// `commitExcessActions(n)`.
    fn commit_excess(&mut self, n: usize) {
        let mut excess = n;
        let mut to_delete: Vec<u64> = self.staged[1..(excess + 1).min(self.staged.len())].to_vec();
        for i in 0..to_delete.len() {
            if self.computed.get(i + 1).is_some_and(|c| c.error.is_some()) {
                excess = i;
                to_delete.truncate(i);
                break;
            }
            self.actions_by_id.remove(&to_delete[i]);
        }
        self.skipped.retain(|id| !to_delete.contains(id));
        let rest = self.staged.split_off((excess + 1).min(self.staged.len()));
        self.staged = std::iter::once(0).chain(rest).collect();
        self.committed = Some(self.computed[excess].state.clone());
        self.computed.drain(..excess);
        self.current = self.current.saturating_sub(excess);
    }

    /// `computePausedAction`: while paused, history is one `@@PAUSED` entry
    /// holding the latest state.
    fn paused_action(&mut self, action: Option<Value>, now: u64) {
        let should_init = action.is_none();
        let computed = match action {
            None => self.computed[self.current].clone(),
            Some(a) => self.compute(&a, Some(&self.computed[self.current].state.clone())),
        };
        let Some(pause_type) = self.pause_action_type.filter(|_| self.next_action_id != 1) else {
            self.actions_by_id = BTreeMap::from([(0, Performed::init(now))]);
            self.next_action_id = 1;
            self.staged = vec![0];
            self.skipped.clear();
            self.committed = Some(computed.state.clone());
            self.current = 0;
            self.computed = vec![computed];
            self.paused = true;
            return;
        };
        if should_init {
            if self.current + 1 == self.staged.len() {
                self.current += 1;
            }
            self.staged.push(self.next_action_id);
            self.next_action_id += 1;
        }
        self.actions_by_id.insert(
            self.next_action_id - 1,
            Performed::new(json!({"type": pause_type}), now),
        );
        self.computed.truncate(self.staged.len() - 1);
        self.computed.push(computed);
        self.paused = true;
    }

    /// `computeWithTryCatch`: a throwing reducer keeps the previous state
    /// and records the error.
    fn compute(&self, action: &Value, prev: Option<&Value>) -> Computed {
        match (self.reducer)(prev, action) {
            Ok(state) => Computed { state, error: None },
            Err(e) => Computed {
                state: prev.cloned().unwrap_or(Value::Null),
                error: Some(format!("Error: {e}")),
            },
        }
    }

    /// `recomputeStates` from `min` on.
    fn recompute(&mut self, min: usize) {
        if min >= self.computed.len() && self.computed.len() == self.staged.len() {
            return;
        }
        let min = min.min(self.computed.len());
        self.computed.truncate(min);
        for i in min..self.staged.len() {
            let id = self.staged[i];
            let entry = if self.skipped.contains(&id) {
                match i.checked_sub(1).and_then(|p| self.computed.get(p)) {
                    Some(prev) => prev.clone(),
                    // Skipping the first entry: JS pushes `undefined`.
                    None => Computed {
                        state: self.committed.clone().unwrap_or(Value::Null),
                        error: None,
                    },
                }
            } else {
                let prev = match i.checked_sub(1) {
                    Some(p) => Some(self.computed[p].state.clone()),
                    None => self.committed.clone(),
                };
                let action = self
                    .actions_by_id
                    .get(&id)
                    .map(|p| p.action.clone())
                    .unwrap_or(Value::Null);
                self.compute(&action, prev.as_ref())
            };
            self.computed.push(entry);
        }
    }

    /// `IMPORT_STATE` with a lifted state object (or an array of actions).
    fn import(&mut self, next: &Value, now: u64) -> Result<(), String> {
        if let Some(actions) = next.as_array() {
            self.actions_by_id = BTreeMap::from([(0, Performed::init(now))]);
            self.next_action_id = 1;
            self.staged = vec![0];
            self.skipped.clear();
            self.current = actions.len();
            self.computed.clear();
            self.committed = None;
            for a in actions {
                self.actions_by_id
                    .insert(self.next_action_id, Performed::new(a.clone(), now));
                self.staged.push(self.next_action_id);
                self.next_action_id += 1;
            }
            self.recompute(0);
            return Ok(());
        }
        let obj = next.as_object().ok_or("IMPORT: not a lifted state")?;
        let ids = |k: &str| -> Result<Vec<u64>, String> {
            obj.get(k)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("IMPORT: no {k}"))?
                .iter()
                .map(|v| v.as_u64().ok_or_else(|| format!("IMPORT: bad id in {k}")))
                .collect()
        };
        let staged = ids("stagedActionIds")?;
        let skipped = ids("skippedActionIds").unwrap_or_default();
        let mut by_id = BTreeMap::new();
        for (k, v) in obj
            .get("actionsById")
            .and_then(Value::as_object)
            .ok_or("IMPORT: no actionsById")?
        {
            let id: u64 = k.parse().map_err(|_| "IMPORT: bad action id")?;
            by_id.insert(
                id,
                Performed::new(
                    v.get("action").cloned().unwrap_or(Value::Null),
                    v.get("timestamp").and_then(Value::as_u64).unwrap_or(0),
                ),
            );
        }
        if staged.is_empty() || staged.iter().any(|id| !by_id.contains_key(id)) {
            return Err("IMPORT: staged ids without actions".into());
        }
        let computed: Vec<Computed> = obj
            .get("computedStates")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| Computed {
                        state: c.get("state").cloned().unwrap_or(Value::Null),
                        error: c.get("error").and_then(Value::as_str).map(str::to_string),
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.actions_by_id = by_id;
        self.next_action_id = obj
            .get("nextActionId")
            .and_then(Value::as_u64)
            .unwrap_or(staged.iter().max().copied().unwrap_or(0) + 1);
        self.current = obj
            .get("currentStateIndex")
            .and_then(Value::as_u64)
            .map_or(staged.len() - 1, |i| (i as usize).min(staged.len() - 1));
        self.staged = staged;
        self.skipped = skipped;
        self.committed = obj.get("committedState").cloned();
        self.computed = computed;
        self.recompute(0);
        Ok(())
    }

    /// The lifted state as `@redux-devtools/remote` sends it (key order
    /// as instrument builds it).
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Out<'a> {
            monitor_state: Value,
            actions_by_id: &'a BTreeMap<u64, Performed>,
            next_action_id: u64,
            staged_action_ids: &'a [u64],
            skipped_action_ids: &'a [u64],
            #[serde(skip_serializing_if = "Option::is_none")]
            committed_state: Option<&'a Value>,
            current_state_index: usize,
            computed_states: &'a [Computed],
            is_locked: bool,
            is_paused: bool,
        }
        serde_json::to_string(&Out {
            monitor_state: json!({}),
            actions_by_id: &self.actions_by_id,
            next_action_id: self.next_action_id,
            staged_action_ids: &self.staged,
            skipped_action_ids: &self.skipped,
            committed_state: self.committed.as_ref(),
            current_state_index: self.current,
            computed_states: &self.computed,
            is_locked: self.locked,
            is_paused: self.paused,
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(state: Option<&Value>, action: &Value) -> Result<Value, String> {
        let n = state.and_then(Value::as_i64).unwrap_or(0);
        match action["type"].as_str() {
            Some("ADD") => Ok(json!(n + action["by"].as_i64().unwrap_or(1))),
            Some("BOOM") => Err("boom".into()),
            _ => Ok(json!(n)),
        }
    }

    fn with(n: i64, max_age: Option<usize>) -> Instrument {
        let mut s = Instrument::new(counter, max_age, 0);
        for i in 0..n {
            s.dispatch(Lifted::Perform(json!({"type": "ADD", "by": 1 << i})), 1)
                .unwrap();
        }
        s
    }

    #[test]
    fn states_are_recomputed_when_actions_are_skipped() {
        let mut s = with(3, None); // 1, 2, 4
        assert_eq!(s.state(), &json!(7));
        s.dispatch(Lifted::Toggle(2), 2).unwrap();
        assert_eq!(s.state(), &json!(5));
        s.dispatch(Lifted::Toggle(1), 2).unwrap();
        // instrument puts the latest toggled id first.
        assert_eq!(s.skipped, [1, 2]);
        assert_eq!(s.state(), &json!(4));
        s.dispatch(
            Lifted::SetActive {
                start: 1,
                end: 3,
                active: true,
            },
            2,
        )
        .unwrap();
        assert_eq!((s.state(), s.skipped.len()), (&json!(7), 0));
    }

    #[test]
    fn jumps_do_not_touch_history() {
        let mut s = with(3, None);
        s.dispatch(Lifted::JumpToState(1), 2).unwrap();
        assert_eq!((s.current, s.state()), (1, &json!(1)));
        // A new action while back in time: history grows, the app stays.
        s.dispatch(Lifted::Perform(json!({"type": "ADD", "by": 8})), 3)
            .unwrap();
        assert_eq!((s.current, s.staged.len()), (1, 5));
        s.dispatch(Lifted::JumpToAction(4), 4).unwrap();
        assert_eq!(s.state(), &json!(15));
        // Out of range is clamped rather than breaking the app.
        s.dispatch(Lifted::JumpToState(99), 4).unwrap();
        assert_eq!(s.current, 4);
    }

    #[test]
    fn max_age_commits_the_oldest_actions() {
        let s = with(5, Some(3));
        assert_eq!(s.staged, [0, 4, 5]);
        assert_eq!(s.committed, Some(json!(7)));
        assert_eq!(s.state(), &json!(31));
        assert_eq!(s.computed.len(), 3);
    }

    #[test]
    fn reorder_moves_left_right_and_to_the_end() {
        let mut s = with(3, None);
        s.dispatch(
            Lifted::Reorder {
                action_id: 3,
                before_action_id: 1,
            },
            2,
        )
        .unwrap();
        assert_eq!(s.staged, [0, 3, 1, 2]);
        s.dispatch(
            Lifted::Reorder {
                action_id: 3,
                before_action_id: 99,
            },
            2,
        )
        .unwrap();
        assert_eq!(s.staged, [0, 1, 2, 3]);
        // The first action (@@INIT) cannot move.
        s.dispatch(
            Lifted::Reorder {
                action_id: 0,
                before_action_id: 3,
            },
            2,
        )
        .unwrap();
        assert_eq!(s.staged, [0, 1, 2, 3]);
    }

    #[test]
    fn commit_rollback_reset() {
        let mut s = with(2, None);
        s.dispatch(Lifted::Commit, 5).unwrap();
        assert_eq!(
            (s.staged.as_slice(), s.committed.clone()),
            (&[0][..], Some(json!(3)))
        );
        s.dispatch(Lifted::Perform(json!({"type": "ADD", "by": 10})), 6)
            .unwrap();
        s.dispatch(Lifted::Rollback, 7).unwrap();
        assert_eq!(s.state(), &json!(3));
        s.dispatch(Lifted::Reset, 8).unwrap();
        assert_eq!((s.state(), s.committed.clone()), (&json!(0), None));
        assert_eq!(s.actions_by_id[&0].timestamp, 8);
    }

    #[test]
    fn a_throwing_reducer_records_nothing() {
        let mut s = with(1, None);
        assert_eq!(
            s.dispatch(Lifted::Perform(json!({"type": "BOOM"})), 2),
            Err("boom".into())
        );
        assert_eq!((s.next_action_id, s.staged.len()), (2, 2));
    }

    #[test]
    fn locked_ignores_and_paused_keeps_one_entry() {
        let mut s = with(1, None);
        s.dispatch(Lifted::Lock(true), 2).unwrap();
        assert_eq!(
            s.dispatch(Lifted::Perform(json!({"type": "ADD"})), 3),
            Ok(false)
        );
        assert_eq!(s.state(), &json!(1));
        s.dispatch(Lifted::Lock(false), 4).unwrap();
        s.dispatch(Lifted::Pause(true), 5).unwrap();
        assert_eq!(s.staged, [0, 1, 2]);
        for _ in 0..3 {
            s.dispatch(Lifted::Perform(json!({"type": "ADD"})), 6)
                .unwrap();
        }
        assert_eq!((s.staged.len(), s.state()), (3, &json!(4)));
        assert_eq!(s.actions_by_id[&2].action["type"], "@@PAUSED");
        s.dispatch(Lifted::Pause(false), 7).unwrap();
        assert_eq!(
            (s.staged.as_slice(), s.committed.clone()),
            (&[0][..], Some(json!(4)))
        );
    }

    #[test]
    fn lifted_actions_parse_from_monitor_json() {
        let j = json!({"type": "SET_ACTIONS_ACTIVE", "start": 1, "end": 3, "active": false});
        assert_eq!(
            Lifted::from_json(&j),
            Ok(Lifted::SetActive {
                start: 1,
                end: 3,
                active: false
            })
        );
        assert!(Lifted::from_json(&json!({"type": "JUMP_TO_STATE"})).is_err());
        assert!(Lifted::from_json(&json!(42)).is_err());
        assert_eq!(
            Lifted::from_json(&json!({"type": "@@MONITOR"})).unwrap(),
            Lifted::Other("@@MONITOR".into())
        );
    }
}
