// Security issue #17, items 3 and 7: secrets are masked in every sink, and text from targets and jobs is inert in
// the terminal and the editor. Real processes, a real HTTP server on 127.0.0.1 and the real CLI.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { LocalProcessRunner, lineSplitter } from '../../src/adapters/processRunner';
import { checkVersion, excerpt } from '../../src/core/environments/status';
import { deployIndicator } from '../../src/core/environments/indicator';
import { jsonText, markdownText, notificationText, plainText, terminalText } from '../../src/core/sanitize';
import { Masker, MIN_SECRET_LINE_LENGTH } from '../../src/core/secrets';
import type { EnvironmentStatus } from '../../src/shared/model';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

/** A private key as a tool prints it: several long lines, a short one, BEGIN/END lines. */
const SSH_KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn',
  'NhAAAAAwEAAQAAAYEAzZq9k2M4xyzWqLmNoPQRsTuVwXyZaBcDeFgHiJkLmNoPqRsTuVwX',
  'Qw=',
  '-----END OPENSSH PRIVATE KEY-----',
].join('\n');
/** Echoed back by the version endpoint; two spaces in a row (an excerpt collapses them). */
const VERSION_KEY = 'vkey  with  two  spaces-4242';
/** In the health URL's query; the health endpoint echoes it. */
const HEALTH_KEY = 'hkey-secret-9191';
/** What a hostile target answers: title (OSC 0/2), clipboard (OSC 52), hidden text, cursor moves, erase, bare CR, C1 CSI, bidi. */
const ESCAPES = '\u202egnp.exe\u2066x\u2069\u001b]0;pwned title\u0007\u001b]2;t2\u001b\\\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b[8mhidden\u001b[0m\u001b[2K\u001b[1A\rup to date\u009b31m\u0007';
/** No ESC, BEL, other C0 but \t \n, DEL, C1, bidi controls, and no CR but before LF. */
const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/;

function secretPieces(): string[] {
  return [SSH_KEY, ...SSH_KEY.split('\n').filter((l) => l.length >= MIN_SECRET_LINE_LENGTH), VERSION_KEY, VERSION_KEY.replace(/\s+/g, ' '), HEALTH_KEY];
}

function assertNoSecret(where: string, text: string): void {
  for (const s of secretPieces()) assert.ok(!text.includes(s), `${where} shows the secret (or a line of it) ${JSON.stringify(s)}:\n${text.slice(0, 3000)}`);
}

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

  describe('the masker (core/secrets.ts)', () => {
    it('masks a multi-line secret whole and each of its lines (#17.3a), but not lines shorter than the minimum', () => {
      const m = new Masker([SSH_KEY]);
      const printed = `key:\n${SSH_KEY}\nthen line by line:\n${SSH_KEY.split('\n').map((l) => `> ${l}`).join('\n')}`;
      const out = m.mask(printed);
      assertNoSecret('masked output', out);
      assert.match(out, /^key:\n\*\*\*\nthen line by line:\n> \*\*\*\n> \*\*\*/);
      assert.ok(out.includes('> Qw=\n'), 'a line shorter than the minimum is not a mask on its own');
      assert.equal(new Masker(['ab']).mask('ab cd'), 'ab cd', 'values shorter than the minimum are not masked');
    });

    it('masks the whitespace-collapsed form, the JSON-escaped form, and overlapping secrets as one run (#17.3d)', () => {
      const m = new Masker([VERSION_KEY, 'abc"def\\', 'XYZ123', '123QRS']);
      assert.equal(m.mask(`a ${VERSION_KEY} b`), 'a *** b');
      assert.equal(m.mask(excerpt(`a ${VERSION_KEY} b`, 200)), 'a *** b', 'the collapsed form, as an excerpt shows it');
      assert.equal(m.mask(JSON.stringify({ v: 'abc"def\\' })), '{"v":"***"}');
      assert.equal(m.mask('..XYZ123QRS..'), '..***..', 'no piece of either overlapping secret shows');
    });

    it('a streaming masker masks secrets cut anywhere, holding back at most the longest form minus one (#17.3b)', () => {
      const m = new Masker([SSH_KEY, VERSION_KEY, HEALTH_KEY]);
      const text = `start ${SSH_KEY} mid ${VERSION_KEY}${HEALTH_KEY} hkey-secret-91 end ${VERSION_KEY.slice(0, 10)}`;
      const expected = m.mask(text);
      for (const size of [1, 2, 3, 7, 13, 64]) {
        const s = m.stream();
        let out = '';
        for (let i = 0; i < text.length; i += size) out += s.push(text.slice(i, i + size));
        out += s.end();
        assert.equal(out, expected, `pieces of ${size}`);
      }
      // Plain output is not held back at all (a prompt or a progress line shows at once); what may be the start of a
      // secret is, until the next piece or the end decides.
      assert.equal(m.stream().push('building...\n'), 'building...\n');
      const s = m.stream();
      assert.equal(s.push(`abc ${VERSION_KEY.slice(0, 10)}`), 'abc ');
      assert.equal(s.push('!'), `${VERSION_KEY.slice(0, 10)}!`);
      assert.equal(s.push(`x ${VERSION_KEY.slice(0, 9)}`), 'x ');
      assert.equal(s.end(), VERSION_KEY.slice(0, 9));
    });
  });

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

  describe('the sanitiser (core/sanitize.ts)', () => {
    it('terminalText makes C0 (not \\t \\n), DEL, C1, bare CR and bidi controls visible', () => {
      assert.equal(terminalText('a\tb\nc\r\nd'), 'a\tb\nc\r\nd');
      assert.equal(terminalText('\u001b]0;t\u0007x\ry\u007f\u009b1m\u202e\u2069'), '\\x1b]0;t\\x07x\\x0dy\\x7f\\x9b1m\\u202e\\u2069');
      assert.doesNotMatch(terminalText(ESCAPES), UNSAFE);
      assert.equal(terminalText('\u001b[31mred\u001b[8mno\u001b[38;5;200mx\n', { colours: true }), '\u001b[31mred\\x1b[8mno\u001b[38;5;200mx\u001b[0m\n');
      assert.equal(terminalText('\u001b[31mred', { colours: true }), '\u001b[31mred\u001b[0m');
    });

    it('jsonText escapes what JSON.stringify leaves raw; terminalText json mode keeps JSON valid', () => {
      const value = { s: `a\u009b\u202e\u2028\u007fb${ESCAPES}` };
      const out = jsonText(value);
      assert.doesNotMatch(out, UNSAFE);
      assert.deepEqual(JSON.parse(out), value);
      assert.deepEqual(JSON.parse(terminalText(JSON.stringify(value), { json: true })), value);
    });

    it('editor text: plain, notification and markdown forms are inert; the status-bar tooltip builder escapes target text', () => {
      assert.equal(plainText('a\u001b[2Kb\u202ec\nd', { oneLine: true }), 'a\\x1b[2Kb\\u202ec d');
      assert.equal(notificationText('see [here](command:delivery.deploy)'), 'see [here] (command:delivery.deploy)');
      assert.equal(notificationText('build: [linux] failed'), 'build: [linux] failed');
      const md = markdownText('[x](command:delivery.deploy?%5B%5D) $(zap) <img src=x onerror=alert(1)> **b** `c`\n&#x202e;');
      assert.ok(!/(^|[^\\])[[\]()<>`*$&]/.test(md), `every markdown character is escaped: ${md}`);
      const hostile = '[click](command:delivery.deploy) $(check) up to date <b>x</b>\u001b[2K';
      const status: EnvironmentStatus = {
        id: 'prod', name: 'Prod', url: null,
        deployed: { sha: null, error: hostile, raw: null, checkedAt: 0 },
        local: { sha: null, branch: null, dirty: false }, ahead: null, behind: null, health: 'down', healthDetail: hostile,
      };
      const tip = deployIndicator({ id: 'prod', name: 'Prod' }, status, null, null).tooltip;
      assert.ok(!tip.includes('[click](command:') && !tip.includes('$(check)') && !tip.includes('<b>') && !tip.includes('\u001b'), tip);
      assert.ok(tip.includes('\\[click\\]\\(command\\:delivery\\.deploy\\)'), tip);
      const v = checkVersion('abc\u001b');
      assert.ok('error' in v && v.error.includes('\u001b'), 'the core keeps data as it is: the sinks make it inert');
    });
  });
});
