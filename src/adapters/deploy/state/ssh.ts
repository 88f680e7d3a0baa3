// The team's lock and history of an environment in a folder on the ssh host (default ~/.delivery/<environment>/ of
// the deploy user): `lock.json` (the holder), `history.jsonl` (one event a line) and `.mutex` (for flock).
//
// Every operation is one ssh session running one CONSTANT bash script (below); the values (folder, token, JSON)
// travel as environment variables on standard input (sshScriptCommand), never inside a command string. Writes run
// under `flock -x` on .mutex, so "create when absent" and "swap when the token matches" are atomic across machines.
// The lock is written to a temporary file in the same folder and renamed over lock.json (a reader sees the old or
// the new lock, never half of one). A history line is appended whole; when the append fails (disk full) the file is
// cut back to its size before it, and a line a killed writer left unfinished is closed before the next one.
// The age of the lock comes from the host's clock (now minus lock.json's mtime), so deployers' clocks do not matter.
//
// The script answers with a line of its own (what a login script printed before it is ignored), then a status word
// and the data (a write first prints "." once it holds the mutex). Any other answer, or a non-zero exit (ssh could
// not connect, the folder cannot be written), is an Error naming the store.
import { spawn } from 'node:child_process';
import { parseLockHolder, parseHistoryEvent, type HistoryEvent, type StateSpec, type StoredLock, type TeamStateStore } from '../../../core/environments/teamState';
import { sshDestination, sshScriptCommand } from '../../ssh';
import { describeSshFailure } from '../../environments/probes';

/** The first line of every answer: what a login script of the host prints before it is ignored. */
const BEGIN = 'delivery-state-v1';

/** Resolves the folder (relative: from $HOME, the deploy user's home; `~/` too) and takes the flock when a write needs it. */
const PRELUDE = `
echo ${BEGIN}
d=$DELIVERY_STATE_DIR
case $d in
  /*) ;;
  "~") d=$HOME ;;
  "~/"*) d=$HOME/\${d#"~/"} ;;
  *) d=\${HOME:-.}/$d ;;
esac
lock=$d/lock.json
history=$d/history.jsonl
age() { local now m; now=$(date +%s); m=$(stat -c %Y "$lock"); [ "$now" -gt "$m" ] && echo $((now - m)) || echo 0; }
writable() {
  mkdir -p -m 700 "$d"
  exec 9>>"$d/.mutex"
  flock -x -w 15 9 || { echo "the store is busy: its mutex ($d/.mutex) was not released within 15 s" >&2; exit 1; }
  # Still wanted? When the deployer went away (cancelled) while we waited, sshd has closed our output: this write
  # ends the script (SIGPIPE) before it changes anything.
  echo .
}
`;

/** NONE, or LOCK <age s> and the holder JSON. A shared flock (on a read-only descriptor) when .mutex exists. */
const READ_LOCK = `${PRELUDE}
[ -e "$lock" ] || { echo NONE; exit 0; }
if [ -e "$d/.mutex" ]; then exec 9<"$d/.mutex"; flock -s -w 15 9; fi
[ -e "$lock" ] || { echo NONE; exit 0; }
body=$(cat "$lock")
echo "LOCK $(age)"
printf '%s\\n' "$body"
`;

/** Writes DELIVERY_LOCK to lock.json through a temporary file and a rename. */
const WRITE_LOCK = `
tmp=$(mktemp "$d/.lock.XXXXXX")
trap 'rm -f "$tmp"' EXIT
printf '%s\\n' "$DELIVERY_LOCK" >"$tmp"
mv -f "$tmp" "$lock"
trap - EXIT
`;

/** CREATED, or HELD <age s> and the holder JSON that is there. */
const CREATE_LOCK = `${PRELUDE}
writable
if [ -e "$lock" ]; then
  body=$(cat "$lock")
  echo "HELD $(age)"
  printf '%s\\n' "$body"
  exit 0
fi
${WRITE_LOCK}
echo CREATED
`;

/** SWAPPED (lock.json replaced by DELIVERY_LOCK, or removed when it is empty) or MISMATCH. Tokens are [A-Za-z0-9_.:-]. */
const SWAP_LOCK = `${PRELUDE}
writable
if [ ! -e "$lock" ] || ! grep -qF "\\"token\\":\\"$DELIVERY_TOKEN\\"" "$lock"; then echo MISMATCH; exit 0; fi
if [ -z "$DELIVERY_LOCK" ]; then
  rm -f "$lock"
else
${WRITE_LOCK}
fi
echo SWAPPED
`;

/** APPENDED. A failed append is cut back, so no half line stays. */
const APPEND = `${PRELUDE}
writable
if [ -s "$history" ] && [ -n "$(tail -c 1 "$history")" ]; then printf '\\n' >>"$history"; fi
size=0
[ -e "$history" ] && size=$(stat -c %s "$history")
if ! err=$(printf '%s\\n' "$DELIVERY_EVENT" 2>&1 >>"$history"); then
  truncate -s "$size" "$history" 2>/dev/null || true
  echo "could not append to $history: \${err##*: }" >&2
  exit 1
fi
echo APPENDED
`;

/** OK, then history.jsonl as it is. */
const READ_HISTORY = `${PRELUDE}
echo OK
if [ -e "$history" ]; then cat "$history"; fi
`;

/** A value passed as one environment variable stays well under Linux's limit for one (128 KiB). */
const MAX_VALUE = 100_000;
const TOKEN = /^[A-Za-z0-9_.:-]{1,200}$/;
/** History kept in memory at most; a larger answer is an error. */
const MAX_OUTPUT = 64 * 1024 * 1024;

export function sshStateStore(spec: Extract<StateSpec, { kind: 'ssh' }>, ctx: { environment: string; cwd: string }): TeamStateStore {
  const where = `${sshDestination(spec.ssh)}:${spec.dir}`;
  const fail = (why: string) => new Error(`ssh store ${where}: ${why}`);
  if (!spec.dir || /[\n\r\u0000]/.test(spec.dir)) throw fail('the state folder must be one line, not empty');
  const timeoutMs = (spec.ssh.connectTimeoutSec + 20) * 1000;

  /** Runs one script; returns the status word of its answer and the rest. */
  const call = async (script: string, values: Record<string, string>, signal: AbortSignal | undefined): Promise<{ status: string; rest: string }> => {
    for (const [name, value] of Object.entries(values)) {
      if (Buffer.byteLength(value) > MAX_VALUE) throw fail(`${name} is too large (${Buffer.byteLength(value)} bytes, at most ${MAX_VALUE})`);
    }
    const cmd = sshScriptCommand(spec.ssh, script, { DELIVERY_STATE_DIR: spec.dir, ...values }, ctx.cwd);
    const r = await runCommand(cmd, timeoutMs, signal);
    if (r.error) throw fail(r.error);
    // 255: ssh's own failure (refused, key, host key, timeout), said the way deploys and probes say it.
    if (r.code === 255) throw fail(describeSshFailure(r.stderr, spec.ssh));
    if (r.code !== 0) throw fail(lastLine(r.stderr) || `ssh exited with ${r.code ?? r.signal}`);
    const text = `\n${r.stdout}`;
    const at = text.indexOf(`\n${BEGIN}\n`);
    if (at < 0) throw fail(`unexpected answer from the host: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    const answer = text.slice(at + BEGIN.length + 2);
    const stdout = answer.startsWith('.\n') ? answer.slice(2) : answer;
    const nl = stdout.indexOf('\n');
    if (nl < 0) throw fail(`unexpected answer from the host: ${JSON.stringify(stdout.slice(0, 200))}`);
    return { status: stdout.slice(0, nl), rest: stdout.slice(nl + 1) };
  };

  /** LOCK/HELD <age s> + JSON -> the stored lock. */
  const storedLock = (status: string, rest: string): StoredLock => {
    const age = Number(status.split(' ')[1]);
    const holder = parseLockHolder(rest.trim());
    if (!holder || !Number.isFinite(age)) throw fail(`lock.json is not a lock this tool wrote (remove it by hand): ${JSON.stringify(rest.slice(0, 200))}`);
    return { holder, ageMs: age * 1000 };
  };

  const checkToken = (token: string) => {
    if (!TOKEN.test(token)) throw fail(`invalid lock token ${JSON.stringify(token.slice(0, 60))}`);
  };

  const unexpected = (status: string) => fail(`unexpected answer from the host: ${JSON.stringify(status.slice(0, 200))}`);

  return {
    kind: 'ssh',
    where,
    async readLock(signal) {
      const r = await call(READ_LOCK, {}, signal);
      if (r.status === 'NONE') return null;
      if (/^LOCK \d+$/.test(r.status)) return storedLock(r.status, r.rest);
      throw unexpected(r.status);
    },
    async createLock(holder, signal) {
      checkToken(holder.token);
      const r = await call(CREATE_LOCK, { DELIVERY_LOCK: JSON.stringify(holder) }, signal);
      if (r.status === 'CREATED') return { ok: true };
      if (/^HELD \d+$/.test(r.status)) return { ok: false, current: storedLock(r.status, r.rest) };
      throw unexpected(r.status);
    },
    async swapLock(token, next, signal) {
      checkToken(token);
      if (next) checkToken(next.token);
      const r = await call(SWAP_LOCK, { DELIVERY_TOKEN: token, DELIVERY_LOCK: next ? JSON.stringify(next) : '' }, signal);
      if (r.status === 'SWAPPED') return true;
      if (r.status === 'MISMATCH') return false;
      throw unexpected(r.status);
    },
    async append(event, signal) {
      const line = JSON.stringify(event);
      if (/[\n\r]/.test(line)) throw fail('a history event must be one line');
      const r = await call(APPEND, { DELIVERY_EVENT: line }, signal);
      if (r.status !== 'APPENDED') throw unexpected(r.status);
    },
    async readHistory(signal) {
      const r = await call(READ_HISTORY, {}, signal);
      if (r.status !== 'OK') throw unexpected(r.status);
      const lines = r.rest.split('\n');
      // The last element is '' after a final newline; otherwise it is a line still being written: skip it.
      lines.pop();
      return lines.map(parseHistoryEvent).filter((e): e is HistoryEvent => e !== null);
    },
  };
}

interface Ran {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Why it did not run to its end (not started, timed out, cancelled, too much output). */
  error: string | null;
}

/** Runs ssh to its end, its output in memory; the signal or the timeout kills it. */
function runCommand(cmd: ReturnType<typeof sshScriptCommand>, timeoutMs: number, signal: AbortSignal | undefined): Promise<Ran> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve({ code: null, signal: null, stdout: '', stderr: '', error: 'cancelled' });
      return;
    }
    const child = spawn(cmd.command, cmd.args, { cwd: cmd.cwd, env: { ...process.env, ...cmd.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let error: string | null = null;
    const stop = (why: string) => {
      error ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`no answer within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    const onAbort = () => stop('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_OUTPUT) stop(`the answer is larger than ${MAX_OUTPUT} bytes`);
      else out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 1000) err.push(b);
    });
    child.stdin.on('error', () => undefined); // ssh may exit before reading it all (connection refused)
    child.stdin.end(cmd.stdin ?? '');
    const done = (code: number | null, sig: string | null) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal: sig, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), error });
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code === 'ENOENT' ? 'ssh is not installed (no `ssh` on PATH)' : `could not start ssh: ${e.message}`;
      if (child.pid === undefined) done(null, null);
    });
    child.on('close', done);
  });
}

/** The last non-empty line of ssh's or the script's stderr, without control characters. */
function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1].slice(0, 500) : '';
}
