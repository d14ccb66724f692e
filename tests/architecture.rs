//! Keeps ARCHITECTURE.md true: each folder imports only what it may. Reads
//! every file under src/ and checks its `crate::` paths (comments aside)
//! against the rules below, which are the table in ARCHITECTURE.md.

use std::path::{Path, PathBuf};

/// (who, what it must not import). `who` and the paths are module paths
/// (`ui`, `sources::relay::codec`); a rule on `a` covers `a::*`.
const FORBIDDEN: &[(&str, &[&str])] = &[
    // Neutral leaves: the envelope and text helpers know no layer above.
    (
        "event",
        &[
            "store", "ui", "app", "runtime", "wiring", "modes", "registry", "relay", "room",
            "demo", "record", "query",
        ],
    ),
    (
        "text",
        &["store", "ui", "app", "sources", "relay", "room", "event"],
    ),
    (
        "scan",
        &["store", "ui", "app", "sources", "relay", "room", "event"],
    ),
    (
        "secret",
        &["store", "ui", "app", "sources", "relay", "room", "event"],
    ),
    (
        "jsondiff",
        &[
            "store", "ui", "app", "sources", "relay", "room", "leap", "event",
        ],
    ),
    // The query language knows no protocol and no layer above it.
    (
        "query",
        &[
            "sources", "relay", "room", "demo", "store", "ui", "app", "runtime", "wiring", "modes",
            "registry", "record",
        ],
    ),
    // The store: no I/O, no terminal, no server, no controller.
    (
        "store",
        &[
            "app", "ui", "runtime", "wiring", "modes", "registry", "relay", "room", "leap", "demo",
            "record",
        ],
    ),
    // The ui draws the store and the ui state: never the controller.
    (
        "ui",
        &[
            "app", "runtime", "wiring", "modes", "registry", "relay", "room", "leap", "demo",
            "record",
        ],
    ),
    (
        "app",
        &[
            "runtime", "wiring", "modes", "registry", "relay", "room", "leap", "demo",
        ],
    ),
    // Servers report through an Emitter: never the store or the panes.
    (
        "relay",
        &[
            "store", "app", "ui", "runtime", "wiring", "modes", "registry", "record",
        ],
    ),
    (
        "room",
        &[
            "store", "app", "ui", "runtime", "wiring", "modes", "registry", "record",
        ],
    ),
    (
        "leap",
        &[
            "store", "app", "ui", "runtime", "wiring", "modes", "registry", "record",
        ],
    ),
    // Sources report through an Emitter too.
    (
        "sources",
        &[
            "store", "app", "ui", "runtime", "wiring", "modes", "registry",
        ],
    ),
];

/// Of `sources`, only these modules may be imported by the store, the ui
/// and the controller: pure data (kinds and capabilities, protocol models).
const SOURCES_PURE: &[&str] = &[
    "sources::kind",
    "sources::relay::model",
    "sources::room::model",
    "sources::leap::model",
];

/// A protocol's codec and task never reach into a server: only its
/// `source` (the Source impls) and `args` modules may.
const SERVERS: &[&str] = &["relay", "room", "leap", "demo"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/sources/relay/codec.rs` → `sources::relay::codec`; `mod.rs` is its folder.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// Every `crate::a::b::c` path in the code (comments and strings about paths aside).
fn imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let tail = &rest[i + 7..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let path: Vec<&str> = tail[..end]
                .split("::")
                .take_while(|s| s.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
                .collect();
            if !path.is_empty() {
                out.push(path.join("::"));
            }
            rest = &tail[end..];
        }
        // `use crate::{a, b}` style.
        if let Some(i) = code.find("crate::{") {
            let inner = &code[i + 8..];
            for name in inner.split([',', '}']) {
                let n = name.trim();
                if n.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                    out.push(n.split("::").next().unwrap_or(n).to_string());
                }
            }
        }
    }
    out
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}::"))
}

/// What is wrong with `module` importing `path`, if anything.
fn violation(module: &str, path: &str) -> Option<String> {
    if under(path, module) || under(module, path) {
        return None;
    }
    for (who, banned) in FORBIDDEN {
        if !under(module, who) {
            continue;
        }
        if let Some(b) = banned.iter().find(|b| under(path, b)) {
            return Some(format!(
                "{module} imports {path} (`{who}` may not import `{b}`)"
            ));
        }
    }
    let needs_pure = ["store", "ui", "app", "event", "query"]
        .iter()
        .any(|w| under(module, w));
    if needs_pure && under(path, "sources") && !SOURCES_PURE.iter().any(|p| under(path, p)) {
        return Some(format!(
            "{module} imports {path} (only {SOURCES_PURE:?} of sources may be imported here)"
        ));
    }
    let protocol_internal = under(module, "sources")
        && !module.ends_with("::source")
        && !module.ends_with("::args")
        && module != "sources::recording";
    if protocol_internal && SERVERS.iter().any(|s| under(path, s)) {
        return Some(format!(
            "{module} imports {path} (a protocol's codec and task never reach into a server)"
        ));
    }
    None
}

#[test]
fn every_folder_imports_only_what_architecture_md_allows() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    assert!(all.len() > 20, "src/ not found");
    let mut bad = Vec::new();
    for f in &all {
        let module = module_of(&src, f);
        let text = std::fs::read_to_string(f).unwrap();
        for path in imports(&text) {
            if let Some(v) = violation(&module, &path) {
                bad.push(format!("{}: {v}", f.display()));
            }
        }
    }
    bad.sort();
    bad.dedup();
    assert!(bad.is_empty(), "layering breaks:\n{}", bad.join("\n"));
}

#[test]
fn the_check_catches_what_it_should() {
    assert!(violation("ui::logs", "app").is_some(), "ui → app");
    assert!(
        violation("relay::conn", "store").is_some(),
        "server → store"
    );
    assert!(violation("room", "store::logs").is_some(), "server → store");
    assert!(violation("leap::conn", "store").is_some(), "server → store");
    assert!(
        violation("sources::leap::codec", "leap").is_some(),
        "codec → server"
    );
    assert!(violation("leap::handle", "sources::leap::codec").is_none());
    assert!(
        violation("query::eval", "sources::relay::codec").is_some(),
        "query → protocol"
    );
    assert!(violation("query", "relay").is_some(), "query → protocol");
    assert!(
        violation("store", "sources::relay::codec").is_some(),
        "store → codec"
    );
    assert!(
        violation("sources::room", "room").is_some(),
        "source task → server"
    );
    assert!(violation("ui::logs", "store::logs").is_none());
    assert!(violation("store::timeline", "sources::relay::model").is_none());
    assert!(violation("sources::relay::source", "relay").is_none());
    let found = imports(
        "use crate::ui::Pane;\n// crate::app\nlet x = crate::store::Store::new();\nuse crate::{app, ui::Pane};",
    );
    assert_eq!(found, ["ui", "store", "app", "ui"]);
}

#[test]
fn architecture_md_names_every_rule() {
    let md =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md at the root");
    for (who, _) in FORBIDDEN {
        assert!(
            md.contains(&format!("`{who}")),
            "ARCHITECTURE.md does not describe `{who}`"
        );
    }
}
