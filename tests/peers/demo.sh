#!/usr/bin/env bash
# roomtap against the real Redux DevTools relay and two real redux apps,
# all on 127.0.0.1 (needs node/npm; installs the pinned peers first).
# Usage: tests/peers/demo.sh [PORT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${1:-8000}"
"$here/install.sh" >&2
cd "$here/redux"
cleanup() { kill $(jobs -p) 2>/dev/null || true; }
trap cleanup EXIT
# The scripts exit when their stdin closes, so tie them to this shell.
sleep 86400 | node relay.mjs "$port" 86400 > /dev/null 2>&1 &
for i in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.1
done
sleep 86400 | node app.mjs --port "$port" --name shop --stores 2 --mixed 1 \
  --actions 100000 --interval 900 --seconds 86400 > /dev/null 2>&1 &
cd "$here/../.."
cargo run --release -- relay "ws://127.0.0.1:$port/socketcluster/"
