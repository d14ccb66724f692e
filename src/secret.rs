//! Credentials that never print.

/// A credential kept out of every `Debug`, `Display`, log and recording.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself: only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Secrets shorter than this are not masked: masking two characters would
/// shred every text they occur in (and such a secret protects nothing).
pub const MIN_MASKED: usize = 4;

/// What a masked secret becomes.
pub const MASK: &str = "***";

/// Every secret a run knows, masked in any text: the one place every output
/// passes (each event is masked as its source emits it, so the panes, the
/// detail, copy, `tail`, export, the recording and a server's own log all
/// see it masked). A secret is masked as given, as JSON escapes it inside a
/// string, and as a URL percent-encodes it.
#[derive(Default)]
pub struct Masker {
    any: std::sync::atomic::AtomicBool,
    inner: std::sync::RwLock<Patterns>,
}

#[derive(Default)]
struct Patterns {
    forms: Vec<String>,
    ac: Option<aho_corasick::AhoCorasick>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.inner.read().map_or(0, |p| p.forms.len());
        write!(f, "Masker({n} forms)")
    }
}

impl Masker {
    /// Mask `secret` from now on (and the forms it takes in JSON and URLs);
    /// false when it is too short to mask.
    pub fn add(&self, secret: &str) -> bool {
        let secret = secret.trim();
        if secret.chars().count() < MIN_MASKED {
            return false;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json
            .get(1..json.len().saturating_sub(1))
            .unwrap_or_default()
            .to_string();
        let json2 = serde_json::to_string(&json).unwrap_or_default();
        let json2 = json2
            .get(1..json2.len().saturating_sub(1))
            .unwrap_or_default()
            .to_string();
        let url: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let mut p = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let mut changed = false;
        for form in [secret.to_string(), json, json2, url] {
            if form.chars().count() >= MIN_MASKED && !p.forms.contains(&form) {
                p.forms.push(form);
                changed = true;
            }
        }
        if changed {
            // Longest first: a form that contains another is masked whole.
            p.forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
            p.ac = aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&p.forms)
                .ok();
            self.any.store(true, std::sync::atomic::Ordering::Release);
        }
        true
    }

    /// Whether any secret is masked.
    pub fn is_empty(&self) -> bool {
        !self.any.load(std::sync::atomic::Ordering::Acquire)
    }

    /// `text` with every secret masked; `None` when it holds none (the
    /// common case, found in one pass).
    pub fn mask(&self, text: &str) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let p = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let ac = p.ac.as_ref()?;
        if !ac.is_match(text) {
            return None;
        }
        let masks = vec![MASK; p.forms.len()];
        Some(ac.replace_all(text, &masks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_as_given_in_json_and_in_urls() {
        let m = Masker::default();
        assert!(m.mask("nothing to see").is_none());
        assert!(m.add("hunter2!"));
        assert!(m.add(r#"s"q\x"#));
        assert!(m.add("a b&c"));
        assert!(!m.add("ab"), "too short to mask");
        assert_eq!(m.mask("pw hunter2! end").as_deref(), Some("pw *** end"));
        assert_eq!(
            m.mask(r#"{"k":"s\"q\\x"}"#).as_deref(),
            Some(r#"{"k":"***"}"#)
        );
        // A payload kept as a JSON string literal holding JSON.
        assert_eq!(
            m.mask(r#""{\"k\":\"s\\\"q\\\\x\"}""#).as_deref(),
            Some(r#""{\"k\":\"***\"}""#)
        );
        assert_eq!(m.mask("?secret=a+b%26c").as_deref(), Some("?secret=***"));
        assert!(m.mask("ab ab ab").is_none());
    }
}
