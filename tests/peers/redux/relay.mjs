// Starts the REAL @redux-devtools/cli 5.0.0 relay (socketcluster-server 20,
// protocol v2: server pings "", clients answer "") on 127.0.0.1:PORT, in
// this one process. Never opens a browser or electron (no --open).
//
// Usage: node relay.mjs PORT [SECONDS]
//   PORT 0: a free port chosen by the kernel when the relay listens (no
//   race with other processes), reported in the READY line.
// stdout: exactly one line "READY <port>" (the port really listened on) once
//         the relay's HTTP/WebSocket server is listening; everything else
//         goes to stderr.
// Exits after SECONDS (default 120), when stdin closes (if stdin is a pipe or
// socket; a terminal or /dev/null stdin is not watched), or on SIGINT/SIGTERM.
// Exit code 3: port already used.
import net from 'node:net';
import http from 'node:http';
import { toErr, boundLifetime } from '../lib.mjs';
import { createRequire } from 'node:module';

const port = Number(process.argv[2] || 8000);
const seconds = Number(process.argv[3] || 120);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`relay.mjs: bad port ${process.argv[2]}\n`);
  process.exit(2);
}

const log = toErr;
console.log = log;
console.info = log;

// Loopback only. cli 5 calls httpServer.listen(port) with no host (= all
// interfaces), and its get-port check briefly listens on '::', '0.0.0.0' and
// every interface address. Rewrite every TCP listen in this process to
// 127.0.0.1 (get-port then only probes loopback, which is what matters).
// Port 0: cli 5 reads a port 0 as its default 8000 and checks that port with
// get-port before its httpServer.listen(port). It is given a placeholder
// instead, which every listen below turns into port 0: get-port's probes
// then succeed (it reports the placeholder free) and the HTTP server gets a
// kernel-chosen port, which the READY line reports.
const ANY_PORT_PLACEHOLDER = 65535;
const anyPort = port === 0;
const origListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const cb = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
  const first = args[0];
  let opts;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    opts = { port: Number(first) };
  } else if (first && typeof first === 'object' && first.path === undefined &&
             first.fd === undefined && first.handle === undefined && !first._handle) {
    opts = { ...first };
    delete opts.ipv6Only;
  }
  if (!opts) return origListen.apply(this, args); // unix socket / handle
  opts.host = '127.0.0.1';
  if (anyPort && Number(opts.port) === ANY_PORT_PLACEHOLDER) opts.port = 0;
  if (this instanceof http.Server) {
    this.once('listening', () => process.stdout.write(`READY ${this.address().port}\n`));
  }
  return cb ? origListen.call(this, opts, cb) : origListen.call(this, opts);
};

const exit = (code, why) => {
  log(`relay.mjs: exiting (${why})`);
  process.exit(code);
};
boundLifetime(seconds, (why) => exit(0, why));
process.on('SIGINT', () => exit(130, 'SIGINT'));
process.on('SIGTERM', () => exit(143, 'SIGTERM'));

// Reports (POST /, channel `report`, RPC getReport) are stored by knex in an
// in-memory sqlite3 database. If the sqlite3 native module did not build
// (install.sh's degraded fallback), knex would throw at startup: give it no
// connection (knex then never loads the driver), so the relay still relays
// and only report queries fail (logged on stderr).
const options = { port: anyPort ? ANY_PORT_PLACEHOLDER : port, logLevel: 1 }; // logLevel 1 = errors only (0 reads as 3)
try {
  createRequire(import.meta.url)('sqlite3');
} catch (e) {
  log(`relay.mjs: WARNING sqlite3 unavailable (${String(e.message).split('\n')[0]}); reports disabled`);
  options.dbOptions = { client: 'sqlite3', useNullAsDefault: true, migrate: false };
}
const { default: createServer } = await import('@redux-devtools/cli');
const r = await createServer(options);
if (r.portAlreadyUsed) exit(3, `port ${port} already used`);
