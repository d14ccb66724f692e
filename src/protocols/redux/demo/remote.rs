//! The app side of `@redux-devtools/remote` 1.0.0, ported: what an app
//! tells the relay when its store changes, and how it obeys monitors.
//! Pure: messages in, messages (the `data` of `log` transmits) out.

use serde_json::{Value, json};

use super::instrument::{Instrument, Lifted};

/// One instrumented store and its remote-enhancer state.
#[derive(Debug, Clone)]
pub struct RemoteApp {
    pub store: Instrument,
    pub name: String,
    pub instance_id: String,
    /// The socket id the relay gave (`id` in every message).
    pub socket_id: Option<String>,
    monitored: bool,
    /// Absent on the first ACTION, then sticky (as the enhancer does).
    is_excess: Option<bool>,
    /// The last lifted action type seen by instrument's monitor reducer.
    last_action: Option<String>,
    paused: bool,
    locked: bool,
}

impl RemoteApp {
    pub fn new(store: Instrument, name: &str, instance_id: &str) -> Self {
        Self {
            store,
            name: name.to_string(),
            instance_id: instance_id.to_string(),
            socket_id: None,
            monitored: false,
            is_excess: None,
            last_action: None,
            paused: false,
            locked: false,
        }
    }

    pub fn is_monitored(&self) -> bool {
        self.monitored
    }

    fn base(&self, ty: &str) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("type".into(), json!(ty));
        if let Some(id) = &self.socket_id {
            m.insert("id".into(), json!(id));
        }
        m.insert("name".into(), json!(self.name));
        m.insert("instanceId".into(), json!(self.instance_id));
        m
    }

    /// `START`, sent right after login.
    pub fn start_message(&self) -> String {
        Value::Object(self.base("START")).to_string()
    }

    fn state_message(&self) -> String {
        let mut m = self.base("STATE");
        m.insert("payload".into(), json!(self.store.to_json()));
        Value::Object(m).to_string()
    }

    fn simple(&self, ty: &str, payload: Option<&str>) -> String {
        let mut m = self.base(ty);
        if let Some(p) = payload {
            m.insert("payload".into(), json!(p));
        }
        Value::Object(m).to_string()
    }

    /// The app dispatches one of its own actions.
    pub fn dispatch(&mut self, action: Value, now: u64) -> Result<Vec<String>, String> {
        let ran = self.store.dispatch(Lifted::Perform(action), now)?;
        Ok(self.changed(ran.then_some("PERFORM_ACTION")))
    }

    /// `handleChange`, called after every store change.
    fn changed(&mut self, monitor_saw: Option<&str>) -> Vec<String> {
        if let Some(t) = monitor_saw {
            self.last_action = Some(t.to_string());
        }
        if !self.monitored {
            return vec![];
        }
        // checkForReducerErrors: the current state failed → full STATE.
        if self.store.computed[self.store.current].error.is_some() {
            return vec![self.state_message()];
        }
        if self.last_action.as_deref() == Some("PERFORM_ACTION") {
            let next = self.store.next_action_id;
            let Some(lifted) = self.store.actions_by_id.get(&(next - 1)) else {
                return vec![];
            };
            let mut m = self.base("ACTION");
            m.insert("payload".into(), json!(self.store.state().to_string()));
            m.insert(
                "action".into(),
                json!(serde_json::to_string(lifted).unwrap_or_default()),
            );
            if let Some(e) = self.is_excess {
                m.insert("isExcess".into(), json!(e));
            }
            m.insert("nextActionId".into(), json!(next));
            if self.is_excess != Some(true)
                && let Some(max) = self.store.max_age
            {
                self.is_excess = Some(self.store.staged.len() >= max);
            }
            return vec![Value::Object(m).to_string()];
        }
        match self.last_action.as_deref() {
            Some("JUMP_TO_STATE") => return vec![],
            Some("PAUSE_RECORDING") => self.paused = self.store.paused,
            Some("LOCK_CHANGES") => self.locked = self.store.locked,
            _ => {}
        }
        if self.paused || self.locked {
            if self.last_action.is_some() {
                self.last_action = None;
            } else {
                return vec![];
            }
        }
        vec![self.state_message()]
    }

    /// A message from a monitor (the `data` of a `respond` publish).
    pub fn on_message(&mut self, msg: &Value, now: u64) -> Vec<String> {
        let ty = msg.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "START" => {
                self.monitored = true;
                vec![self.state_message()]
            }
            "UPDATE" => vec![self.state_message()],
            "STOP" | "DISCONNECTED" => {
                self.monitored = false;
                vec![self.simple("STOP", None)]
            }
            "DISPATCH" => {
                let lifted = msg
                    .get("action")
                    .ok_or_else(|| "DISPATCH without an action".to_string())
                    .and_then(Lifted::from_json);
                match lifted {
                    Ok(l) => {
                        let name = l.type_name().to_string();
                        match self.store.dispatch(l, now) {
                            Ok(ran) => self.changed(ran.then_some(name.as_str())),
                            Err(e) => vec![self.simple("ERROR", Some(&e))],
                        }
                    }
                    Err(e) => vec![self.simple("ERROR", Some(&e))],
                }
            }
            "ACTION" => {
                let action = match msg.get("action") {
                    Some(Value::String(src)) => eval_action(src),
                    Some(Value::Object(o)) if o.contains_key("type") => {
                        Ok(Value::Object(o.clone()))
                    }
                    Some(_) => Err("this app has no action creators".to_string()),
                    None => Err("ACTION without an action".to_string()),
                };
                match action.and_then(|a| self.dispatch(a, now)) {
                    Ok(out) => out,
                    Err(e) => vec![self.simple("ERROR", Some(&e))],
                }
            }
            "IMPORT" => self.import(msg, now),
            "SYNC" => {
                let from = msg.get("id").and_then(Value::as_str);
                if from.is_some() && from == self.socket_id.as_deref() {
                    vec![]
                } else {
                    self.import(msg, now)
                }
            }
            _ => vec![],
        }
    }

    fn import(&mut self, msg: &Value, now: u64) -> Vec<String> {
        let parsed = msg
            .get("state")
            .and_then(Value::as_str)
            .ok_or_else(|| "IMPORT without a state".to_string())
            .and_then(|s| serde_json::from_str::<Value>(s).map_err(|e| e.to_string()));
        let next = match parsed {
            Ok(v) => match v.get("payload").and_then(Value::as_str) {
                Some(p) => serde_json::from_str(p).unwrap_or(v),
                None => v,
            },
            Err(e) => return vec![self.simple("ERROR", Some(&e))],
        };
        match self.store.dispatch(Lifted::Import(next), now) {
            Ok(ran) => self.changed(ran.then_some("IMPORT_STATE")),
            Err(e) => vec![self.simple("ERROR", Some(&e))],
        }
    }
}

/// What `new Function('return ' + src)()` gives for the object literals
/// people type: JSON, or JavaScript with bare keys and single quotes.
pub fn eval_action(src: &str) -> Result<Value, String> {
    if let Ok(v) = serde_json::from_str::<Value>(src) {
        return check_action(v);
    }
    let mut out = String::with_capacity(src.len() + 16);
    let mut chars = src.chars().peekable();
    let mut expect_key = false;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                // A string: copy it, re-quoted with double quotes.
                out.push('"');
                let mut closed = false;
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            out.push('\\');
                            if let Some(e) = chars.next() {
                                out.push(e);
                            }
                        }
                        '"' if c == '\'' => out.push_str("\\\""),
                        d if d == c => {
                            closed = true;
                            break;
                        }
                        d => out.push(d),
                    }
                }
                if !closed {
                    return Err("Invalid or unexpected token".into());
                }
                out.push('"');
                expect_key = false;
            }
            '{' | ',' => {
                out.push(c);
                expect_key = true;
            }
            c if expect_key && (c.is_alphabetic() || c == '_' || c == '$') => {
                let mut key = String::from(c);
                while let Some(&d) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' || d == '$' {
                        key.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push('"');
                out.push_str(&key);
                out.push('"');
                expect_key = false;
            }
            c => {
                if !c.is_whitespace() {
                    expect_key = false;
                }
                out.push(c);
            }
        }
    }
    let v: Value = serde_json::from_str(&out).map_err(|e| format!("Unexpected token ({e})"))?;
    check_action(v)
}

fn check_action(v: Value) -> Result<Value, String> {
    if v.get("type").is_some() {
        Ok(v)
    } else {
        Err("Actions may not have an undefined \"type\" property.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_typed_as_javascript_evaluate() {
        for (src, want) in [
            (r#"{"type":"ADD","by":2}"#, json!({"type": "ADD", "by": 2})),
            (r#"{ type: "ADD", by: 2 }"#, json!({"type": "ADD", "by": 2})),
            (
                "{type:'SAY', text:'it\"s, {ok}'}",
                json!({"type": "SAY", "text": "it\"s, {ok}"}),
            ),
            (
                "{ type: 'NEST', p: { $a: [1, 'x'] } }",
                json!({"type": "NEST", "p": {"$a": [1, "x"]}}),
            ),
        ] {
            assert_eq!(eval_action(src), Ok(want), "{src}");
        }
        for bad in [r#"{ type: "INCREMENT", "#, "{ by: 1 }", "'unclosed", "42"] {
            assert!(eval_action(bad).is_err(), "{bad}");
        }
    }
}
