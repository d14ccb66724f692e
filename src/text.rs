//! Remote text hygiene: nothing from the network reaches the terminal with
//! ESC, C0 or C1 controls, bidi overrides, line separators or invisible
//! characters in it, and long values are capped.

use std::borrow::Cow;

/// Whether `c` must not reach the terminal as is.
///
/// - C0 controls, DEL and C1 controls (U+0085 NEL among them);
/// - bidi embeddings, overrides and isolates (U+202A–U+202E,
///   U+2066–U+2069) and the Arabic letter mark U+061C;
/// - the line and paragraph separators U+2028 and U+2029 (under tmux they
///   blank the rest of a row);
/// - what is invisible and zero-width: the soft hyphen U+00AD, the
///   Mongolian vowel separator U+180E, U+200B–U+200F (zero-width space,
///   joiners, LRM/RLM), U+2060–U+206F (word joiner, invisible operators,
///   the isolates, the deprecated format controls), the BOM U+FEFF, the
///   interlinear annotation controls U+FFF9–U+FFFB, and the tag characters
///   U+E0000–U+E007F;
/// - the variation selectors VS1–VS14 (U+FE00–U+FE0D) and VS17–VS256
///   (U+E0100–U+E01EF), which can carry hidden bytes after any character.
///
/// Kept: VS15 and VS16 (U+FE0E, U+FE0F), the text and emoji presentation
/// selectors emoji rely on. The price of the rest: emoji ZWJ sequences
/// show as their parts (👨�👩), the three subdivision flags as a black
/// flag and tags, ideographic variation sequences as the base ideograph
/// and a �, a ZWNJ in Persian or Indic text as a �.
fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    if u < 0xad {
        return u < 0x20 || (0x7f..=0x9f).contains(&u);
    }
    matches!(
        u,
        0xad | 0x61c
            | 0x180e
            | 0x200b..=0x200f
            | 0x2028..=0x202e
            | 0x2060..=0x206f
            | 0xfe00..=0xfe0d
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0xe0000..=0xe007f
            | 0xe0100..=0xe01ef
    )
}

/// One visible char for one unsafe char (so widths stay predictable).
fn replacement(c: char) -> char {
    let u = c as u32;
    if u < 0x20 {
        // Unicode "control pictures": ␛ for ESC, ␊ for LF, ...
        char::from_u32(0x2400 + u).unwrap_or('\u{fffd}')
    } else if u == 0x7f {
        '\u{2421}'
    } else if u == 0x2028 || u == 0x2029 {
        // ␤, as a line break of its own.
        '\u{2424}'
    } else {
        '\u{fffd}'
    }
}

/// One-line safe text: every control character becomes a visible symbol.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    // Byte test first: every unsafe char is a byte below 0x20, DEL, or a
    // UTF-8 sequence led by one of the bytes `has_suspect_byte` names.
    if !has_suspect_byte(s.as_bytes()) || !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if is_unsafe(c) { replacement(c) } else { c })
            .collect(),
    )
}

/// A byte below 0x20, DEL, or the UTF-8 lead byte of an unsafe char: 0xC2
/// (C1, U+00AD), 0xD8 (U+061C), 0xE1 (U+180E), 0xE2 (U+2000–U+2FFF: the
/// separators, zero-width and bidi controls), 0xEF (U+F000–U+FFFF:
/// variation selectors, BOM, annotations) and 0xF3 (tags, VS17–VS256).
/// Tested 16 bytes at a time without branching inside a chunk, so it
/// vectorizes; pure ASCII never takes the slow path.
fn has_suspect_byte(s: &[u8]) -> bool {
    let suspect = |b: u8| {
        (b < 0x20)
            | (b == 0x7f)
            | (b == 0xc2)
            | (b == 0xd8)
            | (b == 0xe1)
            | (b == 0xe2)
            | (b == 0xef)
            | (b == 0xf3)
    };
    let mut chunks = s.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |hit, &b| hit | suspect(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| suspect(b))
}

/// JSON text (as serde_json writes it) safe to print: every non-control
/// char [`sanitize`] would replace, and DEL, is written as a `\u` escape
/// instead. Outside strings JSON is ASCII, so the value stays the same.
/// C0 controls are left alone: serde_json escapes them inside strings, and
/// outside they are JSON's own whitespace.
pub fn json_printable(json: &str) -> Cow<'_, str> {
    let escape = |c: char| c >= ' ' && is_unsafe(c);
    if !has_suspect_byte(json.as_bytes()) || !json.chars().any(escape) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if escape(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Sanitize and cap at `max` bytes (on a char boundary), saying how much was cut.
pub fn sanitize_capped(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return sanitize(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let more = s.len() - end;
    Cow::Owned(format!("{}… {more} bytes more", sanitize(&s[..end])))
}

/// `HH:MM:SS.mmm` (UTC) of a time in ms since the epoch.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

/// `2026-12-01T08:12:22.665Z` (UTC) for ms since the epoch.
pub fn iso_time(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days → civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ms % 1000
    )
}

/// A URL safe to show: the password of its userinfo and the values of
/// `secret`, `token`, `key`, `password` and `auth`-like query parameters
/// become `***`.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, host) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match auth.rsplit_once('@') {
                Some((userinfo, hostport)) => {
                    let user = userinfo.split(':').next().unwrap_or("");
                    format!("{scheme}://{user}:***@{hostport}{host}")
                }
                None => head.to_string(),
            }
        }
        None => head.to_string(),
    };
    if let Some(q) = query {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if is_secret_key(k) => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// The credentials a URL carries (a password in its userinfo, the values of
/// secret-looking query keys), for a recorder to mask.
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    if let Some((_, rest)) = head.split_once("://") {
        let auth = rest.split('/').next().unwrap_or("");
        if let Some((userinfo, _)) = auth.rsplit_once('@')
            && let Some((_, pass)) = userinfo.split_once(':')
        {
            out.push(pass.to_string());
        }
    }
    for kv in query.split('&') {
        if let Some((k, v)) = kv.split_once('=')
            && is_secret_key(k)
        {
            out.push(v.to_string());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn is_secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    [
        "secret", "token", "key", "password", "passwd", "auth", "jwt",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Lowercase ASCII-folding substring test (no allocation for the haystack).
pub fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    let h = haystack.as_bytes();
    let n = needle_lower.as_bytes();
    if n.len() > h.len() {
        return false;
    }
    if !needle_lower.is_ascii() {
        return haystack.to_lowercase().contains(needle_lower);
    }
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Byte ranges of case-insensitive matches of `needle_lower` in `haystack`.
pub fn match_ranges(haystack: &str, needle_lower: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if needle_lower.is_empty() || !needle_lower.is_ascii() {
        return out;
    }
    let h = haystack.as_bytes();
    let n = needle_lower.as_bytes();
    let mut i = 0;
    while i + n.len() <= h.len() {
        if h[i..i + n.len()].eq_ignore_ascii_case(n)
            && haystack.is_char_boundary(i)
            && haystack.is_char_boundary(i + n.len())
        {
            out.push((i, i + n.len()));
            i += n.len();
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_of_a_url() {
        assert_eq!(
            url_secrets("ws://u:pw@h:1/p?secret=s1&x=2&token=t"),
            ["pw", "s1", "t"]
        );
        assert!(url_secrets("ws://h/socketcluster/").is_empty());
    }

    #[test]
    fn control_bytes_are_caught_at_every_offset() {
        // The byte pre-check works 16 bytes at a time: an unsafe char in
        // any lane, or in the tail, must still be replaced.
        for len in [1usize, 15, 16, 17, 31, 32, 33, 70] {
            for at in 0..len {
                for bad in [
                    "\u{1b}",
                    "\u{7f}",
                    "\u{9b}",
                    "\u{ad}",
                    "\u{61c}",
                    "\u{180e}",
                    "\u{200b}",
                    "\u{2028}",
                    "\u{202e}",
                    "\u{feff}",
                    "\u{e0041}",
                ] {
                    let mut s = "a".repeat(len);
                    s.insert_str(at, bad);
                    let out = sanitize(&s);
                    assert!(!out.contains(bad), "{len} {at} {bad:?}");
                }
            }
        }
        assert!(matches!(sanitize(&"é".repeat(40)), Cow::Borrowed(_)));
    }

    #[test]
    fn urls_lose_their_secrets() {
        assert_eq!(
            redact_url("ws://127.0.0.1:8000/socketcluster/?secret=abc&x=1&token=t"),
            "ws://127.0.0.1:8000/socketcluster/?secret=***&x=1&token=***"
        );
        assert_eq!(
            redact_url("ws://roomtap:hunter2@127.0.0.1:8000/socketcluster/"),
            "ws://roomtap:***@127.0.0.1:8000/socketcluster/"
        );
        assert_eq!(redact_url("ws://h/p"), "ws://h/p");
        assert_eq!(redact_url("nonsense"), "nonsense");
    }

    #[test]
    fn strips_csi_osc_and_c1() {
        let evil = "a\u{1b}[2Jb\u{1b}]52;c;SGVsbG8=\u{7}c\u{9b}31md\u{202e}e\r\n";
        let s = sanitize(evil);
        assert!(!s.chars().any(is_unsafe), "{s:?}");
        assert!(s.contains('a') && s.contains("[2J"));
        assert!(s.contains('\u{241b}'));
    }

    /// Each class of invisible or line-breaking char, and what it becomes.
    #[test]
    fn separators_and_invisibles_become_visible() {
        let fffd = '\u{fffd}';
        let classes: &[(&str, &[u32], char)] = &[
            ("line and paragraph separators", &[0x2028, 0x2029], '␤'),
            ("NEL (a C1 control)", &[0x85], fffd),
            ("soft hyphen", &[0xad], fffd),
            ("Arabic letter mark", &[0x61c], fffd),
            ("Mongolian vowel separator", &[0x180e], fffd),
            (
                "zero-width space, joiners, LRM, RLM",
                &[0x200b, 0x200c, 0x200d, 0x200e, 0x200f],
                fffd,
            ),
            (
                "bidi embeddings and overrides",
                &[0x202a, 0x202b, 0x202c, 0x202d, 0x202e],
                fffd,
            ),
            (
                "word joiner and invisible operators",
                &[0x2060, 0x2061, 0x2062, 0x2063, 0x2064],
                fffd,
            ),
            ("bidi isolates", &[0x2066, 0x2067, 0x2068, 0x2069], fffd),
            ("deprecated format controls", &[0x206a, 0x206f], fffd),
            ("byte order mark", &[0xfeff], fffd),
            ("interlinear annotation", &[0xfff9, 0xfffa, 0xfffb], fffd),
            (
                "tag characters",
                &[0xe0000, 0xe0001, 0xe0041, 0xe007f],
                fffd,
            ),
            ("variation selectors 1-14", &[0xfe00, 0xfe0d], fffd),
            ("variation selectors 17-256", &[0xe0100, 0xe01ef], fffd),
        ];
        for (class, chars, shown) in classes {
            for &u in *chars {
                let c = char::from_u32(u).unwrap();
                assert_eq!(
                    sanitize(&format!("a{c}b")),
                    format!("a{shown}b"),
                    "{class}: U+{u:04X}"
                );
                // Alone, at the end, in a long ASCII run: still caught.
                assert_eq!(sanitize(&c.to_string()), shown.to_string(), "{class}");
                let long = format!("{}{c}", "x".repeat(37));
                assert!(!sanitize(&long).contains(c), "{class}: U+{u:04X}");
            }
        }
    }

    /// Emoji keep their presentation selectors; text in scripts that share
    /// the new lead bytes (Arabic, Vietnamese, typography) is untouched.
    #[test]
    fn what_emoji_and_scripts_need_is_kept() {
        for ok in [
            "❤\u{fe0f} ↩\u{fe0e}",
            "مرحبا بالعالم",
            "Tiếng Việt",
            "“quotes” — … → ✓ ─┼─",
            "ｆｕｌｌ ｗｉｄｔｈ \u{fffd}",
            "\u{2027}\u{2030}\u{fe10}\u{e0080}\u{e01f0}",
            "ÿ¬®",
        ] {
            assert!(matches!(sanitize(ok), Cow::Borrowed(_)), "{ok:?}");
        }
    }

    #[test]
    fn json_keeps_its_value_and_loses_its_unsafe_chars() {
        let v = serde_json::json!({
            "k\u{2028}": ["a\u{1b}[2J\u{9b}\u{7f}", "tag\u{e0041}", "ok ❤\u{fe0f}"],
            "n": 1
        });
        let text = v.to_string();
        let shown = json_printable(&text);
        assert!(shown.is_ascii() || !shown.chars().any(is_unsafe), "{shown}");
        assert!(
            shown.contains("\\u2028") && shown.contains("\\udb40\\udc41"),
            "{shown}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&shown).unwrap(),
            v
        );
        assert!(matches!(json_printable("{\"a\":\"é…\"}"), Cow::Borrowed(_)));
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("plain ✓ text"), Cow::Borrowed(_)));
    }

    #[test]
    fn capped_says_how_much_more() {
        let long = "é".repeat(100);
        let s = sanitize_capped(&long, 11);
        assert!(s.ends_with("… 190 bytes more"), "{s}");
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_795_344_242_881), "2026-11-22T10:44:02.881Z");
        assert_eq!(iso_time(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn case_insensitive_search() {
        assert!(contains_ci("Hello INCREMENT", "increment"));
        assert!(!contains_ci("abc", "abcd"));
        assert_eq!(match_ranges("aXa xa", "xa"), vec![(1, 3), (4, 6)]);
    }
}
