// The pure deploy decisions (variables, steps, confirmations, lock staleness, push rejections) and the state
// machine, plus the lock under real concurrent acquirers.
import * as assert from 'node:assert/strict';
import { localStateStore } from '../../src/adapters/deploy/state/local';
import { lockHere } from '../../src/adapters/deploy/state';
import { acquireLock, newHolder } from '../../src/core/environments/teamState';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import {
  confirmAll,
  deployVariables,
  expandDeliveryVariables,
  gitPushRejection,
  needsConfirmation,
  ciSummary,
  planDeploySteps,
  unconfirmed,
  versionMatches,
  type DeployStepPlan,
} from '../../src/core/environments/deploy';
import { newDeployRecord, startDeployRun, type DeployEvent, type DeployStepOutcome } from '../../src/core/environments/deployRun';
import type { DeployRecord } from '../../src/shared/model';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { systemClock } from '../../src/adapters/clock';

const SHA = '0123456789abcdef0123456789abcdef01234567';

function envs(yaml: string) {
  const cfg = parseDeliveryConfig(`version: 1\nenvironments:\n${yaml}`);
  assert.deepEqual(cfg.problems, []);
  return cfg.environments;
}

describe('deploy decisions (core)', () => {
  after(cleanupTempDirs);

  it('gives every step the DELIVERY_* variables', () => {
    assert.deepEqual(deployVariables({ environment: 'prod', sha: SHA, ref: 'main', previousSha: null }), {
      DELIVERY_ENV: 'prod', DELIVERY_SHA: SHA, DELIVERY_SHORT_SHA: '0123456', DELIVERY_REF: 'main', DELIVERY_PREVIOUS_SHA: '',
    });
  });

  it('expands ${DELIVERY_*} in paths, rejects unknown variables and line breaks, leaves other ${...} alone', () => {
    const vars = deployVariables({ environment: 'prod', sha: SHA, ref: 'a\nb', previousSha: null });
    assert.deepEqual(expandDeliveryVariables('/srv/releases/${DELIVERY_SHORT_SHA}/${HOME}', vars), { value: '/srv/releases/0123456/${HOME}' });
    assert.deepEqual(expandDeliveryVariables('/srv/${DELIVERY_NOPE}', vars), {
      error: 'unknown variable ${DELIVERY_NOPE} (known: DELIVERY_ENV, DELIVERY_SHA, DELIVERY_SHORT_SHA, DELIVERY_REF, DELIVERY_PREVIOUS_SHA)',
    });
    assert.deepEqual(expandDeliveryVariables('/srv/${DELIVERY_REF}', vars), { error: '"/srv/${DELIVERY_REF}" expands to a value with a line break' });
  });

  it('plans build pipeline → method steps → version → health for each method', () => {
    const list = envs(`  a:
    deploy: { pipeline: ci, ssh: { host: h }, upload: { from: dist, to: /srv/x }, run: ./go }
    version: { http: "http://h/v" }
    health: { http: "http://h/health" }
  b: { deploy: { ssh: { host: h }, run: ./go } }
  c: { deploy: { http: { url: "http://h/hook", status: { url: "http://h/s", json: s, success: [ok] } } } }
  d: { deploy: { docker: { build: ., image: app, push: true, run: { name: app } } } }
  e: { deploy: { docker: { image: app, run: { name: app } } } }
  f: {}
`.replace('pipeline: ci, ', ''));
    const names = (i: number) => {
      const p = planDeploySteps(list[i]);
      return 'error' in p ? p.error : p.map((s: DeployStepPlan) => s.id);
    };
    assert.deepEqual(names(0), ['ssh.prepare', 'ssh.upload', 'ssh.run', 'version', 'health']);
    assert.deepEqual(names(1), ['ssh.run']);
    assert.deepEqual(names(2), ['http.hook', 'http.status']);
    assert.deepEqual(names(3), ['docker.build', 'docker.push', 'docker.run']);
    assert.deepEqual(names(4), ['docker.run']);
    assert.equal(names(5), 'environment "f" has no "deploy" in delivery.yml');
  });

  it('asks the same questions everywhere; only the typed name confirms a protected environment', () => {
    const env = { id: 'production', name: 'Production', protected: true };
    const reverts = [{ sha: SHA, subject: 'fix login' }];
    const reasons = needsConfirmation(env, { action: 'deploy', dirty: true, reverts });
    assert.deepEqual(reasons.map((r) => r.kind), ['protected', 'dirty', 'reverts']);
    assert.equal(reasons[2].message, 'this deploy reverts 1 deployed commit of "production" that the target does not contain: 0123456 fix login');
    assert.deepEqual(unconfirmed(env, reasons, { dirty: true, reverts: true }).map((r) => r.kind), ['protected']);
    assert.deepEqual(unconfirmed(env, reasons, { environmentName: 'Production', dirty: true, reverts: true }).map((r) => r.kind), ['protected']);
    assert.deepEqual(unconfirmed(env, reasons, confirmAll(env)), []);
    assert.deepEqual(needsConfirmation({ ...env, protected: false }, { action: 'rollback', dirty: true, reverts: [] }), [], 'a rollback deploys a commit, not the tree');
  });

  it('a failed last run at the commit is a reason to confirm, named with its pipeline and jobs; a passed one is not', () => {
    const env = { id: 'staging', name: 'Staging', protected: false };
    const run = { id: '20261202-1', pipelineId: 'ci', pipelineName: 'CI', status: 'failed' as const, failedJobs: 1, totalJobs: 3, finishedAt: 1 };
    const reasons = needsConfirmation(env, { action: 'deploy', dirty: false, reverts: [], ci: { run, sha: SHA } });
    assert.deepEqual(reasons, [{ kind: 'ci', message: 'the last run of CI at 0123456 failed: 1 of 3 jobs failed (run 20261202-1)' }]);
    assert.deepEqual(unconfirmed(env, reasons, {}).map((r) => r.kind), ['ci']);
    assert.deepEqual(unconfirmed(env, reasons, { ci: true }), []);
    assert.deepEqual(unconfirmed(env, reasons, confirmAll(env)), [], '--yes confirms it too');
    assert.deepEqual(needsConfirmation(env, { action: 'deploy', dirty: false, reverts: [], ci: { run: { ...run, status: 'success', failedJobs: 0 }, sha: SHA } }), []);
    assert.equal(ciSummary({ ...run, status: 'success', failedJobs: 0 }, SHA), 'CI: CI passed at 0123456 (run 20261202-1)');
  });

  it('turns git push --porcelain output into one clear reason', () => {
    assert.equal(gitPushRejection(['To x', '*\tabc:refs/heads/main\t[new branch]', 'Done']), null);
    assert.equal(
      gitPushRejection(['remote: frozen until Monday', 'To x', '!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)', 'Done']),
      'git push remote rejected (pre-receive hook declined); the remote said: frozen until Monday',
    );
    assert.match(gitPushRejection(['!\tabc:refs/heads/main\t[rejected] (non-fast-forward)']) ?? '', /set "force: true"/);
  });

  it('matches reported versions to the commit', () => {
    assert.equal(versionMatches(SHA, SHA), true);
    assert.equal(versionMatches('0123456', SHA), true);
    assert.equal(versionMatches('01234', SHA), false);
    assert.equal(versionMatches('v1.0.0', SHA), false);
  });
});

describe('deploy state machine (core)', () => {
  const steps: DeployStepPlan[] = [
    { id: 'command', name: 'deploy command' },
    { id: 'version', name: 'check the deployed version' },
    { id: 'health', name: 'health check' },
  ];
  function run(outcomes: Record<string, (signal: AbortSignal) => Promise<DeployStepOutcome>>, timeoutMs = 10_000) {
    const saved: string[] = [];
    const record = newDeployRecord(
      { id: 'd1', environment: 'prod', folder: '/f', action: 'deploy', sha: SHA, ref: 'HEAD', previousSha: null, user: 'u@h', trigger: 'cli', pid: 1 },
      steps,
      Date.now(),
      null,
    );
    const handle = startDeployRun(record, steps, {
      executor: {
        execute: async (step, io) => {
          io.line('stdout', `running ${step.id} with token hunter22`);
          return outcomes[step.id](io.signal);
        },
      },
      save: async (r: DeployRecord) => void saved.push(r.status),
      log: null,
      timeoutMs,
      clock: systemClock,
      redact: (s) => s.split('hunter22').join('***'),
    });
    const events: DeployEvent[] = [];
    const transitions: string[] = [];
    handle.onEvent((e) => {
      events.push(e);
      if (e.type === 'step') transitions.push(`${e.index}:${e.step.status}`); // the step record is live: read it now
    });
    return { handle, events, saved, transitions };
  }
  const ok = async (): Promise<DeployStepOutcome> => ({ status: 'success' });

  it('runs the steps in order and records the health', async () => {
    const { handle, events, saved, transitions } = run({ command: ok, version: ok, health: async () => ({ status: 'success', health: 'up' }) });
    const r = await handle.done;
    assert.equal(r.status, 'success');
    assert.equal(r.health, 'up');
    assert.deepEqual(r.steps.map((s) => s.status), ['success', 'success', 'success']);
    assert.deepEqual(transitions, ['0:running', '0:success', '1:running', '1:success', '2:running', '2:success']);
    assert.equal(events.at(-1)?.type, 'end');
    assert.ok(events.some((e) => e.type === 'line' && e.text === 'running command with token ***'));
    assert.ok(!JSON.stringify(events.map((e) => (e.type === 'line' ? e.text : ''))).includes('hunter22'));
    assert.equal(saved.at(-1), 'success');
  });

  it('stops at the first failure, skips the rest, masks the reason', async () => {
    const { handle } = run({ command: async () => ({ status: 'failed', reason: 'exited with code 3 (hunter22)' }), version: ok, health: ok });
    const r = await handle.done;
    assert.equal(r.status, 'failed');
    assert.equal(r.reason, 'deploy command failed: exited with code 3 (***)');
    assert.deepEqual(r.steps.map((s) => s.status), ['failed', 'skipped', 'skipped']);
  });

  it('a failed health check fails the deploy and says the release stays', async () => {
    const { handle } = run({ command: ok, version: ok, health: async () => ({ status: 'failed', health: 'down', reason: 'HTTP 503' }) });
    const r = await handle.done;
    assert.equal(r.health, 'down');
    assert.equal(r.reason, 'health check failed: HTTP 503 (the new release stays deployed: roll back to undo it)');
  });

  const untilAborted = (signal: AbortSignal) =>
    new Promise<DeployStepOutcome>((resolve) => signal.addEventListener('abort', () => resolve({ status: 'failed', reason: 'killed by SIGTERM' }), { once: true }));

  it('cancel aborts the running step and cancels the rest', async () => {
    const { handle } = run({ command: untilAborted, version: ok, health: ok });
    setTimeout(() => handle.cancel(), 20);
    const r = await handle.done;
    assert.equal(r.status, 'cancelled');
    assert.deepEqual(r.steps.map((s) => [s.status, s.reason]), [['cancelled', 'cancelled'], ['cancelled', 'deploy cancelled'], ['cancelled', 'deploy cancelled']]);
  });

  it('the deploy timeout aborts the running step and fails the deploy', async () => {
    const { handle } = run({ command: untilAborted, version: ok, health: ok }, 50);
    const r = await handle.done;
    assert.equal(r.status, 'failed');
    assert.match(r.reason ?? '', /^the deploy timed out after 0 s; its processes were stopped$/);
  });
});

describe('deploy lock, local store (real files, concurrent acquirers)', () => {
  after(cleanupTempDirs);
  const clock = systemClock;
  const hereAs = (user: string) => ({ ...lockHere(user), clock });

  it('exactly one of many racing acquirers wins; the others are told who holds it', async () => {
    const dir = tempDir();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const store = localStateStore(dir, 'prod');
        const here = hereAs(`u${i}`);
        here.activeDeploys.add(`d${i}`);
        return acquireLock(store, 'prod', newHolder(here, { deployId: `d${i}`, sha: null, message: null, expiresAfterMs: 60_000 }), here);
      }),
    );
    const winners = results.filter((r) => r.ok);
    assert.equal(winners.length, 1);
    const store = localStateStore(dir, 'prod');
    const held = (await store.readLock())!.holder;
    for (const r of results) if (!r.ok) assert.equal(r.holder.deployId, held.deployId);
    assert.ok(await store.swapLock(held.token, null));
    assert.equal(await store.readLock(), null);
  });

  it('racing takeovers of a stale lock still leave exactly one holder (20 rounds)', async () => {
    const fs = await import('node:fs');
    for (let round = 0; round < 20; round++) {
      const dir = tempDir();
      const old = hereAs('x');
      const stale = newHolder(old, { deployId: 'stale', sha: null, message: null, expiresAfterMs: 1000 });
      assert.ok((await localStateStore(dir, 'prod').createLock({ ...stale, host: 'elsewhere', renewedAt: Date.now() - 10 * 60_000 })).ok);
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => {
          const here = hereAs(`n${i}`);
          here.activeDeploys.add(`n${i}`);
          return acquireLock(localStateStore(dir, 'prod'), 'prod', newHolder(here, { deployId: `n${i}`, sha: null, message: null, expiresAfterMs: 60_000 }), here);
        }),
      );
      const winners = results.filter((r) => r.ok);
      assert.equal(winners.length, 1, `round ${round}`);
      const holder = (await localStateStore(dir, 'prod').readLock())!.holder;
      assert.match(holder.deployId ?? '', /^n\d+$/);
      for (const r of results) if (!r.ok) assert.equal(r.holder.deployId, holder.deployId, `round ${round}: a loser names the holder`);
      assert.deepEqual(fs.readdirSync(`${dir}/team/prod`).sort(), ['history.jsonl', 'lock.json'], 'no temporary or mutex files are left');
      const history = await localStateStore(dir, 'prod').readHistory();
      assert.deepEqual(history.map((e) => [e.id, e.status]), [['stale', 'interrupted']], 'the abandoned deploy is recorded once');
    }
  });
});
