//! Who may join: the room from the path, the token from `Authorization:
//! Bearer` or `?token=` (verified when the server has a secret), and the
//! HTTP refusal otherwise.

use serde_json::Value;
use tokio_tungstenite::tungstenite::handshake::server::Request;

use super::RoomServerConfig;
use crate::serve::ws::Refuse;
use crate::protocols::room::wire::token;

/// The token of an upgrade request: `Authorization: Bearer` or `?token=`
/// (the query read as a form: percent-encoded keys and values, `+`).
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
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// What the upgrade callback learned.
#[derive(Default)]
pub(super) struct Admitted {
    pub(super) room: String,
    pub(super) name: String,
    pub(super) refused: Option<String>,
}

pub(super) fn admit(cfg: &RoomServerConfig, req: &Request) -> Result<Admitted, Refuse> {
    let path = req.uri().path();
    let room = path
        .strip_prefix("/rooms/")
        .filter(|r| !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| {
            Refuse::new(
                404,
                format!(
                    "no room at {}: rooms live at /rooms/NAME",
                    crate::text::sanitize_capped(path, 80)
                ),
            )
        })?
        .to_string();
    let tok = request_token(req);
    let claims = match (&cfg.secret, &tok) {
        (None, Some(t)) => token::peek_claims(t),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Refuse::new(
                403,
                "a token is required (Authorization: Bearer or ?token=)",
            ));
        }
        (Some(secret), Some(t)) => {
            let now = crate::event::now_ms() / 1000;
            let claims = token::verify_hs256(t, secret.expose().as_bytes(), now)
                .map_err(|e| Refuse::new(403, format!("token refused: {e}")))?;
            match token::grant(&claims, "room").and_then(Value::as_str) {
                Some(r) if r == room => {}
                Some(r) => {
                    return Err(Refuse::new(
                        403,
                        format!("token refused: it is for room {r:?}, not {room:?}"),
                    ));
                }
                None => return Err(Refuse::new(403, "token refused: it has no room grant")),
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

    fn req(uri: &str) -> Request {
        Request::builder().uri(uri).body(()).unwrap()
    }

    #[test]
    fn the_token_from_the_query_is_read_as_a_form() {
        assert_eq!(request_token(&req("/rooms/a?token=a%2Eb+c")).as_deref(), Some("a.b c"));
        assert_eq!(request_token(&req("/rooms/a?x=1&%74oken=t0k")).as_deref(), Some("t0k"));
        assert_eq!(request_token(&req("/rooms/a?token=%zz%")).as_deref(), Some("%zz%"));
        assert_eq!(request_token(&req("/rooms/a")), None);
    }
}
