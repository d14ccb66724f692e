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
            .and_then(crate::text::iso_time_ms),
        label,
        author: text_at(fields, &["author", "public_name"]).map(str::to_string),
        workspace: text_at(fields, &["workspace", "label"]).map(str::to_string),
        event_type,
    })
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
}
