#!/usr/bin/env bash
# Kept for the README and older scripts: same as install-all.sh.
set -euo pipefail
exec "$(cd "$(dirname "$0")" && pwd)/install-all.sh" "$@"
