#!/usr/bin/env bash
# Installs this folder's npm peer (@onehop/leap-edge-js) exactly as
# package-lock.json pins it (npm ci; idempotent: skipped when node_modules
# already matches). Prints what it does, exits non-zero on failure.
# Details: ../npm-peer-install.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../npm-peer-install.sh" "$here"
