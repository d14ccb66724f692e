# Shared by the Python peers' install.sh (tracim, legume): which Python to
# make a venv with. The sourcing script sets `peer` (its name) and
# `peer_var` (the variable that may name a Python) first.
#
# The Python: $<peer_var> when set (a path or a command); else the newest
# 3.11, 3.12 or 3.13 that `pyenv versions --bare` lists; else `python3` on
# PATH when it is >= 3.11.

say() { echo "peers[$peer]: $*"; }
fail() {
  echo "peers[$peer]: FAILED: $*" >&2
  exit 1
}

# py_version PYTHON: prints "3.X.Y" if it runs, else nothing.
py_version() {
  "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true
}
# py_ok VERSION: 3.11 or later.
py_ok() {
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  [ -n "$major" ] && [ -n "$minor" ] && { [ "$major" -gt 3 ] || { [ "$major" = 3 ] && [ "$minor" -ge 11 ]; }; }
}

# Sets py (absolute path), py_ver and py_how, or fails saying what was tried.
pick_python() {
  local tried=() v p
  if [ -n "${!peer_var:-}" ]; then
    p="$(command -v "${!peer_var}" || true)"
    [ -n "$p" ] || fail "$peer_var=${!peer_var}: not found"
    py_ver="$(py_version "$p")"
    py_ok "$py_ver" || fail "$peer_var=${!peer_var} is Python '${py_ver:-?}' (need >= 3.11)"
    py="$p"
    py_how="$peer_var"
    return
  fi
  if command -v pyenv >/dev/null; then
    # Plain versions only (no "system", no virtualenv names); newest first.
    v="$(pyenv versions --bare 2>/dev/null | grep -E '^3\.(11|12|13)\.[0-9]+$' | sort -V | tail -n1 || true)"
    if [ -n "$v" ]; then
      p="$(PYENV_VERSION="$v" pyenv which python3 2>/dev/null || true)"
      py_ver=""
      if [ -n "$p" ]; then py_ver="$(py_version "$p")"; fi
      if py_ok "$py_ver"; then
        py="$p"
        py_how="pyenv $v"
        return
      fi
      tried+=("pyenv $v (python3 not runnable: '${p:-no path}')")
    else
      tried+=("pyenv (lists no 3.11, 3.12 or 3.13: $(pyenv versions --bare 2>/dev/null | tr '\n' ' '))")
    fi
  else
    tried+=("pyenv (not installed)")
  fi
  p="$(command -v python3 || true)"
  if [ -n "$p" ]; then
    py_ver="$(py_version "$p")"
    if py_ok "$py_ver"; then
      py="$p"
      py_how="python3 on PATH"
      return
    fi
    tried+=("python3 on PATH ($p: '${py_ver:-does not run}', need >= 3.11)")
  else
    tried+=("python3 on PATH (none)")
  fi
  local IFS=';'
  fail "no suitable Python (>= 3.11) for the $peer peer; tried: ${tried[*]};" \
    "install one (e.g. pyenv install 3.13, or Debian's python3 + python3-venv) or set $peer_var"
}
