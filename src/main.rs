use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use roomtap::cli::{Cli, Cmd, SourceCmd};
use roomtap::modes::{self, Setup};
use roomtap::store::StoreConfig;
use roomtap::ui::theme::Theme;

/// mimalloc, not glibc's malloc: under a flood the relay, the monitor and
/// the store allocate and free ~1 KB blocks on different threads, past
/// glibc's per-thread cache (issue #12: malloc/free were a third of the
/// workers' time). `--max-bytes` counts by the larger of both allocators'
/// size classes (`store::heap`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The config file's values go where neither a flag nor a variable
    // gave one; clap then checks them as it checks flags.
    let cmd = Cli::command();
    let loaded = match roomtap::config::load(&cmd, std::env::args_os().collect()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("roomtap: {e}");
            return ExitCode::from(2);
        }
    };
    let matches = cmd.get_matches_from(&loaded.argv);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The keys: the preset, the file's [keys] over it, checked for a press
    // that would do two things.
    if let Err(e) = keys(&cli.ui.keys, &loaded) {
        eprintln!("roomtap: {e}");
        return ExitCode::from(2);
    }
    if cli.ui.print_config {
        print!(
            "{}",
            roomtap::config::print(&Cli::command(), &matches, &loaded)
        );
        return ExitCode::SUCCESS;
    }
    // What prints the command line's own definition needs nothing else.
    let printed = match &cli.command {
        Some(Cmd::Completions { shell }) => Some(roomtap::cli::completions(
            *shell,
            &mut std::io::stdout().lock(),
        )),
        Some(Cmd::Man) => Some(roomtap::cli::man_page(&mut std::io::stdout().lock())),
        _ => None,
    };
    match printed {
        Some(Ok(())) => return ExitCode::SUCCESS,
        // A reader that stopped early (`| head`) is not a failure.
        Some(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Some(Err(e)) => {
            eprintln!("roomtap: {e}");
            return ExitCode::FAILURE;
        }
        None => {}
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let theme_name = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        "mono".to_string()
    } else {
        cli.ui.theme.clone()
    };
    let theme = match Theme::load(&theme_name) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("roomtap: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("roomtap: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let setup = Setup {
        store: StoreConfig {
            max_log_entries: cli
                .ui
                .max_entries
                .unwrap_or(StoreConfig::default().max_log_entries),
            max_bytes: cli.ui.max_bytes,
            max_actions: cli.ui.max_actions,
            compact: true,
            keep_raw: cli.ui.keep_raw,
        },
        theme,
        fps: cli.ui.fps,
        record: cli.ui.record.clone(),
        record_max: cli.ui.record_max.map(|m| m as u64),
        utc: cli.ui.utc,
        keep_recordings_whole: cli.ui.max_entries.is_none(),
        mouse: cli.ui.mouse,
    };
    let result = rt.block_on(run(&cli, setup));
    // Sources may still be connecting: do not wait for them.
    rt.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roomtap: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Install the run's keys: `preset`, then the config file's `[keys]`.
fn keys(preset: &str, loaded: &roomtap::config::Loaded) -> Result<(), String> {
    use roomtap::ui::rebind;
    let mut k = rebind::Keymap::preset(preset)?;
    let path = loaded.path.clone().unwrap_or_default();
    for (action, presses, line) in &loaded.keys {
        let at = |what: String| roomtap::config::err(&path, *line, &format!("keys.{action}"), what);
        let a = rebind::action_named(action).ok_or_else(|| {
            let names: Vec<&str> = rebind::ACTIONS.iter().map(|(n, _)| *n).collect();
            at(format!(
                "no such action (the actions: {})",
                names.join(", ")
            ))
        })?;
        let keys = presses
            .iter()
            .map(|p| rebind::parse_press(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(at)?;
        if keys.is_empty() {
            return Err(at("no key given".into()));
        }
        k.bind(a.clone(), keys);
    }
    if let Err(c) = k.check() {
        // Said at the line of the (last) rebinding of either action.
        let named = loaded
            .keys
            .iter()
            .rev()
            .find(|(a, _, _)| rebind::action_named(a).is_some_and(|a| c.actions.contains(a)));
        return Err(match named {
            Some((action, _, line)) => {
                roomtap::config::err(&path, *line, &format!("keys.{action}"), c)
            }
            None => format!("--keys {preset}: {c}"),
        });
    }
    rebind::install(k)
}

/// Choose the mode the command asks for.
async fn run(cli: &Cli, setup: Setup) -> Result<(), String> {
    let flags = &cli.flags;
    let sources = |cmd: Option<&SourceCmd>| roomtap::protocols::build(cmd, flags);
    match &cli.command {
        Some(Cmd::Server(server)) => modes::headless(server.headless(flags)?).await,
        Some(Cmd::Tail {
            filter,
            json,
            all,
            source,
        }) => {
            let how = modes::TailHow {
                filter: filter.as_deref(),
                json: *json,
                all: *all,
            };
            modes::tail(setup, sources(source.as_ref())?, how).await
        }
        Some(Cmd::Source(cmd)) => modes::panes(setup, sources(Some(cmd))?).await,
        // Printed by `main` before anything starts.
        Some(Cmd::Completions { .. } | Cmd::Man) => Ok(()),
        None => modes::panes(setup, sources(None)?).await,
    }
}
