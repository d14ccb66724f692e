//! Integration with the real packages: the `@redux-devtools/cli` relay and a
//! redux app using `@redux-devtools/remote`, both from npm (tests/peers/redux).
//! roomtap's relay source connects as a monitor; the test drives it with the
//! same actions a user's keys produce and watches the app's own printout.

mod common;

use common::peers::{Harness, NodePeer, peers_dir, real_relay};
use roomtap::event::ConnState;
use roomtap::store::timeline::Liveness;
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;

/// The real relay, roomtap's monitor connected to it, and a real app that
/// dispatched `actions` INCREMENTs (all listed in roomtap).
async fn relay_monitor_and_app(actions: usize) -> (NodePeer, Harness, NodePeer) {
    relay_monitor_and_app_aged(actions, 50).await
}

/// As [`relay_monitor_and_app`], the app's `maxAge` set.
async fn relay_monitor_and_app_aged(
    actions: usize,
    max_age: usize,
) -> (NodePeer, Harness, NodePeer) {
    let (relay, port) = real_relay().await;
    let url = format!("ws://127.0.0.1:{port}/socketcluster/");
    let mut h = Harness::relay(&url);
    h.until("monitor connected", 20, |a| {
        matches!(a.store.sources[0].conn.state, ConnState::Connected { .. })
    })
    .await;
    let (p, n, m) = (port.to_string(), actions.to_string(), max_age.to_string());
    let mut app = NodePeer::spawn(
        &peers_dir("redux"),
        &[
            "app.mjs",
            "--port",
            &p,
            "--name",
            "counter",
            "--actions",
            &n,
            "--interval",
            "60",
            "--start-after",
            "800",
            "--maxAge",
            &m,
        ],
    )
    .await;
    app.wait_json("app done", 30, |v| v["event"] == "done")
        .await;
    h.until("every action listed (@@INIT + actions)", 20, |a| {
        a.instance().is_some_and(|i| {
            i.entries.iter().any(|e| e.id == actions as u64) && i.liveness == Liveness::Streaming
        })
    })
    .await;
    (relay, h, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_against_the_real_relay_and_app() {
    let (_relay, mut h, mut app) = relay_monitor_and_app(5).await;
    let inst = h.app.instance().unwrap();
    assert_eq!(inst.name.as_deref(), Some("counter"));
    assert_eq!(inst.current_id(), Some(5));

    // Select state 2 and press Enter: JUMP_TO_STATE 2 goes to the app.
    h.app.act(Action::Focus(Pane::Timeline));
    h.app.act(Action::Top);
    h.app.act(Action::Down);
    h.app.act(Action::Down);
    h.app.act(Action::Activate);
    h.flush();
    let s = app
        .wait_json("app state after the jump", 15, |v| {
            v["event"] == "state" && v["currentStateIndex"] == 2
        })
        .await;
    assert_eq!(s["count"], 2, "the app really returned to state 2: {s}");
    h.until("current index tracked", 5, |a| {
        a.instance().unwrap().current_id() == Some(2)
    })
    .await;

    // Back to the end, then skip action 1 (TOGGLE_ACTION): the app recomputes.
    h.app.act(Action::Bottom);
    h.app.act(Action::Activate);
    h.flush();
    app.wait_json("back at the last state", 15, |v| {
        v["currentStateIndex"] == 5
    })
    .await;
    h.app.act(Action::Top);
    h.app.act(Action::Down);
    h.app.act(Action::Skip);
    h.flush();
    let s = app
        .wait_json("app state after skip", 15, |v| {
            v["event"] == "state" && v["skipped"] == serde_json::json!([1])
        })
        .await;
    assert_eq!(s["count"], 4, "INCREMENT #1 skipped: {s}");
    h.until("skip reflected from the app's STATE", 10, |a| {
        let i = a.instance().unwrap();
        i.skipped.contains(&1) && i.pending.is_none()
    })
    .await;

    // Commit: the app's history becomes one entry; roomtap rebuilds from STATE.
    h.app.act(Action::Commit);
    h.app.act(Action::Input('y'));
    h.flush();
    app.wait_json("app state after commit", 15, |v| {
        v["event"] == "state" && v["staged"] == 1
    })
    .await;
    h.until("list rebuilt after commit", 10, |a| {
        entries_of(a) == 1 && a.instance().unwrap().pending.is_none()
    })
    .await;

    // Dispatch an action typed by the user.
    h.app.act(Action::DispatchPrompt);
    for c in "{ type: 'INCREMENT', by: 10 }".chars() {
        h.app.act(Action::Input(c));
    }
    h.app.act(Action::Submit);
    h.flush();
    let s = app
        .wait_json("app state after dispatch", 15, |v| {
            v["event"] == "state" && v["count"] == 14
        })
        .await;
    assert_eq!(s["staged"], 2);
    h.until("dispatched action listed", 10, |a| entries_of(a) == 2)
        .await;
}

fn entries_of(a: &roomtap::app::App) -> usize {
    a.instance().map_or(0, |i| i.entries.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_pause_lock_rollback_and_reset_round_trip() {
    let (_relay, mut h, mut app) = relay_monitor_and_app(4).await;
    h.app.act(Action::Focus(Pane::Timeline));

    // Skip #2, then sweep: the app drops it from its history.
    h.app.act(Action::Top);
    h.app.act(Action::Down);
    h.app.act(Action::Down);
    h.app.act(Action::Skip);
    h.flush();
    h.until("skip applied", 10, |a| {
        a.instance().unwrap().skipped.contains(&2)
    })
    .await;
    h.app.act(Action::Sweep);
    h.app.act(Action::Input('y'));
    h.flush();
    let s = app
        .wait_json("app after sweep", 15, |v| {
            v["event"] == "state" && v["staged"] == 4
        })
        .await;
    assert_eq!(s["count"], 3);
    h.until("list rebuilt without #2", 10, |a| {
        let i = a.instance().unwrap();
        entries_of(a) == 4 && i.pending.is_none() && i.position_of(2).is_none()
    })
    .await;

    // Pause and resume recording.
    h.app.act(Action::Pause);
    h.flush();
    h.until("paused", 10, |a| a.instance().unwrap().is_paused)
        .await;
    h.app.act(Action::Pause);
    h.flush();
    h.until("recording again", 10, |a| !a.instance().unwrap().is_paused)
        .await;

    // Lock and unlock.
    h.app.act(Action::Lock);
    h.flush();
    h.until("locked", 10, |a| a.instance().unwrap().is_locked)
        .await;
    h.app.act(Action::Lock);
    h.flush();
    h.until("unlocked", 10, |a| !a.instance().unwrap().is_locked)
        .await;

    // Commit, change, roll back: the app returns to the committed state.
    h.app.act(Action::Commit);
    h.app.act(Action::Input('y'));
    h.flush();
    h.until("committed", 10, |a| {
        entries_of(a) == 1 && a.instance().unwrap().pending.is_none()
    })
    .await;
    h.app.act(Action::DispatchPrompt);
    for c in "{ type: 'INCREMENT', by: 100 }".chars() {
        h.app.act(Action::Input(c));
    }
    h.app.act(Action::Submit);
    h.flush();
    let s = app
        .wait_json("after +100", 15, |v| {
            v["event"] == "state" && v["staged"] == 2
        })
        .await;
    let committed_count = s["count"].as_i64().unwrap() - 100;
    h.until("the +100 action listed", 10, |a| entries_of(a) == 2)
        .await;
    h.app.act(Action::Rollback);
    h.app.act(Action::Input('y'));
    h.flush();
    let s = app
        .wait_json("after rollback", 15, |v| {
            v["event"] == "state" && v["staged"] == 1
        })
        .await;
    assert_eq!(s["count"].as_i64().unwrap(), committed_count);

    // Reset: back to the reducer's initial state.
    h.app.act(Action::Reset);
    h.app.act(Action::Input('y'));
    h.flush();
    let s = app
        .wait_json("after reset", 15, |v| {
            v["event"] == "state" && v["count"] == 0
        })
        .await;
    assert_eq!(s["staged"], 1);
    h.until("list rebuilt after reset", 10, |a| {
        entries_of(a) == 1 && a.instance().unwrap().pending.is_none()
    })
    .await;
}

/// The real app past its maxAge, paused and resumed through roomtap's keys:
/// the same scenario `demo.rs` runs against the demo's app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_past_max_age() {
    let (_relay, mut h, mut app) = relay_monitor_and_app_aged(8, 5).await;
    let index = h.pause_and_resume_past_max_age().await;
    app.wait_json("the app at the state asked for", 15, |v| {
        v["event"] == "state" && v["currentStateIndex"] == index && v["at"] == "AFTER_RESUME"
    })
    .await;
}
