#!/usr/bin/env bash
# Installs every npm peer folder the integration tests use (CI calls this):
#   tests/peers/redux/         @redux-devtools/cli 5 relay + @redux-devtools/remote app
#   tests/peers/redux-legacy/  remotedev-server 0.3.1 relay + remote-redux-devtools 0.5.16 app
#   tests/peers/meshagent/     @meshagent/meshagent 0.39.9 (the real JS RoomClient)
#   tests/peers/leap/          @onehop/leap-edge-js 1.0.11 (the real Leap Edge JS client)
#   tests/peers/leap-rs/       leap_client_rs 0.1.5 (the real Leap Edge Rust client; a cargo build, not npm)
# Each folder's install.sh is idempotent (skips when node_modules matches the
# lockfile). The folders install in parallel (PEERS_SERIAL=1: one by one);
# output lines are prefixed with the folder name. Fails if any install fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers=(redux redux-legacy meshagent leap leap-rs)
start=$(date +%s)
echo "peers: installing ${peers[*]} (node $(node -v 2>/dev/null || echo missing), npm $(npm -v 2>/dev/null || echo missing))"
if [ "${PEERS_SERIAL:-0}" = 1 ]; then
  for p in "${peers[@]}"; do "$here/$p/install.sh"; done
else
  pids=()
  for p in "${peers[@]}"; do
    ( "$here/$p/install.sh" 2>&1 | sed -u "s/^/[$p] /"; exit "${PIPESTATUS[0]}" ) &
    pids+=($!)
  done
  failed=()
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${peers[$i]}")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "peers: FAILED: ${failed[*]} (see the lines above)" >&2
    exit 1
  fi
fi
echo "peers: all installed in $(($(date +%s) - start)) s"
