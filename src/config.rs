//! The config file: `$XDG_CONFIG_HOME/roomtap/config.toml` (else the
//! platform's config folder), or `--config FILE` / `ROOMTAP_CONFIG`.
//!
//! Its keys are the long flags (`max-bytes = "512M"`, `utc = true`,
//! `redux = ["ws://…", "ws://…"]` for a repeatable one); a table named
//! after a subcommand holds that subcommand's own flags (`[tracim]
//! master = "…"`), and `[profiles.NAME]` a set of flags that `roomtap
//! @NAME` adds (the sources to connect, say). What the file gives is put
//! on the command line only where neither a flag nor a variable gave the
//! same, so the precedence is flag > env > profile > file > default, and
//! clap checks every value as it checks a flag's.
//!
//! Secrets are never written in it: a token or a secret key is refused
//! with the way to give it (`token-file`, `token-env`, a variable).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Command;
use clap::parser::ValueSource;

/// Largest config file read.
pub const MAX_FILE: u64 = 1 << 20;

/// The variable naming the config file.
pub const ENV: &str = "ROOMTAP_CONFIG";

/// Long flags that are not config keys.
const NOT_KEYS: [&str; 4] = ["help", "version", "config", "print-config"];

/// The subcommand `name`, at the top or under one (`tail`'s sources).
fn subcommand<'a>(cmd: &'a Command, name: &str) -> Option<&'a Command> {
    cmd.find_subcommand(name)
        .or_else(|| cmd.get_subcommands().find_map(|s| s.find_subcommand(name)))
}

/// Where a value in effect came from (for `--print-config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env(String),
    File { line: Option<usize> },
    Profile { name: String, line: Option<usize> },
    Default,
}

/// What the config file makes of a command line.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// The command line with the file's values put in.
    pub argv: Vec<OsString>,
    /// The flags the file (or a profile) gave, by their long name.
    pub given: BTreeMap<String, Origin>,
    /// `[keys]`: each action named there, its presses as written, its line.
    pub keys: Vec<(String, Vec<String>, Option<usize>)>,
}

/// The default config file: `$XDG_CONFIG_HOME/roomtap/config.toml`, else
/// `~/.config/roomtap/config.toml` (`~/Library/Application Support` on
/// macOS, `%APPDATA%` on Windows).
pub fn default_path() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        var("APPDATA")?
    } else if let Some(x) = var("XDG_CONFIG_HOME") {
        x
    } else if cfg!(target_os = "macos") {
        var("HOME")?.join("Library/Application Support")
    } else {
        var("HOME")?.join(".config")
    };
    Some(base.join("roomtap").join("config.toml"))
}

/// Whether a flag holds a secret (never in the file, `***` when printed).
pub fn is_secret(long: &str) -> bool {
    long == "token" || long.ends_with("secret")
}

/// The line `key = …` is on, under `[section]` (the top when none).
fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[') {
            // `[name]` or `[[name]]`, a comment after it.
            let h = h.trim_start_matches('[');
            current = h[..h.find(']').unwrap_or(h.len())].trim().to_string();
            continue;
        }
        let k = t.split('=').next().unwrap_or("").trim().trim_matches('"');
        if current == section && k == key && t.contains('=') {
            return Some(i + 1);
        }
    }
    None
}

/// The line of the header `[name]`.
fn header_line(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim()
                .strip_prefix('[')
                .and_then(|h| h.split(']').next())
                .is_some_and(|h| h.trim() == name)
        })
        .map(|i| i + 1)
}

/// A config error: the file, the line and the key, then what is wrong.
pub fn err(path: &Path, line: Option<usize>, key: &str, what: impl std::fmt::Display) -> String {
    match line {
        Some(l) => format!("{}:{l}: {key}: {what}", path.display()),
        None => format!("{}: {key}: {what}", path.display()),
    }
}

/// The arguments (`--name=value`, repeated for an array) a value stands
/// for, or why it cannot be one.
fn tokens(long: &str, v: &toml::Value, arg: &clap::Arg) -> Result<Vec<OsString>, String> {
    let takes_value = takes_value(arg);
    let many = matches!(arg.get_action(), clap::ArgAction::Append);
    let one = |v: &toml::Value| -> Result<String, String> {
        match v {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(n) => Ok(n.to_string()),
            toml::Value::Float(f) => Ok(f.to_string()),
            toml::Value::Boolean(b) => Ok(b.to_string()),
            other => Err(format!(
                "a {} is not a value for --{long}",
                other.type_str()
            )),
        }
    };
    match (v, takes_value) {
        (toml::Value::Boolean(true), false) => Ok(vec![format!("--{long}").into()]),
        (toml::Value::Boolean(false), false) => Ok(Vec::new()),
        (_, false) => Err(format!("--{long} is a switch: true or false")),
        (toml::Value::Array(_), true) if !many => {
            Err(format!("--{long} takes one value, not a list"))
        }
        (toml::Value::Array(items), true) => items
            .iter()
            .map(|i| one(i).map(|s| format!("--{long}={s}").into()))
            .collect(),
        (v, true) => Ok(vec![format!("--{long}={}", one(v)?).into()]),
    }
}

/// The subcommand a command line runs (the deepest one: `tail open`'s
/// `open`), with the chain of names down to it.
fn chain(m: &clap::ArgMatches) -> Vec<String> {
    let mut out = Vec::new();
    let mut m = m;
    while let Some((name, sub)) = m.subcommand() {
        out.push(name.to_string());
        m = sub;
    }
    out
}

/// Read the config file (`--config`, `ROOMTAP_CONFIG`, or the default
/// one if it exists) and put its values into `argv` where the command
/// line and the variables leave them unset. `roomtap @NAME …` takes the
/// profile `NAME` too. A command line clap refuses is left as it is (its
/// error is clap's to give).
pub fn load(cmd: &Command, argv: Vec<OsString>) -> Result<Loaded, String> {
    let mut argv = argv;
    // `@NAME` anywhere before a `--`.
    let stop = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    let at = (1..stop).find(|&i| argv[i].to_str().is_some_and(|a| a.starts_with('@')));
    let profile = match at {
        Some(i) => {
            let name = argv.remove(i).to_string_lossy()[1..].to_string();
            if name.is_empty() {
                return Err("@: name a profile of the config file (`roomtap @work`)".into());
            }
            Some(name)
        }
        None => None,
    };
    let named = explicit_path(&argv);
    let path = match &named {
        Some(p) => Some(p.clone()),
        None => default_path().filter(|p| p.exists()),
    };
    let Some(path) = path else {
        if let Some(p) = profile {
            return Err(format!(
                "@{p}: no config file to take the profile from (looked for {})",
                default_path().map_or("none".into(), |d| d.display().to_string())
            ));
        }
        return Ok(Loaded {
            argv,
            ..Loaded::default()
        });
    };
    let text = crate::files::read_text(&path, MAX_FILE, "config file")?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    // What the command line and the variables say already.
    let Ok(matches) = cmd.clone().try_get_matches_from(&argv) else {
        return Ok(Loaded {
            path: Some(path),
            argv,
            ..Loaded::default()
        });
    };
    let subs = chain(&matches);
    let mut top: Vec<OsString> = Vec::new();
    let mut end: Vec<OsString> = Vec::new();
    let mut given = BTreeMap::new();
    let mut keys = Vec::new();
    // The file's own keys first, then the profile's over them.
    let mut layers: Vec<(String, &toml::Table, Origin)> =
        vec![(String::new(), &table, Origin::File { line: None })];
    if let Some(p) = &profile {
        let t = table
            .get("profiles")
            .and_then(|v| v.as_table())
            .and_then(|ps| ps.get(p))
            .and_then(|v| v.as_table());
        match t {
            Some(t) => layers.push((
                format!("profiles.{p}"),
                t,
                Origin::Profile {
                    name: p.clone(),
                    line: None,
                },
            )),
            None => {
                return Err(format!("{}: @{p}: no [profiles.{p}] in it", path.display()));
            }
        }
    }
    // Per key, the last layer's value (the profile's over the file's).
    let mut chosen: BTreeMap<(String, String), (String, toml::Value, Origin)> = BTreeMap::new();
    for (section, t, origin) in &layers {
        for (key, value) in t.iter() {
            let line = line_of(&text, section, key);
            let at = |o: &Origin| match o {
                Origin::File { .. } => Origin::File { line },
                Origin::Profile { name, .. } => Origin::Profile {
                    name: name.clone(),
                    line,
                },
                o => o.clone(),
            };
            match value {
                toml::Value::Table(sub) if section.is_empty() && key == "profiles" => {
                    for (name, p) in sub {
                        if !p.is_table() {
                            return Err(err(
                                &path,
                                line_of(&text, "profiles", name),
                                &format!("profiles.{name}"),
                                "a profile is a table: [profiles.NAME]",
                            ));
                        }
                    }
                }
                toml::Value::Table(sub) if section.is_empty() && key == "keys" => {
                    for (action, v) in sub {
                        let kline = line_of(&text, "keys", action);
                        if action == "preset" {
                            // `preset = "vim"`: the --keys flag (a table
                            // cannot share the name with a top-level key).
                            let arg = cmd
                                .get_arguments()
                                .find(|a| a.get_long() == Some("keys"))
                                .ok_or_else(|| err(&path, kline, "keys.preset", "no presets"))?;
                            check(&path, kline, "keys.preset", cmd, arg, v)?;
                            chosen.insert(
                                (String::new(), "keys".into()),
                                ("keys".into(), v.clone(), Origin::File { line: kline }),
                            );
                            continue;
                        }
                        let presses = match v {
                            toml::Value::String(p) => vec![p.clone()],
                            toml::Value::Array(ps) => ps
                                .iter()
                                .map(|p| p.as_str().map(str::to_string))
                                .collect::<Option<Vec<_>>>()
                                .ok_or_else(|| {
                                    err(&path, kline, &format!("keys.{action}"), "keys are strings")
                                })?,
                            _ => {
                                return Err(err(
                                    &path,
                                    kline,
                                    &format!("keys.{action}"),
                                    "a key (\"C\", \"ctrl-x\") or a list of keys",
                                ));
                            }
                        };
                        keys.push((action.clone(), presses, kline));
                    }
                }
                toml::Value::Table(sub) => {
                    // A subcommand's own flags.
                    let Some(sc) = subcommand(cmd, key) else {
                        return Err(err(
                            &path,
                            header_line(&text, key),
                            key,
                            "unknown table (tables are subcommands, such as [tracim], [keys] and [profiles.NAME])",
                        ));
                    };
                    for (k, v) in sub {
                        let sline = line_of(
                            &text,
                            &if section.is_empty() {
                                key.clone()
                            } else {
                                format!("{section}.{key}")
                            },
                            k,
                        );
                        let arg = sc
                            .get_arguments()
                            .find(|a| a.get_long() == Some(k.as_str()))
                            .ok_or_else(|| {
                                err(
                                    &path,
                                    sline,
                                    &format!("{key}.{k}"),
                                    format!("`roomtap {key}` has no flag --{k}"),
                                )
                            })?;
                        let o = match &origin {
                            Origin::Profile { name, .. } => Origin::Profile {
                                name: name.clone(),
                                line: sline,
                            },
                            _ => Origin::File { line: sline },
                        };
                        check(&path, sline, &format!("{key}.{k}"), sc, arg, v)?;
                        chosen.insert((key.clone(), k.clone()), (k.clone(), v.clone(), o));
                    }
                }
                v => {
                    let arg = cmd
                        .get_arguments()
                        .filter(|a| a.get_long().is_some_and(|l| !NOT_KEYS.contains(&l)))
                        .find(|a| a.get_long() == Some(key.as_str()))
                        .ok_or_else(|| {
                            err(
                                &path,
                                line,
                                key,
                                "unknown key (keys are roomtap's long flags, as `roomtap --help` lists them)",
                            )
                        })?;
                    check(&path, line, key, cmd, arg, v)?;
                    chosen.insert(
                        (String::new(), key.clone()),
                        (key.clone(), v.clone(), at(origin)),
                    );
                }
            }
        }
    }
    for ((sub, _), (long, value, origin)) in chosen {
        let (m, scope): (&clap::ArgMatches, &mut Vec<OsString>) = if sub.is_empty() {
            (&matches, &mut top)
        } else if let Some(depth) = subs.iter().position(|s| *s == sub) {
            // That subcommand's own matches (`tail`'s in `tail open F`);
            // its flags go last, where the deepest command reads them
            // (an outer one's are global to it).
            let mut at = &matches;
            for name in &subs[..=depth] {
                at = at.subcommand_matches(name).unwrap_or(at);
            }
            (at, &mut end)
        } else {
            // Another subcommand's flags: not this run's.
            continue;
        };
        let c = if sub.is_empty() {
            cmd
        } else {
            subcommand(cmd, &sub).unwrap_or(cmd)
        };
        let Some(arg) = c
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()))
        else {
            continue;
        };
        let id = arg.get_id().as_str();
        if matches!(
            m.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        scope.extend(tokens(&long, &value, arg)?);
        given.insert(long, origin);
    }
    let mut out: Vec<OsString> = argv.iter().take(1).cloned().collect();
    out.extend(top);
    out.extend(argv.iter().skip(1).cloned());
    // A subcommand's flags after what it was given (before a `--`).
    let at = out.iter().position(|a| a == "--").unwrap_or(out.len());
    out.splice(at..at, end);
    Ok(Loaded {
        path: Some(path),
        argv: out,
        given,
        keys,
    })
}

/// Whether an argument takes a value (else a switch).
fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values()
}

/// A key's value checked as clap checks the flag's (a secret refused).
fn check(
    path: &Path,
    line: Option<usize>,
    key: &str,
    cmd: &Command,
    arg: &clap::Arg,
    v: &toml::Value,
) -> Result<(), String> {
    let long = arg.get_long().unwrap_or(key);
    if is_secret(long) {
        return Err(err(
            path,
            line,
            key,
            "a secret is not written in the config file: give a file (token-file = \"…\") or a variable (token-env = \"VAR\", or the flag's own variable)",
        ));
    }
    let toks = tokens(long, v, arg).map_err(|e| err(path, line, key, e))?;
    // Parsed alone by the command that owns the flag: a bad value is the
    // error clap gives for the flag (a missing positional is not ours).
    for t in toks {
        let Err(e) = cmd.clone().no_binary_name(true).try_get_matches_from([t]) else {
            continue;
        };
        use clap::error::ErrorKind as K;
        if matches!(
            e.kind(),
            K::InvalidValue
                | K::ValueValidation
                | K::InvalidUtf8
                | K::TooManyValues
                | K::WrongNumberOfValues
        ) {
            let msg = e.to_string();
            let first = msg
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string();
            return Err(err(path, line, key, first));
        }
    }
    Ok(())
}

/// Where `--config FILE` (or `--config=FILE`, or `ROOMTAP_CONFIG`) points.
fn explicit_path(argv: &[OsString]) -> Option<PathBuf> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os(ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The effective config, one line per global flag with where its value
/// came from (a secret as `***`), as TOML a config file could take.
pub fn print(cmd: &Command, matches: &clap::ArgMatches, loaded: &Loaded) -> String {
    let mut out =
        String::from("# roomtap's effective config: flag > env > profile > file > default\n");
    match &loaded.path {
        Some(p) => out.push_str(&format!("# config file: {}\n", p.display())),
        None => out.push_str(&format!(
            "# config file: none (looked for {})\n",
            default_path().map_or("none".into(), |d| d.display().to_string())
        )),
    }
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if NOT_KEYS.contains(&long) {
            continue;
        }
        let id = arg.get_id().as_str();
        let values: Vec<String> = matches
            .try_get_raw(id)
            .ok()
            .flatten()
            .map(|v| v.map(|s| s.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let origin = match loaded.given.get(long) {
            Some(o) => o.clone(),
            None => match matches.value_source(id) {
                Some(ValueSource::CommandLine) => Origin::Flag,
                Some(ValueSource::EnvVariable) => Origin::Env(
                    arg.get_env()
                        .map(|e| e.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ),
                _ => Origin::Default,
            },
        };
        let shown: Vec<String> = values
            .iter()
            .map(|v| {
                if is_secret(long) {
                    "\"***\"".to_string()
                } else if !takes_value(arg) || v.parse::<f64>().is_ok() {
                    v.clone()
                } else {
                    toml::Value::String(v.clone()).to_string()
                }
            })
            .collect();
        let value = match shown.len() {
            0 if !takes_value(arg) => "false".to_string(),
            0 => {
                out.push_str(&format!("# {long}: not set\n"));
                continue;
            }
            1 if !matches!(arg.get_action(), clap::ArgAction::Append) => shown[0].clone(),
            _ => format!("[{}]", shown.join(", ")),
        };
        let from = match &origin {
            Origin::Flag => "flag".to_string(),
            Origin::Env(v) => format!("env {v}"),
            Origin::File { line: Some(l) } => format!("file, line {l}"),
            Origin::File { line: None } => "file".to_string(),
            Origin::Profile { name, line } => match line {
                Some(l) => format!("profile @{name}, line {l}"),
                None => format!("profile @{name}"),
            },
            Origin::Default => "default".to_string(),
        };
        out.push_str(&format!("{long} = {value}  # {from}\n"));
    }
    if !loaded.keys.is_empty() {
        out.push_str("\n[keys]\n");
        for (action, presses, line) in &loaded.keys {
            let list: Vec<String> = presses
                .iter()
                .map(|p| toml::Value::String(p.clone()).to_string())
                .collect();
            let at = line.map_or("file".to_string(), |l| format!("file, line {l}"));
            out.push_str(&format!("{action} = [{}]  # {at}\n", list.join(", ")));
        }
    }
    out
}
