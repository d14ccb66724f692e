#!/usr/bin/env bash
# Installs what the tests need beyond Rust (the README's test command and CI
# call this). First the system packages, when missing (Debian's, with
# apt-get; as root, or through password-less sudo, else it stops and names
# them): nodejs and npm (Node.js >= 20, for the peers below), tmux
# (tests/terminal.rs), chromium (tests/browser.rs), procps (kill, pgrep) and
# man-db with groff (tests/shell.rs).
# A Python >= 3.11 for the tracim and legume peers must already be there
# (not installed here): the newest 3.11-3.13 that pyenv lists, else python3
# on PATH (or $TRACIM_PEER_PYTHON, $LEGUME_PEER_PYTHON); it stops before
# installing anything if there is none.
# Then every peer folder:
#   tests/peers/redux/         @redux-devtools/cli 5 relay + @redux-devtools/remote app
#   tests/peers/redux-legacy/  remotedev-server 0.3.1 relay + remote-redux-devtools 0.5.16 app
#   tests/peers/meshagent/     @meshagent/meshagent 0.39.9 (the real JS RoomClient)
#   tests/peers/leap/          @onehop/leap-edge-js 1.0.11 (the real Leap Edge JS client)
#   tests/peers/leap-rs/       leap_client_rs 0.1.5 (the real Leap Edge Rust client; a cargo build, not npm)
#   tests/peers/tracim/        tracim-daemon-sdk 1.0.3 (the real TracimDaemon Python SDK; a venv, pip
#                              --require-hashes from PyPI)
#   tests/peers/legume/        legume 0.5 (the real reliable-UDP Server and Client; a venv, its sdist
#                              built with a pinned setuptools, pip --require-hashes from PyPI)
# Each folder's install.sh is idempotent (skips when node_modules, the binary
# or the venv matches the lockfile, sources or requirements.txt). The folders install in parallel (PEERS_SERIAL=1: one by one);
# output lines are prefixed with the folder name. Fails if any install fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers=(redux redux-legacy meshagent leap leap-rs tracim legume)
start=$(date +%s)

# System packages: apt-get as root, or `sudo -n` (never a password prompt).
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  else
    sudo -n "$@"
  fi
}
apt_install() { # PACKAGE...
  echo "system: installing $* (apt-get)"
  if ! command -v apt-get >/dev/null; then
    echo "system: FAILED: missing $*, and no apt-get here: install them (Debian names) and rerun" >&2
    exit 1
  fi
  if [ "$(id -u)" != 0 ] && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
    echo "system: FAILED: missing $*: not root and no password-less sudo;" \
      "run: sudo apt-get install $* (then rerun $0)" >&2
    exit 1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v tmux >/dev/null || missing+=(tmux)
command -v chromium >/dev/null || missing+=(chromium)
# kill and pgrep (tests/terminal.rs, tests/record.rs); not in minimal images.
{ type -P pgrep && type -P kill; } >/dev/null || missing+=(procps)
# man and groff (tests/shell.rs renders `roomtap man`).
{ type -P man && type -P groff; } >/dev/null || missing+=(man-db groff-base)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
# Asked for on its own: a Node.js from NodeSource brings npm and conflicts
# with Debian's npm package.
command -v npm >/dev/null || apt_install npm
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "system: FAILED: Node.js $(node -v) is too old: @redux-devtools/cli 5 needs >= 20" \
    "(Debian 12's nodejs is 18: install Node.js 20 or later, e.g. Debian 13's or NodeSource's, and rerun)" >&2
  exit 1
fi
# The tracim peer's Python: checked here, so a missing one stops everything
# at once with its own message (the folder's install.sh picks it the same way).
if ! python_for_tracim="$("$here/tracim/install.sh" --print-python)"; then
  echo "system: FAILED: no Python >= 3.11 for tests/peers/tracim (see the line above)" >&2
  exit 1
fi
if ! python_for_legume="$("$here/legume/install.sh" --print-python)"; then
  echo "system: FAILED: no Python >= 3.11 for tests/peers/legume (see the line above)" >&2
  exit 1
fi
echo "system: node $(node -v), npm $(npm -v), $(tmux -V), $(chromium --version 2>/dev/null || echo 'chromium (version unknown)')"
echo "system: python for the tracim peer: $python_for_tracim"
echo "system: python for the legume peer: $python_for_legume"

echo "peers: installing ${peers[*]}"
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
