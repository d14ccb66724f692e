#!/usr/bin/env bash
# Installs the real Legume (PyPI legume==0.5, a reliable-UDP library; pinned
# with its hash in requirements.txt) into a venv in this folder,
# tests/peers/legume/venv/, for server.py and client.py (see selftest.sh).
# Only PyPI is needed.
#
# Usage: tests/peers/legume/install.sh              install (from any cwd)
#        tests/peers/legume/install.sh --print-python
#            only print the Python it would use (or fail saying why; the
#            check install-all.sh runs before installing anything)
#
# The Python: $LEGUME_PEER_PYTHON when set (a path or a command); else the
# newest 3.11, 3.12 or 3.13 that `pyenv versions --bare` lists; else
# `python3` on PATH when it is >= 3.11. (legume 0.5 runs unmodified on
# 3.11-3.13; the message field order on the wire needs >= 3.7.)
#
# Idempotent: skips when venv/.roomtap-install-stamp matches a hash of
# requirements.txt + build-requirements.txt + the chosen Python's path and
# version (+ this script's stamp version) and the venv's Python still runs.
# Otherwise the venv is made anew and filled in two steps, both hash-checked:
#   1. pip install --require-hashes --no-deps --only-binary=:all: -r build-requirements.txt
#      (a pinned setuptools: legume 0.5 is only an sdist, Legume-0.5.zip)
#   2. pip install --require-hashes --no-deps --no-build-isolation --use-pep517
#          --no-binary legume --no-cache-dir -r requirements.txt
#      (builds the wheel with that setuptools: pip's isolated build env
#      would fetch an unpinned one; no cache: always built here)
# then checked: server.py --check imports legume, reports its version 0.5 and
# encodes a Chat message byte for byte as in the research capture.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peer=legume
peer_var=LEGUME_PEER_PYTHON
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
for f in requirements.txt build-requirements.txt server.py client.py peer_messages.py; do
  [ -f "$f" ] || fail "$here/$f missing"
done

# One install of this folder at a time.
if command -v flock >/dev/null; then
  lock="${TMPDIR:-/tmp}/roomtap-peers-$(printf '%s' "$here" | sha256sum | cut -c1-16).lock"
  exec 9>"$lock"
  flock 9
fi

want="$({
  sha256sum requirements.txt build-requirements.txt
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
venv/bin/python -m pip install --quiet --require-hashes --no-deps --only-binary=:all: \
  -r build-requirements.txt ||
  fail "pip install --require-hashes -r build-requirements.txt failed (is PyPI reachable? a hash mismatch is named above)"
venv/bin/python -m pip install --quiet --require-hashes --no-deps --no-build-isolation --use-pep517 \
  --no-binary legume --no-cache-dir -r requirements.txt ||
  fail "pip install --require-hashes -r requirements.txt (building legume 0.5's sdist) failed" \
    "(is PyPI reachable? a hash mismatch is named above)"

# Check: the pinned version is what is installed, it imports, and our Chat
# message encodes as in the research capture.
check="$(venv/bin/python server.py --check)" || fail "server.py --check failed: ${check:-no output}"
say "installed: $check"
case "$check" in
  *'"legume_version": "0.5"'*) ;;
  *) fail "installed legume is not 0.5" ;;
esac
printf '%s\n%s\n' "$want" "installed $(date -u +%FT%TZ), legume 0.5 (+ setuptools 84.2.1 to build it), Python $py_ver ($py_how)" >"$stamp"
say "done in $(($(date +%s) - start)) s"
