//! Finding a value by path in raw JSON text without parsing the rest: keys
//! are compared as they are met and every other value is skipped with the
//! relay codec's scanner (`sources::relay::scan`), so `data.user.id` on a
//! 200-byte object costs about one pass over the bytes before it.

use crate::scan;

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A JSON value found in raw text, still raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found<'a> {
    /// The string's contents between the quotes, still escaped.
    Str(&'a str),
    /// A number, `true`, `false` or `null` as written.
    Scalar(&'a str),
    /// An object or array, brackets included.
    Container(&'a str),
}

impl<'a> Found<'a> {
    /// The value as text: strings unescaped, anything else as written.
    pub fn text(&self) -> std::borrow::Cow<'a, str> {
        match *self {
            Found::Str(s) if !s.contains('\\') => std::borrow::Cow::Borrowed(s),
            Found::Str(s) => std::borrow::Cow::Owned(
                serde_json::from_str::<String>(&format!("\"{s}\"")).unwrap_or_else(|_| s.into()),
            ),
            Found::Scalar(s) | Found::Container(s) => std::borrow::Cow::Borrowed(s),
        }
    }

    /// The value as a number (strings holding a number count too).
    pub fn number(&self) -> Option<f64> {
        match self {
            Found::Scalar(s) | Found::Str(s) => s.trim().parse().ok(),
            Found::Container(_) => None,
        }
    }
}

/// JSON text with its string escapes resolved (`\"` → `"`, `\u00eb` →
/// `ë`, ...), structure kept: what a word search should see.
pub fn unescape_all(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    // What lies between backslashes is copied whole.
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        rest = unescape_one(&rest[at + 1..], &mut out);
    }
    out.push_str(rest);
    out
}

/// The escape at the start of `after` (what follows a backslash) undone
/// into `out`; what is left after it.
fn unescape_one<'a>(after: &'a str, out: &mut String) -> &'a str {
    let mut it = after.chars();
    match it.next() {
        Some('n') => out.push('\n'),
        Some('t') => out.push('\t'),
        Some('r') => out.push('\r'),
        Some('b') => out.push('\u{8}'),
        Some('f') => out.push('\u{c}'),
        Some('u') => {
            let hex: String = (0..4).filter_map(|_| it.next()).collect();
            let mut code = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
            // A surrogate pair: \uD83D\uDE00.
            if (0xd800..0xdc00).contains(&code) {
                let mut look = it.clone();
                if look.next() == Some('\\') && look.next() == Some('u') {
                    let low: String = (0..4).filter_map(|_| look.next()).collect();
                    if let Ok(l) = u32::from_str_radix(&low, 16)
                        && (0xdc00..0xe000).contains(&l)
                    {
                        code = 0x10000 + ((code - 0xd800) << 10) + (l - 0xdc00);
                        it = look;
                    }
                }
            }
            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
        }
        Some(o) => out.push(o),
        None => out.push('\\'),
    }
    it.as_str()
}

/// The value at `path` in `json`, or `None` (missing, or not JSON).
pub fn find<'a>(json: &'a str, path: &[Seg]) -> Option<Found<'a>> {
    let b = json.as_bytes();
    let mut i = ws(b, 0);
    for seg in path {
        match (seg, b.get(i)?) {
            (Seg::Key(k), b'{') => i = find_key(b, json, i, k)?,
            (Seg::Index(n), b'[') => i = find_index(b, i, *n)?,
            _ => return None,
        }
    }
    let end = scan::value_end(b, i)?;
    let raw = json.get(i..end)?;
    Some(match b[i] {
        b'"' => Found::Str(&raw[1..raw.len() - 1]),
        b'{' | b'[' => Found::Container(raw),
        _ => Found::Scalar(raw),
    })
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// `i` at `{`: the start of the value under `key`.
fn find_key(b: &[u8], json: &str, mut i: usize, key: &str) -> Option<usize> {
    i += 1;
    loop {
        i = ws(b, i);
        match b.get(i)? {
            b'}' => return None,
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let kend = skip_string(b, i)?;
        let raw = &json[i + 1..kend - 1];
        let hit = if raw.contains('\\') {
            serde_json::from_str::<String>(&json[i..kend]).ok()? == key
        } else {
            raw == key
        };
        i = ws(b, kend);
        if *b.get(i)? != b':' {
            return None;
        }
        i = ws(b, i + 1);
        if hit {
            return Some(i);
        }
        i = scan::value_end(b, i)?;
    }
}

/// `i` at `[`: the start of element `n`.
fn find_index(b: &[u8], mut i: usize, n: usize) -> Option<usize> {
    i = ws(b, i + 1);
    if *b.get(i)? == b']' {
        return None;
    }
    for _ in 0..n {
        i = scan::value_end(b, i)?;
        i = ws(b, i);
        if *b.get(i)? != b',' {
            return None;
        }
        i = ws(b, i + 1);
    }
    Some(i)
}

/// `i` at `"`: the index after the closing quote (the relay's scanner).
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    scan::string_end(b, i).map(|(end, _)| end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn finds_nested_values_and_skips_the_rest() {
        let j = r#"{"a": {"x": "}]\"{", "arr": [1, {"b": [2, 3]}]}, "user": {"id": 42, "name": "Zoë \"z\""}, "ok": true}"#;
        assert_eq!(find(j, &[k("user"), k("id")]), Some(Found::Scalar("42")));
        assert_eq!(
            find(j, &[k("user"), k("name")]).unwrap().text(),
            "Zoë \"z\""
        );
        assert_eq!(find(j, &[k("ok")]), Some(Found::Scalar("true")));
        assert_eq!(
            find(j, &[k("a"), k("arr"), Seg::Index(1), k("b"), Seg::Index(1)]),
            Some(Found::Scalar("3"))
        );
        assert_eq!(
            find(j, &[k("a"), k("arr")]),
            Some(Found::Container(r#"[1, {"b": [2, 3]}]"#))
        );
        assert_eq!(find(j, &[k("missing")]), None);
        assert_eq!(find(j, &[k("a"), k("arr"), Seg::Index(5)]), None);
        assert_eq!(find(j, &[k("user"), k("id"), k("deeper")]), None);
        assert_eq!(
            find(r#"{"k\u0065y": 1}"#, &[k("key")]),
            Some(Found::Scalar("1"))
        );
        assert_eq!(
            find(j, &[]).map(|f| matches!(f, Found::Container(_))),
            Some(true)
        );
    }

    #[test]
    fn escapes_resolved_for_word_search() {
        assert_eq!(
            unescape_all(r#"{"m":"say \"hi\" Zo\u00eb \ud83d\ude00\n"}"#),
            "{\"m\":\"say \"hi\" Zoë 😀\n\"}"
        );
        assert_eq!(unescape_all(r"\u12"), "\u{12}");
        assert_eq!(unescape_all("\\"), "\\");
    }

    #[test]
    fn broken_json_is_none_not_a_panic() {
        for bad in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\": [1, 2",
            "[",
            "{\"a\": \"x",
            "nul",
            "{\"a\" 1}",
            "{\"a\": {\"b\": ]}",
        ] {
            let _ = find(bad, &[k("a"), k("b")]);
            let _ = find(bad, &[Seg::Index(3)]);
        }
        assert_eq!(find("{\"a\": [1, 2", &[k("a")]), None);
    }
}

#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Any text and any path: a value or none, never a panic; a value
        /// found is a slice of the input.
        #[test]
        fn never_panics(json in "[{}\\[\\]\":,a-c0-9 \\\\.e-]{0,40}|\\PC{0,30}", keys in proptest::collection::vec("[a-c]{1,2}", 0..3), idx in 0usize..3) {
            let mut path: Vec<Seg> = keys.into_iter().map(Seg::Key).collect();
            path.push(Seg::Index(idx));
            for p in [&path[..], &path[..path.len() - 1]] {
                if let Some(f) = find(&json, p) {
                    let s = match f { Found::Str(s) | Found::Scalar(s) | Found::Container(s) => s };
                    prop_assert!(json.contains(s));
                    let _ = f.text();
                    let _ = f.number();
                }
            }
        }
    }
}
