//! Real peers (npm packages under tests/peers/) and a headless roomtap
//! harness: the real relay source feeding an `App`, commands routed back.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use roomtap::app::App;
use roomtap::event::{Command, SourceEvent, SourceId};
use roomtap::protocols::redux::client::source::RelayMonitor;
use roomtap::source::Source;
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;
use roomtap::wiring::Wiring;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command as Proc};
use tokio::sync::mpsc;

pub fn peers_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name);
    assert!(
        d.join("node_modules").is_dir(),
        "{} has no node_modules: run tests/peers/install.sh (the README's test command does)",
        d.display()
    );
    d
}

/// A node child whose stdout lines arrive on a channel. It is killed on drop
/// (and its scripts also exit when their stdin closes).
pub struct NodePeer {
    pub child: Child,
    pub lines: mpsc::UnboundedReceiver<String>,
}

impl NodePeer {
    pub async fn spawn(dir: &PathBuf, args: &[&str]) -> NodePeer {
        let mut child = Proc::new("node")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(out).lines();
            while let Ok(Some(l)) = r.next_line().await {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        NodePeer { child, lines: rx }
    }

    /// Wait (bounded) for a stdout line satisfying `f`.
    pub async fn wait_line(&mut self, what: &str, secs: u64, f: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(l)) if f(&l) => return l,
                Ok(Some(_)) => {}
                Ok(None) => panic!("peer exited while waiting for {what}"),
                Err(_) => panic!("timed out after {secs}s waiting for {what}"),
            }
        }
    }

    /// Wait for a JSON line whose fields satisfy `f`.
    pub async fn wait_json(
        &mut self,
        what: &str,
        secs: u64,
        f: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let l = self
            .wait_line(what, secs, |l| {
                serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| f(&v))
            })
            .await;
        serde_json::from_str(&l).unwrap()
    }
}

/// The real `@redux-devtools/cli` relay on a loopback port the kernel chose
/// when it listened (`relay.mjs 0`), read from its `READY <port>` line.
pub async fn real_relay() -> (NodePeer, u16) {
    let dir = peers_dir("redux");
    let mut p = NodePeer::spawn(&dir, &["relay.mjs", "0", "120"]).await;
    let ready = p
        .wait_line("relay READY", 30, |l| l.starts_with("READY "))
        .await;
    let port = ready["READY ".len()..]
        .parse()
        .unwrap_or_else(|e| panic!("relay.mjs said {ready:?}: {e}"));
    (p, port)
}

/// roomtap, headless: an `App` fed by real sources, wired as roomtap wires
/// them (`roomtap::wiring`).
pub struct Harness {
    pub app: App,
    events: mpsc::Receiver<SourceEvent>,
    routes: HashMap<SourceId, mpsc::Sender<Command>>,
    /// Set by [`Harness::embedded`]: roomtap's own relay.
    pub relay: Option<std::sync::Arc<roomtap::protocols::redux::server::Relay>>,
    /// What the sources need kept alive.
    _keep: roomtap::source::Keep,
    /// What they say as the run ends ([`Harness::goodbye`]).
    goodbyes: Vec<roomtap::source::Goodbye>,
}

impl Harness {
    /// `sources` attached to a blank `App`, as roomtap attaches them.
    pub async fn wired(sources: Vec<Box<dyn Source>>) -> Harness {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut app = super::app_blank();
        let (mut w, rx) = Wiring::new();
        w.attach_all(&mut app.store, sources)
            .await
            .expect("sources start");
        let s = w.finish();
        let relay = s
            .keep
            .iter()
            .find_map(|k| {
                k.downcast_ref::<std::sync::Arc<roomtap::protocols::redux::server::Relay>>()
            })
            .cloned();
        Harness {
            app,
            events: rx,
            routes: s.routes,
            relay,
            _keep: s.keep,
            goodbyes: s.goodbyes,
        }
    }

    /// The sources' goodbyes, as the run's end says them (bounded).
    pub async fn goodbye(&mut self) {
        let mut s = roomtap::wiring::Session {
            goodbyes: std::mem::take(&mut self.goodbyes),
            ..Default::default()
        };
        s.goodbye().await;
    }

    /// Route a command to a source (as the `:` line does).
    pub fn command(&mut self, source: SourceId, kind: roomtap::event::CommandKind) {
        let tx = self.routes.get(&source).expect("a route to the source");
        tx.try_send(Command { source, kind })
            .expect("the route takes it");
    }

    /// roomtap's relay on a free loopback port (or `cfg.bind`) with the
    /// inspector attached in-process, as `roomtap` runs it. Source 0 is the
    /// relay's own log, source 1 the in-process monitor.
    pub async fn embedded(cfg: roomtap::protocols::redux::server::RelayConfig) -> Harness {
        let h = Harness::wired(vec![Box::new(
            roomtap::protocols::redux::server::source::with_monitor(cfg),
        )])
        .await;
        assert_eq!(h.app.store.sources.len(), 2, "the relay and its monitor");
        h
    }

    /// The embedded relay's port.
    pub fn port(&self) -> u16 {
        self.relay.as_ref().unwrap().local_addr().port()
    }

    /// A monitor on the relay at `url` (as `roomtap relay URL`); source 0.
    pub fn relay(url: &str) -> Harness {
        let src = RelayMonitor::new(url);
        futures_now(Harness::wired(vec![Box::new(src)]))
    }

    /// A room source (as `roomtap room URL`) feeding an `App`; source 0.
    pub fn room(cfg: roomtap::protocols::room::client::RoomConfig) -> Harness {
        let src = roomtap::protocols::room::client::source::RoomSource::new("room", cfg);
        futures_now(Harness::wired(vec![Box::new(src)]))
    }

    /// Apply events and route commands until `cond` holds (bounded).
    pub async fn until(&mut self, what: &str, secs: u64, cond: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut batch = Vec::new();
        loop {
            roomtap::runtime::route_commands(&mut self.app, &self.routes);
            self.app.prepare();
            if cond(&self.app) {
                return;
            }
            match tokio::time::timeout_at(deadline, self.events.recv_many(&mut batch, 1024)).await {
                Ok(0) => panic!("sources ended while waiting for {what}"),
                Ok(_) => {
                    for e in batch.drain(..) {
                        self.app.apply(e);
                    }
                    self.app.after_events();
                }
                Err(_) => panic!(
                    "timed out after {secs}s waiting for {what}; logs:\n{}",
                    dump_logs(&self.app)
                ),
            }
        }
    }

    /// Apply whatever events have come, without waiting (keeps the
    /// sources' bounded queues from filling while a test waits elsewhere).
    pub fn drain(&mut self) {
        while let Ok(e) = self.events.try_recv() {
            self.app.apply(e);
        }
        self.app.after_events();
    }

    /// Route pending commands now.
    pub fn flush(&mut self) {
        roomtap::runtime::route_commands(&mut self.app, &self.routes);
    }
}

pub fn dump_logs(app: &App) -> String {
    let logs = &app.store.logs;
    (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .map(|e| format!("{} {} {}", e.level.label(), e.kind, e.summary))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value of a fact a source reported (Connections pane).
pub fn fact(app: &App, source: usize, key: &str) -> String {
    app.store.sources[source]
        .facts
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Whether some log line has this kind and a summary containing `text`.
pub fn has_log(app: &App, kind: &str, text: &str) -> bool {
    let logs = &app.store.logs;
    (0..logs.view_len())
        .filter_map(|i| logs.view_get(i))
        .any(|e| e.kind == kind && e.summary.contains(text))
}

/// Run a future that completes without waiting (starting a client source
/// only spawns its task) from a sync constructor inside a runtime.
fn futures_now<T>(f: impl std::future::Future<Output = T>) -> T {
    let mut f = std::pin::pin!(f);
    let waker = std::task::Waker::noop();
    match f.as_mut().poll(&mut std::task::Context::from_waker(waker)) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a client source's start waited"),
    }
}

/// roomtap's relay on loopback, a free port, fast pings (a client that
/// ignored them would be closed within 1.5 s and have to reconnect).
pub fn fast_relay() -> roomtap::protocols::redux::server::RelayConfig {
    roomtap::protocols::redux::server::RelayConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ping_interval: Duration::from_millis(250),
        ping_timeout: Duration::from_millis(1500),
        ..Default::default()
    }
}

/// A raw SocketCluster client of roomtap's relay on `port`, past its
/// handshake and logged in as `login` (`"\"master\""` for an app); `query`
/// is the URL's query (`secret=…`), empty for none.
pub async fn sc_client(
    port: u16,
    query: &str,
    login: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use futures_util::SinkExt;
    let url = format!("ws://127.0.0.1:{port}/socketcluster/?{query}");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    for (cid, (event, data)) in [("#handshake", r#"{"authToken":null}"#), ("login", login)]
        .into_iter()
        .enumerate()
    {
        ws.send(tokio_tungstenite::tungstenite::Message::text(format!(
            r#"{{"event":"{event}","data":{data},"cid":{}}}"#,
            cid + 1
        )))
        .await
        .unwrap();
    }
    ws
}

/// The lines a child writes (its stdout or stderr), as they come.
pub fn lines_of(out: impl std::io::Read + Send + 'static) -> mpsc::UnboundedReceiver<String> {
    use std::io::BufRead;
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// A peer script whose stdout is JSON lines (one object a line; a line
/// that is not JSON kept as a string), read on a task; killed on drop.
pub struct JsonChild {
    pub child: Child,
    lines: mpsc::UnboundedReceiver<serde_json::Value>,
    /// Every line read so far and not taken.
    pub seen: Vec<serde_json::Value>,
}

impl JsonChild {
    pub fn spawn(program: &std::path::Path, args: &[&std::ffi::OsStr]) -> JsonChild {
        let mut child = Proc::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(out).lines();
            while let Ok(Some(l)) = r.next_line().await {
                let v = serde_json::from_str(&l).unwrap_or(serde_json::Value::String(l));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        JsonChild {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// The first line satisfying `f` (read so far, or waited for, at most
    /// `secs`), left in `seen`.
    pub async fn wait(
        &mut self,
        what: &str,
        secs: u64,
        f: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let i = self.wait_index(what, secs, f).await;
        self.seen[i].clone()
    }

    /// [`JsonChild::wait`], the line taken out of `seen` (so the next wait
    /// finds the next one).
    pub async fn take(
        &mut self,
        what: &str,
        secs: u64,
        f: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let i = self.wait_index(what, secs, f).await;
        self.seen.remove(i)
    }

    async fn wait_index(
        &mut self,
        what: &str,
        secs: u64,
        f: impl Fn(&serde_json::Value) -> bool,
    ) -> usize {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(i) = self.seen.iter().position(&f) {
                return i;
            }
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(v)) => self.seen.push(v),
                Ok(None) => panic!("the peer ended waiting for {what}: {:#?}", self.seen),
                Err(_) => panic!("no {what} from the peer in {secs} s: {:#?}", self.seen),
            }
        }
    }

    /// Write one line to its stdin.
    pub async fn send(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.child.stdin.as_mut().expect("its stdin");
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        stdin.flush().await.unwrap();
    }
}

impl Harness {
    /// `text` typed on the `:` line and submitted, as a user does.
    pub fn typed(&mut self, text: &str) {
        use roomtap::ui::keymap::Action;
        self.app.act(Action::CommandLine);
        for c in text.chars() {
            self.app.act(Action::Input(c));
        }
        self.app.act(Action::Submit);
        self.flush();
    }
}

impl Harness {
    /// Type `text` into the dispatch prompt of the selected app and send it.
    pub fn dispatch_typed(&mut self, text: &str) {
        self.app.act(Action::Focus(Pane::Timeline));
        self.app.act(Action::DispatchPrompt);
        for c in text.chars() {
            self.app.act(Action::Input(c));
        }
        self.app.act(Action::Submit);
        self.flush();
    }

    /// The same keys, whatever the app (the real `@redux-devtools/remote`
    /// one or the demo's): with the selected app past its maxAge, `p`,
    /// two actions dispatched while paused, `p` again, then three more.
    /// Every action after the resume must have a known place in the app's
    /// history (its index shown, Enter sends a jump). Returns the index the
    /// jump to the second of the three asked for.
    pub async fn pause_and_resume_past_max_age(&mut self) -> usize {
        let n0 = self.app.instance().expect("an app").entries.len();
        self.app.act(Action::Focus(Pane::Timeline));
        self.app.act(Action::Pause);
        self.flush();
        self.until("paused", 15, |a| a.instance().unwrap().is_paused)
            .await;
        for _ in 0..2 {
            self.dispatch_typed("{ type: 'WHILE_PAUSED' }");
        }
        self.until("the paused app reports its one @@PAUSED entry", 15, |a| {
            a.instance()
                .unwrap()
                .entries
                .iter()
                .any(|e| &*e.action_type == "@@PAUSED")
        })
        .await;
        self.app.act(Action::Pause);
        self.flush();
        self.until("recording again", 15, |a| {
            let i = a.instance().unwrap();
            !i.is_paused && i.pending.is_none()
        })
        .await;
        for k in 1..=3 {
            self.dispatch_typed(&format!("{{ type: 'AFTER_RESUME', k: {k} }}"));
        }
        self.until("the three actions after the resume listed", 15, |a| {
            let i = a.instance().unwrap();
            i.entries
                .iter()
                .filter(|e| &*e.action_type == "AFTER_RESUME")
                .count()
                == 3
        })
        .await;
        let inst = self.app.instance().unwrap();
        let after: Vec<(u64, Option<usize>)> = inst
            .entries
            .iter()
            .filter(|e| &*e.action_type == "AFTER_RESUME")
            .map(|e| (e.id, inst.app_index_of(e.id)))
            .collect();
        assert!(
            after.iter().all(|(_, i)| i.is_some()),
            "every action after the resume is in the app's history (before: {n0} rows): {after:?}"
        );
        // Enter on the second: a jump goes out, no refusal.
        let (id, index) = (after[1].0, after[1].1.unwrap());
        let pos = inst.position_of(id).unwrap();
        let rows = self.app.timeline_view();
        let row = rows.iter().position(|&p| p == pos).unwrap();
        self.app.act(Action::Top);
        for _ in 0..row {
            self.app.act(Action::Down);
        }
        self.app.act(Action::Activate);
        let cmds = self.app.take_commands();
        assert!(
            matches!(
                cmds.as_slice(),
                [Command { kind: roomtap::event::CommandKind::Redux(
                    roomtap::protocols::redux::wire::model::ReduxCommand::Dispatch { action, .. }
                ), .. }] if *action == roomtap::protocols::redux::wire::model::LiftedAction::JumpToState { index }
            ),
            "Enter jumps to index {index}: {cmds:?} (status {:?})",
            self.app.ui.status
        );
        for c in cmds {
            self.app.send_command(c);
        }
        self.flush();
        index
    }
}
