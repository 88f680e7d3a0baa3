// GitLab CI as a remote engine, against a local server replaying responses written from GitLab's REST API
// documentation (test/fixtures/recorded/gitlab/, "(recorded)" in the test names): pipelines with X-Next-Page
// pagination, a new pipeline with variables, a pipeline that changes state between polls, traces read on from an
// offset while the job runs, play / retry / cancel, and the errors a person sees.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GitlabEngine, type GitlabEngineOptions } from '../../src/adapters/remote/gitlab';
import { RemoteApiError } from '../../src/adapters/remote/http';
import { RECORDED, rejection, ReplayServer } from '../support/replay';

const TOKEN = 'glpat-gitlabEngineTestToken';
const PROJECT = '/api/v4/projects/group%2Fsub%2Fapp';
const CI_YML = fs.readFileSync(path.join(RECORDED, 'gitlab/gitlab-ci.yml'), 'utf8');
const signal = () => new AbortController().signal;

describe('GitLab CI engine', function () {
  this.timeout(20_000);
  let s: ReplayServer;
  const engines: GitlabEngine[] = [];

  beforeEach(async () => {
    s = await ReplayServer.start();
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) e.dispose();
    await s.close();
  });

  function engine(over: Partial<GitlabEngineOptions> = {}): GitlabEngine {
    const e = new GitlabEngine({
      target: { engine: 'gitlab', host: 'gitlab.example.com', apiUrl: `${s.url}/api/v4`, project: 'group/sub/app' },
      token: async () => TOKEN,
      ciFile: async () => ({ path: '.gitlab-ci.yml', text: CI_YML }),
      http: { sleep: async () => undefined },
      ...over,
    });
    engines.push(e);
    return e;
  }

  it('lists pipelines across pages with X-Next-Page (recorded)', async () => {
    s.route(
      { method: 'GET', path: `${PROJECT}/pipelines`, responses: [{ status: 200, file: 'gitlab/pipelines-page1.json', headers: { 'x-next-page': '2', 'x-page': '1', 'x-per-page': '2', 'x-total-pages': '2', 'x-total': '3' } }] },
      { method: 'GET', path: `${PROJECT}/pipelines`, query: { page: '2' }, responses: [{ status: 200, file: 'gitlab/pipelines-page2.json', headers: { 'x-next-page': '', 'x-page': '2', 'x-per-page': '2', 'x-total-pages': '2', 'x-total': '3' } }] },
    );
    const list = await engine().runs({ limit: 2, signal: signal() });
    assert.deepEqual(list.map((p) => [p.id, p.number, p.status, p.branch, p.event]), [
      ['5001', 43, 'running', 'main', 'api'],
      ['4990', 42, 'failed', 'main', 'push'],
    ]);
    assert.equal(s.requests.length, 1, 'two asked, two on the first page');
    const all = await engine().runs({ limit: 10, branch: 'main', signal: signal() });
    assert.deepEqual(all.map((p) => p.number), [43, 42, 41]);
    const first = s.requests[1]!;
    assert.deepEqual(first.query, { ref: 'main', per_page: '10', order_by: 'id', sort: 'desc' });
    assert.equal(first.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(s.requests[2]!.query.page, '2');
    assert.equal(s.requests[2]!.query.ref, 'main');
  });

  it('offers the prefilled pipeline variables of .gitlab-ci.yml', async () => {
    const inputs = await engine().inputs(signal());
    assert.deepEqual(inputs, [
      { name: 'DEPLOY_ENVIRONMENT', type: 'choice', description: 'Where the deploy job goes', required: false, default: 'staging', options: ['staging', 'production'] },
      { name: 'LOG_LEVEL', type: 'string', description: 'How much the jobs say', required: false, default: 'info', options: [] },
    ]);
  });

  it('reads the CI file from the default branch when the workspace has none (recorded)', async () => {
    s.route(
      { method: 'GET', path: PROJECT, responses: [{ status: 200, file: 'gitlab/project.json' }] },
      { method: 'GET', path: `${PROJECT}/repository/files/.gitlab-ci.yml/raw`, query: { ref: 'main' }, responses: [{ status: 200, file: 'gitlab/gitlab-ci.yml' }] },
    );
    const inputs = await engine({ ciFile: async () => null }).inputs(signal());
    assert.deepEqual(inputs.map((i) => i.name), ['DEPLOY_ENVIRONMENT', 'LOG_LEVEL']);
  });

  it('checks variables against the CI file of the ref it starts (recorded)', async () => {
    s.route(
      { method: 'GET', path: PROJECT, responses: [{ status: 200, file: 'gitlab/project.json' }] },
      { method: 'GET', path: `${PROJECT}/repository/files/.gitlab-ci.yml/raw`, query: { ref: 'release/1.x' }, responses: [{ status: 200, file: 'gitlab/gitlab-ci.yml' }] },
      { method: 'POST', path: `${PROJECT}/pipeline`, responses: [{ status: 201, file: 'gitlab/pipeline-created.json' }] },
    );
    const e = engine({ ciFile: async () => null });
    const err = await rejection(e.trigger({ ref: 'refs/heads/release/1.x', inputs: { DEPLOY_ENVIRONMENT: 'moon' }, signal: signal() }));
    assert.match(err.message, /input "DEPLOY_ENVIRONMENT" must be one of staging, production, not "moon"/);
    assert.equal(s.sent('POST', `${PROJECT}/pipeline`).length, 0);
    await e.trigger({ ref: 'refs/heads/release/1.x', inputs: { DEPLOY_ENVIRONMENT: 'production' }, signal: signal() });
    assert.equal(JSON.parse(s.sent('POST', `${PROJECT}/pipeline`)[0]!.body).ref, 'release/1.x');
  });

  it('creates a pipeline with variables (recorded)', async () => {
    s.route({ method: 'POST', path: `${PROJECT}/pipeline`, responses: [{ status: 201, file: 'gitlab/pipeline-created.json' }] });
    const run = await engine().trigger({ ref: 'refs/heads/main', inputs: { DEPLOY_ENVIRONMENT: 'production', EXTRA: 'a b' }, signal: signal() });
    assert.equal(run.id, '5001');
    assert.equal(run.status, 'queued');
    assert.equal(run.rawStatus, 'created');
    assert.equal(run.actor, 'root');
    assert.equal(run.url, 'https://gitlab.example.com/group/sub/app/-/pipelines/5001');
    const [post] = s.sent('POST', `${PROJECT}/pipeline`);
    assert.deepEqual(JSON.parse(post!.body), {
      ref: 'main',
      variables: [
        { key: 'DEPLOY_ENVIRONMENT', value: 'production', variable_type: 'env_var' },
        { key: 'EXTRA', value: 'a b', variable_type: 'env_var' },
      ],
    });
  });

  it('refuses bad variables before anything is sent', async () => {
    const err = await rejection(engine().trigger({ ref: 'main', inputs: { DEPLOY_ENVIRONMENT: 'qa', 'BAD-NAME': '1' }, signal: signal() }));
    assert.equal(err.message, 'cannot start a pipeline of group/sub/app on gitlab.example.com: "BAD-NAME" is not a valid variable name (letters, digits and _ only); input "DEPLOY_ENVIRONMENT" must be one of staging, production, not "qa"');
    assert.equal(s.requests.length, 0);
  });

  it('explains a pipeline GitLab refuses (recorded)', async () => {
    s.route({ method: 'POST', path: `${PROJECT}/pipeline`, responses: [{ status: 400, file: 'gitlab/error-400-ref.json' }] });
    const err = await rejection(engine().trigger({ ref: 'nope', inputs: {}, signal: signal() }));
    assert.ok(RemoteApiError.is(err, 'invalid'));
    assert.equal(err.message, 'GitLab refused to start a pipeline of group/sub/app on gitlab.example.com on nope: Reference not found');
  });

  it('follows a pipeline that changes state between polls, with conditional requests (recorded)', async () => {
    s.route(
      {
        method: 'GET',
        path: `${PROJECT}/pipelines/5001`,
        responses: [
          { status: 200, file: 'gitlab/pipeline-running.json', etag: 'W/"p1"' },
          { status: 200, file: 'gitlab/pipeline-running.json', etag: 'W/"p1"' },
          { status: 200, file: 'gitlab/pipeline-failed.json', etag: 'W/"p2"' },
        ],
      },
      {
        method: 'GET',
        path: `${PROJECT}/pipelines/5001/jobs`,
        responses: [
          { status: 200, file: 'gitlab/pipeline-jobs-running.json', etag: 'W/"j1"' },
          { status: 200, file: 'gitlab/pipeline-jobs-running.json', etag: 'W/"j1"' },
          { status: 200, file: 'gitlab/pipeline-jobs-failed.json', etag: 'W/"j2"' },
        ],
      },
    );
    const e = engine();
    const polls = [];
    for (let i = 0; i < 3; i++) polls.push(await e.run('5001', signal()));
    assert.deepEqual(polls.map((p) => p.run.status), ['running', 'running', 'failed']);
    assert.deepEqual(polls[0]!.jobs.map((j) => `${j.stage}/${j.name}:${j.status}`), ['build/build:success', 'test/test:running', 'deploy/deploy-staging:manual']);
    assert.deepEqual(polls[2]!.jobs.map((j) => `${j.name}:${j.status}`), ['build:success', 'test:failed', 'deploy-staging:skipped']);
    assert.equal(polls[2]!.run.finishedAt, Date.parse('2024-05-03T08:02:11.000Z'));
    assert.deepEqual(s.sent('GET', `${PROJECT}/pipelines/5001`).map((r) => r.status), [200, 304, 200]);
    assert.deepEqual(s.sent('GET', `${PROJECT}/pipelines/5001/jobs`).map((r) => r.headers['if-none-match'] ?? null), [null, 'W/"j1"', 'W/"j1"']);
  });

  it('reads a running job\'s trace in whole lines from an offset with Range, then the rest once it ends (recorded)', async () => {
    s.route(
      { method: 'GET', path: `${PROJECT}/jobs/7002`, responses: [{ status: 200, file: 'gitlab/job-running.json' }, { status: 200, file: 'gitlab/job-running.json' }, { status: 200, file: 'gitlab/job-failed.json' }] },
      {
        method: 'GET',
        path: `${PROJECT}/jobs/7002/trace`,
        responses: [
          { status: 200, file: 'gitlab/trace-partial-line.txt', ranges: true },
          { status: 200, file: 'gitlab/trace-partial-line.txt', ranges: true },
          { status: 200, file: 'gitlab/trace-complete.txt', ranges: true },
        ],
      },
    );
    const e = engine();
    const running = fs.readFileSync(path.join(RECORDED, 'gitlab/trace-running.txt'));
    const complete = fs.readFileSync(path.join(RECORDED, 'gitlab/trace-complete.txt'));
    const first = await e.logs('5001', '7002', 0, signal());
    assert.equal(first.text, running.toString(), 'the unfinished last line ("> moc") waits for the next read');
    assert.equal(first.offset, running.length);
    assert.equal(first.complete, false);
    const nothingNew = await e.logs('5001', '7002', first.offset, signal());
    assert.deepEqual(nothingNew, { text: '', offset: first.offset, complete: false });
    const last = await e.logs('5001', '7002', nothingNew.offset, signal());
    assert.equal(last.text, complete.subarray(running.length).toString());
    assert.match(last.text, /^> mocha\n {2}1 failing — “login”/);
    assert.equal(last.offset, complete.length);
    assert.equal(last.complete, true);
    const traces = s.sent('GET', `${PROJECT}/jobs/7002/trace`);
    assert.deepEqual(traces.map((r) => r.headers.range ?? null), [null, `bytes=${running.length}-`, `bytes=${running.length}-`]);
    assert.deepEqual(traces.map((r) => r.status), [200, 206, 206]);
    assert.equal(traces[0]!.headers.accept, 'text/plain');
  });

  it('slices the trace itself when the server ignores Range, and reads nothing past the end (recorded)', async () => {
    s.route(
      { method: 'GET', path: `${PROJECT}/jobs/7002`, responses: [{ status: 200, file: 'gitlab/job-failed.json' }] },
      { method: 'GET', path: `${PROJECT}/jobs/7002/trace`, responses: [{ status: 200, file: 'gitlab/trace-complete.txt' }] },
    );
    const complete = fs.readFileSync(path.join(RECORDED, 'gitlab/trace-complete.txt'));
    const from = complete.indexOf('> mocha');
    const chunk = await engine().logs('5001', '7002', from, signal());
    assert.deepEqual(chunk, { text: complete.subarray(from).toString(), offset: complete.length, complete: true });
    s.route({ method: 'GET', path: `${PROJECT}/jobs/7002/trace`, responses: [{ status: 200, file: 'gitlab/trace-complete.txt', ranges: true }] });
    const end = await engine().logs('5001', '7002', complete.length, signal());
    assert.deepEqual(end, { text: '', offset: complete.length, complete: true });
    assert.equal(s.sent('GET', `${PROJECT}/jobs/7002/trace`).at(-1)!.status, 416);
    s.route({ method: 'GET', path: `${PROJECT}/jobs/7003`, responses: [{ status: 200, file: 'gitlab/job-manual.json' }] });
    assert.deepEqual(await engine().logs('5001', '7003', 0, signal()), { text: '', offset: 0, complete: false });
    assert.equal(s.sent('GET', `${PROJECT}/jobs/7003/trace`).length, 0, 'a manual job that has not run has no trace to ask for');
    const wrong = await rejection(engine().logs('4990', '7002', 0, signal()));
    assert.equal(wrong.message, 'job 7002 belongs to pipeline 5001, not to pipeline 4990');
  });

  it('plays a manual job with variables, retries and cancels jobs (recorded)', async () => {
    s.route(
      { method: 'POST', path: `${PROJECT}/jobs/7003/play`, responses: [{ status: 200, file: 'gitlab/job-played.json' }, { status: 400, file: 'gitlab/error-400-unplayable.json' }] },
      { method: 'POST', path: `${PROJECT}/jobs/7002/retry`, responses: [{ status: 201, file: 'gitlab/job-retried.json' }] },
      { method: 'POST', path: `${PROJECT}/jobs/7002/cancel`, responses: [{ status: 201, file: 'gitlab/job-canceled.json' }] },
    );
    const e = engine();
    const played = await e.playJob('7003', { TARGET: 'eu-1' }, signal());
    assert.deepEqual([played.id, played.status, played.rawStatus], ['7003', 'queued', 'pending']);
    assert.deepEqual(JSON.parse(s.sent('POST', `${PROJECT}/jobs/7003/play`)[0]!.body), { job_variables_attributes: [{ key: 'TARGET', value: 'eu-1' }] });
    const again = await rejection(e.playJob('7003', {}, signal()));
    assert.equal(again.message, 'GitLab cannot play job 7003 of group/sub/app on gitlab.example.com: 400 Bad request - Unplayable Job');
    assert.equal(s.sent('POST', `${PROJECT}/jobs/7003/play`)[1]!.body, '', 'no body without variables');
    const retried = await e.retryJob('7002', signal());
    assert.deepEqual([retried.id, retried.name, retried.status], ['7004', 'test', 'queued']);
    const cancelled = await e.cancelJob('7002', signal());
    assert.equal(cancelled.status, 'cancelled');
  });

  it('retries the failed jobs of a pipeline and cancels one (recorded)', async () => {
    s.route(
      { method: 'POST', path: `${PROJECT}/pipelines/5001/retry`, responses: [{ status: 201, file: 'gitlab/pipeline-retried.json' }] },
      { method: 'POST', path: `${PROJECT}/pipelines/5001/cancel`, responses: [{ status: 200, file: 'gitlab/pipeline-canceled.json' }] },
    );
    const e = engine();
    const retried = await e.rerunFailed('5001', signal());
    assert.deepEqual([retried.id, retried.status, retried.rawStatus], ['5001', 'queued', 'pending']);
    await e.cancel('5001', signal());
    assert.equal(s.sent('POST', `${PROJECT}/pipelines/5001/cancel`).length, 1);
  });

  it('turns 401, 403, 404 and rate limits into clear errors (recorded)', async () => {
    s.route({ method: 'GET', path: `${PROJECT}/pipelines`, responses: [{ status: 401, file: 'gitlab/error-401.json' }] });
    const e401 = await rejection(engine().runs({ limit: 5, signal: signal() }));
    assert.equal(e401.message, `GitLab on ${new URL(s.url).host} rejected the token (401): token missing or invalid: set GITLAB_TOKEN or store a GitLab token for gitlab.example.com`);

    s.route({ method: 'POST', path: `${PROJECT}/pipelines/5001/cancel`, responses: [{ status: 403, file: 'gitlab/error-403.json' }] });
    const e403 = await rejection(engine().cancel('5001', signal()));
    assert.ok(RemoteApiError.is(e403, 'forbidden'));
    assert.equal(e403.message, `GitLab on ${new URL(s.url).host} refused POST /api/v4/projects/group%2Fsub%2Fapp/pipelines/5001/cancel (403): 403 Forbidden`);

    s.route({ method: 'GET', path: `${PROJECT}/pipelines`, responses: [{ status: 404, file: 'gitlab/error-404-project.json' }] });
    const e404 = await rejection(engine().runs({ limit: 5, signal: signal() }));
    assert.equal(e404.message, 'no GitLab project group/sub/app on gitlab.example.com, or the token cannot see it');

    s.route({ method: 'GET', path: `${PROJECT}/pipelines`, responses: [{ status: 429, file: 'gitlab/error-429.json', headers: { 'retry-after': '900', 'ratelimit-remaining': '0', 'ratelimit-reset': '{{epoch+900}}' } }] });
    const limited = await rejection(engine().runs({ limit: 5, signal: signal() }));
    assert.ok(RemoteApiError.is(limited, 'rateLimit'));
    assert.match(limited.message, /^GitLab API rate limit reached on 127\.0\.0\.1:\d+; resets at \d\d:\d\d$/);
  });

  it('sends PRIVATE-TOKEN when asked to (recorded)', async () => {
    s.route({ method: 'GET', path: `${PROJECT}/pipelines`, responses: [{ status: 200, file: 'gitlab/pipelines-page2.json' }] });
    await engine({ tokenHeader: 'private-token' }).runs({ limit: 1, signal: signal() });
    assert.equal(s.requests[0]!.headers['private-token'], TOKEN);
    assert.equal(s.requests[0]!.headers.authorization, undefined);
  });
});
