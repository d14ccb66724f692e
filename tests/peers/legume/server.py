#!/usr/bin/env python3
"""A real legume 0.5 Server on 127.0.0.1, driven by JSON lines on stdin and
reporting JSON lines on stdout (one object per line, flushed, each with
"event"). For roomtap's tests of its Rust legume client; see selftest.sh.

Usage: venv/bin/python server.py [--port N] [--reject] [--timeout SECS]
                                 [--lifetime SECS] [--check]
  --port N        UDP port on 127.0.0.1 (0, the default: any free port)
  --reject        OnConnectRequest returns False (legume then sends
                  ConnectRequestRejected)
  --timeout SECS  server.setTimeout(SECS) (legume's default: 10.0)
  --lifetime SECS exit after this long whatever happens (default 300; 0 = no
                  limit)
  --check         print {"check": true, "legume_version": ...} and exit

Messages: Chat (id 20) and Pos (id 21), see peer_messages.py.

Threads: the main thread owns legume (not thread-safe): it pumps
server.update() every ~2 ms and runs the commands; a reader thread only
parses stdin lines and hands them over through a queue.

stdout events:
  {"event":"listening","host":"127.0.0.1","port":P,"timeout":T,"reject":B}
  {"event":"connect_request","addr":"ip:port","accepted":B,"protocol":4}
  {"event":"message","type":"Chat","values":{...as legume decoded them},
   "addr":"ip:port","message_id":N,"reliable":B,"ordered":B}
  {"event":"error","error":"Connection timed out","addr":"ip:port"}   (OnError)
  {"event":"disconnect","addr":"ip:port"}                             (OnDisconnect)
  {"event":"exception","error":"Type: msg"}  server.update() raised (e.g.
      "MessageError: No message exists with ID 99"); the loop goes on. At most
      50 a second; more are counted in
  {"event":"exceptions_suppressed","count":N}
  {"event":"log","level":"WARNING","logger":"legume.Connection","msg":"..."}
      legume's own log records of level WARNING and up (e.g. "Got duplicate
      ACK for packet. message_id=5")
  {"event":"exit","reason":"quit"|"stdin closed"|"lifetime"}  last line

stdin commands (each answered by {"event":"done","cmd":NAME,"ok":B,...}
once it took effect: for send and disconnect, after the server.update() that
put the datagrams on the wire (at once when paused: then they only go out on
resume). An "id" field in a command is echoed in its done line. A line that
is not a JSON object gets {"event":"done","cmd":null,"ok":false,"error":...}):
  {"cmd":"send","type":"Chat"|"Pos","values":{...},"reliable":B[,"to":"ip:port"]
   [,"legume_to_all":true]}
      to every connected peer not being disconnected (or only "to"), with
      Peer.send_message / send_reliable_message. Fields left out are zero;
      values are used as given (a bad one fails with legume's error, ok
      false). With "legume_to_all": legume's own send_message_to_all /
      send_reliable_message_to_all (every known peer, connected or not).
      done: "sent_to":[{"addr":..,"message_id":N}] ("message_id" is the
      transport id that message got on that peer's connection).
  {"cmd":"status"}
      {"event":"status","peers":N (connected, legume's peercount),
       "known_peers":N (every peer object, rejected/ghost ones included),
       "pending":[ids], "pending_count":n, "peer_metrics":{...}|null,
       "peer_list":[{"addr","connected","pending_disconnect","pending",
                     "metrics","internals"}], "paused":B, "timeout":T, "port":P}
      pending: over all known peers, the ids of the messages still in the
      peer connection's outgoing list with require_ack (sent reliable, not yet
      acked). peer_metrics: the first connected peer's (else the first
      known's) legume metrics as the Peer reports them: latency (ms),
      in_bytes, out_bytes, in_packets, out_packets, in_messages (always
      null: a legume bug), out_messages, keepalive_count, pending_acks and
      reorder_queue (stubs: always 0 on a server Peer), out_buffer_bytes.
      internals: the connection's real counters (see peer_messages.py).
  {"cmd":"pause"} / {"cmd":"resume"}   stop / restart pumping update()
  {"cmd":"disconnect"[,"to":"ip:port"]}   Peer.disconnect() on every known
      peer (queues Disconnected, unreliable; legume drops the peer once its
      outgoing list is empty). done: "addrs":[...]
  {"cmd":"quit"}   done, then exit 0. stdin closing also exits 0.
"""

import argparse
import json
import logging
import queue
import sys
import threading
import time

LEGUME_VERSION = "0.5"
# Chat sender="cli" text="hello" seq=1 x=1.5 flag=1 small=513 tiny=7 as
# legume put it on the wire in captures/legume/basic.jsonl (type id + body,
# after the 5-byte transport header).
CAPTURED_CHAT = "14636c690000000000000568656c6c6f000000013ff800000000000001020107"


def check():
    import importlib.metadata
    import platform

    import legume
    from peer_messages import make

    body = make("Chat", {"sender": "cli", "text": "hello", "seq": 1, "x": 1.5,
                         "flag": True, "small": 513, "tiny": 7}).get_packet_bytes().hex()
    print(json.dumps({
        "check": True,
        "legume_version": importlib.metadata.version("legume"),
        "python": platform.python_version(),
        "legume_path": legume.__file__,
        "chat_encoding_matches_capture": body == CAPTURED_CHAT,
    }), flush=True)
    return 0 if body == CAPTURED_CHAT else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--reject", action="store_true")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--lifetime", type=float, default=300.0)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if args.check:
        return check()

    import legume
    from peer_messages import (FACTORY, addr_str, connection_internals, decode, emit, make,
                               pending_ids)

    # legume's WARNING+ log records as events (instead of Python's bare
    # stderr fallback).
    class LogEvents(logging.Handler):
        def emit(self, record):
            emit({"event": "log", "level": record.levelname, "logger": record.name,
                  "msg": record.getMessage()})

    lg = logging.getLogger("legume")
    lg.setLevel(logging.WARNING)
    lg.addHandler(LogEvents())
    lg.propagate = False

    server = legume.Server(message_factory=FACTORY)
    if args.timeout is not None:
        server.setTimeout(args.timeout)

    def on_connect_request(peer, msg):
        accepted = not args.reject
        emit({"event": "connect_request", "addr": addr_str(peer.address), "accepted": accepted,
              "protocol": msg.protocol.value})
        return accepted

    def on_message(peer, msg):
        name, values = decode(msg)
        emit({"event": "message", "type": name, "values": values, "addr": addr_str(peer.address),
              "message_id": msg.message_id, "reliable": bool(msg.is_reliable),
              "ordered": bool(msg.is_ordered)})

    def on_error(peer, error):
        emit({"event": "error", "error": str(error), "addr": addr_str(peer.address)})

    def on_disconnect(peer, _):
        emit({"event": "disconnect", "addr": addr_str(peer.address)})

    server.OnConnectRequest += on_connect_request
    server.OnMessage += on_message
    server.OnError += on_error
    server.OnDisconnect += on_disconnect

    server.listen(("127.0.0.1", args.port))
    port = server.socket.getsockname()[1]
    emit({"event": "listening", "host": "127.0.0.1", "port": port, "timeout": server.timeout,
          "reject": args.reject})

    # stdin reader: parses only; legume is touched by this (main) thread alone.
    commands = queue.Queue()

    def reader():
        try:
            for line in sys.stdin:
                line = line.strip()
                if not line:
                    continue
                try:
                    cmd = json.loads(line)
                    if not isinstance(cmd, dict):
                        raise ValueError("not a JSON object")
                except ValueError as e:
                    commands.put(("bad", line, str(e)))
                    continue
                commands.put(("cmd", cmd))
        finally:
            commands.put(("eof",))

    threading.Thread(target=reader, name="stdin", daemon=True).start()

    # Exceptions from update(): reported, at most 50 a second.
    exc_window = [time.monotonic(), 0, 0]  # window start, shown, suppressed

    def report_exception(e):
        now = time.monotonic()
        if now - exc_window[0] >= 1.0:
            if exc_window[2]:
                emit({"event": "exceptions_suppressed", "count": exc_window[2]})
            exc_window[:] = [now, 0, 0]
        if exc_window[1] < 50:
            exc_window[1] += 1
            emit({"event": "exception", "error": "%s: %s" % (type(e).__name__, e)})
        else:
            exc_window[2] += 1

    def pump():
        try:
            server.update()
        except Exception as e:  # legume raises on bad datagrams; keep going
            report_exception(e)

    def peer_metrics(p):
        return {
            "latency": p.latency,
            "in_bytes": p.in_bytes,
            "out_bytes": p.out_bytes,
            "in_packets": p.in_packets,
            "out_packets": p.out_packets,
            "in_messages": p.in_messages,
            "out_messages": p.out_messages,
            "keepalive_count": p.keepalive_count,
            "pending_acks": p.pending_acks,
            "reorder_queue": p.reorder_queue,
            "out_buffer_bytes": p.out_buffer_bytes,
        }

    def targets(cmd, connected_only):
        peers = list(server._peers.values())
        if connected_only:
            peers = [p for p in peers if p.connected and not p._pending_disconnect]
        if cmd.get("to") is not None:
            peers = [p for p in peers if addr_str(p.address) == cmd["to"]]
        return peers

    state = {"paused": False, "exit": None}

    def run(cmd):
        """Runs one command; returns its done line (None: emitted already)."""
        name = cmd.get("cmd")
        done = {"event": "done", "cmd": name, "ok": True}
        if "id" in cmd:
            done["id"] = cmd["id"]
        try:
            if name == "send":
                reliable = bool(cmd.get("reliable", False))
                msg = make(cmd.get("type"), cmd.get("values"))
                done.update(type=cmd.get("type"), reliable=reliable)
                if cmd.get("legume_to_all"):
                    peers = list(server._peers.values())
                    if reliable:
                        server.send_reliable_message_to_all(msg)
                    else:
                        server.send_message_to_all(msg)
                    done["sent_to"] = [{"addr": addr_str(p.address),
                                        "message_id": p._connection._outgoing_message_id}
                                       for p in peers]
                else:
                    sent = []
                    for p in targets(cmd, True):
                        if reliable:
                            p.send_reliable_message(msg)
                        else:
                            p.send_message(msg)
                        sent.append({"addr": addr_str(p.address),
                                     "message_id": p._connection._outgoing_message_id})
                    done["sent_to"] = sent
            elif name == "status":
                peers = list(server._peers.values())
                listed = [{
                    "addr": addr_str(p.address),
                    "connected": bool(p.connected),
                    "pending_disconnect": p._pending_disconnect,
                    "pending": pending_ids(p._connection),
                    "metrics": peer_metrics(p),
                    "internals": connection_internals(p._connection),
                } for p in peers]
                pending = [i for x in listed for i in x["pending"]]
                first = next((x for x in listed if x["connected"]), listed[0] if listed else None)
                emit({"event": "status", "peers": server.peercount, "known_peers": len(peers),
                      "pending": pending, "pending_count": len(pending),
                      "peer_metrics": first["metrics"] if first else None,
                      "peer_list": listed, "paused": state["paused"],
                      "timeout": server.timeout, "port": port})
            elif name == "pause":
                state["paused"] = True
            elif name == "resume":
                state["paused"] = False
            elif name == "disconnect":
                peers = targets(cmd, False)
                for p in peers:
                    p.disconnect()
                done["addrs"] = [addr_str(p.address) for p in peers]
            elif name == "quit":
                state["exit"] = "quit"
            else:
                raise ValueError("unknown cmd %r (send, status, pause, resume, disconnect, quit)"
                                 % (name,))
        except Exception as e:
            done["ok"] = False
            done["error"] = "%s: %s" % (type(e).__name__, e)
        return done

    deadline = time.monotonic() + args.lifetime if args.lifetime > 0 else None
    tick = 0.002
    while state["exit"] is None:
        items = []
        try:
            items.append(commands.get(timeout=tick))
            while True:
                items.append(commands.get_nowait())
        except queue.Empty:
            pass
        after_update = []
        for item in items:
            if item[0] == "eof":
                state["exit"] = state["exit"] or "stdin closed"
            elif item[0] == "bad":
                emit({"event": "done", "cmd": None, "ok": False,
                      "error": "bad command line (%s): %s" % (item[2], item[1][:200])})
            else:
                cmd = item[1]
                done = run(cmd)
                # send/disconnect: done once update() has put them on the wire.
                if cmd.get("cmd") in ("send", "disconnect") and done["ok"] and not state["paused"]:
                    after_update.append(done)
                else:
                    emit(done)
        if not state["paused"]:
            pump()
        for done in after_update:
            emit(done)
        if deadline is not None and time.monotonic() > deadline and state["exit"] is None:
            state["exit"] = "lifetime"
    if exc_window[2]:
        emit({"event": "exceptions_suppressed", "count": exc_window[2]})
    emit({"event": "exit", "reason": state["exit"]})
    try:
        server.socket.close()
    except Exception:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
