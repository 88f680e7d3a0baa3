import * as assert from 'node:assert/strict';
import { parseDeliveryConfig } from '../../src/core/config/delivery';

function problems(text: string) {
  return parseDeliveryConfig(text).problems.map((p) => `${p.line}:${p.column} ${p.message}`);
}

describe('delivery.yml parsing', () => {
  it('reads pipelines, jobs, steps and their options', () => {
    const cfg = parseDeliveryConfig(`version: 1
pipelines:
  ci:
    name: CI
    env: { NODE_ENV: test, N: 3 }
    jobs:
      install: { run: npm ci }
      lint: { run: npm run lint, needs: [install], stage: check }
      test:
        needs: install
        stage: check
        steps:
          - { name: unit, run: npm test }
          - run: echo two
        cwd: packages/api
        env: { CI: "true" }
        timeout: 10m
        retries: 1
        allowFailure: true
        when: always
        reports: { junit: "reports/*.xml" }
        artifacts: ["dist/**"]
environments:
  staging: { url: http://127.0.0.1:1, promotesFrom: dev }
  dev: {}
`);
    assert.deepEqual(cfg.problems, []);
    const ci = cfg.pipelines[0];
    assert.equal(ci.id, 'ci');
    assert.equal(ci.name, 'CI');
    assert.deepEqual(ci.env, { NODE_ENV: 'test', N: '3' });
    assert.deepEqual(ci.jobs.map((j) => j.id), ['install', 'lint', 'test']);
    const test = ci.jobs[2];
    assert.deepEqual(test.needs, ['install']);
    assert.equal(test.timeoutMs, 600_000);
    assert.equal(test.retries, 1);
    assert.equal(test.allowFailure, true);
    assert.equal(test.when, 'always');
    assert.equal(test.cwd, 'packages/api');
    assert.deepEqual(test.reports.junit, ['reports/*.xml']);
    assert.deepEqual(test.artifacts, ['dist/**']);
    assert.deepEqual(test.steps.map((s) => [s.name, s.script]), [['unit', 'npm test'], [null, 'echo two']]);
    assert.deepEqual(test.location, { file: 'delivery.yml', line: 9, column: 7 });
    assert.deepEqual(cfg.environments.map((e) => [e.id, e.url, e.promotesFrom]), [['staging', 'http://127.0.0.1:1', 'dev'], ['dev', null, null]]);
  });

  it('locates unknown keys, with a suggestion for typos', () => {
    assert.deepEqual(problems('version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: x, neds: [b] }\n'), [
      '5:20 job "a": unknown key "neds" (did you mean "needs"?)',
    ]);
  });

  it('locates wrong types', () => {
    assert.deepEqual(problems('version: 1\npipelines:\n  ci:\n    jobs:\n      a:\n        run: x\n        retries: many\n        allowFailure: 3\n'), [
      '7:18 job "a": "retries" must be a whole number from 0 to 10, not the string "many"',
      '8:23 job "a": "allowFailure" must be true or false, not number 3',
    ]);
  });

  it('reports needs naming a missing job, itself, and cycles', () => {
    assert.deepEqual(problems('version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: x, needs: [ghost] }\n      b: { run: x, needs: [b] }\n'), [
      '5:28 job "a" needs "ghost", which is not a job of pipeline "ci"',
      '6:28 job "b" needs itself',
    ]);
    const cycle = problems('version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: x, needs: [c] }\n      b: { run: x, needs: [a] }\n      c: { run: x, needs: [b] }\n');
    assert.equal(cycle.length, 1);
    assert.match(cycle[0], /^5:28 jobs form a cycle through "needs": a → c → b → a$/);
  });

  it('reports duplicate ids (YAML keys) at the second one', () => {
    const p = problems('version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: x }\n      a: { run: y }\n');
    assert.equal(p.length, 1);
    assert.match(p[0], /^6:7 Map keys must be unique/);
  });

  it('reports bad durations and a job with neither run nor steps', () => {
    assert.deepEqual(problems('version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: x, timeout: 10 minutes }\n      b: { stage: s }\n'), [
      '5:29 job "a": "timeout" must be a duration such as 30s, 10m or 1h30m, not the string "10 minutes"',
      '6:7 job "b": add "run" (a script) or "steps" (a list of {name, run})',
    ]);
  });

  it('reports empty, binary and non-UTF-8 files and malformed YAML', () => {
    assert.deepEqual(problems(''), ['1:1 delivery.yml is empty: add "version: 1" and at least one pipeline or environment']);
    assert.deepEqual(problems('\u0000\u0001bin'), ['1:1 file is binary (contains NUL bytes), not YAML']);
    assert.deepEqual(problems('version: 1\nname: caf\uFFFD\n'), ['2:10 file is not valid UTF-8']);
    const bad = problems('version: 1\npipelines:\n  ci: [unclosed\n');
    assert.ok(bad.length >= 1 && /^\d+:\d+ /.test(bad[0]), bad.join('\n'));
  });

  it('rejects ids with shell metacharacters instead of running anything with them', () => {
    const p = problems('version: 1\npipelines:\n  "$(touch pwned)":\n    jobs:\n      "a;b": { run: x }\n');
    assert.deepEqual(p, [
      '3:3 pipeline id "$(touch pwned)" may contain only letters, digits, "_", "." and "-" (at most 100, not starting with "." or "-")',
    ]);
  });

  it('checks the version and stage lists', () => {
    assert.deepEqual(problems('version: 2\npipelines:\n  ci:\n    stages: [build]\n    jobs:\n      a: { run: x, stage: test }\n'), [
      '1:10 delivery.yml: unsupported version number 2; this extension reads version 1',
      '6:7 job "a": stage "test" is not listed in the pipeline\'s stages (build)',
    ]);
  });
});
