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
    }
}
