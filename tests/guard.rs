//! No web page can drive your apps through roomtap: its relay and its room
//! server refuse a WebSocket upgrade whose `Origin` is not loopback (a page
//! the developer visits) or whose `Host` is not loopback or the bind address
//! (DNS rebinding), with HTTP 403, a log line naming the origin and a count
//! in Connections. Proven with the real clients from npm
//! (`@redux-devtools/remote` 1.0.0 apps, a `socketcluster-client` 20
//! monitor) sending the headers a browser would, and a page on a local dev
//! server (`http://localhost:3000`) still works.

mod common;

use std::time::Duration;

use common::peers::{Harness, NodePeer, fact, peers_dir};

use common::peers::fast_relay as cfg;

fn has_summary(a: &roomtap::app::App, needle: &str) -> bool {
    let logs = &a.store.logs;
    (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .any(|e| e.summary.contains(needle))
}

async fn app(port: u16, name: &str, extra: &[&str]) -> NodePeer {
    let port = port.to_string();
    let mut args = vec![
        "app.mjs",
        "--port",
        &port,
        "--name",
        name,
        "--actions",
        "3",
        "--interval",
        "100",
        "--seconds",
        "30",
    ];
    args.extend_from_slice(extra);
    NodePeer::spawn(&peers_dir("redux"), &args).await
}

async fn monitor(port: u16, extra: &[&str]) -> NodePeer {
    let port = port.to_string();
    let mut args = vec!["sc-monitor.mjs", "--port", &port, "--seconds", "20"];
    args.extend_from_slice(extra);
    NodePeer::spawn(&peers_dir("redux"), &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_a_local_dev_server_keeps_working() {
    let mut h = Harness::embedded(cfg()).await;
    let _app = app(h.port(), "page-app", &["--origin", "http://localhost:3000"]).await;
    h.until("the page's app streams", 30, |a| {
        a.store
            .timeline
            .instances
            .iter()
            .any(|i| i.name.as_deref() == Some("page-app") && i.entries.len() >= 4)
    })
    .await;
    let mut mon = monitor(h.port(), &["--origin", "http://127.0.0.1:5173"]).await;
    mon.wait_json("a loopback page's monitor logs in", 20, |v| {
        v["event"] == "login"
    })
    .await;
    assert!(!has_summary(&h.app, "foreign"), "nothing refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_page_cannot_reach_the_apps() {
    let mut h = Harness::embedded(cfg()).await;
    // A web page's monitor could dispatch ACTION text the apps evaluate.
    let mut mon = monitor(h.port(), &["--origin", "https://evil.example"]).await;
    let v = mon
        .wait_json("the page's monitor is refused", 20, |v| {
            v["event"] == "error" || v["event"] == "closed" || v["event"] == "login"
        })
        .await;
    assert_ne!(v["event"], "login", "a foreign page logged in: {v}");
    // And an app in a foreign page never shows up.
    let _evil = app(h.port(), "evil-app", &["--origin", "https://evil.example"]).await;
    let refused = |a: &roomtap::app::App| -> u64 {
        fact(a, 0, "refused (web pages)")
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    h.until("both refusals said and counted", 20, |a| {
        has_summary(a, "foreign Origin https://evil.example") && refused(a) >= 2
    })
    .await;
    assert!(
        !h.app
            .store
            .timeline
            .instances
            .iter()
            .any(|i| i.name.as_deref() == Some("evil-app")),
        "the foreign page's app reached the Timeline"
    );
    // The relay goes on serving loopback clients.
    let _ok = app(h.port(), "local-app", &[]).await;
    h.until("a local app still streams", 30, |a| {
        a.store
            .timeline
            .instances
            .iter()
            .any(|i| i.name.as_deref() == Some("local-app"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebinding_host_is_refused() {
    let mut h = Harness::embedded(cfg()).await;
    let host = format!("rebind.evil.example:{}", h.port());
    let mut mon = monitor(h.port(), &["--host", &host]).await;
    let v = mon
        .wait_json("refused", 20, |v| {
            v["event"] == "error" || v["event"] == "closed" || v["event"] == "login"
        })
        .await;
    assert_ne!(v["event"], "login", "a rebinding name logged in: {v}");
    h.until("said", 20, |a| {
        has_summary(a, "foreign Host rebind.evil.example")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_origins_and_hosts_pass() {
    let mut c = cfg();
    c.guard.allow_origins = vec!["https://devtools.example.com".into()];
    c.guard.allow_hosts = vec!["devbox".into()];
    let h = Harness::embedded(c).await;
    let host = format!("devbox:{}", h.port());
    let mut mon = monitor(
        h.port(),
        &["--origin", "https://devtools.example.com", "--host", &host],
    )
    .await;
    mon.wait_json("logs in", 20, |v| v["event"] == "login")
        .await;
    let mut other = monitor(h.port(), &["--origin", "https://other.example.com"]).await;
    let v = other
        .wait_json("refused", 20, |v| {
            v["event"] == "error" || v["event"] == "closed" || v["event"] == "login"
        })
        .await;
    assert_ne!(v["event"], "login", "{v}");
}

/// The room server refuses the same (raw WebSocket clients with the headers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_server_refuses_foreign_pages_too() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = roomtap::protocols::room::server::RoomServer::start(Default::default(), None)
        .await
        .unwrap();
    let url = server.url("test");
    let attempt = |origin: Option<&str>, host: Option<String>| {
        let mut req = url.as_str().into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        if let Some(hst) = host {
            req.headers_mut().insert("host", hst.parse().unwrap());
        }
        async move {
            match tokio::time::timeout(
                Duration::from_secs(10),
                tokio_tungstenite::connect_async(req),
            )
            .await
            .expect("answers")
            {
                Ok(_) => None,
                Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Some(r.status().as_u16()),
                Err(e) => panic!("{e}"),
            }
        }
    };
    let port = server.local_addr().port();
    assert_eq!(attempt(Some("https://evil.example"), None).await, Some(403));
    assert_eq!(
        attempt(None, Some(format!("evil.example:{port}"))).await,
        Some(403)
    );
    assert_eq!(attempt(Some("http://localhost:3000"), None).await, None);
    assert_eq!(attempt(None, None).await, None);
}
