// Loaded only by the unit tier (test/unit/.mocharc.json `require`): the unit tier is pure, so starting a process,
// listening on a socket or connecting out throws here instead of quietly making the tier slow and machine-dependent.
// Tests that need a real process, git, a server or the network belong in test/system.
import childProcess from 'node:child_process';
import net from 'node:net';

export const UNIT_GUARD_MESSAGE = 'unit tests start no process / open no socket: move this test to test/system';

function refuse(what: string): never {
  throw new Error(`${UNIT_GUARD_MESSAGE} (${what})`);
}

const cp = childProcess as unknown as Record<string, unknown>;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  cp[name] = (...args: unknown[]) => refuse(`child_process.${name}(${typeof args[0] === 'string' ? JSON.stringify(args[0]) : ''})`);
}
// http, https and tls servers are net.Servers, and their clients (http.request, fetch, tls.connect) connect a net.Socket.
net.Server.prototype.listen = function listen(): never {
  return refuse('a server listen()');
};
net.Socket.prototype.connect = function connect(...args: unknown[]): never {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  const target = first as { host?: string; port?: number; path?: string } | number | string | undefined;
  const where = typeof target === 'object' && target ? (target.path ?? `${target.host ?? 'localhost'}:${target.port}`) : String(target);
  return refuse(`a socket connect() to ${where}`);
};
