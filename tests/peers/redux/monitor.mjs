// A tiny raw-WebSocket Redux DevTools monitor (SocketCluster wire protocol
// spoken by hand with `ws`), used by selftest.sh and as a reference for the
// frames roomtap must send. Works with both relay generations: pings are
// answered in kind ("" -> "" for protocol v2, "#1" -> "#2" for v1).
//
// Usage: node monitor.mjs --port P [--host 127.0.0.1] [--seconds 30]
//          [--start-delay 250] [--start-retries 20]
//          [--after 3] [--jump [INDEX]] [--toggle ID] [--commit]
//          [--target respond|sc] [--frames]
//   After --after ACTION messages (counted over all apps), the commands are
//   sent in this order, each as a transmit on `respond` (broadcast, what
//   @redux-devtools/remote obeys) or, with --target sc, on `sc-<app socket id>`:
//     --jump I     {"type":"DISPATCH","action":{"type":"JUMP_TO_STATE","index":I}}
//     --toggle ID  {"type":"DISPATCH","action":{"type":"TOGGLE_ACTION","id":ID}}
//     --commit     {"type":"DISPATCH","action":{"type":"COMMIT","timestamp":ms}}
//   --frames prints every raw frame too: {"event":"frame","dir":"out"|"in","frame":TEXT}
// Exits after --seconds or when stdin (a pipe) closes.
//
// stdout (JSON lines):
//   {"event":"open"} {"event":"handshake","socketId":ID,"pingTimeout":MS}
//   {"event":"login","channel":"log"} {"event":"subscribed","channel":"log"}
//   {"event":"sent","what":"START"|"JUMP_TO_STATE"|...,"data":{...}}
//   {"event":"msg","type":T,"name":N,"id":SOCKETID,"instanceId":ID|null, ...}
//       STATE adds currentStateIndex, staged, skipped, committed, count
//       ACTION adds action (inner type), nextActionId, isExcess, count
//       ERROR adds payload; DISCONNECTED (from the relay) has only id
//   {"event":"closed","code":C,"reason":R}
import { parseArgs, toErr, boundLifetime } from '../lib.mjs';
import WebSocket from 'ws';

const log = toErr;
console.log = log;
const args = parseArgs(process.argv.slice(2));
const port = Number(args.port || 8000);
const host = args.host || '127.0.0.1';
const seconds = Number(args.seconds || 30);
const startDelay = Number(args['start-delay'] ?? 250);
const startRetries = Number(args['start-retries'] ?? 20);
const after = Number(args.after ?? 3);
const target = args.target === 'sc' ? 'sc' : 'respond';
const showFrames = !!args.frames;
const commands = [];
if (args.jump !== undefined) {
  commands.push({ type: 'JUMP_TO_STATE', index: args.jump === true ? 1 : Number(args.jump) });
}
if (args.toggle !== undefined) commands.push({ type: 'TOGGLE_ACTION', id: Number(args.toggle) });
if (args.commit) commands.push({ type: 'COMMIT' });

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const parse = (s) => {
  try {
    return typeof s === 'string' ? JSON.parse(s) : s;
  } catch {
    return undefined;
  }
};

const ws = new WebSocket(`ws://${host}:${port}/socketcluster/`);
let cid = 0;
const pending = new Map();
function send(obj) {
  const text = JSON.stringify(obj);
  if (showFrames) out({ event: 'frame', dir: 'out', frame: text });
  ws.send(text);
}
function invoke(event, data) {
  const id = ++cid;
  send({ event, data, cid: id });
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function transmit(event, data) {
  send({ event, data });
}

let gotState = false;
let startsSent = 0;
let startTimer;
function sendStart() {
  transmit('respond', { type: 'START' });
  startsSent++;
  out({ event: 'sent', what: 'START', n: startsSent });
  clearTimeout(startTimer);
  // Apps may miss a START sent before their own subscription to `respond`
  // is acknowledged: retry (bounded) until a STATE arrives.
  if (startsSent < startRetries) {
    startTimer = setTimeout(() => {
      if (!gotState) sendStart();
    }, 500);
  }
}

let stopping = false;
const appIds = new Set();
let actions = 0;
let commandsSent = false;
function sendCommands() {
  commandsSent = true;
  for (const c of commands) {
    const action = c.type === 'COMMIT' ? { type: 'COMMIT', timestamp: Date.now() } : c;
    const data = { type: 'DISPATCH', action };
    if (target === 'sc') {
      for (const id of appIds) transmit(`sc-${id}`, data);
    } else {
      transmit('respond', data);
    }
    out({ event: 'sent', what: c.type, target, data });
  }
}

function onAppMessage(m) {
  if (!m || typeof m !== 'object') return;
  if (m.type === 'DISCONNECTED') {
    out({ event: 'msg', type: 'DISCONNECTED', id: m.id });
    appIds.delete(m.id);
    return;
  }
  if (m.data && m.id && !m.type) m = { ...m.data, id: m.data.id ?? m.id }; // log-noid wrapper
  if (m.id) appIds.add(m.id);
  const line = {
    event: 'msg',
    type: m.type,
    name: m.name ?? null,
    id: m.id ?? null,
    instanceId: m.instanceId ?? null,
  };
  if (m.type === 'STATE') {
    gotState = true;
    const lifted = parse(m.payload);
    if (lifted) {
      const cur = lifted.computedStates?.[lifted.currentStateIndex]?.state;
      Object.assign(line, {
        currentStateIndex: lifted.currentStateIndex,
        staged: lifted.stagedActionIds?.length,
        skipped: lifted.skippedActionIds,
        committed: lifted.committedState !== undefined,
        count: cur?.count,
      });
    }
  } else if (m.type === 'ACTION') {
    const lifted = parse(m.action);
    const state = parse(m.payload);
    Object.assign(line, {
      action: lifted?.action?.type,
      nextActionId: m.nextActionId,
      isExcess: m.isExcess,
      count: state?.count,
    });
    actions++;
  } else if (m.type === 'ERROR') {
    line.payload = m.payload;
  } else if (m.type === 'STOP' && !stopping) {
    // Another monitor left and the relay told every app DISCONNECTED: ask again.
    gotState = false;
    setTimeout(sendStart, startDelay);
  }
  out(line);
  if (!commandsSent && commands.length > 0 && actions >= after) sendCommands();
}

ws.on('open', async () => {
  out({ event: 'open' });
  try {
    const hs = await invoke('#handshake', { authToken: null });
    out({ event: 'handshake', socketId: hs?.id, pingTimeout: hs?.pingTimeout });
    const channel = await invoke('login', {});
    out({ event: 'login', channel });
    await invoke('#subscribe', { channel: 'log' });
    out({ event: 'subscribed', channel: 'log' });
    setTimeout(sendStart, startDelay);
  } catch (e) {
    log('monitor.mjs: setup failed:', JSON.stringify(e));
    process.exit(1);
  }
});

ws.on('message', (buf, isBinary) => {
  const text = buf.toString();
  if (showFrames) out({ event: 'frame', dir: 'in', frame: text });
  if (text === '' || text === '#1') {
    // ping: protocol v2 (cli 5) sends "" and wants "", v1 (legacy) "#1" -> "#2"
    const pong = text === '' ? '' : '#2';
    if (showFrames) out({ event: 'frame', dir: 'out', frame: pong });
    return ws.send(pong);
  }
  const pkt = parse(text);
  for (const p of Array.isArray(pkt) ? pkt : [pkt]) {
    if (!p) continue;
    if (p.rid !== undefined && pending.has(p.rid)) {
      const { resolve, reject } = pending.get(p.rid);
      pending.delete(p.rid);
      if (p.error) reject(p.error);
      else resolve(p.data);
    } else if (p.event === '#publish' && p.data?.channel === 'log') {
      onAppMessage(p.data.data);
    } else if (p.event === 'log') {
      onAppMessage(p.data); // legacy relay's sc-<id> re-emit
    }
  }
});

ws.on('close', (code, reason) => {
  out({ event: 'closed', code, reason: reason.toString() });
  process.exit(stopping ? 0 : 1);
});
ws.on('error', (e) => {
  log('monitor.mjs: websocket error:', e.message);
});

const quit = () => {
  stopping = true;
  try {
    ws.close(1000);
  } catch {
    // not open yet
  }
  setTimeout(() => process.exit(0), 500).unref();
};
boundLifetime(seconds, quit);
process.on('SIGINT', quit);
process.on('SIGTERM', quit);
