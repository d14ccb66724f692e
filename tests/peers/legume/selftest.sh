#!/usr/bin/env bash
# Self-check of the legume peer, no roomtap needed: server.py (a real legume
# 0.5 Server, driven through its stdin) and client.py (a real legume Client),
# both from ./venv, over UDP on 127.0.0.1. Three runs:
#   basic   the client connects and sends 3 reliable Chats; the server sees
#           them with the values sent; the server sends a reliable Chat and
#           an unreliable Pos, the client gets both; status shows 1 peer and
#           nothing pending (acked); the server disconnects the client (the
#           client sees OnDisconnect); quit.
#   pause   the client (--timeout 1.5) connects and sends one Chat; the
#           server is paused and the client times out ("Connection timed
#           out"); resumed, a raw datagram with type id 99 makes the server's
#           update() raise (reported as an exception event, the server goes
#           on); the server's status still answers; stdin closed: it exits.
#   reject  server --reject: the client is rejected (exit 2), the server
#           reports the connect_request with accepted false.
#
# Usage: tests/peers/legume/selftest.sh   (after tests/peers/legume/install.sh)
# Exit 0 = PASS. Everything lives in one mktemp -d dir, removed at the end
# (SELFTEST_KEEP=1 keeps it). Bounded: every wait has a timeout, each child
# runs under timeout(1) and has its own lifetime limit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="$here/venv/bin/python"
[ -x "$py" ] || { echo "selftest[legume]: $here/venv missing: run $here/install.sh" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/rt-lg.XXXXXX")"
pids=()
fds=()
current=""
cleanup() {
  local rc=$?
  set +e
  if [ "$rc" != 0 ] && [ -n "$current" ]; then
    show_logs "$tmp/$current"
    echo "selftest[legume]: FAILED ($current)" >&2
  fi
  for fd in "${fds[@]}"; do exec {fd}>&- 2>/dev/null; done
  local deadline=$((SECONDS + 5))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  if [ "${SELFTEST_KEEP:-0}" = 1 ]; then
    echo "selftest[legume]: logs kept in $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server DIR ARGS...: server.py with stdin from a FIFO this script
# holds open on fd $srv_fd (closing it ends the server); stdout/stderr in
# DIR/server.out/.err. Sets srv_pid, srv_fd, port.
start_server() {
  local dir="$1"
  shift
  mkfifo "$dir/server.in"
  (
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    exec timeout 60 "$py" "$here/server.py" --lifetime 50 "$@" \
      <"$dir/server.in" >"$dir/server.out" 2>"$dir/server.err"
  ) &
  srv_pid=$!
  pids+=("$srv_pid")
  exec {srv_fd}>"$dir/server.in"
  fds+=("$srv_fd")
  wait_for "$dir/server.out" '"event": "listening"' 10 "server.py to listen" || return 1
  port="$(sed -n 's/.*"event": "listening".*"port": \([0-9]*\).*/\1/p' "$dir/server.out" | head -n1)"
  [ -n "$port" ] || { echo "selftest[legume]: FAILED: no port in the listening line" >&2; return 1; }
}
# start_client DIR ARGS...: client.py against $port; output in DIR/client.out/.err.
start_client() {
  local dir="$1"
  shift
  (
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    exec timeout 30 "$py" "$here/client.py" --host 127.0.0.1 --port "$port" "$@" \
      </dev/null >"$dir/client.out" 2>"$dir/client.err"
  ) &
  cli_pid=$!
  pids+=("$cli_pid")
}
# cmd JSON: one command line to the server.
cmd() { echo "$1" >&"$srv_fd"; }
# wait_for FILE FIXED_STRING TIMEOUT_S WHAT
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    if [ $SECONDS -ge "$deadline" ]; then
      echo "selftest[legume]: FAILED: timed out ($3 s) waiting for $4" >&2
      return 1
    fi
    sleep 0.05
  done
}
# wait_exit PID TIMEOUT_S: waits for a child; its status in exit_status.
wait_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    if [ $SECONDS -ge "$deadline" ]; then
      echo "selftest[legume]: FAILED: pid $1 still running after $2 s" >&2
      return 1
    fi
    sleep 0.05
  done
  exit_status=0
  wait "$1" || exit_status=$?
}
show_logs() {
  local f
  for f in "$1"/*.out "$1"/*.err; do
    [ -s "$f" ] || continue
    echo "---- $f (last 30 lines, cut at 300 columns)" >&2
    tail -n 30 "$f" | cut -c1-300 >&2
  done
}
# check DIR MODE CLIENT_RC SERVER_RC: the Python checks of a run's outputs.
check() {
  "$py" - "$@" <<'EOF'
import json, sys

d, mode, crc, src = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tag = f"selftest[legume/{mode}]"
S = [json.loads(l) for l in open(f"{d}/server.out") if l.strip()]
C = [json.loads(l) for l in open(f"{d}/client.out") if l.strip()]
bad = []


def check(ok, what):
    if not ok:
        bad.append(what)
    return ok


def ev(lines, name, **kw):
    return [e for e in lines if e.get("event") == name and all(e.get(k) == v for k, v in kw.items())]


check(src == 0, f"server.py exit status {src}, not 0")
check(not ev(S, "done", ok=False), f"a server command failed: {ev(S, 'done', ok=False)}")
check(not ev(S, "log") and not ev(C, "exception"), "unexpected legume log line or client exception")
metrics = ev(C, "metrics")
check(len(metrics) == 1 and C[-1] is metrics[0], "the client's last line is not its metrics")

if mode == "basic":
    check(crc == 0, f"client.py exit status {crc}, not 0")
    check(ev(C, "connected"), "client not connected")
    req = ev(S, "connect_request")
    check(len(req) == 1 and req[0]["accepted"] is True and req[0]["protocol"] == 4, "connect_request wrong")
    msgs = ev(S, "message", type="Chat")
    want = [{"sender": "cli", "text": f"hello-{i}", "seq": i, "x": i + 0.5, "flag": 1, "small": 256 + i,
             "tiny": i} for i in (1, 2, 3)]
    check([m["values"] for m in msgs] == want, f"server saw {[m['values'] for m in msgs]}, want {want}")
    check(all(m["reliable"] and m["addr"] == req[0]["addr"] for m in msgs), "Chats not reliable / wrong addr")
    sent = [e["message_id"] for e in ev(C, "sent")]
    check(sent == [m["message_id"] for m in msgs], f"message ids sent {sent} != received")
    got = {m["type"]: m for m in ev(C, "message")}
    check(got.get("Chat", {}).get("values") == {"sender": "srv", "text": "hi-rust", "seq": 7, "x": -2.5,
                                                "flag": 1, "small": 65535, "tiny": 255}
          and got["Chat"]["reliable"] is True, f"client's Chat from the server wrong: {got.get('Chat')}")
    check(got.get("Pos", {}).get("values") == {"who": "srv", "x": 1.0, "y": -2.25}
          and got["Pos"]["reliable"] is False, f"client's Pos wrong: {got.get('Pos')}")
    st = ev(S, "status")
    check(st and st[-1]["peers"] == 1 and st[-1]["pending"] == [] and st[-1]["pending_count"] == 0
          and st[-1]["peer_metrics"]["in_bytes"] > 0, f"final status wrong: {st[-1] if st else None}")
    check(ev(S, "done", cmd="disconnect") and ev(S, "done", cmd="disconnect")[0]["addrs"] == [req[0]["addr"]],
          "disconnect did not name the peer")
    check(ev(C, "disconnect"), "client saw no OnDisconnect after the server's disconnect")
    check(S[-1] == {"event": "exit", "reason": "quit"}, "server did not end with exit/quit")
    m = metrics[0]
    check(m["state"] == 100 and m["pending"] == [], f"client end state {m['state']}, pending {m['pending']}")
    print(f"{tag}: 3 reliable Chats arrived as sent; Chat + Pos reached the client; status "
          f"peers=1 pending=[]; server-side disconnect seen; client metrics {m['metrics']}")
elif mode == "pause":
    check(ev(C, "connected") and ev(S, "message", type="Chat"), "no connect / Chat")
    err = ev(C, "error")
    check(err and err[0]["error"] == "Connection timed out", f"client did not time out: {err}")
    check(metrics and metrics[0]["state"] == 101, "client not ERRORED after its timeout")
    st = ev(S, "status")
    check(len(st) == 2 and st[0]["paused"] is True and st[1]["paused"] is False, "status paused flags wrong")
    exc = ev(S, "exception")
    check(exc and exc[0]["error"] == "MessageError: No message exists with ID 99",
          f"no exception event for type id 99: {exc}")
    check(S[-1] == {"event": "exit", "reason": "stdin closed"}, "server did not exit on stdin close")
    print(f"{tag}: paused server -> client '{err[0]['error'] if err else '?'}'; type id 99 -> "
          f"'{exc[0]['error'] if exc else '?'}', server kept going")
elif mode == "reject":
    check(crc == 2, f"client.py exit status {crc}, not 2 (rejected)")
    check(ev(C, "rejected") and not ev(C, "connected"), "client not rejected")
    req = ev(S, "connect_request")
    check(len(req) == 1 and req[0]["accepted"] is False, "connect_request not reported as refused")
    check(not ev(S, "message"), "server got messages from a rejected client")
    check(metrics and metrics[0]["state"] == 101, "client not ERRORED after the rejection")
    print(f"{tag}: rejected (client state 101, exit 2)")

if bad:
    for b in bad:
        print(f"{tag}: FAILED: {b}", file=sys.stderr)
    sys.exit(1)
print(f"{tag}: PASS")
EOF
}

run_basic() {
  local dir="$tmp/basic"
  mkdir "$dir"
  start_server "$dir" --timeout 10 || return 1
  start_client "$dir" --count 3 --reliable --seconds 15 --timeout 10
  wait_for "$dir/client.out" '"event": "connected"' 10 "the client to connect" || return 1
  wait_for "$dir/server.out" '"text": "hello-3"' 10 "the server to get the 3rd Chat" || return 1
  cmd '{"cmd": "send", "type": "Chat", "reliable": true, "id": "c", "values": {"sender": "srv", "text": "hi-rust", "seq": 7, "x": -2.5, "flag": true, "small": 65535, "tiny": 255}}'
  cmd '{"cmd": "send", "type": "Pos", "id": "p", "values": {"who": "srv", "x": 1, "y": -2.25}}'
  wait_for "$dir/server.out" '"id": "p"' 10 "the server's done for the sends" || return 1
  wait_for "$dir/client.out" '"type": "Pos"' 10 "the client to get the Pos" || return 1
  wait_for "$dir/client.out" '"text": "hi-rust"' 10 "the client to get the Chat" || return 1
  # The client acked the reliable Chat when it got it; give the server a
  # moment to read the ack (then nothing is pending).
  local i
  for i in $(seq 1 20); do
    cmd '{"cmd": "status"}'
    sleep 0.05
    tail -n 3 "$dir/server.out" | grep -qF '"pending_count": 0' && break
  done
  cmd '{"cmd": "disconnect"}'
  wait_for "$dir/client.out" '"event": "metrics"' 10 "the client to see the disconnect and end" || return 1
  wait_exit "$cli_pid" 10 || return 1
  local crc=$exit_status
  cmd '{"cmd": "quit"}'
  wait_exit "$srv_pid" 10 || return 1
  check "$dir" basic "$crc" "$exit_status"
}

run_pause() {
  local dir="$tmp/pause"
  mkdir "$dir"
  start_server "$dir" || return 1
  start_client "$dir" --count 1 --seconds 15 --timeout 1.5
  wait_for "$dir/server.out" '"type": "Chat"' 10 "the server to get the Chat" || return 1
  cmd '{"cmd": "pause"}'
  cmd '{"cmd": "status"}'
  wait_for "$dir/client.out" '"event": "metrics"' 10 "the client to time out and end" || return 1
  wait_exit "$cli_pid" 10 || return 1
  local crc=$exit_status
  cmd '{"cmd": "resume"}'
  wait_for "$dir/server.out" '"cmd": "resume"' 10 "the resume's done" || return 1
  # A datagram with an unknown message type id (99): update() raises.
  "$py" -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(bytes.fromhex("000100000063"), ("127.0.0.1", int(sys.argv[1])))' "$port"
  wait_for "$dir/server.out" '"event": "exception"' 10 "the server's exception event" || return 1
  cmd '{"cmd": "status"}'
  wait_for "$dir/server.out" '"paused": false' 10 "the status after resume" || return 1
  exec {srv_fd}>&-
  wait_exit "$srv_pid" 10 || return 1
  check "$dir" pause "$crc" "$exit_status"
}

run_reject() {
  local dir="$tmp/reject"
  mkdir "$dir"
  start_server "$dir" --reject || return 1
  start_client "$dir" --count 1 --seconds 5
  wait_exit "$cli_pid" 10 || return 1
  local crc=$exit_status
  wait_for "$dir/server.out" '"event": "connect_request"' 10 "the connect_request line" || return 1
  cmd '{"cmd": "quit"}'
  wait_exit "$srv_pid" 10 || return 1
  check "$dir" reject "$crc" "$exit_status"
}

# Not in an `if`: errexit stays on inside the runs; a failure ends the
# script (cleanup shows that run's logs).
for current in basic pause reject; do
  "run_$current"
done
current=""
echo "selftest[legume]: PASS"
