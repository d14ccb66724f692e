// A real redux app using @redux-devtools/remote, for roomtap's tests.
// Prints one JSON line on stdout after every store change:
//   {"event":"state","name":..,"count":..,"todos":..,"currentStateIndex":..,"staged":..,"skipped":[..]}
// plus {"event":"dispatched","name":..,"n":i} and {"event":"done","name":..}.
// Options: --port P --name NAME --actions N --interval MS --start-after MS
//          --seconds S --maxAge M --stores K --mixed 1
// Exits after --seconds or when stdin closes.
import { createStore } from 'redux';
import { devToolsEnhancer } from '@redux-devtools/remote';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
    return acc;
  }, []),
);
const port = Number(args.port || 8000);
const baseName = args.name || 'counter';
const actions = Number(args.actions ?? 5);
const interval = Number(args.interval ?? 100);
const startAfter = Number(args['start-after'] ?? 500);
const seconds = Number(args.seconds ?? 60);
const maxAge = Number(args.maxAge ?? 50);
const stores = Number(args.stores ?? 1);
// --mixed 1: every 4th action is ADD_TODO, every 7th DECREMENT (demo variety).
const mixed = args.mixed === '1';

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function reducer(state = { count: 0, todos: [], meta: { created: new Date(0) } }, action) {
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

for (let k = 1; k <= stores; k++) {
  const name = stores > 1 ? `${baseName}-${k}` : baseName;
  const store = createStore(
    reducer,
    devToolsEnhancer({ name, realtime: true, hostname: '127.0.0.1', port, maxAge }),
  );
  store.subscribe(() => {
    const s = store.getState();
    const lifted = store.liftedStore ? store.liftedStore.getState() : undefined;
    out({
      event: 'state',
      name,
      count: s.count,
      todos: s.todos.length,
      currentStateIndex: lifted?.currentStateIndex,
      staged: lifted?.stagedActionIds.length,
      skipped: lifted?.skippedActionIds,
    });
  });
  let n = 0;
  const tick = () => {
    if (n >= actions) {
      out({ event: 'done', name });
      return;
    }
    n += 1;
    if (mixed && n % 4 === 0) store.dispatch({ type: 'ADD_TODO', text: `todo ${n} of ${name}` });
    else if (mixed && n % 7 === 0) store.dispatch({ type: 'DECREMENT' });
    else store.dispatch({ type: 'INCREMENT', by: 1 });
    out({ event: 'dispatched', name, n });
    setTimeout(tick, interval);
  };
  setTimeout(tick, startAfter);
}

setTimeout(() => process.exit(0), seconds * 1000).unref();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
