// Jobs that name an image run in containers of a real Docker engine started by the test (Debian's dockerd, its state
// in a temp folder, no bridge: containers share the host network). Images are built here from busybox-static;
// nothing is pulled. The CLI runs as a user runs it, with DOCKER_HOST pointing at this engine.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BASE_IMAGE, dockerUnavailable, startDockerd, type Dockerd } from '../support/targets/docker';
import { freePort } from '../support/targets/common';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { cli, caseFolder } from '../support/catalogueSupport';
import { repoWith } from '../support/gitlabSupport';
import { startLocalRun } from '../../src/adapters/localRuns';
import { FileRunStore } from '../../src/adapters/runStore';
import { importFolder } from '../support/gitlabSupport';
import { LABEL_RUN } from '../../src/adapters/executors/container';

const JOB_IMAGE = 'localhost/ci-job:1';
const WEB_IMAGE = 'localhost/ci-web:1';

describe('container executor (private dockerd, locally built images)', function () {
  this.timeout(180_000);
  let d: Dockerd | undefined;
  let env: Record<string, string> = {};
  let webPort = 0;
  before(async function () {
    requireTool(this, dockerUnavailable());
    d = await startDockerd(path.join(tempDir('dockerd-'), 'd'));
    env = { ...d.env(), DELIVERY_CONTAINER_ENGINE: 'docker' };
    d.baseImage();
    webPort = await freePort();
    const ctx = path.join(d.dir, 'images');
    fs.mkdirSync(ctx, { recursive: true });
    // A job image with a file only it has, and a web service answering on webPort (EXPOSE: ready when it accepts).
    fs.writeFileSync(path.join(ctx, 'Job'), `FROM ${BASE_IMAGE}\nRUN echo "made in the image" > /only-in-image\n`);
    fs.writeFileSync(
      path.join(ctx, 'Web'),
      `FROM ${BASE_IMAGE}\nRUN mkdir -p /www && echo "hello from the service $WEB_GREETING" > /www/index.html\nEXPOSE ${webPort}\n` +
        `CMD ["sh", "-c", "echo \\"hello from the service $WEB_GREETING\\" > /www/index.html && exec httpd -f -p 127.0.0.1:${webPort} -h /www"]\n`,
    );
    d.docker(['build', '-q', '-f', path.join(ctx, 'Job'), '--network', 'host', '-t', JOB_IMAGE, ctx]);
    d.docker(['build', '-q', '-f', path.join(ctx, 'Web'), '--network', 'host', '-t', WEB_IMAGE, ctx]);
  });
  after(async () => {
    await d?.stop();
    cleanupTempDirs();
  });

  const containersOf = (runId?: string) => d!.docker(['ps', '-a', '-q', '--filter', `label=${LABEL_RUN}${runId ? `=${runId}` : ''}`]).split('\n').filter(Boolean);
  type RunJson = { status: string; jobs: Record<string, { status: string; exitCode: number | null; reason: string | null }> };

  it('runs a GitLab job with image: inside the image (a file only the image has), writes to the mounted project, and removes its container', async () => {
    const dir = caseFolder({
      '.gitlab-ci.yml': `build:
  image: ${JOB_IMAGE}
  variables: { GREETING: "hi there" }
  script:
    - cat /only-in-image
    - echo "$GREETING from $(cat /only-in-image)" > result.txt
    - test ! -e /usr/bin/node && echo no-node-here
host:
  script:
    - test ! -e /only-in-image && echo on-the-host
`,
    });
    const r = await cli(dir, tempDir('state-'), ['run', 'gitlab-ci', '--json'], { env, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.equal(out.status, 'success', r.stderr);
    assert.ok(r.stderr.includes('made in the image'), r.stderr);
    assert.ok(r.stderr.includes('no-node-here'), r.stderr);
    assert.ok(r.stderr.includes('on-the-host'), r.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'result.txt'), 'utf8'), 'hi there from made in the image\n');
    assert.deepEqual(containersOf(), [], 'the job container is removed when the job ends');
  });

  it('starts services: reachable by their alias, with their variables; a failing script fails the job', async () => {
    const dir = caseFolder({
      '.gitlab-ci.yml': `test:
  image: ${JOB_IMAGE}
  services:
    - name: ${WEB_IMAGE}
      alias: web
      variables: { WEB_GREETING: "to the job" }
  script:
    - wget -q -O - http://web:${webPort}/
broken:
  image: ${JOB_IMAGE}
  script:
    - echo before
    - exit 3
    - echo never
`,
    });
    const r = await cli(dir, tempDir('state-'), ['run', 'gitlab-ci', '--json'], { env, timeoutMs: 120_000 });
    if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.ok(r.stderr.includes('hello from the service to the job'), r.stderr);
    assert.equal(out.jobs.test?.status, 'success', r.stderr);
    assert.equal(out.jobs.broken?.status, 'failed');
    assert.equal(out.jobs.broken?.exitCode, 3);
    assert.ok(!r.stderr.includes('never'));
    assert.equal(out.status, 'failed');
    assert.deepEqual(containersOf(), [], 'job and service containers are removed');
  });

  it('a missing image that cannot be pulled makes the job unsupported, naming the image; --force-shell-executor runs it on the host', async () => {
    const dir = caseFolder({ '.gitlab-ci.yml': `t:\n  image: localhost/not-built-here:9\n  script:\n    - echo ran > ran.txt\n` });
    const r = await cli(dir, tempDir('state-'), ['run', 'gitlab-ci', '--json'], { env, timeoutMs: 120_000 });
    if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.equal(out.jobs.t.status, 'unsupported', r.stderr);
    assert.match(out.jobs.t.reason ?? '', /image localhost\/not-built-here:9 is not on this machine and cannot be pulled: /);
    assert.ok(!fs.existsSync(path.join(dir, 'ran.txt')));
    const forced = await cli(dir, tempDir('state-'), ['run', 'gitlab-ci', '--force-shell-executor', '--json'], { env, timeoutMs: 60_000 });
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(forced.stderr.includes('running in the local shell instead, as asked'), forced.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'ran.txt'), 'utf8'), 'ran\n');
  });

  it('runs a GitHub container: job with services (health command, env) and a runner job with services; outputs and env files work inside', async () => {
    const dir = caseFolder({
      '.github/workflows/ci.yml': `name: ci
on: push
jobs:
  in-container:
    runs-on: ubuntu-latest
    container:
      image: ${JOB_IMAGE}
      env: { FROM_CONTAINER: set-by-container-env }
    services:
      web:
        image: ${WEB_IMAGE}
        env: { WEB_GREETING: github-service }
        options: --health-cmd "wget -q -O /dev/null http://127.0.0.1:${webPort}/"
    outputs:
      made: \${{ steps.m.outputs.made }}
    steps:
      - run: cat /only-in-image && echo "$FROM_CONTAINER"
      - run: wget -q -O - http://web:${webPort}/
      - id: m
        run: |
          echo "made=$(cat /only-in-image)" >> "$GITHUB_OUTPUT"
          echo "LATER=carried" >> "$GITHUB_ENV"
      - run: echo "later=$LATER"
  on-runner:
    runs-on: ubuntu-latest
    needs: in-container
    services:
      web:
        image: ${WEB_IMAGE}
    steps:
      - run: test ! -e /only-in-image && echo "output=\${{ needs.in-container.outputs.made }}"
      - run: |
          node -e "fetch('http://127.0.0.1:${webPort}/').then(r => r.text()).then(t => console.log('runner got: ' + t.trim()))"
`,
    });
    const r = await cli(dir, tempDir('state-'), ['run', 'ci', '--json'], { env, timeoutMs: 150_000 });
    if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.equal(out.status, 'success', r.stderr);
    for (const text of ['made in the image', 'set-by-container-env', 'hello from the service github-service', 'later=carried', 'output=made in the image', 'runner got: hello from the service']) {
      assert.ok(r.stderr.includes(text), `${text}\n${r.stderr}`);
    }
    assert.deepEqual(containersOf(), [], 'job and service containers are removed');
  });

  it('a process a step leaves running in the container keeps running (and writing) into the next step; a service that exits only warns on GitLab', async () => {
    const dir = caseFolder({
      '.github/workflows/bg.yml': `name: bg
on: push
jobs:
  bg:
    runs-on: ubuntu-latest
    container: ${JOB_IMAGE}
    steps:
      - run: (i=0; while true; do i=$((i+1)); echo "tick $i"; echo $i > count; sleep 0.1; done) &
      - run: sleep 1; test "$(cat count)" -gt 5 && echo "still counting"
`,
      '.gitlab-ci.yml': `flaky-service:
  image: ${JOB_IMAGE}
  services:
    - name: ${JOB_IMAGE}
      alias: gone
      command: ["sh", "-c", "echo bye; exit 4"]
  script:
    - echo "ran without the service"
`,
    });
    const r = await cli(dir, tempDir('state-'), ['run', 'bg'], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes('still counting'), r.stdout);
    assert.match(r.stdout, /tick \d+/);
    const g = await cli(dir, tempDir('state-'), ['run', 'gitlab-ci'], { env, timeoutMs: 60_000 });
    assert.equal(g.code, 0, g.stdout + g.stderr);
    assert.match(g.stdout, /warning: service localhost\/ci-job:1 exited with code 4: bye; the job runs without it/);
    assert.ok(g.stdout.includes('ran without the service'), g.stdout);
    assert.deepEqual(containersOf(), []);
  });

  it('runs Docker actions: docker:// with args, inputs and an entrypoint, and a local Dockerfile action built here; their outputs reach later steps', async () => {
    const dir = caseFolder({
      '.github/actions/greet/action.yml': `name: greet
inputs:
  who: { default: nobody }
outputs:
  greeting: { description: what it said }
runs:
  using: docker
  image: Dockerfile
  args: ["\${{ inputs.who }}"]
  env: { FROM_ACTION: set-by-runs-env }
`,
      '.github/actions/greet/Dockerfile': `FROM ${BASE_IMAGE}\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/bin/sh", "/entry.sh"]\n`,
      '.github/actions/greet/entry.sh': 'echo "hello $1 ($INPUT_WHO, $FROM_ACTION) in $(pwd)"\necho "greeting=hi-$1" >> "$GITHUB_OUTPUT"\n',
      '.github/workflows/docker.yml': `name: docker
on: push
jobs:
  d:
    runs-on: ubuntu-latest
    steps:
      - uses: docker://${JOB_IMAGE}
        with:
          args: sh -c "cat /only-in-image; echo input=$INPUT_COLOR; echo tone=dark >> $GITHUB_OUTPUT; echo ws=$GITHUB_WORKSPACE home=$HOME pwd=$(pwd) event=$(test -s $GITHUB_EVENT_PATH && echo $GITHUB_EVENT_PATH); test -d /github/workspace/.github && echo checkout-there"
          color: blue
        id: plain
      - uses: docker://${JOB_IMAGE}
        with:
          entrypoint: /bin/echo
          args: from the entrypoint \${{ github.event_name }}
      - uses: ./.github/actions/greet
        id: greet
        with: { who: world }
      - run: echo "outputs=\${{ steps.plain.outputs.tone }} \${{ steps.greet.outputs.greeting }}"
`,
    });
    const r = await cli(dir, tempDir('state-'), ['run', 'docker', '--event', 'push', '--json'], { env, timeoutMs: 150_000 });
    if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.equal(out.status, 'success', r.stderr);
    for (const text of [
      'made in the image',
      'input=blue',
      // GitHub's layout for Docker actions: the workspace, HOME, the event and the step files under /github.
      'ws=/github/workspace home=/github/home pwd=/github/workspace event=/github/workflow/event.json',
      'checkout-there',
      'from the entrypoint push',
      'hello world (world, set-by-runs-env) in /github/workspace',
      "building the action's image from Dockerfile",
      'outputs=dark hi-world',
    ]) {
      assert.ok(r.stderr.includes(text), `${text}\n${r.stderr}`);
    }
    assert.deepEqual(containersOf(), [], 'the step containers are removed');
  });

  it('removes containers a run left when its process died (at the next start)', async () => {
    const dead = 999_999; // above pid_max's default: never a live process
    d!.docker(['run', '-d', '--label', `${LABEL_RUN}=old`, '--label', `delivery.pid=${dead}`, '--label', `delivery.host=${os.hostname()}`, '--network', 'host', '--entrypoint', 'sleep', JOB_IMAGE, '300']);
    assert.equal(containersOf('old').length, 1);
    const dir = caseFolder({ '.gitlab-ci.yml': `t:\n  image: ${JOB_IMAGE}\n  script: [echo ok]\n` });
    const r = await cli(dir, tempDir('state-'), ['run', 'gitlab-ci'], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(containersOf('old'), [], "the dead run's container is removed");
  });

  it('cancelling a run removes its containers and ends the processes in them', async () => {
    const dir = repoWith({ '.gitlab-ci.yml': `slow:\n  image: ${JOB_IMAGE}\n  services: [{ name: "${WEB_IMAGE}", alias: web }]\n  script:\n    - echo started\n    - sleep 300\n` });
    const { pipeline } = await importFolder(dir);
    const prev = { ...process.env };
    Object.assign(process.env, env);
    try {
      const handle = await startLocalRun(pipeline!, {}, { folder: dir, store: new FileRunStore(path.join(tempDir('state-'), 's')), trigger: 'cli', noGit: true });
      if ('error' in handle) throw new Error(handle.error);
      await new Promise<void>((resolve) => {
        const off = handle.onEvent((e) => {
          if (e.type === 'line' && e.text === 'started') {
            off();
            resolve();
          }
        });
      });
      assert.equal(containersOf(handle.run.id).length, 2, 'a job container and a service container while it runs');
      handle.cancel();
      const run = await handle.done;
      assert.equal(run.status, 'cancelled');
      assert.deepEqual(containersOf(run.id), [], 'no container of the run is left');
    } finally {
      for (const k of Object.keys(env)) if (prev[k] === undefined) delete process.env[k];
      Object.assign(process.env, prev);
    }
  });
});
