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

/// [`diff`] on JSON texts: both indexed in one pass each and compared
/// by their bytes first (only differing leaves are parsed); the same rows
/// as `diff` on the parsed values; `None` when either text is not JSON.
pub fn diff_raw(old: &str, new: &str, max_rows: usize) -> Option<Vec<DiffRow>> {
    if let (Some(a), Some(b)) = (Index::build(old), Index::build(new)) {
        return Some(diff_indexed(old, &a, new, &b, max_rows));
    }
    // Too deep to index (or not JSON): the values themselves.
    let a: Value = serde_json::from_str(old).ok()?;
    let b: Value = serde_json::from_str(new).ok()?;
    Some(diff(&a, &b, max_rows))
}

/// [`diff_raw`] on texts already known to be JSON (checked once, where
/// they arrive); no rows when one is not.
pub fn diff_json_texts(old: &str, new: &str, max_rows: usize) -> Vec<DiffRow> {
    diff_raw(old, new, max_rows).unwrap_or_default()
}

/// Whether `text` is one JSON value (a scan, nothing built).
pub fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// A JSON text's structure, built in one pass: every container's members
/// and items as byte ranges of the text. Kept beside a state so that the
/// next state is diffed against it without walking the old text again.
#[derive(Debug, Clone)]
pub struct Index {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(u32, u32),
    /// Members sorted by key, the last of duplicate keys kept.
    Obj(u32, u32, Vec<(Key, Node)>),
    Arr(u32, u32, Vec<Node>),
}

#[derive(Debug, Clone)]
enum Key {
    /// A key without escapes: its bytes in the text.
    Span(u32, u32),
    Owned(Box<str>),
}

/// serde_json's nesting limit: deeper texts are not indexed.
const MAX_DEPTH: usize = 128;

impl Node {
    fn span(&self) -> (usize, usize) {
        match *self {
            Node::Leaf(a, b) | Node::Obj(a, b, _) | Node::Arr(a, b, _) => (a as usize, b as usize),
        }
    }
    fn text<'a>(&self, t: &'a str) -> &'a str {
        let (a, b) = self.span();
        &t[a..b]
    }
}

impl Key {
    fn get<'a>(&'a self, t: &'a str) -> &'a str {
        match self {
            Key::Span(a, b) => &t[*a as usize..*b as usize],
            Key::Owned(k) => k,
        }
    }
}

impl Index {
    /// Index `text`, which must be JSON (checked where it arrives); `None`
    /// when it is not as expected (too deep, too big, not JSON).
    pub fn build(text: &str) -> Option<Index> {
        if text.len() >= u32::MAX as usize {
            return None;
        }
        let b = text.as_bytes();
        let (root, end) = index_value(text, b, ws(b, 0), 0)?;
        (ws(b, end) == b.len()).then_some(Index { root })
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
    {
        i += 1;
    }
    i
}

fn index_value(t: &str, b: &[u8], i: usize, depth: usize) -> Option<(Node, usize)> {
    match *b.get(i)? {
        b'{' => {
            if depth + 1 >= MAX_DEPTH {
                return None;
            }
            let mut members: Vec<(Key, Node)> = Vec::new();
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b'}') {
                return Some((Node::Obj(i as u32, j as u32 + 1, members), j + 1));
            }
            loop {
                let (kend, escaped) = crate::scan::string_end(b, j)?;
                let key = if escaped {
                    Key::Owned(serde_json::from_str::<String>(&t[j..kend]).ok()?.into())
                } else {
                    Key::Span(j as u32 + 1, kend as u32 - 1)
                };
                j = ws(b, kend);
                if b.get(j) != Some(&b':') {
                    return None;
                }
                let (v, vend) = index_value(t, b, ws(b, j + 1), depth + 1)?;
                members.push((key, v));
                j = ws(b, vend);
                match b.get(j)? {
                    b',' => j = ws(b, j + 1),
                    b'}' => break,
                    _ => return None,
                }
            }
            // Stable: among equal keys the last stays last, and is kept.
            if !members.is_sorted_by(|x, y| x.0.get(t) < y.0.get(t)) {
                members.sort_by(|x, y| x.0.get(t).cmp(y.0.get(t)));
                if members.windows(2).any(|w| w[0].0.get(t) == w[1].0.get(t)) {
                    let mut out: Vec<(Key, Node)> = Vec::with_capacity(members.len());
                    for m in members {
                        match out.last_mut() {
                            Some(last) if last.0.get(t) == m.0.get(t) => *last = m,
                            _ => out.push(m),
                        }
                    }
                    members = out;
                }
            }
            Some((Node::Obj(i as u32, j as u32 + 1, members), j + 1))
        }
        b'[' => {
            if depth + 1 >= MAX_DEPTH {
                return None;
            }
            let mut items = Vec::new();
            let mut j = ws(b, i + 1);
            if b.get(j) == Some(&b']') {
                return Some((Node::Arr(i as u32, j as u32 + 1, items), j + 1));
            }
            loop {
                let (v, vend) = index_value(t, b, j, depth + 1)?;
                items.push(v);
                j = ws(b, vend);
                match b.get(j)? {
                    b',' => j = ws(b, j + 1),
                    b']' => break,
                    _ => return None,
                }
            }
            Some((Node::Arr(i as u32, j as u32 + 1, items), j + 1))
        }
        b'"' => {
            let (end, _) = crate::scan::string_end(b, i)?;
            Some((Node::Leaf(i as u32, end as u32), end))
        }
        _ => {
            let end = crate::scan::value_end(b, i)?;
            Some((Node::Leaf(i as u32, end as u32), end))
        }
    }
}

/// [`diff`] of two indexed JSON texts: equal texts are equal subtrees (a
/// byte comparison); only differing leaves are parsed.
pub fn diff_indexed(old: &str, oi: &Index, new: &str, ni: &Index, max_rows: usize) -> Vec<DiffRow> {
    let mut out = Vec::new();
    index_walk(
        old,
        &oi.root,
        new,
        &ni.root,
        "$".to_string(),
        max_rows,
        &mut out,
    );
    out
}

fn is_ref(t: &str, n: &Node) -> bool {
    matches!(n, Node::Obj(_, _, m) if m.len() == 1 && m[0].0.get(t) == "$jsan")
}

fn index_walk(
    ot: &str,
    o: &Node,
    nt: &str,
    n: &Node,
    path: String,
    max: usize,
    out: &mut Vec<DiffRow>,
) {
    if out.len() >= max || o.text(ot) == n.text(nt) {
        return;
    }
    let parsed =
        |t: &str, x: &Node| serde_json::from_str::<Value>(x.text(t)).unwrap_or(Value::Null);
    match (o, n) {
        (Node::Obj(_, _, a), Node::Obj(_, _, b)) if !is_ref(ot, o) && !is_ref(nt, n) => {
            // Both sorted by key: one merge. The old side's rows come in
            // key order, then what only the new side has (as `diff`).
            let (mut i, mut j) = (0, 0);
            let mut added = Vec::new();
            while i < a.len() || j < b.len() {
                let ord = match (a.get(i), b.get(j)) {
                    (Some(x), Some(y)) => x.0.get(ot).cmp(y.0.get(nt)),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    _ => std::cmp::Ordering::Greater,
                };
                match ord {
                    std::cmp::Ordering::Equal => {
                        let k = a[i].0.get(ot);
                        if a[i].1.text(ot) != b[j].1.text(nt) {
                            index_walk(ot, &a[i].1, nt, &b[j].1, child_path(&path, k), max, out);
                        }
                        i += 1;
                        j += 1;
                    }
                    std::cmp::Ordering::Less => {
                        out.push(DiffRow {
                            path: child_path(&path, a[i].0.get(ot)),
                            change: Change::Removed(leaf_text(&parsed(ot, &a[i].1)).1),
                        });
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        added.push(j);
                        j += 1;
                    }
                }
                if out.len() >= max {
                    return;
                }
            }
            for j in added {
                if out.len() >= max {
                    return;
                }
                out.push(DiffRow {
                    path: child_path(&path, b[j].0.get(nt)),
                    change: Change::Added(leaf_text(&parsed(nt, &b[j].1)).1),
                });
            }
        }
        (Node::Arr(_, _, a), Node::Arr(_, _, b)) => {
            for i in 0..a.len().max(b.len()) {
                let p = || format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(va), Some(vb)) => index_walk(ot, va, nt, vb, p(), max, out),
                    (Some(va), None) => out.push(DiffRow {
                        path: p(),
                        change: Change::Removed(leaf_text(&parsed(ot, va)).1),
                    }),
                    (None, Some(vb)) => out.push(DiffRow {
                        path: p(),
                        change: Change::Added(leaf_text(&parsed(nt, vb)).1),
                    }),
                    (None, None) => {}
                }
                if out.len() >= max {
                    return;
                }
            }
        }
        _ => diff_walk(&parsed(ot, o), &parsed(nt, n), path, max, out),
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
            let want = diff(&va, &vb, 100);
            assert_eq!(diff_raw(a, b, 100), Some(want.clone()), "{a} → {b}");
            let (ia, ib) = (Index::build(a).unwrap(), Index::build(b).unwrap());
            assert_eq!(diff_indexed(a, &ia, b, &ib, 100), want, "indexed {a} → {b}");
        }
        // Random documents and random edits of them: the indexed diff is
        // the value diff, row for row.
        let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
        let mut rnd = |n: u64| rng.u64(..n);
        fn doc(r: &mut dyn FnMut(u64) -> u64, depth: u32) -> Value {
            match if depth > 3 { r(4) } else { r(6) } {
                0 => Value::Null,
                1 => json!(r(5)),
                2 => json!(["a", "b", "c\"q"][r(3) as usize]),
                3 => json!(r(2) == 0),
                4 => Value::Array((0..r(4)).map(|_| doc(r, depth + 1)).collect()),
                _ => Value::Object(
                    (0..r(5))
                        .map(|_| {
                            (
                                ["k", "x", "y\u{e9}", "z z", "q\"k"][r(5) as usize].to_string(),
                                doc(r, depth + 1),
                            )
                        })
                        .collect(),
                ),
            }
        }
        for _ in 0..2000 {
            let a = doc(&mut rnd, 0);
            let b = if rnd(3) == 0 {
                doc(&mut rnd, 0)
            } else {
                let mut b = a.clone();
                if let Value::Object(m) = &mut b {
                    m.insert("k".into(), doc(&mut rnd, 2));
                }
                b
            };
            let (ta, tb) = (a.to_string(), b.to_string());
            let (ia, ib) = (Index::build(&ta).unwrap(), Index::build(&tb).unwrap());
            assert_eq!(
                diff_indexed(&ta, &ia, &tb, &ib, 1000),
                diff(&a, &b, 1000),
                "{ta} → {tb}"
            );
        }
        // As deep as serde builds values, and no deeper.
        for n in [126, 127, 128, 129] {
            let t = format!("{}{}", "[".repeat(n), "]".repeat(n));
            let serde_ok = serde_json::from_str::<Value>(&t).is_ok();
            assert_eq!(Index::build(&t).is_some(), serde_ok, "depth {n}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(Index::build(&deep).is_none(), "deeper than serde reads");
        assert!(Index::build("[1,]").is_none());
        assert_eq!(diff_raw("{", "{}", 100), None);
    }
}
