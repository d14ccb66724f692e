#!/usr/bin/env bash
# Self-check of the npm peers, all on 127.0.0.1: starts the relay on a free
# port, a redux app and monitor.mjs; the monitor sends, after 3 ACTIONs,
# DISPATCH JUMP_TO_STATE index 1, TOGGLE_ACTION id 2 and COMMIT (broadcast on
# `respond`), and the app's own output must show it really jumped back
# (count 1 at index 1 after count >= 3), skipped action 2 and committed.
#
# Usage: tests/peers/redux/selftest.sh [current|legacy]
#   current (default): relay.mjs (@redux-devtools/cli 5) + app.mjs here
#   legacy:            ../redux-legacy/relay.cjs (remotedev-server 0.3.1) + app.cjs
# (the monitor is always this folder's monitor.mjs; both folders must be
# installed: tests/peers/install-all.sh). Logs are kept in $SELFTEST_LOGS
# (default: a temp dir, printed). Exit 0 = PASS. Bounded: every wait has a
# timeout and every child has its own lifetime limit too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kind="${1:-current}"
case "$kind" in
  current) pdir="$here"; relay=(node relay.mjs); app=(node app.mjs) ;;
  legacy) pdir="$(cd "$here/../redux-legacy" && pwd)"; relay=(node relay.cjs); app=(node app.cjs) ;;
  *) echo "usage: $0 [current|legacy]" >&2; exit 2 ;;
esac
for d in "$here" "$pdir"; do
  [ -d "$d/node_modules" ] || { echo "selftest: $d has no node_modules: run tests/peers/install-all.sh" >&2; exit 2; }
done

logs="${SELFTEST_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/roomtap-selftest.XXXXXX")}"
mkdir -p "$logs"
echo "selftest[$kind]: logs in $logs"

# relay.mjs takes port 0 (the kernel picks one; READY says which). relay.cjs
# (SocketCluster 14, its listening socket in a child process) needs a port
# named in advance: a free one, bound and closed here (racy, but only here).
if [ "$kind" = current ]; then
  port=0
else
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
fi

# Each child reads its stdin from a FIFO this script holds open: closing our
# end (on exit, however we exit) makes every child exit by itself.
pids=()
fds=()
start_child() { # name dir cmd...
  local name="$1" dir="$2"
  shift 2
  local fifo="$logs/$name.stdin"
  rm -f "$fifo"
  mkfifo "$fifo"
  (cd "$dir" && exec "$@" <"$fifo" >"$logs/$name.out" 2>"$logs/$name.err") &
  pids+=($!)
  local fd
  exec {fd}>"$fifo"
  fds+=("$fd")
}
cleanup() {
  local rc=$?
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  # Children exit on stdin close; give them 5 s, then kill the ones we started.
  local deadline=$((SECONDS + 5))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for WHAT TIMEOUT_S NODE_EXPR: polls until the JS expression (given
# L(name) = array of parsed JSON lines of $logs/name.out) is true.
wait_for() {
  local what="$1" timeout="$2" expr="$3"
  local deadline=$((SECONDS + timeout))
  while :; do
    if LOGS="$logs" node -e '
      const fs = require("fs");
      const L = (n) => { try { return fs.readFileSync(`${process.env.LOGS}/${n}.out`, "utf8")
        .split("\n").filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } }); }
        catch { return []; } };
      process.exit(('"$expr"') ? 0 : 1);' 2>/dev/null; then
      echo "selftest[$kind]: ok: $what"
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "selftest[$kind]: FAIL: timed out after ${timeout}s waiting for: $what" >&2
      for f in "$logs"/*.out "$logs"/*.err; do echo "--- $f" >&2; tail -n 30 "$f" >&2; done
      return 1
    fi
    sleep 0.1
  done
}

start_child relay "$pdir" "${relay[@]}" "$port" 60
if [ "$port" = 0 ]; then
  wait_for "relay READY" 30 "L('relay').some((l) => /^READY [1-9][0-9]*$/.test(l.raw))"
  port="$(sed -n 's/^READY \([0-9][0-9]*\)$/\1/p' "$logs/relay.out" | head -n1)"
  echo "selftest[$kind]: relay on 127.0.0.1:$port"
else
  wait_for "relay READY on 127.0.0.1:$port" 30 "L('relay').some((l) => l.raw === 'READY $port')"
fi

start_child monitor "$here" node monitor.mjs --port "$port" --seconds 45 --after 3 \
  --jump 1 --toggle 2 --commit --frames
wait_for "monitor subscribed to log" 15 "L('monitor').some((l) => l.event === 'subscribed')"

start_child app "$pdir" "${app[@]}" --port "$port" --name counter --actions 8 \
  --interval 300 --start-after 1000 --seconds 45

wait_for "monitor got the app's STATE (answer to START)" 20 \
  "L('monitor').some((l) => l.event === 'msg' && l.type === 'STATE' && l.name === 'counter')"
wait_for "monitor got 3 ACTIONs and sent JUMP_TO_STATE/TOGGLE_ACTION/COMMIT" 20 \
  "L('monitor').filter((l) => l.event === 'sent' && l.what !== 'START').length === 3"
wait_for "app jumped back: count 1 at currentStateIndex 1 after count >= 3" 15 "(() => {
  const s = L('app').filter((l) => l.event === 'state');
  const hi = s.findIndex((l) => l.count >= 3);
  return hi >= 0 && s.slice(hi + 1).some((l) => l.count === 1 && l.currentStateIndex === 1);
})()"
wait_for "app skipped action 2 (TOGGLE_ACTION)" 15 \
  "L('app').some((l) => l.event === 'state' && Array.isArray(l.skipped) && l.skipped.includes(2))"
wait_for "app committed (COMMIT: staged 1, committed true)" 15 \
  "L('app').some((l) => l.event === 'state' && l.committed === true && l.staged === 1 && l.currentStateIndex === 0)"
wait_for "monitor got STATE replies to TOGGLE_ACTION and COMMIT (one with committed true)" 15 \
  "L('monitor').some((l) => l.event === 'msg' && l.type === 'STATE' && l.committed === true)"
wait_for "app finished its 8 dispatches" 20 "L('app').some((l) => l.event === 'done')"

echo "selftest[$kind]: app state lines:"
grep '"event":"state"' "$logs/app.out" | sed 's/^/  /'
echo "selftest[$kind]: PASS"
