//! A small, strict JSON scanner for the ingest hot path: it walks an
//! object's fields and skips values without building them. Anything it does not like returns `None`, and the
//! caller falls back to the full serde path (which reports the error).

/// A scanned value: its byte range in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// A string literal holding escapes (false for anything else).
    pub escaped: bool,
}

impl Span {
    pub fn of<'a>(&self, s: &'a str) -> &'a str {
        &s[self.start..self.end]
    }
}

#[inline]
fn ws(b: &[u8], mut i: usize) -> usize {
    // Compact JSON (what every peer sends) has none: one test.
    if b.get(i).is_some_and(|&c| c > b' ') {
        return i;
    }
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
/// (which must be `"`), and whether it holds escapes.
///
/// App payloads are JSON inside a JSON string, so they are escape-dense
/// (`\"` every few bytes): searching for the next quote or backslash
/// restarts too often. Instead 64 bytes at a time are classified into bit
/// masks (quotes, backslashes, control bytes) and the escaped positions are
/// computed with carries across blocks (the technique simdjson made known),
/// so the first unescaped quote falls out of one mask.
pub fn string_end(b: &[u8], i: usize) -> Option<(usize, bool)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    // Keys and short values end within a few bytes: one 16-byte look
    // usually finds the closing quote with no escape before it.
    while j + 16 <= b.len() {
        let (quote, backslash, control) = masks16(&b[j..j + 16]);
        let stop = quote | backslash | control;
        if stop == 0 {
            j += 16;
            continue;
        }
        let k = stop.trailing_zeros();
        if quote & (1 << k) != 0 {
            return Some((j + k as usize + 1, false));
        }
        if control & (1 << k) != 0 {
            return None;
        }
        // A backslash: escape-dense text follows; go block-wise from here.
        j += k as usize;
        return string_blocks(b, j);
    }
    string_tail(b, j, false)
}

/// [`string_end`] from `j` inside a string (at a token boundary, not inside
/// an escape), 64 bytes at a time.
fn string_blocks(b: &[u8], j: usize) -> Option<(usize, bool)> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is available on this CPU (checked just above).
        return unsafe { string_blocks_avx2(b, j) };
    }
    string_blocks_with(b, j, masks64)
}

/// [`string_blocks`] compiled for AVX2: 32 bytes per compare.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn string_blocks_avx2(b: &[u8], j: usize) -> Option<(usize, bool)> {
    string_blocks_with(b, j, |block| masks64_avx2(block))
}

#[inline(always)]
fn string_blocks_with(
    b: &[u8],
    mut j: usize,
    masks: impl Fn(&[u8]) -> (u64, u64, u64),
) -> Option<(usize, bool)> {
    let mut carry = 0u64;
    // It starts at a backslash.
    let escaped_any = true;
    while j + 64 <= b.len() {
        let (quote, backslash, control) = masks(&b[j..j + 64]);
        let escaped = escaped_bits(backslash, &mut carry);
        let ends = quote & !escaped;
        let before = match ends {
            0 => u64::MAX,
            e => (1u64 << e.trailing_zeros()) - 1,
        };
        // Escaped bytes other than `"` and `\` (rare in payloads): each
        // must start a valid escape.
        let other = escaped & !(quote | backslash) & before;
        if other != 0 && !escapes_valid(b, j, other) {
            return None;
        }
        if ends != 0 {
            if control & before != 0 {
                return None;
            }
            return Some((j + ends.trailing_zeros() as usize + 1, escaped_any));
        }
        if control != 0 {
            return None;
        }
        j += 64;
    }
    if carry != 0 {
        // The block ended inside an escape: its escaped byte comes first.
        j = escape_end(b, j)?;
    }
    string_tail(b, j, escaped_any)
}

/// Whether each escaped byte at `j + k` (for the bits `k` of `bits`) starts
/// a valid escape.
fn escapes_valid(b: &[u8], j: usize, mut bits: u64) -> bool {
    while bits != 0 {
        if escape_end(b, j + bits.trailing_zeros() as usize).is_none() {
            return false;
        }
        bits &= bits - 1;
    }
    true
}

/// The end of the escape whose byte after the backslash is at `j`: one of
/// `"\/bfnrt`, or `u` and four hex digits (what JSON allows).
fn escape_end(b: &[u8], j: usize) -> Option<usize> {
    match *b.get(j)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(j + 1),
        b'u' if b.get(j + 1..j + 5)?.iter().all(u8::is_ascii_hexdigit) => Some(j + 5),
        _ => None,
    }
}

/// The byte loop: the end of the string from `j` inside it (at a token
/// boundary), and whether escapes were seen (`escaped` says if they were
/// before `j`).
fn string_tail(b: &[u8], mut j: usize, mut escaped: bool) -> Option<(usize, bool)> {
    while j < b.len() {
        match CLASS[b[j] as usize] {
            0 => j += 1,
            1 => return Some((j + 1, escaped)),
            2 => {
                escaped = true;
                j = escape_end(b, j + 1)?;
            }
            _ => return None,
        }
    }
    None
}

/// Bits of bytes that follow an odd run of backslashes (escaped bytes).
/// `carry` is 1 when the previous block ended with an unfinished escape.
fn escaped_bits(backslash: u64, carry: &mut u64) -> u64 {
    const ODD: u64 = 0xAAAA_AAAA_AAAA_AAAA;
    if backslash == 0 {
        let e = *carry;
        *carry = 0;
        return e;
    }
    let potential = backslash & !*carry;
    let maybe_escaped = potential << 1;
    let codes = (maybe_escaped | ODD).wrapping_sub(potential) ^ ODD;
    let escaped = codes ^ (backslash | *carry);
    let escape = codes & backslash;
    *carry = escape >> 63;
    escaped
}

/// Bit masks of quotes, backslashes and control bytes in 16 bytes.
#[cfg(target_arch = "x86_64")]
fn masks16(block: &[u8]) -> (u64, u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_set1_epi8,
    };
    assert!(block.len() >= 16);
    // SAFETY: `block` has at least 16 bytes (asserted), so the unaligned
    // 16-byte load is in bounds; SSE2 is part of x86_64, so these
    // intrinsics are always available.
    let (quote, bs, ctl) = unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        (
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))),
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8))),
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v)),
        )
    };
    (
        u64::from(quote as u16),
        u64::from(bs as u16),
        u64::from(ctl as u16),
    )
}

#[cfg(not(target_arch = "x86_64"))]
fn masks16(block: &[u8]) -> (u64, u64, u64) {
    let (mut q, mut s, mut c) = (0u64, 0u64, 0u64);
    for (k, &x) in block[..16].iter().enumerate() {
        q |= u64::from(x == b'"') << k;
        s |= u64::from(x == b'\\') << k;
        c |= u64::from(x < 0x20) << k;
    }
    (q, s, c)
}

/// Bit masks of quotes, backslashes and control bytes in 64 bytes, two
/// 32-byte compares each.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn masks64_avx2(block: &[u8]) -> (u64, u64, u64) {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
        _mm256_set1_epi8,
    };
    assert!(block.len() >= 64);
    let half = |off: usize| {
        // SAFETY: `off + 32 <= 64 <= block.len()` (asserted), so the
        // unaligned 32-byte load is in bounds; AVX2 is enabled for this fn.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(off).cast::<__m256i>()) };
        let q = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8)));
        let s = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8)));
        let c = _mm256_movemask_epi8(_mm256_cmpeq_epi8(
            _mm256_min_epu8(v, _mm256_set1_epi8(0x1f)),
            v,
        ));
        (
            u64::from(q as u32),
            u64::from(s as u32),
            u64::from(c as u32),
        )
    };
    let (q0, s0, c0) = half(0);
    let (q1, s1, c1) = half(32);
    (q0 | q1 << 32, s0 | s1 << 32, c0 | c1 << 32)
}

fn masks64(block: &[u8]) -> (u64, u64, u64) {
    let (mut q, mut s, mut c) = (0u64, 0u64, 0u64);
    for k in 0..4 {
        let (quote, bs, ctl) = masks16(&block[16 * k..16 * k + 16]);
        q |= quote << (16 * k);
        s |= bs << (16 * k);
        c |= ctl << (16 * k);
    }
    (q, s, c)
}

/// Unescape the content of a JSON string literal (quotes included) that
/// holds escapes. `None` when it is not valid.
fn unescape(lit: &str) -> Option<String> {
    let inner = lit.get(1..lit.len().checked_sub(1)?)?.as_bytes();
    // Escapes are dense in app payloads (`\"` every few bytes), so one byte
    // loop beats copying the short runs between them. The output is never
    // longer than the input: write by index into a buffer of that size.
    let mut out = vec![0u8; inner.len()];
    let (mut j, mut o) = (0, 0);
    while j < inner.len() {
        let c = inner[j];
        if c != b'\\' {
            out[o] = c;
            o += 1;
            j += 1;
            continue;
        }
        out[o] = match *inner.get(j + 1)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            // \uXXXX (and surrogate pairs): leave to serde.
            b'u' => return serde_json::from_str::<String>(lit).ok(),
            _ => return None,
        };
        o += 1;
        j += 2;
    }
    out.truncate(o);
    // The input was UTF-8 and only ASCII escape sequences were replaced by
    // ASCII bytes, so the output is UTF-8 as well (checked in debug builds).
    debug_assert!(std::str::from_utf8(&out).is_ok());
    // SAFETY: see above: multi-byte sequences are copied whole and
    // unchanged, since no byte of one is ASCII.
    Some(unsafe { String::from_utf8_unchecked(out) })
}

/// The value starting at `start` (no leading whitespace).
pub fn value(b: &[u8], start: usize) -> Option<Span> {
    if b.get(start) == Some(&b'"') {
        let (end, escaped) = string_end(b, start)?;
        return Some(Span {
            start,
            end,
            escaped,
        });
    }
    Some(Span {
        start,
        end: value_end(b, start)?,
        escaped: false,
    })
}

/// End of the value starting at `i` (after leading whitespace), checked
/// as serde_json checks a value it skips: literals, numbers, string
/// escapes, and the structure of objects and arrays, at any depth.
pub fn value_end(b: &[u8], i: usize) -> Option<usize> {
    let mut i = ws(b, i);
    // The open containers, the innermost in the low bit (1: an object);
    // beyond 64 levels the outer ones wait in `deep`.
    let (mut open, mut depth, mut deep) = (0u64, 0usize, Vec::new());
    loop {
        // A value starts at `i`.
        match *b.get(i)? {
            b'"' => i = string_end(b, i)?.0,
            c @ (b'{' | b'[') => {
                let obj = c == b'{';
                i = ws(b, i + 1);
                if b.get(i) == Some(if obj { &b'}' } else { &b']' }) {
                    i += 1;
                } else {
                    if depth > 0 && depth % 64 == 0 {
                        deep.push(open);
                        open = 0;
                    }
                    open = open << 1 | u64::from(obj);
                    depth += 1;
                    if obj {
                        i = key_end(b, i)?;
                    }
                    continue;
                }
            }
            b't' => i = literal_end(b, i, b"true")?,
            b'f' => i = literal_end(b, i, b"false")?,
            b'n' => i = literal_end(b, i, b"null")?,
            b'-' | b'0'..=b'9' => i = number_end(b, i)?,
            _ => return None,
        }
        // After a value: close the containers that end here, or go on to
        // the next element of the innermost one.
        loop {
            if depth == 0 {
                return Some(i);
            }
            let obj = open & 1 == 1;
            i = ws(b, i);
            match *b.get(i)? {
                b',' => {
                    i = ws(b, i + 1);
                    if obj {
                        i = key_end(b, i)?;
                    }
                    break;
                }
                b'}' if obj => {}
                b']' if !obj => {}
                _ => return None,
            }
            i += 1;
            open >>= 1;
            depth -= 1;
            if depth > 0 && depth % 64 == 0 {
                open = deep.pop()?;
            }
        }
    }
}

/// A key at `i` and its colon: where the value starts.
fn key_end(b: &[u8], i: usize) -> Option<usize> {
    let i = ws(b, string_end(b, i)?.0);
    (b.get(i) == Some(&b':')).then(|| ws(b, i + 1))
}

fn literal_end(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len())? == word).then_some(i + word.len())
}

/// End of the number at `i`, in JSON's grammar (an optional `-`, no
/// leading zero, digits after `.` and after `e`).
fn number_end(b: &[u8], i: usize) -> Option<usize> {
    let digits = |j: usize| j + b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut j = i + usize::from(b.get(i) == Some(&b'-'));
    j = match *b.get(j)? {
        b'0' => j + 1,
        b'1'..=b'9' => digits(j),
        _ => return None,
    };
    if b.get(j) == Some(&b'.') {
        let k = digits(j + 1);
        if k == j + 1 {
            return None;
        }
        j = k;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1 + usize::from(matches!(b.get(j + 1), Some(b'+' | b'-')));
        let k = digits(j);
        if k == j {
            return None;
        }
        j = k;
    }
    Some(j)
}

/// Whether `s[i..]` is only JSON whitespace (what may follow a value).
pub fn rest_is_ws(s: &str, i: usize) -> bool {
    ws(s.as_bytes(), i) == s.len()
}

/// Walk the fields of the object at `i`: calls `f(key, value_span)` for each
/// field (keys unescaped). Returns the end of the object.
pub fn fields(s: &str, i: usize, mut f: impl FnMut(&str, Span)) -> Option<usize> {
    walk(s, i, |k, start| {
        let v = value(s.as_bytes(), start)?;
        f(k, v);
        Some(v.end)
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
        let key = match kesc {
            false => std::borrow::Cow::Borrowed(&s[i + 1..kend - 1]),
            // Rare: compared unescaped, as serde compares field names.
            true => std::borrow::Cow::Owned(unescape(&s[i..kend])?),
        };
        i = ws(b, kend);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let vstart = ws(b, i + 1);
        let vend = f(&key, vstart)?;
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
    if span.escaped {
        return None;
    }
    span.of(s).strip_prefix('"')?.strip_suffix('"')
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

    /// Found by the `json_scan` fuzz target: the scanner skipped values
    /// serde_json refuses (loose literals and numbers, mismatched or
    /// unstructured brackets, invalid escapes), so the hot paths took
    /// frames the serde paths reject and the relay forwarded them.
    #[test]
    fn accepts_exactly_what_serde_accepts() {
        let long = |at: usize, esc: &str, tail: usize| {
            format!("\"{}{esc}{}\"", "a\\\"".repeat(at), "b".repeat(tail))
        };
        let mut cases: Vec<String> = [
            "[tru]",
            "[nul]",
            "[fals]",
            "[-]",
            "[01]",
            "[1.]",
            "[.5]",
            "[1e]",
            "[1e+]",
            "[+1]",
            "[1.5.2]",
            "[--1]",
            "[0x1]",
            "{]",
            "[}",
            "[1 2]",
            "[,]",
            "[1,]",
            "{\"a\"}",
            "{\"a\":}",
            "{1:2}",
            "{\"a\":1,}",
            "{\"a\" 1}",
            r#""\q""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#"["a\x"]"#,
            "[\"\\\u{1}\"]",
            // Accepted:
            "[true,false,null,-0,0.5e-3,1E+9,\"\\u00e9\\/\"]",
            r#"{"k\u0065y":{"":[]}}"#,
        ]
        .map(String::from)
        .to_vec();
        // Escapes inside 64-byte blocks, across their edges, and in the
        // tail after the last one.
        for at in 0..64 {
            for esc in [r"\q", r"\u12", r"\n", r"\u00e9", r"\x"] {
                for tail in [0, 1, 30, 90] {
                    cases.push(long(at, esc, tail));
                }
            }
        }
        cases.push(format!("{}1{}", "[".repeat(300), "]".repeat(300)));
        cases.push(format!("{}1{}", "[{\"a\":".repeat(100), "}]".repeat(100)));
        for c in &cases {
            let want = serde_json::from_str::<&serde_json::value::RawValue>(c).is_ok();
            assert_eq!(value_end(c.as_bytes(), 0) == Some(c.len()), want, "{c}");
        }
        // An escaped key is read unescaped, as serde reads field names.
        let mut keys = Vec::new();
        fields(r#"{"k\u0065y":1,"a\"b":2}"#, 0, |k, _| {
            keys.push(k.to_string())
        })
        .unwrap();
        assert_eq!(keys, ["key", "a\"b"]);
        assert!(
            !rest_is_ws("1\u{a0}", 1),
            "only JSON whitespace may follow a value"
        );
        assert!(rest_is_ws("1 \t\r\n", 1));
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
    fn string_end_agrees_with_a_byte_loop() {
        let cases = [
            r#""""#,
            r#""abcdefghijklmnop""#,
            r#""abc\"def\\""#,
            r#""0123456\"89abcdef\u00e9 été\"end""#,
            "\"ctl \u{1} inside\"",
            r#""unterminated"#,
            r#""12345678\"#,
            "\"0123456789\u{1f}abcdef\"",
        ];
        for c in cases {
            let b = c.as_bytes();
            let mut want = None;
            let mut j = 1;
            let mut esc = false;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        want = Some((j + 1, esc));
                        break;
                    }
                    b'\\' => {
                        esc = true;
                        j += 2;
                    }
                    x if x < 0x20 => break,
                    _ => j += 1,
                }
            }
            assert_eq!(string_end(b, 0), want, "{c:?}");
        }
    }

    /// Reference: the obvious byte loop.
    fn string_end_reference(b: &[u8], i: usize) -> Option<(usize, bool)> {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        string_tail(b, i + 1, false)
    }

    #[test]
    fn string_end_agrees_with_the_byte_loop_on_random_strings() {
        // Deterministic pseudo-random strings over an alphabet rich in
        // backslashes and quotes, long enough to cross 64-byte blocks.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let alphabet = [b'a', b'\\', b'\\', b'"', b'x', b'\\', b'\n', b'b'];
        for round in 0..20_000 {
            let len = 1 + (round % 300);
            let mut s = vec![b'"'];
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly no control bytes, so long strings survive.
                let pick = (seed % 8) as usize;
                let c = alphabet[pick];
                s.push(if c == b'\n' && !seed.is_multiple_of(13) {
                    b'y'
                } else {
                    c
                });
            }
            assert_eq!(
                string_end(&s, 0),
                string_end_reference(&s, 0),
                "{:?}",
                String::from_utf8_lossy(&s)
            );
            // Both block loops (SSE2 and, where the CPU has it, AVX2)
            // agree with the reference from inside the string.
            let want = string_tail(&s, 1, false).map(|(e, _)| e);
            assert_eq!(
                string_blocks_with(&s, 1, masks64).map(|(e, _)| e),
                want,
                "sse2 {:?}",
                String::from_utf8_lossy(&s)
            );
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 is available (checked just above).
                let got = unsafe { string_blocks_avx2(&s, 1) };
                assert_eq!(got.map(|(e, _)| e), want);
            }
        }
    }

    #[test]
    fn string_end_agrees_on_payload_like_text() {
        let payload = r#"{"count":1,"todos":[{"text":"todo number 0 for run 1","done":true}],"meta":{"a":{"note":"same object"}}}"#;
        for pad in 0..80 {
            let lit = format!(
                "{}{}",
                " ".repeat(pad),
                serde_json::to_string(&payload.repeat(3)).unwrap()
            );
            let b = format!("{lit},\"next\":1");
            assert_eq!(
                string_end(b.as_bytes(), pad),
                string_end_reference(b.as_bytes(), pad)
            );
            assert_eq!(string_end(b.as_bytes(), pad).unwrap().0, lit.len());
        }
    }

    #[test]
    fn string_end_agrees_after_long_plain_runs() {
        // The 16-byte look-ahead hands over to the block loop at the first
        // backslash, wherever it falls.
        for run in 0..100 {
            for tail in [r#"\"x""#, r#"\\""#, r#"\\\"y"z"#, "\"", "\u{1}\""] {
                let s = format!("\"{}{tail},1", "a".repeat(run));
                assert_eq!(
                    string_end(s.as_bytes(), 0),
                    string_end_reference(s.as_bytes(), 0),
                    "{s:?}"
                );
            }
        }
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
