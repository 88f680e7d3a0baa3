// The act conformance cases that need containers, run for real against a private Docker engine started by the test:
// a job container (`fail`), a service container with a health command (`services`) and jobs in containers with the
// `sh` shell (`shells/sh`), each with the outcome act's own tests expect (../shared/conformance/act/<case>/expected.json).
// Docker Hub is unreachable here: the images the cases name (node:24-bookworm-slim, node:16/12-buster-slim,
// alpine:latest, postgres:12) are LOCAL STAND-INS built from busybox-static — enough for what these cases run
// (sh, echo, grep; a `pg_isready` that answers ready) — and act's "container" mode is `--platform
// ubuntu-latest=node:24-bookworm-slim`, as its tests map it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BASE_IMAGE, dockerUnavailable, startDockerd, type Dockerd } from '../support/targets/docker';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, tempDir } from '../support/tmp';
import { cli } from '../support/catalogueSupport';

const SUITE = path.resolve(__dirname, '../../../../shared/conformance/act');
const STAND_INS = ['node:16-buster-slim', 'node:12-buster-slim', 'alpine:latest'];

interface ActTest {
  name: string;
  workflows: string;
  event: string;
  mode: string;
  platforms?: Record<string, string>;
  shouldFail: boolean;
  jobs?: Record<string, string>;
}

type RunJson = { status: string; jobs: Record<string, { status: string; reason: string | null }> };

describe('conformance: act cases that need containers (private dockerd, stand-in images)', function () {
  this.timeout(180_000);
  let d: Dockerd | undefined;
  let env: Record<string, string> = {};
  before(async function () {
    requireTool(this, dockerUnavailable() ?? (fs.existsSync(SUITE) ? null : `the shared conformance fixtures are not at ${SUITE}`));
    d = await startDockerd(path.join(tempDir('dockerd-'), 'd'));
    env = { ...d.env(), DELIVERY_CONTAINER_ENGINE: 'docker' };
    d.baseImage();
    for (const name of STAND_INS) d.docker(['tag', BASE_IMAGE, name]);
    const ctx = path.join(d.dir, 'stand-ins');
    fs.mkdirSync(ctx, { recursive: true });
    // node:24-bookworm-slim has bash, which jobs on the runner use by default: the stand-in's `bash` is busybox sh
    // behind a wrapper that drops bash's long options (--noprofile --norc).
    fs.writeFileSync(
      path.join(ctx, 'Node'),
      `FROM ${BASE_IMAGE}\nLABEL stand-in="node:24-bookworm-slim for tests: busybox, bash = sh"\n` +
        `RUN printf '#!/bin/sh\\nwhile [ "\${1#--}" != "\$1" ]; do shift; done\\nexec /bin/sh "\$@"\\n' > /bin/bash && chmod +x /bin/bash\n`,
    );
    d.docker(['build', '-q', '-f', path.join(ctx, 'Node'), '--network', 'host', '-t', 'node:24-bookworm-slim', ctx]);
    fs.writeFileSync(
      path.join(ctx, 'Postgres'),
      `FROM ${BASE_IMAGE}\nLABEL stand-in="postgres:12 for tests: busybox with a pg_isready that answers ready"\n` +
        `RUN printf '#!/bin/sh\\necho "accepting connections"\\n' > /bin/pg_isready && chmod +x /bin/pg_isready\nCMD ["sleep", "3600"]\n`,
    );
    d.docker(['build', '-q', '-f', path.join(ctx, 'Postgres'), '--network', 'host', '-t', 'postgres:12', ctx]);
  });
  after(async () => {
    await d?.stop();
    cleanupTempDirs();
  });

  /**
   * The case's folder as a repository of its own, its workflows where GitHub reads them; act's test data beside
   * them, as act's tests run from it (local actions such as ./actions/docker-local).
   */
  const caseRepo = (caseName: string, workflows: string): string => {
    const dir = tempDir(`act-${caseName.replace(/\W/g, '-')}-`);
    const from = path.join(SUITE, workflows);
    fs.cpSync(SUITE, dir, { recursive: true });
    // Only the case's workflows are in .github/workflows (act's test data keeps others there).
    fs.rmSync(path.join(dir, '.github', 'workflows'), { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, '.github', 'workflows'), { recursive: true });
    for (const f of fs.readdirSync(from).filter((x) => /\.ya?ml$/.test(x))) fs.copyFileSync(path.join(from, f), path.join(dir, '.github', 'workflows', f));
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'case');
    return dir;
  };

  const cases: { caseName: string; test: string }[] = [
    { caseName: 'fail', test: 'container run, push event' },
    { caseName: 'fail', test: 'host run, push event' },
    { caseName: 'services', test: 'container run, push event' },
    { caseName: 'shells', test: 'container run of sh, push event' },
  ];
  it('local-action-dockerfile: container run, push event — its Dockerfile actions run; a folder without action.yml fails, as on GitHub', async () => {
    const dir = caseRepo('local-action-dockerfile', 'local-action-dockerfile');
    const r = await cli(dir, tempDir('state-'), ['run', 'push', '--event', 'push', '--platform', 'ubuntu-latest=node:24-bookworm-slim', '--json'], { env, timeoutMs: 150_000 });
    if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
    // Both Dockerfile actions ran (built here FROM the node:16-buster-slim stand-in): their GITHUB_ENV and outputs
    // passed the checks of the steps after them. act also runs ./localdockerimagetest_, a folder with a Dockerfile
    // and no action.yml; GitHub refuses such a step ("Can't find 'action.yml'"), and so do we.
    assert.ok(r.stderr.includes('Hello Mona the Octocat'), r.stderr);
    assert.ok(r.stderr.includes('Hello Mona is not the Octocat'), r.stderr);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.equal(out.jobs.test.status, 'failed', r.stderr);
    assert.match(out.jobs.test.reason ?? '', /action \.\/localdockerimagetest_ not found: there is no localdockerimagetest_\/action\.yml or localdockerimagetest_\/action\.yaml in the workspace/);
  });

  for (const { caseName, test } of cases) {
    it(`${caseName}: ${test}`, async () => {
      const expected = (JSON.parse(fs.readFileSync(path.join(SUITE, caseName, 'expected.json'), 'utf8')) as { tests: ActTest[] }).tests.find((t) => t.name === test);
      assert.ok(expected, `${caseName} has a test named "${test}"`);
      const dir = caseRepo(caseName, expected.workflows);
      const platforms = Object.entries(expected.platforms ?? {}).flatMap(([label, v]) => ['--platform', `${label}=${v}`]);
      for (const file of fs.readdirSync(path.join(dir, '.github', 'workflows'))) {
        const id = file.replace(/\.ya?ml$/, '');
        const r = await cli(dir, tempDir('state-'), ['run', id, '--event', expected.event, ...platforms, '--json'], { env, timeoutMs: 150_000 });
        if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
        const out = JSON.parse(r.stdout) as RunJson;
        const summary = `${r.stdout}\n${r.stderr}`;
        assert.ok(Object.values(out.jobs).every((j) => j.status !== 'unsupported'), `every job runs here (in its container):\n${summary}`);
        assert.equal(out.status, expected.shouldFail ? 'failed' : 'success', summary);
        for (const [job, outcome] of Object.entries(expected.jobs ?? {})) {
          assert.equal(out.jobs[job]?.status, outcome === 'fail' ? 'failed' : 'success', `${job}: ${summary}`);
        }
        if (caseName === 'services') assert.match(r.stderr, /starting service postgres:12 \(postgres\)/);
        if (caseName === 'shells') assert.equal((r.stderr.match(/I'm sh!/g) ?? []).length, 3, summary);
      }
      assert.equal(d!.docker(['ps', '-a', '-q', '--filter', 'label=delivery.run']), '', 'no container is left');
    });
  }
});
