// Starts the REAL @redux-devtools/cli relay on 127.0.0.1:PORT.
// Usage: node relay.mjs PORT [SECONDS]
// Prints "READY <port>" once listening; exits after SECONDS (default 120)
// or as soon as stdin closes (so a test that drops the child ends it).
import http from 'node:http';

const port = Number(process.argv[2] || 8000);
const seconds = Number(process.argv[3] || 120);

// cli 5 calls httpServer.listen(port) with no host (all interfaces): force
// loopback before it runs.
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number') {
    const cb = args.find((a) => typeof a === 'function');
    const server = this;
    server.once('listening', () => process.stdout.write(`READY ${server.address().port}\n`));
    return listen.call(this, args[0], '127.0.0.1', cb);
  }
  return listen.apply(this, args);
};

const { default: createServer } = await import('@redux-devtools/cli');
const r = await createServer({ port, logLevel: 1 });
if (r.portAlreadyUsed) {
  process.stderr.write(`port ${port} already used\n`);
  process.exit(3);
}
setTimeout(() => process.exit(0), seconds * 1000).unref();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
