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

/// A byte below 0x20, DEL, or a UTF-8 lead byte from 0xC2 up (every
/// unsafe char above DEL is led by one: 0xC2 for C1 and U+00AD, 0xD8,
/// 0xE1, 0xE2, 0xEF, 0xF3 for the others): three compares a byte, tested
/// 16 bytes at a time without branching inside a chunk, so it vectorizes.
/// Pure ASCII never takes the slow path; other text is then checked char
/// by char.
fn has_suspect_byte(s: &[u8]) -> bool {
    let suspect = |b: u8| (b < 0x20) | (b == 0x7f) | (b >= 0xc2);
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

/// The zone times are shown in: the system's (`TZ`, else
/// `/etc/localtime`), or UTC with `--utc` ([`show_utc`]).
static ZONE: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();

/// Show times in UTC (`--utc`) instead of the local zone. Set once, before
/// anything is shown; a later call changes nothing.
pub fn show_utc() {
    let _ = ZONE.set(jiff::tz::TimeZone::UTC);
}

/// The zone times are shown in.
pub fn zone() -> &'static jiff::tz::TimeZone {
    ZONE.get_or_init(jiff::tz::TimeZone::system)
}

/// `ms` (since the epoch) in `tz`: the local ms since the epoch, and the
/// zone's abbreviation and offset there.
fn local(ms: u64, tz: &jiff::tz::TimeZone) -> (i64, String, i32) {
    let ts = jiff::Timestamp::from_millisecond(ms.min(i64::MAX as u64) as i64)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let info = tz.to_offset_info(ts);
    let off = info.offset().seconds();
    (
        ms as i64 + i64::from(off) * 1000,
        info.abbreviation().to_string(),
        off,
    )
}

/// `HH:MM:SS.mmm` of a time in ms since the epoch, in the shown zone.
pub fn clock(ms: u64) -> String {
    clock_in(ms, zone())
}

/// [`clock`] in `tz`.
pub fn clock_in(ms: u64, tz: &jiff::tz::TimeZone) -> String {
    let (l, ..) = local(ms, tz);
    let l = l.max(0) as u64;
    let s = l / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        l % 1000
    )
}

/// The day (days since the epoch) a time falls on in the shown zone.
pub fn day_of(ms: u64) -> i64 {
    local(ms, zone()).0.div_euclid(86_400_000)
}

/// `MM-DD` of a time in the shown zone (entries that span days show it).
pub fn date(ms: u64) -> String {
    let (l, ..) = local(ms, zone());
    let iso = iso_time(l.max(0) as u64);
    iso[5..10].to_string()
}

/// `2026-12-01 09:12:22.665` in the shown zone (`tail`'s lines).
pub fn stamp(ms: u64) -> String {
    let (l, ..) = local(ms, zone());
    let iso = iso_time(l.max(0) as u64);
    format!("{} {}", &iso[..10], &iso[11..23])
}

/// The shown zone in words, for a title: `CET, UTC+01:00` or `UTC`.
pub fn zone_name(at_ms: u64) -> String {
    zone_name_in(at_ms, zone())
}

/// [`zone_name`] in `tz`.
pub fn zone_name_in(at_ms: u64, tz: &jiff::tz::TimeZone) -> String {
    let (_, abbr, off) = local(at_ms, tz);
    if off == 0 && (abbr == "UTC" || abbr == "GMT" || abbr.is_empty()) {
        return "UTC".into();
    }
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    format!("{abbr}, UTC{sign}{:02}:{:02}", a / 3600, (a / 60) % 60)
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

/// A URL safe to show: the password of its userinfo (or the whole
/// userinfo when it is a user alone, as a token often is) and the values
/// of `secret`, `token`, `key`, `password`, `auth`-like parameters, in the
/// query or in the fragment (`#access_token=…`), become `***`. Keys are
/// compared percent-decoded (`%74oken`); pairs are split on `&`, and on
/// `;` too. A URL with nothing to hide comes out exactly as given; one with
/// something hidden comes out as the `url` crate writes it (host lowercased,
/// default port dropped…). Text that is not a URL with a host (a path, a
/// URL without its scheme, garbage) is cut up by hand the same way: the
/// userinfo before an `@` in its first segment, the query, the fragment.
pub fn redact_url(url: &str) -> String {
    let mut found = Vec::new();
    match url::Url::parse(url) {
        Ok(u) if u.has_host() => redact_parsed(url, u, &mut found),
        _ => redact_loose(url, &mut found, true),
    }
}

/// The credentials a URL carries (its userinfo's password, or a user
/// alone; the values of secret-looking keys in its query and fragment), for
/// a recorder to mask: each as given, percent-decoded (as a server would
/// read it, `+` a space) and percent-decoded with `+` kept.
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut raw = Vec::new();
    match url::Url::parse(url) {
        Ok(u) if u.has_host() => {
            redact_parsed(url, u, &mut raw);
            // The text as given too: the url crate may have re-encoded it.
            redact_loose(url, &mut raw, false);
        }
        _ => {
            redact_loose(url, &mut raw, true);
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (v, userinfo) in raw {
        let forms = [
            decode_component(&v, !userinfo),
            decode_component(&v, false),
            v,
        ];
        for f in forms {
            if !f.is_empty() && !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// A secret found: its text as it stands in the URL, and whether it is
/// userinfo (where `+` is not a space).
type Found = Vec<(String, bool)>;

fn redact_parsed(given: &str, mut u: url::Url, found: &mut Found) -> String {
    let mut changed = false;
    if let Some(pass) = u.password() {
        found.push((pass.to_string(), true));
        changed |= u.set_password(Some("***")).is_ok();
    } else if !u.username().is_empty() {
        found.push((u.username().to_string(), true));
        changed |= u.set_username("***").is_ok();
    }
    if let Some(q) = u.query().and_then(|q| redact_pairs(q, found)) {
        u.set_query(Some(&q));
        changed = true;
    }
    if let Some(f) = u.fragment().and_then(|f| redact_pairs(f, found)) {
        u.set_fragment(Some(&f));
        changed = true;
    }
    if changed { u.into() } else { given.to_string() }
}

/// [`redact_url`] on text the url crate does not take for a URL with a
/// host. `wide`: the userinfo runs to the last `@` before the query, even
/// across a `/` (`ws://u:pa/ss@h/` is no URL, but its password is still
/// one); else it ends at the first `/`.
fn redact_loose(s: &str, found: &mut Found, wide: bool) -> String {
    let (rest, fragment) = match s.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (s, None),
    };
    let (head, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    // The authority: after `scheme://`, else the first segment.
    let (scheme, after) = match head.split_once("://") {
        Some((scheme, after)) => (Some(scheme), after),
        None => (None, head),
    };
    let slash = |from: usize| {
        after[from..]
            .find(['/', '\\'])
            .map_or(after.len(), |i| from + i)
    };
    let cut = match after.rfind('@') {
        Some(at) if wide => slash(at),
        _ => slash(0),
    };
    let (auth, path) = after.split_at(cut);
    let mut out = String::with_capacity(s.len());
    if let Some(scheme) = scheme {
        out.push_str(scheme);
        out.push_str("://");
    }
    match auth.rsplit_once('@') {
        Some((userinfo, host)) if !userinfo.is_empty() => {
            match userinfo.split_once(':') {
                Some((user, pass)) if !pass.is_empty() => {
                    found.push((pass.to_string(), true));
                    out.push_str(user);
                    out.push_str(":***@");
                }
                _ => {
                    found.push((userinfo.trim_end_matches(':').to_string(), true));
                    out.push_str("***@");
                }
            }
            out.push_str(host);
        }
        _ => out.push_str(auth),
    }
    out.push_str(path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(&redact_pairs(q, found).unwrap_or_else(|| q.to_string()));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(&redact_pairs(f, found).unwrap_or_else(|| f.to_string()));
    }
    out
}

/// `k=v&k=v` (a query, or a fragment in that form) with the values of
/// secret keys as `***` (the values, as they stand, into `found`); `None`
/// when nothing is secret.
fn redact_pairs(s: &str, found: &mut Found) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut hit = false;
    for (i, piece) in s.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        hit |= redact_pair(piece, &mut out, found);
    }
    hit.then_some(out)
}

/// One `k=v` into `out`, its value hidden when `k` (decoded) is secret.
/// A value holding `;` is read as `;`-separated pairs too (`a=1;token=x`).
fn redact_pair(piece: &str, out: &mut String, found: &mut Found) -> bool {
    let Some((k, v)) = piece.split_once('=') else {
        out.push_str(piece);
        return false;
    };
    out.push_str(k);
    out.push('=');
    if !v.is_empty() && is_secret_key(&decode_component(k, true)) {
        found.push((v.to_string(), false));
        // `token=x;y=1`: `x` alone to a server that splits on `;`.
        if let Some((first, _)) = v.split_once(';') {
            found.push((first.to_string(), false));
        }
        out.push_str("***");
        return true;
    }
    let mut parts = v.split(';');
    out.push_str(parts.next().unwrap_or(""));
    let mut hit = false;
    for p in parts {
        out.push(';');
        hit |= redact_pair(p, out, found);
    }
    hit
}

/// `%XX` decoded (a `%` not followed by two hex digits stays), `+` as a
/// space when `plus` (form encoding); not UTF-8 → U+FFFD.
fn decode_component(s: &str, plus: bool) -> String {
    if !s.contains(['%', '+']) {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) if plus => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// The other way: an RFC 3339 time (`2023-07-26T20:00:00Z`,
/// `…T20:00:00.123+02:00`) → ms since the epoch; `None` when it is not one
/// (or is before the epoch).
pub fn iso_time_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = s.get(start..i)?;
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        ms = digits.parse().ok()?;
    }
    let offset_min = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let m = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if sign == b'+' { m } else { -m }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    u64::try_from(secs * 1000 + ms).ok()
}

/// `bytes` as hex + ASCII lines (offset, 16 bytes in groups of 4, the
/// printable ones), at most `max` of them shown; a last line says how many
/// more there are.
pub fn hex_dump(bytes: &[u8], max: usize) -> Vec<String> {
    let cfg = pretty_hex::HexConfig {
        title: false,
        ascii: true,
        width: 16,
        group: 4,
        chunk: 1,
        max_bytes: max,
        display_offset: 0,
    };
    let mut out: Vec<String> = pretty_hex::config_hex(&bytes, cfg)
        .lines()
        .map(|l| sanitize(l).into_owned())
        .collect();
    if bytes.len() > max {
        out.retain(|l| !l.starts_with("..."));
        out.push(format!("… {} bytes more", bytes.len() - max));
    }
    out
}

/// `b` as lowercase hex.
pub fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

/// Whether the `n`th of something counted (a drop, a refusal) is worth a
/// line: the 1st, the 10th, the 100th… (a flood is counted, not logged).
pub fn worth_saying(n: u64) -> bool {
    let mut p = 1u64;
    while p < n {
        match p.checked_mul(10) {
            Some(next) => p = next,
            None => return false,
        }
    }
    p == n
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
    fn secrets_in_fragments_encoded_keys_and_odd_urls() {
        // OAuth-style: the token in the fragment.
        let u = "https://app.example/cb#access_token=abc.DEF-1&state=xyz";
        assert_eq!(
            redact_url(u),
            "https://app.example/cb#access_token=***&state=xyz"
        );
        assert_eq!(url_secrets(u), ["abc.DEF-1"]);
        // A percent-encoded key is still the key.
        let u = "ws://h:1/ws?%74oken=t0k3n&x=1&api%5Fkey=k3y";
        assert_eq!(redact_url(u), "ws://h:1/ws?%74oken=***&x=1&api%5Fkey=***");
        assert_eq!(url_secrets(u), ["t0k3n", "k3y"]);
        // `+` and %20 in values: as given and as a server reads them.
        let u = "wss://h/ws?token=a+b%20c%2Bd";
        assert_eq!(redact_url(u), "wss://h/ws?token=***");
        assert_eq!(url_secrets(u), ["a b c+d", "a+b c+d", "a+b%20c%2Bd"]);
        // A percent-encoded password, decoded too.
        let u = "ws://me:p%40ss@h/";
        assert_eq!(redact_url(u), "ws://me:***@h/");
        assert_eq!(url_secrets(u), ["p@ss", "p%40ss"]);
        // A user alone is the credential.
        let u = "wss://ghp_abcdef@h/ws";
        assert_eq!(redact_url(u), "wss://***@h/ws");
        assert_eq!(url_secrets(u), ["ghp_abcdef"]);
        // IPv6 hosts.
        let u = "ws://u:pw@[::1]:8000/ws?secret=s&x=[1]";
        assert_eq!(redact_url(u), "ws://u:***@[::1]:8000/ws?secret=***&x=[1]");
        assert_eq!(url_secrets(u), ["pw", "s"]);
        assert_eq!(redact_url("ws://[::1]:8000/ws"), "ws://[::1]:8000/ws");
        // `;`-separated pairs.
        assert_eq!(
            redact_url("ws://h/?a=1;token=x1;b=2"),
            "ws://h/?a=1;token=***;b=2"
        );
        // Nothing to hide: exactly as given, not as the url crate writes it.
        for u in [
            "WS://Host:80/a/../b?x=1",
            "ws://h",
            "ws://h/p#frag",
            "ws://h/?token=",
        ] {
            assert_eq!(redact_url(u), u);
            assert!(url_secrets(u).is_empty(), "{u}");
        }
    }

    #[test]
    fn text_that_is_not_a_url_keeps_nothing_secret() {
        for (given, shown, secrets) in [
            (
                "127.0.0.1:8000/ws?token=abc",
                "127.0.0.1:8000/ws?token=***",
                &["abc"][..],
            ),
            (
                "localhost:8000/ws?key=k1",
                "localhost:8000/ws?key=***",
                &["k1"],
            ),
            ("u:pw@h:1/ws", "u:***@h:1/ws", &["pw"]),
            (
                "/ws?x=1&auth=a%2Bb#jwt=j",
                "/ws?x=1&auth=***#jwt=***",
                &["a+b", "a%2Bb", "j"],
            ),
            (
                "ws://u:pw@[bad/x?secret=s",
                "ws://u:***@[bad/x?secret=***",
                &["pw", "s"],
            ),
            ("ws://u:pa/ss@h/x", "ws://u:***@h/x", &["pa/ss"]),
            // A URL with a host `tok` and `@` in its path: no userinfo.
            ("ws://tok/en@h:1/x", "ws://tok/en@h:1/x", &[]),
            ("nonsense", "nonsense", &[]),
            ("", "", &[]),
            ("?#&=;@:%", "?#&=;@:%", &[]),
        ] {
            assert_eq!(redact_url(given), shown, "{given}");
            assert_eq!(url_secrets(given), secrets, "{given}");
        }
    }

    proptest::proptest! {
        /// Whatever surrounds it, a secret-looking key's value is hidden
        /// and reported.
        #[test]
        fn a_secret_value_never_shows(
            scheme in proptest::sample::select(vec!["", "ws://", "wss://u:p@", "http://[::1]:9/", "x:"]),
            prefix in "[a-z0-9:/.@\\[\\]%+#?-]{0,16}",
            sep in proptest::sample::select(vec!["?", "#", "?x=1&", "#a&", "?x=1;", "?x&"]),
            key in proptest::sample::select(vec!["token", "%74oken", "Api_Key", "auth", "client_secret", "pass%77ord", "JWT"]),
            value in "S3CR[A-Za-z0-9._~+%-]{4,10}",
            suffix in proptest::sample::select(vec!["", "&y=2", "#frag", ";z=3", "&token=", "#k=v"]),
        ) {
            let url = format!("{scheme}{prefix}{sep}{key}={value}{suffix}");
            let shown = redact_url(&url);
            proptest::prop_assert!(!shown.contains("S3CR"), "{} → {}", url, shown);
            let secrets = url_secrets(&url);
            // The value, or more when what follows belongs to it
            // (`#?token=v#frag`: the fragment's value is `v#frag`).
            proptest::prop_assert!(
                secrets.iter().any(|s| s.starts_with(&value)),
                "{} → {:?}", url, secrets
            );
        }
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

    #[test]
    fn iso_times_read_back() {
        assert_eq!(iso_time_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_time_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(iso_time_ms("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(iso_time_ms("2024-02-29T12:00:00Z"), Some(1_709_208_000_000));
        assert_eq!(iso_time_ms("2023-13-01T00:00:00Z"), None);
        assert_eq!(iso_time_ms("yesterday"), None);
        assert_eq!(iso_time_ms("2023-07-26T20:00:00"), None);
        for ms in [0, 951_782_400_000, 1_795_344_242_881] {
            assert_eq!(iso_time_ms(&iso_time(ms)), Some(ms));
        }
    }

    #[test]
    fn the_1st_10th_100th_are_said() {
        let said: Vec<u64> = (0..2000).filter(|&n| worth_saying(n)).collect();
        assert_eq!(said, [1, 10, 100, 1000]);
        assert!(worth_saying(10_000_000_000_000_000_000));
        assert!(!worth_saying(u64::MAX));
    }

    #[test]
    fn times_are_shown_in_a_zone() {
        let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        let ny = jiff::tz::TimeZone::get("America/New_York").unwrap();
        // 2026-12-07T01:02:03.456Z
        let ms = 1_796_605_323_456;
        assert_eq!(clock_in(ms, &jiff::tz::TimeZone::UTC), "01:02:03.456");
        assert_eq!(clock_in(ms, &paris), "02:02:03.456");
        assert_eq!(clock_in(ms, &ny), "20:02:03.456");
        assert_eq!(zone_name_in(ms, &paris), "CET, UTC+01:00");
        assert_eq!(zone_name_in(ms, &ny), "EST, UTC-05:00");
        assert_eq!(zone_name_in(ms, &jiff::tz::TimeZone::UTC), "UTC");
        // Summer time.
        let july = 1_783_000_000_000;
        assert!(zone_name_in(july, &paris).starts_with("CEST, UTC+02:00"));
    }
}
