#!/usr/bin/env bash
# roomtap as the relay (no Node relay) with real redux apps of both
# generations connected to it, all on 127.0.0.1 (needs node/npm for the
# apps; installs the pinned peers first).
# Usage: tests/peers/demo.sh [PORT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${1:-8000}"
"$here/install.sh" >&2
cd "$here/../.."
cargo build --release >&2
cleanup() { kill $(jobs -p) 2>/dev/null || true; }
trap cleanup EXIT
# The apps reconnect until roomtap's relay is up; they exit when their
# stdin closes, so tie them to this shell.
(cd "$here/redux" && sleep 86400 | node app.mjs --port "$port" --name shop --stores 2 --mixed 1 \
  --actions 100000 --interval 900 --seconds 86400 > /dev/null 2>&1) &
(cd "$here/redux-legacy" && sleep 86400 | node app.cjs --port "$port" --name legacy \
  --actions 100000 --interval 1300 --seconds 86400 > /dev/null 2>&1) &
target/release/roomtap --port "$port"
