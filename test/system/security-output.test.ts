// Security issue #17, items 3 and 7: secrets are masked in every sink, and text from targets and jobs is inert in
// the terminal and the editor. Real processes, a real HTTP server on 127.0.0.1 and the real CLI
// (the masker and the sanitiser alone: test/unit/security-output.test.ts).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { LocalProcessRunner, lineSplitter } from '../../src/adapters/processRunner';
import { Masker } from '../../src/core/secrets';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';
import { assertNoSecret, ESCAPES, HEALTH_KEY, SSH_KEY, UNSAFE, VERSION_KEY } from '../support/secretText';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

function cli(cwd: string, state: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, DELIVERY_STATE_DIR: state, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const SECRET_ENV = { DELIVERY_SECRET_SSHKEY: SSH_KEY, DELIVERY_SECRET_VKEY: VERSION_KEY, DELIVERY_SECRET_HKEY: HEALTH_KEY };

/** A target on 127.0.0.1: echoes the XKEY header as its version, the k query as its (failing) health, or escapes. */
async function hostileTarget(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/version') res.end(`build of ${String(req.headers['xkey'] ?? '')} at 1.0`);
    else if (u.pathname === '/health') {
      res.statusCode = 503;
      res.end(`refused key ${u.searchParams.get('k') ?? ''} for now`);
    } else if (u.pathname === '/version-esc') res.end(ESCAPES);
    else if (u.pathname === '/health-esc') {
      res.statusCode = 500;
      res.end(`down ${ESCAPES}`);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('security: secrets masked in every sink, target text inert (#17.3, #17.7)', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  describe('real processes (adapters/processRunner.ts)', () => {
    it('a secret written in two pieces with a pause between, across a line break with a short line, is masked (#17.3b)', async () => {
      // A short line ("Zq!") is below the per-line minimum: only masking the stream before it is split catches it.
      const secret = 'first-part-of-it\nZq!\nlast-part-of-it';
      const m = new Masker([secret]);
      const lines: string[] = [];
      const r = await new LocalProcessRunner().run(
        {
          command: 'bash',
          args: ['-c', 'printf "%s" "${S:0:20}"; sleep 0.3; printf "%s\\n" "${S:20}"; printf "%s\\n" "$S"'],
          env: { S: secret },
          cwd: tempDir(),
        },
        { signal: new AbortController().signal, onLine: (_s, t) => lines.push(t), masker: m },
      );
      assert.equal(r.exitCode, 0);
      assert.deepEqual(lines, ['***', '***']);
      const split: string[] = [];
      const sp = lineSplitter((t) => split.push(t), m);
      for (const piece of [Buffer.from('x first-part'), Buffer.from('-of-it\nZq'), Buffer.from('!\nlast-part-of-it y\n')]) sp.push(piece);
      sp.end();
      assert.deepEqual(split, ['x *** y']);
    });
  });

  describe('the real CLI', () => {
    let target: { url: string; close(): Promise<void> };
    let repo: string;
    let state: string;
    before(async () => {
      target = await hostileTarget();
      repo = tempDir('delivery-sec-out-');
      state = tempDir('delivery-sec-state-');
      git(repo, 'init', '-q', '-b', 'main');
      writeFiles(repo, {
        'delivery.yml': `version: 1
pipelines:
  build:
    jobs:
      leak: { run: "bash leak.sh" }
  colours:
    jobs:
      paint: { run: "bash paint.sh" }
  flood:
    jobs:
      flood: { run: "bash flood.sh" }
environments:
  echo:
    version: { http: "${target.url}/version", headers: { XKEY: "\${secret:VKEY}" }, timeout: 2s }
    health: { http: "${target.url}/health?k=\${secret:HKEY}", timeout: 1s, interval: 200ms }
    deploy:
      pipeline: build
      command: 'printf "%s\\n" "$KEY"; printf "%s" "$KEY" | while IFS= read -r l; do echo "line: $l"; done; echo'
      env: { KEY: "\${secret:SSHKEY}" }
  healthecho:
    health: { http: "${target.url}/health?k=\${secret:HKEY}", timeout: 1s, interval: 200ms }
    deploy:
      command: 'echo deployed'
  esc:
    version: { http: "${target.url}/version-esc", timeout: 2s }
    health: { http: "${target.url}/health-esc", timeout: 1s, interval: 200ms }
    deploy:
      command: 'printf "%s\\n" "ssh says: $(printf "\\033]0;owned\\007\\033[2Kok\\rover")"'
`,
        // A job printing the key in pieces, with pauses, line by line and whole.
        'leak.sh': 'k="$DELIVERY_SECRET_SSHKEY"\nprintf "%s" "${k:0:50}"; sleep 0.3; printf "%s\\n" "${k:50}"\nprintf "%s\\n" "$k" | sed "s/^/  /"\necho "v=$DELIVERY_SECRET_VKEY"\n',
        'paint.sh': 'printf "\\033[31mred\\033[0m \\033[8mhidden\\033]52;c;eA==\\007 \\033[1;32mgreen\\n"\necho "next line"\n',
        // Many lines (read in blocks when there is no secret), among them escapes, a progress bar drawn with CRs
        // and binary bytes.
        'flood.sh': `seq 1 20000\nbash paint.sh\nprintf '%s\\n' '${ESCAPES}'\nprintf 'bar 1%%\\rbar 2%%\\r\\n\\000\\001\\377 binary\\n'\nseq 20001 40000\n`,
      });
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'first');
    });
    after(async () => target?.close());

    it('delivery envs and envs --json: a secret echoed by the version and health endpoints is masked (#17.3c, #17.3d)', async () => {
      const text = await cli(repo, state, ['envs'], SECRET_ENV);
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /deployed {2}unknown: "build of \*\*\* at 1\.0" is not a commit SHA or tag/);
      assert.match(text.stdout, /health {4}down: HTTP 503 .*refused key \*\*\* for now/);
      assertNoSecret('envs stdout', text.stdout);
      assertNoSecret('envs stderr', text.stderr);
      const json = await cli(repo, state, ['envs', '--json'], SECRET_ENV);
      const echo = JSON.parse(json.stdout).environments.find((e: { id: string }) => e.id === 'echo');
      assert.match(echo.deployed.error, /\*\*\*/);
      assert.match(echo.healthDetail, /refused key \*\*\* for now/);
      assertNoSecret('envs --json stdout', json.stdout);
      assertNoSecret('envs --json stderr', json.stderr);
    });

    it('delivery deploy: the key, printed whole, line by line and in pieces, and echoed secrets are in no output, record or log (#17.3a-c)', async () => {
      const d = await cli(repo, state, ['deploy', 'echo', '--yes'], SECRET_ENV);
      assert.equal(d.code, 1, 'the version check fails: the target does not report the commit');
      assert.match(d.stdout, /line: \*\*\*/, 'the command ran and its lines were masked');
      assert.match(d.stdout, /version check failed/);
      const h = await cli(repo, state, ['deploy', 'healthecho', '--yes', '--json'], SECRET_ENV);
      assert.equal(h.code, 1);
      assert.match(JSON.parse(h.stdout).reason, /refused key \*\*\* for now/);
      for (const [where, text] of [['deploy stdout', d.stdout], ['deploy stderr', d.stderr], ['deploy --json stdout', h.stdout], ['deploy --json stderr', h.stderr]]) assertNoSecret(where, text);
      const files = filesUnder(state);
      for (const kind of ['record.json', 'deploy.log', 'run.json']) assert.ok(files.some((f) => f.endsWith(kind)), `a ${kind} was written (${files.join(', ')})`);
      assert.ok(files.some((f) => f.endsWith('.log') && !f.endsWith('deploy.log')), 'a job log was written');
      for (const f of files) assertNoSecret(f, fs.readFileSync(f, 'utf8'));
      const record = files.find((f) => f.endsWith('record.json') && /"environment":\s*"echo"/.test(fs.readFileSync(f, 'utf8')));
      assert.match(fs.readFileSync(record!, 'utf8'), /\*\*\*/, 'the record quotes the echoed answer, masked');
    });

    it('delivery envs, envs --json and deploy print what a hostile target answers inert (#17.7)', async () => {
      const text = await cli(repo, state, ['envs'], SECRET_ENV);
      assert.doesNotMatch(text.stdout + text.stderr, UNSAFE);
      assert.match(text.stdout, /\\x1b\]0;pwned title\\x07/, 'the escape is shown, readable');
      assert.match(text.stdout, /\\u202egnp\.exe/);
      const json = await cli(repo, state, ['envs', '--json'], SECRET_ENV);
      assert.doesNotMatch(json.stdout + json.stderr, UNSAFE);
      const esc = JSON.parse(json.stdout).environments.find((e: { id: string }) => e.id === 'esc');
      assert.ok(esc.deployed.error.includes('\u202e') && esc.healthDetail.includes('\u202e'), 'JSON keeps the text; only its bytes are escaped');
      const d = await cli(repo, state, ['deploy', 'esc', '--yes'], SECRET_ENV);
      assert.equal(d.code, 1);
      assert.match(d.stdout, /ssh says: \\x1b\]0;owned\\x07\\x1b\[2Kok\\x0dover/);
      assert.doesNotMatch(d.stdout + d.stderr, UNSAFE);
    });

    it('delivery run without secrets (output read in blocks): every line has its prefix, escapes and binary are shown inert, colours stay (#17.7)', async () => {
      const r = await cli(repo, state, ['run', 'flood'], { GITHUB_TOKEN: '', GH_TOKEN: '', GITLAB_TOKEN: '' });
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout.split('\n').filter((l) => l.startsWith('flood > '));
      const numbers = out.map((l) => l.slice('flood > '.length)).filter((l) => /^[0-9]+$/.test(l));
      assert.deepEqual(numbers, Array.from({ length: 40_000 }, (_, i) => String(i + 1)), 'every line once, in order, with its prefix');
      const red = out.find((l) => l.includes('red'))!;
      assert.ok(red.includes('\u001b[31mred\u001b[0m') && red.includes('\\x1b[8mhidden') && red.endsWith('\u001b[1;32mgreen\u001b[0m'), red);
      assert.ok(out.includes('flood > bar 1%\\x0dbar 2%'), 'a CR inside a line is shown; the one before the newline goes');
      assert.ok(out.includes('flood > \\x00\\x01\uFFFD binary'), 'binary bytes are shown');
      assert.equal(out.length, 40_005, 'no line without its prefix');
      assert.doesNotMatch(r.stdout.replace(/\u001b\[[0-9;]*m/g, ''), UNSAFE);
    });

    it('delivery run with its output going to files (written there directly): secrets masked, escapes inert, every line there (#17.3b, #17.7)', () => {
      const dir = tempDir('delivery-sec-files-');
      const run = (args: string[], env: Record<string, string>) => {
        const out = path.join(dir, `${args.join('-')}.out`);
        const err = path.join(dir, `${args.join('-')}.err`);
        const [o, e] = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
        const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repo, stdio: ['ignore', o, e], env: { ...process.env, DELIVERY_STATE_DIR: state, ...env } });
        fs.closeSync(o);
        fs.closeSync(e);
        return { code: r.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
      };
      const leak = run(['run', 'build'], SECRET_ENV);
      assert.equal(leak.code, 0, leak.stderr);
      assert.match(leak.stdout, /^leak > .*\*\*\*/m, `the job printed the key, masked:\n${leak.stdout}`);
      assertNoSecret('run stdout (a file)', leak.stdout);
      const json = run(['run', 'build', '--json'], SECRET_ENV);
      assert.equal(JSON.parse(json.stdout).status, 'success');
      assertNoSecret('run --json progress (a file)', json.stderr);
      const flood = run(['run', 'flood', '--json'], { GITHUB_TOKEN: '', GH_TOKEN: '', GITLAB_TOKEN: '' });
      assert.equal(JSON.parse(flood.stdout).status, 'success');
      const lines = flood.stderr.split('\n').filter((l) => /^flood > [0-9]+$/.test(l));
      assert.equal(lines.length, 40_000, 'every line, in the file');
      assert.ok(flood.stderr.includes('flood > bar 1%\\x0dbar 2%'), 'a CR inside a line is shown');
      assert.doesNotMatch(flood.stderr.replace(/\u001b\[[0-9;]*m/g, ''), UNSAFE);
    });

    it('delivery run keeps a job’s colours (safe SGR only, reset at each line end) and shows every other escape (#17.7)', async () => {
      const r = await cli(repo, state, ['run', 'colours'], SECRET_ENV);
      assert.equal(r.code, 0, r.stderr);
      const line = r.stdout.split('\n').find((l) => l.includes('red'))!;
      assert.ok(line.includes('\u001b[31mred\u001b[0m'), 'a colour stays');
      assert.ok(line.includes('\\x1b[8mhidden') && line.includes('\\x1b]52;c;eA==\\x07'), 'conceal and the clipboard are shown, not done');
      assert.ok(line.endsWith('\u001b[1;32mgreen\u001b[0m'), 'the line ends with a reset');
      // Only SGR sequences are left.
      assert.doesNotMatch(r.stdout.replace(/\u001b\[[0-9;]*m/g, ''), UNSAFE);
    });
  });
});
