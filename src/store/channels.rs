//! Channels: every source's named channels (subscription, message counts
//! and rate) and, for stateful channels (Leap channels, pipe rooms), their
//! availability, facts, current state and a bounded history of state
//! updates, each summarised by its diff against the state before it. No
//! I/O; states stay JSON text until a view opens them (the last one is
//! kept parsed to diff the next against).

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value;

use crate::event::ChannelUpdate;
use crate::jsondiff::{Change, Index, diff_indexed, diff_json_texts, is_json};

/// State updates kept per channel (oldest dropped first, and counted).
pub const MAX_HISTORY: usize = 256;

/// Bytes of state text kept per channel's history: the oldest go first
/// (the current state always stays), so a channel of large states cannot
/// hold 256 of them.
pub const MAX_HISTORY_BYTES: usize = 4 << 20;

/// Distinct event names kept per channel.
pub const MAX_EVENTS: usize = 32;

/// Paths named in a state update's one-line summary.
const SUMMARY_PATHS: usize = 3;

/// Most diff rows counted for a summary.
const MAX_DIFF: usize = 10_000;

#[derive(Debug, Clone, Default)]
pub struct ChannelInfo {
    pub subscribed: bool,
    pub messages: u64,
    pub bytes: u64,
    pub last_ms: Option<u64>,
    /// Messages each second of the last minute.
    pub trend: super::trend::Trend,
    /// Messages per second over the last full second seen.
    pub rate: f64,
    window_start_ms: u64,
    window_count: u64,
    /// Event names seen on it (the first `MAX_EVENTS`).
    pub events: Vec<String>,
    /// Availability and state, for channels that have them.
    pub live: Option<Box<LiveChannel>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Subscribing, no answer yet.
    Pending,
    Available,
    /// Refused, with why.
    Unavailable(String),
    /// The connection is down; it is subscribed again on reconnect.
    Offline,
    /// Unsubscribed.
    Left,
}

impl Availability {
    pub fn label(&self) -> &str {
        match self {
            Availability::Pending => "pending",
            Availability::Available => "available",
            Availability::Unavailable(_) => "unavailable",
            Availability::Offline => "offline",
            Availability::Left => "left",
        }
    }
}

/// One state a channel had, and how it differs from the one before.
#[derive(Debug, Clone)]
pub struct StateChange {
    pub at_ms: u64,
    /// The whole state, JSON text.
    pub state: Arc<str>,
    pub added: u32,
    pub removed: u32,
    pub changed: u32,
    /// The first paths that changed ("$.count"…), for the list.
    pub paths: Vec<String>,
    /// The first state seen (nothing to compare it with).
    pub first: bool,
    /// The state text was not JSON (kept as it came).
    pub invalid: bool,
    /// The state's structure, on the newest entry only: the next state is
    /// diffed against it without walking this text again.
    index: Option<Box<Index>>,
}

/// A stateful channel.
#[derive(Debug, Clone)]
pub struct LiveChannel {
    pub availability: Availability,
    /// What is known of it (type, capabilities, created…), as shown.
    pub facts: Vec<(String, String)>,
    /// State updates, oldest first; the last is the current state.
    pub history: VecDeque<StateChange>,
    /// State updates seen in all (history holds the last `MAX_HISTORY`).
    pub updates: u64,
    /// This connection's token state on the channel (JSON text).
    pub token_state: Option<Arc<str>>,
    pub token_updates: u64,
    /// Bytes of state text the history holds.
    pub history_bytes: usize,
    /// Bumped on every change (views cache on it).
    pub rev: u64,
}

impl LiveChannel {
    fn new() -> Self {
        Self {
            availability: Availability::Pending,
            facts: Vec::new(),
            history: VecDeque::new(),
            updates: 0,
            token_state: None,
            token_updates: 0,
            history_bytes: 0,
            rev: 0,
        }
    }

    /// The current state, JSON text.
    pub fn state(&self) -> Option<&str> {
        self.history.back().map(|c| &*c.state)
    }

    /// State updates no longer held.
    pub fn dropped(&self) -> u64 {
        self.updates - self.history.len() as u64
    }

    fn push_state(&mut self, at_ms: u64, text: &str) {
        // Indexing walks the text as strictly as serde does; only what it
        // cannot index is checked again.
        let index = Index::build(text);
        let valid = index.is_some() || is_json(text);
        let mut change = StateChange {
            at_ms,
            state: text.into(),
            added: 0,
            removed: 0,
            changed: 0,
            paths: Vec::new(),
            first: self.updates == 0,
            invalid: !valid,
            index: None,
        };
        let prev = self.history.back_mut().filter(|c| !c.invalid);
        if let (Some(old), true) = (prev, valid) {
            let rows = match (old.index.take(), &index) {
                (Some(oi), Some(ni)) => diff_indexed(&old.state, &oi, text, ni, MAX_DIFF),
                _ => diff_json_texts(&old.state, text, MAX_DIFF),
            };
            for row in rows {
                match row.change {
                    Change::Added(_) => change.added += 1,
                    Change::Removed(_) => change.removed += 1,
                    Change::Changed(..) => change.changed += 1,
                }
                if change.paths.len() < SUMMARY_PATHS {
                    change.paths.push(row.path);
                }
            }
        }
        change.index = index.map(Box::new);
        self.history_bytes += change.state.len();
        self.history.push_back(change);
        self.updates += 1;
        while self.history.len() > 1
            && (self.history.len() > MAX_HISTORY || self.history_bytes > MAX_HISTORY_BYTES)
        {
            if let Some(old) = self.history.pop_front() {
                self.history_bytes -= old.state.len();
            }
        }
    }
}

impl ChannelInfo {
    /// Count `count` messages of `bytes` arriving at `at_ms`.
    pub fn on_messages(&mut self, at_ms: u64, count: u64, bytes: u64) {
        self.messages += count;
        self.bytes += bytes;
        self.last_ms = Some(at_ms);
        if at_ms.saturating_sub(self.window_start_ms) >= 1000 {
            let span = at_ms.saturating_sub(self.window_start_ms).max(1);
            self.rate = if self.window_start_ms == 0 || span > 5_000 {
                0.0
            } else {
                self.window_count as f64 * 1000.0 / span as f64
            };
            self.window_start_ms = at_ms;
            self.window_count = 0;
        }
        self.window_count += count;
        self.trend.add(at_ms, count);
    }

    /// The rate to show at `now_ms` (0 once the channel went quiet).
    pub fn rate_at(&self, now_ms: u64) -> f64 {
        match self.last_ms {
            Some(t) if now_ms.saturating_sub(t) <= 2_000 => self.rate,
            _ => 0.0,
        }
    }

    /// Fold a stateful update in.
    pub fn on_update(&mut self, at_ms: u64, update: ChannelUpdate) {
        if let ChannelUpdate::Seen { event } = update {
            // A name, not a state: no availability for it.
            if self.events.len() < MAX_EVENTS && !self.events.contains(&event) {
                self.events.push(event);
                if let Some(l) = &mut self.live {
                    l.rev += 1;
                }
            }
            return;
        }
        let live = self
            .live
            .get_or_insert_with(|| Box::new(LiveChannel::new()));
        live.rev += 1;
        match update {
            ChannelUpdate::Pending => live.availability = Availability::Pending,
            ChannelUpdate::Available { facts, state } => {
                live.availability = Availability::Available;
                self.subscribed = true;
                if !facts.is_empty() {
                    live.facts = facts;
                }
                if let Some(s) = state {
                    live.push_state(at_ms, &s);
                }
            }
            ChannelUpdate::Unavailable { reason } => {
                live.availability = Availability::Unavailable(reason);
                self.subscribed = false;
            }
            ChannelUpdate::State { state } => live.push_state(at_ms, &state),
            ChannelUpdate::TokenState { state } => {
                live.token_state = Some(state.into());
                live.token_updates += 1;
            }
            ChannelUpdate::Left => {
                live.availability = Availability::Left;
                self.subscribed = false;
            }
            ChannelUpdate::Seen { .. } => {}
        }
    }

    /// The source's connection went down.
    pub fn on_down(&mut self) {
        self.subscribed = false;
        if let Some(live) = &mut self.live
            && matches!(
                live.availability,
                Availability::Available | Availability::Pending
            )
        {
            live.availability = Availability::Offline;
            live.rev += 1;
        }
    }
}

/// A channel as the `/` language sees it: the source label, the channel
/// id and the event names seen on it as the summary, its type as the kind,
/// and `{"channel", "availability", "state", "token_state", "facts",
/// "events"}` as data, so `lobby`, `chat` or `data.state.count>3` select rows.
pub struct ChannelRecord<'a> {
    source: &'a str,
    info: &'a ChannelInfo,
    summary: String,
    data: String,
}

impl<'a> ChannelRecord<'a> {
    pub fn new(source: &'a str, name: &'a str, info: &'a ChannelInfo) -> Self {
        let data = Self::data_json(name, info);
        let mut summary = name.to_string();
        for e in &info.events {
            summary.push(' ');
            summary.push_str(e);
        }
        Self {
            source,
            info,
            summary,
            data,
        }
    }

    fn data_json(name: &str, info: &ChannelInfo) -> String {
        let Some(l) = &info.live else {
            return format!(
                "{{\"channel\":{}}}",
                serde_json::to_string(name).unwrap_or_default()
            );
        };
        let facts: serde_json::Map<String, Value> = l
            .facts
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        format!(
            "{{\"channel\":{},\"availability\":{},\"state\":{},\"token_state\":{},\"facts\":{},\"events\":{}}}",
            serde_json::to_string(name).unwrap_or_default(),
            serde_json::to_string(l.availability.label()).unwrap_or_default(),
            l.state()
                .filter(|_| !l.history.back().is_some_and(|c| c.invalid))
                .unwrap_or("null"),
            l.token_state.as_deref().unwrap_or("null"),
            Value::Object(facts),
            serde_json::to_string(&info.events).unwrap_or_else(|_| "[]".into())
        )
    }
}

impl crate::query::Record for ChannelRecord<'_> {
    fn source(&self) -> &str {
        self.source
    }
    fn kind(&self) -> &str {
        self.info
            .live
            .as_ref()
            .and_then(|l| l.facts.iter().find(|(k, _)| k == "type"))
            .map_or("channel", |(_, v)| v.as_str())
    }
    fn level(&self) -> Option<crate::event::Level> {
        match self.info.live.as_ref().map(|l| &l.availability) {
            Some(Availability::Unavailable(_)) => Some(crate::event::Level::Warn),
            _ => None,
        }
    }
    fn summary(&self) -> &str {
        &self.summary
    }
    fn data(&self) -> Option<&str> {
        Some(&self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(s: &str) -> ChannelUpdate {
        ChannelUpdate::State { state: s.into() }
    }

    #[test]
    fn each_state_update_is_summarised_by_its_diff() {
        let mut c = ChannelInfo::default();
        c.on_update(
            1,
            ChannelUpdate::Available {
                facts: vec![("type".into(), "unprotected".into())],
                state: Some(r#"{"count":1,"players":["a"]}"#.into()),
            },
        );
        c.on_update(2, state(r#"{"count":2,"players":["a","b"],"round":1}"#));
        c.on_update(3, state("not json"));
        c.on_update(4, state(r#"{"count":2}"#));
        let live = c.live.as_ref().unwrap();
        assert_eq!(live.availability, Availability::Available);
        assert_eq!(live.history.len(), 4);
        assert!(live.history[0].first);
        let h = &live.history[1];
        assert_eq!((h.added, h.removed, h.changed), (2, 0, 1));
        assert_eq!(h.paths[0], "$.count");
        assert!(live.history[2].invalid);
        // After a state that was not JSON there is nothing to diff against.
        assert_eq!(live.history[3].added + live.history[3].changed, 0);
        assert_eq!(live.state(), Some(r#"{"count":2}"#));
    }

    #[test]
    fn history_is_bounded_and_counts_what_it_dropped() {
        let mut c = ChannelInfo::default();
        for i in 0..(MAX_HISTORY as u64 + 10) {
            c.on_update(i, state(&format!("{{\"n\":{i}}}")));
        }
        let live = c.live.as_ref().unwrap();
        assert_eq!(live.history.len(), MAX_HISTORY);
        assert_eq!(live.dropped(), 10);
        assert_eq!(live.history.back().unwrap().changed, 1);
    }

    #[test]
    fn large_states_are_bounded_by_bytes_and_the_current_one_stays() {
        let mut c = ChannelInfo::default();
        let big = format!("{{\"blob\":\"{}\"}}", "x".repeat(MAX_HISTORY_BYTES / 3));
        for _ in 0..10 {
            c.on_update(1, state(&big));
        }
        let live = c.live.as_ref().unwrap();
        assert!(live.history_bytes <= MAX_HISTORY_BYTES);
        assert_eq!(live.history.len(), 2);
        assert_eq!(live.dropped(), 8);
        let huge = format!("{{\"blob\":\"{}\"}}", "y".repeat(MAX_HISTORY_BYTES + 1));
        c.on_update(2, state(&huge));
        assert_eq!(c.live.as_ref().unwrap().state(), Some(huge.as_str()));
    }

    #[test]
    fn availability_follows_the_connection() {
        let mut c = ChannelInfo::default();
        c.on_update(1, ChannelUpdate::Pending);
        c.on_update(
            2,
            ChannelUpdate::Available {
                facts: vec![],
                state: None,
            },
        );
        assert!(c.subscribed);
        c.on_down();
        assert_eq!(c.live.as_ref().unwrap().availability, Availability::Offline);
        c.on_update(
            3,
            ChannelUpdate::Unavailable {
                reason: "not granted".into(),
            },
        );
        assert!(!c.subscribed);
        assert_eq!(
            c.live.as_ref().unwrap().availability,
            Availability::Unavailable("not granted".into())
        );
    }

    #[test]
    fn rate_is_per_second_and_goes_quiet() {
        let mut c = ChannelInfo::default();
        c.on_messages(10_000, 1, 10);
        for i in 1..=20 {
            c.on_messages(10_000 + i * 100, 1, 10);
        }
        assert!((9.0..=11.5).contains(&c.rate), "{}", c.rate);
        assert_eq!(c.rate_at(20_000), 0.0);
    }
}
