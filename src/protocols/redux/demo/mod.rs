//! `roomtap demo`: simulated apps that speak the app side of the Redux
//! DevTools remote protocol, so every pane is alive with no external service.
//!
//! - [`instrument`]: the lifted store of `@redux-devtools/instrument`
//!   (history, skip, sweep, reorder, commit, rollback, reset, pause, lock,
//!   `maxAge`), recomputing real states with a real reducer;
//! - [`remote`]: what `@redux-devtools/remote` sends and how it obeys;
//! - [`client`]: the SocketCluster client around it, in-process or over a
//!   WebSocket;
//! - here: two small apps (a shop and a chat) and their scripted users.

pub mod client;
pub mod instrument;
pub mod remote;

use serde_json::{Value, json};

use client::{AppConfig, DemoApp, Link};
use fastrand::Rng;
use instrument::Instrument;
use remote::RemoteApp;

/// `@redux-devtools/remote`'s default history length.
pub const MAX_AGE: usize = 30;

fn obj(state: Option<&Value>, init: fn() -> Value) -> serde_json::Map<String, Value> {
    match state {
        Some(Value::Object(m)) => m.clone(),
        _ => match init() {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
    }
}

fn shop_initial() -> Value {
    json!({
        "user": {"name": "ada", "signedIn": true},
        "cart": {"items": [], "totalCents": 0},
        "coupon": null,
        "orders": 0
    })
}

/// A shop: a cart, coupons and checkouts. Throws on `THROW`, so a
/// reducer error can be shown on demand.
pub fn shop_reducer(state: Option<&Value>, action: &Value) -> Result<Value, String> {
    let mut s = obj(state, shop_initial);
    let ty = action.get("type").and_then(Value::as_str).unwrap_or("");
    let mut items: Vec<Value> = s
        .get("cart")
        .and_then(|c| c.get("items"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let sku = action.get("sku").cloned().unwrap_or(Value::Null);
    match ty {
        "ADD_ITEM" => {
            let qty = action.get("qty").and_then(Value::as_i64).unwrap_or(1);
            match items.iter_mut().find(|i| i.get("sku") == Some(&sku)) {
                Some(i) => {
                    let q = i.get("qty").and_then(Value::as_i64).unwrap_or(0) + qty;
                    i["qty"] = json!(q);
                }
                None => items.push(json!({
                    "sku": sku,
                    "name": action.get("name").cloned().unwrap_or(Value::Null),
                    "qty": qty,
                    "priceCents": action.get("priceCents").cloned().unwrap_or(json!(0)),
                })),
            }
        }
        "REMOVE_ITEM" => items.retain(|i| i.get("sku") != Some(&sku)),
        "APPLY_COUPON" => {
            s.insert(
                "coupon".into(),
                json!({"code": action.get("code"), "percent": action.get("percent")}),
            );
        }
        "CHECKOUT" => {
            if items.is_empty() {
                return Ok(Value::Object(s));
            }
            items.clear();
            let orders = s.get("orders").and_then(Value::as_i64).unwrap_or(0);
            s.insert("orders".into(), json!(orders + 1));
            s.insert("coupon".into(), Value::Null);
        }
        "THROW" => return Err("reducer failed on THROW".into()),
        _ => return Ok(Value::Object(s)),
    }
    let gross: i64 = items
        .iter()
        .map(|i| {
            i.get("qty").and_then(Value::as_i64).unwrap_or(0)
                * i.get("priceCents").and_then(Value::as_i64).unwrap_or(0)
        })
        .sum();
    let percent = s
        .get("coupon")
        .and_then(|c| c.get("percent"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    s.insert(
        "cart".into(),
        json!({"items": items, "totalCents": gross * (100 - percent) / 100}),
    );
    Ok(Value::Object(s))
}

/// What a shopper does next.
pub fn shop_script(rng: &mut Rng, n: u64) -> Value {
    const PRODUCTS: [(&str, &str, i64); 5] = [
        ("tea-01", "Sencha tea", 1250),
        ("mug-02", "Stoneware mug", 1800),
        ("pot-03", "Cast-iron teapot", 5400),
        ("kettle-04", "Gooseneck kettle", 7900),
        ("cups-05", "Tasting cups (4)", 2200),
    ];
    let (sku, name, price) = *rng.choice(&PRODUCTS).expect("not empty");
    match (n % 9, rng.u64(0..=9)) {
        (0, _) => json!({"type": "CHECKOUT"}),
        (4, _) => json!({"type": "APPLY_COUPON", "code": "SPRING10", "percent": 10}),
        (_, 0..=1) => json!({"type": "REMOVE_ITEM", "sku": sku}),
        _ => json!({
            "type": "ADD_ITEM", "sku": sku, "name": name,
            "priceCents": price, "qty": rng.u64(1..=3)
        }),
    }
}

fn chat_initial() -> Value {
    json!({"room": "general", "messages": [], "typing": [], "unread": 0})
}

/// A chat room: messages (the last 20 kept), who is typing, unread count.
pub fn chat_reducer(state: Option<&Value>, action: &Value) -> Result<Value, String> {
    let mut s = obj(state, chat_initial);
    let ty = action.get("type").and_then(Value::as_str).unwrap_or("");
    let list = |s: &serde_json::Map<String, Value>, k: &str| -> Vec<Value> {
        s.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    match ty {
        "RECEIVE_MESSAGE" | "SEND_MESSAGE" => {
            let mut msgs = list(&s, "messages");
            let from = if ty == "SEND_MESSAGE" {
                json!("me")
            } else {
                action.get("from").cloned().unwrap_or(Value::Null)
            };
            let id = msgs
                .last()
                .and_then(|m| m.get("id"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
                + 1;
            msgs.push(json!({"id": id, "from": from, "text": action.get("text")}));
            if msgs.len() > 20 {
                msgs.remove(0);
            }
            s.insert("messages".into(), json!(msgs));
            let typing: Vec<Value> = list(&s, "typing")
                .into_iter()
                .filter(|u| *u != from)
                .collect();
            s.insert("typing".into(), json!(typing));
            if ty == "RECEIVE_MESSAGE" {
                let unread = s.get("unread").and_then(Value::as_u64).unwrap_or(0);
                s.insert("unread".into(), json!(unread + 1));
            }
        }
        "SET_TYPING" => {
            let user = action.get("user").cloned().unwrap_or(Value::Null);
            let mut typing: Vec<Value> = list(&s, "typing")
                .into_iter()
                .filter(|u| *u != user)
                .collect();
            if action.get("typing").and_then(Value::as_bool) == Some(true) {
                typing.push(user);
            }
            s.insert("typing".into(), json!(typing));
        }
        "MARK_READ" => {
            s.insert("unread".into(), json!(0));
        }
        "THROW" => return Err("reducer failed on THROW".into()),
        _ => {}
    }
    Ok(Value::Object(s))
}

/// What the people in the chat do next.
pub fn chat_script(rng: &mut Rng, n: u64) -> Value {
    const PEOPLE: [&str; 3] = ["grace", "linus", "margaret"];
    const LINES: [&str; 6] = [
        "deploy is green",
        "who broke the build?",
        "lunch at noon?",
        "PR #42 needs a review",
        "the relay is fast now",
        "rolling back, one sec",
    ];
    let who = *rng.choice(&PEOPLE).expect("not empty");
    match (n % 7, rng.u64(0..=5)) {
        (0, _) => json!({"type": "MARK_READ"}),
        (_, 0) => json!({"type": "SET_TYPING", "user": who, "typing": true}),
        (_, 1) => json!({"type": "SEND_MESSAGE", "text": *rng.choice(&LINES).expect("not empty")}),
        _ => json!({"type": "RECEIVE_MESSAGE", "from": who, "text": *rng.choice(&LINES).expect("not empty")}),
    }
}

/// A random-looking instance id, as the enhancer makes them.
fn instance_id(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..11)
        .map(|_| ALPHABET[(rng.u64(..) % 36) as usize] as char)
        .collect()
}

/// The demo's apps: a shop and a chat, acting every 0.6–2 s.
pub fn spawn_apps(link: Link, seed: u64) -> Vec<DemoApp> {
    let mut rng = Rng::with_seed(seed);
    let now = crate::event::now_ms();
    let apps: [(&str, instrument::Reducer, client::Script); 2] = [
        ("shop", shop_reducer, shop_script),
        ("chat", chat_reducer, chat_script),
    ];
    apps.into_iter()
        .map(|(name, reducer, script)| {
            let app = RemoteApp::new(
                Instrument::new(reducer, Some(MAX_AGE), now),
                name,
                &instance_id(&mut rng),
            );
            client::spawn(AppConfig {
                link: link.clone(),
                app,
                script,
                pace_ms: Some((600, 2000)),
                seed: rng.u64(..),
            })
        })
        .collect()
}

/// `roomtap demo`'s Redux part: roomtap's relay (a free port if 8000 is
/// taken, unless --redux-port) with the shop and the chat beside it.
pub fn sources(
    flags: &super::Flags,
    shared: crate::source::Shared,
    seed: u64,
) -> Result<Vec<Box<dyn crate::source::Source>>, String> {
    let mut relay = flags.embedded(shared).then(move |r, started| {
        let link = Link::Local(super::server::local_connector(r));
        started.keep.push(Box::new(spawn_apps(link, seed)));
    });
    relay.any_port = !flags.port_given();
    Ok(vec![Box::new(relay)])
}

