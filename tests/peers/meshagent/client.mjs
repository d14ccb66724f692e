// The real MeshAgent JS client (@meshagent/meshagent RoomClient) as a peer
// for roomtap's tests, driven by JSON lines.
//
//   node client.mjs --url ws://127.0.0.1:PORT/rooms/NAME --secret S [--name N]
//                   [--watch] [--seconds 60]
//
// The token is minted here with the package's own ParticipantToken (HS256,
// signed with --secret), so the room server's token check is proven against
// the real signer. With --watch the developer log stream is opened
// (room.developer.logs()) and a probe log is sent until it comes back, so
// "watching" means the stream really delivers.
//
// stdout, one JSON object per line:
//   {"event":"connected","room":..,"session":..,"participant":..}
//   {"event":"watching"}
//   {"event":"log","type":T,"data":{..}}         every developer log received
//   {"event":"logged","type":T}                   a log this client sent was accepted
//   {"event":"error","message":..,"code":..,"status":..}
//   {"event":"closed","why":..}
// stdin, one JSON object per line:
//   {"cmd":"log","type":T,"data":{..}}            room.developer.log(T, data)
//   {"cmd":"invoke","toolkit":K,"tool":T,"input":{..}}   any tool (errors come back as events)
//   {"cmd":"quit"}
import readline from 'node:readline';
import { createRequire } from 'node:module';
// The package's node build (CommonJS) has every export; its ESM entry does not.
const meshagent = createRequire(import.meta.url)('@meshagent/meshagent');
import { parseArgs, toErr, consoleToStderr, boundLifetime } from '../lib.mjs';

const { RoomClient, WebSocketClientProtocol, ParticipantToken, ApiScope } = meshagent;
consoleToStderr();
const args = parseArgs(process.argv.slice(2));
const url = args.url;
if (!url) {
  toErr('usage: client.mjs --url ws://127.0.0.1:PORT/rooms/NAME --secret S');
  process.exit(2);
}
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const roomName = new URL(url).pathname.split('/').pop();

const token = new ParticipantToken({ name: args.name || 'js-peer' });
token.addRoomGrant(roomName);
token.addRoleGrant('user');
token.addApiGrant(ApiScope.userDefault());
const jwt = await token.toJwt({ token: String(args.secret || 'devsecret') });

let done = false;
let room;
function quit(why, code = 0) {
  if (done) return;
  done = true;
  out({ event: 'closed', why });
  try {
    room?.dispose();
  } catch {}
  setTimeout(() => process.exit(code), 50);
}
// Commands are read from the start (stdin is resumed by boundLifetime, so a
// late reader would lose lines) and run once the client is ready.
let setReady;
const ready = new Promise((r) => (setReady = r));
process.on('uncaughtException', (e) => {
  out(errorEvent(e));
  quit('uncaught exception', 3);
});
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  await ready;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    out({ event: 'error', message: `bad command line: ${line}` });
    return;
  }
  try {
    if (msg.cmd === 'log') {
      await room.developer.log(msg.type, msg.data ?? {});
      out({ event: 'logged', type: msg.type });
    } else if (msg.cmd === 'invoke') {
      await room.invoke({ toolkit: msg.toolkit, tool: msg.tool, input: msg.input ?? {} });
      out({ event: 'invoked', tool: msg.tool });
    } else if (msg.cmd === 'quit') {
      quit('asked');
    } else {
      out({ event: 'error', message: `unknown command ${msg.cmd}` });
    }
  } catch (e) {
    out(errorEvent(e));
  }
});

boundLifetime(Number(args.seconds || 60), quit);

function errorEvent(e) {
  return {
    event: 'error',
    message: String(e?.message ?? e),
    code: e?.code ?? null,
    status: e?.statusCode ?? e?.cause?.statusCode ?? null,
  };
}

room = new RoomClient({
  protocolFactory: () => new WebSocketClientProtocol({ url, token: jwt }),
  reconnectTimeout: 0,
});
try {
  await room.start();
} catch (e) {
  out(errorEvent(e));
  quit('could not connect', 3);
}
if (!done) {
  out({
    event: 'connected',
    room: room.roomName,
    session: room.sessionId,
    participant: room.localParticipant?.id ?? null,
  });
}

if (!done && args.watch) {
  let watching = false;
  (async () => {
    try {
      for await (const ev of room.developer.logs()) {
        if (ev.type === 'roomtap.probe') {
          if (!watching) {
            watching = true;
            out({ event: 'watching' });
          }
          continue;
        }
        out({ event: 'log', type: ev.type, data: ev.data });
      }
      out({ event: 'stream-closed' });
    } catch (e) {
      out(errorEvent(e));
    }
  })();
  // Probe until the stream delivers (bounded).
  for (let i = 0; i < 100 && !watching && !done; i++) {
    try {
      await room.developer.log('roomtap.probe', { i });
    } catch (e) {
      out(errorEvent(e));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!watching && !done) out({ event: 'error', message: 'the logs stream never delivered' });
}
if (!done) setReady();
