// Shared by the peer scripts of every folder here: argument parsing, stdout kept for data, and a
// bounded lifetime.
import fs from 'node:fs';

/** `--k v`, `--k=v`, or a bare `--k` (true). */
export function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) o[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) o[a.slice(2)] = argv[++i];
    else o[a.slice(2)] = true;
  }
  return o;
}

/** Writes a line to stderr. */
export const toErr = (...a) => process.stderr.write(a.map(String).join(' ') + '\n');

/** Sends console chatter (libraries log with console.log) to stderr. */
export function consoleToStderr() {
  console.log = toErr;
  console.info = toErr;
  console.warn = toErr;
  console.debug = toErr;
}

/**
 * Calls `quit(why)` after `seconds`, or when stdin closes if it is a pipe
 * or socket (a terminal or /dev/null stdin is not watched).
 */
export function boundLifetime(seconds, quit) {
  setTimeout(() => quit(`${seconds}s elapsed`), seconds * 1000);
  let st;
  try {
    st = fs.fstatSync(0);
  } catch {
    st = undefined;
  }
  if (st && (st.isFIFO() || st.isSocket())) {
    process.stdin.on('end', () => quit('stdin closed'));
    process.stdin.on('close', () => quit('stdin closed'));
    process.stdin.on('error', () => quit('stdin error'));
    process.stdin.resume();
  }
}

/**
 * Makes every WebSocket the `ws` package opens in this process send `origin`
 * (and `host` as its Host header), as a web page's would: how the tests play
 * a browser page (or a DNS-rebinding page) against roomtap's servers with the
 * real client libraries, which build their sockets on `ws`. Call it before
 * those libraries are loaded (import them dynamically afterwards).
 */
export async function sendAsPage(fromUrl, origin, host) {
  if (!origin && !host) return;
  const { createRequire } = await import('node:module');
  const require = createRequire(fromUrl);
  const path = require.resolve('ws');
  const WS = require('ws');
  class PageWS extends WS {
    constructor(address, protocols, options) {
      if (protocols && !Array.isArray(protocols) && typeof protocols === 'object') {
        options = protocols;
        protocols = undefined;
      }
      const o = { ...(options || {}) };
      if (origin) o.origin = origin;
      if (host) o.headers = { ...(o.headers || {}), Host: host };
      super(address, protocols, o);
    }
  }
  require.cache[path].exports = PageWS;
}
