//! What the user types or configures, as text: command lines (clap, every
//! flag), byte sizes (`--max-bytes`), room targets (URL or name, a token
//! taken out of the URL), room tokens (also what the room server checks
//! from remote clients), and the room's `:` command lines. Each line of the
//! input is tried as each of them; all lines together are one command
//! line. Nothing may panic; a token never stays in a URL it was taken from;
//! a token signed with the secret verifies to the claims it was given.

use clap::Parser;
use roomtap::cli::{Cli, parse_bytes};
use roomtap::protocols::room::client::{command, room_url, split_token};
use roomtap::protocols::room::wire::token::{
    allows_developer_logs, grant, peek_claims, sign_hs256, verify_hs256,
};
use serde_json::Value;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let next = lines.get(i + 1).copied();
        if let Ok(n) = parse_bytes(line) {
            assert!(n > 0);
        }
        let _ = room_url(line, |k| match k {
            "MESHAGENT_ROOM_URL" if i % 2 == 0 => next.map(str::to_string),
            "MESHAGENT_API_URL" => next.map(str::to_string),
            _ => None,
        });
        let (clean, token) = split_token(line);
        if token.is_some() {
            let query = clean.split_once('?').map_or("", |(_, q)| q);
            assert!(
                !query.split('&').any(|kv| kv.starts_with("token=")),
                "a token stays in {clean:?}"
            );
        }
        for claims in [
            peek_claims(line),
            verify_hs256(line, b"fuzz-secret", 0).ok(),
        ]
        .into_iter()
        .flatten()
        {
            let _ = grant(&claims, "room");
            let _ = allows_developer_logs(&claims);
        }
        let _ = command::parse(line);
    }
    if let Ok(Value::Object(claims)) = serde_json::from_str::<Value>(text) {
        let claims = Value::Object(claims);
        let token = sign_hs256(b"fuzz-secret", &claims);
        let got = verify_hs256(&token, b"fuzz-secret", 0);
        // serde_json reads some floats one ulp off what it wrote (it lacks
        // `float_roundtrip`): the claims are compared as read back from
        // their own JSON, which is what the token layer has to carry.
        let written: Value =
            serde_json::from_str(&claims.to_string()).expect("JSON serde wrote reads");
        if claims
            .get("exp")
            .and_then(Value::as_f64)
            .is_none_or(|e| e >= 0.0)
        {
            assert_eq!(got.as_ref(), Ok(&written), "signed claims verify");
        }
        assert_eq!(peek_claims(&token).as_ref(), Some(&written));
    }
    let args = std::iter::once("roomtap").chain(lines.iter().copied());
    let _ = Cli::try_parse_from(args);
}
