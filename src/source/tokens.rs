//! The token flags every protocol that takes a token shares
//! (`--token-file`, `--token-env`, `--token`), and how a token is found:
//! the file, the variable named, the flag (warned about), then the
//! protocol's own variable (MESHAGENT_TOKEN, LEAP_TOKEN). A token is a
//! [`Secret`]: errors never include it.

use clap::Args;

use crate::secret::Secret;

#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Tokens (the room's, or those of the protocol the command names)")]
#[group(skip)]
pub struct TokenArgs {
    /// File whose first line is the token (the room's JWT, or the Leap token with `roomtap
    /// leap`).
    #[arg(long, global = true, env = "ROOMTAP_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Environment variable that holds the token.
    #[arg(long, global = true, value_name = "VAR")]
    pub token_env: Option<String>,
    /// The token itself. Works, but lands in shell history and `ps`: prefer --token-file or
    /// the protocol's variable (MESHAGENT_TOKEN, LEAP_TOKEN).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
}

/// The largest token file read (a JWT is a few KiB).
pub const MAX_TOKEN_FILE: u64 = 64 << 10;

impl TokenArgs {
    /// The token given explicitly, else `env_var`'s; with warnings to show.
    pub fn explicit(&self, env_var: &str) -> Result<(Option<Secret>, Vec<String>), String> {
        let mut warnings = Vec::new();
        if let Some(path) = &self.token_file {
            let text = crate::files::read_text(path, MAX_TOKEN_FILE, "the token file")?;
            let t = text.lines().next().unwrap_or("").trim().to_string();
            if t.is_empty() {
                return Err(format!("the token file {} is empty", path.display()));
            }
            return Ok((Some(Secret::new(t)), warnings));
        }
        if let Some(var) = &self.token_env {
            let t = std::env::var(var).unwrap_or_default();
            if t.trim().is_empty() {
                return Err(format!("--token-env {var}: that variable is not set"));
            }
            return Ok((Some(Secret::new(t.trim())), warnings));
        }
        if let Some(t) = &self.token {
            warnings.push(format!(
                "--token puts the token in your shell history and in `ps`: prefer --token-file or {env_var}"
            ));
            return Ok((Some(Secret::new(t.trim())), warnings));
        }
        let t = std::env::var(env_var).unwrap_or_default();
        Ok((
            (!t.trim().is_empty()).then(|| Secret::new(t.trim())),
            warnings,
        ))
    }
}
