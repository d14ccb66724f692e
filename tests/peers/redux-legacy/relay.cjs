// Starts the REAL legacy relay, remotedev-server 0.3.1 (SocketCluster 14,
// protocol v1: server pings "#1", clients answer "#2"), on 127.0.0.1:PORT.
//
// Usage: node relay.cjs PORT [SECONDS]
// stdout: exactly one line "READY <port>" once a TCP connection to
//         127.0.0.1:PORT succeeds; everything else goes to stderr.
// Exits after SECONDS (default 120), when stdin closes (if stdin is a pipe or
// socket), or on SIGINT/SIGTERM. Exit code 3: port already used.
//
// SocketCluster runs as processes: this master, a worker-cluster process
// (which owns the listening socket), 1 worker and 1 broker (unix socket).
// On exit the master destroys the cluster, then SIGKILLs whatever is left;
// the children also exit by themselves when their IPC channel to the parent
// closes (so even a SIGKILLed master leaves nothing behind).
'use strict';
const childProcess = require('child_process');
const fs = require('fs');
const net = require('net');

const port = Number(process.argv[2] || 8000);
const seconds = Number(process.argv[3] || 120);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`relay.cjs: bad port ${process.argv[2]}\n`);
  process.exit(2);
}

// Keep stdout for the READY line only: SocketCluster's banner (master) and
// the children's logs (they inherit our stdio) go to stderr. Children never
// read stdin (so they cannot keep the test's pipe alive).
const log = (...a) => process.stderr.write(a.join(' ') + '\n');
console.log = log;
console.info = log;
const origFork = childProcess.fork;
const forkedPids = new Set();
childProcess.fork = function (modulePath, args, options) {
  if (args && !Array.isArray(args)) {
    options = args;
    args = [];
  }
  const opts = Object.assign({}, options, { stdio: ['ignore', 2, 2, 'ipc'] });
  const child = origFork.call(this, modulePath, args || [], opts);
  forkedPids.add(child.pid);
  child.once('exit', () => forkedPids.delete(child.pid));
  return child;
};

let cluster = null;
let exiting = false;
function shutdown(code, why) {
  if (exiting) return;
  exiting = true;
  log(`relay.cjs: exiting (${why})`);
  const finish = () => {
    for (const pid of forkedPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (_) {
        // already gone
      }
    }
    process.exit(code);
  };
  // Bounded: destroy() waits for the worker cluster and broker to exit.
  setTimeout(finish, 3000).unref();
  if (cluster && typeof cluster.destroy === 'function') {
    try {
      cluster.destroy(finish);
    } catch (e) {
      log(`relay.cjs: destroy failed: ${e && e.message}`);
      finish();
    }
  } else {
    finish();
  }
}

setTimeout(() => shutdown(0, `${seconds}s elapsed`), seconds * 1000);
// stdin EOF ends the relay when stdin is a pipe or socket (a terminal or
// /dev/null stdin is not watched: then only SECONDS or a signal end it).
let stdinStat;
try {
  stdinStat = fs.fstatSync(0);
} catch (_) {
  stdinStat = undefined;
}
if (stdinStat && (stdinStat.isFIFO() || stdinStat.isSocket())) {
  process.stdin.on('end', () => shutdown(0, 'stdin closed'));
  process.stdin.on('close', () => shutdown(0, 'stdin closed'));
  process.stdin.on('error', () => shutdown(0, 'stdin error'));
  process.stdin.resume();
}
process.on('SIGINT', () => shutdown(130, 'SIGINT'));
process.on('SIGTERM', () => shutdown(143, 'SIGTERM'));
// Children are SIGKILLed synchronously on any exit path; the broker's
// (empty) unix-socket folder under $TMPDIR/socketcluster/ is removed.
process.on('exit', () => {
  for (const pid of forkedPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (_) {
      // already gone
    }
  }
  const dir = cluster && cluster._socketDirPath;
  if (typeof dir === 'string' && dir.includes('socketcluster')) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (_) {
      // best effort
    }
  }
});

// Confirm the socket really accepts connections on loopback (bounded).
function probe(deadline) {
  const c = net.connect({ port, host: '127.0.0.1' });
  c.once('connect', () => {
    c.destroy();
    process.stdout.write(`READY ${port}\n`);
  });
  c.once('error', () => {
    c.destroy();
    if (Date.now() > deadline) {
      log(`relay.cjs: 127.0.0.1:${port} never accepted a connection`);
      shutdown(1, 'not listening');
    } else {
      setTimeout(() => probe(deadline), 50);
    }
  });
}

// Reports are stored by knex in an in-memory sqlite3 database (in the worker
// process). If the sqlite3 native module did not build (install.sh's
// degraded fallback) the worker would crash in a loop: give knex no
// connection (it then never loads the driver), so the relay still relays
// and only report queries fail.
const options = { hostname: '127.0.0.1', port, logLevel: 1 };
try {
  require('sqlite3');
} catch (e) {
  log(`relay.cjs: WARNING sqlite3 unavailable (${String(e.message).split('\n')[0]}); reports disabled`);
  options.dbOptions = { client: 'sqlite3', useNullAsDefault: true, migrate: false };
}
const remotedev = require('remotedev-server');
remotedev(options).then((sc) => {
  if (sc.portAlreadyUsed) {
    log(`relay.cjs: port ${port} already used`);
    shutdown(3, 'port already used');
    return;
  }
  cluster = sc;
  sc.on('fail', (e) => exiting || log(`relay.cjs: fail: ${e && (e.stack || e.message || e)}`));
  sc.on('warning', (w) => exiting || log(`relay.cjs: warning: ${w && (w.message || w)}`));
  sc.on('ready', () => probe(Date.now() + 15000));
  sc.on('workerClusterExit', () => {
    if (!exiting) shutdown(1, 'worker cluster exited');
  });
});
