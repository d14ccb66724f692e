#!/usr/bin/env bash
# Installs the real npm peers the integration tests drive (pinned by
# package-lock.json). Idempotent: skips a folder whose node_modules already
# matches its lockfile. Works offline from the registry's point of view:
# electron's binary download is skipped (a hard dependency of the cli that
# the relay never runs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for dir in "$here"/*/; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp="$dir/node_modules/.roomtap-lock-sha"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "peers: $(basename "$dir") up to date"
    continue
  fi
  echo "peers: installing $(basename "$dir") (npm ci)…"
  (cd "$dir" && ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
done
