//! The byte budget the logs and the timeline share.

use super::*;
use crate::event::LogRecord;
use crate::protocols::redux::wire::model::{ActionRecord, AppRef, RawJson};
use crate::source::kind::SourceKind;

fn app(i: usize) -> AppRef {
    AppRef {
        socket_id: Some(format!("sock{i}")),
        instance_id: Some(format!("inst{i}")),
        name: Some(format!("app{i}")),
    }
}

fn action(app_no: usize, id: u64, at_ms: u64, state_len: usize) -> SourceEvent {
    SourceEvent {
        source: 0,
        at_ms,
        kind: EventKind::Redux(ReduxEvent::Action {
            app: app(app_no),
            action: ActionRecord {
                id,
                action_type: "TICK".into(),
                timestamp_ms: Some(at_ms),
                action_raw: format!(r#"{{"type":"TICK","n":{id}}}"#).into(),
                state_raw: Some(RawJson::plain(&format!(
                    r#"{{"s":"{}"}}"#,
                    "x".repeat(state_len)
                ))),
                error: None,
            },
            is_excess: None,
        }),
    }
}

fn log(at_ms: u64, len: usize) -> SourceEvent {
    SourceEvent {
        source: 0,
        at_ms,
        kind: EventKind::Log(LogRecord {
            level: Level::Info,
            kind: "log".into(),
            summary: "l".repeat(len),
            data: Some("d".repeat(len)),
            bytes: None,
        }),
    }
}

/// A protocol whose client takes commands, as a relay monitor does.
static APPS: crate::source::kind::Protocol = crate::source::kind::Protocol {
    name: "apps",
    server: "apps server",
    older: &[],
    caps: crate::source::kind::Caps {
        commands: true,
        ..crate::source::kind::Caps::NONE
    },
    token_env: None,
    first_pane: crate::source::kind::FirstPane::Timeline,
};

fn store(max_bytes: usize, max_actions: usize) -> Store {
    let mut s = Store::new(&StoreConfig {
        max_log_entries: usize::MAX,
        max_bytes,
        max_actions,
        compact: true,
        keep_raw: 0,
    });
    s.add_source("relay", SourceKind::client(&APPS), "ws://x");
    s
}

fn states_held(s: &Store) -> usize {
    s.timeline
        .instances
        .iter()
        .flat_map(|i| &i.entries)
        .filter(|e| e.state_raw.is_some())
        .count()
}

#[test]
fn logs_and_timeline_share_the_budget_while_filling() {
    let max = 16 << 20;
    let mut s = store(max, 10_000);
    let mut at = 1_000u64;
    for n in 1..=40_000u64 {
        at += 1;
        let ev = if n % 5 == 0 {
            log(at, 200)
        } else {
            action((n % 4) as usize, n, at, 1000)
        };
        s.apply(ev);
        assert!(s.bytes() <= max, "{} > {max} after {n}", s.bytes());
    }
    // Both kept something, the budget is used, and the oldest went.
    assert!(s.logs.len() > 100, "{}", s.logs.len());
    assert!(states_held(&s) > 100, "{}", states_held(&s));
    assert!(s.bytes() > max * 3 / 4, "{} of {max}", s.bytes());
    assert!(s.logs.evicted() > 0);
    let dropped: u64 = s.timeline.instances.iter().map(|i| i.states_dropped).sum();
    assert!(dropped > 0);
    // A dropped state is said on its row; the rows themselves stay (the
    // count cap of 10 000 per app is not reached, and rows are only dropped
    // once no state is left).
    let rows: usize = s.timeline.instances.iter().map(|i| i.entries.len()).sum();
    assert_eq!(rows, 32_000);
    for i in &s.timeline.instances {
        assert_eq!(i.evicted, 0);
        let first_held = i
            .entries
            .iter()
            .position(|e| e.state_raw.is_some())
            .unwrap();
        assert!(i.entries.iter().take(first_held).all(|e| e.state_dropped));
        assert!(i.entries.iter().skip(first_held).all(|e| !e.state_dropped));
    }
}

#[test]
fn the_oldest_goes_first_whichever_side_holds_it() {
    let max = 1 << 20;
    let mut s = store(max, 10_000);
    // An app's states first, then a flood of logs: the states are older,
    // so they go before the logs roll.
    for n in 1..=200u64 {
        s.apply(action(0, n, n, 2000));
    }
    assert_eq!(states_held(&s), 200);
    let mut at = 1_000;
    while states_held(&s) > 0 {
        at += 1;
        s.apply(log(at, 300));
        assert!(s.bytes() <= max);
        assert!(at < 100_000, "the states never went");
    }
    // Only the ACTION lines went before the states: they arrived with them
    // (a tie goes to the log line first).
    assert_eq!(
        s.logs.evicted(),
        200,
        "a log line went before an older state"
    );
    // Then the rows, oldest first, while the logs keep coming.
    let rows = s.timeline.instances[0].entries.len();
    for _ in 0..20_000 {
        at += 1;
        s.apply(log(at, 300));
        assert!(s.bytes() <= max);
    }
    let inst = &s.timeline.instances[0];
    assert!(inst.entries.len() < rows, "no row went");
    assert_eq!(inst.evicted as usize + inst.entries.len(), 200);
    assert!(s.logs.evicted() > 0);
}

#[test]
fn a_new_state_pushes_out_older_log_lines() {
    let max = 1 << 20;
    let mut s = store(max, 10_000);
    let mut at = 0;
    while s.logs.evicted() == 0 {
        at += 1;
        s.apply(log(at, 300));
    }
    let lines = s.logs.len();
    for n in 1..=100u64 {
        at += 1;
        s.apply(action(0, n, at, 2000));
        assert!(s.bytes() <= max);
    }
    assert_eq!(states_held(&s), 100, "the newest states went");
    assert!(s.logs.len() < lines);
}

#[test]
fn within_one_millisecond_both_sides_keep_a_share() {
    // A burst all dated the same millisecond: age cannot choose, so the
    // side holding more gives way, and the logs' buffer still grows.
    let max = 16 << 20;
    let mut s = store(max, 10_000);
    for n in 1..=60_000u64 {
        let ev = if n % 2 == 0 {
            log(5_000, 200)
        } else {
            action((n % 4) as usize, n, 5_000, 1000)
        };
        s.apply(ev);
        assert!(s.bytes() <= max);
    }
    let (logs, timeline) = (s.logs.bytes(), s.timeline.bytes());
    // The lines, sealed compact, may all fit in less than a quarter.
    assert!(
        logs > max / 4 || s.logs.evicted() == 0,
        "logs {logs}, timeline {timeline}"
    );
    assert!(timeline > max / 4, "logs {logs}, timeline {timeline}");
    assert!(s.logs.len() > 16_384, "{} lines", s.logs.len());
}

#[test]
fn the_mirror_of_an_app_without_max_age_is_trimmed_to_the_rows_listed() {
    // An app that never reports a maxAge keeps its whole history; roomtap
    // lists its last 100 actions and mirrors no more than it can use,
    // while the app's indexes stay right.
    let mut s = store(usize::MAX, 100);
    for n in 1..=20_000u64 {
        s.apply(action(0, n, n, 10));
    }
    let i = &s.timeline.instances[0];
    assert_eq!(i.entries.len(), 100);
    assert!(i.app_staged.len() <= 2 * 100 + 2, "{}", i.app_staged.len());
    assert_eq!(i.app_len(), 20_001);
    assert_eq!(i.app_index_of(20_000), Some(20_000));
    assert_eq!(i.app_index_of(19_901), Some(19_901));
    assert_eq!(i.app_index_of(5), None);
    assert_eq!(i.current_id(), Some(20_000));
    // A jump to a listed row moves the current mark there.
    let cmd = crate::protocols::redux::wire::model::LiftedAction::JumpToState { index: 19_950 };
    s.timeline.on_command(0, "inst0", &cmd);
    let i = &s.timeline.instances[0];
    assert_eq!(i.current_id(), Some(19_950));
    assert!(i.bytes() < 100 * 1024, "{}", i.bytes());
}

#[test]
fn channels_past_the_cap_are_counted_and_said_not_kept() {
    let mut s = store(usize::MAX, 100);
    let extra = 12u64;
    for i in 0..(MAX_CHANNELS as u64 + extra) {
        s.apply(SourceEvent {
            source: 0,
            at_ms: i,
            kind: EventKind::ChannelState {
                channel: format!("c{i}"),
                update: crate::event::ChannelUpdate::State { state: "{}".into() },
            },
        });
    }
    // A channel already held still takes updates past the cap.
    s.apply(SourceEvent {
        source: 0,
        at_ms: 99_999,
        kind: EventKind::ChannelState {
            channel: "c0".into(),
            update: crate::event::ChannelUpdate::State {
                state: "{\"n\":2}".into(),
            },
        },
    });
    let src = &s.sources[0];
    assert_eq!(src.channels.len(), MAX_CHANNELS);
    assert_eq!(src.channels_dropped, extra);
    assert!(src.channels.contains_key("c0"));
    assert!(!src.channels.contains_key(&format!("c{}", MAX_CHANNELS)));
    let said: Vec<String> = (0..s.logs.view_len())
        .filter_map(|i| s.logs.view_get(i))
        .filter(|e| e.level == Level::Warn && &*e.kind == "channel")
        .map(|e| e.summary.to_string())
        .collect();
    assert_eq!(said.len(), 2, "the 1st and the 10th: {said:?}");
    assert!(said[0].contains("c4096 not kept") && said[0].contains("(1 not kept so far)"));
    assert!(said[1].contains("(10 not kept so far)"));
}

#[test]
fn metrics_keep_a_bounded_history_of_a_bounded_number() {
    use crate::event::{Metric, Unit};
    let mut s = store(usize::MAX, 100);
    for i in 0..(SERIES_LEN as u64 + 10) {
        let mut ms = vec![
            Metric::new("latency", i as f64, Unit::Ms).charted(),
            Metric::new("nan", f64::NAN, Unit::Count),
        ];
        // Past the 32nd, a new metric is not kept.
        ms.extend((0..40).map(|k| Metric::new(format!("m{k}"), 1.0, Unit::Count)));
        s.apply(SourceEvent {
            source: 0,
            at_ms: i,
            kind: EventKind::Metrics(ms),
        });
    }
    let m = &s.sources[0].metrics;
    assert_eq!(m.len(), MAX_METRICS);
    assert_eq!(m[0].name, "latency");
    assert!(m[0].chart);
    assert_eq!(m[0].history.len(), SERIES_LEN);
    assert_eq!(m[0].history.front(), Some(&10.0), "the oldest went first");
    assert_eq!(m[0].last(), (SERIES_LEN + 9) as f64);
    assert_eq!(
        m[1].last(),
        0.0,
        "a value that is not a number is kept as 0"
    );
    assert!(!m.iter().any(|x| x.name == "m35"), "past the cap");
}
