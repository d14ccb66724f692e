"""Test driver of the real TracimDaemon Python SDK (PyPI tracim-daemon-sdk
==1.0.3, installed in ./venv by install.sh). roomtap's integration tests run
it as a client of a daemon (roomtap's, or fake_daemon.py in selftest.sh).

Usage:
  venv/bin/python sdk_client.py --master MASTER_SOCK --socket OWN_SOCK
                                [--log-errors] [--lifetime SECONDS]
  venv/bin/python sdk_client.py --check      (imports the SDK, prints versions)

What it does, all through the SDK's own API (TracimDaemonClient):
  - puts the SDK's package directory first on sys.path: the package's
    __init__ says `from sdk import ...`, so a plain `import tracim_daemon_sdk`
    fails (ModuleNotFoundError: No module named 'sdk');
  - TracimDaemonClient(master_socket_path=, client_socket_path=),
    create_client_socket() (bind + listen(1) on OWN_SOCK),
    register_to_master() (sends daemon_client_add), listen_to_events() on the
    main thread, close() at the end (sends daemon_client_delete, unlinks
    OWN_SOCK). Dropping the client then runs the SDK's __del__, which calls
    close() again: the daemon sees the delete twice (the SDK's behaviour).
  - handlers: a reporter for EVENT_TYPE_GENERIC ("custom_message", called for
    every event) and for every DAEMON_* type, except daemon_ping and
    daemon_account_info, which keep the SDK's own default handlers (the ping
    handler sends the pong; the account-info one fails on 1.0.3, see below).
    For every daemon_tracim_event, a reporter is also put under the TLM's
    event_type before the SDK dispatches on it, so the SDK's third dispatch
    (by TLM event_type) shows up as a line with that handler name.
  - the SDK's log (e.g. "SOCKET: SEND: daemon_pong -> ...") goes to stdout as
    {"sdk_log": "..."} (client.logger).
  - errors: the SDK maps EVENT_TYPE_ERROR to its account-info handler, which
    ignores them (every error is swallowed). --log-errors replaces that
    handler with a reporter: {"handler": "custom_error", "error": "Type: msg"}.
    Without it the SDK's own (silent) behaviour is kept.

stdout, one JSON object per line, flushed:
  {"ready": true, "pid": N, ...}      listening on OWN_SOCK
  {"registered": true}                daemon_client_add sent
  {"handler": NAME, "type": T, "path": P, "has_data": bool, "data": ...}
      an event the SDK handed to one of our handlers. NAME is the key it was
      registered under ("custom_message", a DAEMON_* type, or a TLM
      event_type). has_data is false when the event had no "data" field (the
      SDK's decoded event then has no `data` attribute at all); data is the
      decoded JSON (the TLM of a daemon_tracim_event is a JSON string, kept as
      is), null when absent.
  {"handler": "custom_error", "error": "..."}   (--log-errors)
  {"sdk_log": "..."}
  {"sent": true, "type": T} / {"send_error": "..."}   after a send command
  {"listen_returned": true, ...}, {"closed": true} or {"close_error": "..."},
  {"del_error": "..."} (the SDK's __del__ close failed), then
  {"quit": true} (after {"op": "quit"}; with "reason": "eof" | "signal" |
  "lifetime" when it stopped for another reason). Exit status 0; 1 (and
  "reason": "register_error") when daemon_client_add could not be sent.
  {"driver_error": "..."} if one of our own reporters failed (it never
  raises into the SDK: a raising generic handler makes the SDK skip the
  event's own handler, e.g. the ping handler, and the pong is lost).

stdin, one JSON object per line:
  {"op": "send", "type": T, "data": ...}   sends a DaemonEvent(path=OWN_SOCK,
      type=T, data=data or null) to MASTER_SOCK with the SDK's
      send_daemon_event (the SDK has no API of its own for ping,
      get_clients, get_account_info or do_request)
  {"op": "quit"}   stops listening, the SDK unregisters, prints {"quit": true}
  EOF on stdin: the same as quit. --lifetime (default 600 s) bounds the run.
"""

import argparse
import importlib
import importlib.metadata
import importlib.util
import json
import os
import signal
import sys
import threading

_out_lock = threading.Lock()


def _plain(o):
    """json.dumps fallback: the SDK decodes objects into SimpleNamespace."""
    if isinstance(o, BaseException):
        return f"{type(o).__name__}: {o}"
    if hasattr(o, "__dict__"):
        return vars(o)
    return repr(o)


def emit(obj):
    line = json.dumps(obj, default=_plain)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def describe(err):
    return f"{type(err).__name__}: {err}"


def import_sdk():
    """The sys.path workaround, then the SDK's modules under the top-level
    names its own code imports them by (sdk, event, daemon_event)."""
    spec = importlib.util.find_spec("tracim_daemon_sdk")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "sdk_client.py: tracim_daemon_sdk is not installed for "
            f"{sys.executable}: run tests/peers/tracim/install.sh and use its venv/bin/python"
        )
    pkg_dir = list(spec.submodule_search_locations)[0]
    sys.path.insert(0, pkg_dir)
    return (
        importlib.import_module("sdk"),
        importlib.import_module("event"),
        importlib.import_module("daemon_event"),
    )


def check():
    """--check: shows the import defect, then imports with the workaround."""
    try:
        importlib.import_module("tracim_daemon_sdk")
        plain = "ok"
    except Exception as err:
        plain = describe(err)
    sdk, _, _ = import_sdk()
    emit(
        {
            "sdk_version": importlib.metadata.version("tracim-daemon-sdk"),
            "python": "%d.%d.%d" % sys.version_info[:3],
            "plain_import": plain,
            "client_class": sdk.TracimDaemonClient.__name__,
        }
    )


def reporter(name):
    def handler(_client, e):
        try:
            emit(
                {
                    "handler": name,
                    "type": getattr(e, "type", None),
                    "path": getattr(e, "path", None),
                    "has_data": hasattr(e, "data"),
                    "data": getattr(e, "data", None),
                }
            )
        except Exception as err:  # never into the SDK's dispatch
            try:
                emit({"driver_error": f"{name}: {describe(err)}"})
            except Exception:
                pass

    return handler


def error_reporter(_client, e):
    try:
        err = getattr(getattr(e, "data", None), "error", None)
        emit({"handler": "custom_error", "error": describe(err) if isinstance(err, BaseException) else repr(err)})
    except Exception as err:
        emit({"driver_error": f"custom_error: {describe(err)}"})


def tracim_reporter(report):
    def handler(client, e):
        report(client, e)
        # Make the SDK's dispatch by TLM event_type visible (it decodes
        # e.data right after this handler returns).
        try:
            tlm_type = json.loads(e.data).get("event_type")
        except Exception:
            return
        if isinstance(tlm_type, str) and tlm_type not in client.event_handlers:
            client.event_handlers[tlm_type] = reporter(tlm_type)

    return handler


class Stopper:
    """Stops the SDK's accept loop: it only ends on KeyboardInterrupt, so the
    main thread gets a signal whose handler raises it."""

    def __init__(self):
        self.reason = None
        self._lock = threading.Lock()
        self.main_ident = threading.main_thread().ident

    def on_signal(self, signum, _frame):
        if self.reason is None:
            self.reason = "signal"
        raise KeyboardInterrupt

    def stop(self, reason):
        with self._lock:
            if self.reason is not None:
                return
            self.reason = reason
        signal.pthread_kill(self.main_ident, signal.SIGUSR1)


def command_loop(stopper, send, make_event, own, master):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            op = cmd.get("op")
        except Exception:
            emit({"bad_command": line[:200]})
            continue
        if op == "send":
            t = cmd.get("type")
            if not isinstance(t, str):
                emit({"send_error": "send needs a string \"type\""})
                continue
            try:
                send(make_event(path=own, event_type=t, data=cmd.get("data")), master)
                emit({"sent": True, "type": t})
            except Exception as err:
                emit({"send_error": describe(err)})
        elif op == "quit":
            stopper.stop("quit")
            return
        else:
            emit({"bad_command": line[:200]})
    stopper.stop("eof")


def main():
    ap = argparse.ArgumentParser(description="Drives the real TracimDaemon Python SDK for tests.")
    ap.add_argument("--master", help="the daemon's socket path")
    ap.add_argument("--socket", help="this client's own socket path")
    ap.add_argument("--log-errors", action="store_true", help="report the errors the SDK swallows")
    ap.add_argument("--lifetime", type=float, default=600.0, help="stop after this many seconds (default 600)")
    ap.add_argument("--check", action="store_true", help="import the SDK, print versions, exit")
    args = ap.parse_args()
    if args.check:
        check()
        return 0
    if not args.master or not args.socket:
        ap.error("--master and --socket are required")

    sdk, event, daemon_event = import_sdk()
    stopper = Stopper()
    for sig in (signal.SIGUSR1, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stopper.on_signal)

    def unraisable(u):  # the SDK's __del__ -> close() failing
        emit({"del_error": describe(u.exc_value)})

    sys.unraisablehook = unraisable

    client = sdk.TracimDaemonClient(master_socket_path=args.master, client_socket_path=args.socket)
    client.logger = lambda message: emit({"sdk_log": str(message)})
    for name in dir(event):
        if not name.startswith("DAEMON_"):
            continue
        t = getattr(event, name)
        if t in client.event_handlers:
            continue  # the SDK's defaults: daemon_ping, daemon_account_info
        report = reporter(t)
        client.event_handlers[t] = tracim_reporter(report) if t == event.DAEMON_TRACIM_EVENT else report
    client.event_handlers[event.EVENT_TYPE_GENERIC] = reporter(event.EVENT_TYPE_GENERIC)
    if args.log_errors:
        client.event_handlers[event.EVENT_TYPE_ERROR] = error_reporter

    rc = 0
    try:
        client.create_client_socket()
    except Exception as err:
        emit({"socket_error": describe(err)})
        return 1
    emit(
        {
            "ready": True,
            "pid": os.getpid(),
            "sdk_version": importlib.metadata.version("tracim-daemon-sdk"),
            "python": "%d.%d.%d" % sys.version_info[:3],
        }
    )
    timer = threading.Timer(args.lifetime, stopper.stop, args=("lifetime",))
    timer.daemon = True
    try:
        try:
            client.register_to_master()
        except Exception as err:
            emit({"register_error": describe(err)})
            stopper.reason = "register_error"
            rc = 1
        else:
            emit({"registered": True})
            threading.Thread(
                target=command_loop,
                args=(stopper, daemon_event.send_daemon_event, daemon_event.DaemonEvent, args.socket, args.master),
                daemon=True,
            ).start()
            timer.start()
            try:
                client.listen_to_events()
            except KeyboardInterrupt:
                pass  # a stop that came while an event was being handled
            emit({"listen_returned": True, "user_id": client.user_id})
    except KeyboardInterrupt:
        pass  # a stop during registration
    finally:
        timer.cancel()
        # Ignore further stop signals while the SDK unregisters.
        for sig in (signal.SIGUSR1, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        try:
            client.close()
            emit({"closed": True})
        except Exception as err:
            emit({"close_error": describe(err)})
        del client  # the SDK's __del__: close() again (a second delete)
    if stopper.reason in (None, "quit"):
        emit({"quit": True})
    else:
        emit({"quit": True, "reason": stopper.reason})
    return rc


if __name__ == "__main__":
    sys.exit(main())
