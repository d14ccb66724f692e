//! Headless driver: source events and actions in, store and commands out.

mod common;

use std::time::{Duration, Instant};

use common::*;
use roomtap::event::{Command, CommandKind, EventKind};
use roomtap::protocols::redux::wire::model::{LiftedAction, ReduxCommand};
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;

fn dispatches(cmds: &[Command]) -> Vec<LiftedAction> {
    cmds.iter()
        .filter_map(|c| match &c.kind {
            CommandKind::Redux(ReduxCommand::Dispatch { action, .. }) => Some(action.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn enter_jumps_to_the_selected_state_and_the_current_mark_follows() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Up);
    a.act(Action::Up);
    a.act(Action::Activate);
    let cmds = a.take_commands();
    assert_eq!(
        dispatches(&cmds),
        vec![LiftedAction::JumpToState { index: 1 }]
    );
    let CommandKind::Redux(ReduxCommand::Dispatch { instance, .. }) = &cmds[0].kind else {
        panic!()
    };
    assert_eq!(instance, "inst-a");
    // The source echoes what went out; the app never answers a jump.
    a.apply(ev(T0 + 1000, EventKind::CommandSent(cmds[0].clone())));
    let inst = &a.store.timeline.instances[0];
    assert_eq!(inst.app_current, 1);
    assert_eq!(inst.current_id(), Some(1));
    let t = render(&mut a, 120, 40);
    let text = screen_text(&t);
    let marked: Vec<&str> = text.lines().filter(|l| l.contains('▶')).collect();
    assert_eq!(marked.len(), 1, "{text}");
    assert!(marked[0].contains("   1 ▃ INCREMENT"), "{}", marked[0]);
}

#[test]
fn history_commands_wait_for_the_state_reply() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Up);
    a.act(Action::Skip);
    a.act(Action::Commit);
    a.act(Action::Input('y'));
    let cmds = a.take_commands();
    assert_eq!(
        dispatches(&cmds),
        vec![LiftedAction::ToggleAction { id: 2 }, LiftedAction::Commit]
    );
    a.apply(ev(T0 + 1000, EventKind::CommandSent(cmds[1].clone())));
    assert_eq!(a.store.timeline.instances[0].pending, Some("COMMIT"));
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("STATE after COMMIT"), "{text}");
    // The app answers with its committed history: the list is rebuilt.
    a.apply(ev(
        T0 + 1100,
        state_msg("inst-a", "counter", &lifted(&[3], 0, &[])),
    ));
    let inst = &a.store.timeline.instances[0];
    assert_eq!(inst.pending, None);
    assert_eq!(inst.entries.len(), 1);
}

#[test]
fn the_initial_state_cannot_be_skipped() {
    let mut a = app_with_actions(1);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Top);
    a.act(Action::Skip);
    assert!(a.take_commands().is_empty());
    assert!(
        a.ui.status
            .as_ref()
            .unwrap()
            .0
            .contains("cannot be skipped")
    );
}

#[test]
fn broadcast_commands_say_every_app_obeys() {
    let mut a = app_with_actions(2);
    a.apply(ev(
        T0,
        state_msg("inst-b", "other", &lifted(&[0, 1], 1, &[])),
    ));
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Top);
    a.act(Action::Activate);
    assert_eq!(a.take_commands().len(), 1);
    let status = &a.ui.status.as_ref().unwrap().0;
    assert!(status.contains("all 2 apps"), "{status}");
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("2 apps on this relay"), "{text}");
}

#[test]
fn dispatch_prompt_sends_the_typed_action() {
    let mut a = app_with_actions(1);
    a.act(Action::DispatchPrompt);
    for c in "{ type: 'INCREMENT', by: 10 }".chars() {
        a.act(Action::Input(c));
    }
    a.act(Action::Submit);
    let cmds = a.take_commands();
    assert_eq!(
        cmds[0].kind,
        CommandKind::Redux(ReduxCommand::DispatchUserAction {
            instance: "inst-a".into(),
            text: "{ type: 'INCREMENT', by: 10 }".into()
        })
    );
}

#[test]
fn replay_steps_at_a_fixed_pace_and_any_key_stops_it() {
    let mut a = app_with_actions(4);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Top);
    a.act(Action::Down); // index 1
    a.act(Action::Replay);
    a.act(Action::Input('f'));
    let t0 = Instant::now();
    // The first step goes out at once.
    assert_eq!(
        dispatches(&a.take_commands()),
        vec![LiftedAction::JumpToState { index: 1 }]
    );
    let due = a.tick(t0).expect("more steps due");
    assert!(due <= t0 + Duration::from_millis(260));
    a.tick(t0 + Duration::from_millis(260));
    assert_eq!(
        dispatches(&a.take_commands()),
        vec![LiftedAction::JumpToState { index: 2 }]
    );
    // The status line shows how far it is.
    let screen = screen_text(&render(&mut a, 80, 24));
    assert!(
        screen.contains("▶ replay 2/4 · every 250 ms") && screen.contains("any key stops"),
        "{screen}"
    );
    a.act(Action::Down); // any key
    assert!(a.ui.replay.is_none());
    assert!(a.tick(t0 + Duration::from_secs(5)).is_none());
    assert!(a.take_commands().is_empty());
}

#[test]
fn replay_at_recorded_speed_uses_action_timestamps() {
    let mut a = app_with_actions(3); // 100 ms apart
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Top);
    a.act(Action::Replay);
    a.act(Action::Input('2'));
    let t0 = Instant::now();
    assert_eq!(a.take_commands().len(), 1);
    let due = a.tick(t0).unwrap();
    let gap = due.saturating_duration_since(t0);
    assert!(gap <= Duration::from_millis(55), "{gap:?}");
    for step in 1..=3 {
        a.tick(t0 + Duration::from_millis(50 * step + 1));
    }
    assert_eq!(
        dispatches(&a.take_commands()),
        vec![
            LiftedAction::JumpToState { index: 1 },
            LiftedAction::JumpToState { index: 2 },
            LiftedAction::JumpToState { index: 3 }
        ]
    );
    assert!(a.ui.replay.is_none());
}

#[test]
fn an_unknown_state_is_asked_for_only_when_viewed_and_rate_limited() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Top);
    a.act(Action::Activate);
    let jump = a.take_commands().remove(0);
    a.apply(ev(T0 + 1000, EventKind::CommandSent(jump)));
    a.act(Action::Bottom);
    a.apply(ev(
        T0 + 1100,
        action_msg("inst-a", "counter", 4, "INCREMENT", 0),
    ));
    a.after_events();
    assert!(a.store.timeline.instances[0].stale);
    assert!(
        a.take_commands().is_empty(),
        "UPDATE is a broadcast: not sent while nobody looks at the unknown state"
    );
    a.act(Action::NextTab); // State tab, on the unknown entry
    a.after_events();
    let cmds = a.take_commands();
    assert_eq!(
        cmds.iter().map(|c| c.kind.clone()).collect::<Vec<_>>(),
        vec![CommandKind::Redux(ReduxCommand::Update {
            instance: "inst-a".into()
        })]
    );
    a.apply(ev(T0 + 1200, EventKind::CommandSent(cmds[0].clone())));
    a.apply(ev(
        T0 + 1300,
        action_msg("inst-a", "counter", 5, "INCREMENT", 0),
    ));
    a.after_events();
    assert!(
        a.take_commands().is_empty(),
        "one UPDATE in flight at a time"
    );
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("state unknown"), "{text}");
}

#[test]
fn an_app_seen_mid_stream_is_asked_for_its_history() {
    let mut a = app();
    a.apply(ev(T0, action_msg("inst-a", "counter", 7, "INCREMENT", 7)));
    a.after_events();
    assert_eq!(
        a.take_commands()
            .iter()
            .map(|c| c.kind.clone())
            .collect::<Vec<_>>(),
        vec![CommandKind::Redux(ReduxCommand::Update {
            instance: "inst-a".into()
        })]
    );
}

#[test]
fn maxage_dropped_actions_are_kept_but_not_jumpable() {
    let mut a = app();
    a.apply(ev(
        T0,
        state_msg("inst-a", "counter", &lifted(&[0], 0, &[])),
    ));
    // maxAge 3: the app keeps [0, last two]. isExcess turns true once the
    // history reached 3 entries.
    for i in 1..=5u64 {
        let mut m = serde_json::json!({
            "type": "ACTION", "id": "sock-1", "name": "counter", "instanceId": "inst-a",
            "payload": serde_json::json!({"count": i}).to_string(),
            "action": serde_json::json!({"type": "PERFORM_ACTION", "action": {"type": "INCREMENT"}, "timestamp": T0 + i}).to_string(),
            "nextActionId": i + 1
        });
        if i >= 2 {
            m["isExcess"] = serde_json::json!(i >= 3);
        }
        a.apply(ev(T0 + i, redux(m)));
    }
    let inst = &a.store.timeline.instances[0];
    assert_eq!(inst.entries.len(), 6, "roomtap keeps everything it saw");
    assert_eq!(
        inst.app_staged,
        vec![0, 4, 5],
        "mirror of the app's maxAge history"
    );
    assert_eq!(inst.app_current, 2);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Top);
    a.act(Action::Down); // action #1, dropped by the app
    a.act(Action::Activate);
    assert!(a.take_commands().is_empty());
    assert!(a.ui.status.as_ref().unwrap().0.contains("maxAge"));
    a.act(Action::Bottom);
    a.act(Action::Activate);
    assert_eq!(
        dispatches(&a.take_commands()),
        vec![LiftedAction::JumpToState { index: 2 }]
    );
}

#[test]
fn filters_apply_while_typing_and_escape_clears() {
    let mut a = app_with_actions(2);
    a.apply(ev(
        T0 + 900,
        action_msg("inst-a", "counter", 3, "ADD_TODO", 2),
    ));
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::FilterPrompt);
    for c in "add_".chars() {
        a.act(Action::Input(c));
    }
    assert_eq!(a.store.logs.view_len(), 1);
    a.act(Action::Submit);
    assert_eq!(a.store.logs.view_len(), 1);
    a.act(Action::Escape);
    assert!(a.store.logs.filter().is_none());
    // Timeline filter on action type.
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::FilterPrompt);
    for c in "todo".chars() {
        a.act(Action::Input(c));
    }
    a.act(Action::Submit);
    assert_eq!(a.timeline_view().len(), 1);
}

#[test]
fn malformed_frames_are_visible_errors() {
    let mut a = app();
    a.apply(ev(
        T0,
        EventKind::Malformed {
            what: "not a SocketCluster packet".into(),
            raw: "{\u{1b}[2J oops".into(),
        },
    ));
    assert_eq!(a.store.sources[0].malformed, 1);
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("malformed"), "{text}");
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn copy_gives_the_selected_json() {
    let mut a = app_with_actions(2);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::NextTab); // State
    a.prepare();
    a.act(Action::Copy);
    let copied = a.take_copies().pop().unwrap();
    let v: serde_json::Value = serde_json::from_str(&copied).unwrap();
    assert_eq!(v["count"], 2);
    // The value under the cursor in the detail view.
    a.act(Action::ToggleDetailFocus);
    a.act(Action::Down);
    a.act(Action::Copy);
    assert_eq!(a.take_copies().pop().unwrap(), "2");
}

#[test]
fn commands_are_refused_for_a_gone_app() {
    let mut a = app_with_actions(2);
    a.apply(ev(
        T0 + 5000,
        roomtap::event::EventKind::Redux(
            roomtap::protocols::redux::wire::model::ReduxEvent::Disconnected {
                socket_id: "sock-1".into(),
            },
        ),
    ));
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Activate);
    assert!(a.take_commands().is_empty());
    assert!(a.ui.status.as_ref().unwrap().0.contains("not connected"));
}

fn type_filter(a: &mut roomtap::app::App, pane: Pane, text: &str) {
    a.act(Action::Focus(pane));
    a.act(Action::FilterPrompt);
    for c in text.chars() {
        a.act(Action::Input(c));
    }
}

fn log_line(
    a: &mut roomtap::app::App,
    at: u64,
    level: roomtap::event::Level,
    kind: &str,
    summary: &str,
    data: &str,
) {
    a.apply(ev(
        at,
        EventKind::Log(roomtap::event::LogRecord {
            level,
            kind: kind.into(),
            summary: summary.into(),
            data: Some(data.into()),
            bytes: None,
        }),
    ));
}

/// The query language over live logs: the issue's example, a bad query
/// shown where it fails while the last good filter stays, the case
/// toggle, and entries arriving later filtered as they come.
#[test]
fn the_query_language_filters_logs_as_you_type() {
    use roomtap::event::Level;
    let mut a = app();
    log_line(
        &mut a,
        T0,
        Level::Warn,
        "indexer",
        "upstream",
        r#"{"msg":"upstream time-out","user":{"id":42}}"#,
    );
    log_line(
        &mut a,
        T0 + 1,
        Level::Info,
        "indexer",
        "ok",
        r#"{"msg":"timeout but info"}"#,
    );
    log_line(
        &mut a,
        T0 + 2,
        Level::Error,
        "assistant",
        "Timeout!",
        r#"{"msg":"fine"}"#,
    );
    type_filter(&mut a, Pane::Logs, "level>=warn and data.msg~/time.?out/");
    assert!(a.ui.filter_error.is_none());
    assert_eq!(a.store.logs.view_len(), 1);
    assert_eq!(&*a.store.logs.view_get(0).unwrap().summary, "upstream");
    // Typing on into a broken query: the error says where, the filter stays.
    a.paste(" and (");
    let e = a.ui.filter_error.clone().expect("an error");
    assert!(e.message.contains("ends where a term"), "{e}");
    assert_eq!(a.store.logs.view_len(), 1);
    a.act(Action::Submit);
    assert!(a.ui.prompt.is_some(), "Enter keeps a broken query open");
    for _ in 0..6 {
        a.act(Action::Backspace);
    }
    a.act(Action::Submit);
    assert!(a.ui.prompt.is_none());
    // Later entries are filtered on arrival.
    log_line(
        &mut a,
        T0 + 3,
        Level::Error,
        "indexer",
        "again",
        r#"{"msg":"timeout"}"#,
    );
    log_line(
        &mut a,
        T0 + 4,
        Level::Debug,
        "indexer",
        "quiet",
        r#"{"msg":"timeout"}"#,
    );
    assert_eq!(a.store.logs.view_len(), 2);
    // Case: "timeout!" matches "Timeout!" until the case toggle.
    a.act(Action::Escape);
    type_filter(&mut a, Pane::Logs, "Timeout!");
    assert_eq!(a.store.logs.view_len(), 1);
    a.act(Action::ToggleCase);
    assert!(a.ui.case_sensitive);
    assert_eq!(
        a.store.logs.view_len(),
        1,
        "exact case still matches 'Timeout!'"
    );
    for _ in 0.."Timeout!".len() {
        a.act(Action::Backspace);
    }
    for c in "timeout!".chars() {
        a.act(Action::Input(c));
    }
    assert_eq!(a.store.logs.view_len(), 0);
    a.act(Action::ToggleCase);
    assert_eq!(a.store.logs.view_len(), 1);
    // Field predicates on source and JSON paths with numbers.
    a.act(Action::Escape);
    a.act(Action::Escape);
    type_filter(&mut a, Pane::Logs, "source=relay data.user.id>=42");
    assert_eq!(a.store.logs.view_len(), 1);
    a.act(Action::Submit);
    // The title counts the matches.
    let t = render(&mut a, 120, 40);
    assert!(screen_text(&t).contains("· 1 match ·"));
}

/// The same language on the timeline: action type and action fields.
#[test]
fn the_query_language_filters_the_timeline() {
    let mut a = app_with_actions(3);
    a.apply(ev(
        T0 + 900,
        action_msg("inst-a", "counter", 4, "ADD_TODO", 3),
    ));
    a.after_events();
    type_filter(&mut a, Pane::Timeline, "type:todo or action.type=@@INIT");
    assert_eq!(a.timeline_view().len(), 2);
    a.act(Action::Escape);
    a.act(Action::Escape);
    type_filter(&mut a, Pane::Timeline, "action.by=1 not increment");
    assert_eq!(a.timeline_view().len(), 1, "ADD_TODO has by=1 too");
    a.act(Action::Submit);
    a.act(Action::Zoom);
    let t = render(&mut a, 120, 40);
    assert!(screen_text(&t).contains("· 1 shown"));
}

/// Space freezes the Logs view: new entries are kept and counted, not
/// shown, until Space again.
#[test]
fn space_freezes_the_logs_while_ingest_goes_on() {
    use roomtap::event::Level;
    let mut a = app();
    for i in 0..3 {
        log_line(
            &mut a,
            T0 + i,
            Level::Info,
            "k",
            &format!("before {i}"),
            "{}",
        );
    }
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Freeze);
    for i in 0..2 {
        log_line(
            &mut a,
            T0 + 10 + i,
            Level::Info,
            "k",
            &format!("after {i}"),
            "{}",
        );
    }
    assert_eq!(a.log_len(), 3);
    assert_eq!(a.store.logs.len(), 5);
    // Moving to the end of a frozen view does not resume following.
    a.act(Action::Down);
    a.act(Action::Down);
    assert_eq!(a.log_len(), 3);
    let t = render(&mut a, 120, 40);
    let s = screen_text(&t);
    assert!(s.contains("FROZEN"), "{s}");
    assert!(s.contains("2 new ↓  (Space to unfreeze)"), "{s}");
    assert!(!s.contains("after 0"));
    a.act(Action::Freeze);
    assert_eq!(a.log_len(), 5);
    assert!(a.ui.logs.follow);
    let t = render(&mut a, 120, 40);
    assert!(screen_text(&t).contains("after 1"));
}

/// Enter opens the selected entry as a tree under the list; y copies the
/// value under the cursor, Y its path (a filter as is), and in the list y
/// copies the whole entry.
#[test]
fn enter_opens_a_log_entry_and_y_copies_value_path_or_entry() {
    use roomtap::event::Level;
    let mut a = app();
    log_line(
        &mut a,
        T0,
        Level::Warn,
        "indexer",
        "slow",
        r#"{"user":{"id":42,"name":"ana"}}"#,
    );
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Activate);
    assert!(a.ui.logs.open && a.ui.logs.detail.focus);
    a.prepare();
    let rows: Vec<String> =
        a.ui.logs
            .detail
            .view
            .lines
            .iter()
            .map(|l| match l {
                roomtap::ui::DetailLine::Tree(r) => r.path.clone(),
                _ => String::new(),
            })
            .collect();
    let at = rows
        .iter()
        .position(|p| p == "$.data.user.id")
        .expect("a row for data.user.id");
    for _ in 0..at {
        a.act(Action::Down);
    }
    a.act(Action::Copy);
    a.act(Action::CopyPath);
    assert_eq!(
        a.take_copies(),
        vec!["42".to_string(), "data.user.id".to_string()]
    );
    // The root has no path to copy: said, nothing copied.
    a.act(Action::Top);
    a.act(Action::CopyPath);
    assert!(a.take_copies().is_empty());
    for _ in 0..at {
        a.act(Action::Down);
    }
    // Fold the `data` object: its children go.
    let data_row = rows.iter().position(|p| p == "$.data").unwrap();
    a.act(Action::Top);
    for _ in 0..data_row {
        a.act(Action::Down);
    }
    a.act(Action::Activate);
    a.prepare();
    assert!(a.ui.logs.detail.view.lines.len() < rows.len());
    let t = render(&mut a, 120, 40);
    assert!(screen_text(&t).contains("entry #0"));
    // Back to the list: y copies the whole entry.
    a.act(Action::ToggleDetailFocus);
    a.act(Action::Copy);
    let v: serde_json::Value = serde_json::from_str(&a.take_copies()[0]).unwrap();
    assert_eq!(v["level"], "WARN");
    assert_eq!(v["kind"], "indexer");
    assert_eq!(v["data"]["user"]["name"], "ana");
    assert_eq!(v["source"], "relay");
    a.act(Action::Escape);
    assert!(!a.ui.logs.open);
}

#[test]
fn channel_state_in_tree_and_diffs_out_folding_and_filtering() {
    use roomtap::event::ChannelUpdate;
    use roomtap::ui::DetailLine;
    use roomtap::ui::json::Change;
    let mut a = common::app_blank();
    a.store
        .add_source("leap", roomtap::protocols::leap::CLIENT, "ws://h/ws");
    let cs = |channel: &str, update: ChannelUpdate| EventKind::ChannelState {
        channel: channel.into(),
        update,
    };
    a.apply(common::ev(
        1,
        cs(
            "lobby",
            ChannelUpdate::Available {
                facts: vec![("type".into(), "unprotected".into())],
                state: Some(r#"{"count":1,"who":{"ann":true}}"#.into()),
            },
        ),
    ));
    a.apply(common::ev(
        2,
        cs(
            "lobby",
            ChannelUpdate::State {
                state: r#"{"count":2,"who":{"ann":true,"bo":true}}"#.into(),
            },
        ),
    ));
    a.apply(common::ev(
        3,
        cs(
            "flags",
            ChannelUpdate::State {
                state: r#"{"dark":true}"#.into(),
            },
        ),
    ));
    a.act(Action::Focus(Pane::Channels));
    a.prepare();
    // flags is first (sorted); move to lobby.
    a.act(Action::Down);
    a.prepare();
    let lines = &a.ui.chans.detail.view.lines;
    let trees: Vec<&str> = lines
        .iter()
        .filter_map(|l| match l {
            DetailLine::Tree(r) => Some(r.path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(trees, ["$", "$.count", "$.who", "$.who.ann", "$.who.bo"]);
    let diffs: Vec<(&str, bool)> = lines
        .iter()
        .filter_map(|l| match l {
            DetailLine::Diff(d) => Some((d.path.as_str(), matches!(d.change, Change::Added(_)))),
            _ => None,
        })
        .collect();
    assert_eq!(diffs, [("$.count", false), ("$.who.bo", true)]);
    // Into the detail, down to $.who, fold it.
    a.act(Action::Activate);
    assert!(a.ui.chans.detail.focus);
    let who =
        a.ui.chans
            .detail
            .view
            .lines
            .iter()
            .position(|l| matches!(l, DetailLine::Tree(r) if r.path == "$.who"))
            .unwrap();
    for _ in 0..who {
        a.act(Action::Down);
    }
    a.act(Action::Activate);
    a.prepare();
    let trees =
        a.ui.chans
            .detail
            .view
            .lines
            .iter()
            .filter(|l| matches!(l, DetailLine::Tree(_)))
            .count();
    assert_eq!(trees, 3, "$.who folded");
    // A new state keeps the fold and adds its diff on top.
    a.apply(common::ev(
        4,
        cs(
            "lobby",
            ChannelUpdate::State {
                state: r#"{"count":3,"who":{"bo":true}}"#.into(),
            },
        ),
    ));
    a.prepare();
    let first_diff = a.ui.chans.detail.view.lines.iter().find_map(|l| match l {
        DetailLine::Diff(d) => Some(d.path.clone()),
        _ => None,
    });
    assert_eq!(first_diff.as_deref(), Some("$.count"));
    // `/` with a path into the state keeps only the matching channel.
    a.act(Action::Escape);
    a.act(Action::FilterPrompt);
    for c in "data.state.count>=3".chars() {
        a.act(Action::Input(c));
    }
    a.act(Action::Submit);
    a.prepare();
    assert_eq!(a.channel_rows(), 1);
    assert_eq!(a.selected_channel().map(|(_, n)| n.as_str()), Some("lobby"));
    a.act(Action::Escape);
    a.prepare();
    assert_eq!(a.channel_rows(), 2);
    // An event name seen on a channel selects it too.
    a.apply(common::ev(
        5,
        cs(
            "lobby",
            ChannelUpdate::Seen {
                event: "chat".into(),
            },
        ),
    ));
    a.act(Action::FilterPrompt);
    for c in "chat".chars() {
        a.act(Action::Input(c));
    }
    a.act(Action::Submit);
    a.prepare();
    assert_eq!(a.selected_channel().map(|(_, n)| n.as_str()), Some("lobby"));
    assert_eq!(a.channel_rows(), 1);
}

#[test]
fn a_state_dropped_for_max_bytes_is_said_and_its_row_stays() {
    // A budget of 64 KB: a flood of log lines pushes the app's older
    // states out (they are older than the lines), never its rows.
    let cfg = roomtap::store::StoreConfig {
        max_bytes: 64 << 10,
        ..Default::default()
    };
    let mut a = roomtap::app::App::new(&cfg, roomtap::ui::theme::Theme::builtin("dark").unwrap());
    a.store.add_source(
        "relay",
        roomtap::protocols::redux::CLIENT,
        "ws://127.0.0.1:8000/socketcluster/",
    );
    a.apply(ev(
        T0,
        state_msg("inst-a", "counter", &lifted(&[0], 0, &[])),
    ));
    for i in 1..=3 {
        a.apply(ev(
            T0 + 100 * i,
            action_msg("inst-a", "counter", i, "INCREMENT", i as i64),
        ));
    }
    let mut at = T0 + 1000;
    while !a.store.timeline.instances[0].entries[1].state_dropped {
        at += 1;
        a.apply(ev(
            at,
            EventKind::Log(roomtap::event::LogRecord {
                level: roomtap::event::Level::Info,
                kind: "log".into(),
                // Lines whose text outweighs the entries' buffer, so the
                // budget drops the oldest state before a buffer must grow.
                summary: "x".repeat(200),
                data: Some(format!("\"{}\"", "d".repeat(1000))),
                bytes: None,
            }),
        ));
        assert!(at < T0 + 100_000, "no state was dropped");
        assert!(a.store.bytes() <= 64 << 10);
    }
    a.after_events();
    let inst = &a.store.timeline.instances[0];
    assert_eq!(inst.entries.len(), 4);
    assert!(inst.states_dropped >= 1);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Top);
    a.act(Action::Down);
    a.act(Action::NextTab); // State tab, on the first INCREMENT
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("state dropped"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("1 ▃ INCREMENT") && l.contains("+100ms -  ")),
        "{text}"
    );
}

/// Selections are things, not rows (issue #20): a channel row appearing
/// above the selected one does not change which channel is selected, and
/// the cursor in a channel's history stays on its update as newer updates
/// come in above it.
#[test]
fn the_selected_channel_and_its_history_line_stay_put() {
    use roomtap::event::ChannelUpdate;
    let mut a = app_blank();
    a.store.add_source(
        "leap",
        roomtap::protocols::leap::CLIENT,
        "ws://127.0.0.1:1/ws",
    );
    let state = |at: u64, ch: &str, s: &str| {
        ev(
            at,
            EventKind::ChannelState {
                channel: ch.into(),
                update: ChannelUpdate::State { state: s.into() },
            },
        )
    };
    a.apply(state(T0, "presence", r#"{"n":1}"#));
    a.apply(state(T0 + 1, "scores", r#"{"red":0}"#));
    a.act(Action::Focus(Pane::Channels));
    a.act(Action::Down);
    a.prepare();
    assert_eq!(a.selected_channel().unwrap().1, "scores");
    // `lobby` sorts above it: still `scores`.
    a.apply(state(T0 + 2, "lobby", "{}"));
    a.prepare();
    assert_eq!(a.selected_channel().unwrap().1, "scores");
    // Its history: three updates; the cursor on update #2's head.
    a.apply(state(T0 + 3, "scores", r#"{"red":1}"#));
    a.apply(state(T0 + 4, "scores", r#"{"red":2}"#));
    a.prepare();
    a.act(Action::Activate); // into the detail
    let at = |a: &roomtap::app::App, text: &str| {
        a.ui.chans
            .detail
            .view
            .lines
            .iter()
            .position(|l| matches!(l, roomtap::ui::DetailLine::Head(h) if h.contains(text)))
    };
    let target = at(&a, "#2  ").expect("update #2 listed");
    for _ in 0..target {
        a.act(Action::Down);
    }
    a.prepare();
    let on = |a: &roomtap::app::App| match &a.ui.chans.detail.view.lines[a.ui.chans.detail.sel] {
        roomtap::ui::DetailLine::Head(h) => h.clone(),
        other => format!("{other:?}"),
    };
    assert!(on(&a).contains("#2  "), "{}", on(&a));
    // Two newer updates come in above it: still on #2.
    a.apply(state(T0 + 5, "scores", r#"{"red":3}"#));
    a.apply(state(T0 + 6, "scores", r#"{"red":4,"blue":1}"#));
    a.prepare();
    assert!(on(&a).contains("#2  "), "{}", on(&a));
    assert!(a.ui.chans.detail.sel > target);
    // And a path in the state tree stays on its path.
    let red =
        a.ui.chans
            .detail
            .view
            .lines
            .iter()
            .position(|l| matches!(l, roomtap::ui::DetailLine::Tree(r) if r.path == "$.red"))
            .unwrap();
    while a.ui.chans.detail.sel > red {
        a.act(Action::Up);
    }
    a.apply(state(T0 + 7, "scores", r#"{"blue":2,"green":0,"red":5}"#));
    a.prepare();
    assert!(matches!(
        &a.ui.chans.detail.view.lines[a.ui.chans.detail.sel],
        roomtap::ui::DetailLine::Tree(r) if r.path == "$.red"
    ));
}

/// Older log lines are sealed compact; they read back whole wherever an
/// entry is shown, opened or copied. Over logs too many to rescan at every
/// key, a filter being typed waits for a pause in typing (or Enter), and
/// says so, instead of rescanning per key.
#[test]
fn sealed_lines_read_back_whole_and_a_slow_filter_waits_for_a_pause() {
    use roomtap::event::Level;
    let mut a = app();
    let n = roomtap::store::logs::SLOW_RESCAN as u64 + 10_000;
    for i in 0..n {
        let level = if i % 10 == 9 {
            Level::Warn
        } else {
            Level::Info
        };
        log_line(
            &mut a,
            T0 + i,
            level,
            "indexer",
            &format!("line {i}"),
            &format!(r#"{{"n":{i},"user":{{"id":{}}}}}"#, i % 1000),
        );
    }
    assert!(
        a.store.logs.slow_to_rescan(),
        "{}",
        a.store.logs.sealed_len()
    );
    // The first line, sealed long ago: shown, opened and copied whole.
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Top);
    let t = screen_text(&render(&mut a, 120, 40));
    assert!(t.contains("line 0 ") || t.contains("line 0\n"), "{t}");
    a.act(Action::Activate);
    a.prepare();
    a.act(Action::ToggleDetailFocus);
    a.act(Action::Copy);
    let v: serde_json::Value = serde_json::from_str(&a.take_copies()[0]).unwrap();
    assert_eq!(v["summary"], "line 0");
    assert_eq!(v["data"]["n"], 0);
    assert_eq!(v["level"], "INFO");
    a.act(Action::Escape);
    a.act(Action::Escape);
    // Typing: nothing is rescanned until typing pauses.
    type_filter(&mut a, Pane::Logs, "data.user.id=7");
    assert!(a.store.logs.filter().is_none());
    assert!(
        screen_text(&render(&mut a, 120, 40)).contains("applies at a pause"),
        "the prompt says the filter waits"
    );
    let t0 = Instant::now();
    let due = a.tick(t0).expect("a tick is wanted for the pending filter");
    assert!(due >= t0 + roomtap::ui::PENDING_PAUSE);
    // A key before then: the wait starts again.
    a.act(Action::Input('7'));
    assert!(a.tick(t0 + Duration::from_millis(100)).is_some());
    assert!(a.store.logs.filter().is_none());
    assert_eq!(a.tick(t0 + Duration::from_secs(5)), None);
    assert_eq!(a.store.logs.filter(), Some("data.user.id=77"));
    assert_eq!(a.store.logs.view_len() as u64, n / 1000);
    // Enter applies what was typed at once.
    a.act(Action::Input('7'));
    assert_eq!(a.store.logs.filter(), Some("data.user.id=77"));
    a.act(Action::Submit);
    assert_eq!(a.store.logs.filter(), Some("data.user.id=777"));
    assert_eq!(a.store.logs.view_len() as u64, n / 1000);
    let first = a.store.logs.view_get(0).unwrap();
    assert_eq!(&*first.summary, "line 777");
    // Escape while one waits: nothing is applied later.
    a.act(Action::FilterPrompt);
    a.act(Action::Input('x'));
    a.act(Action::Escape);
    assert_eq!(a.tick(t0 + Duration::from_secs(10)), None);
    assert_eq!(a.store.logs.filter(), Some("data.user.id=777"));
}

/// `T` loads the theme again from its file: an edit shows, a broken file
/// keeps the theme in use and says why.
#[test]
fn t_loads_the_theme_file_again() {
    let dir = std::env::temp_dir().join(format!("roomtap-theme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mine.toml");
    std::fs::write(&file, "[styles]\nkey = { fg = \"red\" }\n").unwrap();
    let mut a = app();
    a.theme = roomtap::ui::theme::Theme::load(file.to_str().unwrap()).unwrap();
    assert_eq!(a.theme.key.fg, Some(ratatui::style::Color::Red));
    a.act(Action::ReloadTheme);
    assert_eq!(a.take_effects(), vec![roomtap::app::Effect::ReloadTheme]);
    std::fs::write(&file, "[styles]\nkey = { fg = \"#00ff00\" }\n").unwrap();
    roomtap::runtime::reload_theme(&mut a);
    assert_eq!(a.theme.key.fg, Some(ratatui::style::Color::Rgb(0, 255, 0)));
    assert!(a.ui.status.as_ref().unwrap().0.contains("loaded again"));
    std::fs::write(&file, "[styles]\nkey = { fg = \"nocolour\" }\n").unwrap();
    roomtap::runtime::reload_theme(&mut a);
    assert_eq!(a.theme.key.fg, Some(ratatui::style::Color::Rgb(0, 255, 0)));
    let said = &a.ui.status.as_ref().unwrap().0;
    assert!(
        said.contains("the theme in use stays") && said.contains("key"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The mouse, asked for: off by default (nothing it sends does anything);
/// on, the wheel moves the selection of the pane under the pointer and a
/// click focuses a pane and selects the row under it, a Timeline row
/// included, which is selected and not jumped to.
#[test]
fn the_mouse_scrolls_and_selects_when_asked_and_never_jumps() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let at = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    let mut a = app_with_actions(6);
    for i in 0..30 {
        log_line(
            &mut a,
            T0 + 10_000 + i,
            roomtap::event::Level::Info,
            "k",
            &format!("line {i}"),
            "{}",
        );
    }
    a.act(Action::Focus(Pane::Logs));
    render(&mut a, 120, 40);
    let (tl, tl_first) = a.ui.scroll.rows[Pane::Timeline as usize].expect("timeline rows drawn");
    let logs = a.ui.scroll.panes[Pane::Logs as usize].expect("logs drawn");
    // Off: nothing happens.
    a.mouse(at(
        MouseEventKind::Down(MouseButton::Left),
        tl.x + 2,
        tl.y + 1,
    ));
    assert_eq!(a.ui.focus, Pane::Logs);
    // On (`m`), and said.
    a.act(Action::ToggleMouse);
    assert_eq!(a.take_effects(), vec![roomtap::app::Effect::Mouse(true)]);
    // A click on the Timeline's second row: focused, that row selected,
    // nothing sent.
    a.mouse(at(
        MouseEventKind::Down(MouseButton::Left),
        tl.x + 2,
        tl.y + 1,
    ));
    assert_eq!(a.ui.focus, Pane::Timeline);
    let rows = a.timeline_view();
    let inst = &a.store.timeline.instances[0];
    assert_eq!(
        a.ui.tl.sel,
        Some(inst.entries[rows[tl_first + 1]].id),
        "the clicked row is selected"
    );
    assert!(a.take_commands().is_empty(), "a click never jumps");
    // The wheel over the Logs: focused, three rows up a notch.
    render(&mut a, 120, 40);
    a.mouse(at(MouseEventKind::ScrollUp, logs.x + 5, logs.y + 5));
    assert_eq!(a.ui.focus, Pane::Logs);
    let len = a.store.logs.view_len();
    assert_eq!(a.ui.logs.view_index(&a.store.logs), Some(len - 4));
    // Back down to the newest: following again, as with the keys.
    a.mouse(at(MouseEventKind::ScrollDown, logs.x + 5, logs.y + 5));
    assert!(a.ui.logs.follow);
    // A click on a Logs row selects that entry.
    render(&mut a, 120, 40);
    let (lr, first) = a.ui.scroll.rows[Pane::Logs as usize].unwrap();
    a.mouse(at(
        MouseEventKind::Down(MouseButton::Left),
        lr.x + 3,
        lr.y + 2,
    ));
    assert_eq!(a.ui.logs.view_index(&a.store.logs), Some(first + 2));
    // A click while a confirmation waits does not answer it.
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Commit);
    assert!(a.ui.confirm.is_some());
    a.mouse(at(
        MouseEventKind::Down(MouseButton::Left),
        lr.x + 3,
        lr.y + 2,
    ));
    assert!(a.ui.confirm.is_some(), "the mouse is not a key");
    assert!(a.take_commands().is_empty());
}

/// Enter on an entry shows the frame(s) it came from as they went over
/// the wire: text rows (sanitised) or hex and ASCII, the direction and the
/// size; an entry whose frame is no longer kept says so.
#[test]
fn enter_shows_the_frames_an_entry_came_from() {
    use roomtap::event::{Level, RawFrame};
    let mut a = app();
    let cfg_cap = a.store.raw.cap();
    assert!(cfg_cap > 0, "frames are kept by default");
    a.apply(ev(
        T0,
        EventKind::Raw(RawFrame::new(
            false,
            true,
            b"{\"event\":\"#publish\",\"data\":\"hello\x1b[2J\"}",
        )),
    ));
    log_line(
        &mut a,
        T0 + 1,
        Level::Info,
        "k",
        "from the text frame",
        "{}",
    );
    a.apply(ev(
        T0 + 2,
        EventKind::Raw(RawFrame::new(false, false, &[0x00, 0x01, b'A', 0xff])),
    ));
    log_line(
        &mut a,
        T0 + 3,
        Level::Info,
        "k",
        "from the binary frame",
        "{}",
    );
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Top);
    a.act(Action::Activate);
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("frame received at"), "{text}");
    assert!(text.contains("B text"), "{text}");
    assert!(text.contains("\"event\":\"#publish\""), "{text}");
    assert!(!text.contains('\u{1b}'), "sanitised");
    // The next entry: the binary frame, as hex.
    a.act(Action::ToggleDetailFocus);
    a.act(Action::Down);
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("4 B binary"), "{text}");
    assert!(text.contains("00 01 41 ff"), "{text}");
}

/// The Timeline's Action tab shows the frame the action came in too.
#[test]
fn the_timeline_action_tab_shows_its_frame() {
    use roomtap::event::RawFrame;
    let mut a = app_with_actions(1);
    a.apply(ev(
        T0 + 500,
        EventKind::Raw(RawFrame::new(
            false,
            true,
            b"{\"event\":\"#publish\",\"tag\":\"the-action-frame\"}",
        )),
    ));
    a.apply(ev(
        T0 + 501,
        action_msg("inst-a", "counter", 2, "INCREMENT", 2),
    ));
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Bottom);
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("frame received at"), "{text}");
    assert!(text.contains("the-action-frame"), "{text}");
    // The action before it came in no kept frame.
    a.act(Action::Up);
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(!text.contains("the-action-frame"), "{text}");
}

/// A text frame of more rows than the detail shows is cut, and says so.
#[test]
fn a_long_text_frame_is_cut_in_the_detail() {
    use roomtap::event::RawFrame;
    let mut a = app();
    let text: String = (0..500).map(|i| format!("row {i}\n")).collect();
    a.apply(ev(
        T0,
        EventKind::Raw(RawFrame::new(false, true, text.as_bytes())),
    ));
    log_line(&mut a, T0 + 1, roomtap::event::Level::Info, "k", "s", "{}");
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Activate);
    a.prepare();
    let shown: Vec<String> = a
        .ui
        .logs
        .detail
        .view
        .lines
        .iter()
        .filter_map(|l| match l {
            roomtap::ui::DetailLine::Text(t) | roomtap::ui::DetailLine::Note(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert!(shown.iter().any(|t| t == "row 399"));
    assert!(!shown.iter().any(|t| t == "row 400"));
    assert_eq!(shown.last().map(String::as_str), Some("… (cut)"));
}
