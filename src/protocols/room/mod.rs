//! The MeshAgent room protocol (`RoomClient`), all of it: `wire` (packets,
//! packed messages, tokens, developer-log payloads), `client` (the room
//! source: developer logs of both generations, `:` commands, `w`), `server`
//! (roomtap's own room server), `demo` (a room with agents), and here its
//! descriptor, flags and subcommands. The token comes from a file, a
//! variable or the flag (never shown), minted from the room secret when
//! there is none.

pub mod client;
pub mod demo;
pub mod server;
pub mod wire;

use clap::{Args, Subcommand};

use crate::event::{CommandKind, Level};
use crate::secret::Secret;
use crate::source::kind::{Caps, CommandLine, FirstPane, Protocol, SourceKind};
use crate::source::tokens::TokenArgs;
use crate::source::{Headless, Shared, Source};
use client::source::RoomSource;
use client::{Generation, RoomConfig};
use wire::model::RoomCommand;

/// The room protocol's descriptor: `:` commands and `w`.
pub static PROTOCOL: Protocol = Protocol {
    name: "room",
    server: "room server",
    older: &[],
    caps: Caps {
        commands: true,
        targets_instances: false,
        command_line: Some(CommandLine {
            usage: client::command::USAGE,
            verbs: client::command::VERBS,
            parse: client::command::parse_line,
        }),
        watch: Some(|| CommandKind::Room(RoomCommand::Watch(None))),
    },
    token_env: Some("MESHAGENT_TOKEN"),
    first_pane: FirstPane::Logs,
};

/// A room client.
pub const CLIENT: SourceKind = SourceKind::client(&PROTOCOL);
/// roomtap's room server.
pub const SERVER: SourceKind = SourceKind::server(&PROTOCOL);

/// MeshAgent rooms (`roomtap room`, `--room` with any other source,
/// `room-server`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "MeshAgent room")]
#[group(skip)]
pub struct Flags {
    /// Also inspect a MeshAgent room (ws:// URL or room NAME); repeatable.
    #[arg(long = "room", global = true, value_name = "URL|NAME")]
    pub rooms: Vec<String>,
    /// The room's HS256 secret: roomtap mints its own token for the room (as the SDKs do with
    /// MESHAGENT_SECRET); `room-server` checks tokens with it. Never shown or logged.
    #[arg(long, global = true, env = "MESHAGENT_SECRET", hide_env_values = true)]
    pub room_secret: Option<String>,
    /// Do not watch developer logs on connect (w toggles it).
    #[arg(long, global = true)]
    pub no_watch: bool,
    /// Developer-log protocol: auto (the toolkit, else legacy), current or legacy.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "current", "legacy"])]
    pub dev_logs: String,
    /// Port of `room-server`.
    #[arg(long, global = true, default_value_t = 8765)]
    pub room_port: u16,
}

/// `roomtap room URL|NAME`.
#[derive(Debug, Subcommand, Clone)]
pub enum Cmd {
    /// Inspect a MeshAgent room: live developer logs (both protocol generations), room status,
    /// connection facts. NAME uses MESHAGENT_ROOM_URL / MESHAGENT_API_URL as the SDKs do.
    Room {
        /// ws[s]://HOST/rooms/NAME, or a room NAME.
        #[arg(env = "MESHAGENT_ROOM", value_name = "URL|NAME")]
        target: String,
    },
}

/// `roomtap room-server`.
#[derive(Debug, Subcommand, Clone)]
pub enum ServerCmd {
    /// Run roomtap's MeshAgent room server alone, headless, logging to stderr (on
    /// 127.0.0.1:--room-port; checks HS256 tokens when --room-secret / MESHAGENT_SECRET is set).
    RoomServer,
}

impl Cmd {
    pub fn sources(&self, flags: &Flags, shared: Shared) -> Result<Vec<Box<dyn Source>>, String> {
        match self {
            Cmd::Room { target } => flags.sources(std::slice::from_ref(target), shared.tokens),
        }
    }
}

impl ServerCmd {
    pub fn headless(&self, flags: &Flags, shared: Shared) -> Result<Headless, String> {
        match self {
            ServerCmd::RoomServer => {
                let secret = flags.secret();
                let note = if secret.is_some() {
                    "tokens must be HS256-signed with the room secret"
                } else {
                    "no --room-secret: any token is accepted"
                };
                let server = server::source::RoomServerSource::new(server::RoomServerConfig {
                    bind: std::net::SocketAddr::from(([127, 0, 0, 1], flags.room_port)),
                    secret,
                    guard: shared.guard.guard(),
                    ..Default::default()
                });
                Ok(Headless::Serve {
                    source: Box::new(server),
                    banner: Box::new(move |url| format!("roomtap room server on {url} ({note})")),
                    who: "roomtap room server".into(),
                })
            }
        }
    }
}

/// The rooms `--room` adds.
pub fn added(flags: &Flags, shared: Shared) -> Result<Vec<Box<dyn Source>>, String> {
    flags.sources(&flags.rooms, shared.tokens)
}

impl Flags {
    /// The room secret, when one is given.
    pub fn secret(&self) -> Option<Secret> {
        self.room_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(Secret::new)
    }

    /// One room source per target (URL or NAME).
    /// `tokens`: the token flags, when they are the room's in this run.
    pub fn sources(
        &self,
        targets: &[String],
        tokens: Option<&TokenArgs>,
    ) -> Result<Vec<Box<dyn Source>>, String> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let (token, mut warnings) = match tokens {
            Some(t) => t.explicit("MESHAGENT_TOKEN")?,
            None => TokenArgs::default().explicit("MESHAGENT_TOKEN")?,
        };
        let generation = match self.dev_logs.as_str() {
            "current" => Generation::Current,
            "legacy" => Generation::Legacy,
            _ => Generation::Auto,
        };
        let mut out: Vec<Box<dyn Source>> = Vec::new();
        for target in targets {
            let url = client::room_url(target, |k| std::env::var(k).ok())?;
            let (url, in_url) = client::split_token(&url);
            let name = url
                .split('?')
                .next()
                .and_then(|u| u.rsplit('/').next())
                .unwrap_or("room")
                .to_string();
            let mut token = token.clone();
            if in_url.is_some() {
                warnings.push(
                    "the room URL carried ?token=: it was taken out of the URL (it is never shown), but it may be in your shell history".into(),
                );
                token = token.or(in_url);
            }
            if token.is_none()
                && let Some(secret) = self.room_secret.as_deref().filter(|s| !s.is_empty())
            {
                token = Some(wire::token::participant_token(secret, "roomtap", &name));
            }
            let label = if targets.len() == 1 {
                "room".to_string()
            } else {
                name.chars().take(10).collect()
            };
            let mut notes: Vec<(Level, String)> =
                warnings.drain(..).map(|w| (Level::Warn, w)).collect();
            if token.is_none() {
                notes.push((
                    Level::Warn,
                    "no room token: set MESHAGENT_TOKEN, --token-file, --token-env or --room-secret"
                        .into(),
                ));
            }
            let mut cfg = RoomConfig::new(&url, token);
            cfg.watch = !self.no_watch;
            cfg.generation = generation;
            let mut src = RoomSource::new(&label, cfg);
            src.notes = notes;
            src.extra_secrets = self.room_secret.iter().cloned().collect();
            out.push(Box::new(src));
        }
        Ok(out)
    }
}
