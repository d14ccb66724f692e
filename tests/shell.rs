//! `roomtap completions SHELL` and `roomtap man`, from the clap
//! definition: the bash script loads in bash and completes roomtap's
//! subcommands and flags; every shell's script names them; the man page
//! renders with `man -l` (and groff finds nothing to warn about).

use std::process::{Command, Output};

fn roomtap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .args(args)
        .output()
        .expect("roomtap runs")
}

fn temp(name: &str, body: &[u8]) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("roomtap-shell-{}-{name}", std::process::id()));
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn the_bash_script_loads_and_completes_subcommands_and_flags() {
    let out = roomtap(&["completions", "bash"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = temp("completion.bash", &out.stdout);
    // Loaded in a clean bash, then asked as the shell asks at a Tab.
    let ask = |words: &str, cword: usize| -> String {
        let run = format!(
            "source {} && complete -p roomtap >/dev/null && COMP_WORDS=({words}) && COMP_CWORD={cword} && _roomtap roomtap \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\" && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &run])
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "bash: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subs = ask("roomtap op", 1);
    assert!(subs.lines().any(|l| l == "open"), "{subs}");
    let flags = ask("roomtap --max-e", 1);
    assert!(flags.lines().any(|l| l == "--max-entries"), "{flags}");
    let shells = ask("roomtap completions ''", 2);
    for s in ["bash", "zsh", "fish", "elvish", "powershell"] {
        assert!(shells.lines().any(|l| l == s), "{s} in {shells}");
    }
    let _ = std::fs::remove_file(script);
}

#[test]
fn every_shell_gets_a_script_naming_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = roomtap(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        for word in ["roomtap", "open", "tail", "max-entries"] {
            assert!(text.contains(word), "{shell}: no {word}");
        }
    }
    let out = roomtap(&["completions", "tcsh"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn the_man_page_renders() {
    let out = roomtap(&["man"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = temp("roomtap.1", &out.stdout);
    let shown = Command::new("man")
        .args(["-P", "cat", "-l"])
        .arg(&page)
        .env("MANWIDTH", "80")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("man runs (man-db: tests/peers/install-all.sh installs it)");
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let text = String::from_utf8_lossy(&shown.stdout);
    for part in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "roomtap open",
        "roomtap completions",
        "--max-entries",
        "ROOMTAP_MAX_BYTES",
    ] {
        assert!(text.contains(part), "no {part} in:\n{text}");
    }
    // groff's own check (UTF-8 read as man reads it): nothing to warn about.
    let check = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .expect("groff runs");
    assert!(
        check.status.success() && check.stderr.is_empty(),
        "groff: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let _ = std::fs::remove_file(page);
}
