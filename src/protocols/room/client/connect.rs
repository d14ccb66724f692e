//! Opening the room's WebSocket as `RoomClient` does (the token as
//! `Authorization: Bearer`, packets up to 64 chunks), and the room's words
//! for an HTTP answer instead of the upgrade.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::RoomConfig;
use crate::protocols::room::wire::codec;
use crate::protocols::room::wire::token::Secret;
use crate::link::SessionEnd;
use crate::link::ws::{self, Dial, Refusal, Words, Ws};

pub(super) async fn connect(cfg: &RoomConfig) -> Result<Ws, SessionEnd> {
    let mut req = match cfg.url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => {
            return Err(SessionEnd::Fatal {
                reason: format!("bad room URL: {e}"),
            });
        }
    };
    if let Some(t) = &cfg.token {
        match format!("Bearer {}", t.expose()).parse() {
            Ok(v) => {
                req.headers_mut().insert("authorization", v);
            }
            Err(_) => {
                return Err(SessionEnd::Fatal {
                    reason: "the token holds characters that cannot go in a header".into(),
                });
            }
        }
    }
    let dial = Dial {
        timeout: cfg.connect_timeout,
        config: Some(
            WebSocketConfig::default()
                .max_message_size(Some(codec::CHUNK * 64 + 64))
                .max_frame_size(Some(codec::CHUNK * 64 + 64)),
        ),
        nodelay: true,
    };
    let words = Words {
        bad_url: "bad room URL",
        http: &|status, body| refusal(status, body, cfg.token.as_ref()),
    };
    ws::connect(req, &dial, &words).await
}

/// The room's words for an HTTP answer instead of the upgrade (the body
/// shown, any token in it masked).
fn refusal(status: StatusCode, body: &str, token: Option<&Secret>) -> Refusal {
    let status = status.as_u16();
    let mut body = body.to_string();
    // A proxy may echo the request: never show the token.
    if let Some(tok) = token.filter(|t| !t.is_empty()) {
        body = body.replace(tok.expose(), "***");
    }
    let body: String = body.chars().take(200).collect();
    let body = match body.trim() {
        "" => String::new(),
        b => format!(" ({b})"),
    };
    match status {
        403 | 401 => Refusal::Fatal(if token.is_some() {
            format!(
                "the room refused the token (HTTP {status}){body}: is it signed for this room's project, with a room grant for it, and not expired? Not retried."
            )
        } else {
            format!(
                "the room wants a token (HTTP {status}){body}: pass --token-file, MESHAGENT_TOKEN or --token-env. Not retried."
            )
        }),
        404 => Refusal::Fatal(format!(
            "no room at this URL (HTTP 404){body}: check the room name and the base URL (MESHAGENT_ROOM_URL / MESHAGENT_API_URL). Not retried."
        )),
        423 => Refusal::Fatal(format!(
            "this room is currently disabled (HTTP 423){body}. Not retried."
        )),
        _ => Refusal::Retry(format!(
            "the room answered HTTP {status} instead of a WebSocket upgrade{body}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_in_words_with_the_token_masked() {
        let tok = Secret::new("s3cret");
        let r = refusal(
            StatusCode::FORBIDDEN,
            "  echo: Bearer s3cret \n",
            Some(&tok),
        );
        assert_eq!(
            r,
            Refusal::Fatal("the room refused the token (HTTP 403) (echo: Bearer ***): is it signed for this room's project, with a room grant for it, and not expired? Not retried.".into())
        );
        assert!(matches!(
            refusal(StatusCode::UNAUTHORIZED, "", None),
            Refusal::Fatal(r) if r.starts_with("the room wants a token (HTTP 401): pass")
        ));
        assert!(matches!(
            refusal(StatusCode::LOCKED, "", None),
            Refusal::Fatal(r) if r == "this room is currently disabled (HTTP 423). Not retried."
        ));
        assert_eq!(
            refusal(StatusCode::BAD_GATEWAY, &"x".repeat(300), None),
            Refusal::Retry(format!(
                "the room answered HTTP 502 instead of a WebSocket upgrade ({})",
                "x".repeat(200)
            ))
        );
    }
}
