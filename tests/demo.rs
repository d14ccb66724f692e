//! `roomtap demo`'s simulated apps on real sockets: against roomtap's own
//! relay in-process (as the demo runs them), and over WebSocket against the
//! real `@redux-devtools/cli` relay from npm with roomtap monitoring it, which
//! shows the app side speaks the real protocol.

mod common;

use std::time::Duration;

use common::peers::{Harness, real_relay};
use roomtap::app::App;
use roomtap::event::now_ms;
use roomtap::protocols::redux::demo::client::{self, AppConfig, AppView, DemoApp, Link};
use roomtap::protocols::redux::demo::instrument::Instrument;
use roomtap::protocols::redux::demo::remote::RemoteApp;
use roomtap::protocols::redux::demo::{self as demo, shop_reducer, shop_script};
use roomtap::protocols::redux::server::RelayConfig;
use roomtap::store::timeline::Instance;
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;
use serde_json::Value;

fn cfg() -> RelayConfig {
    RelayConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    }
}

/// An app that acts only when told to.
fn controlled(link: Link, name: &str, instance: &str) -> DemoApp {
    client::spawn(AppConfig {
        link,
        app: RemoteApp::new(
            Instrument::new(shop_reducer, Some(demo::MAX_AGE), now_ms()),
            name,
            instance,
        ),
        script: shop_script,
        pace_ms: None,
        seed: 1,
    })
}

async fn dispatch_n(app: &DemoApp, n: u64) {
    let mut rng = fastrand::Rng::with_seed(9);
    for i in 1..=n {
        app.control
            .send(client::Control::Dispatch(shop_script(&mut rng, i)))
            .await
            .unwrap();
    }
}

async fn wait_view(app: &mut DemoApp, what: &str, f: impl Fn(&AppView) -> bool) -> AppView {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        {
            let v = app.view.borrow_and_update();
            if f(&v) {
                return v.clone();
            }
        }
        match tokio::time::timeout_at(deadline, app.view.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => panic!("app ended while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}; app: {:?}", app.view.borrow()),
        }
    }
}

fn named<'a>(a: &'a App, name: &str) -> Option<&'a Instance> {
    a.store
        .timeline
        .instances
        .iter()
        .find(|i| i.name.as_deref() == Some(name))
}

fn select(h: &mut Harness, name: &str) {
    for _ in 0..h.app.store.timeline.instances.len() {
        if h.app.instance().and_then(|i| i.name.as_deref()) == Some(name) {
            return;
        }
        h.app.act(Action::NextInstance);
    }
    panic!("no instance {name}");
}

/// Select entry `index` of the selected instance's list.
fn pick(h: &mut Harness, index: usize) {
    h.app.act(Action::Focus(Pane::Timeline));
    h.app.act(Action::Top);
    for _ in 0..index {
        h.app.act(Action::Down);
    }
}

fn jump(h: &mut Harness, index: usize) {
    pick(h, index);
    h.app.act(Action::Activate);
    h.flush();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_demo_apps_stream_and_a_jump_moves_only_the_selected_one() {
    let mut h = Harness::embedded(cfg()).await;
    let link = Link::Local(roomtap::protocols::redux::server::local_connector(
        h.relay.as_ref().unwrap(),
    ));
    let mut a = controlled(link.clone(), "shop-a", "aaaaaaaaaaa");
    let mut b = controlled(link, "shop-b", "bbbbbbbbbbb");
    wait_view(&mut a, "a monitored", |v| v.monitored).await;
    wait_view(&mut b, "b monitored", |v| v.monitored).await;
    dispatch_n(&a, 4).await;
    dispatch_n(&b, 4).await;
    h.until("both listed with 5 states", 20, |app| {
        named(app, "shop-a").is_some_and(|i| i.entries.len() == 5)
            && named(app, "shop-b").is_some_and(|i| i.entries.len() == 5)
    })
    .await;
    assert_eq!(a.view.borrow().current, 4);

    select(&mut h, "shop-a");
    jump(&mut h, 2);
    let va = wait_view(&mut a, "shop-a at state 2", |v| v.current == 2).await;
    select(&mut h, "shop-b");
    jump(&mut h, 1);
    let vb = wait_view(&mut b, "shop-b at state 1", |v| v.current == 1).await;
    // Each saw only its own jump.
    let jumps = |v: &AppView| {
        v.received
            .iter()
            .filter(|r| r.contains("JUMP_TO_STATE"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(jumps(&va), ["DISPATCH JUMP_TO_STATE 2"]);
    assert_eq!(jumps(&vb), ["DISPATCH JUMP_TO_STATE 1"]);
    // The state really was recomputed: shop-a shows what roomtap recorded
    // for entry 2.
    let recorded = named(&h.app, "shop-a").unwrap().entries[2]
        .state_raw
        .as_ref()
        .unwrap()
        .text()
        .unwrap()
        .into_owned();
    assert_eq!(serde_json::from_str::<Value>(&recorded).unwrap(), va.state);
    h.until("roomtap marks shop-b at state 1", 10, |app| {
        named(app, "shop-b").is_some_and(|i| i.app_current == 1)
            && named(app, "shop-a").is_some_and(|i| i.app_current == 2)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_commands_from_the_ui_change_the_demo_app() {
    let mut h = Harness::embedded(cfg()).await;
    let link = Link::Local(roomtap::protocols::redux::server::local_connector(
        h.relay.as_ref().unwrap(),
    ));
    let mut a = controlled(link, "shop", "sssssssssss");
    wait_view(&mut a, "monitored", |v| v.monitored).await;
    dispatch_n(&a, 5).await;
    h.until("listed", 20, |app| {
        named(app, "shop").is_some_and(|i| i.entries.len() == 6)
    })
    .await;
    let id1 = named(&h.app, "shop").unwrap().entries[1].id;
    // Skip entry 1: the app recomputes and reports; roomtap shows it.
    pick(&mut h, 1);
    h.app.act(Action::Skip);
    h.flush();
    wait_view(&mut a, "entry 1 skipped", |v| v.skipped == [id1]).await;
    h.until("skip shown", 20, |app| {
        named(app, "shop").is_some_and(|i| i.skipped.contains(&id1))
    })
    .await;
    // Sweep: the skipped action is gone from the app and from roomtap.
    h.app.act(Action::Sweep);
    h.app.act(Action::Input('y'));
    h.flush();
    wait_view(&mut a, "swept", |v| {
        v.staged.len() == 5 && v.skipped.is_empty()
    })
    .await;
    h.until("sweep shown", 20, |app| {
        named(app, "shop").is_some_and(|i| i.entries.len() == 5)
    })
    .await;
    // Commit: history collapses to one state, the current one.
    let before = a.view.borrow().state.clone();
    h.app.act(Action::Commit);
    h.app.act(Action::Input('y'));
    h.flush();
    let v = wait_view(&mut a, "committed", |v| v.staged == [0]).await;
    assert_eq!(v.state, before);
    h.until("commit shown", 20, |app| {
        named(app, "shop").is_some_and(|i| i.entries.len() == 1)
    })
    .await;
    // Two more actions, then rollback: back to the committed state.
    dispatch_n(&a, 2).await;
    wait_view(&mut a, "two more", |v| v.staged.len() == 3).await;
    h.app.act(Action::Rollback);
    h.app.act(Action::Input('y'));
    h.flush();
    let v = wait_view(&mut a, "rolled back", |v| v.staged == [0]).await;
    assert_eq!(v.state, before);
    // Reset: back to the state the store was created with.
    let initial = shop_reducer(None, &serde_json::json!({"type": "@@INIT"})).unwrap();
    assert_ne!(
        before, initial,
        "the committed state is not the initial one"
    );
    h.app.act(Action::Reset);
    h.app.act(Action::Input('y'));
    h.flush();
    let v = wait_view(&mut a, "reset", |v| v.state == initial).await;
    assert_eq!(v.staged, [0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_apps_act_by_themselves() {
    let mut h = Harness::embedded(cfg()).await;
    let link = Link::Local(roomtap::protocols::redux::server::local_connector(
        h.relay.as_ref().unwrap(),
    ));
    let _apps = demo::spawn_apps(link, 42);
    h.until("shop and chat each acted twice", 30, |app| {
        named(app, "shop").is_some_and(|i| i.entries.len() >= 3)
            && named(app, "chat").is_some_and(|i| i.entries.len() >= 3)
    })
    .await;
}

/// The demo app against the real relay (`@redux-devtools/cli` 5, npm) over
/// WebSocket, driven by roomtap as a separate monitor: the app side is
/// the real protocol, not only what roomtap's relay accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_app_time_travels_through_the_real_node_relay() {
    let (_relay, port) = real_relay().await;
    let url = format!("ws://127.0.0.1:{port}/socketcluster/");
    let mut h = Harness::relay(&url);
    let mut a = controlled(Link::Url(url), "shop", "nnnnnnnnnnn");
    wait_view(&mut a, "connected", |v| v.connected).await;
    h.until("roomtap sees the app", 20, |app| {
        named(app, "shop").is_some()
    })
    .await;
    wait_view(&mut a, "monitored", |v| v.monitored).await;
    dispatch_n(&a, 3).await;
    h.until("listed", 20, |app| {
        named(app, "shop").is_some_and(|i| i.entries.len() == 4)
    })
    .await;
    jump(&mut h, 1);
    wait_view(&mut a, "at state 1", |v| v.current == 1).await;
    pick(&mut h, 2);
    h.app.act(Action::Skip);
    h.flush();
    let id2 = named(&h.app, "shop").unwrap().entries[2].id;
    h.until("skip round trip through the node relay", 20, |app| {
        named(app, "shop").is_some_and(|i| i.skipped.contains(&id2))
    })
    .await;
    // Pings: the Node relay pings every 8 s (pingTimeout 20 s); still
    // connected with the same socket after the round trips.
    assert!(a.view.borrow().connected);
}

/// The demo's app past its maxAge, paused and resumed through roomtap's
/// keys: the same scenario `relay_real.rs` runs against the real
/// `@redux-devtools/remote` app, with the same outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_past_max_age_as_the_real_app() {
    let mut h = Harness::embedded(cfg()).await;
    let link = Link::Local(roomtap::protocols::redux::server::local_connector(
        h.relay.as_ref().unwrap(),
    ));
    let mut a = controlled(link, "shop", "ppppppppppp");
    wait_view(&mut a, "monitored", |v| v.monitored).await;
    let n = demo::MAX_AGE as u64 + 5;
    dispatch_n(&a, n).await;
    h.until("past its maxAge", 20, |app| {
        named(app, "shop").is_some_and(|i| i.entries.iter().any(|e| e.id == n))
    })
    .await;
    select(&mut h, "shop");
    let index = h.pause_and_resume_past_max_age().await;
    wait_view(&mut a, "the app at the state asked for", |v| {
        v.current == index
    })
    .await;
}
