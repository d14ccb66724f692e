//! roomtap's Leap source beside the real JS client (`@onehop/leap-edge-js`
//! 1.0.11), both on roomtap's Leap Edge: what the JS client sets, roomtap
//! shows as the channel's state with its diffs; what roomtap sends, the JS
//! client receives; a 4006 is followed by both; a 4001 stops roomtap with
//! the reason said.

mod common;

use std::time::Duration;

use common::peers::{Harness, NodePeer, fact, has_log, peers_dir};
use roomtap::event::ConnState;
use roomtap::protocols::leap::client::{LeapConfig, dial_url, source::LeapSource};
use roomtap::protocols::leap::server::{LeapServer, LeapServerConfig};
use roomtap::secret::Secret;
use roomtap::store::channels::Availability;
use roomtap::ui::keymap::Action;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

const PROJECT: &str = "project_test";
const TOKEN: &str = "leap_token_test";
const WAIT: u64 = 20;

async fn js(url: &str) -> NodePeer {
    let mut p = NodePeer::spawn(
        &peers_dir("leap"),
        &[
            "client.mjs",
            "--url",
            url,
            "--project",
            PROJECT,
            "--token",
            TOKEN,
            "--seconds",
            "60",
        ],
    )
    .await;
    p.wait_json("JS connected", WAIT, |v| {
        v["event"] == "state" && v["state"] == "connected"
    })
    .await;
    p
}

async fn js_send(p: &mut NodePeer, e: &str, c: &str, d: Value) {
    let cmd = json!({"op": "send", "frame": {"e": e, "c": c, "d": d}});
    p.child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(format!("{cmd}\n").as_bytes())
        .await
        .unwrap();
    let v = p
        .wait_json(&format!("{e} sent"), WAIT, |v| {
            v["event"] == "sent" || v["event"] == "error"
        })
        .await;
    assert_eq!(v["event"], "sent", "{v}");
}

fn line(h: &mut Harness, text: &str) {
    h.app.act(Action::CommandLine);
    for c in text.chars() {
        h.app.act(Action::Input(c));
    }
    h.app.act(Action::Submit);
    h.flush();
}

fn history_len(a: &roomtap::app::App, ch: &str) -> usize {
    a.store.sources[0]
        .channels
        .get(ch)
        .and_then(|c| c.live.as_ref())
        .map_or(0, |l| l.history.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roomtap_watches_what_the_real_js_client_does_and_reaches_it() {
    let srv = LeapServer::start(
        LeapServerConfig {
            project: PROJECT.into(),
            tokens: vec![Secret::new(TOKEN)],
            heartbeat_interval: Duration::from_millis(500),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    srv.add_channel("game", "unprotected", json!({"round": 1, "players": []}));
    let mut cfg = LeapConfig::new(
        &dial_url(&srv.url(), "zlib"),
        PROJECT,
        Some(Secret::new(TOKEN)),
    );
    cfg.channels = vec!["game".into()];
    let mut h = Harness::wired(vec![Box::new(LeapSource::new("leap", cfg))]).await;
    h.until("roomtap subscribed", WAIT, |a| history_len(a, "game") == 1)
        .await;
    assert!(fact(&h.app, 0, "compression").starts_with("zlib"));

    // The JS client joins the channel and changes its state three times.
    let mut p = js(&srv.url()).await;
    js_send(&mut p, "SUBSCRIBE", "game", Value::Null).await;
    p.wait_json("AVAILABLE", WAIT, |v| v["eventType"] == "AVAILABLE")
        .await;
    for (round, players) in [
        (1, json!(["ann"])),
        (2, json!(["ann", "bo"])),
        (3, json!(["bo"])),
    ] {
        js_send(
            &mut p,
            "SET_CHANNEL_STATE",
            "game",
            json!({"round": round, "players": players}),
        )
        .await;
    }
    h.until("the three states", WAIT, |a| history_len(a, "game") == 4)
        .await;
    {
        let live = h.app.store.sources[0].channels["game"]
            .live
            .as_ref()
            .unwrap();
        assert_eq!(live.availability, Availability::Available);
        assert_eq!(live.state(), Some(r#"{"players":["bo"],"round":3}"#));
        let d: Vec<(u32, u32, u32)> = live
            .history
            .iter()
            .skip(1)
            .map(|c| (c.added, c.removed, c.changed))
            .collect();
        // ann joins; bo joins and the round moves; ann leaves (bo shifts up).
        assert_eq!(d, [(1, 0, 0), (1, 0, 1), (0, 1, 2)], "{:?}", live.history);
    }

    // A message from roomtap reaches the JS client; one from it reaches roomtap.
    line(&mut h, r#"msg game chat {"text":"from roomtap"}"#);
    let m = p
        .wait_json("roomtap's MESSAGE", WAIT, |v| v["eventType"] == "MESSAGE")
        .await;
    assert_eq!(m["channelId"], "game");
    assert_eq!(
        m["data"],
        json!({"e": "chat", "d": {"text": "from roomtap"}})
    );
    js_send(
        &mut p,
        "MESSAGE",
        "game",
        json!({"e": "chat", "d": {"text": "from js"}}),
    )
    .await;
    h.until("the JS client's message", WAIT, |a| {
        has_log(a, "MESSAGE", "from js") && a.store.sources[0].channels["game"].messages == 1
    })
    .await;

    // A redirect: roomtap (and the JS client) follow it, still subscribed.
    let target = format!("{}?from=redirect", srv.url());
    assert_eq!(srv.redirect_all(&target), 2);
    h.until("roomtap redirected and back on the channel", WAIT, |a| {
        fact(a, 0, "redirected to").ends_with("?from=redirect")
            && a.store.sources[0].conn.reconnects == 1
            && a.store.sources[0].channels["game"]
                .live
                .as_ref()
                .is_some_and(|l| l.availability == Availability::Available)
    })
    .await;
    p.wait_json("JS redirected", WAIT, |v| {
        v["event"] == "state"
            && v["state"] == "connected"
            && v["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("from=redirect"))
    })
    .await;

    // 4001: roomtap stops, and says so.
    srv.close_all(4001, "Invalid auth");
    h.until("4001 said", WAIT, |a| {
        matches!(
            &a.store.sources[0].conn.state,
            ConnState::Errored { will_reconnect: false, reason, .. }
                if reason.contains("4001") && reason.contains("will not reconnect")
        )
    })
    .await;
    assert!(!common::peers::dump_logs(&h.app).contains(TOKEN));
}

/// The demo's Leap project: its channels are available to the inspector
/// and their states change on their own; the pipe room shows up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_leap_project_moves_on_its_own() {
    let demo = roomtap::protocols::leap::demo::start(7).await.unwrap();
    let mut cfg = LeapConfig::new(
        &dial_url(&demo.server.url(), "zlib"),
        roomtap::protocols::leap::demo::PROJECT,
        Some(demo.token.clone()),
    );
    cfg.channels = roomtap::protocols::leap::demo::CHANNELS
        .iter()
        .map(|c| c.to_string())
        .collect();
    cfg.pipes = vec![demo.join_token.clone()];
    let mut h = Harness::wired(vec![Box::new(LeapSource::new("leap", cfg))]).await;
    h.until("every channel available and one state changed", 30, |a| {
        let chans = &a.store.sources[0].channels;
        roomtap::protocols::leap::demo::CHANNELS.iter().all(|c| {
            chans
                .get(*c)
                .and_then(|c| c.live.as_ref())
                .is_some_and(|l| l.availability == Availability::Available)
        }) && chans
            .values()
            .any(|c| c.live.as_ref().is_some_and(|l| l.updates >= 2))
            && chans.contains_key("pipe:pipe_stage")
    })
    .await;
    let logs = common::peers::dump_logs(&h.app);
    assert!(!logs.contains(demo.token.expose()) && !logs.contains(demo.join_token.expose()));
}
