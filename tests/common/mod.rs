//! Helpers shared by the headless tests: app messages built through the
//! real codec, an `App` with a fixed clock for snapshots.
#![allow(dead_code)]

use roomtap::app::App;
use roomtap::event::{EventKind, SourceEvent};
use roomtap::protocols::redux::wire::codec;
use roomtap::store::StoreConfig;
use roomtap::ui::theme::Theme;
use serde_json::{Value, json};

pub mod peers;
pub mod tmux;

pub const T0: u64 = 1_795_344_160_000;

/// A fresh directory under the temp dir for one test (sockets, files),
/// removed when dropped.
pub struct Dir(pub std::path::PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("rt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn app_blank() -> App {
    // Times as UTC, whatever the machine's zone (snapshots).
    roomtap::text::show_utc();
    App::new(&StoreConfig::default(), Theme::builtin("dark").unwrap())
}

pub fn app() -> App {
    let mut app = app_blank();
    app.store.add_source(
        "relay",
        roomtap::protocols::redux::CLIENT,
        "ws://127.0.0.1:8000/socketcluster/",
    );
    app
}

pub fn ev(at_ms: u64, kind: EventKind) -> SourceEvent {
    SourceEvent {
        source: 0,
        at_ms,
        kind,
    }
}

/// A lifted state with `counts.len()` states (the first is @@INIT).
pub fn lifted(counts: &[i64], current: usize, skipped: &[u64]) -> Value {
    let mut by_id = serde_json::Map::new();
    let mut computed = Vec::new();
    for (i, c) in counts.iter().enumerate() {
        let action = if i == 0 {
            json!({"type": "@@INIT"})
        } else {
            json!({"type": "INCREMENT", "by": 1})
        };
        by_id.insert(
            i.to_string(),
            json!({"type": "PERFORM_ACTION", "action": action, "timestamp": T0 + 100 * i as u64}),
        );
        computed.push(json!({"state": {"count": c, "todos": []}}));
    }
    json!({
        "monitorState": {},
        "actionsById": by_id,
        "nextActionId": counts.len(),
        "stagedActionIds": (0..counts.len()).collect::<Vec<_>>(),
        "skippedActionIds": skipped,
        "currentStateIndex": current,
        "computedStates": computed,
        "isLocked": false,
        "isPaused": false
    })
}

/// Decode an app message (as published on `log`) through the real codec.
pub fn redux(msg: Value) -> EventKind {
    EventKind::Redux(codec::decode_app_message(&msg.to_string()).expect("decodes"))
}

pub fn state_msg(instance: &str, name: &str, lifted: &Value) -> EventKind {
    redux(json!({
        "type": "STATE", "id": "sock-1", "name": name, "instanceId": instance,
        "payload": lifted.to_string()
    }))
}

pub fn action_msg(instance: &str, name: &str, id: u64, ty: &str, count: i64) -> EventKind {
    redux(json!({
        "type": "ACTION", "id": "sock-1", "name": name, "instanceId": instance,
        "payload": json!({"count": count, "todos": []}).to_string(),
        "action": json!({"type": "PERFORM_ACTION", "action": {"type": ty, "by": 1}, "timestamp": T0 + 100 * id}).to_string(),
        "nextActionId": id + 1
    }))
}

/// An app with STATE [0] then `n` INCREMENT actions.
pub fn app_with_actions(n: u64) -> App {
    let mut a = app();
    a.apply(ev(
        T0,
        state_msg("inst-a", "counter", &lifted(&[0], 0, &[])),
    ));
    for i in 1..=n {
        a.apply(ev(
            T0 + 100 * i,
            action_msg("inst-a", "counter", i, "INCREMENT", i as i64),
        ));
    }
    a.after_events();
    a
}

pub fn render(app: &mut App, w: u16, h: u16) -> ratatui::Terminal<ratatui::backend::TestBackend> {
    app.prepare();
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    t
}

pub fn screen_text(t: &ratatui::Terminal<ratatui::backend::TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}
