// The pure parts of the GitHub Actions remote engine: status mapping and dispatch-input checks. The engine against
// a server replaying recorded GitHub responses is in test/system/remoteGithub.test.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { githubStatus } from '../../src/adapters/remote/github';
import { checkDispatchInputs, dispatchDefinition } from '../../src/adapters/remote/githubInputs';
import type { TriggerInput } from '../../src/core/remote/types';
import { RECORDED } from '../support/replay';

const CI_YML = fs.readFileSync(path.join(RECORDED, 'github/ci.yml'), 'utf8');

describe('GitHub Actions engine', () => {
  it('maps GitHub statuses and conclusions', () => {
    assert.equal(githubStatus('queued', null), 'queued');
    assert.equal(githubStatus('waiting', null), 'manual');
    assert.equal(githubStatus('in_progress', null), 'running');
    assert.equal(githubStatus('completed', 'success'), 'success');
    assert.equal(githubStatus('completed', 'timed_out'), 'failed');
    assert.equal(githubStatus('completed', 'cancelled'), 'cancelled');
    assert.equal(githubStatus('completed', 'skipped'), 'skipped');
    assert.equal(githubStatus('completed', 'action_required'), 'manual');
    assert.equal(githubStatus('completed', null), 'unknown');
  });
});

describe('GitHub dispatch inputs', () => {
  const declared: TriggerInput[] = dispatchDefinition('.github/workflows/ci.yml', CI_YML).inputs;

  it('reads inputs with their types, options, defaults and descriptions from the workflow file', () => {
    assert.deepEqual(declared.map((i) => [i.name, i.type, i.required, i.default]), [
      ['environment', 'environment', true, null],
      ['log-level', 'choice', false, 'info'],
      ['dry-run', 'boolean', false, 'false'],
      ['replicas', 'number', false, '2'],
      ['note', 'string', false, null],
    ]);
    assert.equal(dispatchDefinition('w.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: a\n').dispatchable, false);
  });

  it('accepts good values and sends only what was given, leaving defaults to GitHub', () => {
    assert.deepEqual(checkDispatchInputs('ci.yml', declared, { environment: 'anything', 'dry-run': 'false', replicas: '-1.5', note: '' }), {
      values: { environment: 'anything', 'dry-run': 'false', replicas: '-1.5' },
    });
  });

  it('refuses unknown inputs when the workflow declares none', () => {
    assert.deepEqual(checkDispatchInputs('deploy.yml', [], { x: '1' }), { errors: ['deploy.yml declares no workflow_dispatch inputs, so "x" cannot be given'] });
  });

  it('limits a dispatch to 25 inputs', () => {
    const many = Array.from({ length: 26 }, (_, i): TriggerInput => ({ name: `i${i}`, type: 'string', description: null, required: false, default: null, options: [] }));
    const r = checkDispatchInputs('ci.yml', many, Object.fromEntries(many.map((m) => [m.name, 'v'])));
    assert.deepEqual(r, { errors: ['GitHub accepts at most 25 inputs in one dispatch, not 26'] });
  });
});
