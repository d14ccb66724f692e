use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

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
            None => embedded(&cli.serve, cfg, theme, cli.ui.fps).await,
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

async fn start_relay(args: &ServeArgs, notices: Emitter) -> Result<Relay, String> {
    let cfg = args.config();
    Relay::start(cfg.clone(), Some(notices)).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "{} is in use: is another relay running there? Use --port, or `roomtap relay ws://{}/socketcluster/` to monitor it",
                cfg.bind, cfg.bind
            )
        } else {
            format!("cannot listen on {}: {e}", cfg.bind)
        }
    })
}

/// The embedded relay with the inspector attached in-process.
async fn embedded(
    args: &ServeArgs,
    cfg: StoreConfig,
    theme: Theme,
    fps: u32,
) -> Result<(), String> {
    let mut app = App::new(&cfg, theme);
    let (tx, rx) = mpsc::channel(8192);
    let mut routes: HashMap<SourceId, mpsc::Sender<Command>> = HashMap::new();
    let url_guess = format!("ws://{}/socketcluster/", args.config().bind);
    let server = app.store.add_source("relay", "roomtap relay", &url_guess);
    let relay = Arc::new(start_relay(args, Emitter::new(server, tx.clone())).await?);
    app.store.sources[usize::from(server)].url = relay.url();
    let monitor =
        app.store
            .add_source("monitor", "relay", &format!("in-process → {}", relay.url()));
    app.store.sources[usize::from(monitor)].targets_instances = true;
    let mut mcfg = relay::RelayConfig::new(&relay.url());
    let r = relay.clone();
    mcfg.local = Some(Arc::new(move || r.connect_local()));
    let (ctx, crx) = mpsc::channel(256);
    relay::spawn(mcfg, Emitter::new(monitor, tx.clone()), crx);
    routes.insert(monitor, ctx);
    drop(tx);
    let out = roomtap::runtime::run_tui(app, rx, routes, fps)
        .await
        .map_err(|e| e.to_string());
    drop(relay);
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
