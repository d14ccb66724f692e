//! Hop's Leap Edge protocol, all of it: `wire` (frames, text and zlib, close
//! codes), `client` (the Leap source: the connection state machine,
//! channels with state, messages, pipe rooms, `:` commands), `server`
//! (roomtap's own Leap Edge), `demo` (a project whose channels move), and
//! here its descriptor, flags and subcommands. The token comes from the
//! shared token flags (`--token-file`, `--token-env`, `--token`) when Leap
//! is the command's own protocol, else from LEAP_TOKEN; it goes only into
//! IDENTIFY.

pub mod client;
pub mod demo;
pub mod server;
pub mod wire;

use clap::{Args, Subcommand};

use crate::event::Level;
use crate::source::kind::{Caps, CommandLine, FirstPane, Protocol, Role, SourceKind};
use crate::source::tokens::TokenArgs;
use crate::source::{Headless, Shared, Source};
use client::source::LeapSource;
use client::{LeapConfig, dial_url};

/// The Leap protocol's descriptor: `:` commands.
pub static PROTOCOL: Protocol = Protocol {
    name: "leap",
    server: "leap server",
    older: &[("leap edge", Role::Server)],
    caps: Caps {
        commands: true,
        targets_instances: false,
        command_line: Some(CommandLine {
            usage: client::command::USAGE,
            verbs: client::command::VERBS,
            parse: client::command::parse_line,
        }),
        watch: None,
    },
    token_env: Some("LEAP_TOKEN"),
    first_pane: FirstPane::Channels,
};

/// A Leap Edge client.
pub const CLIENT: SourceKind = SourceKind::client(&PROTOCOL);
/// roomtap's Leap Edge.
pub const SERVER: SourceKind = SourceKind::server(&PROTOCOL);

/// Leap (`roomtap leap`, `--leap` on any command, `leap-server`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Hop Leap")]
#[group(skip)]
pub struct Flags {
    /// Also watch a Hop Leap Edge (ws[s]:// URL); repeatable.
    #[arg(long = "leap", global = true, value_name = "URL")]
    pub leaps: Vec<String>,
    /// The Leap project id (IDENTIFY's project_id).
    #[arg(
        long = "leap-project",
        visible_alias = "project",
        global = true,
        env = "LEAP_PROJECT",
        value_name = "ID"
    )]
    pub project: Option<String>,
    /// Subscribe to this Leap channel on connect and after every reconnect; repeatable (`:sub
    /// ID` adds more).
    #[arg(
        long = "leap-channel",
        visible_alias = "channel",
        global = true,
        value_name = "ID"
    )]
    pub channels: Vec<String>,
    /// Leap compression to ask for (`?compression=`), unless the URL says.
    #[arg(
        long = "leap-compression",
        visible_alias = "compression",
        global = true,
        default_value = "zlib",
        value_parser = ["zlib", "none"]
    )]
    pub compression: String,
    /// Port of `leap-server`.
    #[arg(long, global = true, default_value_t = 8790)]
    pub leap_port: u16,
    /// Follow a Leap 4006 redirect to any host, and from wss:// to ws://. Without it a redirect
    /// is followed only to loopback, the same host or a host under it (or under hop.io from
    /// there), never to ws:// from wss://; any other is refused and the same edge dialled
    /// again, as the token goes wherever the redirect leads.
    #[arg(long, global = true)]
    pub leap_follow_any: bool,
}


/// `roomtap leap [URL]`.
#[derive(Debug, Subcommand, Clone)]
pub enum Cmd {
    /// Watch a Hop Leap Edge project: channels with live state and its history of diffs,
    /// messages, pipe rooms, the connection's state machine. Needs --leap-project.
    Leap {
        /// WebSocket URL of the edge (`?encoding=json&compression=zlib` is added unless it says).
        #[arg(env = "LEAP_URL", default_value = client::DEFAULT_URL)]
        url: String,
    },
}

/// `roomtap leap-server`.
#[derive(Debug, Subcommand, Clone)]
pub enum ServerCmd {
    /// Run roomtap's Leap Edge alone, headless, logging to stderr (on 127.0.0.1:--leap-port,
    /// serving --leap-project, default project_demo; each --leap-channel, and any channel a
    /// client subscribes to, is an unprotected channel with state {}; with a token flag, only
    /// that token is accepted).
    LeapServer,
}

impl Cmd {
    pub fn sources(&self, flags: &Flags, shared: Shared) -> Result<Vec<Box<dyn Source>>, String> {
        match self {
            Cmd::Leap { url } => flags.sources(std::slice::from_ref(url), shared.tokens),
        }
    }
}

impl ServerCmd {
    pub fn headless(&self, flags: &Flags, shared: Shared) -> Result<Headless, String> {
        match self {
            ServerCmd::LeapServer => {
                let (token, _) = shared
                    .tokens
                    .cloned()
                    .unwrap_or_default()
                    .explicit("LEAP_TOKEN")?;
                let note = if token.is_some() {
                    "only the given token is accepted; no token: project scope"
                } else {
                    "any token is accepted; no token: project scope"
                };
                let project = flags
                    .project
                    .clone()
                    .unwrap_or_else(|| "project_demo".into());
                let server = server::source::with_channels(
                    server::LeapServerConfig {
                        bind: std::net::SocketAddr::from(([127, 0, 0, 1], flags.leap_port)),
                        project: project.clone(),
                        tokens: token.into_iter().collect(),
                        guard: shared.guard.guard(),
                        create_channels: true,
                        ..Default::default()
                    },
                    flags.channels.clone(),
                );
                Ok(Headless::Serve {
                    source: Box::new(server),
                    banner: Box::new(move |url| {
                        format!("roomtap Leap Edge on {url}, project {project} ({note})")
                    }),
                    who: "roomtap Leap Edge".into(),
                })
            }
        }
    }
}

/// The Leap projects `--leap` adds.
pub fn added(flags: &Flags, shared: Shared) -> Result<Vec<Box<dyn Source>>, String> {
    flags.sources(&flags.leaps, shared.tokens)
}

impl Flags {
    /// One Leap source per URL. `tokens`: the token flags when they are
    /// Leap's in this run.
    pub fn sources(
        &self,
        urls: &[String],
        tokens: Option<&TokenArgs>,
    ) -> Result<Vec<Box<dyn Source>>, String> {
        if urls.is_empty() {
            return Ok(Vec::new());
        }
        let project = self
            .project
            .clone()
            .filter(|p| !p.trim().is_empty())
            .ok_or("Leap needs a project: --leap-project ID (or LEAP_PROJECT)")?;
        let (token, warnings) = match tokens {
            Some(t) => t.explicit("LEAP_TOKEN")?,
            None => TokenArgs::default().explicit("LEAP_TOKEN")?,
        };
        let mut out: Vec<Box<dyn Source>> = Vec::new();
        for (i, url) in urls.iter().enumerate() {
            if !(url.starts_with("ws://") || url.starts_with("wss://")) {
                return Err(format!(
                    "Leap URL {} is not ws:// or wss://",
                    crate::text::redact_url(url)
                ));
            }
            let mut cfg =
                LeapConfig::new(&dial_url(url, &self.compression), &project, token.clone());
            cfg.channels = self.channels.clone();
            cfg.follow_any = self.leap_follow_any;
            let label = if urls.len() == 1 {
                "leap".to_string()
            } else {
                format!("leap{}", i + 1)
            };
            let mut src = LeapSource::new(&label, cfg);
            src.notes = warnings.iter().map(|w| (Level::Warn, w.clone())).collect();
            if token.is_none() {
                src.notes.push((
                    Level::Info,
                    "no Leap token: connecting in the project's own scope (LEAP_TOKEN, --token-file or --token-env give one)".into(),
                ));
            }
            out.push(Box::new(src));
        }
        Ok(out)
    }
}
