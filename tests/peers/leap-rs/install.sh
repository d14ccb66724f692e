#!/usr/bin/env bash
# Builds the real Hop Leap Edge Rust client peer (crates.io leap_client_rs
# =0.1.5, pinned by this folder's committed Cargo.lock) with
# `cargo build --release --locked`. Only crates.io is needed. Idempotent:
# skipped when the binary is newer than Cargo.toml, Cargo.lock and src/.
# The binary: tests/peers/leap-rs/target/release/roomtap-leap-rs-peer, where
# tests/leap_server.rs looks for it: built with --target-dir set to this
# folder's target/, so a CARGO_TARGET_DIR (or build.target-dir) meant for
# roomtap does not move it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
say() { echo "peers[leap-rs]: $*"; }
command -v cargo >/dev/null || { echo "peers[leap-rs]: FAILED: cargo not found" >&2; exit 1; }
bin="target/release/roomtap-leap-rs-peer"
if [ -x "$bin" ] && [ -z "$(find Cargo.toml Cargo.lock src -newer "$bin" 2>/dev/null | head -n1)" ]; then
  say "up to date ($bin)"
  exit 0
fi
say "building with cargo build --release --locked (about 2 min the first time)"
start=$(date +%s)
cargo build --release --locked --quiet --target-dir "$here/target"
[ -x "$bin" ] || { echo "peers[leap-rs]: FAILED: $bin not built" >&2; exit 1; }
say "built $bin in $(($(date +%s) - start)) s"
