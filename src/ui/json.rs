//! JSON view models: a collapsible tree flattened into rows (the path diff
//! between two states is `crate::jsondiff`, which the store uses too). Built when the selection changes, never per frame.

use std::collections::HashSet;

use serde_json::Value;

pub use crate::jsondiff::{Change, DiffRow, LEAF_CAP, LeafKind, diff, leaf_text};
use crate::jsondiff::{child_path, jsan_ref};
use crate::text::sanitize_capped;

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
    fn leaves_are_sanitized() {
        let (_, t) = leaf_text(&json!("\u{1b}[31mred"));
        assert!(!t.contains('\u{1b}'));
    }
}
