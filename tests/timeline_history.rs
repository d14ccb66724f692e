//! The Timeline keeps every action it saw: a STATE (an UPDATE's answer, or
//! the app's own) that no longer holds the actions its maxAge dropped does
//! not cut them from roomtap's list; they stay, dimmed, and jumps to them are
//! still refused with a reason.

mod common;

use common::*;
use roomtap::event::{Command, CommandKind, EventKind};
use roomtap::protocols::redux::wire::model::{LiftedAction, ReduxCommand};
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;
use serde_json::json;

/// An ACTION the way `@redux-devtools/remote` sends it once maxAge is hit.
fn excess_action(id: u64) -> EventKind {
    redux(json!({
        "type": "ACTION", "id": "sock-1", "name": "counter", "instanceId": "inst-a",
        "payload": json!({"count": id, "todos": []}).to_string(),
        "action": json!({"type": "PERFORM_ACTION", "action": {"type": "INCREMENT", "by": 1}, "timestamp": T0 + 100 * id}).to_string(),
        "nextActionId": id + 1,
        "isExcess": id > 3
    }))
}

/// The app's lifted state after maxAge dropped everything before `kept[0]`.
fn lifted_after_max_age(kept: &[u64]) -> serde_json::Value {
    let staged: Vec<u64> = std::iter::once(0).chain(kept.iter().copied()).collect();
    let mut by_id = serde_json::Map::new();
    let mut computed = Vec::new();
    for &id in &staged {
        let action = if id == 0 {
            json!({"type": "@@INIT"})
        } else {
            json!({"type": "INCREMENT", "by": 1})
        };
        by_id.insert(
            id.to_string(),
            json!({"type": "PERFORM_ACTION", "action": action, "timestamp": T0 + 100 * id}),
        );
        computed.push(json!({"state": {"count": id, "todos": []}}));
    }
    json!({
        "monitorState": {},
        "actionsById": by_id,
        "nextActionId": kept.last().map_or(1, |l| l + 1),
        "stagedActionIds": staged,
        "skippedActionIds": [],
        "currentStateIndex": staged.len() - 1,
        "computedStates": computed,
        "isLocked": false,
        "isPaused": false
    })
}

/// STATE [0], then actions 1..=8 from an app whose maxAge is 4: it keeps
/// @@INIT and the last three.
fn app_past_max_age() -> roomtap::app::App {
    let mut a = app();
    a.apply(ev(
        T0,
        state_msg("inst-a", "counter", &lifted(&[0], 0, &[])),
    ));
    for id in 1..=8 {
        a.apply(ev(T0 + 100 * id, excess_action(id)));
    }
    a.after_events();
    a.take_commands();
    a
}

fn ids(a: &roomtap::app::App) -> Vec<u64> {
    a.store.timeline.instances[0]
        .entries
        .iter()
        .map(|e| e.id)
        .collect()
}

#[test]
fn an_update_keeps_the_actions_the_app_dropped() {
    let mut a = app_past_max_age();
    assert_eq!(ids(&a), (0..=8).collect::<Vec<_>>());
    assert_eq!(a.store.timeline.instances[0].app_staged, [0, 6, 7, 8]);
    // `u` asks for a fresh STATE; the app answers with what it still has.
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Refresh);
    let cmds = a.take_commands();
    assert!(
        matches!(
            &cmds[..],
            [Command {
                kind: CommandKind::Redux(ReduxCommand::Update { .. }),
                ..
            }]
        ),
        "{cmds:?}"
    );
    a.apply(ev(T0 + 2000, EventKind::CommandSent(cmds[0].clone())));
    a.apply(ev(
        T0 + 2100,
        state_msg("inst-a", "counter", &lifted_after_max_age(&[6, 7, 8])),
    ));
    a.after_events();
    // Every action is still listed, @@INIT first, in order.
    assert_eq!(ids(&a), (0..=8).collect::<Vec<_>>());
    let inst = &a.store.timeline.instances[0];
    for gone in 1..=5 {
        assert_eq!(
            inst.app_index_of(gone),
            None,
            "#{gone} left the app's history"
        );
    }
    assert_eq!(inst.app_index_of(7), Some(2));
}

#[test]
fn jumps_to_dropped_actions_are_still_refused_after_an_update() {
    let mut a = app_past_max_age();
    a.apply(ev(
        T0 + 2100,
        state_msg("inst-a", "counter", &lifted_after_max_age(&[6, 7, 8])),
    ));
    a.after_events();
    a.act(Action::Focus(Pane::Timeline));
    // From the newest (8) up to #3.
    for _ in 0..5 {
        a.act(Action::Up);
    }
    assert_eq!(a.selected_entry().map(|e| e.id), Some(3));
    a.act(Action::Activate);
    assert!(a.take_commands().is_empty(), "no jump to a dropped action");
    let (msg, _) = a.ui.status.clone().expect("a reason is shown");
    assert!(msg.contains("no longer in the app's history"), "{msg}");
    // And #7 still jumps to the app's index for it.
    for _ in 0..4 {
        a.act(Action::Down);
    }
    assert_eq!(a.selected_entry().map(|e| e.id), Some(7));
    a.act(Action::Activate);
    let cmds = a.take_commands();
    assert!(
        matches!(
            &cmds[..],
            [Command {
                kind: CommandKind::Redux(ReduxCommand::Dispatch {
                    action: LiftedAction::JumpToState { index: 2 },
                    ..
                }),
                ..
            }]
        ),
        "{cmds:?}"
    );
}

#[test]
fn a_second_state_keeps_them_too() {
    let mut a = app_past_max_age();
    for _ in 0..2 {
        a.apply(ev(
            T0 + 2100,
            state_msg("inst-a", "counter", &lifted_after_max_age(&[6, 7, 8])),
        ));
    }
    assert_eq!(ids(&a), (0..=8).collect::<Vec<_>>());
}

/// Pause, lock and sweep answer with a STATE too: it must not cut the
/// history either. A commit starts the app's history (and ids) again, so
/// there the older actions go.
#[test]
fn only_a_history_restart_drops_what_came_before() {
    for (action, kept) in [
        (Action::Pause, true),
        (Action::Lock, true),
        (Action::Sweep, true),
        (Action::Commit, false),
    ] {
        let mut a = app_past_max_age();
        a.act(Action::Focus(Pane::Timeline));
        a.act(action.clone());
        // Sweep and commit ask first.
        a.act(Action::Input('y'));
        let cmds = a.take_commands();
        assert_eq!(cmds.len(), 1, "{action:?}: {cmds:?}");
        a.apply(ev(T0 + 2000, EventKind::CommandSent(cmds[0].clone())));
        let reply = if kept {
            lifted_after_max_age(&[6, 7, 8])
        } else {
            lifted(&[8], 0, &[])
        };
        a.apply(ev(T0 + 2100, state_msg("inst-a", "counter", &reply)));
        let want: Vec<u64> = if kept { (0..=8).collect() } else { vec![0] };
        assert_eq!(ids(&a), want, "after {action:?}");
    }
}
