#!/usr/bin/env bash
# Installs the real TracimDaemon Python SDK peer (PyPI tracim-daemon-sdk
# ==1.0.3, pinned with hashes in requirements.txt) into a venv in this
# folder, tests/peers/tracim/venv/, for sdk_client.py (see selftest.sh).
# Only PyPI is needed.
#
# Usage: tests/peers/tracim/install.sh              install (from any cwd)
#        tests/peers/tracim/install.sh --print-python
#            only print the Python it would use (or fail saying why; the
#            check install-all.sh runs before installing anything)
#
# The Python: $TRACIM_PEER_PYTHON when set (a path or a command); else the
# newest 3.11, 3.12 or 3.13 that `pyenv versions --bare` lists; else
# `python3` on PATH when it is >= 3.11. (The SDK's import workaround is
# known to work on 3.11-3.13.)
#
# Idempotent: skips when venv/.roomtap-install-stamp matches a hash of
# requirements.txt + the chosen Python's path and version (+ this script's
# stamp version) and the venv's Python still runs. Otherwise the venv is
# made anew and filled with
#   pip install --require-hashes --no-deps --only-binary=:all: -r requirements.txt
# then checked: sdk_client.py --check imports the SDK (with its sys.path
# workaround) and reports its version.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peer=tracim
peer_var=TRACIM_PEER_PYTHON
# say, fail, py_version, py_ok, pick_python (sets py, py_ver, py_how).
. "$here/../python.sh"

mode=install
case "${1:-}" in
  "") ;;
  --print-python) mode=print ;;
  *) echo "usage: $0 [--print-python]" >&2; exit 2 ;;
esac

pick_python
if [ "$mode" = print ]; then
  echo "$py_how: $py (Python $py_ver)"
  exit 0
fi

trap 'fail "command failed (line $LINENO): $BASH_COMMAND"' ERR
cd "$here"
[ -f requirements.txt ] || fail "$here/requirements.txt missing"
[ -f sdk_client.py ] || fail "$here/sdk_client.py missing"

# One install of this folder at a time.
if command -v flock >/dev/null; then
  lock="${TMPDIR:-/tmp}/roomtap-peers-$(printf '%s' "$here" | sha256sum | cut -c1-16).lock"
  exec 9>"$lock"
  flock 9
fi

want="$({
  sha256sum requirements.txt
  echo "python=$py version=$py_ver stamp=1"
} | sha256sum | cut -d' ' -f1)"
stamp="venv/.roomtap-install-stamp"
if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ] && [ -n "$(py_version venv/bin/python)" ]; then
  say "up to date (venv matches requirements.txt; $(sed -n 2p "$stamp"))"
  exit 0
fi

say "using Python $py_ver ($py_how: $py)"
start=$(date +%s)
rm -rf venv
"$py" -m venv venv || fail "$py -m venv failed (Debian's python3 needs the python3-venv package)"
venv/bin/python -m pip install --quiet --require-hashes --no-deps --only-binary=:all: -r requirements.txt ||
  fail "pip install --require-hashes -r requirements.txt failed (is PyPI reachable? a hash mismatch is named above)"

# Check: the pinned version is what is installed, and the SDK imports (with
# sdk_client.py's sys.path workaround for its `from sdk import ...`).
check="$(venv/bin/python sdk_client.py --check)" || fail "sdk_client.py --check: the installed SDK does not import"
say "installed: $check"
case "$check" in
  *'"sdk_version": "1.0.3"'*) ;;
  *) fail "installed SDK is not 1.0.3" ;;
esac
printf '%s\n%s\n' "$want" "installed $(date -u +%FT%TZ), tracim-daemon-sdk 1.0.3, Python $py_ver ($py_how)" >"$stamp"
say "done in $(($(date +%s) - start)) s"
