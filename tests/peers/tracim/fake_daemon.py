"""A small stand-in TracimDaemon for selftest.sh (no Tracim server, no Go).

Usage: python3 fake_daemon.py --socket MASTER_SOCK [--lifetime S]
                              [--big-tlm BYTES] [--pong-timeout S]

Listens on MASTER_SOCK (AF_UNIX, SOCK_STREAM) and speaks the daemon's side
of the protocol: one DaemonEvent per connection (connect, write one JSON
document, close), each reply a new connection to the socket named in the
request's "path". It encodes like the Go daemon's json.Marshal: compact,
fields path, type, data, "data" left out when there is none, <, > and &
escaped as \\u003c, \\u003e, \\u0026.

What it answers (the Go daemon's handlers, research notes §2.4):
  daemon_client_add      daemon_account_info {"user_id": "42"} to the sender;
                         for a new client also daemon_client_added (its data)
                         to every client, the new one included
  daemon_client_delete   forgets the sender; daemon_client_deleted (the
                         request's data) to the remaining clients
  daemon_ping            daemon_pong
  daemon_pong            daemon_ack
  daemon_get_clients     daemon_clients [{"path", "pid"}, ...]
  daemon_get_account_info  daemon_account_info
  daemon_ack             nothing
  anything else          daemon_ack
Then, for each new client, a scripted round: a daemon_tracim_event whose TLM
string is larger than 4 KiB (--big-tlm, default 10000 bytes), a small one,
and a daemon_ping; the pong must come back within --pong-timeout.

stdout, one JSON object per line, flushed:
  {"listening": true, "socket": ...}
  {"dir": "client->daemon", "len": N, "raw": "..."} (+ "error" if unparsable)
  {"dir": "daemon->client", "to": P, "type": T, "len": N, "raw": "..."}
  {"send_error": "...", "to": P, "type": T}
  {"tlm": "big" | "small", "to": P, "tlm_len": N, "event_id": I, "data": TLM}
  {"scenario": "done", "client": P, "pong": true | false, "after_s": F}
  {"exit": "stdin closed" | "lifetime"}
It stops when stdin closes or after --lifetime seconds (default 30), and
removes its socket.
"""

import argparse
import json
import os
import selectors
import socket
import sys
import time

READ_CAP = 1 << 20


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def go_json(obj):
    """Like Go's json.Marshal: compact, UTF-8 kept, <, >, &, U+2028 and
    U+2029 escaped (they only occur inside strings in JSON text)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def tlm(event_id, event_type, fields):
    """A synthetic Tracim live message (fields as in the Go TLMEvent)."""
    return go_json(
        {"event_id": event_id, "event_type": event_type, "read": None, "created": "2024-05-04T10:00:00Z", "fields": fields}
    )


class Daemon:
    def __init__(self, path, big_tlm, pong_timeout):
        self.path = path
        self.big_tlm = big_tlm
        self.pong_timeout = pong_timeout
        self.clients = {}  # path -> pid
        self.waiting_pong = {}  # client path -> time the scripted ping was sent
        self.scripted = set()  # clients the scripted round was run for

    def send(self, to, event_type, data=None):
        obj = {"path": self.path, "type": event_type}
        if data is not None:
            obj["data"] = data
        raw = go_json(obj)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2.0)
        retries = 0
        deadline = time.monotonic() + 2.0
        try:
            # A socket with a timeout is non-blocking, and an AF_UNIX connect
            # to a full backlog (the SDK listens with backlog 1) then fails
            # at once with EAGAIN instead of waiting: retry until the
            # deadline, as a blocking connect would wait.
            while True:
                try:
                    s.connect(to)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise
                    retries += 1
                    time.sleep(0.005)
            s.sendall(raw.encode())
        except OSError as err:
            emit({"send_error": f"{type(err).__name__}: {err}", "to": to, "type": event_type, "connect_retries": retries})
            return False
        finally:
            s.close()
        line = {"dir": "daemon->client", "to": to, "type": event_type, "len": len(raw), "raw": raw}
        if retries:
            line["connect_retries"] = retries
        emit(line)
        return True

    def receive(self, conn):
        conn.settimeout(2.0)
        buf = bytearray()
        try:
            while len(buf) <= READ_CAP:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except OSError as err:
            emit({"read_error": f"{type(err).__name__}: {err}", "len": len(buf)})
            return
        finally:
            conn.close()
        raw = buf.decode("utf-8", "replace")
        line = {"dir": "client->daemon", "len": len(buf), "raw": raw}
        try:
            ev = json.loads(raw)
            if not isinstance(ev, dict) or not isinstance(ev.get("path"), str) or not isinstance(ev.get("type"), str):
                raise ValueError("not a DaemonEvent")
        except ValueError as err:
            line["error"] = f"{type(err).__name__}: {err}"
            emit(line)
            return
        emit(line)
        self.dispatch(ev)

    def dispatch(self, ev):
        sender, t, data = ev["path"], ev["type"], ev.get("data")
        if t == "daemon_client_add":
            ok = isinstance(data, dict) and isinstance(data.get("path"), str) and isinstance(data.get("pid"), str)
            is_new = sender not in self.clients
            self.clients[sender] = data.get("pid") if ok else ""
            self.send(sender, "daemon_account_info", {"user_id": "42"})
            if is_new:
                for p in list(self.clients):
                    self.send(p, "daemon_client_added", data)
                if sender not in self.scripted:
                    self.scripted.add(sender)
                    self.scripted_round(sender)
        elif t == "daemon_client_delete":
            self.clients.pop(sender, None)
            for p in list(self.clients):
                self.send(p, "daemon_client_deleted", data)
        elif t == "daemon_ping":
            self.send(sender, "daemon_pong")
        elif t == "daemon_pong":
            since = self.waiting_pong.pop(sender, None)
            if since is not None:
                emit({"scenario": "done", "client": sender, "pong": True, "after_s": round(time.monotonic() - since, 4)})
            self.send(sender, "daemon_ack")
        elif t == "daemon_get_clients":
            self.send(sender, "daemon_clients", [{"path": p, "pid": pid} for p, pid in self.clients.items()])
        elif t == "daemon_get_account_info":
            self.send(sender, "daemon_account_info", {"user_id": "42"})
        elif t == "daemon_ack":
            pass
        else:
            self.send(sender, "daemon_ack")

    def scripted_round(self, to):
        author = {"user_id": 1, "public_name": "Global manager", "username": "admin"}
        workspace = {"workspace_id": 3, "label": "Recherche & <dev>"}
        blob = "x" * self.big_tlm
        big = tlm(1001, "content.modified.html-document", {"author": author, "workspace": workspace, "blob": blob})
        small = tlm(
            1002,
            "content.created.html-document",
            {
                "author": author,
                "workspace": workspace,
                "content": {"content_id": 77, "label": "Notes é ✓", "content_type": "html-document"},
            },
        )
        for kind, event_id, text in (("big", 1001, big), ("small", 1002, small)):
            emit({"tlm": kind, "to": to, "tlm_len": len(text.encode()), "event_id": event_id, "data": text})
            self.send(to, "daemon_tracim_event", text)
        if self.send(to, "daemon_ping"):
            self.waiting_pong[to] = time.monotonic()

    def check_timeouts(self):
        now = time.monotonic()
        for p, since in list(self.waiting_pong.items()):
            if now - since > self.pong_timeout:
                del self.waiting_pong[p]
                emit({"scenario": "done", "client": p, "pong": False, "after_s": round(now - since, 4)})


def main():
    ap = argparse.ArgumentParser(description="A stand-in TracimDaemon for selftest.sh")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--lifetime", type=float, default=30.0)
    ap.add_argument("--big-tlm", type=int, default=10000, help="bytes of filler in the large TLM")
    ap.add_argument("--pong-timeout", type=float, default=5.0)
    args = ap.parse_args()

    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.socket)
    server.listen(64)
    server.setblocking(False)
    daemon = Daemon(args.socket, args.big_tlm, args.pong_timeout)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ, "server")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    emit({"listening": True, "socket": args.socket, "pid": os.getpid()})

    deadline = time.monotonic() + args.lifetime
    reason = "lifetime"
    try:
        while time.monotonic() < deadline:
            stop = False
            for key, _ in sel.select(timeout=0.1):
                if key.data == "stdin":
                    if not os.read(sys.stdin.fileno(), 4096):
                        stop = True
                elif key.data == "server":
                    try:
                        conn, _ = server.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(True)
                    daemon.receive(conn)
            daemon.check_timeouts()
            if stop:
                reason = "stdin closed"
                break
    finally:
        server.close()
        try:
            os.unlink(args.socket)
        except OSError:
            pass
    emit({"exit": reason})
    return 0


if __name__ == "__main__":
    sys.exit(main())
