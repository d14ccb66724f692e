//! All state roomtap shows. No I/O, no terminal: `apply` folds a
//! [`SourceEvent`] in and says which panes changed.

pub mod channels;
pub mod heap;
pub mod logs;
pub mod raw;
mod sealed;
pub mod timeline;
pub mod trend;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::event::{
    ChannelChange, Command, CommandKind, ConnState, EventKind, Level, SourceEvent, SourceId,
    TrafficStats,
};
use crate::protocols::redux::wire::model::{ReduxCommand, ReduxEvent};
use crate::source::kind::{Caps, SourceKind};
use crate::text::sanitize_capped;
pub use channels::ChannelInfo;
use logs::Logs;
use timeline::Timeline;

/// Which panes an event touched (bit set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dirty(pub u8);

impl Dirty {
    pub const NONE: Dirty = Dirty(0);
    pub const LOGS: Dirty = Dirty(1);
    pub const CHANNELS: Dirty = Dirty(2);
    pub const CONNECTIONS: Dirty = Dirty(4);
    pub const TIMELINE: Dirty = Dirty(8);

    pub fn any(self) -> bool {
        self.0 != 0
    }
    pub fn has(self, other: Dirty) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for Dirty {
    type Output = Dirty;
    fn bitor(self, rhs: Dirty) -> Dirty {
        Dirty(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Dirty {
    fn bitor_assign(&mut self, rhs: Dirty) {
        self.0 |= rhs.0;
    }
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Log lines kept (oldest evicted first, and counted).
    pub max_log_entries: usize,
    /// Bytes the logs and the timeline hold together, as the allocator
    /// counts them (see [`heap`]): when over, the oldest goes first, a log
    /// line (evicted, counted) or a timeline state (dropped, its row kept
    /// and marked), or when no state is left, a timeline row.
    pub max_bytes: usize,
    /// Timeline entries kept per app instance.
    pub max_actions: usize,
    /// Older log lines sealed compact ([`sealed`]); off for a run that
    /// prints lines as they come and keeps few (`tail`).
    pub compact: bool,
    /// Frames kept as they were (`--keep-raw`; 0: none).
    pub keep_raw: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_log_entries: 200_000,
            max_bytes: 256 << 20,
            max_actions: 10_000,
            compact: true,
            keep_raw: KEEP_RAW,
        }
    }
}

/// Frames kept as they were, by default (each at most 16 KiB).
pub const KEEP_RAW: usize = 1000;

/// Channels one source may hold: their names come from peers (a Leap
/// edge's channels, a TracimDaemon's event types and clients). Past it a
/// new channel is not kept, and that is counted and said.
pub const MAX_CHANNELS: usize = 4096;

/// Facts one source may hold (a source names its own keys; this bounds a
/// bug, not a peer).
const MAX_FACTS: usize = 64;
/// Longest fact value kept (values can carry remote text: a room's status).
const MAX_FACT_BYTES: usize = 1024;

fn cap_fact(mut v: String) -> String {
    if v.len() > MAX_FACT_BYTES {
        let mut end = MAX_FACT_BYTES;
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        v.truncate(end);
        v.push('…');
    }
    v
}

/// Connection facts of one source.
#[derive(Debug, Clone)]
pub struct Connection {
    pub state: ConnState,
    pub since_ms: u64,
    pub session: Option<String>,
    pub rtt: Option<Duration>,
    pub stats: TrafficStats,
    /// Connections made after the first one.
    pub reconnects: u32,
    pub connects: u32,
    /// When the next attempt is due (ms since epoch).
    pub retry_at_ms: Option<u64>,
    pub last_error: Option<String>,
    /// Messages in (and out) each second of the last minute.
    pub msg_trend: trend::Trend,
    /// The largest round trip (µs) each second of the last minute.
    pub rtt_trend: trend::Trend,
}

#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// Short label shown in the logs (e.g. "relay").
    pub label: String,
    /// What it is (relay, room...).
    pub kind: SourceKind,
    /// What it can do (commands, the `:` line, `w`...).
    pub caps: Caps,
    /// Where it connects (credentials never appear here).
    pub url: String,
    pub conn: Connection,
    pub channels: BTreeMap<String, ChannelInfo>,
    /// Frames that failed to decode.
    pub malformed: u64,
    /// Channels not kept: the source already held [`MAX_CHANNELS`].
    pub channels_dropped: u64,
    /// Clients of a server source (roomtap's relay), newest report.
    pub peers: Vec<crate::event::PeerRow>,
    /// Named facts the source reported (room, participant, watching...),
    /// in the order first set.
    pub facts: Vec<(String, String)>,
    /// Numeric measures the source reported, in the order first reported,
    /// each with its recent history.
    pub metrics: Vec<Series>,
}

/// Metrics one source may hold (a source names its own; this bounds a bug).
const MAX_METRICS: usize = 32;
/// Values kept per metric (at a report every 250 ms, the last 30 s).
pub const SERIES_LEN: usize = 120;

/// One metric's newest value and its recent history.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub unit: crate::event::Unit,
    pub chart: bool,
    /// Oldest first; at most [`SERIES_LEN`].
    pub history: std::collections::VecDeque<f64>,
}

impl Series {
    /// The newest value.
    pub fn last(&self) -> f64 {
        self.history.back().copied().unwrap_or(0.0)
    }
}

pub struct Store {
    pub sources: Vec<SourceInfo>,
    pub logs: Logs,
    pub timeline: Timeline,
    /// Events applied since start.
    pub events: u64,
    /// Reused buffer for building summaries on the hot path.
    scratch: String,
    /// The budget the logs and the timeline share.
    max_bytes: usize,
    /// The last frames as they were (`--keep-raw`).
    pub raw: raw::RawFrames,
}

/// "name [instance]" (the key cut to 10 characters).
fn push_who(s: &mut String, app: &crate::protocols::redux::wire::model::AppRef) {
    if let Some(n) = &app.name {
        s.push_str(n);
        s.push(' ');
    }
    s.push('[');
    let key = app.key().unwrap_or("?");
    let cut = key.char_indices().nth(10).map_or(key.len(), |(i, _)| i);
    s.push_str(&key[..cut]);
    s.push(']');
}

fn push_u64(s: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("?"));
}

impl Store {
    pub fn new(cfg: &StoreConfig) -> Self {
        Self {
            sources: Vec::new(),
            logs: Logs::with_limits(cfg.max_log_entries, cfg.max_bytes).sealing(if cfg.compact {
                logs::HOT
            } else {
                0
            }),
            timeline: Timeline::new(cfg.max_actions),
            events: 0,
            scratch: String::new(),
            max_bytes: cfg.max_bytes,
            raw: raw::RawFrames::new(cfg.keep_raw),
        }
    }

    /// Whether commands on `source` reach only the app they name.
    pub fn targets_instances(&self, source: SourceId) -> bool {
        self.sources
            .get(usize::from(source))
            .is_some_and(|s| s.caps.targets_instances)
    }

    /// Register a source of `kind` that can do what its kind does.
    pub fn add_source(&mut self, label: &str, kind: SourceKind, url: &str) -> SourceId {
        self.register(label, kind, kind.caps(), url)
    }

    /// Register a source; its id indexes `sources`. Label and URL may come
    /// from outside (a recording file): they are sanitised here, once.
    pub fn register(&mut self, label: &str, kind: SourceKind, caps: Caps, url: &str) -> SourceId {
        self.sources.push(SourceInfo {
            label: crate::text::sanitize_capped(label, 32).into_owned(),
            kind,
            caps,
            url: crate::text::sanitize_capped(url, 512).into_owned(),
            conn: Connection {
                state: ConnState::Closed,
                since_ms: 0,
                session: None,
                rtt: None,
                stats: TrafficStats::default(),
                reconnects: 0,
                connects: 0,
                retry_at_ms: None,
                last_error: None,
                msg_trend: trend::Trend::default(),
                rtt_trend: trend::Trend::default(),
            },
            channels: BTreeMap::new(),
            malformed: 0,
            channels_dropped: 0,
            peers: Vec::new(),
            facts: Vec::new(),
            metrics: Vec::new(),
        });
        let labels = self
            .sources
            .iter()
            .map(|s| s.label.as_str().into())
            .collect();
        self.logs.set_labels(labels);
        (self.sources.len() - 1) as SourceId
    }

    /// Bytes the logs and the timeline hold (see [`StoreConfig::max_bytes`]).
    pub fn bytes(&self) -> usize {
        self.logs.bytes() + self.timeline.bytes()
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Fold one event in.
    pub fn apply(&mut self, ev: SourceEvent) -> Dirty {
        let dirty = self.apply_event(ev);
        dirty | self.fit()
    }

    /// Back within the byte budget, the oldest first; within the same
    /// millisecond, from the side that holds more.
    fn fit(&mut self) -> Dirty {
        let mut dirty = Dirty::NONE;
        while self.logs.bytes() + self.timeline.bytes() > self.max_bytes {
            let timeline_first = match (self.logs.oldest_ms(), self.timeline.oldest_ms()) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(l), Some(t)) => {
                    t < l
                        || (t == l && self.timeline.bytes() > self.logs.bytes())
                        || self.logs.len() <= 1
                }
            };
            let freed = if timeline_first {
                dirty |= Dirty::TIMELINE;
                self.timeline.drop_oldest()
            } else {
                dirty |= Dirty::LOGS;
                // One log line stays, however big (as `Logs::push` keeps it).
                self.logs.len() > 1 && self.logs.evict_front()
            };
            if !freed {
                break;
            }
        }
        self.logs.set_others(self.timeline.bytes());
        dirty
    }

    /// A log line; if the logs' buffer must grow for it and that does not
    /// fit, timeline states make the room, oldest first, whatever their age
    /// (a lump no eviction of log lines would pay for: they would be
    /// evicted for a buffer already there); the balance by age is then
    /// restored line by line by [`Store::fit`].
    fn push_log(
        &mut self,
        at_ms: u64,
        source: SourceId,
        level: Level,
        kind: impl Into<std::borrow::Cow<'static, str>>,
        summary: impl Into<String>,
        data: Option<std::sync::Arc<str>>,
    ) {
        self.push_log_bytes(at_ms, source, level, kind, summary, data, None);
    }

    /// [`Store::push_log`] of an entry about `bytes` too.
    #[allow(clippy::too_many_arguments)]
    fn push_log_bytes(
        &mut self,
        at_ms: u64,
        source: SourceId,
        level: Level,
        kind: impl Into<std::borrow::Cow<'static, str>>,
        summary: impl Into<String>,
        data: Option<std::sync::Arc<str>>,
        bytes: Option<Vec<u8>>,
    ) {
        let p = Logs::prepare(kind, summary, data).with_bytes(bytes);
        let growth = self.logs.growth_cost();
        if growth > 0 {
            let need = growth + p.size();
            while self.logs.bytes() + self.timeline.bytes() + need > self.max_bytes
                && self.timeline.drop_oldest()
            {}
            self.logs.set_others(self.timeline.bytes());
        }
        self.logs.push_prepared(at_ms, source, level, p);
    }

    /// `name`'s channel of `source`, made if the source holds fewer than
    /// [`MAX_CHANNELS`]; else `None`, counted, and said the 1st, 10th,
    /// 100th… time.
    fn channel(&mut self, at_ms: u64, source: SourceId, name: &str) -> Option<&mut ChannelInfo> {
        let src = &mut self.sources[source as usize];
        if src.channels.len() >= MAX_CHANNELS && !src.channels.contains_key(name) {
            src.channels_dropped += 1;
            let n = src.channels_dropped;
            if crate::text::worth_saying(n) {
                self.push_log(
                    at_ms,
                    source,
                    Level::Warn,
                    "channel",
                    format!(
                        "{} not kept: this source already has {MAX_CHANNELS} channels ({n} not kept so far)",
                        sanitize_capped(name, 128)
                    ),
                    None,
                );
            }
            return None;
        }
        Some(
            self.sources[source as usize]
                .channels
                .entry(name.to_string())
                .or_default(),
        )
    }

    fn apply_event(&mut self, ev: SourceEvent) -> Dirty {
        self.events += 1;
        let SourceEvent {
            source,
            at_ms,
            kind,
        } = ev;
        if usize::from(source) >= self.sources.len() {
            // An event for a source nobody registered: keep it visible.
            self.push_log(
                at_ms,
                source,
                Level::Error,
                "internal",
                format!("event from unknown source #{source}"),
                None,
            );
            return Dirty::LOGS;
        }
        match kind {
            EventKind::Raw(frame) => {
                self.raw.push(raw::Kept {
                    source,
                    before_seq: self.logs.next_seq(),
                    at_ms,
                    frame,
                });
                Dirty::NONE
            }
            EventKind::Conn(state) => self.on_conn(source, at_ms, state),
            EventKind::Stats(stats) => {
                let c = &mut self.sources[source as usize].conn;
                // The counts are the connection's so far: the trend takes
                // what is new since the last (a new connection starts again).
                let old = &c.stats;
                let new = (stats.messages_in + stats.messages_out)
                    .saturating_sub(old.messages_in + old.messages_out);
                c.msg_trend.add(at_ms, new);
                c.stats = stats;
                Dirty::CONNECTIONS
            }
            EventKind::Peers(rows) => {
                self.sources[source as usize].peers = rows;
                Dirty::CONNECTIONS
            }
            EventKind::Facts(facts) => {
                let have = &mut self.sources[source as usize].facts;
                for f in facts {
                    let at = have.iter().position(|(k, _)| *k == f.key);
                    match (at, f.value) {
                        (Some(i), Some(v)) => have[i].1 = cap_fact(v),
                        (Some(i), None) => {
                            have.remove(i);
                        }
                        (None, Some(v)) if have.len() < MAX_FACTS => {
                            have.push((f.key, cap_fact(v)))
                        }
                        (None, _) => {}
                    }
                }
                Dirty::CONNECTIONS
            }
            EventKind::Metrics(metrics) => {
                let have = &mut self.sources[source as usize].metrics;
                for m in metrics {
                    let i = match have.iter().position(|s| s.name == m.name) {
                        Some(i) => i,
                        None if have.len() < MAX_METRICS => {
                            have.push(Series {
                                name: m.name,
                                unit: m.unit,
                                chart: m.chart,
                                history: std::collections::VecDeque::with_capacity(SERIES_LEN),
                            });
                            have.len() - 1
                        }
                        None => continue,
                    };
                    let s = &mut have[i];
                    if s.history.len() == SERIES_LEN {
                        s.history.pop_front();
                    }
                    s.history
                        .push_back(if m.value.is_finite() { m.value } else { 0.0 });
                }
                Dirty::CONNECTIONS
            }
            EventKind::Rtt(rtt) => {
                let c = &mut self.sources[source as usize].conn;
                c.rtt = Some(rtt);
                c.rtt_trend
                    .max(at_ms, u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX));
                Dirty::CONNECTIONS
            }
            EventKind::Channel { channel, change } => {
                let Some(info) = self.channel(at_ms, source, &channel) else {
                    return Dirty::LOGS | Dirty::CONNECTIONS;
                };
                match change {
                    ChannelChange::Subscribed => {
                        info.subscribed = true;
                        self.push_log(
                            at_ms,
                            source,
                            Level::Debug,
                            "channel",
                            format!("subscribed to {channel}"),
                            None,
                        );
                        Dirty::CHANNELS | Dirty::LOGS
                    }
                    ChannelChange::Unsubscribed => {
                        info.subscribed = false;
                        self.push_log(
                            at_ms,
                            source,
                            Level::Debug,
                            "channel",
                            format!("unsubscribed from {channel}"),
                            None,
                        );
                        Dirty::CHANNELS | Dirty::LOGS
                    }
                    ChannelChange::Messages { count, bytes } => {
                        info.on_messages(at_ms, count, bytes);
                        Dirty::CHANNELS
                    }
                }
            }
            EventKind::ChannelState { channel, update } => {
                let channel = crate::text::sanitize_capped(&channel, 128).into_owned();
                let Some(info) = self.channel(at_ms, source, &channel) else {
                    return Dirty::LOGS | Dirty::CONNECTIONS;
                };
                info.on_update(at_ms, update);
                Dirty::CHANNELS
            }
            EventKind::Log(rec) => {
                self.push_log_bytes(
                    at_ms,
                    source,
                    rec.level,
                    rec.kind,
                    &rec.summary,
                    rec.data.map(Into::into),
                    rec.bytes,
                );
                Dirty::LOGS
            }
            EventKind::Malformed { what, raw } => {
                self.sources[source as usize].malformed += 1;
                let summary = format!("{what}: {}", sanitize_capped(&raw, 200));
                self.push_log(
                    at_ms,
                    source,
                    Level::Error,
                    "malformed",
                    &summary,
                    Some(raw.into()),
                );
                Dirty::LOGS | Dirty::CONNECTIONS
            }
            EventKind::Redux(r) => self.on_redux(source, at_ms, r),
            EventKind::CommandSent(cmd) => self.on_command_sent(at_ms, cmd),
        }
    }

    fn on_conn(&mut self, source: SourceId, at_ms: u64, state: ConnState) -> Dirty {
        let conn = &mut self.sources[source as usize].conn;
        let (level, summary) = match &state {
            ConnState::Connecting { attempt } => {
                conn.retry_at_ms = None;
                (Level::Info, format!("connecting (attempt {attempt})"))
            }
            ConnState::Handshaking => (Level::Debug, "handshaking".to_string()),
            // Heard from again after a silence: the same connection.
            ConnState::Connected { session } if matches!(conn.state, ConnState::Silent { .. }) => {
                conn.session.clone_from(session);
                (Level::Info, "heard from again".to_string())
            }
            ConnState::Connected { session } => {
                conn.connects += 1;
                if conn.connects > 1 {
                    conn.reconnects += 1;
                }
                conn.session.clone_from(session);
                conn.retry_at_ms = None;
                (
                    Level::Info,
                    match session {
                        Some(s) => format!("connected, session {s}"),
                        None => "connected".to_string(),
                    },
                )
            }
            ConnState::Silent { quiet_for } => (
                Level::Warn,
                format!(
                    "silent: nothing heard for {:.0} s (the peer's keep-alive is overdue)",
                    quiet_for.as_secs_f64()
                ),
            ),
            ConnState::Errored {
                reason,
                will_reconnect,
                retry_in,
            } => {
                conn.last_error = Some(reason.clone());
                conn.retry_at_ms = retry_in.map(|d| at_ms + d.as_millis() as u64);
                let tail = match (will_reconnect, retry_in) {
                    (true, Some(d)) => format!("; retrying in {:.1}s", d.as_secs_f64()),
                    (true, None) => "; retrying".to_string(),
                    (false, _) => "; not retrying".to_string(),
                };
                (Level::Error, format!("{reason}{tail}"))
            }
            ConnState::Closed => (Level::Info, "closed".to_string()),
        };
        let down = matches!(state, ConnState::Errored { .. } | ConnState::Closed);
        conn.state = state;
        conn.since_ms = at_ms;
        self.logs
            .push(at_ms, source, level, "connection", &summary, None);
        let mut dirty = Dirty::CONNECTIONS | Dirty::LOGS;
        if down {
            self.timeline.on_source_down(source);
            for ch in self.sources[source as usize].channels.values_mut() {
                ch.on_down();
            }
            dirty |= Dirty::TIMELINE | Dirty::CHANNELS;
        }
        dirty
    }

    fn on_redux(&mut self, source: SourceId, at_ms: u64, r: ReduxEvent) -> Dirty {
        // Each arm pushes its log line first: entries keep its number.
        self.timeline.log_seq = self.logs.next_seq();
        let who = |app: &crate::protocols::redux::wire::model::AppRef| -> String {
            let mut s = String::with_capacity(64);
            push_who(&mut s, app);
            s
        };
        match r {
            ReduxEvent::Start { app } => {
                self.push_log(
                    at_ms,
                    source,
                    Level::Info,
                    "START",
                    format!("{} started", who(&app)),
                    None,
                );
                self.timeline.on_start(source, &app);
            }
            ReduxEvent::State {
                app,
                lifted,
                action_creators,
            } => {
                self.push_log(
                    at_ms,
                    source,
                    Level::Info,
                    "STATE",
                    format!(
                        "{} history of {} actions, at {}{}{}",
                        who(&app),
                        lifted.actions.len(),
                        lifted.current_index,
                        if lifted.is_paused { ", paused" } else { "" },
                        if lifted.is_locked { ", locked" } else { "" },
                    ),
                    None,
                );
                self.timeline
                    .on_state(source, &app, lifted, action_creators, at_ms);
            }
            ReduxEvent::Action {
                app,
                action,
                is_excess,
            } => {
                // The hot path: built without `format!` (it dominated ingest).
                // Built in a reused buffer, then copied once at its size.
                let mut summary = std::mem::take(&mut self.scratch);
                summary.clear();
                push_who(&mut summary, &app);
                summary.push(' ');
                summary.push_str(&action.action_type);
                summary.push_str(" #");
                push_u64(&mut summary, action.id);
                let data = action.action_raw.clone();
                self.push_log(
                    at_ms,
                    source,
                    Level::Info,
                    "ACTION",
                    summary.as_str(),
                    Some(data),
                );
                self.scratch = summary;
                self.timeline
                    .on_action(source, &app, action, is_excess, at_ms);
            }
            ReduxEvent::Stop { app } => {
                self.push_log(
                    at_ms,
                    source,
                    Level::Warn,
                    "STOP",
                    format!("{} stopped streaming", who(&app)),
                    None,
                );
                self.timeline.on_stop(source, &app);
            }
            ReduxEvent::Error { app, message } => {
                self.push_log(
                    at_ms,
                    source,
                    Level::Error,
                    "ERROR",
                    format!("{}: {message}", who(&app)),
                    None,
                );
                self.timeline.on_error(source, &app, &message);
            }
            ReduxEvent::Disconnected { socket_id } => {
                self.push_log(
                    at_ms,
                    source,
                    Level::Warn,
                    "DISCONNECTED",
                    format!("socket {socket_id} left the relay"),
                    None,
                );
                self.timeline.on_disconnected(source, &socket_id);
            }
            ReduxEvent::Other { app, msg_type, raw } => {
                self.push_log(
                    at_ms,
                    source,
                    Level::Info,
                    "message",
                    format!("{} {msg_type}", who(&app)),
                    Some(raw.into()),
                );
            }
        }
        Dirty::LOGS | Dirty::TIMELINE
    }

    fn on_command_sent(&mut self, at_ms: u64, cmd: Command) -> Dirty {
        let source = cmd.source;
        // Redux commands move the Timeline (its state); every other kind is
        // only a line in the Logs.
        if let CommandKind::Redux(r) = &cmd.kind {
            match r {
                ReduxCommand::Dispatch { instance, action } => {
                    self.timeline.on_command(source, instance, action);
                }
                ReduxCommand::Update { instance } => {
                    if let Some(i) = self.timeline.find(source, instance) {
                        self.timeline.instances[i].update_requested = true;
                    }
                }
                _ => {}
            }
        }
        let summary = cmd.kind.describe();
        self.logs
            .push(at_ms, source, Level::Debug, "command", &summary, None);
        Dirty::LOGS | Dirty::TIMELINE
    }
}

#[cfg(test)]
mod tests;
