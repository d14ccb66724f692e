//! JSON paths, leaf text and the path diff between two JSON values: added,
//! removed and changed paths. A neutral leaf: the store summarises channel
//! state updates with it and the ui draws its rows.

use serde_json::Value;

use crate::text::sanitize_capped;

/// Longest leaf text shown before "… N bytes more".
pub const LEAF_CAP: usize = 240;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    String,
    Number,
    Literal,
    /// A jsan `{"$jsan": path}` reference (circular structure).
    Reference,
}

/// The path of a jsan `{"$jsan": path}` reference.
pub fn jsan_ref(v: &Value) -> Option<&str> {
    let o = v.as_object()?;
    if o.len() == 1 {
        o.get("$jsan")?.as_str()
    } else {
        None
    }
}

/// `parent.key`, or `parent["key"]` when the key is not a plain word.
pub fn child_path(parent: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if simple {
        format!("{parent}.{key}")
    } else {
        format!(
            "{parent}[{}]",
            serde_json::to_string(key).unwrap_or_default()
        )
    }
}

/// Text of a leaf value, sanitized and capped.
pub fn leaf_text(v: &Value) -> (LeafKind, String) {
    if let Some(r) = jsan_ref(v) {
        return (
            LeafKind::Reference,
            format!("↺ ref {}", sanitize_capped(r, LEAF_CAP)),
        );
    }
    match v {
        Value::String(s) => (
            LeafKind::String,
            format!(
                "\"{}\"",
                sanitize_capped(s, LEAF_CAP)
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
            ),
        ),
        Value::Number(n) => (LeafKind::Number, n.to_string()),
        Value::Bool(b) => (LeafKind::Literal, b.to_string()),
        Value::Null => (LeafKind::Literal, "null".into()),
        Value::Array(a) => (LeafKind::Literal, format!("[{} items]", a.len())),
        Value::Object(o) => (LeafKind::Literal, format!("{{{} keys}}", o.len())),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added(String),
    Removed(String),
    Changed(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    pub path: String,
    pub change: Change,
}

/// Paths that differ between `old` and `new` (added, removed, changed).
pub fn diff(old: &Value, new: &Value, max_rows: usize) -> Vec<DiffRow> {
    let mut out = Vec::new();
    diff_walk(old, new, "$".to_string(), max_rows, &mut out);
    out
}

fn diff_walk(old: &Value, new: &Value, path: String, max: usize, out: &mut Vec<DiffRow>) {
    if out.len() >= max || old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) if jsan_ref(old).is_none() => {
            for (k, va) in a {
                // Equal subtrees cost a comparison, not a path.
                match b.get(k) {
                    Some(vb) if vb == va => {}
                    Some(vb) => diff_walk(va, vb, child_path(&path, k), max, out),
                    None => out.push(DiffRow {
                        path: child_path(&path, k),
                        change: Change::Removed(leaf_text(va).1),
                    }),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) && out.len() < max {
                    out.push(DiffRow {
                        path: child_path(&path, k),
                        change: Change::Added(leaf_text(vb).1),
                    });
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let p = || format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(va), Some(vb)) if va == vb => {}
                    (Some(va), Some(vb)) => diff_walk(va, vb, p(), max, out),
                    (Some(va), None) => out.push(DiffRow {
                        path: p(),
                        change: Change::Removed(leaf_text(va).1),
                    }),
                    (None, Some(vb)) => out.push(DiffRow {
                        path: p(),
                        change: Change::Added(leaf_text(vb).1),
                    }),
                    (None, None) => {}
                }
                if out.len() >= max {
                    return;
                }
            }
        }
        _ => out.push(DiffRow {
            path,
            change: Change::Changed(leaf_text(old).1, leaf_text(new).1),
        }),
    }
}

/// [`diff`] on JSON texts, without parsing either whole: equal texts are
/// equal subtrees (a byte comparison), and only what differs is parsed a
/// level further (keys and values borrowed). The same rows as `diff` on
/// the parsed values; `None` when either text is not JSON.
pub fn diff_raw(old: &str, new: &str, max_rows: usize) -> Option<Vec<DiffRow>> {
    use serde::de::IgnoredAny;
    serde_json::from_str::<IgnoredAny>(old).ok()?;
    serde_json::from_str::<IgnoredAny>(new).ok()?;
    Some(diff_json_texts(old, new, max_rows))
}

/// [`diff_raw`] on texts already known to be JSON (checked once, where
/// they arrive).
pub fn diff_json_texts(old: &str, new: &str, max_rows: usize) -> Vec<DiffRow> {
    let mut out = Vec::new();
    raw_walk(old.trim(), new.trim(), "$".to_string(), max_rows, &mut out);
    out
}

/// Whether `text` is one JSON value (a scan, nothing built).
pub fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

type RawMap<'a> = std::collections::BTreeMap<&'a str, &'a serde_json::value::RawValue>;

fn raw_walk(old: &str, new: &str, path: String, max: usize, out: &mut Vec<DiffRow>) {
    if out.len() >= max || old == new {
        return;
    }
    let parsed = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
    match (old.as_bytes().first(), new.as_bytes().first()) {
        (Some(b'{'), Some(b'{')) => {
            let (Ok(a), Ok(b)) = (
                serde_json::from_str::<RawMap>(old),
                serde_json::from_str::<RawMap>(new),
            ) else {
                // Escaped keys cannot be borrowed: this subtree the slow way.
                diff_walk(&parsed(old), &parsed(new), path, max, out);
                return;
            };
            let is_ref = |m: &RawMap| m.len() == 1 && m.contains_key("$jsan");
            if is_ref(&a) || is_ref(&b) {
                diff_walk(&parsed(old), &parsed(new), path, max, out);
                return;
            }
            for (k, va) in &a {
                match b.get(k) {
                    Some(vb) if vb.get() == va.get() => {}
                    Some(vb) => raw_walk(va.get(), vb.get(), child_path(&path, k), max, out),
                    None => out.push(DiffRow {
                        path: child_path(&path, k),
                        change: Change::Removed(leaf_text(&parsed(va.get())).1),
                    }),
                }
                if out.len() >= max {
                    return;
                }
            }
            for (k, vb) in &b {
                if !a.contains_key(k) && out.len() < max {
                    out.push(DiffRow {
                        path: child_path(&path, k),
                        change: Change::Added(leaf_text(&parsed(vb.get())).1),
                    });
                }
            }
        }
        (Some(b'['), Some(b'[')) => {
            let (Ok(a), Ok(b)) = (
                serde_json::from_str::<Vec<&serde_json::value::RawValue>>(old),
                serde_json::from_str::<Vec<&serde_json::value::RawValue>>(new),
            ) else {
                diff_walk(&parsed(old), &parsed(new), path, max, out);
                return;
            };
            for i in 0..a.len().max(b.len()) {
                let p = || format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(va), Some(vb)) if va.get() == vb.get() => {}
                    (Some(va), Some(vb)) => raw_walk(va.get(), vb.get(), p(), max, out),
                    (Some(va), None) => out.push(DiffRow {
                        path: p(),
                        change: Change::Removed(leaf_text(&parsed(va.get())).1),
                    }),
                    (None, Some(vb)) => out.push(DiffRow {
                        path: p(),
                        change: Change::Added(leaf_text(&parsed(vb.get())).1),
                    }),
                    (None, None) => {}
                }
                if out.len() >= max {
                    return;
                }
            }
        }
        // Leaves, or containers of different kinds: compared as values
        // (`1.0` and `1` differ, as in `diff`; spacing does not).
        _ => diff_walk(&parsed(old), &parsed(new), path, max, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_added_removed_changed() {
        let a = json!({"count": 1, "todos": [], "gone": true});
        let b = json!({"count": 2, "todos": [{"t": 1}], "new": "x"});
        let d = diff(&a, &b, 100);
        assert!(d.contains(&DiffRow {
            path: "$.count".into(),
            change: Change::Changed("1".into(), "2".into())
        }));
        assert!(
            d.iter()
                .any(|r| r.path == "$.todos[0]" && matches!(r.change, Change::Added(_)))
        );
        assert!(
            d.iter()
                .any(|r| r.path == "$.gone" && matches!(r.change, Change::Removed(_)))
        );
        assert!(
            d.iter()
                .any(|r| r.path == "$.new" && matches!(r.change, Change::Added(_)))
        );
        assert!(diff(&a, &a, 100).is_empty());
        assert_eq!(diff_raw(&a.to_string(), &b.to_string(), 100), Some(d));
    }

    #[test]
    fn the_raw_diff_is_the_value_diff() {
        let cases = [
            (
                r#"{"a":1,"b":[1,2,{"c":3}]}"#,
                r#"{ "b" : [1, 2, {"c": 4, "d": null}], "a": 1 }"#,
            ),
            (r#"{"a":1.0}"#, r#"{"a":1}"#),
            (r#"[1,2,3]"#, r#"[1,2]"#),
            (r#"{"k\n":1,"x":{"y":[]}}"#, r#"{"k\n":2,"x":{"y":[true]}}"#),
            (r#"{"a":{"$jsan":"$"}}"#, r#"{"a":{"$jsan":"$.b"}}"#),
            (r#"{"a":[1]}"#, r#"{"a":{"0":1}}"#),
            (r#"{"a":1,"a":2}"#, r#"{"a":2}"#),
            ("1", "\"x\""),
        ];
        for (a, b) in cases {
            let va: Value = serde_json::from_str(a).unwrap();
            let vb: Value = serde_json::from_str(b).unwrap();
            assert_eq!(diff_raw(a, b, 100), Some(diff(&va, &vb, 100)), "{a} → {b}");
        }
        assert_eq!(diff_raw("{", "{}", 100), None);
    }
}
