//! The one list of sources the command line can name. `Cmd` (the panes),
//! `tail` and `--<protocol>` on any command all build their sources here, so
//! every mode takes every source. A new protocol adds a variant to
//! [`SourceCmd`], its flags to [`SourceArgs`] and a line to [`build`].

use clap::{Args, Subcommand};

use crate::sources::Source;
use crate::sources::leap::args::LeapArgs;
use crate::sources::relay::args::{RelayArgs, ServeArgs};
use crate::sources::relay::source::RelayMonitor;
use crate::sources::room::args::RoomArgs;
use crate::sources::tokens::TokenArgs;

/// A source named as a subcommand (`roomtap relay URL`, `roomtap tail room NAME`...).
#[derive(Debug, Subcommand, Clone)]
pub enum SourceCmd {
    /// Monitor a Redux DevTools remote relay (@redux-devtools/cli or remotedev-server).
    Relay {
        /// WebSocket URL of the relay.
        #[arg(env = "ROOMTAP_RELAY_URL", default_value = crate::sources::relay::DEFAULT_URL)]
        url: String,
    },
    /// Inspect a MeshAgent room: live developer logs (both protocol generations), room status,
    /// connection facts. NAME uses MESHAGENT_ROOM_URL / MESHAGENT_API_URL as the SDKs do.
    Room {
        /// ws[s]://HOST/rooms/NAME, or a room NAME.
        #[arg(env = "MESHAGENT_ROOM", value_name = "URL|NAME")]
        target: String,
    },
    /// Watch a Hop Leap Edge project: channels with live state and its history of diffs,
    /// messages, pipe rooms, the connection's state machine. Needs --project.
    Leap {
        /// WebSocket URL of the edge (`?encoding=json&compression=zlib` is added unless it says).
        #[arg(env = "LEAP_URL", default_value = crate::sources::leap::DEFAULT_URL)]
        url: String,
    },
    /// roomtap's relay and inspector with two simulated apps (a shop and a chat) that really
    /// time-travel, and a MeshAgent room with agents: nothing else needed. Takes a free port
    /// if 8000 is taken (unless --port).
    Demo {
        /// Seed of the simulated users (the same seed replays the same story).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Replay a recording (--record FILE) into the panes, timeline included; commands are
    /// disabled.
    Open {
        file: std::path::PathBuf,
        /// Replay at recorded speed times N (1 = as recorded); without it, all at once.
        #[arg(long, value_name = "N")]
        speed: Option<f64>,
    },
}

/// Every protocol's flags, on every command.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    #[command(flatten)]
    pub relay: RelayArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub room: RoomArgs,
    #[command(flatten)]
    pub leap: LeapArgs,
    /// The token flags: the room's, or Leap's when Leap is the command's source.
    #[command(flatten)]
    pub tokens: TokenArgs,
}

/// The sources of a run: the one named (roomtap's own relay when none),
/// then every `--<protocol>` flag's.
pub fn build(cmd: Option<&SourceCmd>, args: &SourceArgs) -> Result<Vec<Box<dyn Source>>, String> {
    // The token flags are Leap's when Leap is the command, else the rooms'.
    let leap_cmd = matches!(cmd, Some(SourceCmd::Leap { .. }));
    let room_tokens = (!leap_cmd).then_some(&args.tokens);
    let leap_tokens = leap_cmd.then_some(&args.tokens);
    let mut out: Vec<Box<dyn Source>> = match cmd {
        None => vec![Box::new(args.serve.embedded())],
        Some(SourceCmd::Relay { url }) => vec![Box::new(RelayMonitor::new(url))],
        Some(SourceCmd::Room { target }) => args
            .room
            .sources(std::slice::from_ref(target), room_tokens)?,
        Some(SourceCmd::Leap { url }) => {
            args.leap.sources(std::slice::from_ref(url), leap_tokens)?
        }
        Some(SourceCmd::Demo { seed }) => crate::demo::source::sources(&args.serve, *seed),
        Some(SourceCmd::Open { file, speed }) => crate::sources::recording::sources(file, *speed)?,
    };
    out.extend(args.relay.sources());
    out.extend(args.room.sources(&args.room.rooms, room_tokens)?);
    out.extend(args.leap.sources(&args.leap.leaps, leap_tokens)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Cmd};
    use crate::sources::SourceKind;
    use clap::Parser;

    fn kinds(argv: &[&str]) -> Result<Vec<(SourceKind, String)>, String> {
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let cmd = match &cli.command {
            Some(Cmd::Source(c)) => Some(c),
            Some(Cmd::Tail { source, .. }) => source.as_ref(),
            _ => None,
        };
        Ok(build(cmd, &cli.sources)?
            .iter()
            .map(|s| (s.kind(), s.shown_url()))
            .collect())
    }

    #[test]
    fn every_mode_takes_every_source() {
        use SourceKind::*;
        let k = |argv: &[&str]| -> Vec<SourceKind> {
            kinds(argv).unwrap().into_iter().map(|(k, _)| k).collect()
        };
        assert_eq!(k(&["roomtap"]), [RoomtapRelay]);
        assert_eq!(
            k(&["roomtap", "--relay", "ws://127.0.0.1:9/socketcluster/"]),
            [RoomtapRelay, Relay]
        );
        // The panes and tail build the same list from the same flags.
        let flags = [
            "--relay",
            "ws://h:1/x",
            "--room",
            "ws://h:2/rooms/r",
            "--leap",
            "ws://h:3/ws",
            "--project",
            "p",
        ];
        let panes: Vec<&str> = ["roomtap", "demo"].into_iter().chain(flags).collect();
        let tail: Vec<&str> = ["roomtap", "tail", "demo"]
            .into_iter()
            .chain(flags)
            .collect();
        assert_eq!(k(&panes), [RoomtapRelay, Room, Leap, Relay, Room, Leap]);
        assert_eq!(
            k(&[
                "roomtap",
                "leap",
                "ws://h/ws",
                "--project",
                "p",
                "--channel",
                "c"
            ]),
            [Leap]
        );
        let e = kinds(&["roomtap", "leap", "ws://h/ws"]).unwrap_err();
        assert!(e.contains("--project"), "{e}");
        assert_eq!(k(&panes), k(&tail));
        assert_eq!(
            k(&[
                "roomtap",
                "room",
                "ws://h/rooms/a",
                "--room",
                "ws://h/rooms/b"
            ]),
            [Room, Room]
        );
    }

    #[test]
    fn credentials_never_reach_the_shown_url() {
        let got = kinds(&[
            "roomtap",
            "relay",
            "ws://u:hunter2@h:1/socketcluster/?secret=s3",
            "--room",
            "ws://h/rooms/r?token=t0k",
        ])
        .unwrap();
        for (_, url) in &got {
            for s in ["hunter2", "s3", "t0k"] {
                assert!(!url.contains(s), "{url} shows {s}");
            }
        }
    }

    #[test]
    fn a_missing_recording_is_an_error_before_anything_starts() {
        let e = kinds(&["roomtap", "open", "/nonexistent/roomtap.jsonl"]).unwrap_err();
        assert!(e.contains("cannot open"), "{e}");
    }
}
