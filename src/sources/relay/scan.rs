//! A small, strict JSON scanner for the ingest hot path: it walks an
//! object's fields and skips values without building them. Anything it does not like returns `None`, and the
//! caller falls back to the full serde path (which reports the error).

/// A scanned value: its byte range in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn of<'a>(&self, s: &'a str) -> &'a str {
        &s[self.start..self.end]
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// Byte classes inside a string: 0 plain, 1 quote, 2 backslash, 3 control
/// (not allowed raw in JSON).
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = 3;
        c += 1;
    }
    t[b'"' as usize] = 1;
    t[b'\\' as usize] = 2;
    t
};

/// End (exclusive, after the closing quote) of the string starting at `i`
/// (which must be `"`), and whether it holds escapes. A table-driven loop:
/// app payloads are escape-dense (`\"` every few bytes), where a SIMD
/// search restarts too often to pay off.
pub fn string_end(b: &[u8], i: usize) -> Option<(usize, bool)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    let mut escaped = false;
    while j < b.len() {
        match CLASS[b[j] as usize] {
            0 => j += 1,
            1 => return Some((j + 1, escaped)),
            2 => {
                escaped = true;
                j += 2;
            }
            _ => return None,
        }
    }
    None
}

/// Unescape the content of a JSON string literal (quotes included) that
/// holds escapes. `None` when it is not valid.
fn unescape(lit: &str) -> Option<String> {
    let b = lit.as_bytes();
    let inner = &b[1..b.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut start = 0;
    let mut j = 0;
    while j < inner.len() {
        if inner[j] != b'\\' {
            j += 1;
            continue;
        }
        out.push_str(std::str::from_utf8(&inner[start..j]).ok()?);
        let c = match *inner.get(j + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            // \uXXXX (and surrogate pairs): leave to serde.
            b'u' => return serde_json::from_str::<String>(lit).ok(),
            _ => return None,
        };
        out.push(c);
        j += 2;
        start = j;
    }
    out.push_str(std::str::from_utf8(&inner[start..]).ok()?);
    Some(out)
}

/// End of the value starting at `i` (after leading whitespace).
pub fn value_end(b: &[u8], i: usize) -> Option<usize> {
    let i = ws(b, i);
    match *b.get(i)? {
        b'"' => string_end(b, i).map(|(e, _)| e),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        b't' | b'f' | b'n' | b'-' | b'0'..=b'9' => {
            let mut j = i;
            while j < b.len()
                && matches!(b[j], b'a'..=b'z' | b'0'..=b'9' | b'-' | b'+' | b'.' | b'E')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
        _ => None,
    }
}

/// Walk the fields of the object at `i`: calls `f(key, value_span)` for each
/// field whose key has no escapes. Returns the end of the object.
pub fn fields(s: &str, i: usize, mut f: impl FnMut(&str, Span)) -> Option<usize> {
    walk(s, i, |k, start| {
        let end = value_end(s.as_bytes(), start)?;
        f(k, Span { start, end });
        Some(end)
    })
}

/// Walk the fields of the object at `i`, letting `f(key, value_start)`
/// consume each value itself (to descend without a second pass); it returns
/// where the value ends. Returns the end of the object.
pub fn walk(s: &str, i: usize, mut f: impl FnMut(&str, usize) -> Option<usize>) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = ws(b, i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        let (kend, kesc) = string_end(b, i)?;
        if kesc {
            return None;
        }
        let key = &s[i + 1..kend - 1];
        i = ws(b, kend);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let vstart = ws(b, i + 1);
        let vend = f(key, vstart)?;
        i = ws(b, vend);
        match b.get(i)? {
            b',' => i = ws(b, i + 1),
            b'}' => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The content of a string value without escapes (borrowed), or None.
pub fn plain_str(s: &str, span: Span) -> Option<&str> {
    let v = span.of(s);
    let inner = v.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// The content of a string value, unescaped.
pub fn string_value(s: &str, span: Span) -> Option<std::borrow::Cow<'_, str>> {
    match plain_str(s, span) {
        Some(p) => Some(std::borrow::Cow::Borrowed(p)),
        None if s.as_bytes().get(span.start) == Some(&b'"') => {
            unescape(span.of(s)).map(std::borrow::Cow::Owned)
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_fields_and_skips_nested_values() {
        let s = r#" {"a": "x\"y", "b": {"c": [1, "]}", {"d": null}]}, "e": -1.5e3, "f": true} "#;
        let mut seen = Vec::new();
        let end = fields(s, 0, |k, v| seen.push((k.to_string(), v.of(s).to_string()))).unwrap();
        assert_eq!(&s[end..], " ");
        assert_eq!(seen[0], ("a".into(), r#""x\"y""#.into()));
        assert_eq!(seen[1].0, "b");
        assert_eq!(seen[1].1, r#"{"c": [1, "]}", {"d": null}]}"#);
        assert_eq!(seen[2], ("e".into(), "-1.5e3".into()));
        assert_eq!(seen[3], ("f".into(), "true".into()));
    }

    #[test]
    fn rejects_what_json_rejects() {
        for bad in [
            r#"{"a" 1}"#,
            r#"{"a": }"#,
            r#"{"a": "x}"#,
            "{\"a\": \"x\ny\"}",
            r#"{"a": 1,}"#,
            r#"["#,
            r#"{"a": [1, 2}"#,
        ] {
            assert!(fields(bad, 0, |_, _| {}).is_none(), "{bad}");
        }
    }

    #[test]
    fn unescape_matches_serde() {
        for lit in [
            r#""a\"b\\c\/d\n\t\r\b\f""#,
            r#""\u00e9\ud83d\ude00 x""#,
            r#""plain""#,
            r#""é \"ü\"""#,
        ] {
            let want: String = serde_json::from_str(lit).unwrap();
            assert_eq!(unescape(lit).as_deref(), Some(want.as_str()), "{lit}");
        }
        assert_eq!(unescape(r#""bad \q""#), None);
        assert_eq!(unescape(r#""cut \""#), None);
    }

    #[test]
    fn strings_unescape() {
        let s = r#"{"p": "{\"k\":\"v\"}", "q": "plain"}"#;
        let mut got = Vec::new();
        fields(s, 0, |_, v| {
            got.push(string_value(s, v).unwrap().into_owned())
        })
        .unwrap();
        assert_eq!(got, [r#"{"k":"v"}"#, "plain"]);
    }
}
