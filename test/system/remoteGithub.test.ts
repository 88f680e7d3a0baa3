// GitHub Actions as a remote engine, against a local server replaying responses written from GitHub's REST API
// documentation (test/fixtures/recorded/github/, "(recorded)" in the test names): runs with pagination, dispatch
// with checked inputs, a run that changes state between polls, job logs behind a redirect, cancel, re-run, and the
// errors a person sees. The pure parts (statuses, input checks) are in test/unit/remoteGithub.test.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GithubEngine, type GithubEngineOptions } from '../../src/adapters/remote/github';
import { RemoteApiError } from '../../src/adapters/remote/http';
import { RECORDED, rejection, ReplayServer } from '../support/replay';

const TOKEN = 'ghp_githubEngineTestToken42';
const REPO = '/repos/octo-org/hello-world';
const WF = `${REPO}/actions/workflows/ci.yml`;
const CI_YML = fs.readFileSync(path.join(RECORDED, 'github/ci.yml'), 'utf8');
const signal = () => new AbortController().signal;

describe('GitHub Actions engine', function () {
  this.timeout(20_000);
  let s: ReplayServer;
  let blob: ReplayServer;
  const engines: GithubEngine[] = [];
  let waits: number[];

  beforeEach(async () => {
    s = await ReplayServer.start();
    blob = await ReplayServer.start();
    s.vars.blob = blob.url;
    waits = [];
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) e.dispose();
    await s.close();
    await blob.close();
  });

  /** An engine for octo-org/hello-world on a GitHub Enterprise-like API root (/api/v3) served by the replay. */
  function engine(over: Partial<GithubEngineOptions> = {}): GithubEngine {
    const e = new GithubEngine({
      target: { engine: 'github', host: 'github.com', apiUrl: `${s.url}/api/v3`, owner: 'octo-org', repo: 'hello-world', workflow: 'ci.yml' },
      token: async () => TOKEN,
      workflowFile: async () => ({ path: '.github/workflows/ci.yml', text: CI_YML }),
      findRun: { attempts: 5, intervalMs: 1000 },
      ...over,
      http: {
        sleep: async (ms) => {
          waits.push(ms);
        },
        ...over.http,
      },
    });
    engines.push(e);
    return e;
  }
  const api = (p: string) => `/api/v3${p}`;

  it('lists a workflow\'s runs across pages, newest first, with the branch filter (recorded)', async () => {
    const runs = api(`${WF}/runs`);
    s.route(
      { method: 'GET', path: runs, responses: [{ status: 200, file: 'github/runs-page1.json', headers: { link: `<{{base}}${runs}?per_page=3&page=2>; rel="next"` } }] },
      { method: 'GET', path: runs, query: { page: '2' }, responses: [{ status: 200, file: 'github/runs-page2.json' }] },
    );
    const list = await engine().runs({ limit: 3, branch: 'main', signal: signal() });
    assert.deepEqual(
      list.map((r) => [r.id, r.number, r.status, r.rawStatus, r.branch, r.event]),
      [
        ['30433642', 42, 'running', 'in_progress', 'main', 'push'],
        ['30433640', 41, 'failed', 'failure', 'main', 'push'],
        ['30433601', 40, 'success', 'success', 'feature/login', 'pull_request'],
      ],
    );
    const first = list[0]!;
    assert.equal(first.title, 'Ship the login page');
    assert.equal(first.url, 'https://github.com/octo-org/hello-world/actions/runs/30433642');
    assert.equal(first.actor, 'octocat');
    assert.equal(first.startedAt, Date.parse('2024-05-02T09:00:05Z'));
    assert.equal(first.finishedAt, null);
    assert.equal(list[1]!.finishedAt, Date.parse('2024-05-01T17:24:10Z'));
    const sent = s.requests[0]!;
    assert.deepEqual(sent.query, { per_page: '3', branch: 'main' });
    assert.equal(sent.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(sent.headers.accept, 'application/vnd.github+json');
    assert.equal(sent.headers['x-github-api-version'], '2022-11-28');
    assert.equal(s.requests.length, 2);
  });

  it('reads dispatch inputs from the workspace file and offers the repository\'s environments (recorded)', async () => {
    s.route({ method: 'GET', path: api(`${REPO}/environments`), responses: [{ status: 200, file: 'github/environments.json' }] });
    const inputs = await engine().inputs(signal());
    assert.deepEqual(inputs, [
      { name: 'environment', type: 'environment', description: 'Where to deploy', required: true, default: null, options: ['staging', 'production'] },
      { name: 'log-level', type: 'choice', description: 'How much the deploy says', required: false, default: 'info', options: ['info', 'warning', 'debug'] },
      { name: 'dry-run', type: 'boolean', description: 'Plan only', required: false, default: 'false', options: [] },
      { name: 'replicas', type: 'number', description: 'How many app instances', required: false, default: '2', options: [] },
      { name: 'note', type: 'string', description: "Shown in the run's summary", required: false, default: null, options: [] },
    ]);
  });

  it('reads the workflow file from the repository when the workspace has none (recorded)', async () => {
    s.route(
      { method: 'GET', path: api(WF), responses: [{ status: 200, file: 'github/workflow.json' }] },
      { method: 'GET', path: api(`${REPO}/contents/.github/workflows/ci.yml`), responses: [{ status: 200, file: 'github/ci.yml' }] },
      { method: 'GET', path: api(`${REPO}/environments`), responses: [{ status: 403, json: { message: 'Resource not accessible by integration' } }] },
    );
    const inputs = await engine({ workflowFile: async () => null }).inputs(signal());
    assert.deepEqual(inputs.map((i) => `${i.name}:${i.type}:${i.options.join('|')}`), ['environment:environment:', 'log-level:choice:info|warning|debug', 'dry-run:boolean:', 'replicas:number:', 'note:string:']);
    const contents = s.sent('GET', api(`${REPO}/contents/.github/workflows/ci.yml`))[0]!;
    assert.equal(contents.headers.accept, 'application/vnd.github.raw+json');
    assert.equal(contents.query.ref, undefined, 'inputs are those of the default branch');
    // A dispatch checks its inputs against the workflow as it is on the ref it starts.
    const err = await rejection(engine({ workflowFile: async () => null }).trigger({ ref: 'release/1.x', inputs: { replicas: 'many', environment: 'staging' }, signal: signal() }));
    assert.equal(err.message, 'cannot start ci.yml: input "replicas" is a number, not "many"');
    assert.equal(s.sent('GET', api(`${REPO}/contents/.github/workflows/ci.yml`)).at(-1)!.query.ref, 'release/1.x');
    assert.equal(s.sent('POST', api(`${WF}/dispatches`)).length, 0);
  });

  it('dispatches with checked inputs and finds the run it started (recorded)', async () => {
    s.route(
      { method: 'GET', path: api(`${REPO}/environments`), responses: [{ status: 200, file: 'github/environments.json' }] },
      {
        method: 'GET',
        path: api(`${WF}/runs`),
        query: { event: 'workflow_dispatch' },
        // before the dispatch, the first look after it (not there yet), then the new run
        responses: [
          { status: 200, file: 'github/runs-dispatch-before.json' },
          { status: 200, file: 'github/runs-dispatch-before.json' },
          { status: 200, file: 'github/runs-dispatch-after.json' },
        ],
      },
      { method: 'POST', path: api(`${WF}/dispatches`), responses: [{ status: 204 }] },
    );
    const run = await engine().trigger({ ref: 'refs/heads/main', inputs: { environment: 'staging', 'dry-run': 'true', replicas: '3', note: 'from the editor' }, signal: signal() });
    assert.equal(run.id, '30433700');
    assert.equal(run.number, 43);
    assert.equal(run.status, 'queued');
    assert.equal(run.event, 'workflow_dispatch');
    const [post] = s.sent('POST', api(`${WF}/dispatches`));
    assert.deepEqual(JSON.parse(post!.body), { ref: 'refs/heads/main', inputs: { environment: 'staging', 'dry-run': 'true', replicas: '3', note: 'from the editor' } });
    assert.equal(post!.headers['content-type'], 'application/json');
    assert.equal(post!.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(s.sent('GET', api(`${WF}/runs`)).length, 3);
    assert.deepEqual(waits, [1000], 'one pause before looking again');
  });

  it('refuses wrong inputs before anything is sent, naming each one', async () => {
    s.route({ method: 'GET', path: api(`${REPO}/environments`), responses: [{ status: 200, file: 'github/environments.json' }] });
    const err = await rejection(engine()
      .trigger({ ref: 'main', inputs: { environment: 'qa', 'log-level': 'verbose', 'dry-run': 'yes', replicas: 'two', logLevel: 'x' }, signal: signal() })
      );
    assert.equal(
      err.message,
      'cannot start ci.yml: input "environment" must be one of staging, production, not "qa"; input "log-level" must be one of info, warning, debug, not "verbose"; ' +
        'input "dry-run" is a boolean: true or false, not "yes"; input "replicas" is a number, not "two"; ' +
        'unknown input "logLevel" (inputs: environment, log-level, dry-run, replicas, note)',
    );
    assert.equal(s.sent('POST', api(`${WF}/dispatches`)).length, 0);
    const missing = await rejection(engine().trigger({ ref: 'main', inputs: {}, signal: signal() }));
    assert.equal(missing.message, 'cannot start ci.yml: input "environment" is required');
  });

  it('does not dispatch a workflow without workflow_dispatch, or one with errors', async () => {
    const pushOnly = 'on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n';
    const e1 = await rejection(engine({ workflowFile: async () => ({ path: '.github/workflows/ci.yml', text: pushOnly }) })
      .trigger({ ref: 'main', inputs: {}, signal: signal() })
      );
    assert.equal(e1.message, 'ci.yml in octo-org/hello-world cannot be started by hand: it has no "on: workflow_dispatch"');
    const broken = 'on:\n  workflow_dispatch:\n    inputs:\n      mode:\n        type: colour\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n';
    const e2 = await rejection(engine({ workflowFile: async () => ({ path: '.github/workflows/ci.yml', text: broken }) })
      .trigger({ ref: 'main', inputs: {}, signal: signal() })
      );
    assert.equal(e2.message, '.github/workflows/ci.yml:5:15: on.workflow_dispatch.inputs.mode: unknown type "colour" (string, boolean, number, choice or environment)');
    assert.equal(s.requests.filter((r) => r.method === 'POST').length, 0);
  });

  it('explains a dispatch GitHub refuses (recorded)', async () => {
    s.route(
      { method: 'GET', path: api(`${REPO}/environments`), responses: [{ status: 200, file: 'github/environments.json' }] },
      { method: 'GET', path: api(`${WF}/runs`), query: { event: 'workflow_dispatch' }, responses: [{ status: 200, file: 'github/runs-dispatch-before.json' }] },
      { method: 'POST', path: api(`${WF}/dispatches`), responses: [{ status: 422, file: 'github/error-422-no-ref.json' }] },
    );
    const err = await engine().trigger({ ref: 'does-not-exist', inputs: { environment: 'staging' }, signal: signal() }).catch((e: unknown) => e);
    assert.ok(RemoteApiError.is(err, 'invalid'));
    assert.equal(err.message, 'GitHub refused to start ci.yml on does-not-exist: No ref found for: does-not-exist');
  });

  it('follows a run that changes state between polls, with conditional requests (recorded)', async () => {
    const run = api(`${REPO}/actions/runs/30433700`);
    s.route(
      {
        method: 'GET',
        path: run,
        responses: [
          { status: 200, file: 'github/run-queued.json', etag: 'W/"r1"' },
          { status: 200, file: 'github/run-in-progress.json', etag: 'W/"r2"' },
          { status: 200, file: 'github/run-in-progress.json', etag: 'W/"r2"' },
          { status: 200, file: 'github/run-failed.json', etag: 'W/"r3"' },
        ],
      },
      {
        method: 'GET',
        path: `${run}/jobs`,
        responses: [
          { status: 200, file: 'github/jobs-queued.json', etag: 'W/"j1"' },
          { status: 200, file: 'github/jobs-in-progress.json', etag: 'W/"j2"' },
          { status: 200, file: 'github/jobs-in-progress.json', etag: 'W/"j2"' },
          { status: 200, file: 'github/jobs-failed.json', etag: 'W/"j3"' },
        ],
      },
    );
    const e = engine();
    const polls = [];
    for (let i = 0; i < 4; i++) polls.push(await e.run('30433700', signal()));
    assert.deepEqual(polls.map((p) => p.run.status), ['queued', 'running', 'running', 'failed']);
    assert.deepEqual(polls.map((p) => p.jobs.map((j) => `${j.name}:${j.status}`).join(' ')), ['', 'build:success test:running', 'build:success test:running', 'build:success test:failed']);
    const test = polls[1]!.jobs[1]!;
    assert.deepEqual(test.steps.map((st) => `${st.number} ${st.name}: ${st.status}`), ['1 Set up job: success', '2 npm test: running', '3 Complete job: queued']);
    assert.equal(test.url, 'https://github.com/octo-org/hello-world/actions/runs/30433700/job/399444497');
    assert.equal(polls[3]!.run.finishedAt, Date.parse('2024-05-03T08:02:11Z'));
    assert.equal(polls[3]!.jobs[1]!.steps[1]!.status, 'failed');
    // The third poll changed nothing: both answers were 304 (free of rate limit) and the cached bodies served.
    assert.deepEqual(s.sent('GET', run).map((r) => r.status), [200, 200, 304, 200]);
    assert.deepEqual(s.sent('GET', run).map((r) => r.headers['if-none-match'] ?? null), [null, 'W/"r1"', 'W/"r2"', 'W/"r2"']);
    assert.deepEqual(s.sent('GET', `${run}/jobs`).map((r) => r.status), [200, 200, 304, 200]);
  });

  it('reads a job log once the job has ended, through the redirect, from any offset (recorded)', async () => {
    const job = api(`${REPO}/actions/jobs/399444497`);
    s.route(
      { method: 'GET', path: job, responses: [{ status: 200, file: 'github/job-in-progress.json' }, { status: 200, file: 'github/job-failed.json' }] },
      { method: 'GET', path: `${job}/logs`, responses: [{ status: 302, headers: { location: '{{blob}}/job-logs/399444497?sig=s1' } }] },
    );
    blob.route({ method: 'GET', path: '/job-logs/399444497', responses: [{ status: 200, file: 'github/job-log.txt' }] });
    const e = engine();
    const early = await e.logs('30433700', '399444497', 0, signal());
    assert.deepEqual(early, { text: '', offset: 0, complete: false });
    assert.equal(s.sent('GET', `${job}/logs`).length, 0, 'no log is asked for while the job runs');
    const log = fs.readFileSync(path.join(RECORDED, 'github/job-log.txt'));
    const full = await e.logs('30433700', '399444497', 0, signal());
    assert.equal(full.text, log.toString('utf8'));
    assert.equal(full.offset, log.length);
    assert.equal(full.complete, true);
    assert.equal(blob.requests[0]!.headers.authorization, undefined, 'the token is not sent to the log storage');
    const rest = await e.logs('30433700', '399444497', log.indexOf('  1 failing'), signal());
    assert.ok(rest.text.startsWith('  1 failing — “login” rejects an empty password\n2024-05-03T08:01:40.5000000Z ##[error]'), rest.text);
    assert.equal(rest.text.split('\n').length, 3, 'the rest of the log from a byte offset');
    const after = await e.logs('30433700', '399444497', full.offset, signal());
    assert.deepEqual(after, { text: '', offset: log.length, complete: true });
    assert.equal(blob.requests.length, 1, 'a finished log is downloaded once');
    const skipped = JSON.parse(fs.readFileSync(path.join(RECORDED, 'github/job-failed.json'), 'utf8')) as Record<string, unknown>;
    s.route({ method: 'GET', path: api(`${REPO}/actions/jobs/5`), responses: [{ status: 200, json: { ...skipped, id: 5, conclusion: 'skipped', started_at: null, steps: [] } }] });
    assert.deepEqual(await e.logs('30433700', '5', 0, signal()), { text: '', offset: 0, complete: true });
    assert.equal(s.sent('GET', api(`${REPO}/actions/jobs/5/logs`)).length, 0, 'a skipped job has no log to ask for');
    const wrongRun = await rejection(engine().logs('1', '399444497', 0, signal()));
    assert.equal(wrongRun.message, 'job 399444497 belongs to run 30433700, not to run 1');
  });

  it('cancels a run, and says so when it has already finished (recorded)', async () => {
    const cancel = api(`${REPO}/actions/runs/30433700/cancel`);
    s.route({ method: 'POST', path: cancel, responses: [{ status: 202, json: {} }, { status: 409, file: 'github/error-409-cancel.json' }] });
    const e = engine();
    await e.cancel('30433700', signal());
    const err = await e.cancel('30433700', signal()).catch((x: unknown) => x);
    assert.ok(RemoteApiError.is(err, 'conflict'));
    assert.equal(err.message, 'run 30433700 in octo-org/hello-world cannot be cancelled: it has already finished');
    assert.equal(s.sent('POST', cancel).length, 2);
  });

  it('re-runs the failed jobs and returns the new attempt (recorded)', async () => {
    const run = api(`${REPO}/actions/runs/30433700`);
    s.route(
      { method: 'POST', path: `${run}/rerun-failed-jobs`, responses: [{ status: 201, json: {} }] },
      { method: 'GET', path: run, responses: [{ status: 200, file: 'github/run-rerun-queued.json' }] },
      { method: 'GET', path: `${run}/jobs`, responses: [{ status: 200, file: 'github/jobs-queued.json' }] },
    );
    const again = await engine().rerunFailed('30433700', signal());
    assert.equal(again.id, '30433700');
    assert.equal(again.status, 'queued');
    assert.equal(s.sent('POST', `${run}/rerun-failed-jobs`).length, 1);
  });

  it('turns 401, 403 rate limits and 404 into clear errors (recorded)', async () => {
    const runs = api(`${WF}/runs`);
    s.route({ method: 'GET', path: runs, responses: [{ status: 401, file: 'github/error-401.json' }] });
    const e401 = await engine().runs({ limit: 5, signal: signal() }).catch((x: unknown) => x);
    assert.ok(RemoteApiError.is(e401, 'auth'));
    assert.equal(e401.message, `GitHub on ${new URL(s.url).host} rejected the token (401): token missing or invalid: set GITHUB_TOKEN or sign in to GitHub`);

    s.route({ method: 'GET', path: runs, responses: [{ status: 403, file: 'github/error-403-rate-limit.json', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '{{epoch+1800}}' } }] });
    const limited = await engine().runs({ limit: 5, signal: signal() }).catch((x: unknown) => x);
    assert.ok(RemoteApiError.is(limited, 'rateLimit'));
    assert.match(limited.message, /^GitHub API rate limit reached on 127\.0\.0\.1:\d+; resets at \d\d:\d\d$/);

    s.route({ method: 'GET', path: runs, responses: [{ status: 404, file: 'github/error-404.json' }] });
    const missing = await engine().runs({ limit: 5, signal: signal() }).catch((x: unknown) => x);
    assert.ok(RemoteApiError.is(missing, 'notFound'));
    assert.equal(missing.message, 'no workflow ci.yml in octo-org/hello-world, or the token cannot see it');

    s.route({ method: 'GET', path: api(`${REPO}/actions/runs/1`), responses: [{ status: 404, file: 'github/error-404.json' }] });
    s.route({ method: 'GET', path: api(`${REPO}/actions/runs/1/jobs`), responses: [{ status: 404, file: 'github/error-404.json' }] });
    const noRun = await rejection(engine().run('1', signal()));
    assert.equal(noRun.message, 'no run 1 in octo-org/hello-world, or the token cannot see it');
  });

  it('calls without a token when there is none, and uses a new token at once (recorded)', async () => {
    s.route({ method: 'GET', path: api(`${WF}/runs`), responses: [{ status: 200, file: 'github/runs-page2.json', etag: '"same"' }] });
    let token: string | undefined = undefined;
    const e = engine({ token: async () => token, tokenHint: 'run "Sign in to GitHub"' });
    await e.runs({ limit: 1, signal: signal() });
    token = 'ghp_signedInJustNow';
    await e.runs({ limit: 1, signal: signal() });
    assert.deepEqual(s.requests.map((r) => r.headers.authorization ?? null), [null, 'Bearer ghp_signedInJustNow']);
    assert.deepEqual(s.requests.map((r) => r.headers['if-none-match'] ?? null), [null, null], 'no cache is shared between identities');
  });
});
