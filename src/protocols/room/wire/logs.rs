//! Developer log events → log lines, pure. `otel.log` events carry OTLP/JSON
//! logs (`resourceLogs[].scopeLogs[].logRecords[]`): one line per record,
//! with its time, level, body as text and attributes. Other types become one
//! line with their JSON data.

use serde_json::Value;

use crate::event::{Level, LogRecord};

/// One decoded line, with the record's own time when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct DevLine {
    pub at_ms: Option<u64>,
    pub record: LogRecord,
}

/// Longest summary built from data (the full JSON stays in `data`).
const SUMMARY_MAX: usize = 400;

/// Lines for one developer log event of type `ty`.
pub fn lines(ty: &str, data: &Value) -> Vec<DevLine> {
    if ty == "otel.log" {
        let out = otel_lines(data);
        if !out.is_empty() {
            return out;
        }
        return vec![DevLine {
            at_ms: None,
            record: LogRecord {
                level: Level::Debug,
                kind: "otel.log".into(),
                summary: "otel.log event with no log records".into(),
                data: Some(data.to_string()),
                bytes: None,
            },
        }];
    }
    let level = level_of_type(ty)
        .or_else(|| {
            ["level", "severity", "severityText"]
                .iter()
                .find_map(|k| data.get(*k).and_then(Value::as_str))
                .and_then(level_of_text)
        })
        .unwrap_or(Level::Info);
    let summary = match data.get("message").and_then(Value::as_str) {
        Some(m) => {
            let mut s = m.to_string();
            if let Some(o) = data.as_object() {
                for (k, v) in o.iter().filter(|(k, _)| k.as_str() != "message") {
                    if s.len() > SUMMARY_MAX {
                        break;
                    }
                    s.push_str(&format!(" {k}={}", compact(v)));
                }
            }
            s
        }
        None => compact(data),
    };
    vec![DevLine {
        at_ms: None,
        record: LogRecord {
            level,
            kind: ty.to_string(),
            summary: cap(summary),
            data: Some(data.to_string()),
            bytes: None,
        },
    }]
}

fn cap(mut s: String) -> String {
    if s.len() > SUMMARY_MAX {
        let mut cut = SUMMARY_MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn level_of_type(ty: &str) -> Option<Level> {
    match ty {
        "error" => Some(Level::Error),
        "warning" | "warn" => Some(Level::Warn),
        "info" => Some(Level::Info),
        "debug" => Some(Level::Debug),
        _ => None,
    }
}

fn level_of_text(t: &str) -> Option<Level> {
    let t = t.to_ascii_lowercase();
    Some(match t.as_str() {
        s if s.starts_with("trace") => Level::Trace,
        s if s.starts_with("debug") => Level::Debug,
        s if s.starts_with("info") => Level::Info,
        s if s.starts_with("warn") => Level::Warn,
        s if s.starts_with("err") || s.starts_with("fatal") || s.starts_with("crit") => {
            Level::Error
        }
        _ => return None,
    })
}

/// OTLP `severityNumber` (1–4 trace, 5–8 debug, 9–12 info, 13–16 warn,
/// 17–24 error/fatal).
fn level_of_number(n: i64) -> Option<Level> {
    Some(match n {
        1..=4 => Level::Trace,
        5..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        17..=24 => Level::Error,
        _ => return None,
    })
}

/// An OTLP AnyValue as text.
pub fn any_value(v: &Value) -> String {
    let Some(o) = v.as_object() else {
        return compact(v);
    };
    if let Some(s) = o.get("stringValue").and_then(Value::as_str) {
        return s.to_string();
    }
    if let Some(b) = o.get("boolValue") {
        return compact(b);
    }
    if let Some(i) = o.get("intValue") {
        return compact(i); // int64 travels as a string in OTLP/JSON
    }
    if let Some(d) = o.get("doubleValue") {
        return compact(d);
    }
    if let Some(b) = o.get("bytesValue") {
        return compact(b);
    }
    if let Some(a) = o.get("arrayValue") {
        let items: Vec<String> = a
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().map(any_value).collect())
            .unwrap_or_default();
        return format!("[{}]", items.join(", "));
    }
    if let Some(kv) = o.get("kvlistValue") {
        let items: Vec<String> = kv
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().map(kv_text).collect())
            .unwrap_or_default();
        return format!("{{{}}}", items.join(", "));
    }
    if o.is_empty() {
        return String::new();
    }
    v.to_string()
}

fn kv_text(kv: &Value) -> String {
    let k = kv.get("key").and_then(Value::as_str).unwrap_or("?");
    let v = kv.get("value").map(any_value).unwrap_or_default();
    format!("{k}={v}")
}

/// An OTLP `AnyValue` as the plain JSON value it stands for: `intValue`
/// (a string in OTLP/JSON) a number, `doubleValue` a number, `boolValue` a
/// boolean, `stringValue` and `bytesValue` a string, `arrayValue` an array,
/// `kvlistValue` an object.
fn typed(v: &Value) -> Value {
    let Some(o) = v.as_object() else {
        return v.clone();
    };
    if let Some(i) = o.get("intValue") {
        return match i {
            Value::String(s) => s
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(s.clone())),
            other => other.clone(),
        };
    }
    for k in ["doubleValue", "boolValue", "stringValue", "bytesValue"] {
        if let Some(x) = o.get(k) {
            return x.clone();
        }
    }
    if let Some(a) = o.get("arrayValue") {
        return Value::Array(arr(a, "values").iter().map(typed).collect());
    }
    if let Some(kv) = o.get("kvlistValue") {
        return Value::Object(attr_map(arr(kv, "values")));
    }
    v.clone()
}

/// OTLP key/value pairs as an object of typed values (the last of a
/// repeated key wins).
fn attr_map(kvs: &[Value]) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    for kv in kvs {
        if let Some(k) = kv.get("key").and_then(Value::as_str) {
            m.insert(k.to_string(), kv.get("value").map(typed).unwrap_or(Value::Null));
        }
    }
    m
}

/// An OTLP log record's data: the record with its `attributes` as an
/// object of typed values (`data.attributes.took_ms>100` selects by name
/// and type), the pairs as they came kept under `otlp_attributes`.
fn record_data(rec: &Value) -> String {
    let Some(o) = rec.as_object() else {
        return rec.to_string();
    };
    let mut o = o.clone();
    if let Some(raw) = o.remove("attributes") {
        let map = attr_map(raw.as_array().map(Vec::as_slice).unwrap_or(&[]));
        o.insert("attributes".into(), Value::Object(map));
        o.insert("otlp_attributes".into(), raw);
    }
    Value::Object(o).to_string()
}

fn attr<'a>(attrs: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    attrs?
        .as_array()?
        .iter()
        .find(|kv| kv.get("key").and_then(Value::as_str) == Some(key))?
        .get("value")
}

fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn otel_lines(data: &Value) -> Vec<DevLine> {
    let mut out = Vec::new();
    for rl in arr(data, "resourceLogs") {
        let rattrs = rl.get("resource").and_then(|r| r.get("attributes"));
        let service = attr(rattrs, "service.name").map(any_value);
        for sl in arr(rl, "scopeLogs") {
            let scope = sl
                .get("scope")
                .and_then(|s| s.get("name"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            for rec in arr(sl, "logRecords") {
                let level = rec
                    .get("severityNumber")
                    .and_then(Value::as_i64)
                    .and_then(level_of_number)
                    .or_else(|| {
                        rec.get("severityText")
                            .and_then(Value::as_str)
                            .and_then(level_of_text)
                    })
                    .unwrap_or(Level::Info);
                let mut summary = rec.get("body").map(any_value).unwrap_or_default();
                for kv in arr(rec, "attributes") {
                    if summary.len() > SUMMARY_MAX {
                        break;
                    }
                    if !summary.is_empty() {
                        summary.push(' ');
                    }
                    summary.push_str(&kv_text(kv));
                }
                let nanos = |k: &str| {
                    rec.get(k).and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.parse::<u64>().ok()))
                    })
                };
                let at_ms = nanos("timeUnixNano")
                    .or_else(|| nanos("observedTimeUnixNano"))
                    .filter(|n| *n > 0)
                    .map(|n| n / 1_000_000);
                let kind = service
                    .clone()
                    .or_else(|| scope.map(str::to_string))
                    .unwrap_or_else(|| "otel.log".into());
                out.push(DevLine {
                    at_ms,
                    record: LogRecord {
                        level,
                        kind,
                        summary: cap(summary),
                        data: Some(record_data(rec)),
                        bytes: None,
                    },
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn otel_records_become_lines_with_levels_and_times() {
        let data = json!({"resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "indexer"}}]},
            "scopeLogs": [{"scope": {"name": "meshagent.agents"}, "logRecords": [
                {"timeUnixNano": "1795344242881000000", "severityNumber": 17, "severityText": "ERROR",
                 "body": {"stringValue": "upstream timed out"},
                 "attributes": [{"key": "attempt", "value": {"intValue": "3"}},
                                {"key": "ok", "value": {"boolValue": false}}]},
                {"severityText": "warn", "body": {"kvlistValue": {"values": [{"key": "a", "value": {"doubleValue": 1.5}}]}}},
                {"body": {"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": 2}]}}}
            ]}]
        }]});
        let l = lines("otel.log", &data);
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].record.level, Level::Error);
        assert_eq!(l[0].record.kind, "indexer");
        assert_eq!(l[0].record.summary, "upstream timed out attempt=3 ok=false");
        assert_eq!(l[0].at_ms, Some(1795344242881));
        assert_eq!(l[1].record.level, Level::Warn);
        assert_eq!(l[1].record.summary, "{a=1.5}");
        assert_eq!(l[1].at_ms, None);
        assert_eq!(l[2].record.level, Level::Info);
        assert_eq!(l[2].record.summary, "[x, 2]");
        // The attributes by name, typed; the pairs as they came kept.
        let d: Value = serde_json::from_str(l[0].record.data.as_deref().unwrap()).unwrap();
        assert_eq!(d["attributes"], json!({"attempt": 3, "ok": false}));
        assert_eq!(d["otlp_attributes"][0]["value"]["intValue"], "3");
        assert_eq!(d["body"]["stringValue"], "upstream timed out");
    }

    #[test]
    fn otlp_values_become_plain_json() {
        let v = |x: Value| typed(&x);
        assert_eq!(v(json!({"intValue": "-42"})), json!(-42));
        assert_eq!(v(json!({"intValue": 7})), json!(7));
        assert_eq!(v(json!({"intValue": "99999999999999999999"})), json!("99999999999999999999"));
        assert_eq!(v(json!({"doubleValue": 1.5})), json!(1.5));
        assert_eq!(v(json!({"stringValue": "s"})), json!("s"));
        assert_eq!(
            v(json!({"arrayValue": {"values": [{"intValue": "1"}, {"boolValue": true}]}})),
            json!([1, true])
        );
        assert_eq!(
            v(json!({"kvlistValue": {"values": [{"key": "a", "value": {"doubleValue": 2.0}}]}})),
            json!({"a": 2.0})
        );
    }

    #[test]
    fn other_types_keep_their_json() {
        let l = lines("inspector.test", &json!({"hello": "world"}));
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].record.kind, "inspector.test");
        assert_eq!(l[0].record.summary, r#"{"hello":"world"}"#);
        let l = lines("error", &json!({"message": "boom", "extra": {"n": 1}}));
        assert_eq!(l[0].record.level, Level::Error);
        assert_eq!(l[0].record.summary, r#"boom extra={"n":1}"#);
        let l = lines("otel.log", &json!({"resourceLogs": []}));
        assert_eq!(l.len(), 1);
        assert!(l[0].record.summary.contains("no log records"));
        let l = lines("job", &json!({"level": "WARNING", "message": "slow"}));
        assert_eq!(l[0].record.level, Level::Warn);
        let long = "é".repeat(1000);
        let l = lines("x", &json!({ "message": long }));
        assert!(l[0].record.summary.len() <= SUMMARY_MAX + 4);
    }
}
