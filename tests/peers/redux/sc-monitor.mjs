// A Redux DevTools monitor built on the real socketcluster-client 20 (the
// client library the official monitor app uses), for roomtap's relay tests.
//
// Usage: node sc-monitor.mjs --port P [--secret S] [--seconds 30]
//          [--jump-instance ID --jump-index I --after N]
//   Logs in as a monitor, subscribes `log`, transmits START on `respond`
//   (again every second until a STATE arrives). With --jump-instance, after N
//   ACTION messages it transmits
//   {"type":"DISPATCH","action":{"type":"JUMP_TO_STATE","index":I},"instanceId":ID}
//   on `respond`. --secret is sent as the `secret` URL query parameter.
//   --origin O / --host H: sent as the Origin / Host headers (a web page's
//   monitor, or a DNS-rebinding page's).
// stdout (JSON lines):
//   {"event":"connected","id":SOCKETID} {"event":"login","channel":C}
//   {"event":"msg","type":T,"name":N,"instanceId":ID|null}
//   {"event":"sent","what":"START"|"JUMP_TO_STATE"}
//   {"event":"error","message":M} {"event":"closed","code":C}
import { create } from 'socketcluster-client';
import { parseArgs, toErr, consoleToStderr, boundLifetime } from '../lib.mjs';

consoleToStderr();
const args = parseArgs(process.argv.slice(2));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const socket = create({
  hostname: '127.0.0.1',
  port: Number(args.port || 8000),
  autoReconnect: false,
  query: args.secret ? { secret: String(args.secret) } : {},
  wsOptions: {
    ...(args.origin ? { origin: String(args.origin) } : {}),
    ...(args.host ? { headers: { Host: String(args.host) } } : {}),
  },
});
boundLifetime(Number(args.seconds || 30), (why) => {
  toErr(`sc-monitor: exiting (${why})`);
  process.exit(0);
});

(async () => {
  for await (const { error } of socket.listener('error')) out({ event: 'error', message: String(error && error.message) });
})();
(async () => {
  for await (const { code } of socket.listener('close')) {
    out({ event: 'closed', code });
    process.exit(0);
  }
})();

let gotState = false;
let actions = 0;
let jumped = false;
(async () => {
  for await (const _ of socket.listener('connect')) {
    out({ event: 'connected', id: socket.id });
    const channel = await socket.invoke('login', {});
    out({ event: 'login', channel });
    const sub = socket.subscribe('log');
    (async () => {
      for await (const msg of sub) {
        const m = msg && msg.data && msg.type === undefined ? msg.data : msg;
        out({ event: 'msg', type: m.type, name: m.name ?? null, instanceId: m.instanceId ?? null });
        if (m.type === 'STATE') gotState = true;
        if (m.type === 'ACTION') actions++;
        if (args['jump-instance'] && !jumped && actions >= Number(args.after || 3)) {
          jumped = true;
          socket.transmit('respond', {
            type: 'DISPATCH',
            action: { type: 'JUMP_TO_STATE', index: Number(args['jump-index'] || 1) },
            instanceId: String(args['jump-instance']),
          });
          out({ event: 'sent', what: 'JUMP_TO_STATE' });
        }
      }
    })();
    await sub.listener('subscribe').once();
    for (let i = 0; i < 20 && !gotState; i++) {
      socket.transmit('respond', { type: 'START' });
      out({ event: 'sent', what: 'START' });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
})();
