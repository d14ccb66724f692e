//! MeshAgent participant tokens: HS256 JWTs (`{name, grants, sub, kid,
//! version, exp?}`), minted and checked the way the SDKs and the hosted
//! server do. A token is a secret: [`Secret`] never prints it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub use crate::secret::Secret;

/// Sign `claims` with HS256.
pub fn sign_hs256(secret: &[u8], claims: &Value) -> String {
    let head = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = B64.encode(claims.to_string());
    let signing = format!("{head}.{body}");
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(signing.as_bytes());
    let sig = B64.encode(mac.finalize().into_bytes());
    format!("{signing}.{sig}")
}

/// Check an HS256 token (signature in constant time, `exp` if present) and
/// return its claims. The error says what is wrong without echoing the token.
pub fn verify_hs256(token: &str, secret: &[u8], now_s: u64) -> Result<Value, String> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWT (three dot-separated parts expected)".into());
    };
    let header: Value = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the JWT header does not decode")?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err("only HS256 tokens are accepted".into());
    }
    let sig = B64
        .decode(s)
        .map_err(|_| "the JWT signature does not decode")?;
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(p.as_bytes());
    mac.verify_slice(&sig)
        .map_err(|_| "bad signature (signed with another secret?)")?;
    let claims: Value = B64
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(Value::is_object)
        .ok_or("the JWT claims do not decode to an object")?;
    if let Some(exp) = claims.get("exp").and_then(Value::as_f64)
        && exp < now_s as f64
    {
        return Err("the token has expired".into());
    }
    Ok(claims)
}

/// The claims of a token without checking it (for display: name, room).
pub fn peek_claims(token: &str) -> Option<Value> {
    let p = token.split('.').nth(1)?;
    let v: Value = serde_json::from_slice(&B64.decode(p).ok()?).ok()?;
    v.is_object().then_some(v)
}

/// A user token for `room` as `ParticipantToken` builds it (room and role
/// grants, the default user API scope, which carries `developer`).
pub fn participant_token(secret: &str, name: &str, room: &str) -> Secret {
    let scope = json!({
        "livekit": {}, "queues": {}, "messaging": {}, "dataset": {}, "sqlite": {},
        "memory": {}, "sync": {}, "storage": {}, "containers": {}, "developer": {},
        "agents": {}, "services": {}
    });
    let claims = json!({
        "name": name,
        "grants": [
            {"name": "room", "scope": room},
            {"name": "role", "scope": "user"},
            {"name": "api", "scope": scope},
        ],
        "sub": "local-project",
        "version": env!("CARGO_PKG_VERSION"),
    });
    Secret::new(sign_hs256(secret.as_bytes(), &claims))
}

/// The scope of a grant named `name`.
pub fn grant<'a>(claims: &'a Value, name: &str) -> Option<&'a Value> {
    claims
        .get("grants")?
        .as_array()?
        .iter()
        .find(|g| g.get("name").and_then(Value::as_str) == Some(name))?
        .get("scope")
}

/// Whether the token may emit and read developer logs: an `api` grant with
/// `developer` whose `logs` is not false. A token without any `api` grant
/// predates scopes and is allowed.
pub fn allows_developer_logs(claims: &Value) -> bool {
    match grant(claims, "api") {
        None => true,
        Some(api) => api
            .get("developer")
            .is_some_and(|d| d.get("logs").and_then(Value::as_bool) != Some(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_refuses_tampering() {
        let t = participant_token("devsecret", "me", "test");
        let c = verify_hs256(t.expose(), b"devsecret", 0).unwrap();
        assert_eq!(c["name"], "me");
        assert_eq!(grant(&c, "room").unwrap(), "test");
        assert!(allows_developer_logs(&c));
        assert!(verify_hs256(t.expose(), b"other", 0).is_err());
        let mut bad = t.expose().to_string();
        bad.insert(bad.len() - 3, 'A');
        assert!(verify_hs256(&bad, b"devsecret", 0).is_err());
        assert!(verify_hs256("a.b", b"devsecret", 0).is_err());
        assert_eq!(format!("{t:?}"), "Secret(***)");
    }

    #[test]
    fn expiry_and_grants() {
        let c = json!({"name":"x","exp": 100, "grants":[{"name":"api","scope":{"developer":{"logs":false}}}]});
        let t = sign_hs256(b"k", &c);
        assert!(verify_hs256(&t, b"k", 50).is_ok());
        assert_eq!(
            verify_hs256(&t, b"k", 200).unwrap_err(),
            "the token has expired"
        );
        assert!(!allows_developer_logs(&c));
        assert!(!allows_developer_logs(
            &json!({"grants":[{"name":"api","scope":{"storage":{}}}]})
        ));
    }

    /// A token the real JS client sent (captures/meshagent, signed with
    /// the test secret `devsecret`).
    #[test]
    fn verifies_a_token_minted_by_the_real_sdk() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/captures/meshagent/frames_js_0399.jsonl"
        );
        let text = std::fs::read_to_string(path).expect("the capture in tests/fixtures");
        let jwt = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .find(|w| w.starts_with("eyJ") && w.matches('.').count() == 2)
            .expect("a JWT in the capture");
        let c = verify_hs256(jwt, b"devsecret", 0).unwrap();
        assert!(c.get("name").is_some());
    }
}
