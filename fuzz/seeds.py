#!/usr/bin/env python3
"""Seed corpus for the room_decoder target: each capture's frames, per
connection and direction, as u16-length-prefixed frames.
Usage: fuzz/seeds.py [CAPTURES_DIR] -> fuzz/corpus/room_decoder/"""
import json, os, sys, struct
here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../shared/research/captures/meshagent")
out = os.path.join(here, "corpus/room_decoder")
os.makedirs(out, exist_ok=True)
n = 0
for f in sorted(os.listdir(src)):
    groups = {}
    for line in open(os.path.join(src, f)):
        r = json.loads(line)
        if r.get("hex") and r.get("dir") in ("in", "out"):
            groups.setdefault((r["conn"], r["dir"]), []).append(bytes.fromhex(r["hex"]))
    for (conn, d), frames in groups.items():
        with open(os.path.join(out, f"{f}-{conn}-{d}"), "wb") as o:
            for fr in frames:
                o.write(struct.pack(">H", len(fr)) + fr)
        n += 1
print(f"{n} seeds in {out}")
