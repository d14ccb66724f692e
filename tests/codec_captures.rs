//! Codec and store tests driven by frames captured from the real packages
//! (`tests/fixtures/captures/redux/`).

use std::path::PathBuf;

use roomtap::event::{Command, CommandKind, EventKind, SourceEvent};
use roomtap::protocols::redux::wire::codec::{self, Frame, PingStyle};
use roomtap::protocols::redux::wire::model::{LiftedAction, ReduxCommand, ReduxEvent};
use roomtap::store::{Store, StoreConfig};
use serde_json::Value;

struct Rec {
    conn: u64,
    dir: String,
    frame: String,
}

fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures/redux")
}

fn load(name: &str) -> Vec<Rec> {
    let path = captures_dir().join(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).expect("capture line is JSON");
            Some(Rec {
                conn: v["conn"].as_u64()?,
                dir: v["dir"].as_str()?.to_string(),
                frame: v.get("frame")?.as_str()?.to_string(),
            })
        })
        .collect()
}

fn all_captures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(captures_dir())
        .expect("captures dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 10,
        "expected the redux captures, got {names:?}"
    );
    names
}

/// Every app message inside a frame (publish on `log`, or an app's transmit on `log`).
fn app_messages(frame: &Frame<'_>, out: &mut Vec<String>) {
    match frame {
        Frame::Publish {
            channel,
            data,
            decoded,
        } if channel == "log" => {
            if let Some(d) = decoded {
                assert_eq!(
                    Ok(d),
                    codec::decode_app_message_full(data).as_ref(),
                    "in-place decode differs: {data}"
                );
            }
            out.push(data.to_string())
        }
        Frame::Event {
            event,
            data: Some(d),
            ..
        } if event == "log" || event == "log-noid" => out.push(d.get().to_string()),
        Frame::Batch(items) => items.iter().for_each(|f| app_messages(f, out)),
        _ => {}
    }
}

#[test]
fn every_captured_frame_decodes() {
    let mut frames = 0;
    let mut messages = 0;
    for name in all_captures() {
        for r in load(&name) {
            let f = codec::decode_frame(&r.frame)
                .unwrap_or_else(|e| panic!("{name}: {e}: {}", r.frame));
            frames += 1;
            let mut msgs = Vec::new();
            app_messages(&f, &mut msgs);
            for m in msgs {
                codec::decode_app_message(&m).unwrap_or_else(|e| panic!("{name}: {e}: {m}"));
                messages += 1;
            }
        }
    }
    assert!(frames > 400, "{frames}");
    assert!(messages > 100, "{messages}");
}

#[test]
fn the_fast_path_agrees_with_the_reference_decoder() {
    let mut actions = 0;
    for name in all_captures() {
        for r in load(&name) {
            let Ok(f) = codec::decode_frame(&r.frame) else {
                continue;
            };
            let mut msgs = Vec::new();
            app_messages(&f, &mut msgs);
            for m in msgs {
                let fast = codec::decode_app_message(&m);
                let full = codec::decode_app_message_full(&m);
                assert_eq!(fast, full, "{name}: {m}");
                if matches!(fast, Ok(ReduxEvent::Action { .. })) {
                    actions += 1;
                }
            }
        }
    }
    assert!(actions > 50, "{actions}");
}

#[test]
fn truncated_and_corrupted_frames_never_panic() {
    let recs = load("jump-frames.jsonl");
    let frame = recs
        .iter()
        .find(|r| r.dir == "S>C" && r.frame.contains("\"ACTION\""))
        .unwrap();
    let b = frame.frame.as_bytes();
    for cut in 0..b.len() {
        if let Ok(s) = std::str::from_utf8(&b[..cut]) {
            let _ = codec::decode_frame(s);
            let _ = codec::decode_app_message(s);
        }
    }
    // Flip single bytes to structural characters.
    for (i, c) in [(b'"', 0), (b'{', 1), (b'}', 2), (b'\\', 3), (b',', 4)]
        .iter()
        .flat_map(|(ch, k)| (0..b.len()).step_by(7 + k).map(move |i| (i, *ch)))
    {
        let mut v = b.to_vec();
        v[i] = c;
        if let Ok(s) = std::str::from_utf8(&v)
            && let Ok(Frame::Publish { data, .. }) = codec::decode_frame(s)
        {
            let _ = codec::decode_app_message(data);
        }
    }
}

#[test]
fn pings_of_both_generations_are_recognised() {
    let legacy = load("legacy-frames.jsonl");
    assert!(legacy.iter().any(|r| r.dir == "S>C"
        && matches!(
            codec::decode_frame(&r.frame),
            Ok(Frame::Ping(PingStyle::V1))
        )));
    let current = load("jump-frames.jsonl");
    assert!(current.iter().any(|r| r.dir == "S>C"
        && matches!(
            codec::decode_frame(&r.frame),
            Ok(Frame::Ping(PingStyle::V2))
        )));
}

#[test]
fn handshake_reply_gives_the_socket_id() {
    let r = &load("jump-frames.jsonl")[1];
    let Ok(Frame::Reply {
        rid: 1,
        data,
        error: None,
    }) = codec::decode_frame(&r.frame)
    else {
        panic!("not a reply: {}", r.frame)
    };
    let (id, ping) = codec::handshake_id(data.map(|d| d.get())).unwrap();
    assert_eq!(id, "YtnwfxKE-c_GHqANAAAA");
    assert_eq!(ping, Some(30000));
}

#[test]
fn our_monitor_frames_match_the_captured_ones() {
    let recs = load("jump-frames.jsonl");
    let sent: Vec<&str> = recs
        .iter()
        .filter(|r| r.conn == 1 && r.dir == "C>S")
        .map(|r| r.frame.as_str())
        .collect();
    assert_eq!(sent[0], codec::encode_handshake(1));
    assert_eq!(sent[1], codec::encode_login_monitor(2));
    assert_eq!(sent[2], codec::encode_subscribe("log", 3));
    let start = codec::encode_transmit("respond", &codec::command_message(&ReduxCommand::Start, 0));
    assert_eq!(sent[3], start);
    let jump = codec::encode_transmit(
        "respond",
        &codec::command_message(
            &ReduxCommand::Dispatch {
                instance: "prnvi3u41tf".into(),
                action: LiftedAction::JumpToState { index: 1 },
            },
            0,
        ),
    );
    assert!(sent.contains(&jump.as_str()), "{jump}");
    let toggle = codec::encode_transmit(
        "respond",
        &codec::command_message(
            &ReduxCommand::Dispatch {
                instance: "prnvi3u41tf".into(),
                action: LiftedAction::ToggleAction { id: 1 },
            },
            0,
        ),
    );
    assert!(sent.contains(&toggle.as_str()), "{toggle}");
    let commit = codec::command_message(
        &ReduxCommand::Dispatch {
            instance: "prnvi3u41tf".into(),
            action: LiftedAction::Commit,
        },
        1795344169584,
    );
    assert!(sent.iter().any(|s| s.contains(&commit)), "{commit}");
}

#[test]
fn state_with_action_creators_and_committed_state() {
    let mut saw_creators = false;
    for r in load("jump-frames.jsonl") {
        let Ok(f) = codec::decode_frame(&r.frame) else {
            continue;
        };
        let mut msgs = Vec::new();
        app_messages(&f, &mut msgs);
        for m in msgs {
            if let Ok(ReduxEvent::State {
                action_creators: Some(ac),
                lifted,
                ..
            }) = codec::decode_app_message(&m)
            {
                assert!(ac.contains("incrementBy"), "{ac}");
                assert_eq!(lifted.actions[0].action_type, "@@INIT");
                saw_creators = true;
            }
        }
    }
    assert!(saw_creators);
    let mut saw_committed = false;
    for r in load("history-frames.jsonl") {
        let Ok(f) = codec::decode_frame(&r.frame) else {
            continue;
        };
        let mut msgs = Vec::new();
        app_messages(&f, &mut msgs);
        for m in msgs {
            if let Ok(ReduxEvent::State { lifted, .. }) = codec::decode_app_message(&m)
                && lifted.has_committed_state
            {
                saw_committed = true;
            }
        }
    }
    assert!(saw_committed);
}

#[test]
fn legacy_apps_are_keyed_by_socket_id() {
    let mut keys = Vec::new();
    for r in load("legacy-frames.jsonl") {
        let Ok(f) = codec::decode_frame(&r.frame) else {
            continue;
        };
        let mut msgs = Vec::new();
        app_messages(&f, &mut msgs);
        for m in msgs {
            if let Ok(ReduxEvent::Action { app, .. }) = codec::decode_app_message(&m) {
                assert!(app.instance_id.is_none());
                keys.push(app.key().unwrap().to_string());
            }
        }
    }
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| k == "xTJpsv966NfopKSLAAAB"), "{keys:?}");
}

#[test]
fn log_noid_wrapper_takes_the_sender_id() {
    let raw = r#"{"id":"fPqOqdOidbLO9k8WAAAC","data":{"type":"STATE","name":"raw-app","instanceId":"inst-1","payload":"{\"actionsById\":{\"0\":{\"type\":\"PERFORM_ACTION\",\"action\":{\"type\":\"@@INIT\"},\"timestamp\":1}},\"nextActionId\":1,\"stagedActionIds\":[0],\"skippedActionIds\":[],\"currentStateIndex\":0,\"computedStates\":[{\"state\":{\"x\":1}}]}"}}"#;
    let ReduxEvent::State { app, lifted, .. } = codec::decode_app_message(raw).unwrap() else {
        panic!()
    };
    assert_eq!(app.socket_id.as_deref(), Some("fPqOqdOidbLO9k8WAAAC"));
    assert_eq!(app.instance_id.as_deref(), Some("inst-1"));
    assert_eq!(
        lifted.actions[0]
            .state_raw
            .as_ref()
            .unwrap()
            .text()
            .unwrap(),
        r#"{"x":1}"#
    );
}

#[test]
fn errors_become_visible_entries() {
    let mut store = Store::new(&StoreConfig::default());
    let src = store.add_source("relay", roomtap::protocols::redux::CLIENT, "ws://x");
    feed_monitor(&mut store, src, "errors-frames.jsonl");
    let errors: Vec<String> = (0..store.logs.view_len())
        .filter_map(|i| store.logs.view_get(i))
        .filter(|e| e.kind == "ERROR")
        .map(|e| e.summary.to_string())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("reducer failed") || e.contains("THROW")),
        "{errors:?}"
    );
}

/// (predicted staged ids, predicted current, app's staged ids, app's current,
/// the last command sent before that STATE)
type Check = (Vec<u64>, usize, Vec<u64>, usize, String);

/// Replays the monitor connection (conn 1) of a capture into a store, echoing
/// our own DISPATCH commands as `CommandSent`, as the relay source does.
/// Returns, for each STATE, (our predicted staged ids, predicted current, the
/// app's staged ids, the app's current) taken just before the STATE applied.
fn feed_monitor(store: &mut Store, src: u16, name: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut last_command = String::new();
    for r in load(name) {
        if r.conn != 1 {
            continue;
        }
        let Ok(f) = codec::decode_frame(&r.frame) else {
            continue;
        };
        if r.dir == "C>S" {
            if let Frame::Event {
                event,
                data: Some(d),
                ..
            } = &f
                && event == "respond"
            {
                let v: Value = serde_json::from_str(d.get()).unwrap();
                last_command = v["action"]["type"]
                    .as_str()
                    .or(v["type"].as_str())
                    .unwrap_or("")
                    .to_string();
                let action = match last_command.as_str() {
                    "JUMP_TO_STATE" => Some(LiftedAction::JumpToState {
                        index: v["action"]["index"].as_u64().unwrap() as usize,
                    }),
                    "TOGGLE_ACTION" => Some(LiftedAction::ToggleAction {
                        id: v["action"]["id"].as_u64().unwrap(),
                    }),
                    "COMMIT" => Some(LiftedAction::Commit),
                    "SWEEP" => Some(LiftedAction::Sweep),
                    "ROLLBACK" => Some(LiftedAction::Rollback),
                    "RESET" => Some(LiftedAction::Reset),
                    _ => None,
                };
                if let (Some(action), Some(inst)) = (action, v["instanceId"].as_str()) {
                    store.apply(SourceEvent::new(
                        src,
                        EventKind::CommandSent(Command {
                            source: src,
                            kind: CommandKind::Redux(ReduxCommand::Dispatch {
                                instance: inst.to_string(),
                                action,
                            }),
                        }),
                    ));
                }
            }
            continue;
        }
        let mut msgs = Vec::new();
        app_messages(&f, &mut msgs);
        for m in msgs {
            let ev = codec::decode_app_message(&m).unwrap();
            if let ReduxEvent::State { app, lifted, .. } = &ev
                && let Some(i) = store.timeline.find(src, app.key().unwrap())
            {
                let inst = &store.timeline.instances[i];
                checks.push((
                    inst.app_staged.clone(),
                    inst.app_current,
                    lifted.actions.iter().map(|a| a.id).collect(),
                    lifted.current_index,
                    last_command.clone(),
                ));
            }
            store.apply(SourceEvent::new(src, EventKind::Redux(ev)));
        }
    }
    checks
}

#[test]
fn mirror_of_the_app_history_predicts_its_states() {
    let mut store = Store::new(&StoreConfig::default());
    let src = store.add_source("relay", roomtap::protocols::redux::CLIENT, "ws://x");
    let checks = feed_monitor(&mut store, src, "jump-frames.jsonl");
    // STATE after JUMP_TO_ACTION (which roomtap does not send): the history
    // was predicted right even though the current index moved elsewhere.
    let after_jump_action = checks
        .iter()
        .find(|c| c.4 == "JUMP_TO_ACTION")
        .expect("a STATE after JUMP_TO_ACTION");
    assert_eq!(after_jump_action.0, after_jump_action.2);
    // After our JUMP_TO_STATE 5 and a TOGGLE, the app is at 5, as we tracked.
    let after_toggle = checks.iter().find(|c| c.4 == "TOGGLE_ACTION").unwrap();
    assert_eq!(after_toggle.0, after_toggle.2);
    assert_eq!(after_toggle.1, after_toggle.3, "tracked current index");
    assert_eq!(after_toggle.1, 5);
    // After COMMIT the list is rebuilt from the STATE: one entry.
    let inst = &store.timeline.instances[0];
    assert_eq!(inst.key, "prnvi3u41tf");
    assert!(inst.entries.len() <= 2, "{:?}", inst.entries.len());
}

#[test]
fn action_after_a_jump_has_an_unknown_state_and_marks_the_app_stale() {
    let mut store = Store::new(&StoreConfig::default());
    let src = store.add_source("relay", roomtap::protocols::redux::CLIENT, "ws://x");
    let recs = load("jump-frames.jsonl");
    // Feed up to (and including) the ACTION that follows JUMP_TO_STATE 1.
    let cut = recs
        .iter()
        .position(|r| r.frame.contains("JUMP_TO_ACTION"))
        .unwrap();
    for r in recs.iter().take(cut).filter(|r| r.conn == 1) {
        let f = codec::decode_frame(&r.frame).unwrap();
        if r.dir == "C>S" {
            if r.frame.contains("JUMP_TO_STATE") {
                store.apply(SourceEvent::new(
                    src,
                    EventKind::CommandSent(Command {
                        source: src,
                        kind: CommandKind::Redux(ReduxCommand::Dispatch {
                            instance: "prnvi3u41tf".into(),
                            action: LiftedAction::JumpToState { index: 1 },
                        }),
                    }),
                ));
            }
            continue;
        }
        let mut msgs = Vec::new();
        app_messages(&f, &mut msgs);
        for m in msgs {
            store.apply(SourceEvent::new(
                src,
                EventKind::Redux(codec::decode_app_message(&m).unwrap()),
            ));
        }
    }
    let inst = &store.timeline.instances[0];
    assert_eq!(inst.app_current, 1);
    assert_eq!(inst.current_id(), Some(1));
    let last = inst.entries.back().unwrap();
    assert_eq!(&*last.action_type, "ADD_TODO");
    assert!(
        last.state_raw.is_none(),
        "state of an action after a jump is unknown"
    );
    assert!(inst.stale);
}
