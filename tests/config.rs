//! The config file (`src/config.rs`): its values reach the run where no
//! flag or variable gave one (flag > env > profile > file > default), a
//! subcommand's table applies to that subcommand, `@NAME` adds a profile,
//! and a broken file is an error naming the file, the line and the key.
//! `--print-config` says where each value came from, a secret as `***`.

use std::ffi::OsString;
use std::process::Command;

use clap::{CommandFactory, FromArgMatches};
use roomtap::cli::Cli;

fn file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("roomtap-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The command line as the run sees it, with the config file `path`.
fn parse(path: &std::path::Path, args: &[&str]) -> Result<(Cli, clap::ArgMatches), String> {
    let mut argv: Vec<OsString> = vec!["roomtap".into(), "--config".into(), path.into()];
    argv.extend(args.iter().map(OsString::from));
    let cmd = Cli::command();
    let loaded = roomtap::config::load(&cmd, argv)?;
    let m = cmd
        .try_get_matches_from(&loaded.argv)
        .map_err(|e| e.to_string())?;
    let cli = Cli::from_arg_matches(&m).map_err(|e| e.to_string())?;
    Ok((cli, m))
}

const CONFIG: &str = r#"# roomtap's config
theme = "light"
max-bytes = "512M"
fps = 12
utc = true
redux = ["ws://127.0.0.1:9/socketcluster/", "ws://127.0.0.1:10/socketcluster/"]

[open]
speed = 4

[tail]
filter = "level>=warn"

[profiles.work]   # roomtap @work
room = ["ws://127.0.0.1:1/rooms/work"]
max-bytes = "1G"
"#;

#[test]
fn the_files_values_apply_where_no_flag_gives_one() {
    let p = file("config.toml", CONFIG);
    let (cli, _) = parse(&p, &[]).unwrap();
    assert_eq!(cli.ui.theme, "light");
    assert_eq!(cli.ui.max_bytes, 512 << 20);
    assert_eq!(cli.ui.fps, 12);
    assert!(cli.ui.utc);
    // Untouched: the default.
    assert_eq!(cli.ui.max_actions, 10_000);
    // A flag wins over the file.
    let (cli, _) = parse(&p, &["--fps", "60", "--max-bytes=64M"]).unwrap();
    assert_eq!((cli.ui.fps, cli.ui.max_bytes), (60, 64 << 20));
    assert_eq!(cli.ui.theme, "light");
    // A repeatable flag takes a list: both relays are monitored.
    let cmd = Cli::command();
    let loaded = roomtap::config::load(
        &cmd,
        vec!["roomtap".into(), "--config".into(), p.clone().into()],
    )
    .unwrap();
    let relays: Vec<_> = loaded
        .argv
        .iter()
        .filter(|a| a.to_string_lossy().starts_with("--redux=ws://127.0.0.1:"))
        .collect();
    assert_eq!(relays.len(), 2, "{:?}", loaded.argv);
}

#[test]
fn a_subcommands_table_applies_to_it_and_a_profile_over_the_file() {
    let p = file("sub.toml", CONFIG);
    let (_, m) = parse(&p, &["open", "session.jsonl"]).unwrap();
    let open = m.subcommand_matches("open").expect("open");
    assert_eq!(open.get_one::<f64>("speed"), Some(&4.0));
    // Given on the command line, it wins.
    let (_, m) = parse(&p, &["open", "session.jsonl", "--speed", "1"]).unwrap();
    assert_eq!(
        m.subcommand_matches("open")
            .unwrap()
            .get_one::<f64>("speed"),
        Some(&1.0)
    );
    // `tail`'s own flags, global to the source it takes.
    let (_, m) = parse(&p, &["tail", "open", "session.jsonl"]).unwrap();
    let tail = m.subcommand_matches("tail").expect("tail");
    assert_eq!(
        tail.get_one::<String>("filter").map(String::as_str),
        Some("level>=warn")
    );
    // @work: its room is added, its max-bytes over the file's.
    let (cli, m) = parse(&p, &["@work"]).unwrap();
    let loaded = roomtap::config::load(
        &Cli::command(),
        vec![
            "roomtap".into(),
            "--config".into(),
            p.clone().into(),
            "@work".into(),
        ],
    )
    .unwrap();
    assert_eq!(
        loaded.given.get("room"),
        Some(&roomtap::config::Origin::Profile {
            name: "work".into(),
            line: Some(15)
        }),
        "the profile's line, its header's comment notwithstanding"
    );
    assert_eq!(cli.ui.max_bytes, 1 << 30);
    let rooms: Vec<&String> = m.get_many::<String>("rooms").unwrap().collect();
    assert_eq!(rooms, ["ws://127.0.0.1:1/rooms/work"]);
    // A profile not in the file.
    let e = parse(&p, &["@home"]).unwrap_err();
    assert!(e.contains("no [profiles.home]"), "{e}");
}

#[test]
fn a_broken_file_names_the_file_the_line_and_the_key() {
    let cases = [
        ("colour = \"red\"", "3: colour: unknown key"),
        ("max-bytes = \"12Q\"", "3: max-bytes: invalid value '12Q'"),
        ("utc = \"yes\"", "3: utc: --utc is a switch"),
        ("fps = [1, 2]", "3: fps: --fps takes one value, not a list"),
        (
            "token = \"s3cret\"",
            "3: token: a secret is not written in the config file",
        ),
        ("room-secret = \"s3cret\"", "3: room-secret: a secret"),
        (
            "[tracim]\nnope = 1",
            "4: tracim.nope: `roomtap tracim` has no flag --nope",
        ),
        ("[bogus]\nx = 1", "3: bogus: unknown table"),
        ("[bogus]  # a comment\nx = 1", "3: bogus: unknown table"),
        (
            "[keys]\npreset = \"emacs\"",
            "4: keys.preset: invalid value 'emacs'",
        ),
        ("theme = ", "TOML parse error at line 3"),
    ];
    for (body, want) in cases {
        let p = file("bad.toml", &format!("# a comment\n\n{body}\n"));
        let e = parse(&p, &[]).unwrap_err();
        assert!(e.starts_with(&p.display().to_string()), "{e}");
        assert!(e.contains(want), "{body:?}: {e}");
        assert!(!e.contains("s3cret"), "the secret is not repeated: {e}");
    }
}

#[test]
fn the_binary_reads_the_file_says_where_values_came_from_and_masks_secrets() {
    let p = file("run.toml", CONFIG);
    let out = Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .arg("--config")
        .arg(&p)
        .args(["--fps", "20", "--print-config"])
        .env("ROOMTAP_MAX_BYTES", "64M")
        .env("ROOMTAP_SECRET", "relay-secret-value")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "theme = \"light\"  # file, line 2",
        "fps = 20  # flag",
        "max-bytes = \"64M\"  # env ROOMTAP_MAX_BYTES",
        "max-actions = 10000  # default",
        "redux-secret = \"***\"  # env ROOMTAP_SECRET",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    assert!(!text.contains("relay-secret-value"));
    // The default file: $XDG_CONFIG_HOME/roomtap/config.toml.
    let home = p.parent().unwrap().join("xdg");
    std::fs::create_dir_all(home.join("roomtap")).unwrap();
    let print_config = || {
        Command::new(env!("CARGO_BIN_EXE_roomtap"))
            .arg("--print-config")
            .env("XDG_CONFIG_HOME", &home)
            .env_remove("ROOMTAP_CONFIG")
            .output()
            .unwrap()
    };
    std::fs::write(home.join("roomtap/config.toml"), "fps = 7\n").unwrap();
    let out = print_config();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("fps = 7  # file, line 1"), "{text}");
    // A broken one: exit status 2 and the reason, before anything starts.
    std::fs::write(home.join("roomtap/config.toml"), "fsp = 7\n").unwrap();
    let out = print_config();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("config.toml:1: fsp: unknown key"), "{err}");
    // A rebinding that takes another action's key: said at its line.
    std::fs::write(
        home.join("roomtap/config.toml"),
        "# keys\n[keys]\ncommit = \"s\"\n",
    )
    .unwrap();
    let out = print_config();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml:3: keys.commit: s is both skip and commit"),
        "{err}"
    );
}

mod common;

/// Tried as a user would: a config file's `[keys]` in the real binary, in
/// a terminal. The help opens with the new key only, shows it, and the
/// status line says it.
#[test]
fn a_rebinding_takes_effect_in_a_real_terminal() {
    let p = file(
        "keys.toml",
        "[keys]\npreset = \"vim\"\nhelp = \"H\"\ncommit = [\"C\", \"ctrl-k\"]\n",
    );
    let cmd = format!(
        "{} --config {} demo --seed 3 --port 0",
        env!("CARGO_BIN_EXE_roomtap"),
        p.display()
    );
    let t = common::tmux::Tmux::start("keys", &cmd, &[]);
    t.wait("the status line with the help's new key", 30, |t| {
        t.screen().contains("H help")
    });
    // `?` is no longer the help's: pressed, then H. Had `?` opened the
    // help, H (any other key) would have closed it.
    t.tmux(&["send-keys", "-t", &t.session, "?"]);
    t.tmux(&["send-keys", "-t", &t.session, "H"]);
    t.wait(
        "the help, opened by H, listing C Ctrl-K for commit",
        10,
        |t| {
            let s = t.screen();
            s.contains("this help") && s.contains("C Ctrl-K")
        },
    );
    // The vim preset under them: lock is on L now.
    t.wait("the help listing the preset's L for lock", 10, |t| {
        t.screen().contains("p L")
    });
    t.tmux(&["send-keys", "-t", &t.session, "q"]);
}
