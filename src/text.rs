//! Remote text hygiene: nothing from the network reaches the terminal with
//! ESC, C0 or C1 controls (or bidi overrides) in it, and long values are capped.

use std::borrow::Cow;

/// Whether `c` must not reach the terminal as is.
fn is_unsafe(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        || (0x202a..=0x202e).contains(&u)
        || (0x2066..=0x2069).contains(&u)
}

fn replacement(c: char) -> char {
    let u = c as u32;
    if u < 0x20 {
        // Unicode "control pictures": ␛ for ESC, ␊ for LF, ...
        char::from_u32(0x2400 + u).unwrap_or('\u{fffd}')
    } else if u == 0x7f {
        '\u{2421}'
    } else {
        '\u{fffd}'
    }
}

/// One-line safe text: every control character becomes a visible symbol.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    // Byte test first: every unsafe char is a byte below 0x20, DEL, or a
    // UTF-8 sequence led by 0xC2 (C1) or 0xE2 (bidi controls).
    if !has_suspect_byte(s.as_bytes()) || !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if is_unsafe(c) { replacement(c) } else { c })
            .collect(),
    )
}

/// A byte below 0x20, DEL, or a lead byte of C1 or bidi controls. Tested
/// 16 bytes at a time without branching inside a chunk, so it vectorizes.
fn has_suspect_byte(s: &[u8]) -> bool {
    let suspect = |b: u8| (b < 0x20) | (b == 0x7f) | (b == 0xc2) | (b == 0xe2);
    let mut chunks = s.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |hit, &b| hit | suspect(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| suspect(b))
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

/// Each text of a value, offered to `f`; what `f` returns replaces it (how
/// secrets are masked in every event: `EventKind::scrub` with the run's
/// `crate::secret::Masker`).
pub type Scrub<'a> = &'a mut dyn FnMut(&str) -> Option<String>;

pub fn scrub_string(s: &mut String, f: Scrub) {
    if let Some(n) = f(s) {
        *s = n;
    }
}

pub fn scrub_opt(s: &mut Option<String>, f: Scrub) {
    if let Some(s) = s {
        scrub_string(s, f);
    }
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
                for bad in ["\u{1b}", "\u{7f}", "\u{9b}", "\u{202e}"] {
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
