"""The message schema shared by server.py and client.py (the real legume 0.5),
and their JSON-line output helpers.

Schema (the one of the research captures, shared/research/captures/legume/):
  Chat, type id 20 (legume.messages.BASE_MESSAGETYPEID_USER), fields on the
       wire in this declaration order: sender 'string 8', text 'varstring',
       seq 'int', x 'float', flag 'bool', small 'short', tiny 'uchar'
  Pos,  type id 21: who 'string 8', x 'float', y 'float'
Both live in a MessageFactory of their own (FACTORY), which also holds
legume's system messages (ids 2-10); Server and Client are made with it.

Wire types (big-endian, legume 0.5): int i32, short u16 (unsigned despite the
name), float f64, bool i8 (decoded as an int, not a bool), uchar u8,
'string N' exactly N bytes NUL-padded (every NUL stripped on read),
varstring u16 length + bytes (legume WRITES the length in characters, not
UTF-8 bytes; it reads it as bytes).
"""

import json
import math
import sys

from legume.messages import BASE_MESSAGETYPEID_USER, BaseMessage, MessageFactory


class Chat(BaseMessage):
    MessageTypeID = BASE_MESSAGETYPEID_USER  # 20
    # Declaration order is the wire order (Python >= 3.7 dicts keep it).
    MessageValues = {
        "sender": "string 8",
        "text": "varstring",
        "seq": "int",
        "x": "float",
        "flag": "bool",
        "small": "short",
        "tiny": "uchar",
    }


class Pos(BaseMessage):
    MessageTypeID = BASE_MESSAGETYPEID_USER + 1  # 21
    MessageValues = {
        "who": "string 8",
        "x": "float",
        "y": "float",
    }


TYPES = {"Chat": Chat, "Pos": Pos}
FACTORY = MessageFactory()
FACTORY.add(Chat, Pos)

# Used for fields a command leaves out. (legume's own default for 'uchar' is
# "" which cannot be packed: a message with an unset uchar fails at send.)
_DEFAULTS = {"int": 0, "short": 0, "float": 0.0, "bool": False, "uchar": 0,
             "varstring": "", "string": ""}


def make(type_name, values):
    """A message of TYPES[type_name] with `values` (a dict) set through
    legume's own setters; fields not given get a zero value. Values are used
    as given (no coercion): a wrong type or range fails at send time with
    legume's/struct's own error. Raises KeyError/ValueError on bad names."""
    if type_name not in TYPES:
        raise ValueError("unknown message type %r (known: %s)" % (type_name, ", ".join(TYPES)))
    cls = TYPES[type_name]
    values = values or {}
    if not isinstance(values, dict):
        raise ValueError("values must be an object")
    unknown = [k for k in values if k not in cls.MessageValues]
    if unknown:
        raise ValueError("%s has no field(s) %s (fields: %s)"
                         % (type_name, ", ".join(unknown), ", ".join(cls.MessageValues)))
    msg = cls()
    for name, typ in cls.MessageValues.items():
        value = values[name] if name in values else _DEFAULTS[typ.split(" ")[0]]
        getattr(msg, name).value = value
    return msg


def json_safe(v):
    """JSON has no NaN/Infinity: those floats become the strings "NaN",
    "Infinity", "-Infinity". Bytes (never expected) become latin-1 text."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("latin-1")
    return v


def decode(msg):
    """(type name, {field: value as legume decoded it}) of a received message."""
    return type(msg).__name__, {n: json_safe(getattr(msg, n).value) for n in msg.value_names}


def addr_str(addr):
    return "%s:%s" % (addr[0], addr[1]) if addr else None


def pending_ids(connection):
    """Ids of the messages in a legume Connection's outgoing list that wait
    for an ack (require_ack: sent reliable or ordered). This is what stays
    queued until a MessageAck with that id arrives; legume's own
    `pending_acks` metric is a stub (always 0)."""
    if connection is None:
        return []
    return [m.message_id for m in connection._outgoing if m.require_ack]


def connection_internals(connection):
    """Counters legume keeps but does not expose (or exposes wrongly)."""
    if connection is None:
        return None
    return {
        "in_packets": connection._in_packets,  # datagrams handed to this connection
        "out_packets": connection._out_packets,  # datagrams sent (sendto calls)
        "outgoing": len(connection._outgoing),  # queued messages, unacked reliable ones included
        "next_message_id": connection._outgoing_message_id + 1,
        "transport_latency": connection._transport_latency,  # resend delay, seconds (= ping in ms!)
        "keepalive_count": connection._keepalive_count,  # server: sent; client: received
        "reorder_queue": len(connection._incoming_out_of_sequence_messages),
        "recent_ids": len(connection._recent_message_ids),  # dedup window (max 1000 after truncation)
    }


class Out:
    """One JSON object per line on stdout, flushed. Exits quietly (status 0)
    when stdout is gone."""

    def emit(self, obj):
        try:
            sys.stdout.write(json.dumps(obj) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            # ValueError: stdout already closed.
            try:
                sys.stderr.close()
            finally:
                import os
                os._exit(0)


out = Out()
emit = out.emit
