//! Time-travel state per app instance.
//!
//! roomtap keeps its own list of every action it has seen (bounded), and a
//! mirror of the app's own history (`stagedActionIds`, current index), so
//! that a jump addresses the app's index even after the app dropped old
//! actions (`maxAge`). JUMP_TO_STATE is never answered, so the current index
//! is tracked here from the commands that went out.

use std::collections::{HashSet, VecDeque};

use crate::event::SourceId;
use crate::protocols::redux::wire::model::{ActionRecord, AppRef, LiftedAction, LiftedState};

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: u64,
    pub action_type: Box<str>,
    /// The app's timestamp of the action (ms since epoch).
    pub at_ms: Option<u64>,
    /// When roomtap received it.
    pub received_ms: u64,
    pub action_raw: std::sync::Arc<str>,
    /// State after this action; `None` when the app did not tell us (it was
    /// showing an earlier state when this action arrived).
    pub state_raw: Option<crate::protocols::redux::wire::model::RawJson>,
    /// The state was held and then dropped to keep the store within
    /// `--max-bytes` (oldest first); the row stays.
    pub state_dropped: bool,
    pub error: Option<Box<str>>,
    /// The log line of the event it came in (an ACTION's, or the STATE's it
    /// was part of): its frames are that line's (`store::raw`).
    pub log_seq: u64,
}

/// A timeline entry as the query language sees it: kind and summary are
/// the action type, data its fields (`action.user.id=3`), source the app.
pub struct EntryRecord<'a> {
    pub entry: &'a Entry,
    pub instance: &'a str,
}

impl crate::query::Record for EntryRecord<'_> {
    fn source(&self) -> &str {
        self.instance
    }
    fn kind(&self) -> &str {
        &self.entry.action_type
    }
    fn level(&self) -> Option<crate::event::Level> {
        self.entry
            .error
            .as_ref()
            .map(|_| crate::event::Level::Error)
    }
    fn summary(&self) -> &str {
        &self.entry.action_type
    }
    fn data(&self) -> Option<&str> {
        Some(&self.entry.action_raw)
    }
}

impl Entry {
    fn from_record(r: ActionRecord, received_ms: u64, log_seq: u64) -> Self {
        Self {
            id: r.id,
            // Shown in the list on every frame: sanitized once, here.
            action_type: match crate::text::sanitize(&r.action_type) {
                std::borrow::Cow::Borrowed(_) => r.action_type.into(),
                std::borrow::Cow::Owned(clean) => clean.into(),
            },
            at_ms: r.timestamp_ms,
            received_ms,
            action_raw: r.action_raw,
            state_raw: r.state_raw,
            state_dropped: false,
            error: r.error.map(Into::into),
            log_seq,
        }
    }

    /// What its own allocations cost (see [`super::heap`]); the action's
    /// JSON is shared with its log line and counted in both.
    fn heap(&self) -> usize {
        use super::heap::{alloc, arc_str, boxed_str};
        boxed_str(&self.action_type)
            + arc_str(&self.action_raw)
            + self.state_raw.as_ref().map_or(0, |s| alloc(s.len()))
            + self.error.as_deref().map_or(0, boxed_str)
    }

    /// Time used for deltas and replay pacing.
    pub fn time_ms(&self) -> u64 {
        self.at_ms.unwrap_or(self.received_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Announced itself (START) but no STATE yet.
    Announced,
    /// Streaming actions to monitors.
    Streaming,
    /// Sent STOP (no monitor it knows of).
    Stopped,
    /// Its socket went away.
    Disconnected,
}

impl Liveness {
    pub fn label(self) -> &'static str {
        match self {
            Liveness::Announced => "announced",
            Liveness::Streaming => "live",
            Liveness::Stopped => "stopped",
            Liveness::Disconnected => "gone",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Instance {
    /// The log line of the event being applied (see [`Entry::log_seq`]).
    pub log_seq: u64,
    pub key: String,
    pub source: SourceId,
    pub name: Option<String>,
    pub socket_id: Option<String>,
    /// The app sends an `instanceId` (current `@redux-devtools/remote`).
    pub has_instance_id: bool,
    pub liveness: Liveness,
    /// roomtap's list (every action seen, bounded by `cap`).
    pub entries: VecDeque<Entry>,
    /// Entries dropped from the front because of `cap`.
    pub evicted: u64,
    /// Mirror of the app's `stagedActionIds`.
    /// Past the first (the app's initial state), ids older than every row
    /// roomtap still lists are trimmed off (`app_trimmed` of them): an app
    /// that never reports a `maxAge` would otherwise grow it forever.
    pub app_staged: Vec<u64>,
    /// Ids trimmed from `app_staged` after its first: the app's index of
    /// `app_staged[p]` (p ≥ 1) is `p + app_trimmed`.
    pub app_trimmed: usize,
    /// Mirror of the app's `currentStateIndex` (the app's index).
    pub app_current: usize,
    /// The app's `maxAge`, learnt from the first `isExcess: true`.
    pub max_age: Option<usize>,
    /// `isExcess` can still teach the `maxAge`: the remote enhancer's flag
    /// never turns false again, so once it has been read (or found wrong) a
    /// later `true` (after a commit, a reset or a resume restarted the
    /// history) says nothing about the length.
    pub max_age_learnable: bool,
    pub skipped: HashSet<u64>,
    pub is_locked: bool,
    pub is_paused: bool,
    /// A history-changing command went out; its STATE reply is awaited.
    pub pending: Option<&'static str>,
    /// The app moved away from the last state and later actions arrived, so
    /// their states are unknown until a fresh STATE.
    pub stale: bool,
    /// No STATE seen yet: the mirror of the app's history is a guess, so
    /// jump indexes cannot be trusted until a STATE arrives.
    pub unsynced: bool,
    /// An UPDATE was asked for and its STATE has not arrived yet.
    pub update_requested: bool,
    pub last_error: Option<String>,
    pub action_creators: Option<String>,
    /// Bumped on every change (views cache on it).
    pub rev: u64,
    /// States dropped to keep within `--max-bytes` (their rows stay).
    pub states_dropped: u64,
    cap: usize,
    /// What the entries' own allocations cost.
    heap: usize,
    /// Entries before this position hold no state (where the next state to
    /// drop is looked for).
    state_cursor: usize,
}

impl Instance {
    fn new(key: String, source: SourceId, app: &AppRef, cap: usize) -> Self {
        Self {
            key,
            source,
            name: app.name.clone(),
            socket_id: app.socket_id.clone(),
            has_instance_id: app.instance_id.is_some(),
            liveness: Liveness::Announced,
            entries: VecDeque::new(),
            evicted: 0,
            app_staged: Vec::new(),
            app_trimmed: 0,
            app_current: 0,
            max_age: None,
            max_age_learnable: true,
            skipped: HashSet::new(),
            is_locked: false,
            is_paused: false,
            pending: None,
            stale: false,
            unsynced: false,
            update_requested: false,
            last_error: None,
            action_creators: None,
            rev: 0,
            states_dropped: 0,
            cap: cap.max(2),
            heap: 0,
            state_cursor: 0,
            log_seq: 0,
        }
    }

    /// Bytes held, as the allocator counts them: the entries' texts,
    /// actions and states, the buffers at their capacity, the mirror of the
    /// app's history.
    pub fn bytes(&self) -> usize {
        use super::heap::{alloc, buffer};
        self.heap
            + buffer::<Entry>(self.entries.capacity())
            + buffer::<u64>(self.app_staged.capacity())
            + alloc(self.skipped.capacity() * (std::mem::size_of::<u64>() + 1))
            + alloc(self.key.len())
    }

    /// Position of the oldest entry still holding a state.
    fn first_state(&mut self) -> Option<usize> {
        while self.state_cursor < self.entries.len()
            && self.entries[self.state_cursor].state_raw.is_none()
        {
            self.state_cursor += 1;
        }
        (self.state_cursor < self.entries.len()).then_some(self.state_cursor)
    }

    /// Drop the state at `pos` (the row stays, marked).
    fn drop_state(&mut self, pos: usize) {
        let e = &mut self.entries[pos];
        if let Some(s) = e.state_raw.take() {
            self.heap -= super::heap::alloc(s.len());
            e.state_dropped = true;
            self.states_dropped += 1;
            self.rev += 1;
        }
    }

    /// Drop the oldest row (counted in `evicted`).
    fn pop_front(&mut self) -> bool {
        let Some(e) = self.entries.pop_front() else {
            return false;
        };
        self.heap -= e.heap();
        self.evicted += 1;
        self.state_cursor = self.state_cursor.saturating_sub(1);
        self.rev += 1;
        true
    }

    pub fn label(&self) -> String {
        let short: String = self.key.chars().take(10).collect();
        match &self.name {
            Some(n) => format!("{n} ({short})"),
            None => short,
        }
    }

    /// The app's index of an action id, if it is still in the app's history.
    pub fn app_index_of(&self, id: u64) -> Option<usize> {
        // Ids are increasing after the first except after a reorder.
        let later = self.app_staged.get(1..).unwrap_or(&[]);
        let pos = match self.app_staged.first() {
            Some(&first) if first == id => Some(0),
            _ => later
                .binary_search(&id)
                .ok()
                .or_else(|| later.iter().position(|&x| x == id))
                .map(|p| p + 1),
        }?;
        Some(if pos == 0 { 0 } else { pos + self.app_trimmed })
    }

    /// How many states the app's history holds.
    pub fn app_len(&self) -> usize {
        self.app_staged.len() + self.app_trimmed
    }

    /// The id at the app's index `i`, if still mirrored.
    fn app_id_at(&self, i: usize) -> Option<u64> {
        if i == 0 {
            return self.app_staged.first().copied();
        }
        let p = i.checked_sub(self.app_trimmed).filter(|&p| p >= 1)?;
        self.app_staged.get(p).copied()
    }

    /// Action id the app is currently showing.
    pub fn current_id(&self) -> Option<u64> {
        self.app_id_at(self.app_current)
    }

    /// Trim the mirror's ids (after the first) older than every row still
    /// listed, once they are half of it.
    fn trim_mirror(&mut self) {
        let Some(oldest) = self.entries.front().map(|e| e.id) else {
            return;
        };
        let later = self.app_staged.get(1..).unwrap_or(&[]);
        let n = later.iter().take_while(|&&x| x < oldest).count();
        if n > 0 && n * 2 >= self.app_staged.len() {
            self.app_staged.drain(1..1 + n);
            self.app_trimmed += n;
        }
    }

    /// roomtap list position of the app's current state.
    pub fn current_position(&self) -> Option<usize> {
        let id = self.current_id()?;
        self.position_of(id)
    }

    pub fn position_of(&self, id: u64) -> Option<usize> {
        // Ids are increasing except after a reorder: try a binary search first.
        let (a, b) = self.entries.as_slices();
        let found = |s: &[Entry]| s.binary_search_by_key(&id, |e| e.id).ok();
        if let Some(i) = found(a) {
            return Some(i);
        }
        if let Some(i) = found(b) {
            return Some(a.len() + i);
        }
        self.entries.iter().position(|e| e.id == id)
    }

    fn push_entry(&mut self, e: Entry) {
        if self.entries.len() >= self.cap {
            self.pop_front();
        }
        self.heap += e.heap();
        self.entries.push_back(e);
    }

    /// An ACTION message: the app performed one more action.
    fn on_action(&mut self, mut rec: ActionRecord, is_excess: Option<bool>, now_ms: u64) {
        self.liveness = Liveness::Streaming;
        if rec.error.is_none() {
            self.last_error = None;
        }
        if self.max_age_learnable && is_excess == Some(true) && self.app_len() > 1 {
            self.max_age = Some(self.app_len());
            self.max_age_learnable = false;
        }
        if self.app_staged.is_empty() {
            // No STATE seen yet: we only know the tail. Ask for the app's
            // lifted state so indexes are right before anyone jumps.
            self.app_staged.push(rec.id.saturating_sub(1));
            self.unsynced = true;
        }
        if let Some(m) = self.max_age
            && self.app_len() >= m
            && self.app_len() > 1
        {
            // commitExcessActions(1) in @redux-devtools/instrument.
            if self.app_trimmed > 0 {
                // Its oldest action is one the mirror already let go.
                self.app_trimmed -= 1;
            } else {
                let gone = self.app_staged.remove(1);
                self.skipped.remove(&gone);
            }
            // instrument: `currentStateIndex > excess ? currentStateIndex - excess : 0`
            self.app_current = self.app_current.saturating_sub(1);
        }
        let at_end = self.app_current + 1 == self.app_len();
        self.app_staged.push(rec.id);
        if at_end {
            self.app_current += 1;
        } else {
            // The payload is the state the app is showing, not this action's.
            rec.state_raw = None;
            self.stale = true;
        }
        // A duplicate id (e.g. replayed after reconnect) replaces the entry.
        if let Some(last) = self.entries.back()
            && last.id >= rec.id
            && let Some(pos) = self.position_of(rec.id)
        {
            let e = Entry::from_record(rec, now_ms, self.log_seq);
            self.heap = self.heap - self.entries[pos].heap() + e.heap();
            self.entries[pos] = e;
            self.state_cursor = self.state_cursor.min(pos);
            return;
        }
        self.push_entry(Entry::from_record(rec, now_ms, self.log_seq));
        if self.evicted > 0 {
            self.trim_mirror();
        }
    }

    /// A STATE message: rebuild from the app's lifted state.
    fn on_state(&mut self, lifted: LiftedState, now_ms: u64) {
        self.liveness = Liveness::Streaming;
        // After a commit, reset or rollback the app starts its history (and
        // its ids) again: what came before is gone. Any other STATE (an
        // UPDATE's, a pause's, a sweep's) keeps what the app dropped.
        let pending = self.pending.take();
        let authoritative = matches!(pending, Some("COMMIT" | "RESET" | "ROLLBACK"));
        // A sweep removes the skipped actions: those go, the rest stay.
        let swept = if pending == Some("SWEEP") {
            std::mem::take(&mut self.skipped)
        } else {
            HashSet::new()
        };
        self.stale = false;
        self.unsynced = false;
        self.update_requested = false;
        // The app computed a state again: its last error is over.
        self.last_error = None;
        self.is_locked = lifted.is_locked;
        self.is_paused = lifted.is_paused;
        self.skipped = lifted.skipped.iter().copied().collect();
        self.app_staged = lifted.actions.iter().map(|a| a.id).collect();
        self.app_trimmed = 0;
        self.app_current = lifted.current_index;
        // A history longer than the maxAge learnt proves it wrong; a paused
        // app's is not (`@@PAUSED` goes past it without committing).
        if let Some(m) = self.max_age
            && self.app_staged.len() > m
            && !lifted.is_paused
        {
            self.max_age = None;
            self.max_age_learnable = false;
        }
        // Keep older actions the app has already dropped (maxAge), unless
        // this STATE answers a history restart we asked for.
        let first_kept = lifted
            .actions
            .iter()
            .map(|a| a.id)
            .filter(|&id| id != 0)
            .min();
        // Every entry older than the app's first kept action is one it
        // dropped: all of them stay (not just a leading run: @@INIT, id 0,
        // comes first and must not end the scan).
        let mut keep: VecDeque<Entry> = VecDeque::new();
        if !authoritative && let Some(first) = first_kept {
            keep = self
                .entries
                .drain(..)
                .filter(|e| e.id != 0 && e.id < first && !swept.contains(&e.id))
                .collect();
        }
        // The app's initial state (id 0) goes before what it dropped.
        let (initial, later): (Vec<_>, Vec<_>) =
            lifted.actions.into_iter().partition(|a| a.id == 0);
        self.entries.clear();
        self.heap = 0;
        self.state_cursor = 0;
        for rec in initial {
            self.push_entry(Entry::from_record(rec, now_ms, self.log_seq));
        }
        for e in keep {
            self.push_entry(e);
        }
        for rec in later {
            self.push_entry(Entry::from_record(rec, now_ms, self.log_seq));
        }
    }

    /// A command went out to this instance.
    fn on_command(&mut self, action: &LiftedAction) {
        match action {
            LiftedAction::JumpToState { index } => {
                if *index < self.app_len() {
                    self.app_current = *index;
                }
            }
            other => self.pending = Some(other.type_name()),
        }
    }
}

#[derive(Debug)]
pub struct Timeline {
    pub instances: Vec<Instance>,
    /// The log line of the event being applied: the store sets it before
    /// each app message, its entries keep it.
    pub log_seq: u64,
    cap: usize,
    /// Σ of the instances' [`Instance::bytes`], kept up to date by every
    /// change made through the timeline.
    bytes: usize,
}

impl Timeline {
    pub fn new(cap: usize) -> Self {
        Self {
            instances: Vec::new(),
            log_seq: 0,
            cap,
            bytes: 0,
        }
    }

    /// Bytes held by every instance (see [`Instance::bytes`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Change instance `idx` through `f`, keeping [`Timeline::bytes`] true.
    fn change<R>(&mut self, idx: usize, f: impl FnOnce(&mut Instance) -> R) -> R {
        let inst = &mut self.instances[idx];
        let before = inst.bytes();
        let r = f(inst);
        self.bytes = self.bytes - before + inst.bytes();
        r
    }

    /// When the next thing [`Timeline::drop_oldest`] would drop arrived:
    /// the oldest state held, or when no state is left, the oldest row.
    pub fn oldest_ms(&mut self) -> Option<u64> {
        self.oldest().map(|(_, ms, _)| ms)
    }

    /// (instance, received, is a state) of the oldest thing to drop.
    fn oldest(&mut self) -> Option<(usize, u64, bool)> {
        let mut best: Option<(usize, u64)> = None;
        for (i, inst) in self.instances.iter_mut().enumerate() {
            if let Some(p) = inst.first_state() {
                let ms = inst.entries[p].received_ms;
                if best.is_none_or(|(_, b)| ms < b) {
                    best = Some((i, ms));
                }
            }
        }
        if let Some((i, ms)) = best {
            return Some((i, ms, true));
        }
        self.instances
            .iter()
            .enumerate()
            .filter_map(|(i, inst)| inst.entries.front().map(|e| (i, e.received_ms)))
            .min_by_key(|&(_, ms)| ms)
            .map(|(i, ms)| (i, ms, false))
    }

    /// Free memory, oldest first: drop the oldest state held (its row
    /// stays, marked as dropped), or when no state is left the oldest row.
    /// False when there is nothing left to drop.
    pub fn drop_oldest(&mut self) -> bool {
        let Some((idx, _, state)) = self.oldest() else {
            return false;
        };
        self.change(idx, |inst| {
            if state {
                match inst.first_state() {
                    Some(p) => inst.drop_state(p),
                    None => return false,
                }
                true
            } else {
                inst.pop_front()
            }
        })
    }

    pub fn find(&self, source: SourceId, key: &str) -> Option<usize> {
        self.instances
            .iter()
            .position(|i| i.source == source && i.key == key)
    }

    /// The instance `app` names (created if new), changed through `f`.
    fn with_instance(&mut self, source: SourceId, app: &AppRef, f: impl FnOnce(&mut Instance)) {
        let Some(key) = app.key() else { return };
        let idx = match self.find(source, key) {
            Some(i) => i,
            None => {
                let inst = Instance::new(key.to_string(), source, app, self.cap);
                self.bytes += inst.bytes();
                self.instances.push(inst);
                self.instances.len() - 1
            }
        };
        let log_seq = self.log_seq;
        self.change(idx, |inst| {
            inst.log_seq = log_seq;
            inst.rev += 1;
            if app.name.is_some() {
                inst.name.clone_from(&app.name);
            }
            if app.socket_id.is_some() {
                inst.socket_id.clone_from(&app.socket_id);
            }
            f(inst)
        });
    }

    pub fn on_start(&mut self, source: SourceId, app: &AppRef) {
        self.with_instance(source, app, |i| {
            if i.liveness != Liveness::Streaming {
                i.liveness = Liveness::Announced;
            }
        });
    }

    pub fn on_state(
        &mut self,
        source: SourceId,
        app: &AppRef,
        lifted: LiftedState,
        creators: Option<String>,
        now_ms: u64,
    ) {
        self.with_instance(source, app, |i| {
            if creators.is_some() {
                i.action_creators = creators;
            }
            i.on_state(lifted, now_ms);
        });
    }

    pub fn on_action(
        &mut self,
        source: SourceId,
        app: &AppRef,
        rec: ActionRecord,
        is_excess: Option<bool>,
        now_ms: u64,
    ) {
        self.with_instance(source, app, |i| i.on_action(rec, is_excess, now_ms));
    }

    pub fn on_stop(&mut self, source: SourceId, app: &AppRef) {
        self.with_instance(source, app, |i| i.liveness = Liveness::Stopped);
    }

    pub fn on_error(&mut self, source: SourceId, app: &AppRef, message: &str) {
        self.with_instance(source, app, |i| {
            i.last_error = Some(message.to_string());
            i.pending = None;
        });
    }

    pub fn on_disconnected(&mut self, source: SourceId, socket_id: &str) {
        for i in &mut self.instances {
            if i.source == source && i.socket_id.as_deref() == Some(socket_id) {
                i.rev += 1;
                i.liveness = Liveness::Disconnected;
                i.pending = None;
            }
        }
    }

    /// The source itself lost its connection: every app it knew is gone for now.
    pub fn on_source_down(&mut self, source: SourceId) {
        for i in &mut self.instances {
            if i.source == source && i.liveness != Liveness::Disconnected {
                i.rev += 1;
                i.liveness = Liveness::Disconnected;
                i.pending = None;
            }
        }
    }

    pub fn on_command(&mut self, source: SourceId, instance: &str, action: &LiftedAction) {
        if let Some(idx) = self.find(source, instance) {
            self.change(idx, |i| {
                i.rev += 1;
                i.on_command(action);
            });
        }
    }

    /// Live instances on a source: how many apps a broadcast reaches.
    pub fn live_on(&self, source: SourceId) -> usize {
        self.instances
            .iter()
            .filter(|i| {
                i.source == source
                    && matches!(i.liveness, Liveness::Streaming | Liveness::Announced)
            })
            .count()
    }
}
