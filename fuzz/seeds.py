#!/usr/bin/env python3
"""Seed corpora for every fuzz target, from the captures and the project's
own examples. Writes fuzz/seeds/<target>/ (not committed: `cargo +nightly
fuzz cmin` minimises seeds and findings into fuzz/corpus/<target>/).

Usage: fuzz/seeds.py [CAPTURES_DIR] [RECORDING...]
  CAPTURES_DIR  default tests/fixtures/captures (of this repository)
  RECORDING     recordings to cut into recording seeds (e.g. from
                `roomtap tail demo --record FILE`); a few are built in.
"""
import glob, hashlib, json, os, re, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
caps = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../tests/fixtures/captures")
recordings = sys.argv[2:]
root = os.path.join(here, "seeds")
counts = {}


def put(target, data, max_len=64 << 10):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > max_len:
        return
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as o:
        o.write(data)
    counts[target] = counts.get(target, 0) + 1


# leap_codec: every Leap capture's frame, as text (mode 0), as the zlib
# binary frame captured (mode 1) and to be deflated by the harness (mode 3).
for f in sorted(glob.glob(os.path.join(caps, "leap", "*"))):
    for line in open(f):
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if "dir" not in r:
            continue
        if r.get("zlib_hex"):
            put("leap_codec", b"\x01" + bytes.fromhex(r["zlib_hex"]))
        text = r.get("text") or r.get("json")
        if text:
            put("leap_codec", b"\x00" + text.encode())
            put("leap_codec", b"\x03" + text.encode())
for s in ["sub lobby", 'msg lobby chat {"text":"hi"}', 'state flags {"dark":true}',
          "pipe jt_1", "ws://127.0.0.1:1/ws?from=redirect", "http://x/"]:
    put("leap_codec", b"\x00" + s.encode())

# room_decoder: each MeshAgent capture's frames, per connection and
# direction, as u16-length-prefixed frames.
for f in sorted(glob.glob(os.path.join(caps, "meshagent", "*.jsonl"))):
    groups = {}
    for line in open(f):
        r = json.loads(line)
        if r.get("hex") and r.get("dir") in ("in", "out"):
            groups.setdefault((r["conn"], r["dir"]), []).append(bytes.fromhex(r["hex"]))
    for frames in groups.values():
        blob = b"".join(struct.pack(">H", len(fr)) + fr for fr in frames)
        put("room_decoder", blob, 1 << 20)
        for fr in frames[:64]:
            put("room_decoder", struct.pack(">H", len(fr)) + fr)


# redux_codec, relay_packet, json_scan: the Redux DevTools frames, the app
# messages inside them, and the jsan texts inside those.
def inner_texts(v, out):
    """Every JSON value inside v, as text; strings holding JSON too."""
    out.append(json.dumps(v, separators=(",", ":")))
    if isinstance(v, dict):
        for x in v.values():
            inner_texts(x, out)
    elif isinstance(v, list):
        for x in v:
            inner_texts(x, out)
    elif isinstance(v, str) and v[:1] in "{[":
        try:
            inner_texts(json.loads(v), out)
        except ValueError:
            pass


for f in sorted(glob.glob(os.path.join(caps, "redux", "*.jsonl"))):
    for line in open(f):
        r = json.loads(line)
        fr = r.get("frame")
        if fr is None or r.get("bin"):
            continue
        put("redux_codec", fr)
        put("json_scan", fr)
        if r.get("dir") == "C>S":
            put("relay_packet", fr)
        try:
            v = json.loads(fr)
        except ValueError:
            continue
        texts = []
        inner_texts(v, texts)
        for t in texts[1:]:
            if t[:1] in "{[":
                put("redux_codec", t)
                put("json_scan", t)
                put("relay_packet", t)
            elif len(t) < 200:
                put("json_scan", t)

# json_scan: JSON the scanner's tests name, good and bad.
for t in ["[tru]", "[01]", "[1.]", "[1e+]", "{]", "[1,]", '{"a":1,}', r'"\q"', r'"\u12g4"',
          '[true,false,null,-0,0.5e-3,1E+9,"\\u00e9\\/"]', r'{"k\u0065y":{"":[]}}',
          '"' + 'a\\"' * 40 + '\\n' + 'b' * 70 + '"', "[" * 70 + "1" + "]" * 70, " {} ", "1\u00a0"]:
    put("json_scan", t)

# query: the language's examples (README, the query tests), each with an
# entry's data after the first line.
src = os.path.join(here, "..")
examples = set()
readme = open(os.path.join(src, "README.md")).read()
sect = readme[readme.find("### Filtering"):]
sect = sect[:sect.find("\n## ")]
examples.update(re.findall(r"`([^`\n]+)`", sect))
examples.update(re.findall(r"--filter '([^']+)'", readme))
tests = open(os.path.join(src, "src/query/tests.rs")).read()
for m in re.finditer(r'(?:m|Query::parse)\(\s*(r#"(.*?)"#|"((?:[^"\\]|\\.)*)")', tests, re.S):
    q = m.group(2) if m.group(2) is not None else m.group(3).encode().decode("unicode_escape")
    examples.add(q)
datas = ['{"msg":"upstream timeout","attempt":3,"user":{"id":42,"name":"ana"},"tags":["a","b"]}',
         '{"took_ms":1500,"zip":"02134","n":"Zo\\u00eb","\u00e9":1}', '{"x":{"y":[1,2]}}', "not json", ""]
for i, q in enumerate(sorted(examples)):
    if "\n" in q:
        continue
    put("query", q)
    put("query", q + "\n" + datas[i % len(datas)])

# recording: small recordings built here, and cuts of the given ones.
head = {"roomtap_recording": 1, "version": "0.1.0", "started_ms": 1700000000000,
        "sources": [{"label": "relay", "kind": "relay", "url": "ws://127.0.0.1:8000/socketcluster/",
                     "targets_instances": True},
                    {"label": "room", "kind": "room", "url": "ws://127.0.0.1:8765/rooms/test"}]}
lines_pool = []
for path in recordings:
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    if not lines:
        continue
    h = lines[0]
    body = [l for l in lines[1:] if l]
    # One seed per event kind (a few of each), and short runs in order.
    kinds = {}
    for l in body:
        m = re.match(rb'\{"source":\d+,"at_ms":\d+,"kind":\{?"?(\w+)', l)
        k = m.group(1) if m else b"?"
        kinds.setdefault(k, []).append(l)
    for k, ls in kinds.items():
        for l in ls[:3]:
            put("recording", h + b"\n" + l + b"\n", 16 << 10)
    for i in range(0, min(len(body), 400), 20):
        put("recording", h + b"\n" + b"\n".join(body[i:i + 20]) + b"\n", 32 << 10)
    # Cut off mid-line, another session appended, a foreign header.
    if body:
        put("recording", h + b"\n" + body[0] + b"\n" + body[-1][: len(body[-1]) // 2], 16 << 10)
        put("recording", h + b"\n" + body[0] + b"\n" + h + b"\n" + body[0] + b"\n", 16 << 10)
hj = json.dumps(head, separators=(",", ":"))
put("recording", hj + "\n")
put("recording", hj + '\n{"source":0,"at_ms":1,"kind":{"Log":{"level":"Warn","kind":"k","summary":"hello","data":"{\\"a\\":1}"}}}\nnot json\n')
put("recording", hj.replace('"roomtap_recording":1', '"roomtap_recording":2') + "\n")
put("recording", "hello\n")
# Exports (`e`, `tail --json`): `open` reads them too.
ex = [{"time": "2026-11-22T10:42:40.700Z", "source": "relay", "level": "WARN", "kind": "indexer",
       "summary": "upstream timed out", "data": {"msg": "time-out"}},
      {"time": "2026-11-22T10:42:41.000Z", "source": "legume", "level": "INFO", "kind": "type 22",
       "summary": "bytes", "data": {"type_id": 22}, "bytes": {"len": 4, "base64": "AP9hGw=="}}]
put("recording", "".join(json.dumps(l) + "\n" for l in ex))
put("recording", json.dumps(ex[0]) + "\nnot json\n" + json.dumps(ex[1])[:30])

# theme: the built-in themes, and a few of one style each.
for f in sorted(glob.glob(os.path.join(src, "themes", "*.toml"))):
    text = open(f).read()
    put("theme", text)
    for line in text.splitlines():
        if "=" in line and "{" in line:
            put("theme", '[styles]\n' + line + "\n")
put("theme", 'name = "x"\n[styles]\nbase = { fg = "#ff00ff", bg = "indexed(42)", mods = ["bold", "italic"] }\n')

# config: command lines (one argument a line), sizes, room targets, tokens,
# the room's command lines.
for t in [
    "--theme\nlight\n--fps\n30\n--max-entries\n200000",
    "--max-bytes\n256M", "64K", "1G", "512", "12Q",
    "relay\nws://127.0.0.1:8000/socketcluster/",
    "room\nwss://api.meshagent.com/rooms/test?token=abc&x=1\n--token-env\nTOKEN",
    "room\ntest\nhttps://api.example.com/",
    "tail\n--filter\nlevel>=warn\n--json\ndemo",
    "open\nsession.jsonl\n--speed\n2",
    "serve\n--port\n9000\n--bind\n0.0.0.0\n--secret\ns\n--allow-origin\n*\n--max-frame\n1024\n--max-conns\n3\n--queue\n8",
    "room-server\n--room-port\n8765\n--room-secret\ndevsecret",
    "demo\n--seed\n7\n--relay\nws://127.0.0.1:9000/socketcluster/\n--room\nb\n--dev-logs\nlegacy\n--no-watch",
    "log agent.turn {\"a\":1}\ninfo hello\nwarn w\nerror e\nwatch\nunwatch",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1lIjoiYW5hIiwiZXhwIjo5OTk5OTk5OTk5fQ.c2ln",
    '{"name":"ana","grants":[{"room":{"name":"test"}},{"api":{"developer":{"logs":true}}}],"exp":99999999999}',
]:
    put("config", t)

# A token as the room server mints them, signed with the secret the
# harness verifies with.
import base64, hmac as _hmac
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
claims = {"name": "ana", "grants": [{"name": "room", "scope": "test"}, {"name": "role", "scope": "user"},
          {"name": "api", "scope": {"developer": {}, "storage": {}}}], "sub": "local-project", "exp": 4102444800}
signing = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
sig = b64(_hmac.new(b"fuzz-secret", signing.encode(), "sha256").digest())
put("config", signing + "." + sig)
put("config", "room\nws://127.0.0.1:8765/rooms/test?token=" + signing + "." + sig)
put("config", json.dumps(claims))

# tracim_codec: every document captured between the real Python SDK and
# the daemon (both encodings), each Tracim event's TLM text, the `:` line.
for f in sorted(glob.glob(os.path.join(caps, "tracim", "*.jsonl"))):
    for line in open(f):
        r = json.loads(line)
        raw = r.get("raw")
        if not isinstance(raw, str):
            continue
        put("tracim_codec", raw)
        try:
            d = json.loads(raw).get("data")
        except ValueError:
            continue
        if isinstance(d, str):
            put("tracim_codec", d)
for t in ["ping", "clients", "account", "ping now", "2026-12-06T23:25:04.866Z"]:
    put("tracim_codec", t)

# legume_codec: every datagram captured between the real legume Server and
# Client, decoded with the captures' schema (mode 0) and with none (1); the
# schemas (mode 2: schema, NUL, datagram); the `:` line.
schema_chat = open(os.path.join(src, "tests/fixtures/legume/captures.toml")).read()
game = open(os.path.join(src, "src/protocols/legume/game.toml")).read()
for f in sorted(glob.glob(os.path.join(caps, "legume", "*.jsonl"))):
    for line in open(f):
        r = json.loads(line)
        if not r.get("hex"):
            continue
        d = bytes.fromhex(r["hex"])
        put("legume_codec", b"\x00" + d)
        put("legume_codec", b"\x01" + d)
        put("legume_codec", b"\x02" + schema_chat.encode() + b"\x00" + d)
put("legume_codec", b"\x02" + game.encode() + b"\x00")
for t in ["send Chat sender=me text=\"hi there\" seq=3", "send! Pos x=1.5", "connect", "disconnect"]:
    put("legume_codec", b"\x01" + t.encode())

for t in sorted(counts):
    print(f"{t}: {counts[t]} seeds in {os.path.join(root, t)}")
