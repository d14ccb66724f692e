#!/usr/bin/env bash
# Installs one npm peer folder (tests/peers/<name>/) exactly as its
# package-lock.json pins it, with `npm ci`. Called by <name>/install.sh.
#
# Usage: tests/peers/npm-peer-install.sh DIR
#
# Idempotent: skips when node_modules/.roomtap-install-stamp matches a hash of
# package-lock.json + package.json + `node -v` + the sqlite mode below.
# Only the npm registry is needed:
#   - ELECTRON_SKIP_BINARY_DOWNLOAD=1 (electron is a hard dependency of
#     @redux-devtools/cli; its postinstall is also denied in allowScripts)
#   - npm_config_build_from_source=true: sqlite3 never tries to download a
#     prebuilt binary, it is compiled with gcc (node headers from
#     /usr/include/node when they match `node -v`)
#   - PEERS_SQLITE=auto|system|bundled (default auto): "system" links sqlite3
#     against Debian's libsqlite3 (needs libsqlite3-dev; ~30 s), "bundled"
#     compiles sqlite's amalgamation (~3 min); auto = system when
#     /usr/include/sqlite3.h exists.
# If `npm ci` fails (e.g. sqlite3 does not compile) it retries once with
# --ignore-scripts and says so loudly: the relays still relay without
# sqlite3 (only report storage is lost). PEERS_STRICT=1 makes that fatal.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir="$(cd "$1" && pwd)"
name="$(basename "$dir")"
say() { echo "peers[$name]: $*"; }
fail() {
  echo "peers[$name]: FAILED: $*" >&2
  exit 1
}
trap 'fail "command failed (line $LINENO): $BASH_COMMAND"' ERR

command -v node >/dev/null || fail "node not found (install Node.js 20 and npm)"
command -v npm >/dev/null || fail "npm not found"
[ -f "$dir/package.json" ] || fail "$dir/package.json missing"
[ -f "$dir/package-lock.json" ] || fail "$dir/package-lock.json missing"
cd "$dir"

# One install per folder at a time.
if command -v flock >/dev/null; then
  lock="${TMPDIR:-/tmp}/roomtap-peers-$(printf '%s' "$dir" | sha256sum | cut -c1-16).lock"
  exec 9>"$lock"
  flock 9
fi

node_version="$(node -v)"
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
export npm_config_build_from_source=true
# node-gyp must not download node headers: use the system's when they match.
if [ -f /usr/include/node/node_version.h ]; then
  hdr="v$(awk '/define NODE_(MAJOR|MINOR|PATCH)_VERSION/ {printf "%s%s", sep, $3; sep="."}' /usr/include/node/node_version.h)"
  if [ "$hdr" = "$node_version" ]; then
    export npm_config_nodedir=/usr
  fi
fi
sqlite_mode="${PEERS_SQLITE:-auto}"
if [ "$sqlite_mode" = auto ]; then
  if [ -f /usr/include/sqlite3.h ]; then sqlite_mode=system; else sqlite_mode=bundled; fi
fi
case "$sqlite_mode" in
  system) export npm_config_sqlite=/usr ;;
  bundled) unset npm_config_sqlite ;;
  *) fail "PEERS_SQLITE must be auto, system or bundled (got $sqlite_mode)" ;;
esac

want="$({
  sha256sum package-lock.json package.json
  echo "node=$node_version sqlite=$sqlite_mode stamp=2"
} | sha256sum | cut -d' ' -f1)"
stamp="node_modules/.roomtap-install-stamp"
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ]; then
  say "up to date (node_modules matches package-lock.json; $(sed -n 2p "$stamp"))"
  exit 0
fi

say "installing with npm ci (node $node_version, npm $(npm -v 2>/dev/null), sqlite3: $sqlite_mode${npm_config_nodedir:+, node headers from $npm_config_nodedir})"
start=$(date +%s)
degraded=""
if ! npm ci --no-audit --no-fund; then
  [ "${PEERS_STRICT:-0}" = 1 ] && fail "npm ci failed (PEERS_STRICT=1)"
  say "WARNING: npm ci failed; retrying with --ignore-scripts (no native sqlite3:" \
    "the relay still relays, report storage is disabled)" >&2
  npm ci --no-audit --no-fund --ignore-scripts || fail "npm ci --ignore-scripts failed too"
  degraded=" DEGRADED (install scripts skipped)"
fi

# Check: every pinned dependency is installed at its pinned version.
node -e '
  const fs = require("fs");
  const deps = require("./package.json").dependencies;
  const bad = [];
  const got = [];
  for (const [n, v] of Object.entries(deps)) {
    let have;
    try { have = JSON.parse(fs.readFileSync(`node_modules/${n}/package.json`, "utf8")).version; } catch {}
    if (have !== v) bad.push(`${n}: want ${v}, have ${have}`); else got.push(`${n}@${have}`);
  }
  if (bad.length) { console.error(bad.join("\n")); process.exit(1); }
  console.log(got.join(" "));
' | sed "s/^/peers[$name]: installed: /" || fail "installed versions do not match package.json"
if ! grep -q '"node_modules/sqlite3"' package-lock.json; then
  sqlite_state="no sqlite3 in this folder"
elif node -e 'require("sqlite3")' 2>/dev/null; then
  sqlite_state="sqlite3 native module loads"
else
  sqlite_state="sqlite3 native module MISSING (relay runs without report storage)"
  say "WARNING: $sqlite_state" >&2
  degraded="${degraded:- DEGRADED (sqlite3 missing)}"
fi

if [ -n "$degraded" ]; then
  # No stamp: the next run tries a full install again.
  rm -f "$stamp"
else
  printf '%s\n%s\n' "$want" "installed $(date -u +%FT%TZ), node $node_version, sqlite3 $sqlite_mode" > "$stamp"
fi
say "done in $(($(date +%s) - start)) s${degraded}; $sqlite_state"
