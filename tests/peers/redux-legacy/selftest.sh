#!/usr/bin/env bash
# Self-check of the legacy peers (remotedev-server relay + remote-redux-devtools
# app), driven by ../redux/monitor.mjs. Same checks as ../redux/selftest.sh.
set -euo pipefail
exec "$(cd "$(dirname "$0")" && pwd)/../redux/selftest.sh" legacy
