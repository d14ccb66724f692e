//! Command-line arguments of Leap (`roomtap leap`, `--leap` on any command,
//! `leap-server`) and how they become sources. The token comes from the
//! shared token flags (`--token-file`, `--token-env`, `--token`) when Leap
//! is the command's own source, else from LEAP_TOKEN; it goes only into
//! IDENTIFY.

use clap::Args;

use super::source::LeapSource;
use super::{LeapConfig, dial_url};
use crate::event::Level;
use crate::sources::Source;
use crate::sources::tokens::TokenArgs;

#[derive(Debug, Args, Clone)]
pub struct LeapArgs {
    /// Also watch a Hop Leap Edge (ws[s]:// URL); repeatable.
    #[arg(long = "leap", global = true, value_name = "URL")]
    pub leaps: Vec<String>,
    /// The Leap project id (IDENTIFY's project_id).
    #[arg(long, global = true, env = "LEAP_PROJECT", value_name = "ID")]
    pub project: Option<String>,
    /// Subscribe to this Leap channel on connect and after every reconnect; repeatable (`:sub
    /// ID` adds more).
    #[arg(long = "channel", global = true, value_name = "ID")]
    pub channels: Vec<String>,
    /// Leap compression to ask for (`?compression=`), unless the URL says.
    #[arg(long, global = true, default_value = "zlib", value_parser = ["zlib", "none"])]
    pub compression: String,
    /// Port of `leap-server`.
    #[arg(long, global = true, default_value_t = 8790)]
    pub leap_port: u16,
}

impl LeapArgs {
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
            .ok_or("Leap needs a project: --project ID (or LEAP_PROJECT)")?;
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
