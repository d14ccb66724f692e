use std::collections::HashMap;
use std::process::ExitCode;

use clap::Parser;
use tokio::sync::mpsc;

use roomtap::app::App;
use roomtap::cli::{Cli, Cmd, RoomArgs, ServeArgs, Source};
use roomtap::event::{Command, EventKind, SourceEvent, SourceId};
use roomtap::relay::Relay;
use roomtap::sources::room::Generation;
use roomtap::sources::room::token::Secret;
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
        match cli.command.clone() {
            Some(Cmd::Serve) => serve(&cli.serve).await,
            Some(Cmd::RoomServer) => room_server(&cli.room).await,
            Some(Cmd::Tail {
                filter,
                json,
                source,
            }) => tail(&cli, cfg, theme, source, filter.as_deref(), json).await,
            other => {
                let source = match other {
                    Some(Cmd::Relay { url }) => Some(Source::Relay { url }),
                    Some(Cmd::Room { target }) => Some(Source::Room { target }),
                    Some(Cmd::Demo { seed }) => Some(Source::Demo { seed }),
                    Some(Cmd::Open { file, speed }) => Some(Source::Open { file, speed }),
                    _ => None,
                };
                panes(&cli, cfg, theme, source).await
            }
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

/// What keeps the sources of a session alive.
type Keep = Vec<Box<dyn std::any::Any + Send>>;

/// Sources wired into `app`: the one named (roomtap's own relay when none)
/// plus every `--room`. Returns what must stay alive while they run.
async fn setup(
    cli: &Cli,
    app: &mut App,
    tx: &mpsc::Sender<SourceEvent>,
    routes: &mut HashMap<SourceId, mpsc::Sender<Command>>,
    source: Option<Source>,
) -> Result<Keep, String> {
    let mut keep: Keep = Vec::new();
    match source {
        Some(Source::Relay { url }) => {
            let shown = roomtap::text::redact_url(&url);
            let id =
                app.store
                    .add_source("relay", roomtap::sources::kind::SourceKind::Relay, &shown);
            let (ctx, crx) = mpsc::channel(256);
            relay::spawn(
                relay::RelayConfig::new(&url),
                Emitter::new(id, tx.clone()),
                crx,
            );
            routes.insert(id, ctx);
        }
        Some(Source::Room { target }) => {
            add_rooms(app, tx, routes, &cli.room, std::slice::from_ref(&target))?;
            app.ui.focus = roomtap::ui::Pane::Logs;
        }
        Some(Source::Open { file, speed }) => {
            open_recording(app, tx, &file, speed)?;
        }
        Some(Source::Demo { seed }) => {
            let seed = seed.unwrap_or_else(roomtap::event::now_ms);
            keep.extend(embedded(&cli.serve, app, tx, routes, Some(seed)).await?);
        }
        None => keep.extend(embedded(&cli.serve, app, tx, routes, None).await?),
    }
    add_rooms(app, tx, routes, &cli.room, &cli.room.rooms)?;
    Ok(keep)
}

/// The panes (the TUI) on a source, recording when asked.
async fn panes(
    cli: &Cli,
    cfg: StoreConfig,
    theme: Theme,
    source: Option<Source>,
) -> Result<(), String> {
    let mut app = App::new(&cfg, theme);
    let (tx, rx) = mpsc::channel(8192);
    let mut routes = HashMap::new();
    let keep = setup(cli, &mut app, &tx, &mut routes, source).await?;
    drop(tx);
    let recorder = recorder(cli, &app)?;
    let out = roomtap::runtime::run_tui(app, rx, routes, cli.ui.fps, recorder)
        .await
        .map_err(|e| e.to_string());
    drop(keep);
    out
}

/// The recorder `--record` asks for, on the sources set up in `app`.
fn recorder(cli: &Cli, app: &App) -> Result<Option<roomtap::record::Recorder>, String> {
    cli.ui
        .record
        .as_ref()
        .map(|path| {
            roomtap::record::Recorder::create(path, &app.store, secrets(cli))
                .map_err(|e| format!("cannot record to {}: {e}", path.display()))
        })
        .transpose()
}

/// Every secret this run knows, for the recorder to mask.
fn secrets(cli: &Cli) -> Vec<String> {
    let mut v: Vec<String> = [
        cli.serve.secret.clone(),
        cli.room.room_secret.clone(),
        cli.room.token.clone(),
        std::env::var("MESHAGENT_TOKEN").ok(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Ok((Some(t), _)) = explicit_token(&cli.room) {
        v.push(t.expose().to_string());
    }
    if let Some(var) = &cli.room.token_env
        && let Ok(t) = std::env::var(var)
    {
        v.push(t);
    }
    v.retain(|s| !s.trim().is_empty());
    v
}

/// A recording replayed into `app` by a task (at once, or paced).
fn open_recording(
    app: &mut App,
    tx: &mpsc::Sender<SourceEvent>,
    file: &std::path::Path,
    speed: Option<f64>,
) -> Result<(), String> {
    let rec = roomtap::record::read(file)?;
    for s in &rec.header.sources {
        let kind = roomtap::sources::kind::SourceKind::from_name(&s.kind);
        let caps = roomtap::sources::kind::Caps {
            targets_instances: s.targets_instances,
            ..kind.caps()
        };
        app.store.register(&s.label, kind, caps, &s.url);
    }
    let me = app.store.add_source(
        "file",
        roomtap::sources::kind::SourceKind::Recording,
        &file.display().to_string(),
    );
    app.read_only = Some("replaying a recording: commands are disabled".into());
    let note = move |level, summary: String| {
        SourceEvent::new(
            me,
            EventKind::Log(roomtap::event::LogRecord {
                level,
                kind: "recording".into(),
                summary,
                data: None,
            }),
        )
    };
    let tx = tx.clone();
    let n = rec.events.len();
    let started = rec.header.started_ms;
    let warnings = rec.warnings;
    let events = rec.events;
    tokio::spawn(async move {
        let _ = tx
            .send(SourceEvent::new(
                me,
                EventKind::Conn(roomtap::event::ConnState::Connected {
                    session: Some(format!(
                        "{n} events recorded from {}",
                        roomtap::text::iso_time(started)
                    )),
                }),
            ))
            .await;
        for w in warnings {
            let _ = tx.send(note(roomtap::event::Level::Warn, w)).await;
        }
        let mut prev: Option<u64> = None;
        for ev in events {
            if let (Some(speed), Some(p)) = (speed.filter(|s| *s > 0.0), prev) {
                // Long silences are cut to 5 s so a replay never seems stuck.
                let gap = ev.at_ms.saturating_sub(p).min(5_000) as f64 / speed;
                tokio::time::sleep(std::time::Duration::from_secs_f64(gap / 1000.0)).await;
            }
            prev = Some(ev.at_ms);
            if tx.send(ev).await.is_err() {
                return;
            }
        }
        let _ = tx
            .send(note(
                roomtap::event::Level::Info,
                format!("replay finished: {n} events"),
            ))
            .await;
    });
    Ok(())
}

/// `roomtap tail`: the same sources, matching entries printed to stdout.
async fn tail(
    cli: &Cli,
    cfg: StoreConfig,
    theme: Theme,
    source: Option<Source>,
    filter: Option<&str>,
    json: bool,
) -> Result<(), String> {
    use std::io::Write;
    let query = match filter {
        Some(f) if !f.trim().is_empty() => Some(
            roomtap::query::Query::parse(f, false).map_err(|e| format!("--filter {f:?}: {e}"))?,
        ),
        _ => None,
    };
    // One Ctrl-C listener for the whole run, installed before anything
    // starts: a new one per turn would miss a signal between turns.
    let mut interrupt = Interrupt::new()?;
    let mut app = App::new(&cfg, theme);
    let (tx, mut rx) = mpsc::channel(8192);
    let mut routes = HashMap::new();
    let keep = setup(cli, &mut app, &tx, &mut routes, source).await?;
    drop(tx);
    let mut recorder = recorder(cli, &app)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut next = 0u64;
    let mut batch = Vec::with_capacity(1024);
    let result = loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, 1024) => {
                if n == 0 {
                    break Ok(());
                }
                for ev in batch.drain(..) {
                    if let Some(r) = &mut recorder {
                        r.write(&ev);
                    }
                    app.apply(ev);
                }
                let logs = &app.store.logs;
                let first = logs.by_seq(next).map_or(logs.next_seq(), |e| e.seq);
                let mut failed = None;
                for seq in first.max(next)..logs.next_seq() {
                    let Some(e) = logs.by_seq(seq) else { continue };
                    if let Some(q) = &query
                        && !q.matches(&logs.record(e))
                    {
                        continue;
                    }
                    let line = if json {
                        app.entry_json(e).to_string()
                    } else {
                        let src = app.store.sources.get(usize::from(e.source)).map_or("?", |s| s.label.as_str());
                        format!(
                            "{} {src} {:<5} {} {}",
                            roomtap::text::iso_time(e.at_ms),
                            e.level.label(),
                            roomtap::text::sanitize(&e.kind),
                            e.summary
                        )
                    };
                    if let Err(e) = writeln!(out, "{line}") {
                        failed = Some(e);
                        break;
                    }
                }
                next = logs.next_seq();
                // Nothing more can come when every source has given up.
                let gave_up = |s: &roomtap::store::SourceInfo| {
                    matches!(
                        s.conn.state,
                        roomtap::event::ConnState::Errored { will_reconnect: false, .. }
                    )
                };
                if failed.is_none() && !app.store.sources.is_empty() && app.store.sources.iter().all(gave_up) {
                    let _ = out.flush();
                    break Err("every source gave up (see the error above)".to_string());
                }
                if failed.is_none() && rx.is_empty() {
                    failed = out.flush().err();
                }
                match failed {
                    // `| head` closed the pipe: that is a normal end.
                    Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break Ok(()),
                    Some(e) => break Err(format!("cannot write: {e}")),
                    None => {}
                }
            }
            _ = interrupt.recv() => break Ok(()),
        }
    };
    let _ = out.flush();
    drop(keep);
    result
}

/// The embedded relay with the inspector attached in-process; with `demo`,
/// simulated apps and a room as well.
async fn embedded(
    args: &ServeArgs,
    app: &mut App,
    tx: &mpsc::Sender<SourceEvent>,
    routes: &mut HashMap<SourceId, mpsc::Sender<Command>>,
    demo: Option<u64>,
) -> Result<Keep, String> {
    let mut keep: Keep = Vec::new();
    let mut rcfg = args.config();
    let attached = match roomtap::relay::start_attached(&mut app.store, rcfg.clone(), tx).await {
        // The demo needs no particular port: take a free one rather than fail.
        Err(e)
            if demo.is_some()
                && !args.port_given()
                && e.kind() == std::io::ErrorKind::AddrInUse =>
        {
            rcfg.bind.set_port(0);
            roomtap::relay::start_attached(&mut app.store, rcfg, tx)
                .await
                .map_err(|e| format!("cannot listen: {e}"))?
        }
        Err(e) => return Err(bind_error(&rcfg, &e)),
        Ok(a) => a,
    };
    routes.insert(attached.monitor, attached.commands.clone());
    if let Some(seed) = demo {
        keep.push(Box::new(roomtap::demo::spawn_apps(
            roomtap::demo::client::Link::Local(roomtap::relay::local_connector(&attached.relay)),
            seed,
        )));
        let room = roomtap::demo::room::start(seed)
            .await
            .map_err(|e| format!("cannot start the demo room: {e}"))?;
        let id = app
            .store
            .add_source("room", roomtap::sources::kind::SourceKind::Room, &room.url);
        spawn_room(
            tx,
            routes,
            id,
            roomtap::sources::room::RoomConfig::new(&room.url, Some(room.token.clone())),
        );
        keep.push(Box::new(room));
    }
    keep.push(Box::new(attached.relay));
    Ok(keep)
}

/// `roomtap serve`: the relay alone, its log on stderr.
async fn serve(args: &ServeArgs) -> Result<(), String> {
    let (tx, mut rx) = mpsc::channel::<SourceEvent>(8192);
    let relay = start_relay(args, Emitter::new(0, tx)).await?;
    eprintln!("roomtap relay listening on {}", relay.url());
    print_until_interrupted(&mut rx, "roomtap relay").await
}

/// A headless server's notices on stderr until Ctrl-C.
async fn print_until_interrupted(
    rx: &mut mpsc::Receiver<SourceEvent>,
    who: &str,
) -> Result<(), String> {
    let mut interrupt = Interrupt::new()?;
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => print_event(&ev),
                None => return Ok(()),
            },
            _ = interrupt.recv() => {
                eprintln!("{who}: stopping");
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
            token = Some(roomtap::sources::room::token::participant_token(
                secret, "roomtap", &name,
            ));
        }
        let label = if targets.len() == 1 {
            "room".to_string()
        } else {
            name.chars().take(10).collect()
        };
        let id = app.store.add_source(
            &label,
            roomtap::sources::kind::SourceKind::Room,
            &roomtap::text::redact_url(&url),
        );
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
    print_until_interrupted(&mut rx, "roomtap room server").await
}

/// Ctrl-C, listened to from creation on.
struct Interrupt {
    #[cfg(unix)]
    sig: tokio::signal::unix::Signal,
}

impl Interrupt {
    fn new() -> Result<Interrupt, String> {
        #[cfg(unix)]
        {
            let sig = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?;
            Ok(Interrupt { sig })
        }
        #[cfg(not(unix))]
        Ok(Interrupt {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            self.sig.recv().await;
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
