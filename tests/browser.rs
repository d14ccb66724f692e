//! A real browser (headless Chromium, Debian's package:
//! `tests/peers/install.sh` installs it) against roomtap's relay: a page on a local dev server
//! (`http://localhost:PORT`) opens its WebSocket and gets the SocketCluster
//! handshake answered, as `@redux-devtools/remote` in a page does; a page
//! of another site (`http://evil.example`, resolved to loopback by the
//! browser as DNS rebinding would) is refused at the upgrade, whether it
//! dials loopback (foreign `Origin`) or its own name (foreign `Host`), and
//! the refusals are said and counted. The browser sends the headers itself:
//! nothing here forges them.

mod common;

use common::peers::{Harness, fact, fast_relay};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The page: it dials `ws_url` and writes what happened into the DOM.
///
/// Its load event (after which `--dump-dom` dumps) waits for the image
/// `/hold`, which the server answers only once the page asked for `/done`
/// (right after writing its result) or after 10 s: the WebSocket takes real
/// time, and without a pending request Chromium's virtual time (the
/// `--virtual-time-budget`) runs out at once, sometimes before it settled.
fn page(ws_url: &str) -> String {
    format!(
        r#"<html><body><pre id=r>RESULT: pending</pre><script>
const r = document.getElementById('r');
const said = (what) => {{ r.textContent = 'RESULT: ' + what; fetch('/done'); }};
const ws = new WebSocket('{ws_url}');
ws.onopen = () => ws.send(JSON.stringify({{event: '#handshake', data: {{authToken: null}}, cid: 1}}));
ws.onmessage = (m) => {{ if (String(m.data).includes('"rid":1')) said('handshake ok'); }};
ws.onerror = () => said('refused');
</script><img src="/hold"></body></html>"#
    )
}

/// A tiny web server on loopback: `/a` dials the relay on 127.0.0.1,
/// `/b` on the page's own host name, `/c` on `evil.example`; `/hold` and
/// `/done` are the page's wait (see [`page`]). One page at a time.
async fn web_server(relay_port: u16) -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let done = std::sync::Arc::new(tokio::sync::Notify::new());
    tokio::spawn(async move {
        for _ in 0..64 {
            let Ok((mut tcp, _)) = l.accept().await else {
                return;
            };
            let done = done.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = tcp.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let host = req
                    .lines()
                    .find_map(|l| l.strip_prefix("Host: "))
                    .and_then(|h| h.split(':').next())
                    .unwrap_or("127.0.0.1")
                    .to_string();
                let body = if req.starts_with("GET /hold") {
                    let _ =
                        tokio::time::timeout(std::time::Duration::from_secs(10), done.notified())
                            .await;
                    String::new()
                } else if req.starts_with("GET /done") {
                    done.notify_one();
                    String::new()
                } else if req.starts_with("GET /b") {
                    page(&format!("ws://{host}:{relay_port}/socketcluster/"))
                } else if req.starts_with("GET /c") {
                    page(&format!("ws://evil.example:{relay_port}/socketcluster/"))
                } else {
                    page(&format!("ws://127.0.0.1:{relay_port}/socketcluster/"))
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(resp.as_bytes()).await;
            });
        }
    });
    port
}

/// Load `url` in headless Chromium and return the DOM after the page ran.
async fn chromium(url: String) -> String {
    tokio::task::spawn_blocking(move || {
        let dir = tempdir();
        let out = std::process::Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP evil.example 127.0.0.1",
                "--virtual-time-budget=5000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", dir.display()))
            .arg(&url)
            .output()
            .expect("chromium is installed (tests/peers/install.sh installs Debian's chromium)");
        let _ = std::fs::remove_dir_all(&dir);
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .unwrap()
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "roomtap-chromium-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn result(dom: &str) -> &str {
    dom.split("RESULT: ")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or("no result (did the page load?)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_browser_on_localhost_connects_and_a_foreign_page_is_refused() {
    let mut h = Harness::embedded(fast_relay()).await;
    let web = web_server(h.port()).await;
    let ok = chromium(format!("http://localhost:{web}/a")).await;
    assert_eq!(result(&ok), "handshake ok", "{ok}");
    let bad = chromium(format!("http://evil.example:{web}/a")).await;
    assert_eq!(result(&bad), "refused", "{bad}");
    let rebinding = chromium(format!("http://evil.example:{web}/b")).await;
    assert_eq!(result(&rebinding), "refused", "{rebinding}");
    // A page of localhost whose socket names another host (what a
    // rebinding name looks like to the relay): the Host is refused.
    let host = chromium(format!("http://localhost:{web}/c")).await;
    assert_eq!(result(&host), "refused", "{host}");
    h.until("the refusals said and counted", 20, |a| {
        let logs = common::peers::dump_logs(a);
        logs.contains("foreign Origin http://evil.example")
            && logs.contains("foreign Host evil.example")
            && refused(a) == 3
    })
    .await;
    // The page on localhost is still connected as a client of the relay.
    assert!(!common::peers::dump_logs(&h.app).contains("foreign Origin http://localhost"));
}

/// Upgrades refused as web pages, from the Connections fact.
fn refused(a: &roomtap::app::App) -> u64 {
    let f = fact(a, 0, "refused (web pages)");
    f.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u64>().ok())
        .next()
        .unwrap_or(0)
}
