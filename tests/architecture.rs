//! Keeps ARCHITECTURE.md true: each module imports only what it may. Reads
//! every file under src/, finds its `crate::` and `super::` paths (comments
//! aside; `super::` resolved through inline `mod … {` blocks), and checks
//! each against the rules below, which are the table in ARCHITECTURE.md.
//!
//! The rules are allow-lists: a module may import only what its rule names
//! (and anything inside itself), so a new module with no rule, or a new
//! import nobody allowed, fails here instead of slipping through.

use std::path::{Path, PathBuf};

/// (who, what it may import). A rule on `a` covers `a::*`; the most
/// specific rule wins. In protocol rules `*` is any one protocol, and `$p`
/// in what it may import is that same protocol; `=m` allows the module `m`
/// itself and nothing under it (a protocol's descriptor, not its parts).
const ALLOW: &[(&str, &[&str])] = &[
    // Neutral leaves.
    ("text", &[]),
    ("files", &[]),
    ("scan", &[]),
    ("secret", &[]),
    ("jsondiff", &["text", "scan"]),
    ("guard", &["text"]),
    // The neutral envelope: events and commands; of the protocols only
    // their payload types (the recording's tags).
    ("event", &["text", "protocols::*::wire::model"]),
    ("query", &["event", "scan", "text"]),
    // What a source is, links and the server kit: no protocol, no state.
    (
        "source",
        &["event", "files", "guard", "query", "secret", "text"],
    ),
    ("link", &["event", "source", "secret", "text"]),
    (
        "serve",
        &["event", "guard", "link", "source", "secret", "text"],
    ),
    // State, drawing and the controller: no I/O, no protocol but its
    // payload types.
    (
        "store",
        &[
            "event",
            "jsondiff",
            "query",
            "scan",
            "source::kind",
            "text",
            "protocols::*::wire::model",
        ],
    ),
    // A theme file is the one file the UI reads (`ui::theme`).
    ("ui::theme", &["event", "files"]),
    (
        "ui",
        &[
            "event",
            "jsondiff",
            "query",
            "scan",
            "source::kind",
            "store",
            "text",
            "protocols::*::wire::model",
        ],
    ),
    (
        "app",
        &[
            "event",
            "jsondiff",
            "query",
            "scan",
            "source::kind",
            "store",
            "text",
            "ui",
            "protocols::*::wire::model",
        ],
    ),
    // A protocol's folder: wire is pure; client and server never import
    // each other; nothing imports another protocol.
    (
        "protocols::*::wire",
        &["event", "jsondiff", "scan", "secret", "text"],
    ),
    (
        "protocols::*::client",
        &[
            "=protocols::$p",
            "protocols::$p::wire",
            "event",
            "jsondiff",
            "link",
            "scan",
            "secret",
            "source",
            "text",
        ],
    ),
    (
        "protocols::*::server",
        &[
            "=protocols::$p",
            "protocols::$p::wire",
            "event",
            "guard",
            "jsondiff",
            "link",
            "scan",
            "secret",
            "serve",
            "source",
            "text",
        ],
    ),
    // The one sanctioned exception: roomtap's own relay brings the
    // inspector's monitor along in-process.
    (
        "protocols::redux::server::source",
        &[
            "=protocols::redux",
            "protocols::redux::server",
            "protocols::redux::client::source",
            "serve",
        ],
    ),
    (
        "protocols::*::demo",
        &[
            "protocols::$p",
            "event",
            "link",
            "secret",
            "serve",
            "source",
            "text",
        ],
    ),
    // A protocol's own mod.rs: its descriptor, flags and subcommands.
    (
        "protocols::*",
        &[
            "protocols::$p",
            "event",
            "files",
            "guard",
            "secret",
            "serve",
            "source",
            "text",
        ],
    ),
    // The protocol list: the one place that names them all.
    (
        "protocols",
        &["protocols::*", "event", "guard", "record", "source"],
    ),
    // Recordings: the format, and a recording as sources (the list gives
    // it the kinds by name: it names no protocol).
    (
        "record",
        &[
            "event", "files", "query", "secret", "source", "store", "text",
        ],
    ),
    // Entry points: they name no protocol.
    ("wiring", &["event", "secret", "source", "store", "text"]),
    (
        "runtime",
        &[
            "app", "event", "record", "source", "store", "text", "ui", "wiring",
        ],
    ),
    (
        "modes",
        &[
            "app", "event", "query", "record", "runtime", "secret", "source", "store", "text",
            "ui", "wiring",
        ],
    ),
    ("cli", &["=protocols", "source", "store", "ui"]),
    ("config", &["files"]),
    (
        "main",
        &["cli", "config", "modes", "=protocols", "store", "ui"],
    ),
    ("lib", &[]),
];

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

/// `src/protocols/redux/wire/codec.rs` → `protocols::redux::wire::codec`;
/// `mod.rs` is its folder; `lib.rs` and `main.rs` are `lib` and `main`.
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

/// A path's lowercase segments (module names; a type or a value ends it).
fn segments(tail: &str) -> Vec<&str> {
    let end = tail
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(tail.len());
    tail[..end]
        .split("::")
        .take_while(|s| {
            s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        })
        .collect()
}

/// Every module path the code of `module` names, `crate::` and `super::`
/// alike, resolved to a path from the crate root.
fn imports(module: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // The module each line is in: the file's, plus inline `mod x {` blocks.
    let base: Vec<&str> = if matches!(module, "lib" | "main") {
        Vec::new()
    } else {
        module.split("::").collect()
    };
    let mut inline: Vec<(String, i32)> = Vec::new();
    let mut depth = 0i32;
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        let here: Vec<String> = base
            .iter()
            .map(|s| s.to_string())
            .chain(inline.iter().map(|(m, _)| m.clone()))
            .collect();
        // The binary names the library `roomtap::`.
        let root = if module == "main" {
            "roomtap::"
        } else {
            "crate::"
        };
        let mut rest = code;
        while let Some(i) = rest.find(root) {
            let path = segments(&rest[i + root.len()..]);
            if !path.is_empty() {
                out.push(path.join("::"));
            }
            rest = &rest[i + root.len()..];
        }
        let mut rest = code;
        while let Some(i) = rest.find("super::") {
            // Count the run of `super::`.
            let mut j = i;
            let mut ups = 0;
            while rest[j..].starts_with("super::") {
                ups += 1;
                j += 7;
            }
            let before_ok = i == 0 || !rest.as_bytes()[i - 1].is_ascii_alphanumeric();
            if before_ok && ups <= here.len() {
                let mut path: Vec<String> = here[..here.len() - ups].to_vec();
                path.extend(segments(&rest[j..]).iter().map(|s| s.to_string()));
                if !path.is_empty() {
                    out.push(path.join("::"));
                }
            }
            rest = &rest[j..];
        }
        // `use crate::{a, b}` style.
        if let Some(i) = code.find("crate::{") {
            for name in code[i + 8..].split([',', '}']) {
                let n = name.trim();
                if n.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                    out.push(segments(n).join("::"));
                }
            }
        }
        // Inline modules (`mod tests {`), so their `super::` resolves.
        let opens = code.matches('{').count() as i32;
        let closes = code.matches('}').count() as i32;
        if let Some(name) = code
            .strip_prefix("mod ")
            .or_else(|| code.strip_prefix("pub mod "))
            .or_else(|| code.strip_prefix("pub(crate) mod "))
            .and_then(|r| r.strip_suffix('{'))
        {
            inline.push((name.trim().to_string(), depth + 1));
        }
        depth += opens - closes;
        while inline.last().is_some_and(|(_, d)| depth < *d) {
            inline.pop();
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}::"))
}

/// Whether `pattern` (segments, `*` any one) is a prefix of `module`;
/// returns the segment `*` matched (the protocol), if any.
fn matches<'a>(module: &'a str, pattern: &str) -> Option<Option<&'a str>> {
    let m: Vec<&str> = module.split("::").collect();
    let p: Vec<&str> = pattern.split("::").collect();
    if p.len() > m.len() {
        return None;
    }
    let mut star = None;
    for (a, b) in m.iter().zip(&p) {
        match *b {
            "*" => star = Some(*a),
            b if b == *a => {}
            _ => return None,
        }
    }
    Some(star)
}

/// The rule of `module`: the most specific pattern that covers it.
fn rule_of(module: &str) -> Option<(&'static str, &'static [&'static str], Option<&str>)> {
    ALLOW
        .iter()
        .filter_map(|(who, allow)| matches(module, who).map(|star| (*who, *allow, star)))
        .max_by_key(|(who, _, _)| {
            // More segments first; a literal beats a `*` of the same length.
            let segs = who.split("::").count() * 2;
            segs - usize::from(who.contains('*'))
        })
}

/// What is wrong with `module` importing `path`, if anything.
fn violation(module: &str, path: &str) -> Option<String> {
    // Inside itself (its own submodules, or what encloses it in a file).
    let top = |m: &str| -> String {
        let s: Vec<&str> = m.split("::").collect();
        if s[0] == "protocols" && s.len() >= 3 {
            s[..3].join("::")
        } else if s[0] == "protocols" {
            s[..s.len().min(2)].join("::")
        } else {
            s[0].to_string()
        }
    };
    if top(path) == top(module) || under(path, &top(module)) {
        return None;
    }
    let Some((who, allow, star)) = rule_of(module) else {
        return Some(format!(
            "{module} has no rule in ALLOW (and ARCHITECTURE.md)"
        ));
    };
    let ok = allow.iter().any(|a| {
        let a = match star {
            Some(p) => a.replace("$p", p),
            None => a.to_string(),
        };
        if let Some(exact) = a.strip_prefix('=') {
            path == exact
        } else if a.contains('*') {
            matches(path, &a).is_some()
        } else {
            under(path, &a)
        }
    });
    (!ok).then(|| format!("{module} imports {path} (`{who}` may import only {allow:?})"))
}

#[test]
fn every_module_imports_only_what_architecture_md_allows() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    assert!(all.len() > 20, "src/ not found");
    // A path names the longest module it reaches (`protocols::build` is a
    // function of `protocols`).
    let known: std::collections::HashSet<String> = all.iter().map(|f| module_of(&src, f)).collect();
    let module_part = |path: &str| -> String {
        let segs: Vec<&str> = path.split("::").collect();
        (1..=segs.len())
            .rev()
            .map(|n| segs[..n].join("::"))
            .find(|m| known.contains(m))
            .unwrap_or_else(|| path.to_string())
    };
    let mut bad = Vec::new();
    for f in &all {
        let module = module_of(&src, f);
        let text = std::fs::read_to_string(f).unwrap();
        for path in imports(&module, &text) {
            if let Some(v) = violation(&module, &module_part(&path)) {
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
        violation("protocols::redux::server::conn", "store").is_some(),
        "server → store"
    );
    assert!(
        violation("protocols::leap::wire::codec", "protocols::leap::server").is_some(),
        "wire → server"
    );
    assert!(
        violation("protocols::leap::wire::codec", "link").is_some(),
        "wire → I/O"
    );
    assert!(
        violation(
            "protocols::room::client::session",
            "protocols::room::server"
        )
        .is_some(),
        "client → server"
    );
    assert!(
        violation("protocols::room::server::conn", "protocols::room::client").is_some(),
        "server → client"
    );
    assert!(
        violation(
            "protocols::redux::server::source",
            "protocols::redux::client::source"
        )
        .is_none(),
        "the sanctioned exception"
    );
    assert!(
        violation("protocols::leap::client", "protocols::room::wire::codec").is_some(),
        "one protocol → another"
    );
    assert!(
        violation(
            "protocols::leap::server::handle",
            "protocols::leap::wire::codec"
        )
        .is_none()
    );
    assert!(
        violation("query::eval", "protocols::redux").is_some(),
        "query → protocol"
    );
    assert!(
        violation("store", "protocols::redux::wire::codec").is_some(),
        "store → codec"
    );
    assert!(violation("store::timeline", "protocols::redux::wire::model").is_none());
    assert!(
        violation("main", "protocols::leap").is_some(),
        "main names no protocol"
    );
    assert!(
        violation("modes", "protocols").is_some(),
        "modes uses no protocol list"
    );
    assert!(violation("guard", "store").is_some(), "a leaf stays a leaf");
    assert!(
        violation("newthing", "text").is_some(),
        "a module needs a rule"
    );
    assert!(violation("ui::logs", "store::logs").is_none());
    let found = imports(
        "ui::logs",
        "use crate::ui::Pane;\n// crate::app\nlet x = crate::store::Store::new();\nuse crate::{app, ui::Pane};\nuse super::keys;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::theme;\n}\nuse super::lines;",
    );
    assert_eq!(
        found,
        [
            "ui",
            "store",
            "app",
            "ui",
            "ui::keys",
            "ui::logs",
            "ui::theme",
            "ui::lines"
        ]
    );
}

#[test]
fn architecture_md_names_every_rule() {
    let md =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md at the root");
    for (who, _) in ALLOW {
        assert!(
            md.contains(&format!("`{who}`")),
            "ARCHITECTURE.md does not describe `{who}`"
        );
    }
}
