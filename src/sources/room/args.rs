//! Command-line arguments of MeshAgent rooms (`roomtap room`, `--room` on any
//! command, `room-server`) and how they become sources: the token from a
//! file, a variable or the flag (never shown), minted from the room secret
//! when there is none.

use clap::Args;

use super::source::RoomSource;
use super::{Generation, RoomConfig};
use crate::event::Level;
use crate::secret::Secret;
use crate::sources::Source;
use crate::sources::tokens::TokenArgs;

/// MeshAgent rooms (`roomtap room`, `--room` with any other source).
#[derive(Debug, Args, Clone)]
pub struct RoomArgs {
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

impl RoomArgs {
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
            let url = super::room_url(target, |k| std::env::var(k).ok())?;
            let (url, in_url) = super::split_token(&url);
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
                token = Some(super::token::participant_token(secret, "roomtap", &name));
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
