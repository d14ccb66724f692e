//! Where a room is: a `ws[s]://` URL, or a room name under the base URL the
//! SDKs read from the environment; a token given in the URL is taken out.

use crate::protocols::room::wire::token::Secret;

/// The SDKs' default when no base URL is configured.
pub const DEFAULT_BASE: &str = "wss://api.meshagent.com";

/// `URL` as given, or `NAME` under `MESHAGENT_ROOM_URL` /
/// `MESHAGENT_API_URL` (http→ws) / the default, as the SDKs build it.
pub fn room_url(target: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    if target.contains("://") {
        if !(target.starts_with("ws://") || target.starts_with("wss://")) {
            return Err(format!(
                "a room URL starts with ws:// or wss://, not {:?}",
                target.split("://").next().unwrap_or("")
            ));
        }
        return Ok(target.to_string());
    }
    let valid = !target.is_empty()
        && target.len() <= 63
        && target
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !target.starts_with('-')
        && !target.ends_with('-');
    if !valid {
        return Err(format!(
            "{target:?} is neither a ws:// URL nor a room name (1–63 of a-z, 0-9 and -, not starting or ending with -)"
        ));
    }
    let base = env("MESHAGENT_ROOM_URL")
        .filter(|s| !s.is_empty())
        .or_else(|| {
            env("MESHAGENT_API_URL").filter(|s| !s.is_empty()).map(|u| {
                if let Some(r) = u.strip_prefix("https:") {
                    format!("wss:{r}")
                } else if let Some(r) = u.strip_prefix("http:") {
                    format!("ws:{r}")
                } else {
                    u
                }
            })
        })
        .unwrap_or_else(|| DEFAULT_BASE.to_string());
    Ok(format!("{}/rooms/{target}", base.trim_end_matches('/')))
}

/// Takes a `token=` query parameter out of a URL (it would be shown and
/// kept in history); returns the clean URL and the token.
pub fn split_token(url: &str) -> (String, Option<Secret>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut token = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("token=") {
            Some(t) => {
                token = Some(Secret::new(t));
                false
            }
            None => !kv.is_empty(),
        })
        .collect();
    let clean = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (clean, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_the_sdks_build_them() {
        let none = |_: &str| None;
        assert_eq!(
            room_url("demo", none).unwrap(),
            "wss://api.meshagent.com/rooms/demo"
        );
        let env = |k: &str| (k == "MESHAGENT_API_URL").then(|| "http://127.0.0.1:9/".to_string());
        assert_eq!(
            room_url("demo", env).unwrap(),
            "ws://127.0.0.1:9/rooms/demo"
        );
        let env = |k: &str| (k == "MESHAGENT_ROOM_URL").then(|| "ws://h".to_string());
        assert_eq!(room_url("a-1", env).unwrap(), "ws://h/rooms/a-1");
        assert_eq!(room_url("ws://x/rooms/y", none).unwrap(), "ws://x/rooms/y");
        assert!(room_url("Bad_Name", none).is_err());
        assert!(room_url("-x", none).is_err());
        assert!(room_url("http://x/rooms/y", none).is_err());
    }

    #[test]
    fn a_token_in_the_url_is_taken_out() {
        let (u, t) = split_token("ws://h/rooms/r?token=abc&v=1");
        assert_eq!(u, "ws://h/rooms/r?v=1");
        assert_eq!(t.unwrap().expose(), "abc");
        let (u, t) = split_token("ws://h/rooms/r?token=abc");
        assert_eq!(u, "ws://h/rooms/r");
        assert!(t.is_some());
        let (u, t) = split_token("ws://h/rooms/r");
        assert_eq!(u, "ws://h/rooms/r");
        assert!(t.is_none());
    }
}
