//! The demo's app side (instrument + remote enhancer port) replayed against
//! sessions captured from the real `@redux-devtools/remote` app: the same
//! actions and the same monitor commands must make it send the same
//! messages (STATE, ACTION, STOP…), in the same order, with the same
//! lifted states.

use std::path::PathBuf;

use roomtap::protocols::redux::demo::instrument::Instrument;
use roomtap::protocols::redux::demo::remote::RemoteApp;
use serde_json::{Value, json};

struct Rec {
    t: u64,
    conn: u64,
    to_server: bool,
    frame: Value,
}

fn capture(name: &str) -> Vec<Rec> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captures/redux")
        .join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|r| {
            let frame = serde_json::from_str(r.get("frame")?.as_str()?).ok()?;
            Some(Rec {
                t: r["t"].as_u64()?,
                conn: r["conn"].as_u64()?,
                to_server: r["dir"] == "C>S",
                frame,
            })
        })
        .collect()
}

/// The captured app's reducer (the research `app.mjs`).
fn reducer(state: Option<&Value>, action: &Value) -> Result<Value, String> {
    let mut s = state.cloned().unwrap_or_else(|| {
        json!({"count": 0, "todos": [], "meta": {
            "a": {"note": "same object referenced twice"},
            "b": {"note": "same object referenced twice"},
            "created": "1970-01-01T00:00:00.000Z"}})
    });
    match action["type"].as_str() {
        Some("INCREMENT") => {
            s["count"] = json!(s["count"].as_i64().unwrap() + action["by"].as_i64().unwrap_or(1))
        }
        Some("DECREMENT") => s["count"] = json!(s["count"].as_i64().unwrap() - 1),
        Some("ADD_TODO") => s["todos"]
            .as_array_mut()
            .unwrap()
            .push(json!({"text": action["text"], "done": false})),
        Some("THROW") => return Err("reducer failed on THROW".into()),
        _ => {}
    }
    Ok(s)
}

/// The captured app's n-th action (from 0).
fn script(n: u64) -> Value {
    if n % 3 == 2 {
        json!({"type": "ADD_TODO", "text": format!("todo {n}")})
    } else {
        json!({"type": "INCREMENT", "by": 1})
    }
}

/// Messages compared as values, with the times instrument takes from the
/// app's clock at restart (`@@INIT`) or pause (`@@PAUSED`) set to 0.
fn normalize(msg: &str) -> Value {
    let mut v: Value = serde_json::from_str(msg).unwrap();
    for k in ["payload", "action"] {
        if let Some(s) = v.get(k).and_then(Value::as_str) {
            let mut inner: Value = serde_json::from_str(s).unwrap_or(json!(s));
            if let Some(by_id) = inner.get_mut("actionsById").and_then(Value::as_object_mut) {
                for a in by_id.values_mut() {
                    let t = a["action"]["type"].as_str().unwrap_or("");
                    if t.starts_with("@@") {
                        a["timestamp"] = json!(0);
                    }
                }
            }
            v[k] = inner;
        }
    }
    v
}

fn replay(name: &str) -> usize {
    let recs = capture(name);
    // The app is the connection that logs in as "master".
    let app_conn = recs
        .iter()
        .find(|r| r.to_server && r.frame["event"] == "login" && r.frame["data"] == "master")
        .map(|r| r.conn)
        .expect("an app connection");
    let app_recs: Vec<&Rec> = recs.iter().filter(|r| r.conn == app_conn).collect();
    let logged: Vec<&Rec> = app_recs
        .iter()
        .copied()
        .filter(|r| r.to_server && r.frame["event"] == "log")
        .collect();
    let start = &logged[0].frame["data"];
    let first_state: Value = logged
        .iter()
        .find(|r| r.frame["data"]["type"] == "STATE")
        .map(|r| serde_json::from_str(r.frame["data"]["payload"].as_str().unwrap()).unwrap())
        .unwrap();
    let created = first_state["actionsById"]["0"]["timestamp"]
        .as_u64()
        .unwrap();
    let mut app = RemoteApp::new(
        Instrument::new(reducer, Some(30), created),
        start["name"].as_str().unwrap(),
        start["instanceId"].as_str().unwrap(),
    );
    app.socket_id = start["id"].as_str().map(str::to_string);

    // When did the app dispatch its n-th action? Fit a line through the
    // actions it reported (the others happened while paused or locked).
    let actions: Vec<(u64, Value)> = logged
        .iter()
        .filter(|r| r.frame["data"]["type"] == "ACTION")
        .map(|r| {
            let lifted: Value =
                serde_json::from_str(r.frame["data"]["action"].as_str().unwrap()).unwrap();
            (r.t, lifted)
        })
        .collect();
    let (t0, t_last) = (actions[0].0 as f64, actions.last().unwrap().0 as f64);
    let period = {
        // Reported actions carry ids; hidden ones shift later ids only
        // through the count, so use the wall-clock spacing of the first
        // two (the app dispatches on a fixed timer).
        let t1 = actions[1].0 as f64;
        t1 - t0
    };
    let n_at = |t: f64| ((t - t0) / period).round() as u64;
    assert!(n_at(t_last) >= actions.len() as u64 - 1);

    let mut ours = vec![app.start_message()];
    let mut next_n = 0u64;
    let dispatch_until = |app: &mut RemoteApp,
                          next_n: &mut u64,
                          last_n: u64,
                          ts: Option<u64>,
                          ours: &mut Vec<String>| {
        while *next_n <= last_n {
            let next_n_v = *next_n;
            let out = app
                .dispatch(
                    script(next_n_v),
                    if next_n_v == last_n {
                        ts.unwrap_or(0)
                    } else {
                        0
                    },
                )
                .unwrap();
            if next_n_v < last_n || ts.is_none() {
                // Dispatched while paused or locked: the app says nothing.
                assert!(
                    out.is_empty(),
                    "{name}: hidden action {next_n_v} was reported: {out:?}"
                );
            }
            ours.extend(out);
            *next_n += 1;
        }
    };
    for r in &app_recs {
        let ev = r.frame["event"].as_str().unwrap_or("");
        if r.to_server && ev == "log" && r.frame["data"]["type"] == "ACTION" {
            let lifted: Value =
                serde_json::from_str(r.frame["data"]["action"].as_str().unwrap()).unwrap();
            let n = n_at(r.t as f64);
            dispatch_until(
                &mut app,
                &mut next_n,
                n,
                lifted["timestamp"].as_u64(),
                &mut ours,
            );
        } else if !r.to_server && ev == "#publish" && r.frame["data"]["channel"] == "respond" {
            // Actions the app dispatched before this command arrived.
            let before = (r.t as f64 - t0) / period;
            // (The app stops after its last reported action.)
            let upto = (before.floor() as u64).min(n_at(t_last).saturating_sub(1));
            if before >= 0.0 && next_n <= upto {
                dispatch_until(&mut app, &mut next_n, upto, None, &mut ours);
            }
            let msg = &r.frame["data"]["data"];
            let now = msg["action"]["timestamp"].as_u64().unwrap_or(0);
            ours.extend(app.on_message(msg, now));
        }
    }
    let theirs: Vec<Value> = logged
        .iter()
        .map(|r| normalize(&r.frame["data"].to_string()))
        .collect();
    let ours: Vec<Value> = ours.iter().map(|m| normalize(m)).collect();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "{name}: message #{i} differs");
    }
    assert_eq!(ours.len(), theirs.len(), "{name}: message count");
    theirs.len()
}

#[test]
fn history_commands_match_the_real_app() {
    // TOGGLE, SWEEP, REORDER, SET_ACTIONS_ACTIVE, ROLLBACK, RESET, IMPORT.
    assert!(replay("history-frames.jsonl") >= 13);
}

#[test]
fn pause_and_lock_match_the_real_app() {
    // Paused: one STATE with @@PAUSED, silence, commit on resume.
    // Locked: actions ignored, STATE on lock and unlock.
    assert!(replay("pauselock-frames.jsonl") >= 12);
}

#[test]
fn errors_match_the_real_app() {
    // A bad expression and a throwing reducer give ERROR; history keeps
    // going with the next id.
    let recs = capture("errors-frames.jsonl");
    let msgs: Vec<&Value> = recs
        .iter()
        .filter(|r| !r.to_server && r.frame["data"]["channel"] == "respond")
        .map(|r| &r.frame["data"]["data"])
        .collect();
    let mut app = RemoteApp::new(Instrument::new(reducer, Some(30), 0), "counter", "x");
    app.on_message(&json!({"type": "START"}), 0);
    for n in 0..3 {
        app.dispatch(script(n), 1).unwrap();
    }
    let bad = msgs.iter().find(|m| m["type"] == "ACTION").unwrap();
    let out = app.on_message(bad, 2);
    assert_eq!(normalize(&out[0])["type"], "ERROR");
    let throw = app.on_message(
        &json!({"type": "ACTION", "action": "{ type: \"THROW\" }"}),
        3,
    );
    assert_eq!(normalize(&throw[0])["payload"], "reducer failed on THROW");
    let ok = app.on_message(
        &json!({"type": "ACTION", "action": "{ type: 'INCREMENT', by: 5 }"}),
        4,
    );
    let v = normalize(&ok[0]);
    assert_eq!(v["type"], "ACTION");
    assert_eq!(v["nextActionId"], 5, "the failed action took no id");
    assert_eq!(v["payload"]["count"], 7);
}
