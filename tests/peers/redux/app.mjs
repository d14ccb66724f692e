// A real redux app (redux 5.0.1) using @redux-devtools/remote 1.0.0's
// devToolsEnhancer, for roomtap's tests.
//
// Usage: node app.mjs [--port 8000] [--name counter] [--actions 5]
//          [--interval 100] [--start-after 500] [--seconds 60] [--maxAge 50]
//          [--stores 1] [--mixed 0|1] [--hostname 127.0.0.1]
//   --hostname H     passed to the enhancer; "user:SECRET@127.0.0.1" makes `ws`
//                    send HTTP basic auth (how apps present roomtap's --secret)
//   --actions N      dispatch N actions (INCREMENT {by:1}; with --mixed 1 every
//                    4th is ADD_TODO and every 7th DECREMENT), one per --interval ms,
//                    the first after --start-after ms
//   --stores K       K independent stores (each its own enhancer and socket),
//                    named NAME-1..NAME-K when K > 1
//   --origin O       send Origin: O (and --host H as the Host header), as the
//                    same app in a web page served from O would
// Exits after --seconds, or when stdin (a pipe) closes.
//
// stdout: JSON lines only (diagnostics, including the enhancer's own
// console.log chatter, go to stderr):
//   {"event":"state","name":N,"count":C,"todos":T,"currentStateIndex":I,
//    "staged":S,"skipped":[ids],"committed":B,"nextActionId":A,"at":TYPE}
//       after EVERY store change (store.subscribe; lifted actions such as
//       JUMP_TO_STATE sent by a monitor included). I/S/skipped/committed come
//       from the instrumented lifted store (store.liftedStore.getState()):
//       staged = stagedActionIds.length, committed = committedState present
//       (after COMMIT), at = type of the action at currentStateIndex.
//   {"event":"dispatched","name":N,"n":i,"type":TYPE}   after dispatch #i (1-based)
//   {"event":"done","name":N}                            after the last dispatch
import { createStore } from 'redux';
import { parseArgs, toErr, consoleToStderr, boundLifetime, sendAsPage } from '../lib.mjs';

// The enhancer logs with console.log; keep stdout for JSON.
consoleToStderr();
const args = parseArgs(process.argv.slice(2));
await sendAsPage(import.meta.url, args.origin, args.host);
const { devToolsEnhancer } = await import('@redux-devtools/remote');
const num = (k, d) => {
  if (args[k] === undefined) return d;
  const v = Number(args[k]);
  if (!Number.isFinite(v)) {
    toErr(`app.mjs: --${k} must be a number, got ${args[k]}`);
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
const mixed = args.mixed === true || args.mixed === '1' || args.mixed === 'true';

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const initial = () => ({
  count: 0,
  todos: [],
  meta: { created: new Date(0), version: 1 },
});

function reducer(state = initial(), action) {
  switch (action.type) {
    case 'INCREMENT':
      return { ...state, count: state.count + (action.by ?? 1) };
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
    devToolsEnhancer({ name, realtime: true, hostname: args.hostname || '127.0.0.1', port, maxAge }),
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
boundLifetime(seconds, () => process.exit(0));
