use std::collections::HashMap;
use std::process::ExitCode;

use clap::Parser;
use tokio::sync::mpsc;

use roomtap::app::App;
use roomtap::cli::{Cli, Cmd, ServeArgs};
use roomtap::event::{Command, EventKind, SourceEvent, SourceId};
use roomtap::relay::Relay;
use roomtap::sources::{Emitter, relay};
use roomtap::store::StoreConfig;
use roomtap::ui::theme::Theme;

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
    let cfg = StoreConfig {
        max_log_entries: cli.ui.max_entries,
        max_actions: cli.ui.max_actions,
    };
    let result = rt.block_on(async move {
        match cli.command {
            Some(Cmd::Serve) => serve(&cli.serve).await,
            Some(Cmd::Relay { url }) => {
                let mut app = App::new(&cfg, theme);
                let (tx, rx) = mpsc::channel(8192);
                let mut routes = HashMap::new();
                let shown = roomtap::text::redact_url(&url);
                let id = app.store.add_source("relay", "relay", &shown);
                let (ctx, crx) = mpsc::channel(256);
                relay::spawn(
                    relay::RelayConfig::new(&url),
                    Emitter::new(id, tx.clone()),
                    crx,
                );
                routes.insert(id, ctx);
                drop(tx);
                roomtap::runtime::run_tui(app, rx, routes, cli.ui.fps)
                    .await
                    .map_err(|e| e.to_string())
            }
            Some(Cmd::Demo { seed }) => {
                let seed = seed.unwrap_or_else(roomtap::event::now_ms);
                embedded(&cli.serve, cfg, theme, cli.ui.fps, Some(seed)).await
            }
            None => embedded(&cli.serve, cfg, theme, cli.ui.fps, None).await,
        }
    });
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

fn bind_error(cfg: &roomtap::relay::RelayConfig, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        format!(
            "{} is in use: is another relay running there? Use --port, or `roomtap relay ws://{}/socketcluster/` to monitor it",
            cfg.bind, cfg.bind
        )
    } else {
        format!("cannot listen on {}: {e}", cfg.bind)
    }
}

async fn start_relay(args: &ServeArgs, notices: Emitter) -> Result<Relay, String> {
    let cfg = args.config();
    Relay::start(cfg.clone(), Some(notices))
        .await
        .map_err(|e| bind_error(&cfg, &e))
}

/// The embedded relay with the inspector attached in-process; with `demo`,
/// simulated apps connected to it as well.
async fn embedded(
    args: &ServeArgs,
    cfg: StoreConfig,
    theme: Theme,
    fps: u32,
    demo: Option<u64>,
) -> Result<(), String> {
    let mut app = App::new(&cfg, theme);
    let (tx, rx) = mpsc::channel(8192);
    let mut rcfg = args.config();
    let attached = match roomtap::relay::start_attached(&mut app.store, rcfg.clone(), &tx).await {
        // The demo needs no particular port: take a free one rather than fail.
        Err(e)
            if demo.is_some()
                && !args.port_given()
                && e.kind() == std::io::ErrorKind::AddrInUse =>
        {
            rcfg.bind.set_port(0);
            roomtap::relay::start_attached(&mut app.store, rcfg, &tx)
                .await
                .map_err(|e| format!("cannot listen: {e}"))?
        }
        Err(e) => return Err(bind_error(&rcfg, &e)),
        Ok(a) => a,
    };
    let mut routes: HashMap<SourceId, mpsc::Sender<Command>> = HashMap::new();
    routes.insert(attached.monitor, attached.commands.clone());
    let _apps = demo.map(|seed| {
        roomtap::demo::spawn_apps(
            roomtap::demo::client::Link::Local(roomtap::relay::local_connector(&attached.relay)),
            seed,
        )
    });
    drop(tx);
    let out = roomtap::runtime::run_tui(app, rx, routes, fps)
        .await
        .map_err(|e| e.to_string());
    drop(attached);
    out
}

/// `roomtap serve`: the relay alone, its log on stderr.
async fn serve(args: &ServeArgs) -> Result<(), String> {
    let (tx, mut rx) = mpsc::channel::<SourceEvent>(8192);
    let relay = start_relay(args, Emitter::new(0, tx)).await?;
    eprintln!("roomtap relay listening on {}", relay.url());
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => print_event(&ev),
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("roomtap relay: stopping");
                return Ok(());
            }
        }
    }
}

fn print_event(ev: &SourceEvent) {
    let t = roomtap::text::clock(ev.at_ms);
    match &ev.kind {
        EventKind::Log(r) => eprintln!(
            "{t} {:<5} {}",
            r.level.label(),
            roomtap::text::sanitize_capped(&r.summary, 400)
        ),
        EventKind::Malformed { what, .. } => {
            eprintln!("{t} error {}", roomtap::text::sanitize_capped(what, 400))
        }
        _ => {}
    }
}
