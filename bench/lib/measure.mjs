// Measuring one run of a command in a fresh process: wall time (spawn to exit, from this process), peak RSS
// (/usr/bin/time's maximum resident set size when installed, else VmHWM polled from /proc), exit status and,
// for runners that report their own numbers, their JSON on stdout. And the statistics over runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TIME_BIN = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * @param {{cmd: string, args?: string[], cwd?: string, env?: NodeJS.ProcessEnv, json?: boolean,
 *          stdout?: string, stderr?: string, timeoutMs?: number}} c
 *   stdout/stderr: a file to write that stream to (default: discarded); json: parse stdout as JSON.
 * @returns {Promise<{wallMs: number, rssKb: number|null, code: number|null, json: any}>}
 */
export async function runOnce(c) {
  const rssFile = TIME_BIN ? path.join(os.tmpdir(), `bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`) : null;
  const [cmd, args] = TIME_BIN ? [TIME_BIN, ['-f', '%M', '-o', rssFile, c.cmd, ...(c.args ?? [])]] : [c.cmd, c.args ?? []];
  const out = c.json ? 'pipe' : c.stdout ? fs.openSync(c.stdout, 'w') : 'ignore';
  const err = c.stderr ? fs.openSync(c.stderr, 'w') : 'pipe';
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { cwd: c.cwd, env: c.env ?? process.env, stdio: ['ignore', out, err] });
  let hwm = 0;
  let poll = null;
  if (!TIME_BIN) {
    const read = () => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch { /* exited */ }
    };
    poll = setInterval(read, 5);
  }
  const chunks = [];
  const errChunks = [];
  child.stdout?.on('data', (b) => chunks.push(b));
  child.stderr?.on('data', (b) => { if (errChunks.length < 64) errChunks.push(b); });
  const timer = c.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), c.timeoutMs) : null;
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (timer) clearTimeout(timer);
  if (poll) clearInterval(poll);
  // The pipes may deliver their last bytes after 'exit'.
  await new Promise((r) => (child.stdout && !child.stdout.readableEnded ? child.stdout.once('close', r) : r()));
  for (const fd of [out, err]) if (typeof fd === 'number') fs.closeSync(fd);
  let rssKb = hwm || null;
  if (rssFile) {
    try {
      const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n');
      rssKb = Number(lines.at(-1)) || null; // time(1) puts "Command exited with non-zero status" first
    } catch { /* no file: the command could not start */ }
    fs.rmSync(rssFile, { force: true });
  }
  const stderrText = Buffer.concat(errChunks).toString('utf8');
  if (code !== 0 && !c.allowFailure) {
    throw new Error(`${c.cmd} ${(c.args ?? []).join(' ').slice(0, 200)} exited with ${code}\n${stderrText.slice(-2000)}`);
  }
  let json = null;
  if (c.json) {
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      json = JSON.parse(text.trim().split('\n').at(-1));
    } catch {
      throw new Error(`${c.cmd}: expected JSON on stdout, got ${JSON.stringify(text.slice(0, 300))}\n${stderrText.slice(-1000)}`);
    }
  }
  return { wallMs, rssKb, code, json };
}

/** Median, min, max, quartiles of a list of numbers. */
export function stats(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN, q1: NaN, q3: NaN };
  const q = (p) => {
    const i = (v.length - 1) * p;
    const lo = Math.floor(i);
    return v[lo] + (v[Math.ceil(i)] - v[lo]) * (i - lo);
  };
  return { n: v.length, median: q(0.5), min: v[0], max: v.at(-1), q1: q(0.25), q3: q(0.75) };
}
