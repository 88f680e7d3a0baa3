// Command arguments: one parser per command id, from a tree row's ids, a JSON object (automation, the webview), or
// nothing; every accepted shape the integration and e2e tests use keeps working.
import * as assert from 'node:assert/strict';
import { idInFolder, parseCommandArg, scopedKey, type NodeTarget } from '../../src/shared/commandArgs';

const row = (t: NodeTarget) => ({ target: () => t, state: { stale: true } });

describe('command arguments', () => {
  it('no argument: the command asks', () => {
    assert.deepEqual(parseCommandArg('delivery.environment.deploy', undefined), { arg: null });
    assert.deepEqual(parseCommandArg('delivery.pipeline.run', null), { arg: null });
  });

  it('accepts the JSON shapes automation and the webview send', () => {
    const table: [Parameters<typeof parseCommandArg>[0], unknown, unknown][] = [
      ['delivery.pipeline.run', { folder: '/w', pipeline: 'ci' }, { folder: '/w', pipeline: 'ci' }],
      ['delivery.pipeline.run', { folder: '/w', pipelineKey: 'delivery.yml#ci' }, { folder: '/w', pipelineKey: 'delivery.yml#ci' }],
      ['delivery.job.run', { folder: '/w', pipeline: 'ci', jobs: ['lint'] }, { folder: '/w', pipeline: 'ci', jobs: ['lint'] }],
      ['delivery.job.run', { folder: '/w', pipelineKey: 'delivery.yml#ci', jobs: ['lint'], withNeeds: true }, { folder: '/w', pipelineKey: 'delivery.yml#ci', jobs: ['lint'], withNeeds: true }],
      ['delivery.pipeline.run', { folder: '/w', pipeline: 'deploy', inputs: { target: 'staging', 'dry-run': false, replicas: 2 } }, { folder: '/w', pipeline: 'deploy', inputs: { target: 'staging', 'dry-run': 'false', replicas: '2' } }],
      ['delivery.run.cancel', { runId: 'r1' }, { runId: 'r1' }],
      ['delivery.run.rerunFailed', { folder: '/w', pipelineKey: 'delivery.yml#ci', runId: 'r1', failedOnly: true }, { folder: '/w', pipelineKey: 'delivery.yml#ci', runId: 'r1', failedOnly: true }],
      ['delivery.run.rerunFailed', { folder: '/w', pipeline: 'ci' }, { folder: '/w', pipeline: 'ci', failedOnly: true }],
      ['delivery.run.showLog', { logFile: '/l/build.log' }, { logFile: '/l/build.log' }],
      ['delivery.panel.open', { runId: 'r1' }, { runId: 'r1' }],
      ['delivery.environment.deploy', { folder: '/w', environment: 'qa', confirmed: { environmentName: 'qa' } }, { folder: '/w', environment: 'qa' }],
      ['delivery.environment.diff', { folder: '/w', environment: 'prod', to: 'qa' }, { folder: '/w', environment: 'prod', to: 'qa' }],
      ['delivery.secret.set', { name: 'TOKEN', value: '' }, { name: 'TOKEN', value: '' }],
      ['delivery.remote.trigger', { folder: '/w', pipeline: 'slow', ref: 'main', inputs: { env: 'dev', n: 2, on: false } }, { folder: '/w', pipeline: 'slow', ref: 'main', inputs: { env: 'dev', n: '2', on: 'false' } }],
      ['delivery.remote.cancel', { folder: '/w', pipeline: 'slow', runId: '7' }, { folder: '/w', pipeline: 'slow', runId: '7' }],
      ['delivery.remote.showLog', { folder: '/w', pipelineKey: 'k', runId: '7', jobId: 'j', jobName: 'Build' }, { folder: '/w', pipelineKey: 'k', runId: '7', jobId: 'j', jobName: 'Build' }],
    ];
    for (const [id, raw, want] of table) assert.deepEqual(parseCommandArg(id, raw), { arg: want }, `${id} ${JSON.stringify(raw)}`);
  });

  it('refuses a malformed argument with a message naming the field', () => {
    const table: [Parameters<typeof parseCommandArg>[0], unknown, RegExp][] = [
      ['delivery.environment.deploy', { folder: '/w' }, /deploy: "environment" is required/],
      ['delivery.environment.deploy', { environment: 3 }, /"environment" must be a non-empty string/],
      ['delivery.pipeline.run', { folder: '/w' }, /"pipelineKey" or "pipeline" is required/],
      ['delivery.job.run', { folder: '/w', pipeline: 'ci', jobs: 'lint' }, /"jobs" must be a list of names/],
      ['delivery.job.run', { folder: '/w', pipeline: 'ci', jobs: ['lint'], withNeeds: 'yes' }, /"withNeeds" must be true or false/],
      ['delivery.run.rerunFailed', { folder: '/w', pipeline: 'ci', failedOnly: 'yes' }, /"failedOnly" must be true or false/],
      ['delivery.remote.trigger', { folder: '/w', pipeline: 'x', inputs: { a: {} } }, /"inputs.a" must be a string, number or boolean/],
      ['delivery.environment.openUrl', 'staging', /takes an object argument, not string/],
      ['delivery.environment.openUrl', ['staging'], /not a list/],
    ];
    for (const [id, raw, want] of table) {
      const r = parseCommandArg(id, raw);
      assert.ok('error' in r && want.test(r.error), `${id} ${JSON.stringify(raw)}: ${JSON.stringify(r)}`);
    }
  });

  it('a tree row is read by the ids it carries, never by state captured in the node', () => {
    const env = row({ node: 'environment', folder: '/w', environment: 'staging' });
    assert.deepEqual(parseCommandArg('delivery.environment.deploy', env), { arg: { folder: '/w', environment: 'staging' } });
    const deploy = row({ node: 'deploy', folder: '/w', environment: 'staging', sha: 'abc', logFile: '/l/d.log' });
    assert.deepEqual(parseCommandArg('delivery.environment.rollback', deploy), { arg: { folder: '/w', environment: 'staging', to: 'abc' } });
    assert.deepEqual(parseCommandArg('delivery.run.showLog', deploy), { arg: { logFile: '/l/d.log' } });
    const job = row({ node: 'job', folder: '/w', pipelineKey: 'delivery.yml#ci', jobId: 'lint', logFile: null });
    assert.deepEqual(parseCommandArg('delivery.job.run', job), { arg: { folder: '/w', pipelineKey: 'delivery.yml#ci', jobs: ['lint'] } });
    assert.deepEqual(parseCommandArg('delivery.pipeline.run', job), { arg: { folder: '/w', pipelineKey: 'delivery.yml#ci' } }, 'Run Pipeline on a job row runs its pipeline');
    assert.deepEqual(parseCommandArg('delivery.run.rerunFailed', job), { arg: { folder: '/w', pipelineKey: 'delivery.yml#ci', failedOnly: true } });
    const remoteJob = row({ node: 'remoteJob', folder: '/w', pipelineKey: 'k', runId: '9', jobId: 'j1', jobName: 'Build' });
    assert.deepEqual(parseCommandArg('delivery.remote.cancel', remoteJob), { arg: { folder: '/w', pipelineKey: 'k', runId: '9' } });
    assert.deepEqual(parseCommandArg('delivery.remote.showLog', remoteJob), { arg: { folder: '/w', pipelineKey: 'k', runId: '9', jobId: 'j1', jobName: 'Build' } });
    assert.deepEqual(parseCommandArg('delivery.panel.open', row({ node: 'pipeline', folder: '/w', pipelineKey: 'k' })), { arg: null }, 'a row the command does not act on: it asks');
  });

  it('scoped keys: one per folder and id, and back', () => {
    const k = scopedKey('/w/a', 'delivery.yml#ci');
    assert.notEqual(k, scopedKey('/w', 'a/delivery.yml#ci'));
    assert.equal(idInFolder(k, '/w/a'), 'delivery.yml#ci');
    assert.equal(idInFolder(k, '/w'), null);
  });
});
