// Random names (temporary files, process marks, run ids) and Node's crypto module for what needs it, without loading
// that module at start-up: requiring node:crypto costs the CLI 1.5–3.5 ms, more than a short run's own work, and
// most runs never need it. The CLI takes random bytes from the kernel (/dev/urandom, preferKernelRandom()); the
// editor, which has crypto loaded anyway and makes no synchronous file calls it can avoid, from node:crypto.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';

let crypto: typeof Crypto | undefined;

/** node:crypto, loaded on first use. */
export function nodeCrypto(): typeof Crypto {
  return (crypto ??= createRequire(__filename)('node:crypto') as typeof Crypto);
}

let kernelFirst = false;

/** Random bytes from /dev/urandom rather than node:crypto (which is then loaded only if the system has none). */
export function preferKernelRandom(): void {
  kernelFirst = true;
}

/** Bytes taken at a time: a run uses a few dozen. */
const POOL_BYTES = 256;
let pool: Buffer = Buffer.alloc(0);
let used = 0;

/** `bytes` random bytes as hex. */
export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    const n = Math.max(POOL_BYTES, bytes);
    pool = (kernelFirst ? urandom(n) : null) ?? nodeCrypto().randomBytes(n);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}

function urandom(n: number): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync('/dev/urandom', 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(fd, buf, got, n - got, null);
      if (r <= 0) return null;
      got += r;
    }
    return buf;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
