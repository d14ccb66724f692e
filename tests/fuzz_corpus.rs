//! Every fuzz target's corpus (`fuzz/corpus/<target>/`), replayed through
//! the target's harness (`fuzz/harness/<target>.rs`) on stable: what the
//! fuzzers found and were fixed for stays fixed, deterministically, in CI.
//! Running the fuzzers themselves needs nightly (`cargo +nightly fuzz run`).

#[path = "../fuzz/harness/mod.rs"]
mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{target}: no corpus at {}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{target}: the corpus {} is empty",
        dir.display()
    );
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            panic!("{target}: {} fails (see the panic above)", f.display());
        }
    }
    eprintln!("{target}: {} inputs replayed", files.len());
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name), harness::$name::run);
            }
        )*
    };
}

targets!(
    config,
    json_scan,
    leap_codec,
    legume_codec,
    query,
    recording,
    redux_codec,
    relay_packet,
    room_decoder,
    theme,
    tracim_codec,
);
