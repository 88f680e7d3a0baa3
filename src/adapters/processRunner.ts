// Runs commands as real processes and streams their output line by line.
//
// Process trees: every command starts in its own process group and carries a unique marker in its environment
// (DELIVERY_PROCESS_MARKS, inherited by everything it starts). Cancelling kills the group and every process that
// still carries the marker — which also finds daemons that called setsid() to leave the group, the way Jenkins'
// ProcessTreeKiller finds a build's processes by an environment cookie. After a command exits, what it left
// running is killed too (unless the spec says the command starts long-lived servers on purpose).
import { isUtf8 } from 'node:buffer';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { CommandSpec, LongLine, ProcessIO, ProcessResult, ProcessRunner } from '../core/engine/ports';
import { MAX_LINE_IN_MEMORY } from '../core/engine/engine';
import type { Masker } from '../core/secrets';
import { randomHex } from './random';

export const MARK_VARIABLE = 'DELIVERY_PROCESS_MARKS';
/** After SIGTERM, how long a process tree gets before SIGKILL. */
const KILL_GRACE_MS = 2000;
/** After the main process exits, how long its output pipes may stay open (a leftover holding them). */
const PIPE_GRACE_MS = 200;
/** …but never longer than this after it exits (a leftover that keeps writing). */
const PIPE_MAX_WAIT_MS = 2000;
/** An unfinished line's pieces are joined (or decoded) every this many characters (or bytes); see lineSplitter. */
const PENDING_GROUP_CHARS = 1 << 20;

export interface ProcessRunnerOptions {
  /** Base environment (default: this process's environment). */
  baseEnv?: NodeJS.ProcessEnv;
  killGraceMs?: number;
  /**
   * A mark (orphanMark()) added to every process of commands whose leftovers are killed, so that if this process
   * dies without cleaning up (SIGKILL), the next one that finds the run interrupted can kill them (killMarked).
   */
  ownerMark?: string;
  /** Secrets to mask in every command's output when the caller gives none (io.masker). */
  masker?: Masker;
  /**
   * Leave what a command started in the background running when it exits (a job session kills it when the job
   * ends, by a mark in `baseEnv`); a cancel still kills the command's whole tree.
   */
  keepLeftovers?: boolean;
  /** Called when a command's process has started: its PID, and the time taken just before it was started. */
  onSpawn?: (pid: number, startedAt: number) => void;
}

/** The mark of a run's or deploy's processes; derived from its id, so a later process can find them. */
export function orphanMark(kind: 'run' | 'deploy', id: string): string {
  return `dlv${kind}-${id.replace(/[^A-Za-z0-9-]/g, '')}`;
}

/** SIGKILLs every live process carrying `mark` (processes an engine that died left behind). Returns how many. */
export function killMarked(mark: string): number {
  let count = 0;
  for (const p of processesWithMark(mark)) {
    try {
      process.kill(p, 'SIGKILL');
      count++;
    } catch {
      // Exited meanwhile.
    }
  }
  return count;
}

/**
 * SIGKILLs the live processes carrying `mark` that started after `since` (a PID and when it was handed out); only
 * the PIDs handed out since are read when the counter has not gone round. Returns how many.
 */
export function killMarkedSince(mark: string, since: { pid: number; startedAt: number }): number {
  const signalled = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const found = processesWithMark(mark, since.pid > 0 ? since : undefined).filter((p) => !signalled.has(p));
    if (found.length === 0) break;
    for (const p of found) {
      try {
        process.kill(p, 'SIGKILL');
        signalled.add(p);
      } catch {
        // Exited meanwhile.
      }
    }
  }
  return signalled.size;
}

export class LocalProcessRunner implements ProcessRunner {
  constructor(private readonly options: ProcessRunnerOptions = {}) {}

  async run(
    spec: CommandSpec,
    io: ProcessIO,
  ): Promise<ProcessResult> {
    if (io.signal.aborted) return { exitCode: null, signal: null, error: 'cancelled before it started', leftovers: 0 };
    // The working directory is checked when the process cannot start (spawn says ENOENT for it too): one file call
    // less for every step.
    const mark = `dlv${randomHex(9)}`;
    const base = this.options.baseEnv ?? process.env;
    const env: NodeJS.ProcessEnv = spec.cleanEnv ? { PATH: base.PATH, HOME: base.HOME, ...spec.env } : { ...base, ...spec.env };
    env[MARK_VARIABLE] = base[MARK_VARIABLE] ? `${base[MARK_VARIABLE]}:${mark}` : mark;
    if (this.options.ownerMark && spec.killLeftovers !== false) env[MARK_VARIABLE] += `:${this.options.ownerMark}`;
    let scriptDir: string | null = null;
    let args = spec.args;
    if (spec.scriptFile) {
      const given = spec.scriptFile.dir;
      // In the folder given (no folder of its own to make and remove for each step), under a name no one can guess.
      if (!given) scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-step-'));
      const file = given ? path.join(given, `${randomHex(12)}${spec.scriptFile.extension}`) : path.join(scriptDir!, `step${spec.scriptFile.extension}`);
      fs.writeFileSync(file, spec.scriptFile.text, { mode: 0o700, flag: 'wx' });
      args = args.map((a) => a.split('{0}').join(file));
    }
    try {
      return await this.spawnAndWait(spec, args, env, mark, io);
    } finally {
      if (scriptDir) fs.rmSync(scriptDir, { recursive: true, force: true });
    }
  }

  private spawnAndWait(
    spec: CommandSpec,
    args: string[],
    env: NodeJS.ProcessEnv,
    mark: string,
    io: ProcessIO,
  ): Promise<ProcessResult> {
    return new Promise((resolve) => {
      let child;
      const spawnedAt = Date.now();
      try {
        child = spawn(spec.command, args, { cwd: spec.cwd, env, detached: true, stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      } catch (e) {
        resolve({ exitCode: null, signal: null, error: cwdProblem(spec.cwd) ?? describeSpawnError(spec.command, e as NodeJS.ErrnoException), leftovers: 0 });
        return;
      }
      const pid = child.pid;
      const startedAt = spawnedAt;
      if (pid !== undefined) this.options.onSpawn?.(pid, spawnedAt);
      const stdout = child.stdout!;
      const stderr = child.stderr!;
      if (spec.stdin !== undefined && child.stdin) {
        child.stdin.on('error', () => undefined); // the command may exit without reading it all
        child.stdin.end(spec.stdin);
      }
      let spawnError: string | null = null;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      let open = 2;
      let settled = false;
      const masker = io.masker ?? this.options.masker;
      const onLines = io.onLines;
      const splitters = {
        stdout: lineSplitter((t, long) => io.onLine('stdout', t, long), masker, onLines && ((t, utf8) => onLines('stdout', t, utf8))),
        stderr: lineSplitter((t, long) => io.onLine('stderr', t, long), masker, onLines && ((t, utf8) => onLines('stderr', t, utf8))),
      };
      let lastData = Date.now();
      stdout.on('data', (b: Buffer) => {
        lastData = Date.now();
        splitters.stdout.push(b);
      });
      stderr.on('data', (b: Buffer) => {
        lastData = Date.now();
        splitters.stderr.push(b);
      });
      const onClose = () => {
        open--;
        maybeDone();
      };
      stdout.on('close', onClose);
      stderr.on('close', onClose);

      let killTimer: ReturnType<typeof setTimeout> | null = null;
      const onAbort = () => {
        if (pid === undefined) return;
        killTree(pid, mark, 'SIGTERM');
        killTimer = setTimeout(() => killTree(pid, mark, 'SIGKILL'), this.options.killGraceMs ?? KILL_GRACE_MS);
      };
      io.signal.addEventListener('abort', onAbort, { once: true });

      let pipeTimer: ReturnType<typeof setTimeout> | null = null;
      let leftovers = 0;
      let detached = false;
      child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = (pid === undefined ? cwdProblem(spec.cwd) : null) ?? describeSpawnError(spec.command, e);
        if (pid === undefined) {
          exit = { code: null, signal: null };
          open = 0;
          maybeDone();
        }
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        if (pid !== undefined && spec.killLeftovers !== false && !this.options.keepLeftovers) leftovers = killTree(pid, mark, 'SIGKILL', startedAt);
        // A process the command left behind may hold the pipes open; do not wait for it forever. The pipes are let go
        // only after PIPE_GRACE_MS without output (at most PIPE_MAX_WAIT_MS after the exit), and only after a turn of
        // the event loop's I/O phase: on a busy machine the timer can fire before output already in the pipe was read.
        const exitedAt = Date.now();
        const letGo = (ms: number) => {
          pipeTimer = setTimeout(
            () =>
              setImmediate(() => {
                if (settled) return;
                const quiet = Date.now() - lastData;
                if (quiet < PIPE_GRACE_MS && Date.now() - exitedAt < PIPE_MAX_WAIT_MS) return letGo(PIPE_GRACE_MS - quiet);
                if (this.options.keepLeftovers) {
                  // What the step left running still writes: keep reading its output (into the job's log) until it
                  // ends or the job kills it — closing the pipes would kill a server on its next log line (SIGPIPE).
                  detached = true;
                  const onEnd = () => {
                    if (stdout.closed && stderr.closed) {
                      splitters.stdout.end();
                      splitters.stderr.end();
                    }
                  };
                  stdout.on('close', onEnd);
                  stderr.on('close', onEnd);
                } else {
                  stdout.destroy();
                  stderr.destroy();
                }
                open = 0;
                maybeDone();
              }),
            ms,
          );
        };
        letGo(PIPE_GRACE_MS);
        maybeDone();
      });

      const maybeDone = () => {
        if (settled || exit === null || open > 0) return;
        settled = true;
        if (pipeTimer) clearTimeout(pipeTimer);
        if (killTimer && !io.signal.aborted) clearTimeout(killTimer);
        io.signal.removeEventListener('abort', onAbort);
        if (!detached) {
          splitters.stdout.end();
          splitters.stderr.end();
        }
        if (io.signal.aborted && pid !== undefined) {
          // Make sure nothing of the tree survives a cancel, even what ignored SIGTERM.
          killTree(pid, mark, 'SIGKILL');
          if (killTimer) clearTimeout(killTimer);
        }
        resolve({ exitCode: exit.code, signal: exit.signal, error: spawnError, leftovers });
      };
    });
  }
}

/** Why a command cannot start in `cwd`, if `cwd` is the reason. */
function cwdProblem(cwd: string): string | null {
  try {
    return fs.statSync(cwd).isDirectory() ? null : `working directory is not a directory: ${cwd}`;
  } catch {
    return `working directory does not exist: ${cwd}`;
  }
}

function describeSpawnError(command: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return `command not found: ${command}`;
    case 'EACCES':
      return `permission denied: ${command} is not executable`;
    case 'E2BIG':
      return `the command line or environment of ${command} is too long`;
    default:
      return `could not start ${command}: ${e.message}`;
  }
}

/**
 * Splits a byte stream into lines (\n or \r\n), decoding UTF-8 across chunk boundaries; bad bytes become U+FFFD.
 * With a masker, secrets are masked on the decoded stream before it is split or cut (a secret written in two
 * pieces, or a multi-line key, is masked whole); the masker holds back only what may be the start of a secret.
 * Without one, a line longer than LONG_LINE_BYTES comes as its bytes (`long`), with `text` its head; and with
 * `onLines`, the whole lines of each chunk come in blocks (ProcessIO.onLines), except lines that have to come alone
 * (one started in an earlier chunk, one longer than MAX_LINE_IN_MEMORY characters).
 */
export function lineSplitter(
  onLine: (text: string, long?: LongLine) => void,
  masker?: Masker,
  onLines?: (text: string, utf8?: Uint8Array) => void,
): { push(b: Buffer): void; end(): void } {
  const masking = masker && !masker.empty ? masker.stream() : null;
  const line = (s: string) => onLine(s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s);
  return masking ? maskedSplitter(line, masking) : byteSplitter(line, onLine, onLines);
}

/** Whether some line of `text` (lines joined by \n) is longer than `max` characters; a look every `max` characters. */
function hasLineLongerThan(text: string, max: number): boolean {
  let start = 0; // where the current line starts
  while (text.length - start > max) {
    const nl = text.lastIndexOf('\n', start + max);
    if (nl < start) return true;
    start = nl + 1;
  }
  return false;
}

/** Whole lines are passed on (ProcessIO.onLines) in blocks of about this many bytes. */
const BLOCK_BYTES = 16 * 1024;

/** Lines longer than this (in bytes) are passed on as bytes (LongLine), never decoded whole. */
export const LONG_LINE_BYTES = 1 << 20;

/**
 * Without secrets to mask, lines are found in the bytes (a newline byte is never part of a UTF-8 character) and
 * each chunk's whole lines are decoded at once. The unfinished line stays bytes — outside the heap, where the GC
 * never copies them. When it ends it is decoded whole if it is short; past LONG_LINE_BYTES only its head is
 * decoded and its bytes go on as they came (a 40 MB line costs neither a decoding nor a copy of itself). Decoding
 * line by line gives what decoding the whole stream would (bad bytes included).
 */
function byteSplitter(
  line: (s: string) => void,
  onLong: (head: string, long: LongLine) => void,
  onLines?: (text: string, utf8?: Uint8Array) => void,
): { push(b: Buffer): void; end(): void } {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** The lines of b[start, end), `end` the newline of the last. */
  const lines = (b: Buffer, start: number, end: number) => {
    const text = b.toString('utf8', start, end);
    if (onLines && !hasLineLongerThan(text, MAX_LINE_IN_MEMORY)) {
      // At once. A CR before a newline goes as it does line by line (one each); without one, valid UTF-8 is what
      // the log gets as it is.
      const cr = b.indexOf(13, start);
      if (cr >= 0 && cr < end) onLines(`${text}\n`.replaceAll('\r\n', '\n').slice(0, -1));
      else {
        const bytes = b.subarray(start, end + 1);
        onLines(text, isUtf8(bytes) ? bytes : undefined);
      }
      return;
    }
    let from = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', from)) >= 0) {
      line(text.slice(from, nl));
      from = nl + 1;
    }
    line(from === 0 ? text : text.slice(from));
  };
  const flushPending = (upTo: Buffer) => {
    if (upTo.length > 0) pending.push(upTo);
    const pieces = pending;
    const total = pendingBytes + upTo.length;
    pending = [];
    pendingBytes = 0;
    if (total <= LONG_LINE_BYTES) {
      line((pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, total)).toString('utf8'));
      return;
    }
    // Drop the CR of a CRLF (it may be the only byte of the last piece).
    let bytes = total;
    let last = pieces[pieces.length - 1];
    if (last[last.length - 1] === 13) {
      last = last.subarray(0, last.length - 1);
      bytes--;
      if (last.length === 0) pieces.pop();
      else pieces[pieces.length - 1] = last;
    }
    // The head: the first MAX_LINE_IN_MEMORY characters (at most 4 bytes each), never half of a character.
    const headSource: Buffer[] = [];
    let have = 0;
    for (const p of pieces) {
      if (have >= MAX_LINE_IN_MEMORY * 4) break;
      headSource.push(p);
      have += p.length;
    }
    const decoder = new StringDecoder('utf8');
    let head = decoder.write(Buffer.concat(headSource).subarray(0, MAX_LINE_IN_MEMORY * 4));
    if (head.length > MAX_LINE_IN_MEMORY) {
      let end = MAX_LINE_IN_MEMORY;
      const c = head.charCodeAt(end - 1);
      if (c >= 0xd800 && c <= 0xdbff) end--;
      head = head.slice(0, end);
    }
    onLong(head, { head, pieces, bytes, headBytes: Buffer.byteLength(head) });
  };
  return {
    push(b: Buffer) {
      const last = b.lastIndexOf(10);
      if (last < 0) {
        if (b.length > 0) {
          pending.push(b);
          pendingBytes += b.length;
        }
        return;
      }
      let start = 0;
      if (pending.length > 0) {
        const nl = b.indexOf(10);
        flushPending(b.subarray(0, nl));
        start = nl + 1;
      }
      // Whole lines, in blocks of about BLOCK_BYTES: a block's text is garbage once it is passed on, so what a
      // collection of the young generation finds alive (and copies) stays small even when a chunk is 64 KB.
      while (start <= last) {
        const end = onLines && last - start > BLOCK_BYTES ? b.indexOf(10, start + BLOCK_BYTES) : last;
        lines(b, start, end);
        start = end + 1;
      }
      if (last + 1 < b.length) {
        pending.push(b.subarray(last + 1));
        pendingBytes += b.length - last - 1;
      }
    },
    end() {
      if (pending.length > 0) flushPending(Buffer.alloc(0));
    },
  };
}

/** With a masker: secrets are masked on the decoded stream, so lines are split after decoding and masking. */
function maskedSplitter(line: (s: string) => void, masking: ReturnType<Masker['stream']>): { push(b: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  // The start of a line not ended yet, in pieces: a line of any length costs its length once (a line of 40 MB
  // written in 64 KB pieces is joined once, never rescanned or copied per piece). Pieces are small strings, which
  // the young-generation GC copies each time it runs while they wait: every 1 M characters they are joined into
  // one string large enough to live where the GC does not move it (a 40 MB line spent 0.5 s in such copies).
  let pending: string[] = [];
  let loose = 0; // pieces at the end of `pending` not joined yet
  let looseChars = 0;
  const take = (text: string) => {
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      if (pending.length > 0) {
        pending.push(text.slice(start, nl));
        const whole = pending.join('');
        pending = [];
        loose = looseChars = 0;
        line(whole);
      } else line(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) {
      const rest = start === 0 ? text : text.slice(start);
      pending.push(rest);
      loose++;
      looseChars += rest.length;
      if (looseChars >= PENDING_GROUP_CHARS && loose > 1) {
        pending.push(pending.splice(pending.length - loose).join(''));
        loose = looseChars = 0;
      }
    }
  };
  return {
    push(b: Buffer) {
      take(masking.push(decoder.write(b)));
    },
    end() {
      take(masking.push(decoder.end()) + masking.end());
      if (pending.length > 0) {
        const last = pending.join('');
        pending = [];
        loose = looseChars = 0;
        if (last.length > 0) line(last);
      }
    },
  };
}

/**
 * Signals the process group `pid` and every live process whose environment carries `mark`.
 * Returns how many processes were signalled (the group leader excluded).
 */
export function killTree(pid: number, mark: string, signal: NodeJS.Signals, startedAt?: number): number {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone (or was never created).
  }
  // A process may fork between the scan of /proc and its kill (setsid, double forks): look again until a scan
  // finds nothing new.
  const signalled = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const found = processesWithMark(mark, startedAt === undefined ? undefined : { pid, startedAt }).filter((p) => p !== pid && !signalled.has(p));
    if (found.length === 0) break;
    for (const p of found) {
      try {
        process.kill(p, signal);
        signalled.add(p);
      } catch {
        // Exited meanwhile.
      }
    }
  }
  return signalled.size;
}

/**
 * PIDs of live (non-zombie) processes whose environment contains `mark`. Linux only; elsewhere empty.
 * `root`: the command the mark was given to and when it started. Everything it started has a larger PID, unless
 * the kernel's PID counter went round since — impossible in less time than creating pid_max processes takes —
 * so only larger PIDs are read then. Reading every process's environment costs ~15 µs a process, milliseconds
 * per job on a busy machine, which was most of the engine's own cost per job.
 */
export function processesWithMark(mark: string, root?: { pid: number; startedAt: number }): number[] {
  const range = root ? newPids(root) : null;
  let entries: string[];
  try {
    entries = range ?? fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const needle = Buffer.from(mark);
  const out: number[] = [];
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    // Most PIDs of a range are processes that have ended: one look, without the cost of a thrown error.
    if (range && !fs.existsSync(`/proc/${e}`)) continue;
    try {
      const env = environOf(e);
      if (env.indexOf(needle) < 0) continue;
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') out.push(pid);
    } catch {
      // Exited, or not ours to read.
    }
  }
  return out;
}

/** Faster than any machine creates processes (forks a second), to bound how soon the PID counter can go round. */
const MAX_FORKS_PER_SECOND = 100_000;
let pidMax: number | null = null;

/**
 * The PID the kernel handed out last. The file is kept open and read again from its start (a fresh value each
 * time): about 1 µs, where opening it costs 20–90 µs, and it is read after every job.
 */
let lastPidFd: number | null = null;
const lastPidBuf = Buffer.alloc(24);
function lastPid(): number {
  lastPidFd ??= fs.openSync('/proc/sys/kernel/ns_last_pid', 'r');
  const n = fs.readSync(lastPidFd, lastPidBuf, 0, lastPidBuf.length, 0);
  return Number(lastPidBuf.toString('latin1', 0, n));
}

/**
 * The PIDs handed out since `root` started (as /proc entry names), or null when the PID counter may have wrapped
 * since: then every process has to be read.
 */
function newPids(root: { pid: number; startedAt: number }): string[] | null {
  try {
    pidMax ??= Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'latin1'));
    const last = lastPid();
    const wrapTimeMs = (pidMax / MAX_FORKS_PER_SECOND) * 1000;
    if (!(last >= root.pid && Date.now() - root.startedAt < wrapTimeMs)) return null;
    const out: string[] = [];
    for (let p = root.pid + 1; p <= last; p++) out.push(String(p));
    return out;
  } catch {
    return null;
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * A process's environment. One in the middle of execve() shows none for a moment (a daemon a job is starting, seen
 * just then, would escape the kill): look again, briefly, unless it is a zombie or a kernel thread, which never have one.
 */
function environOf(pid: string): Buffer {
  let env = fs.readFileSync(`/proc/${pid}/environ`);
  for (let i = 0; env.length === 0 && i < 10 && betweenPrograms(pid); i++) {
    Atomics.wait(PAUSE, 0, 0, 1);
    env = fs.readFileSync(`/proc/${pid}/environ`);
  }
  return env;
}

function betweenPrograms(pid: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[0] !== 'Z' && f[0] !== 'X' && (Number(f[6]) & 0x200000) === 0; // 0x200000: PF_KTHREAD
  } catch {
    return false;
  }
}
