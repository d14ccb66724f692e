//! The Redux DevTools monitor codec (SocketCluster frames, app messages,
//! the jsan payloads inside them) on arbitrary text, differentially:
//!
//! - `decode_frame` (scanner hot path first) against
//!   `decode_frame_reference` (serde only): same frames, same errors;
//!   an app message the hot path decoded in place equals the serde decoding;
//! - `decode_app_message` (hot path) against `decode_app_message_full`,
//!   for the input itself and for every message a frame carries;
//! - the jsan texts (states, actions, lifted states) read back as JSON
//!   views: every row `flatten` makes is found again by `at_path`, `diff`
//!   against the previous state does not panic;
//! - every decoded app message is folded into a store, as the monitor does.

use std::collections::HashSet;

use roomtap::event::{EventKind, SourceEvent};
use roomtap::protocols::redux::wire::codec::{
    Frame, decode_app_message, decode_app_message_full, decode_frame, decode_frame_reference,
    decode_lifted_state, decode_performed_action, handshake_id,
};
use roomtap::protocols::redux::wire::model::{ActionRecord, ReduxEvent};
use roomtap::store::{Store, StoreConfig};
use roomtap::ui::json::{at_path, diff, flatten};
use serde_json::Value;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut views = Views::default();
    let fast = decode_frame(text);
    let slow = decode_frame_reference(text);
    match (&fast, &slow) {
        (Ok(a), Ok(b)) => same_frame(a, b),
        (Err(a), Err(b)) => assert_eq!(a, b, "the paths' errors differ"),
        (a, b) => panic!("hot path {a:?}\nserde path {b:?}"),
    }
    let mut events = Vec::new();
    if let Ok(f) = &fast {
        carried(f, &mut events);
    }
    events.extend(app_message(text));
    if let Ok(l) = decode_lifted_state(text) {
        for a in &l.actions {
            views.action(a);
        }
    }
    if let Ok(a) = decode_performed_action(0, text) {
        views.action(&a);
    }
    let _ = handshake_id(Some(text));
    let mut store = Store::new(&StoreConfig {
        max_log_entries: 64,
        max_bytes: 1 << 20,
        max_actions: 16,
        compact: true,
        keep_raw: 0,
    });
    let src = store.add_source(
        "relay",
        roomtap::protocols::redux::CLIENT,
        "ws://fuzz/socketcluster/",
    );
    for (i, ev) in events.into_iter().enumerate() {
        views.event(&ev);
        store.apply(SourceEvent {
            source: src,
            at_ms: i as u64,
            kind: EventKind::Redux(ev),
        });
    }
}

/// The hot path's frame is the serde path's (which never decodes in place).
fn same_frame(a: &Frame<'_>, b: &Frame<'_>) {
    match (a, b) {
        (Frame::Ping(x), Frame::Ping(y)) => assert_eq!(x, y),
        (Frame::Pong, Frame::Pong) => {}
        (
            Frame::Reply { rid, data, error },
            Frame::Reply {
                rid: r2,
                data: d2,
                error: e2,
            },
        ) => {
            assert_eq!(rid, r2);
            assert_eq!(data.map(|d| d.get()), d2.map(|d| d.get()));
            assert_eq!(error, e2);
        }
        (
            Frame::Publish {
                channel,
                data,
                decoded,
            },
            Frame::Publish {
                channel: c2,
                data: d2,
                decoded: None,
            },
        ) => {
            assert_eq!(channel, c2);
            assert_eq!(data, d2);
            if let Some(ev) = decoded {
                assert_eq!(
                    decode_app_message_full(data).as_ref(),
                    Ok(ev),
                    "decoded in place differently"
                );
            }
        }
        (
            Frame::Event { event, data, cid },
            Frame::Event {
                event: e2,
                data: d2,
                cid: c2,
            },
        ) => {
            assert_eq!(event, e2);
            assert_eq!(data.map(|d| d.get()), d2.map(|d| d.get()));
            assert_eq!(cid, c2);
        }
        (Frame::Batch(x), Frame::Batch(y)) => {
            assert_eq!(x.len(), y.len());
            for (a, b) in x.iter().zip(y) {
                same_frame(a, b);
            }
        }
        (a, b) => panic!("hot path {a:?}\nserde path {b:?}"),
    }
}

/// The app messages a frame carries (as the monitor source reads them).
fn carried(f: &Frame<'_>, out: &mut Vec<ReduxEvent>) {
    match f {
        Frame::Publish { data, decoded, .. } => {
            let ev = app_message(data);
            if let Some(d) = decoded {
                assert_eq!(ev.as_ref(), Some(d));
            }
            out.extend(ev);
        }
        Frame::Event { data: Some(d), .. } => out.extend(app_message(d.get())),
        Frame::Reply { data: Some(d), .. } => {
            let _ = handshake_id(Some(d.get()));
        }
        Frame::Batch(v) => v.iter().for_each(|f| carried(f, out)),
        _ => {}
    }
}

/// Both decoders of an app message agree (value or error).
fn app_message(raw: &str) -> Option<ReduxEvent> {
    let fast = decode_app_message(raw);
    let full = decode_app_message_full(raw);
    assert_eq!(fast, full, "app message: hot path vs serde path");
    fast.ok()
}

/// The JSON views of what was decoded, as the Timeline builds them.
#[derive(Default)]
struct Views {
    prev: Option<Value>,
}

impl Views {
    fn event(&mut self, ev: &ReduxEvent) {
        match ev {
            ReduxEvent::Action { action, .. } => self.action(action),
            ReduxEvent::State { lifted, .. } => lifted.actions.iter().for_each(|a| self.action(a)),
            _ => {}
        }
    }

    fn action(&mut self, a: &ActionRecord) {
        self.json(&a.action_raw);
        if let Some(s) = &a.state_raw
            && let Ok(text) = s.text()
        {
            self.json(&text);
        }
    }

    fn json(&mut self, text: &str) {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return;
        };
        for row in flatten(&v, &HashSet::new(), 2_000) {
            assert!(
                at_path(&v, &row.path).is_some(),
                "flatten's path {:?} is not found by at_path",
                row.path
            );
        }
        if let Some(prev) = &self.prev {
            let _ = diff(prev, &v, 200);
        }
        self.prev = Some(v);
    }
}
