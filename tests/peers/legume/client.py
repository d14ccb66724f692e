#!/usr/bin/env python3
"""A real legume 0.5 Client: connects to a legume server, sends Chat
messages, reports what happens as JSON lines on stdout (one object per line,
flushed, each with "event"). Used to prove roomtap's legume demo server
against the real client, and by selftest.sh against server.py.

Usage: venv/bin/python client.py --port P [--host 127.0.0.1] [--count N]
           [--reliable] [--timeout S] [--seconds S] [--text PREFIX]
           [--sender NAME] [--interval S]
  --count N     Chat messages to send once connected (default 3): sender
                NAME (default "cli"), text "<PREFIX>-<i>" (PREFIX default
                "hello"), seq i, x i+0.5, flag true, small 256+i, tiny i%256,
                for i = 1..N
  --reliable    send them with send_reliable_message (else send_message)
  --interval S  seconds between two sends (default 0: all at once; legume
                then packs them into as few datagrams as fit in 1400 bytes)
  --timeout S   client.setTimeout(S) (legume's default: 10.0)
  --seconds S   run this long in all (default 5; bounded to 600), pumping
                update() every ~2 ms; stops early once rejected, errored
                (e.g. timed out) or disconnected by the server
Then it calls disconnect() (if still connected), pumps up to 1 s more until
legume reaches DISCONNECTED (it waits for its unacked reliable messages
first), prints the metrics and exits.

The client's UDP socket is bound to --host's address when that is a loopback
address (legume itself binds ('', 0); the datagrams are the same).

stdout events:
  {"event":"start","host":H,"port":P,"local_port":L,"timeout":T}
  {"event":"connected"}                  OnConnectRequestAccepted
  {"event":"rejected"}                   OnConnectRequestRejected
  {"event":"error","error":"Connection timed out"}   OnError
  {"event":"disconnect"}                 OnDisconnect (server sent Disconnected)
  {"event":"sent","type":"Chat","seq":i,"reliable":B,"message_id":N,"bytes":B}
  {"event":"send_failed","seq":i,"error":"Type: msg"}
  {"event":"message","type":"Chat"|"Pos","values":{...},"message_id":N,
   "reliable":B,"ordered":B}
  {"event":"exception","error":"Type: msg"}   client.update() raised
  {"event":"metrics","metrics":{state, latency, in_bytes, out_bytes,
   in_packets, out_packets, in_messages, out_messages, keepalive_count,
   pending_acks, reorder_queue, out_buffer_bytes (legume's own, as it reports
   them)}, "pending":[ids still unacked], "internals":{...}, "state":S}
Exit status: 0 when it connected and every send went into legume's queue;
2 when rejected; 1 otherwise.
"""

import argparse
import ipaddress
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--reliable", action="store_true")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--text", default="hello")
    ap.add_argument("--sender", default="cli")
    ap.add_argument("--interval", type=float, default=0.0)
    args = ap.parse_args()
    seconds = max(0.0, min(args.seconds, 600.0))

    import legume
    from peer_messages import FACTORY, connection_internals, decode, emit, make, pending_ids

    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False

    class Client(legume.Client):
        def _connect_socket(self, addr):
            # legume: self._socket.bind(('', 0))
            self._socket.bind((args.host if loopback else "", 0))

    client = Client(message_factory=FACTORY)
    if args.timeout is not None:
        client.setTimeout(args.timeout)
    seen = {"connected": False, "rejected": False, "errored": False, "disconnected": False}

    def on_accepted(sender, _):
        seen["connected"] = True
        emit({"event": "connected"})

    def on_rejected(sender, _):
        seen["rejected"] = True
        emit({"event": "rejected"})

    def on_error(sender, error):
        seen["errored"] = True
        emit({"event": "error", "error": str(error)})

    def on_disconnect(sender, _):
        seen["disconnected"] = True
        emit({"event": "disconnect"})

    def on_message(sender, msg):
        name, values = decode(msg)
        emit({"event": "message", "type": name, "values": values, "message_id": msg.message_id,
              "reliable": bool(msg.is_reliable), "ordered": bool(msg.is_ordered)})

    client.OnConnectRequestAccepted += on_accepted
    client.OnConnectRequestRejected += on_rejected
    client.OnError += on_error
    client.OnDisconnect += on_disconnect
    client.OnMessage += on_message

    client.connect((args.host, args.port))
    emit({"event": "start", "host": args.host, "port": args.port,
          "local_port": client.socket.getsockname()[1], "timeout": client.timeout})

    def pump():
        try:
            client.update()
        except Exception as e:
            emit({"event": "exception", "error": "%s: %s" % (type(e).__name__, e)})

    send_failed = False
    next_i, next_at = 1, 0.0
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end:
        pump()
        if seen["rejected"] or seen["errored"] or seen["disconnected"]:
            break
        # Due sends: all at once with --interval 0 (legume packs them into
        # the next update's datagrams), else one per interval.
        while client.connected and next_i <= args.count and time.monotonic() >= next_at:
            i = next_i
            next_i += 1
            next_at = time.monotonic() + args.interval
            try:
                msg = make("Chat", {"sender": args.sender, "text": "%s-%d" % (args.text, i),
                                    "seq": i, "x": i + 0.5, "flag": True, "small": 256 + i,
                                    "tiny": i % 256})
                before = client.out_bytes
                # (send_reliable_message returns None: the size is taken from
                # legume's out_bytes counter instead.)
                if args.reliable:
                    client.send_reliable_message(msg)
                else:
                    client.send_message(msg)
                n = client.out_bytes - before
                emit({"event": "sent", "type": "Chat", "seq": i, "reliable": args.reliable,
                      "message_id": client._connection._outgoing_message_id, "bytes": n})
            except Exception as e:
                send_failed = True
                emit({"event": "send_failed", "seq": i, "error": "%s: %s" % (type(e).__name__, e)})
            if args.interval > 0:
                break
        time.sleep(0.002)

    if client.connected:
        client.disconnect()
        until = time.monotonic() + 1.0
        while client.state != client.DISCONNECTED and time.monotonic() < until:
            pump()
            time.sleep(0.002)

    conn = client._connection
    emit({
        "event": "metrics",
        "state": client.state,
        "metrics": {
            "state": client.state,
            "latency": client.latency,
            "in_bytes": client.in_bytes,
            "out_bytes": client.out_bytes,
            "in_packets": client.in_packets,
            "out_packets": client.out_packets,
            "in_messages": client.in_messages,
            "out_messages": client.out_messages,
            "keepalive_count": client.keepalive_count,
            "pending_acks": client.pending_acks,
            "reorder_queue": client.reorder_queue,
            "out_buffer_bytes": client.out_buffer_bytes,
        },
        "pending": pending_ids(conn),
        "internals": connection_internals(conn),
    })
    if seen["rejected"]:
        return 2
    return 0 if seen["connected"] and not send_failed and next_i > args.count else 1


if __name__ == "__main__":
    sys.exit(main())
