//! A simulated app on the wire: the SocketCluster client side of
//! `@redux-devtools/remote` (handshake, `login "master"`, START, subscribe
//! `respond`, pings in either style, reconnect with backoff) around a
//! [`RemoteApp`], dispatching actions at a human pace.

use fastrand::Rng;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::remote::RemoteApp;
use crate::event::now_ms;
use crate::link::Backoff;
use crate::link::ws::LocalConnect;
use crate::protocols::redux::wire::codec::{self, Frame};
use crate::link::ws::Transport;

/// Where the app connects.
#[derive(Clone)]
pub enum Link {
    /// In-process to roomtap's own relay.
    Local(LocalConnect),
    /// A relay URL (`ws://127.0.0.1:8000/socketcluster/`).
    Url(String),
}

/// The next action the app dispatches by itself (`n` counts from 1).
pub type Script = fn(&mut Rng, u64) -> Value;

pub struct AppConfig {
    pub link: Link,
    pub app: RemoteApp,
    pub script: Script,
    /// Pause between the app's own actions, drawn in this range (ms);
    /// `None`: the app only acts when told to (tests).
    pub pace_ms: Option<(u64, u64)>,
    pub seed: u64,
}

/// What a test (or a curious reader) can see of a running app.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppView {
    pub socket_id: Option<String>,
    pub connected: bool,
    pub monitored: bool,
    pub current: usize,
    pub staged: Vec<u64>,
    pub skipped: Vec<u64>,
    pub next_action_id: u64,
    /// `store.getState()`.
    pub state: Value,
    /// Messages the app has sent on `log`, by type, in order (bounded).
    pub sent: Vec<String>,
    /// Commands it obeyed, e.g. `DISPATCH JUMP_TO_STATE 2` (bounded).
    pub received: Vec<String>,
}

/// Control of a running app.
pub enum Control {
    /// Dispatch this action now (as the app's own code would).
    Dispatch(Value),
}

/// A running simulated app.
pub struct DemoApp {
    pub control: mpsc::Sender<Control>,
    pub view: watch::Receiver<AppView>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Deterministic xorshift, so a seeded demo replays the same story.
pub fn spawn(cfg: AppConfig) -> DemoApp {
    let (ctl_tx, ctl_rx) = mpsc::channel(64);
    let (view_tx, view_rx) = watch::channel(AppView::default());
    let task = tokio::spawn(run(cfg, ctl_rx, view_tx));
    DemoApp {
        control: ctl_tx,
        view: view_rx,
        task,
    }
}

struct Running {
    app: RemoteApp,
    script: Script,
    rng: Rng,
    n: u64,
    pace: Option<(u64, u64)>,
    next_tick: Option<Instant>,
    view: watch::Sender<AppView>,
    sent: Vec<String>,
    received: Vec<String>,
}

impl Running {
    fn schedule(&mut self) {
        self.next_tick = self
            .pace
            .map(|(lo, hi)| Instant::now() + Duration::from_millis(self.rng.u64(lo..=hi)));
    }

    fn publish(&mut self, connected: bool) {
        let s = &self.app.store;
        self.view.send_replace(AppView {
            socket_id: self.app.socket_id.clone(),
            connected,
            monitored: self.app.is_monitored(),
            current: s.current,
            staged: s.staged.clone(),
            skipped: s.skipped.clone(),
            next_action_id: s.next_action_id,
            state: s.state().clone(),
            sent: self.sent.clone(),
            received: self.received.clone(),
        });
    }

    fn note_received(&mut self, msg: &Value) {
        let mut what = msg["type"].as_str().unwrap_or("?").to_string();
        if let Some(a) = msg
            .get("action")
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
        {
            what.push(' ');
            what.push_str(a);
        }
        if let Some(i) = msg.get("action").and_then(|a| a.get("index")) {
            what.push(' ');
            what.push_str(&i.to_string());
        }
        if self.received.len() >= 1000 {
            self.received.remove(0);
        }
        self.received.push(what);
    }

    fn note_sent(&mut self, out: &[String]) {
        for m in out {
            let ty = serde_json::from_str::<Value>(m)
                .ok()
                .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            if self.sent.len() >= 1000 {
                self.sent.remove(0);
            }
            self.sent.push(ty);
        }
    }
}

async fn run(cfg: AppConfig, mut ctl: mpsc::Receiver<Control>, view: watch::Sender<AppView>) {
    let mut r = Running {
        app: cfg.app,
        script: cfg.script,
        rng: Rng::with_seed(cfg.seed),
        n: 0,
        pace: cfg.pace_ms,
        next_tick: None,
        view,
        sent: Vec::new(),
        received: Vec::new(),
    };
    r.schedule();
    r.publish(false);
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));
    loop {
        match session(&cfg.link, &mut r, &mut ctl).await {
            Ended::Shutdown => return,
            Ended::Lost { was_connected } => {
                r.publish(false);
                if was_connected {
                    backoff.reset();
                }
                let wait = tokio::time::sleep(backoff.next_delay());
                tokio::pin!(wait);
                // Keep acting while away, as a real app would.
                loop {
                    tokio::select! {
                        _ = &mut wait => break,
                        c = ctl.recv() => match c {
                            Some(c) => { act(&mut r, c, None).await; }
                            None => return,
                        },
                        _ = tick(r.next_tick) => { auto(&mut r, None).await; }
                    }
                }
            }
        }
    }
}

enum Ended {
    Shutdown,
    Lost { was_connected: bool },
}

async fn tick(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn connect(link: &Link) -> Option<Transport> {
    match link {
        Link::Local(f) => {
            let (tx, rx) = f();
            Some(Transport::local(tx, rx))
        }
        Link::Url(url) => {
            let c = tokio_tungstenite::connect_async(url.as_str());
            match tokio::time::timeout(Duration::from_secs(10), c).await {
                Ok(Ok((ws, _))) => Some(Transport::Ws(Box::new(ws))),
                _ => None,
            }
        }
    }
}

async fn send(t: &mut Transport, text: String) -> bool {
    t.send(Message::Text(text.into())).await.is_ok()
}

async fn transmit_all(t: Option<&mut Transport>, out: &[String]) -> bool {
    let Some(t) = t else { return true };
    for m in out {
        if !send(t, codec::encode_transmit("log", m)).await {
            return false;
        }
    }
    true
}

/// The app's own next action.
async fn auto(r: &mut Running, t: Option<&mut Transport>) -> bool {
    r.n += 1;
    let action = (r.script)(&mut r.rng, r.n);
    r.schedule();
    act(r, Control::Dispatch(action), t).await
}

async fn act(r: &mut Running, c: Control, t: Option<&mut Transport>) -> bool {
    let connected = t.is_some();
    let Control::Dispatch(action) = c;
    // The app's own code threw: nothing is recorded or sent.
    let out = r.app.dispatch(action, now_ms()).unwrap_or_default();
    let out = if connected { out } else { vec![] };
    r.note_sent(&out);
    let ok = transmit_all(t, &out).await;
    r.publish(connected);
    ok
}

async fn session(link: &Link, r: &mut Running, ctl: &mut mpsc::Receiver<Control>) -> Ended {
    let lost = Ended::Lost {
        was_connected: false,
    };
    let Some(mut t) = connect(link).await else {
        return lost;
    };
    if !send(&mut t, codec::encode_handshake(1)).await {
        return lost;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let socket_id = loop {
        let m = match tokio::time::timeout_at(deadline, t.next()).await {
            Ok(Some(Ok(m))) => m,
            _ => return lost,
        };
        let Message::Text(text) = m else { continue };
        match codec::decode_frame(text.as_str()) {
            Ok(Frame::Reply { rid: 1, data, .. }) => {
                match codec::handshake_id(data.map(|d| d.get())) {
                    Some((id, _)) => break id,
                    None => return lost,
                }
            }
            Ok(Frame::Ping(style)) if !send(&mut t, style.pong().into()).await => return lost,
            _ => {}
        }
    };
    r.app.socket_id = Some(socket_id);
    // As the enhancer does: login, START in the same tick, then subscribe.
    let start = r.app.start_message();
    r.note_sent(std::slice::from_ref(&start));
    for f in [
        r#"{"event":"login","data":"master","cid":2}"#.to_string(),
        codec::encode_transmit("log", &start),
        codec::encode_subscribe("respond", 3),
    ] {
        if !send(&mut t, f).await {
            return lost;
        }
    }
    r.publish(true);
    let lost = Ended::Lost {
        was_connected: true,
    };
    loop {
        tokio::select! {
            m = t.next() => {
                let text = match m {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return lost,
                    Some(Ok(_)) => continue,
                };
                let msg = match codec::decode_frame(text.as_str()) {
                    Ok(Frame::Ping(style)) => {
                        if !send(&mut t, style.pong().into()).await {
                            return lost;
                        }
                        continue;
                    }
                    // The current relay publishes on the `respond` channel;
                    // the legacy one re-emits `sc-<id>` as a `respond` event.
                    Ok(Frame::Publish { channel, data, .. }) if channel == "respond" => {
                        serde_json::from_str::<Value>(data).ok()
                    }
                    Ok(Frame::Event { event, data: Some(d), .. }) if event == "respond" => {
                        serde_json::from_str::<Value>(d.get()).ok()
                    }
                    _ => None,
                };
                let Some(msg) = msg else { continue };
                r.note_received(&msg);
                let out = r.app.on_message(&msg, now_ms());
                r.note_sent(&out);
                if !transmit_all(Some(&mut t), &out).await {
                    return lost;
                }
                r.publish(true);
            }
            c = ctl.recv() => match c {
                Some(c) => {
                    if !act(r, c, Some(&mut t)).await {
                        return lost;
                    }
                }
                None => {
                    t.close().await;
                    return Ended::Shutdown;
                }
            },
            _ = tick(r.next_tick) => {
                if !auto(r, Some(&mut t)).await {
                    return lost;
                }
            }
        }
    }
}
