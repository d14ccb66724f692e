//! A Tracim live message (TLM), as the daemon forwards it: `{"event_id",
//! "event_type", "read", "created", "fields"}` (the Go `TLMEvent` struct's
//! names). What a log line needs is read from it; the whole text stays the
//! entry's data, so `/` reaches every field (`data.fields.author.public_name`).

use serde_json::Value;

/// What one log line says of a TLM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlm {
    pub event_id: Option<u64>,
    /// `content.modified.html-document`.
    pub event_type: String,
    /// `content`, `modified`: the first two parts of `event_type`.
    pub entity: String,
    pub action: String,
    /// `html-document`: the rest, when there is one.
    pub subtype: Option<String>,
    /// `created`, in ms since the epoch, when it reads as RFC 3339.
    pub created_ms: Option<u64>,
    /// The content's, the workspace's or the user's label.
    pub label: Option<String>,
    pub author: Option<String>,
    pub workspace: Option<String>,
}

impl Tlm {
    /// `content.modified` (the log line's kind).
    pub fn kind(&self) -> String {
        format!("{}.{}", self.entity, self.action)
    }

    /// `html-document "Notes" by Global manager in Recherche #1234`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let mut put = |part: &str| {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(part);
        };
        if let Some(t) = &self.subtype {
            put(t);
        }
        if let Some(l) = &self.label {
            put(&format!("\"{l}\""));
        }
        if let Some(a) = &self.author {
            put(&format!("by {a}"));
        }
        if let Some(w) = &self.workspace {
            put(&format!("in {w}"));
        }
        if let Some(id) = self.event_id {
            put(&format!("#{id}"));
        }
        if s.is_empty() {
            s = self.event_type.clone();
        }
        s
    }
}

fn text_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Read a TLM's text; what is missing stays `None`, what is not a TLM is an
/// error in words.
pub fn decode(text: &str) -> Result<Tlm, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("the TLM is not JSON: {e}"))?;
    if !v.is_object() {
        return Err("the TLM is not a JSON object".into());
    }
    let event_type = match v.get("event_type") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) | None => return Err("the TLM has no \"event_type\"".into()),
        Some(_) => return Err("the TLM's \"event_type\" is not a string".into()),
    };
    let mut parts = event_type.splitn(3, '.');
    let entity = parts.next().unwrap_or_default().to_string();
    let action = parts.next().unwrap_or_default().to_string();
    let subtype = parts.next().map(str::to_string);
    let fields = v.get("fields").unwrap_or(&Value::Null);
    let label = text_at(fields, &["content", "label"])
        .or_else(|| text_at(fields, &["user", "public_name"]))
        .or_else(|| text_at(fields, &["workspace", "label"]))
        .map(str::to_string);
    Ok(Tlm {
        event_id: v.get("event_id").and_then(Value::as_u64),
        entity,
        action,
        subtype,
        created_ms: v
            .get("created")
            .and_then(Value::as_str)
            .and_then(rfc3339_ms),
        label,
        author: text_at(fields, &["author", "public_name"]).map(str::to_string),
        workspace: text_at(fields, &["workspace", "label"]).map(str::to_string),
        event_type,
    })
}

/// `2023-07-26T20:00:00Z`, `…T20:00:00.123+02:00` → ms since the epoch.
pub fn rfc3339_ms(s: &str) -> Option<u64> {
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
    let (y, m) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    u64::try_from(secs * 1000 + ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_captured_tlm_reads_as_one_line() {
        let text = r#"{"event_id":1234,"event_type":"content.modified.html-document","read":null,"created":"2023-07-26T20:00:00Z","fields":{"author":{"user_id":1,"public_name":"Global manager","username":"admin"},"workspace":{"workspace_id":3,"label":"Recherche \u0026 \u003cdev\u003e"},"content":{"content_id":77,"label":"Notes","content_type":"html-document"},"client_token":"abc"}}"#;
        let t = decode(text).unwrap();
        assert_eq!(t.kind(), "content.modified");
        assert_eq!(
            t.summary(),
            "html-document \"Notes\" by Global manager in Recherche & <dev> #1234"
        );
        assert_eq!(t.created_ms, Some(1_690_401_600_000));
    }

    #[test]
    fn what_is_not_a_tlm_is_said() {
        assert!(decode("nope").unwrap_err().contains("not JSON"));
        assert!(decode("[1]").unwrap_err().contains("not a JSON object"));
        assert!(decode("{}").unwrap_err().contains("event_type"));
        assert!(decode(r#"{"event_type":3}"#).unwrap_err().contains("not a string"));
        let bare = decode(r#"{"event_type":"user.created"}"#).unwrap();
        assert_eq!((bare.kind().as_str(), bare.summary().as_str()), ("user.created", "user.created"));
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(rfc3339_ms("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(rfc3339_ms("2024-02-29T12:00:00Z"), Some(1_709_208_000_000));
        assert_eq!(rfc3339_ms("2023-13-01T00:00:00Z"), None);
        assert_eq!(rfc3339_ms("yesterday"), None);
        assert_eq!(rfc3339_ms("2023-07-26T20:00:00"), None);
    }
}
