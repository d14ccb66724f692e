use std::collections::HashMap;
use std::process::ExitCode;

use clap::Parser;
use tokio::sync::mpsc;

use roomtap::app::App;
use roomtap::cli::{Cli, Cmd, RoomArgs, ServeArgs};
use roomtap::event::{Command, EventKind, SourceEvent, SourceId};
use roomtap::relay::Relay;
use roomtap::room::token::Secret;
use roomtap::sources::room::Generation;
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
        max_log_bytes: cli.ui.max_bytes,
        max_actions: cli.ui.max_actions,
    };
    let result = rt.block_on(async move {
        match cli.command {
            Some(Cmd::Serve) => serve(&cli.serve).await,
            Some(Cmd::RoomServer) => room_server(&cli.room).await,
            Some(Cmd::Room { target }) => {
                let mut app = App::new(&cfg, theme);
                let (tx, rx) = mpsc::channel(8192);
                let mut routes = HashMap::new();
                let mut targets = vec![target];
                targets.extend(cli.room.rooms.iter().cloned());
                add_rooms(&mut app, &tx, &mut routes, &cli.room, &targets)?;
                app.ui.focus = roomtap::ui::Pane::Logs;
                drop(tx);
                roomtap::runtime::run_tui(app, rx, routes, cli.ui.fps)
                    .await
                    .map_err(|e| e.to_string())
            }
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
                add_rooms(&mut app, &tx, &mut routes, &cli.room, &cli.room.rooms)?;
                drop(tx);
                roomtap::runtime::run_tui(app, rx, routes, cli.ui.fps)
                    .await
                    .map_err(|e| e.to_string())
            }
            Some(Cmd::Demo { seed }) => {
                let seed = seed.unwrap_or_else(roomtap::event::now_ms);
                embedded(&cli.serve, &cli.room, cfg, theme, cli.ui.fps, Some(seed)).await
            }
            None => embedded(&cli.serve, &cli.room, cfg, theme, cli.ui.fps, None).await,
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
    rooms: &RoomArgs,
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
    let _room = match demo {
        Some(seed) => {
            let room = roomtap::demo::room::start(seed)
                .await
                .map_err(|e| format!("cannot start the demo room: {e}"))?;
            let id = app.store.add_source("room", "room", &room.url);
            spawn_room(
                &tx,
                &mut routes,
                id,
                roomtap::sources::room::RoomConfig::new(&room.url, Some(room.token.clone())),
            );
            Some(room)
        }
        None => None,
    };
    add_rooms(&mut app, &tx, &mut routes, rooms, &rooms.rooms)?;
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

fn spawn_room(
    tx: &mpsc::Sender<SourceEvent>,
    routes: &mut HashMap<SourceId, mpsc::Sender<Command>>,
    id: SourceId,
    cfg: roomtap::sources::room::RoomConfig,
) {
    let (ctx, crx) = mpsc::channel(256);
    roomtap::sources::room::spawn(cfg, Emitter::new(id, tx.clone()), crx);
    routes.insert(id, ctx);
}

/// The token given explicitly (file, variable, flag, MESHAGENT_TOKEN), with
/// warnings to show. Errors never include the token.
fn explicit_token(args: &RoomArgs) -> Result<(Option<Secret>, Vec<String>), String> {
    let mut warnings = Vec::new();
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        let t = text.lines().next().unwrap_or("").trim().to_string();
        if t.is_empty() {
            return Err(format!("the token file {} is empty", path.display()));
        }
        return Ok((Some(Secret::new(t)), warnings));
    }
    if let Some(var) = &args.token_env {
        let t = std::env::var(var).unwrap_or_default();
        if t.trim().is_empty() {
            return Err(format!("--token-env {var}: that variable is not set"));
        }
        return Ok((Some(Secret::new(t.trim())), warnings));
    }
    if let Some(t) = &args.token {
        warnings.push(
            "--token puts the token in your shell history and in `ps`: prefer --token-file or MESHAGENT_TOKEN".into(),
        );
        return Ok((Some(Secret::new(t.trim())), warnings));
    }
    let t = std::env::var("MESHAGENT_TOKEN").unwrap_or_default();
    Ok((
        (!t.trim().is_empty()).then(|| Secret::new(t.trim())),
        warnings,
    ))
}

/// Add one room source per target (URL or NAME).
fn add_rooms(
    app: &mut App,
    tx: &mpsc::Sender<SourceEvent>,
    routes: &mut HashMap<SourceId, mpsc::Sender<Command>>,
    args: &RoomArgs,
    targets: &[String],
) -> Result<(), String> {
    if targets.is_empty() {
        return Ok(());
    }
    let (token, mut warnings) = explicit_token(args)?;
    let generation = match args.dev_logs.as_str() {
        "current" => Generation::Current,
        "legacy" => Generation::Legacy,
        _ => Generation::Auto,
    };
    for target in targets {
        let url = roomtap::sources::room::room_url(target, |k| std::env::var(k).ok())?;
        let (url, in_url) = roomtap::sources::room::split_token(&url);
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
            && let Some(secret) = args.room_secret.as_deref().filter(|s| !s.is_empty())
        {
            token = Some(roomtap::room::token::participant_token(
                secret, "roomtap", &name,
            ));
        }
        let label = if targets.len() == 1 {
            "room".to_string()
        } else {
            name.chars().take(10).collect()
        };
        let id = app
            .store
            .add_source(&label, "room", &roomtap::text::redact_url(&url));
        for w in warnings.drain(..) {
            let _ = tx.try_send(SourceEvent::new(
                id,
                EventKind::Log(roomtap::event::LogRecord {
                    level: roomtap::event::Level::Warn,
                    kind: "token".into(),
                    summary: w,
                    data: None,
                }),
            ));
        }
        if token.is_none() {
            let _ = tx.try_send(SourceEvent::new(
                id,
                EventKind::Log(roomtap::event::LogRecord {
                    level: roomtap::event::Level::Warn,
                    kind: "token".into(),
                    summary: "no room token: set MESHAGENT_TOKEN, --token-file, --token-env or --room-secret".into(),
                    data: None,
                }),
            ));
        }
        let mut cfg = roomtap::sources::room::RoomConfig::new(&url, token);
        cfg.watch = !args.no_watch;
        cfg.generation = generation;
        spawn_room(tx, routes, id, cfg);
    }
    Ok(())
}

/// `roomtap room-server`: the room server alone, its log on stderr.
async fn room_server(args: &RoomArgs) -> Result<(), String> {
    let (tx, mut rx) = mpsc::channel::<SourceEvent>(8192);
    let secret = args
        .room_secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    let cfg = roomtap::room::RoomServerConfig {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], args.room_port)),
        secret: secret.clone(),
        ..Default::default()
    };
    let server = roomtap::room::RoomServer::start(cfg, Some(Emitter::new(0, tx)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.room_port))?;
    eprintln!(
        "roomtap room server on ws://{}/rooms/NAME ({})",
        server.local_addr(),
        if secret.is_some() {
            "tokens must be HS256-signed with the room secret"
        } else {
            "no --room-secret: any token is accepted"
        }
    );
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => print_event(&ev),
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("roomtap room server: stopping");
                return Ok(());
            }
        }
    }
}
