//! Command line. Every flag can also come from a `ROOMTAP_*` variable.

use clap::{Args, Parser, Subcommand};

pub use crate::protocols::{Flags, ServerCmd, SourceCmd};

#[derive(Debug, Parser)]
#[command(
    name = "roomtap",
    version,
    about = "A terminal inspector for realtime apps: logs, channels, connections and Redux time travel",
    long_about = "A terminal inspector for realtime apps. With no subcommand, roomtap starts its own Redux DevTools relay on 127.0.0.1:8000 (/socketcluster/) and opens the inspector attached to it: point apps using @redux-devtools/remote or remote-redux-devtools at it.",
    after_help = "Keys: press ? inside roomtap. NO_COLOR selects the mono theme."
)]
pub struct Cli {
    #[command(flatten)]
    pub ui: UiArgs,
    #[command(flatten)]
    pub flags: Flags,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Display and memory")]
pub struct UiArgs {
    /// Theme: a built-in name (dark, light, mono) or a path to a TOML file.
    #[arg(long, global = true, env = "ROOMTAP_THEME", default_value = "dark")]
    pub theme: String,
    /// Most redraws per second.
    #[arg(long, global = true, env = "ROOMTAP_FPS", default_value_t = 30)]
    pub fps: u32,
    /// Log lines kept in memory (oldest are evicted, and counted) [default: 200000; an opened
    /// recording is kept whole, within --max-bytes].
    #[arg(long, global = true, env = "ROOMTAP_MAX_ENTRIES")]
    pub max_entries: Option<usize>,
    /// Bytes the log lines and the Timeline's actions and states hold together, as the allocator
    /// counts them; the oldest go first (log lines evicted and counted, states dropped and marked on
    /// their rows). Suffixes K, M, G.
    #[arg(
        long,
        global = true,
        env = "ROOMTAP_MAX_BYTES",
        default_value = "256M",
        value_parser = parse_bytes
    )]
    pub max_bytes: usize,
    /// Append every event to FILE as JSON Lines (flushed every second; `roomtap open FILE`
    /// replays it), zstd-compressed when FILE ends with .zst. Tokens and secrets are never
    /// written.
    #[arg(long, global = true, env = "ROOMTAP_RECORD", value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// Write the recording in parts of at most SIZE (before compression): FILE, FILE.1,
    /// FILE.2…, each with the header; `roomtap open FILE` reads them as one. Suffixes K, M, G.
    #[arg(
        long,
        global = true,
        env = "ROOMTAP_RECORD_MAX",
        value_name = "SIZE",
        value_parser = parse_bytes
    )]
    pub record_max: Option<usize>,
    /// Timeline actions kept per app instance.
    #[arg(
        long,
        global = true,
        env = "ROOMTAP_MAX_ACTIONS",
        default_value_t = 10_000
    )]
    pub max_actions: usize,
    /// Show times in UTC (else in the local zone: TZ, else the system's), in the panes and in
    /// `tail`'s lines (its JSON always says UTC).
    #[arg(long, global = true, env = "ROOMTAP_UTC")]
    pub utc: bool,
    /// Key preset: default, or vim (h/l list and detail, L lock, Ctrl-F/Ctrl-B a page); the
    /// config file's [keys] rebind over it.
    #[arg(
        long,
        global = true,
        env = "ROOMTAP_KEYS",
        default_value = "default",
        value_parser = clap::builder::PossibleValuesParser::new(crate::ui::rebind::PRESETS)
    )]
    pub keys: String,
    /// Frames kept as they went over the wire (each up to 16 KiB), the newest: Enter on a Logs
    /// entry shows the frame(s) it came from. 0 keeps none.
    #[arg(long, global = true, env = "ROOMTAP_KEEP_RAW", value_name = "N", default_value_t = crate::store::KEEP_RAW)]
    pub keep_raw: usize,
    /// Take the mouse: the wheel moves the selection of the pane under the pointer, a click
    /// focuses and selects (never jumps). Off by default, so the terminal selects text; `m`
    /// toggles it while roomtap runs.
    #[arg(long, global = true, env = "ROOMTAP_MOUSE")]
    pub mouse: bool,
    /// The config file (TOML: long flags as keys; see the README) instead of
    /// $XDG_CONFIG_HOME/roomtap/config.toml. Flags and variables win over it.
    #[arg(long, global = true, env = "ROOMTAP_CONFIG", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Print the config in effect, each value with where it came from (flag, env, profile,
    /// file, default; secrets as ***), and exit.
    #[arg(long, global = true)]
    pub print_config: bool,
}

#[derive(Debug, Subcommand, Clone)]
pub enum Cmd {
    #[command(flatten)]
    Source(SourceCmd),
    #[command(flatten)]
    Server(ServerCmd),
    /// Print events to stdout instead of opening the panes: `roomtap tail [--filter Q] [--json]
    /// [--all] [SOURCE]`, SOURCE being any source subcommand (redux URL, room URL, leap URL,
    /// tracim, legume HOST:PORT, open FILE, demo); roomtap's own relay when none is given. Its
    /// options go before or after SOURCE. Connection changes and errors the filter leaves out
    /// are printed on stderr.
    Tail {
        /// Only entries matching this query (the `/` language).
        #[arg(long, value_name = "QUERY", global = true)]
        filter: Option<String>,
        /// One JSON object per line (time, source, level, kind, summary, data).
        #[arg(long, global = true)]
        json: bool,
        /// Every event, not only log entries: connection states, traffic, channels, facts,
        /// metrics, clients, commands sent (each a line, or with --json an object with its
        /// `event`).
        #[arg(long, global = true)]
        all: bool,
        #[command(subcommand)]
        source: Option<SourceCmd>,
    },
    /// Print a completion script for SHELL to stdout, e.g. `roomtap completions bash >
    /// ~/.local/share/bash-completion/completions/roomtap`, or in zsh `roomtap completions zsh
    /// > "${fpath[1]}/_roomtap"`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print roomtap's manual page (roff) to stdout: `roomtap man | man -l -`, or `roomtap man >
    /// ~/.local/share/man/man1/roomtap.1`.
    Man,
}

/// The completion script for `shell`, from the command line's definition
/// (made whole first: the generator panics on a write error, such as a
/// closed pipe).
pub fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "roomtap", &mut script);
    out.write_all(&script)
}

/// The manual page (roff), from the command line's definition: the
/// command's page with a section per subcommand.
pub fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    // Each subcommand: what it does and its own options; then every
    // flag's variable (clap_mangen leaves both out).
    use roff::{bold, line_break, roman};
    let mut r = roff::Roff::new();
    r.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        r.control("TP", []);
        r.text([bold(format!("roomtap {}", sub.get_name()))]);
        r.text([roman(about)]);
        let args: Vec<String> = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
            .map(|a| match (a.get_long(), a.get_value_names()) {
                (Some(l), _) => format!("--{l}"),
                (None, Some(v)) => v
                    .iter()
                    .map(|v| format!("<{v}>"))
                    .collect::<Vec<_>>()
                    .join(" "),
                (None, None) => a.get_id().to_string(),
            })
            .collect();
        if !args.is_empty() {
            r.text([line_break(), roman(format!("Takes: {}", args.join(", ")))]);
        }
    }
    r.control("SH", ["ENVIRONMENT"]);
    let mut seen = std::collections::BTreeMap::new();
    for a in cmd
        .get_arguments()
        .chain(cmd.get_subcommands().flat_map(|s| s.get_arguments()))
    {
        if let (Some(env), Some(long)) = (a.get_env(), a.get_long()) {
            seen.entry(env.to_string_lossy().into_owned())
                .or_insert_with(|| long.to_string());
        }
    }
    for (env, long) in seen {
        r.control("TP", []);
        r.text([bold(env)]);
        r.text([roman(format!("as --{long}"))]);
    }
    r.control("TP", []);
    r.text([bold("NO_COLOR")]);
    r.text([roman("set and not empty: the mono theme")]);
    r.to_writer(out)?;
    man.render_extra_section(out)?;
    man.render_version_section(out)?;
    man.render_authors_section(out)
}

/// `512`, `64K`, `256M`, `1G` (powers of 1024).
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1usize << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("{s:?}: use a number with K, M or G")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    num.trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?}: use a positive number with K, M or G"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("512").unwrap(), 512);
        assert_eq!(parse_bytes("64K").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("256m").unwrap(), 256 << 20);
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("12Q").is_err());
        assert!(parse_bytes("").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    fn kinds(argv: &[&str]) -> Result<Vec<(&'static str, String)>, String> {
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let cmd = match &cli.command {
            Some(Cmd::Source(c)) => Some(c),
            Some(Cmd::Tail { source, .. }) => source.as_ref(),
            _ => None,
        };
        Ok(crate::protocols::build(cmd, &cli.flags)?
            .iter()
            .map(|s| (s.kind().name(), s.shown_url()))
            .collect())
    }

    #[test]
    fn every_mode_takes_every_source() {
        let (relay_srv, relay, room, leap) = ("redux server", "redux", "room", "leap");
        let k = |argv: &[&str]| -> Vec<&'static str> {
            kinds(argv).unwrap().into_iter().map(|(k, _)| k).collect()
        };
        assert_eq!(k(&["roomtap"]), [relay_srv]);
        assert_eq!(
            k(&["roomtap", "--relay", "ws://127.0.0.1:9/socketcluster/"]),
            [relay_srv, relay]
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
        assert_eq!(
            k(&panes),
            [relay_srv, room, leap, "tracim", "legume", relay, room, leap]
        );
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
            [leap]
        );
        let e = kinds(&["roomtap", "leap", "ws://h/ws"]).unwrap_err();
        assert!(e.contains("--leap-project"), "{e}");
        assert_eq!(k(&panes), k(&tail));
        assert_eq!(
            k(&[
                "roomtap",
                "room",
                "ws://h/rooms/a",
                "--room",
                "ws://h/rooms/b"
            ]),
            [room, room]
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
