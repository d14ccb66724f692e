// The real Hop Leap Edge JS client (@onehop/leap-edge-js LeapEdgeClient) as
// a peer for roomtap's tests, driven by JSON lines.
//
//   node client.mjs --url ws://127.0.0.1:PORT/ws --project P [--token T]
//                   [--seconds 60]
//
// stdout, one JSON object per line:
//   {"event":"state","state":S,"url":U}   every connectionStateUpdate (U: the
//                                         URL the client is on, which a 4006
//                                         redirect changes)
//   {"event":"service","channelId":C,"eventType":E,"data":D}   every serviceEvent
//   {"event":"sent","e":E}                a sendServicePayload that did not throw
//   {"event":"error","message":M}         one that threw (not connected)
//   {"event":"closed","why":W}
// stdin, one JSON object per line:
//   {"op":"send","frame":{"e":E,"c":C,"d":D}}   client.sendServicePayload(frame)
//   {"op":"quit"}
// The package has no close API: the process exits after --seconds, on
// "quit", or when stdin closes.
import readline from 'node:readline';
import { parseArgs, toErr, consoleToStderr, boundLifetime } from '../lib.mjs';
import { createRequire } from 'node:module';
// The package's ESM build cannot load (it imports a named `EventEmitter`
// from eventemitter3's CommonJS module); its CommonJS build works.
const { LeapEdgeClient } = createRequire(import.meta.url)('@onehop/leap-edge-js');

consoleToStderr();
const args = parseArgs(process.argv.slice(2));
if (!args.url || !args.project) {
  toErr('usage: client.mjs --url ws://127.0.0.1:PORT/ws --project P [--token T] [--seconds N]');
  process.exit(2);
}
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const auth = { projectId: String(args.project) };
if (typeof args.token === 'string') auth.token = args.token;
const client = new LeapEdgeClient(auth, { socketUrl: String(args.url) });

let done = false;
function quit(why, code = 0) {
  if (done) return;
  done = true;
  out({ event: 'closed', why });
  setTimeout(() => process.exit(code), 50);
}

client.on('connectionStateUpdate', (state) => {
  // `options` is private in the typings, plain in the build: the URL a
  // redirect (4006) moved the client to.
  out({ event: 'state', state, url: client.options?.socketUrl ?? null });
});
client.on('serviceEvent', (ev) => {
  out({ event: 'service', channelId: ev.channelId, eventType: ev.eventType, data: ev.data });
});

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    out({ event: 'error', message: `not JSON: ${line.slice(0, 80)}` });
    return;
  }
  if (cmd.op === 'quit') return quit('quit');
  if (cmd.op === 'send') {
    try {
      client.sendServicePayload(cmd.frame);
      out({ event: 'sent', e: cmd.frame?.e ?? null });
    } catch (e) {
      out({ event: 'error', message: String(e?.message ?? e) });
    }
    return;
  }
  out({ event: 'error', message: `unknown op ${cmd.op}` });
});

boundLifetime(Number(args.seconds || 60), quit);
process.on('uncaughtException', (e) => {
  out({ event: 'error', message: `uncaught: ${e?.message ?? e}` });
  quit('uncaught exception', 1);
});
client.connect();
