// Issue #17: a hostile repository's files. Repository content (pipeline files, includes, local actions, reports,
// artifacts) is read only inside the repository, only from regular files, and never more than a capped size; job log
// file names are unique per job. Real git repositories with committed symlinks, real FIFOs, the real CLI.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FolderSources } from '../../src/adapters/folderSources';
import { globFiles, LocalWorkspaceFiles, readRepoText, readRepoTextSync } from '../../src/adapters/files';
import { startLocalRun } from '../../src/adapters/localRuns';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FileRunStore, newRunId } from '../../src/adapters/runStore';
import { startRun } from '../../src/core/engine/engine';
import { importWorkflow } from '../../src/core/github/importer';
import type { RunRecord } from '../../src/shared/model';
import { cleanupTempDirs, git, tempDir, testPlanIO, writeFiles } from '../support/tmp';
import { cli } from '../support/catalogueSupport';
import { requireAvailable } from '../support/requireTool';
import { planFacts, systemClock } from '../../src/adapters/clock';

const hasMkfifo = (() => {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function needMkfifo(ctx: Mocha.Context): void {
  requireAvailable(ctx, hasMkfifo, 'mkfifo (coreutils)');
}

/** A temp area holding `repo/` (a git repository with `files` and `links` committed) and `outside/`. */
function hostile(files: Record<string, string>, links: Record<string, string> = {}, outside: Record<string, string> = {}) {
  const area = tempDir('delivery-sec-files-');
  const repo = path.join(area, 'repo');
  const out = path.join(area, 'outside');
  fs.mkdirSync(repo);
  fs.mkdirSync(out);
  writeFiles(repo, files);
  writeFiles(out, outside);
  for (const [rel, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.symlinkSync(target, path.join(repo, rel));
  }
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'hostile');
  // The symlinks are in the commit, as a clone would have them.
  for (const rel of Object.keys(links)) assert.match(git(repo, 'ls-files', '-s', rel), /^120000 /, `${rel} is committed as a symlink`);
  return { area, repo, outside: out };
}

function mkfifo(p: string): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  execFileSync('mkfifo', [p]);
}

const messages = (problems: readonly { file: string; message: string }[]) => problems.map((p) => `${p.file}: ${p.message}`);

async function runPipeline(folder: string, id: string): Promise<{ run: RunRecord; logs: Record<string, string> }> {
  const snapshot = await new FolderSources(folder).loadAll();
  const pipeline = snapshot.pipelines.find((p) => p.def.id === id);
  assert.ok(pipeline, `pipeline ${id} (problems: ${JSON.stringify(messages(snapshot.problems))})`);
  const handle = await startLocalRun(pipeline, {}, { folder, store: new FileRunStore(path.join(tempDir('delivery-sec-state-'), 'state')), trigger: 'cli', parallelism: 2, noGit: true });
  if ('error' in handle) throw new Error(handle.error);
  const run = await handle.done;
  const logs: Record<string, string> = {};
  for (const j of run.jobs) if (j.logFile) logs[j.id] = fs.readFileSync(j.logFile, 'utf8');
  return { run, logs };
}

describe('security: repository files', function () {
  this.timeout(30_000);
  after(cleanupTempDirs);

  describe('reading cannot exhaust memory or hang', () => {
    it('an include that is a committed symlink to /dev/zero: listing pipelines finishes and says why it is not read', async () => {
      const { repo, area } = hostile(
        { '.gitlab-ci.yml': 'include:\n  - local: ci/zero.yml\nbuild:\n  script: echo hi\n' },
        { 'ci/zero.yml': '/dev/zero' },
      );
      // Before the fix this grew the process at ~170 MB/s: the CLI is killed if it does not finish in time.
      const r = await cli(repo, path.join(area, 'state'), ['pipelines', '--json'], { timeoutMs: 8_000 });
      assert.doesNotMatch(r.stderr, /killed by/, 'the CLI finished');
      const out = JSON.parse(r.stdout) as { problems: { file: string; message: string }[] };
      assert.ok(
        out.problems.some((p) => p.file === '.gitlab-ci.yml' && /include ci\/zero\.yml resolves outside the repository \(-> \/dev\/zero\); not read/.test(p.message)),
        JSON.stringify(out.problems),
      );
    });

    it('an include that is a FIFO (inside the repository, or a symlink to one outside) is refused without blocking', async function () {
      needMkfifo(this);
      const { repo, outside } = hostile({ '.gitlab-ci.yml': 'include:\n  - local: ci/pipe.yml\n  - local: ci/far.yml\nbuild:\n  script: echo hi\n' }, {});
      mkfifo(path.join(repo, 'ci/pipe.yml'));
      mkfifo(path.join(outside, 'fifo.yml'));
      fs.symlinkSync(path.join(outside, 'fifo.yml'), path.join(repo, 'ci/far.yml'));
      const snapshot = await Promise.race([
        new FolderSources(repo).loadAll(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('reading a FIFO blocked')), 5_000).unref()),
      ]);
      const all = messages(snapshot.problems);
      assert.ok(all.some((m) => /include ci\/pipe\.yml is not a regular file; not read/.test(m)), all.join('\n'));
      assert.ok(all.some((m) => /include ci\/far\.yml resolves outside the repository/.test(m)), all.join('\n'));
    });

    it('pipeline files that are symlinks to /dev/zero or FIFOs are reported on themselves, never read', async function () {
      needMkfifo(this);
      const { repo, area, outside } = hostile({ '.github/workflows/ok.yml': 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n' }, { 'delivery.yml': '/dev/zero' });
      mkfifo(path.join(repo, '.github/workflows/pipe.yml'));
      mkfifo(path.join(outside, 'gl.yml'));
      fs.symlinkSync(path.join(outside, 'gl.yml'), path.join(repo, '.gitlab-ci.yml'));
      const r = await cli(repo, path.join(area, 'state'), ['pipelines', '--json'], { timeoutMs: 8_000 });
      assert.doesNotMatch(r.stderr, /killed by/, 'the CLI finished');
      const out = JSON.parse(r.stdout) as { pipelines: { id: string }[]; problems: { file: string; message: string }[] };
      const all = messages(out.problems);
      assert.ok(all.some((m) => /^delivery\.yml: delivery\.yml resolves outside the repository \(-> \/dev\/zero\)/.test(m)), all.join('\n'));
      assert.ok(all.some((m) => /^\.github\/workflows\/pipe\.yml: \.github\/workflows\/pipe\.yml is not a regular file/.test(m)), all.join('\n'));
      assert.ok(all.some((m) => /^\.gitlab-ci\.yml: \.gitlab-ci\.yml resolves outside the repository/.test(m)), all.join('\n'));
      assert.deepEqual(out.pipelines.map((p) => p.id), ['ok'], 'the healthy workflow still loads');
    });

    it('a step that turns its GITHUB_ENV file into a link to /dev/zero or a FIFO cannot exhaust memory or hang the run', async function () {
      needMkfifo(this);
      const { repo, area } = hostile({
        '.github/workflows/ci.yml': [
          'on: push',
          'jobs:',
          '  zero:',
          '    runs-on: ubuntu-latest',
          '    steps:',
          '      - run: rm -f "$GITHUB_ENV" && ln -s /dev/zero "$GITHUB_ENV"',
          '      - run: echo after zero',
          '  fifo:',
          '    runs-on: ubuntu-latest',
          '    steps:',
          '      - run: rm -f "$GITHUB_OUTPUT" && mkfifo "$GITHUB_OUTPUT"',
          '      - run: echo after fifo',
          '',
        ].join('\n'),
      });
      const r = await cli(repo, path.join(area, 'state'), ['run', 'ci', '--json'], { timeoutMs: 8_000 });
      assert.doesNotMatch(r.stderr, /killed by/, 'the run finished');
      assert.match(r.stdout + r.stderr, /after zero/);
      assert.match(r.stdout + r.stderr, /after fifo/);
    });

    it('reads at most the size cap; links into /proc are refused', async () => {
      const { repo } = hostile({ 'big.yml': 'x'.repeat(2048) }, { 'ci/self.yml': '/proc/self/status' });
      await assert.rejects(readRepoText(repo, 'big.yml', 1024), /big\.yml is too large \(more than|big\.yml is too large/);
      assert.equal((await readRepoText(repo, 'big.yml', 4096))?.length, 2048);
      await assert.rejects(readRepoText(repo, 'ci/self.yml'), /resolves outside the repository \(-> \/proc\//);
    });

    it('reading in one go (a folder\'s pipeline files) answers as reading with waits does, refusals included', async () => {
      const { repo } = hostile(
        { 'a.yml': 'a: 1\n', 'big.yml': 'x'.repeat(2048), 'dir/b.yml': 'b: 2\n' },
        { 'ci/self.yml': '/proc/self/status', 'zero.yml': '/dev/zero', 'same.yml': 'a.yml', 'loop.yml': 'loop.yml', 'up.yml': '../outside.yml', 'linked': 'dir' },
      );
      mkfifo(path.join(repo, 'fifo.yml'));
      const realRoot = fs.realpathSync(repo);
      const answer = async (read: () => unknown) => {
        try {
          return { text: await read() };
        } catch (e) {
          return { refused: (e as Error).message };
        }
      };
      const names = ['a.yml', 'big.yml', 'linked/b.yml', 'ci/self.yml', 'zero.yml', 'same.yml', 'loop.yml', 'up.yml', 'fifo.yml', 'missing.yml', 'dir', '../a.yml', '/etc/passwd'];
      for (const rel of names) {
        const sync = await answer(() => readRepoTextSync(repo, rel, realRoot, 1024, 'a pipeline file')?.text ?? null);
        const waited = await answer(() => readRepoText(repo, rel, 1024, 'a pipeline file'));
        assert.deepEqual(sync, waited, rel);
      }
      assert.equal(readRepoTextSync(repo, 'same.yml', realRoot)?.text, 'a: 1\n');
      assert.equal(readRepoTextSync(repo, 'same.yml', realRoot)?.stat.ino, fs.statSync(path.join(repo, 'a.yml')).ino, 'the stat of the file read');
      assert.match(JSON.stringify(await answer(() => readRepoTextSync(repo, 'big.yml', realRoot, 1024))), /big\.yml is too large/);
    });
  });

  describe('nothing outside the repository is read or listed', () => {
    it('a symlinked include to /etc/passwd (named, or matched by a wildcard) puts none of its lines into problems', async () => {
      const { repo } = hostile(
        {
          '.gitlab-ci.yml': 'include:\n  - local: ci/passwd.yml\n  - local: "all/*.yml"\nbuild:\n  script: echo hi\n',
          'all/good.yml': 'test:\n  script: echo test\n',
        },
        { 'ci/passwd.yml': '/etc/passwd', 'all/evil.yml': '/etc/passwd' },
      );
      const snapshot = await new FolderSources(repo).loadAll();
      const all = messages(snapshot.problems);
      assert.ok(all.some((m) => m.includes('include ci/passwd.yml resolves outside the repository (-> /etc/passwd); not read')), all.join('\n'));
      assert.ok(!all.some((m) => /root:|\/bin\/(ba)?sh|nologin/.test(m)), `no line of /etc/passwd:\n${all.join('\n')}`);
      const jobs = snapshot.pipelines[0].def.jobs.map((j) => j.id).sort();
      assert.deepEqual(jobs, ['build', 'test'], 'the wildcard include read only the file inside the repository');
    });

    it('rules:exists cannot probe files outside the repository', async () => {
      const { repo } = hostile(
        { '.gitlab-ci.yml': 'build:\n  script: echo hi\nprobe:\n  script: echo found\n  rules:\n    - exists: ["../outside/marker", "/etc/passwd", "up/passwd"]\n' },
        { up: '/etc' },
        { marker: '' },
      );
      const { run } = await runPipeline(repo, 'gitlab-ci');
      const probe = run.jobs.find((j) => j.id === 'probe')!;
      assert.equal(probe.status, 'skipped', 'probe sees none of the outside files');
      assert.match(probe.reason ?? '', /no rule in rules: matches/);
    });

    it('JUnit and artifact globs with .., into symlinked folders or onto symlinked files list and read nothing outside', async () => {
      const secret = '<testsuite name="outside" tests="7" failures="0"/>';
      const { repo, outside } = hostile(
        {
          'delivery.yml': [
            'version: 1',
            'pipelines:',
            '  ci:',
            '    jobs:',
            '      build:',
            '        run: echo built',
            '        reports:',
            "          junit: ['../outside/*.xml', 'linked/*.xml', 'reports/*.xml', 'sub/../../outside/report.xml']",
            "        artifacts: ['../outside/*', '../../../../../../etc/passwd', 'linked/**', 'etc/*', 'reports/*', '/etc/hostname']",
            '',
          ].join('\n'),
          'reports/mine.xml': '<testsuite name="mine" tests="2" failures="0"/>',
        },
        {},
        { 'report.xml': secret, 'known_hosts': 'github.com ssh-ed25519 AAAA' },
      );
      fs.symlinkSync(outside, path.join(repo, 'linked'));
      fs.symlinkSync('/etc', path.join(repo, 'etc'));
      fs.symlinkSync(path.join(outside, 'report.xml'), path.join(repo, 'reports/stolen.xml'));
      const { run, logs } = await runPipeline(repo, 'ci');
      const build = run.jobs.find((j) => j.id === 'build')!;
      assert.equal(build.status, 'success');
      assert.deepEqual(build.artifacts, [path.join(repo, 'reports/mine.xml')], 'only the file inside the repository');
      assert.equal(build.tests?.total, 2, 'the outside report (7 tests) was not counted');
      const log = logs.build;
      assert.match(log, /JUnit reports: \.\.\/outside\/\*\.xml leaves the repository/);
      assert.match(log, /JUnit reports: linked resolves outside the repository/);
      assert.match(log, /JUnit reports: reports\/stolen\.xml resolves outside the repository/);
      assert.match(log, /artifacts: \/etc\/hostname is outside the repository/);
      assert.match(log, /artifacts: etc resolves outside the repository \(-> \/etc\)/);
      const record = JSON.stringify(run);
      assert.ok(!record.includes('/etc/passwd') && !record.includes(outside), 'run.json names nothing outside');
    });

    it('globbing from a job folder inside the repository may go up to the repository, never above it', async () => {
      const { repo } = hostile({ 'a/b/x.xml': '', 'top.xml': '' });
      const files = new LocalWorkspaceFiles(repo);
      const why: string[] = [];
      const got = await files.glob(path.join(repo, 'a/b'), ['../../*.xml', '../../../*', '*.xml'], (w) => why.push(w));
      assert.deepEqual(got.sort(), [path.join(repo, 'a/b/x.xml'), path.join(repo, 'top.xml')]);
      assert.equal(why.length, 1, why.join('\n'));
      assert.match(why[0], /leaves the repository/);
      assert.deepEqual(await globFiles(repo, ['../*', '/etc/*']), []);
    });

    it('`uses: ./../outside_action` and a local action symlinked outside never run', async () => {
      const canary = path.join(os.tmpdir(), `delivery-sec-canary-${process.pid}-${Date.now()}`);
      const action = `runs:\n  using: composite\n  steps:\n    - run: touch ${canary}\n      shell: bash\n`;
      const workflow = (uses: string) => `on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}\n`;
      const { repo, outside } = hostile(
        { '.github/workflows/up.yml': workflow('./../outside_action'), '.github/workflows/linked.yml': workflow('./.github/actions/linked') },
        {},
        { 'action.yml': action },
      );
      const actionDir = path.join(path.dirname(repo), 'outside_action');
      fs.renameSync(outside, actionDir);
      fs.mkdirSync(path.join(repo, '.github/actions'));
      fs.symlinkSync(actionDir, path.join(repo, '.github/actions/linked'));
      const snapshot = await new FolderSources(repo).loadAll();
      const all = messages(snapshot.problems);
      assert.ok(all.some((m) => m.startsWith('.github/workflows/up.yml:') && m.includes('"./../outside_action" is outside the repository')), all.join('\n'));
      assert.ok(all.some((m) => /^\.github\/workflows\/linked\.yml: .*action \.\/\.github\/actions\/linked: \.github\/actions\/linked\/action\.yml resolves outside the repository/.test(m)), all.join('\n'));

      // A run reads local actions again when their steps start (an earlier step may write them): plan each workflow
      // as imported without its actions, so the run itself meets the hostile paths.
      const runWorkflow = async (file: string) => {
        const text = fs.readFileSync(path.join(repo, file), 'utf8');
        const imported = await importWorkflow({ path: file, text }, { readFile: async () => null, listFiles: async () => [] });
        const plan = await imported.pipelines[0].plan({}, { ...planFacts(), folder: repo, io: testPlanIO, git: { sha: null, ref: null, branch: null } });
        if ('error' in plan) return plan;
        const handle = startRun(plan, { id: newRunId(), folder: repo, trigger: 'cli', sha: null, pid: process.pid }, {
          runner: new LocalProcessRunner({ killGraceMs: 300 }), clock: systemClock,
          ports: { io: testPlanIO },
          store: new FileRunStore(path.join(tempDir('delivery-sec-state-'), 'state')),
          parallelism: 1,
        });
        return handle.done;
      };
      const up = await runWorkflow('.github/workflows/up.yml');
      assert.ok(!fs.existsSync(canary), 'the action above the repository did not run');
      assert.ok('error' in up, 'the workflow does not start');
      const linked = await runWorkflow('.github/workflows/linked.yml');
      assert.ok(!fs.existsSync(canary), 'the action symlinked out of the repository did not run');
      assert.ok(!('error' in linked));
      const [job] = linked.jobs;
      assert.equal(job.status, 'failed');
      assert.match(job.steps[0].reason ?? job.reason ?? '', /action \.\/\.github\/actions\/linked: \.github\/actions\/linked\/action\.yml resolves outside the repository/);
    });
  });

  describe('log files', () => {
    it('jobs named a/b and a:b, and two long names sharing a 250-character prefix, each get their own log', async () => {
      const prefix = 'p'.repeat(250);
      const long1 = `${prefix}${'1'.repeat(50)}`;
      const long2 = `${prefix}${'2'.repeat(50)}`;
      const names = ['a/b', 'a:b', long1, long2];
      const yaml = names.map((n) => `${JSON.stringify(n)}:\n  script: echo "output of ${n.length > 20 ? n.slice(-3) : n}"\n`).join('');
      const { repo } = hostile({ '.gitlab-ci.yml': yaml });
      const { run, logs } = await runPipeline(repo, 'gitlab-ci');
      assert.deepEqual(run.jobs.map((j) => j.id).sort(), [...names].sort());
      const files = run.jobs.map((j) => j.logFile!);
      assert.equal(new Set(files).size, names.length, `distinct log files: ${files.join('\n')}`);
      for (const j of run.jobs) {
        const tag = j.id.length > 20 ? j.id.slice(-3) : j.id;
        const lines = logs[j.id].split('\n').filter((l) => l.startsWith('output of '));
        assert.deepEqual(lines, [`output of ${tag}`], `${j.id.slice(0, 20)}… log holds only its own output`);
        assert.equal(path.dirname(path.dirname(j.logFile!)), path.dirname(path.dirname(files[0])), 'every log is in the run folder');
        assert.ok(path.basename(j.logFile!).length < 120, 'a short file name');
      }
    });
  });
});
