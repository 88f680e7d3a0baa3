import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalProcessRunner, LONG_LINE_BYTES, lineSplitter } from '../../src/adapters/processRunner';
import { MAX_LINE_IN_MEMORY } from '../../src/core/engine/engine';
import type { LongLine } from '../../src/core/engine/ports';
import type { CommandSpec } from '../../src/core/engine/ports';
import { Masker } from '../../src/core/secrets';
import { cleanupTempDirs, isAlive, tempDir, waitFor } from '../support/tmp';

function bash(script: string, cwd: string, extra: Partial<CommandSpec> = {}): CommandSpec {
  return { command: 'bash', args: ['-c', script], env: {}, cwd, ...extra };
}

async function collect(spec: CommandSpec, signal = new AbortController().signal) {
  const lines: string[] = [];
  const result = await new LocalProcessRunner({ killGraceMs: 300 }).run(spec, { signal, onLine: (s, t) => lines.push(`${s}:${t}`) });
  return { result, lines };
}

describe('process runner (real processes)', () => {
  after(cleanupTempDirs);

  it('streams stdout and stderr line by line and returns the exit code', async () => {
    const dir = tempDir();
    const { result, lines } = await collect(bash('echo one; echo two >&2; printf "no newline"; exit 3', dir));
    assert.equal(result.exitCode, 3);
    assert.equal(result.error, null);
    assert.deepEqual(lines.sort(), ['stderr:two', 'stdout:no newline', 'stdout:one'].sort());
  });

  it('passes env and cwd, and scripts as files with {0}', async () => {
    const dir = tempDir();
    const { lines } = await collect({ command: 'bash', args: ['{0}'], env: { GREETING: 'hi there' }, cwd: dir, scriptFile: { text: 'echo "$GREETING"; pwd', extension: '.sh' } });
    assert.deepEqual(lines, ['stdout:hi there', `stdout:${fs.realpathSync(dir)}`]);
  });

  it('says clearly when a command is missing, not executable, or the cwd is missing', async () => {
    const dir = tempDir();
    assert.equal((await collect({ command: 'no-such-command-xyz', args: [], env: {}, cwd: dir })).result.error, 'command not found: no-such-command-xyz');
    const file = path.join(dir, 'script.sh');
    fs.writeFileSync(file, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    assert.equal((await collect({ command: file, args: [], env: {}, cwd: dir })).result.error, `permission denied: ${file} is not executable`);
    assert.match((await collect(bash('true', path.join(dir, 'missing')))).result.error ?? '', /working directory does not exist/);
    // The folder is looked at only when the process cannot start: a file as the folder, and a step with a script file.
    assert.equal((await collect(bash('true', file))).result.error, `working directory is not a directory: ${file}`);
    const viaFile = await collect({ command: 'bash', args: ['{0}'], env: {}, cwd: path.join(dir, 'gone'), scriptFile: { text: 'echo ran', extension: '.sh', dir } });
    assert.equal(viaFile.result.error, `working directory does not exist: ${path.join(dir, 'gone')}`);
    assert.equal(viaFile.result.exitCode, null);
    assert.ok(!viaFile.lines.some((l) => l.includes('ran')), 'nothing ran');
  });

  it('decodes UTF-8 split across chunks and replaces invalid bytes', () => {
    const out: string[] = [];
    const s = lineSplitter((t) => out.push(t));
    const euro = Buffer.from('€ok\r\n');
    s.push(euro.subarray(0, 1));
    s.push(euro.subarray(1));
    s.push(Buffer.from([0xff, 0x41, 0x0a]));
    s.end();
    assert.deepEqual(out, ['€ok', '\uFFFDA']);
  });

  it('joins a line written in many pieces once: a CR of a CRLF in another piece, empty lines, a last line without a newline', () => {
    const out: string[] = [];
    const s = lineSplitter((t) => out.push(t));
    for (let i = 0; i < 1000; i++) s.push(Buffer.from('x'.repeat(97)));
    s.push(Buffer.from('end\r'));
    s.push(Buffer.from('\n\nnext\r\nlast'));
    s.push(Buffer.from(' piece'));
    s.end();
    assert.deepEqual(out, [`${'x'.repeat(97_000)}end`, '', 'next', 'last piece']);
    const none: string[] = [];
    const empty = lineSplitter((t) => none.push(t));
    empty.push(Buffer.from(''));
    empty.end();
    assert.deepEqual(none, [], 'no output, no line');
  });

  it('splits any chunking of a stream into the lines of the whole stream decoded at once, with or without a masker', () => {
    // Multi-byte and 4-byte characters, bad bytes (a lone lead byte before a newline, 0xff), CRLF, empty lines, a
    // line of 3 MB, and no newline at the end.
    const parts: Buffer[] = [];
    const text = (t: string) => parts.push(Buffer.from(t));
    text('plain\nél€ve 😀\r\n\n');
    parts.push(Buffer.from([0x41, 0xc3, 0x0a, 0xff, 0xe2, 0x82, 0x0a, 0xf0, 0x9f, 0x98]));
    text(`\n${'é€😀x'.repeat(600_000)}\nshort\r\nend without newline é`);
    const all = Buffer.concat(parts);
    const expected = all.toString('utf8').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const masker of [undefined, new Masker(['a-secret-that-never-appears'])]) {
      for (const maxChunk of [1, 3, 4096, 65536, 200_000]) {
        const out: string[] = [];
        // A line past LONG_LINE_BYTES without a masker comes as its bytes: decoded here to compare.
        const s = lineSplitter((t, long) => out.push(long ? Buffer.concat(long.pieces).toString('utf8') : t), masker);
        let skipped = false;
        for (let at = 0; at < all.length; ) {
          const n = Math.max(1, Math.ceil(random() * maxChunk));
          s.push(all.subarray(at, at + n));
          at += n;
          if (maxChunk <= 3 && at > 2000 && !skipped) {
            // Byte by byte through the small lines and the end only; the 3 MB line in one piece (the test stays fast).
            s.push(all.subarray(at, all.length - 100));
            at = all.length - 100;
            skipped = true;
          }
        }
        s.end();
        assert.deepEqual(out, expected, `chunks up to ${maxChunk} bytes, ${masker ? 'with' : 'without'} a masker`);
      }
    }
  });

  it('with onLines, gives each chunk\'s whole lines at once: the same lines, in order, for any chunking; bytes only when they are the text', () => {
    // CRLF and a CR alone, bad bytes, a line past MAX_LINE_IN_MEMORY characters (it comes alone), empty lines, a
    // line past LONG_LINE_BYTES (as bytes), 20,000 short lines, no newline at the end.
    const parts: Buffer[] = [];
    const text = (t: string) => parts.push(Buffer.from(t));
    text('plain\nél€ve 😀\r\n\nprogress 10%\rprogress 20%\r\r\n');
    parts.push(Buffer.from([0x41, 0xc3, 0x0a, 0xff, 0x00, 0x0a]));
    text(`${'y'.repeat(MAX_LINE_IN_MEMORY + 1)}\n${'z'.repeat(MAX_LINE_IN_MEMORY)}\n`);
    for (let i = 0; i < 20_000; i++) text(`line ${i}\n`);
    text(`${'w'.repeat(LONG_LINE_BYTES + 5)}\nend without newline`);
    const all = Buffer.concat(parts);
    const expected = all.toString('utf8').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const maxChunk of [1, 7, 4096, 65536, 200_000]) {
      const out: string[] = [];
      let blocks = 0;
      let withBytes = 0;
      const s = lineSplitter(
        (t, long) => out.push(long ? Buffer.concat(long.pieces).toString('utf8') : t),
        undefined,
        (t, utf8) => {
          blocks++;
          const lines = t.split('\n');
          assert.ok(lines.every((l) => l.length <= MAX_LINE_IN_MEMORY), 'no line of a block is too long to keep');
          if (utf8) {
            assert.ok(Buffer.from(`${t}\n`).equals(utf8), 'the bytes given are the text and its newline');
            withBytes++;
          }
          out.push(...lines);
        },
      );
      for (let at = 0; at < all.length; ) {
        const n = Math.max(1, Math.ceil(random() * maxChunk));
        s.push(all.subarray(at, at + n));
        at += n;
      }
      s.end();
      assert.deepEqual(out, expected, `chunks up to ${maxChunk} bytes`);
      if (maxChunk > 1) assert.ok(blocks > 0 && withBytes > 0, `chunks up to ${maxChunk} bytes: lines came in blocks, with their bytes`);
    }
    // With secrets to mask, every line comes alone (masked on the stream, as without onLines).
    const masked: string[] = [];
    const m = lineSplitter((t) => masked.push(t), new Masker(['s3cret-value']), () => assert.fail('no block with a masker'));
    m.push(Buffer.from('one s3cr'));
    m.push(Buffer.from('et-value\ntwo\n'));
    m.end();
    assert.deepEqual(masked, ['one ***', 'two']);
  });

  it('passes a line past LONG_LINE_BYTES on as its bytes with a decoded head, never decoding it whole (unless masking)', () => {
    const got: { text: string; long?: LongLine }[] = [];
    const s = lineSplitter((text, long) => got.push({ text, long }));
    const body = `é${'x'.repeat(LONG_LINE_BYTES + 10)}`;
    for (let at = 0; at < body.length; at += 65_536) s.push(Buffer.from(body.slice(at, at + 65_536)));
    s.push(Buffer.from('\r\nshort\n'));
    s.end();
    assert.equal(got.length, 2);
    const long = got[0].long!;
    assert.ok(long, 'the long line comes as bytes');
    assert.equal(got[0].text, body.slice(0, MAX_LINE_IN_MEMORY), 'its head: the first characters, decoded');
    assert.equal(long.bytes, Buffer.byteLength(body), 'every byte but the CR of the CRLF');
    assert.equal(Buffer.concat(long.pieces).toString('utf8'), body);
    assert.equal(long.headBytes, Buffer.byteLength(got[0].text));
    assert.deepEqual(got[1], { text: 'short', long: undefined });
    const masked: string[] = [];
    const m = lineSplitter((t, l) => masked.push(l ? 'bytes' : t), new Masker(['never-there']));
    m.push(Buffer.from(`${body}\n`));
    m.end();
    assert.deepEqual(masked, [body], 'with secrets to mask, the line is text (masked whole)');
  });

  it('kills what a command leaves running when it exits, even a daemon that called setsid', async () => {
    const dir = tempDir();
    const pidFile = path.join(dir, 'daemon.pid');
    const { result } = await collect(bash(`setsid bash -c 'echo $$ > ${pidFile}; exec sleep 300' </dev/null >/dev/null 2>&1 & sleep 0.3; echo started`, dir));
    assert.equal(result.exitCode, 0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(result.leftovers >= 1, `leftovers: ${result.leftovers}`);
    await waitFor(() => !isAlive(pid), 5000, 'the daemon to die');
  });

  it('leaves servers running when the spec asks (deploys that start an app)', async () => {
    const dir = tempDir();
    const pidFile = path.join(dir, 'server.pid');
    const { result } = await collect(bash(`setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > ${pidFile}`, dir, { killLeftovers: false }));
    assert.equal(result.exitCode, 0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(isAlive(pid));
    process.kill(pid, 'SIGKILL');
  });

  it('cancel kills the whole tree, including processes that ignore SIGTERM', async () => {
    const dir = tempDir();
    const ctl = new AbortController();
    const pids = path.join(dir, 'pids');
    const run = collect(
      bash(`(trap '' TERM; echo $BASHPID >> ${pids}; sleep 300) & (setsid bash -c 'echo $$ >> ${pids}; sleep 300' &) ; echo $$ >> ${pids}; sleep 300`, dir),
      ctl.signal,
    );
    await waitFor(() => fs.existsSync(pids) && fs.readFileSync(pids, 'utf8').trim().split('\n').length >= 3, 5000, 'three processes');
    const all = fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    assert.ok(all.every(isAlive));
    const t0 = Date.now();
    ctl.abort();
    const { result } = await run;
    assert.equal(result.exitCode, null);
    await waitFor(() => all.every((p) => !isAlive(p)), 5000, 'every process of the tree to die');
    assert.ok(Date.now() - t0 < 5000);
  });

  it('does not hang when a leftover holds the output pipe', async () => {
    const dir = tempDir();
    const { result, lines } = await collect(bash('(setsid sleep 300 &) ; echo done', dir));
    assert.equal(result.exitCode, 0);
    assert.deepEqual(lines, ['stdout:done']);
  });
});
