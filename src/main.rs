use std::collections::HashMap;
use std::process::ExitCode;

use clap::Parser;
use tokio::sync::mpsc;

use roomtap::app::App;
use roomtap::cli::{Cli, Cmd};
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
        let mut app = App::new(&cfg, theme);
        let (tx, rx) = mpsc::channel(8192);
        let mut routes = HashMap::new();
        match cli.command.unwrap_or(Cmd::Relay {
            url: relay::DEFAULT_URL.to_string(),
        }) {
            Cmd::Relay { url } => {
                let id = app.store.add_source("relay", "relay", &url);
                let (ctx, crx) = mpsc::channel(256);
                relay::spawn(
                    relay::RelayConfig::new(&url),
                    Emitter::new(id, tx.clone()),
                    crx,
                );
                routes.insert(id, ctx);
            }
        }
        drop(tx);
        roomtap::runtime::run_tui(app, rx, routes, cli.ui.fps).await
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
