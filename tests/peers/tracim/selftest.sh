#!/usr/bin/env bash
# Self-check of the tracim peer, no roomtap needed: fake_daemon.py (a
# stand-in TracimDaemon) and sdk_client.py (the real SDK, from ./venv) talk
# over AF_UNIX sockets in a temp dir. The daemon answers daemon_client_add
# (daemon_account_info {"user_id": "42"}, daemon_client_added), then sends a
# daemon_tracim_event whose TLM is > 4 KiB, a small one, and a daemon_ping;
# the driver then sends daemon_ping and daemon_get_clients through the SDK's
# send function, and quits. Checked:
#   - the small TLM reaches the SDK's handlers as the same string (also its
#     dispatch by TLM event_type);
#   - the > 4 KiB one is LOST (the SDK JSON-decodes each 4096-byte recv
#     chunk on its own: a known defect of tracim-daemon-sdk 1.0.3);
#   - the SDK's own ping handler pongs (the daemon sees the pong, acks it);
#   - replies to the driver's sends arrive; quitting unregisters (twice:
#     close(), then the SDK's __del__).
# Two runs: with --log-errors (the swallowed errors made visible: the
# JSONDecodeError of the lost event, the account-info TypeError) and without
# (the SDK's own handler: no error shows at all).
#
# Usage: tests/peers/tracim/selftest.sh   (after tests/peers/tracim/install.sh)
# Exit 0 = PASS. Everything lives in one mktemp -d dir, removed at the end
# (SELFTEST_KEEP=1 keeps it). Bounded: every wait has a timeout, and each
# child has its own lifetime limit and runs under timeout(1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="$here/venv/bin/python"
[ -x "$py" ] || { echo "selftest[tracim]: $here/venv missing: run $here/install.sh" >&2; exit 2; }

# AF_UNIX paths are limited to 107 bytes: keep the temp dir short.
base="${TMPDIR:-/tmp}"
[ ${#base} -le 40 ] || base=/tmp
tmp="$(mktemp -d "$base/rt-tr.XXXXXX")"
pids=()
fds=()
current=""
cleanup() {
  local rc=$?
  set +e
  if [ "$rc" != 0 ] && [ -n "$current" ]; then
    show_logs "$tmp/$current"
    echo "selftest[tracim]: FAILED ($current)" >&2
  fi
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  local deadline=$((SECONDS + 5))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  if [ "${SELFTEST_KEEP:-0}" = 1 ]; then
    echo "selftest[tracim]: logs kept in $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME DIR CMD...: runs CMD with stdin from a FIFO this script holds
# open (closing it ends the child), stdout/stderr in DIR/NAME.out/.err.
# Sets started_pid and started_fd.
start() {
  local name="$1" dir="$2"
  shift 2
  mkfifo "$dir/$name.in"
  (
    # Not the other children's FIFO ends: each must see EOF when we close it.
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    exec timeout 60 "$@" <"$dir/$name.in" >"$dir/$name.out" 2>"$dir/$name.err"
  ) &
  started_pid=$!
  pids+=("$started_pid")
  exec {started_fd}>"$dir/$name.in"
  fds+=("$started_fd")
}
# wait_for FILE FIXED_STRING TIMEOUT_S WHAT
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    if [ $SECONDS -ge "$deadline" ]; then
      echo "selftest[tracim]: FAILED: timed out ($3 s) waiting for $4" >&2
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
      echo "selftest[tracim]: FAILED: pid $1 still running after $2 s" >&2
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

run() { # MODE: errors | silent
  local mode="$1" dir="$tmp/$1" flags=()
  [ "$mode" = errors ] && flags=(--log-errors)
  mkdir "$dir"
  echo "selftest[tracim/$mode]: daemon and SDK client in $dir"
  start daemon "$dir" "$py" "$here/fake_daemon.py" --socket "$dir/m.sock" --lifetime 40
  local dpid=$started_pid dfd=$started_fd
  wait_for "$dir/daemon.out" '"listening": true' 10 "the fake daemon to listen" || return 1
  start client "$dir" "$py" "$here/sdk_client.py" --master "$dir/m.sock" --socket "$dir/c.sock" \
    --lifetime 40 "${flags[@]}"
  local cpid=$started_pid cfd=$started_fd
  wait_for "$dir/client.out" '"registered": true' 10 "the SDK client to register" || return 1
  wait_for "$dir/daemon.out" '"scenario": "done"' 10 "the daemon's scripted round (tracim events, ping)" || return 1
  echo '{"op": "send", "type": "daemon_ping"}' >&"$cfd"
  wait_for "$dir/client.out" '"type": "daemon_pong"' 10 "the daemon's pong to the driver's ping" || return 1
  echo '{"op": "send", "type": "daemon_get_clients"}' >&"$cfd"
  wait_for "$dir/client.out" '"type": "daemon_clients"' 10 "daemon_clients" || return 1
  echo '{"op": "quit"}' >&"$cfd"
  wait_exit "$cpid" 10 || return 1
  local crc=$exit_status
  # The SDK unregisters twice (close(), then __del__); give the daemon a moment.
  local deadline=$((SECONDS + 3))
  while [ "$(grep -cF 'daemon_client_delete\"' "$dir/daemon.out" || true)" -lt 2 ] && [ $SECONDS -lt $deadline ]; do
    sleep 0.05
  done
  exec {dfd}>&-
  wait_exit "$dpid" 10 || return 1
  "$py" - "$dir" "$mode" "$crc" <<'EOF'
import json, sys

d, mode, crc = sys.argv[1], sys.argv[2], int(sys.argv[3])
tag = f"selftest[tracim/{mode}]"
C = [json.loads(l) for l in open(f"{d}/client.out") if l.strip()]
D = [json.loads(l) for l in open(f"{d}/daemon.out") if l.strip()]
me, master = f"{d}/c.sock", f"{d}/m.sock"
bad = []


def check(ok, what):
    if not ok:
        bad.append(what)
    return ok


def handled(name, t=None, data=None):
    return [c for c in C if c.get("handler") == name and (t is None or c.get("type") == t)
            and (data is None or c.get("data") == data)]


sent_by_client = [json.loads(x["raw"]) for x in D if x.get("dir") == "client->daemon" and "error" not in x]
errors = [c["error"] for c in C if c.get("handler") == "custom_error"]

check(crc == 0, f"sdk_client.py exit status {crc}, not 0")
check(C and C[0].get("ready") is True, "first client line is not ready")
check({"registered": True} in C, "no registered line")
print(f"{tag}: SDK {C[0].get('sdk_version')} on Python {C[0].get('python')}")
for key in ("driver_error", "bad_command", "send_error", "del_error", "close_error", "register_error"):
    check(not [c for c in C if key in c], f"client printed {key}")
check(not [x for x in D if "send_error" in x or "read_error" in x or "error" in x],
      "the daemon saw an error (send, read or unparsable event)")

# Registration.
add = [e for e in sent_by_client if e["type"] == "daemon_client_add"]
check(len(add) == 1 and add[0]["path"] == me and add[0]["data"] == {"path": me, "pid": str(C[0]["pid"])},
      "daemon_client_add not sent as expected")
check(handled("custom_message", "daemon_account_info", {"user_id": "42"}), "account info not seen")
check(handled("daemon_client_added", "daemon_client_added", {"path": me, "pid": str(C[0]["pid"])}),
      "daemon_client_added not handed to its handler")

# The two TLMs.
tlm = {x["tlm"]: x for x in D if "tlm" in x}
small, big = tlm["small"]["data"], tlm["big"]["data"]
big_sent = [x for x in D if x.get("type") == "daemon_tracim_event" and x.get("dir") == "daemon->client"
            and json.loads(x["raw"])["data"] == big]
check(tlm["big"]["tlm_len"] > 4096 and big_sent, "the big TLM was not sent")
check(handled("custom_message", "daemon_tracim_event", small), "small TLM not seen by the generic handler")
check(handled("daemon_tracim_event", "daemon_tracim_event", small), "small TLM not handed to daemon_tracim_event")
check(handled("content.created.html-document", "daemon_tracim_event", small),
      "small TLM not dispatched by its event_type")
got_big = [c for c in C if c.get("data") == big] + handled("content.modified.html-document")
if check(not got_big, "the > 4 KiB TLM ARRIVED: the SDK's 4096-byte recv defect is gone?"):
    decode = [e for e in errors if e.startswith("JSONDecodeError")]
    how = f"the SDK reported {decode[0]!r}" if decode else "the SDK said nothing (its error handler swallows it)"
    print(f"{tag}: > 4 KiB TLM ({tlm['big']['tlm_len']} bytes, {len(big_sent[0]['raw'])}-byte event): "
          f"LOST by the SDK as expected; {how}")
print(f"{tag}: small TLM ({tlm['small']['tlm_len']} bytes): arrived intact, also dispatched by its event_type")

# Errors: visible with --log-errors, swallowed without.
if mode == "errors":
    check(any(e.startswith("JSONDecodeError") for e in errors), "no JSONDecodeError reported for the big TLM")
    check(any(e.startswith("TypeError: the JSON object must be str") for e in errors),
          "no TypeError from the SDK's account-info handler")
    print(f"{tag}: errors the SDK would swallow: {errors}")
else:
    check(not errors, f"custom_error lines without --log-errors: {errors}")
    print(f"{tag}: no error shown (the SDK's own error handler swallows them)")
lr = [c for c in C if c.get("listen_returned")]
check(lr and lr[0].get("user_id") == 0, "user_id is not 0 (the SDK's account-info parsing is fixed?)")

# The daemon's ping: the SDK's own handler pongs.
done = [x for x in D if x.get("scenario") == "done"]
check(done and done[0]["pong"] is True, "the daemon got no pong to its ping")
ping = handled("custom_message", "daemon_ping")
check(ping and ping[0]["has_data"] is False, "the daemon's ping (no data field) not seen with has_data false")
check(any(c.get("sdk_log", "").startswith("SOCKET: SEND: daemon_pong") for c in C), "no SDK log line for the pong")
pong = [e for e in sent_by_client if e["type"] == "daemon_pong"]
check(pong and pong[0] == {"path": me, "type": "daemon_pong", "data": None} and '"data": null' in
      next(x["raw"] for x in D if '"daemon_pong"' in x.get("raw", "") and x["dir"] == "client->daemon"),
      "the pong is not {path, type, data: null}")
check(handled("daemon_ack", "daemon_ack"), "the daemon's ack (of the pong) not handed to daemon_ack")
if done and done[0]["pong"]:
    print(f"{tag}: daemon_ping -> the SDK's handler ponged ({done[0]['after_s']} s), the daemon acked")

# The driver's sends through the SDK's send_daemon_event.
check({"sent": True, "type": "daemon_ping"} in C and {"sent": True, "type": "daemon_get_clients"} in C,
      "send commands not confirmed")
check([e for e in sent_by_client if e == {"path": me, "type": "daemon_ping", "data": None}], "driver's ping not seen")
check(handled("daemon_pong", "daemon_pong"), "pong to the driver's ping not handed to daemon_pong")
check(handled("daemon_clients", "daemon_clients", [{"path": me, "pid": str(C[0]["pid"])}]), "daemon_clients wrong")

# Quit.
check(C[-1] == {"quit": True} and {"closed": True} in C, "no clean quit")
deletes = [e for e in sent_by_client if e["type"] == "daemon_client_delete"]
check(len(deletes) == 2 and all(e["path"] == me for e in deletes),
      f"expected the SDK to unregister twice (close, __del__), saw {len(deletes)}")
print(f"{tag}: quit: daemon_client_delete sent {len(deletes)} times (close(), then the SDK's __del__)")
retries = sum(x.get("connect_retries", 0) for x in D)
if retries:
    print(f"{tag}: note: the daemon's connects met the SDK's full backlog (listen(1)) {retries} times (EAGAIN, retried)")

if bad:
    for b in bad:
        print(f"{tag}: FAILED: {b}", file=sys.stderr)
    sys.exit(1)
print(f"{tag}: PASS")
EOF
}

# Not in an `if`: errexit stays on inside run; a failure ends the script
# (cleanup shows that run's logs).
for current in errors silent; do
  run "$current"
done
current=""
echo "selftest[tracim]: PASS"
