//! The real Hop Leap Edge Rust client (crates.io `leap_client_rs` 0.1.5) as
//! a peer for roomtap's tests.
//!
//!   roomtap-leap-rs-peer URL PROJECT TOKEN|- CHANNEL|- SECONDS
//!
//! Connects with `LeapEdge::new` (which appends
//! `?encoding=json&compression=none` to URL itself), subscribes to CHANNEL
//! (unless `-`), and prints one line per event the client delivers:
//!   `READY` once `LeapEdge::new` returned,
//!   `EVENT {json}` for each event (the client's own typed `Event`,
//!   re-serialised: `{"e":"INIT","c":..,"d":{..}}`),
//!   `ERROR text` if it failed, `DEADLINE` after SECONDS, `END` if the
//!   client's event stream ended. Bounded: it always exits by SECONDS.
use std::io::Write;
use std::time::Duration;

use leap_client_rs::{LeapEdge, LeapOptions};

fn line(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
    let _ = out.flush();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: {} URL PROJECT TOKEN|- CHANNEL|- SECONDS", args[0]);
        std::process::exit(2);
    }
    let (url, project, token, channel) = (&args[1], &args[2], &args[3], &args[4]);
    let secs: u64 = args[5].parse().unwrap_or(10).min(600);
    let token = (token != "-").then_some(token.as_str());
    let run = async {
        let mut leap = match LeapEdge::new(LeapOptions {
            token,
            project,
            ws_url: url,
        })
        .await
        {
            Ok(l) => l,
            Err(e) => {
                line(&format!("ERROR connect: {e:?}"));
                return;
            }
        };
        line("READY");
        if channel != "-" {
            if let Err(e) = leap.channel_subscribe(channel).await {
                line(&format!("ERROR subscribe: {e:?}"));
            }
        }
        while let Some(ev) = leap.listen().await {
            match serde_json::to_string(&ev) {
                Ok(j) => line(&format!("EVENT {j}")),
                Err(e) => line(&format!("ERROR serialise: {e}")),
            }
        }
        line("END");
    };
    if tokio::time::timeout(Duration::from_secs(secs), run)
        .await
        .is_err()
    {
        line("DEADLINE");
    }
    std::process::exit(0);
}
