use std::process::ExitCode;

use clap::Parser;

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
    let cli = Cli::parse();
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
            max_log_entries: cli.ui.max_entries,
            max_bytes: cli.ui.max_bytes,
            max_actions: cli.ui.max_actions,
        },
        theme,
        fps: cli.ui.fps,
        record: cli.ui.record.clone(),
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

/// Choose the mode the command asks for.
async fn run(cli: &Cli, setup: Setup) -> Result<(), String> {
    let args = &cli.sources;
    let sources = |cmd: Option<&SourceCmd>| roomtap::registry::build(cmd, args);
    match &cli.command {
        Some(Cmd::Serve) => {
            let mut relay = args.serve.embedded();
            relay.monitor = false;
            modes::headless(
                Box::new(relay),
                |url| format!("roomtap relay listening on {url}"),
                "roomtap relay",
            )
            .await
        }
        Some(Cmd::RoomServer) => {
            let secret = args.room.secret();
            let note = if secret.is_some() {
                "tokens must be HS256-signed with the room secret"
            } else {
                "no --room-secret: any token is accepted"
            };
            let server = roomtap::sources::room::source::RoomServerSource {
                cfg: roomtap::room::RoomServerConfig {
                    bind: std::net::SocketAddr::from(([127, 0, 0, 1], args.room.room_port)),
                    secret,
                    guard: args.serve.guard.guard(),
                    ..Default::default()
                },
            };
            modes::headless(
                Box::new(server),
                |url| format!("roomtap room server on {url} ({note})"),
                "roomtap room server",
            )
            .await
        }
        Some(Cmd::LeapServer) => {
            let (token, _) = args.tokens.explicit("LEAP_TOKEN")?;
            let note = if token.is_some() {
                "only the given token is accepted; no token: project scope"
            } else {
                "any token is accepted; no token: project scope"
            };
            let project = args
                .leap
                .project
                .clone()
                .unwrap_or_else(|| "project_demo".into());
            let server = roomtap::sources::leap::source::LeapServerSource {
                channels: Vec::new(),
                cfg: roomtap::leap::LeapServerConfig {
                    bind: std::net::SocketAddr::from(([127, 0, 0, 1], args.leap.leap_port)),
                    project: project.clone(),
                    tokens: token.into_iter().collect(),
                    guard: args.serve.guard.guard(),
                    create_channels: true,
                    ..Default::default()
                },
            };
            let channels = args.leap.channels.clone();
            let server = roomtap::sources::leap::source::LeapServerSource { channels, ..server };
            modes::headless(
                Box::new(server),
                |url| format!("roomtap Leap Edge on {url}, project {project} ({note})"),
                "roomtap Leap Edge",
            )
            .await
        }
        Some(Cmd::Tail {
            filter,
            json,
            source,
        }) => modes::tail(setup, sources(source.as_ref())?, filter.as_deref(), *json).await,
        Some(Cmd::Source(cmd)) => modes::panes(setup, sources(Some(cmd))?).await,
        None => modes::panes(setup, sources(None)?).await,
    }
}
