#!/usr/bin/env python3
"""The real legume 0.5 Client as the receiving end of benches/legume.rs: it
connects to the bench's server, counts the user messages legume hands to
OnMessage, and says how many it has as JSON lines on stdout (one object per
line, flushed), so the bench can pace its stream by the client's progress.

Usage: venv/bin/python bench_client.py --port P [--host 127.0.0.1]
           [--every K] [--lifetime S] [--timeout S]
  --every K     a progress line every K messages (default 16), and one
                whenever update() finds nothing new while messages are
                still unreported (so the last count is always said)
  --lifetime S  exit after S seconds whatever happens (default 120;
                bounded to 600)
  --timeout S   client.setTimeout(S) (legume's default: 10.0)
It exits when its stdin closes (the bench's way to stop it), on legume's
OnError / OnConnectRequestRejected / OnDisconnect, or at --lifetime.

The message classes: Chat (20) and Pos (21) from peer_messages.py, and Tick
(22) declared here: seq 'int', x 'float', room 'short' (6 + 4 + 8 + 2 = 20
bytes with its header: the bench's 20-byte datagram), all registered in
peer_messages.FACTORY. The bench's schema declares the same layouts.

update() is pumped in a tight loop (no sleep while messages flow; 1 ms naps
only after 50 ms without any). The client's UDP socket is bound to --host's
address when that is a loopback address, as client.py does.

stdout events:
  {"event":"start","host":H,"port":P,"local_port":L}
  {"event":"connected"}                    OnConnectRequestAccepted
  {"event":"first","type":T,"values":{...},"message_id":N}   the first user
                                           message, decoded by legume
  {"event":"progress","n":N}               N user messages so far
  {"event":"rejected"} / {"event":"error","error":E} / {"event":"disconnect"}
  {"event":"exception","error":"Type: msg"}   client.update() raised
  {"event":"done","n":N,"in_bytes":B,"reason":R}   as it exits
"""

import argparse
import ipaddress
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--every", type=int, default=16)
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--timeout", type=float, default=None)
    args = ap.parse_args()
    lifetime = max(1.0, min(args.lifetime, 600.0))
    every = max(1, args.every)

    import legume
    from legume.messages import BASE_MESSAGETYPEID_USER, BaseMessage
    from peer_messages import FACTORY, decode, emit

    class Tick(BaseMessage):
        MessageTypeID = BASE_MESSAGETYPEID_USER + 2  # 22
        # Declaration order is the wire order.
        MessageValues = {
            "seq": "int",
            "x": "float",
            "room": "short",
        }

    FACTORY.add(Tick)

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

    # Stdin closing (the bench quitting, or asking this to) ends the loop.
    quit_ = threading.Event()

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        quit_.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    # [messages, reported, ended reason]
    st = [0, 0, None]

    def on_accepted(sender, _):
        emit({"event": "connected"})

    def on_rejected(sender, _):
        st[2] = "rejected"
        emit({"event": "rejected"})

    def on_error(sender, error):
        st[2] = "error"
        emit({"event": "error", "error": str(error)})

    def on_disconnect(sender, _):
        st[2] = "disconnect"
        emit({"event": "disconnect"})

    def on_message(sender, msg):
        n = st[0] + 1
        st[0] = n
        if n == 1:
            name, values = decode(msg)
            emit({"event": "first", "type": name, "values": values,
                  "message_id": msg.message_id})
        if n - st[1] >= every:
            st[1] = n
            emit({"event": "progress", "n": n})

    client.OnConnectRequestAccepted += on_accepted
    client.OnConnectRequestRejected += on_rejected
    client.OnError += on_error
    client.OnDisconnect += on_disconnect
    client.OnMessage += on_message

    client.connect((args.host, args.port))
    emit({"event": "start", "host": args.host, "port": args.port,
          "local_port": client.socket.getsockname()[1]})

    end = time.monotonic() + lifetime
    last_new = time.monotonic()
    reason = "lifetime"
    update = client.update
    monotonic = time.monotonic
    while True:
        before = st[0]
        try:
            update()
        except Exception as e:
            emit({"event": "exception", "error": "%s: %s" % (type(e).__name__, e)})
        now = monotonic()
        if st[0] != before:
            last_new = now
        elif st[0] != st[1]:
            # Nothing new in this update: say what is still unreported.
            st[1] = st[0]
            emit({"event": "progress", "n": st[0]})
        elif now - last_new > 0.05:
            time.sleep(0.001)
        if st[2] is not None:
            reason = st[2]
            break
        if quit_.is_set():
            reason = "stdin closed"
            break
        if now >= end:
            break

    if st[0] != st[1]:
        emit({"event": "progress", "n": st[0]})
    emit({"event": "done", "n": st[0], "in_bytes": client.in_bytes, "reason": reason})
    if client.connected:
        client.disconnect()
        try:
            client.update()
        except Exception:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
