// A real legacy redux app (redux 4.2.1) using remote-redux-devtools 0.5.16
// (socketcluster-client 14, protocol v1), for roomtap's tests. Same command
// line and stdout as ../redux/app.mjs; its messages carry no instanceId.
//
// Usage: node app.cjs [--port 8000] [--name counter] [--actions 5]
//          [--interval 100] [--start-after 500] [--seconds 60] [--maxAge 50]
//          [--stores 1] [--mixed 0|1] [--hostname 127.0.0.1 (see ../redux/app.mjs)]
//   --actions N      dispatch N actions (INCREMENT {by:1}; with --mixed 1 every
//                    4th is ADD_TODO and every 7th DECREMENT), one per --interval ms,
//                    the first after --start-after ms
//   --stores K       K independent stores (each its own enhancer and socket),
//                    named NAME-1..NAME-K when K > 1
// Exits after --seconds, or when stdin (a pipe) closes.
//
// stdout: JSON lines only (diagnostics, including the enhancer's own
// console.log chatter, go to stderr):
//   {"event":"state","name":N,"count":C,"todos":T,"currentStateIndex":I,
//    "staged":S,"skipped":[ids],"committed":B,"nextActionId":A,"at":TYPE}
//       after EVERY store change (store.subscribe; lifted actions such as
//       JUMP_TO_STATE sent by a monitor included), read from the lifted store
//       (store.liftedStore.getState(), redux-devtools-instrument 1.10)
//   {"event":"dispatched","name":N,"n":i,"type":TYPE}   after dispatch #i (1-based)
//   {"event":"done","name":N}                            after the last dispatch
//
// remote-redux-devtools 0.5 keeps its socket, store and name in module-level
// variables, and socketcluster-client 14 shares one socket per URL
// (multiplex). So each store loads a fresh copy of the enhancer module and
// the client is told not to multiplex: K stores = K sockets, as with the
// current enhancer.
'use strict';
const { createStore } = require('redux');
const fs = require('fs');
const scc = require('socketcluster-client');

const createSocket = scc.create;
scc.create = (options) => createSocket(Object.assign({}, options, { multiplex: false }));
scc.connect = scc.create;

function freshEnhancerModule() {
  const dir = require('path').dirname(require.resolve('remote-redux-devtools/package.json'));
  for (const k of Object.keys(require.cache)) {
    if (k.startsWith(dir + require('path').sep)) delete require.cache[k];
  }
  return require('remote-redux-devtools');
}

// The enhancer logs with console.log; keep stdout for JSON.
const toErr = (...a) => process.stderr.write(a.map(String).join(' ') + '\n');
console.log = toErr;
console.info = toErr;
console.warn = toErr;
console.debug = toErr;

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) o[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) o[a.slice(2)] = argv[++i];
    else o[a.slice(2)] = '1';
  }
  return o;
}
const args = parseArgs(process.argv.slice(2));
const num = (k, d) => {
  if (args[k] === undefined) return d;
  const v = Number(args[k]);
  if (!Number.isFinite(v)) {
    toErr(`app.cjs: --${k} must be a number, got ${args[k]}`);
    process.exit(2);
  }
  return v;
};
const port = num('port', 8000);
const baseName = args.name || 'counter';
const actions = num('actions', 5);
const interval = num('interval', 100);
const startAfter = num('start-after', 500);
const seconds = num('seconds', 60);
const maxAge = num('maxAge', 50);
const stores = num('stores', 1);
const mixed = args.mixed === '1' || args.mixed === 'true';

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const initial = () => ({
  count: 0,
  todos: [],
  meta: { created: new Date(0), version: 1 },
});

function reducer(state = initial(), action) {
  switch (action.type) {
    case 'INCREMENT':
      return { ...state, count: state.count + (action.by === undefined ? 1 : action.by) };
    case 'DECREMENT':
      return { ...state, count: state.count - 1 };
    case 'ADD_TODO':
      return { ...state, todos: [...state.todos, { text: action.text, done: false }] };
    case 'THROW':
      throw new Error('reducer failed on THROW');
    default:
      return state;
  }
}

function actionFor(n, name) {
  if (mixed && n % 4 === 0) return { type: 'ADD_TODO', text: `todo ${n} of ${name}` };
  if (mixed && n % 7 === 0) return { type: 'DECREMENT' };
  return { type: 'INCREMENT', by: 1 };
}

for (let k = 1; k <= stores; k++) {
  const name = stores > 1 ? `${baseName}-${k}` : baseName;
  const store = createStore(
    reducer,
    freshEnhancerModule().default({ name, realtime: true, hostname: args.hostname || '127.0.0.1', port, maxAge }),
  );
  store.subscribe(() => {
    const s = store.getState();
    const lifted = store.liftedStore ? store.liftedStore.getState() : undefined;
    const line = { event: 'state', name, count: s?.count, todos: s?.todos?.length };
    if (lifted) {
      const at = lifted.actionsById[lifted.stagedActionIds[lifted.currentStateIndex]];
      Object.assign(line, {
        currentStateIndex: lifted.currentStateIndex,
        staged: lifted.stagedActionIds.length,
        skipped: lifted.skippedActionIds,
        committed: lifted.committedState !== undefined,
        nextActionId: lifted.nextActionId,
        at: at?.action?.type,
      });
    }
    out(line);
  });
  let n = 0;
  const tick = () => {
    if (n >= actions) {
      out({ event: 'done', name });
      return;
    }
    n += 1;
    const action = actionFor(n, name);
    store.dispatch(action);
    out({ event: 'dispatched', name, n, type: action.type });
    setTimeout(tick, interval);
  };
  setTimeout(tick, startAfter);
}

// Bounded lifetime: --seconds, or stdin closing when it is a pipe/socket
// (a terminal or /dev/null stdin is not watched).
setTimeout(() => process.exit(0), seconds * 1000);
let st;
try {
  st = fs.fstatSync(0);
} catch (_) {
  st = undefined;
}
if (st && (st.isFIFO() || st.isSocket())) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
