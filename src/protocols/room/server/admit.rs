//! Who may join: the room from the path, the token from `Authorization:
//! Bearer` or `?token=` (verified when the server has a secret), and the
//! HTTP refusal otherwise.

use serde_json::Value;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};

use super::RoomServerConfig;
use crate::protocols::room::wire::token;

pub(super) fn refuse(status: u16, body: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(body.to_string()));
    *r.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::from_u16(status)
        .unwrap_or(tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST);
    r
}

/// The token of an upgrade request: `Authorization: Bearer` or `?token=`.
fn request_token(req: &Request) -> Option<String> {
    if let Some(h) = req.headers().get("authorization")
        && let Ok(v) = h.to_str()
        && let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    {
        return Some(t.trim().to_string());
    }
    let q = req.uri().query()?;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .map(percent_decode)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the upgrade callback learned.
#[derive(Default)]
pub(super) struct Admitted {
    pub(super) room: String,
    pub(super) name: String,
    pub(super) refused: Option<String>,
}

pub(super) fn admit(cfg: &RoomServerConfig, req: &Request) -> Result<Admitted, (u16, String)> {
    let path = req.uri().path();
    let room = path
        .strip_prefix("/rooms/")
        .filter(|r| !r.is_empty() && !r.contains('/'))
        .ok_or((404, format!("no room at {path}: rooms live at /rooms/NAME")))?
        .to_string();
    let tok = request_token(req);
    let claims = match (&cfg.secret, &tok) {
        (None, Some(t)) => token::peek_claims(t),
        (None, None) => None,
        (Some(_), None) => {
            return Err((
                403,
                "a token is required (Authorization: Bearer or ?token=)".into(),
            ));
        }
        (Some(secret), Some(t)) => {
            let now = crate::event::now_ms() / 1000;
            let claims = token::verify_hs256(t, secret.expose().as_bytes(), now)
                .map_err(|e| (403, format!("token refused: {e}")))?;
            match token::grant(&claims, "room").and_then(Value::as_str) {
                Some(r) if r == room => {}
                Some(r) => {
                    return Err((
                        403,
                        format!("token refused: it is for room {r:?}, not {room:?}"),
                    ));
                }
                None => return Err((403, "token refused: it has no room grant".into())),
            }
            Some(claims)
        }
    };
    let name = claims
        .as_ref()
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("anonymous")
        .to_string();
    let refused = claims
        .as_ref()
        .filter(|c| !token::allows_developer_logs(c))
        .map(|_| "the token has no developer grant".to_string());
    Ok(Admitted {
        room,
        name,
        refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Eb+c"), "a.b c");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        assert_eq!(percent_decode("é%4"), "é%4");
    }
}
