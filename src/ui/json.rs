//! JSON view models: a collapsible tree flattened into rows, and a path diff
//! between two states. Built when the selection changes, never per frame.

use std::collections::HashSet;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    Object { len: usize, collapsed: bool },
    Array { len: usize, collapsed: bool },
    Leaf { kind: LeafKind, text: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub depth: u16,
    /// Sanitized key ("count", "[0]"), empty for the root.
    pub key: String,
    /// JSONPath-like address ("$.todos[0].text").
    pub path: String,
    pub kind: RowKind,
}

fn jsan_ref(v: &Value) -> Option<&str> {
    let o = v.as_object()?;
    if o.len() == 1 {
        o.get("$jsan")?.as_str()
    } else {
        None
    }
}

fn child_path(parent: &str, key: &str) -> String {
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

/// Flatten `v` into rows, skipping the children of collapsed paths.
pub fn flatten(v: &Value, collapsed: &HashSet<String>, max_rows: usize) -> Vec<TreeRow> {
    let mut out = Vec::new();
    walk(v, "", "$".to_string(), 0, collapsed, max_rows, &mut out);
    out
}

fn walk(
    v: &Value,
    key: &str,
    path: String,
    depth: u16,
    collapsed: &HashSet<String>,
    max_rows: usize,
    out: &mut Vec<TreeRow>,
) {
    if out.len() >= max_rows {
        return;
    }
    let key = sanitize_capped(key, 80).into_owned();
    if jsan_ref(v).is_some() {
        let (kind, text) = leaf_text(v);
        out.push(TreeRow {
            depth,
            key,
            path,
            kind: RowKind::Leaf { kind, text },
        });
        return;
    }
    match v {
        Value::Object(o) => {
            let is_collapsed = collapsed.contains(&path);
            out.push(TreeRow {
                depth,
                key,
                path: path.clone(),
                kind: RowKind::Object {
                    len: o.len(),
                    collapsed: is_collapsed,
                },
            });
            if !is_collapsed {
                for (k, child) in o {
                    walk(
                        child,
                        k,
                        child_path(&path, k),
                        depth + 1,
                        collapsed,
                        max_rows,
                        out,
                    );
                }
            }
        }
        Value::Array(a) => {
            let is_collapsed = collapsed.contains(&path);
            out.push(TreeRow {
                depth,
                key,
                path: path.clone(),
                kind: RowKind::Array {
                    len: a.len(),
                    collapsed: is_collapsed,
                },
            });
            if !is_collapsed {
                for (i, child) in a.iter().enumerate() {
                    walk(
                        child,
                        &format!("[{i}]"),
                        format!("{path}[{i}]"),
                        depth + 1,
                        collapsed,
                        max_rows,
                        out,
                    );
                }
            }
        }
        other => {
            let (kind, text) = leaf_text(other);
            out.push(TreeRow {
                depth,
                key,
                path,
                kind: RowKind::Leaf { kind, text },
            });
        }
    }
}

/// Look a value up by a path produced by [`flatten`].
pub fn at_path<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    let mut rest = path.strip_prefix('$')?;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            if r.starts_with('"') {
                // Quoted key: find the closing quote of the JSON string.
                let mut end = 1;
                let bytes = r.as_bytes();
                while end < bytes.len() {
                    if bytes[end] == b'\\' {
                        end += 2;
                        continue;
                    }
                    if bytes[end] == b'"' {
                        break;
                    }
                    end += 1;
                }
                let key: String = serde_json::from_str(r.get(..=end)?).ok()?;
                cur = cur.get(&key)?;
                rest = r.get(end + 2..)?;
            } else {
                let end = r.find(']')?;
                let i: usize = r[..end].parse().ok()?;
                cur = cur.get(i)?;
                rest = &r[end + 1..];
            }
        } else {
            return None;
        }
    }
    Some(cur)
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
                let p = child_path(&path, k);
                match b.get(k) {
                    Some(vb) => diff_walk(va, vb, p, max, out),
                    None => out.push(DiffRow {
                        path: p,
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
                let p = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(va), Some(vb)) => diff_walk(va, vb, p, max, out),
                    (Some(va), None) => out.push(DiffRow {
                        path: p,
                        change: Change::Removed(leaf_text(va).1),
                    }),
                    (None, Some(vb)) => out.push(DiffRow {
                        path: p,
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
    fn flatten_respects_collapse_and_refs() {
        let v = json!({"a": {"b": 1}, "c": [true, null], "self": {"$jsan": "$"}});
        let rows = flatten(&v, &HashSet::new(), 100);
        let paths: Vec<_> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            ["$", "$.a", "$.a.b", "$.c", "$.c[0]", "$.c[1]", "$.self"]
        );
        assert!(matches!(
            &rows[6].kind,
            RowKind::Leaf { kind: LeafKind::Reference, text } if text == "↺ ref $"
        ));
        let collapsed: HashSet<String> = ["$.a".to_string()].into();
        assert_eq!(flatten(&v, &collapsed, 100).len(), 6);
    }

    #[test]
    fn paths_round_trip() {
        let v = json!({"a b": {"x": [1, {"y": "z"}]}});
        for r in flatten(&v, &HashSet::new(), 100) {
            assert!(at_path(&v, &r.path).is_some(), "{}", r.path);
        }
        assert_eq!(at_path(&v, "$[\"a b\"].x[1].y"), Some(&json!("z")));
    }

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

    #[test]
    fn leaves_are_sanitized() {
        let (_, t) = leaf_text(&json!("\u{1b}[31mred"));
        assert!(!t.contains('\u{1b}'));
    }
}
