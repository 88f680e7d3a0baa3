// The deploy use case with in-memory ports: every decision the service makes (pre-flight refusals, probe versus
// history, the rollback target, the promote rule, confirmations, the lock, checkouts, secrets, the record at each
// stage) without a process, a socket or a file.
import * as assert from 'node:assert/strict';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import type { EnvironmentConfig } from '../../src/core/config/delivery';
import type { LockHere } from '../../src/core/environments/teamState';
import { fakeHere, MemoryStateStore } from '../support/memoryStateStore';
import type { DeployExecutor, DeployStepOutcome } from '../../src/core/environments/deployRun';
import {
  deployedCommit,
  environmentHistory,
  deployPreflight,
  locatedProblem,
  prepareDeploy,
  preparePromote,
  prepareRollback,
  rollbackChoices,
  rollbackTarget,
  startDeploy,
  type DeployedVersion,
  type DeployPorts,
  type DeployPreparation,
  type DeployStepsRequest,
} from '../../src/core/environments/deployService';
import type { JobLog } from '../../src/core/engine/ports';
import type { MetricSeries, MetricValue } from '../../src/core/environments/metrics';
import type { DeployRecord, DeployStatus, Health } from '../../src/shared/model';
import { systemClock } from '../../src/adapters/clock';

const sha = (c: string) => c.repeat(40);
const A = sha('a');
const B = sha('b');
const C = sha('c');
const D = sha('d');
const HEAD = sha('e');

function config(yaml: string) {
  return parseDeliveryConfig(`version: 1\n${yaml}`);
}

function envs(yaml: string): EnvironmentConfig[] {
  const cfg = config(`environments:\n${yaml}`);
  assert.deepEqual(cfg.problems, []);
  return cfg.environments;
}

function env(yaml: string, id = 'staging'): EnvironmentConfig {
  const e = envs(yaml).find((x) => x.id === id);
  assert.ok(e, id);
  return e;
}

function record(id: string, s: string, status: DeployStatus, environment = 'staging'): DeployRecord {
  return {
    id, environment, folder: '/w', action: 'deploy', sha: s, ref: s, previousSha: null, status, startedAt: 0, finishedAt: 1, durationMs: 1,
    user: 'u@h', trigger: 'cli', pid: 1, steps: [], health: null, buildRunId: null, logFile: null, reason: null,
  };
}

/** In-memory ports: what the service asked for and what it wrote, for the assertions. */
class Fakes {
  /** Per environment, newest first. */
  history = new Map<string, DeployRecord[]>();
  saved: DeployRecord[] = [];
  failSave: Error | null = null;
  discarded: string[] = [];
  logLines: string[] = [];
  versions = new Map<string, DeployedVersion>();
  refs = new Map<string, string>([['HEAD', HEAD], ['main', HEAD], [A, A], [B, B], [C, C], [D, D]]);
  head: { sha: string | null; dirty: boolean } = { sha: HEAD, dirty: false };
  reverts: { sha: string; subject: string }[] | null = [];
  stores = new Map<string, MemoryStateStore>();
  here: LockHere | null = null;
  checkouts: string[] = [];
  removed = 0;
  secrets: Record<string, string> = {};
  executed: string[] = [];
  executorDirs: string[] = [];
  executorRequests: DeployStepsRequest[] = [];
  outcomes: Record<string, DeployStepOutcome> = {};
  /** Answers of the health check, one per look (the last one repeats). */
  health: { health: Health; detail: string | null }[] = [{ health: 'up', detail: 'HTTP 200' }];
  healthChecks = 0;
  /** Answers of the version probe during the deploy's version check, one per look (the last one repeats). */
  probeAnswers: DeployedVersion[] | null = null;
  probes = 0;
  t = 1_000;
  ids = 0;
  /** Prometheus answers by query: a function of the fake clock's time (ms since the first deploy step). */
  metric: Record<string, (t: number) => MetricValue> = {};
  rangeAnswer: MetricSeries = { points: [] };
  queries: { query: string; t: number }[] = [];

  ports(): DeployPorts {
    return {
      history: {
        list: async (environment, limit) => (this.history.get(environment) ?? []).slice(0, limit),
        save: async (r) => {
          if (this.failSave) throw this.failSave;
          this.saved.push(structuredClone(r));
        },
        openLog: (environment, id): JobLog => ({
          path: `/state/deploys/${environment}/${id}/deploy.log`,
          write: (_s, text) => void this.logLines.push(text),
          close: async () => undefined,
        }),
        discard: async (environment, id) => void this.discarded.push(`${environment}/${id}`),
        newId: () => `d${++this.ids}`,
      },
      team: {
        store: (e) => this.store(e.id),
        here: (this.here ??= fakeHere(this.clock())),
      },
      git: {
        resolveCommit: async (ref) => (this.refs.has(ref) ? { sha: this.refs.get(ref)! } : { error: `"${ref}" does not name a commit in /w` }),
        head: async () => this.head,
        reverted: async () => this.reverts,
        checkout: async (s) => {
          this.checkouts.push(s);
          return { dir: `/state/checkouts/${s.slice(0, 12)}`, remove: async () => void this.removed++ };
        },
      },
      readVersion: async (e) => {
        if (this.probeAnswers) return this.probeAnswers[Math.min(this.probes++, this.probeAnswers.length - 1)];
        return this.versions.get(e.id) ?? { sha: null, raw: null, error: 'connection refused' };
      },
      checkHealth: async () => this.health[Math.min(this.healthChecks++, this.health.length - 1)],
      metrics: {
        query: async (_src, query) => {
          this.queries.push({ query, t: this.t });
          return this.metric[query]?.(this.t) ?? { problem: { kind: 'empty', message: 'no series' } };
        },
        queryRange: async () => this.rangeAnswer,
      },
      probe: async () => ({ ok: true, latencyMs: 5, detail: null }),
      secrets: async (name) => this.secrets[name],
      executor: (req): DeployExecutor => {
        this.executorRequests.push(req);
        this.executorDirs.push(req.dir);
        return {
          execute: async (step) => {
            this.executed.push(step.id);
            this.t += 10;
            return this.outcomes[step.id] ?? { status: 'success' };
          },
        };
      },
      clock: this.clock(),
      host: { user: 'ann@box', pid: 4242 },
    };
  }

  clock() {
    return { ...systemClock, now: () => this.t, sleep: async (ms: number) => void (this.t += ms) };
  }

  store(environment: string): MemoryStateStore {
    if (!this.stores.has(environment)) this.stores.set(environment, new MemoryStateStore(environment));
    return this.stores.get(environment)!;
  }

  /** Locks taken, in every environment. */
  get acquired(): string[] {
    return [...this.stores.values()].flatMap((s) => s.created);
  }

  get released(): number {
    return [...this.stores.values()].reduce((n, s) => n + s.removed, 0);
  }
}

const request = (environment: EnvironmentConfig) => ({ folder: '/w', environment, trigger: 'cli' as const });

async function prepared(f: Fakes, e: EnvironmentConfig, ref?: string): Promise<DeployPreparation> {
  const p = await prepareDeploy({ ...request(e), ref }, f.ports());
  if ('error' in p) throw new Error(p.error);
  return p;
}

describe('deploy service (core, in-memory ports)', () => {
  describe('pre-flight', () => {
    const broken = `pipelines:\n  ci:\n    jobs:\n      a: { run: make, needs: [a] }\nenvironments:\n  staging:\n    deploy: { command: ./go }\n  bare: {}\n`;

    it('refuses an environment whose delivery.yml has errors, with the errors located', () => {
      const cfg = config(broken);
      assert.ok(cfg.environments.some((e) => e.id === 'staging'), 'the environment itself is read');
      const pre = deployPreflight(cfg, 'staging');
      assert.equal(pre.ok, false);
      if (pre.ok) return;
      assert.equal(pre.reason, 'invalid-file');
      assert.equal(pre.message, 'delivery.yml has 1 error; nothing was deployed');
      assert.deepEqual(pre.problems.map(locatedProblem), ['delivery.yml:5:31: job "a" needs itself']);
    });

    it('says where delivery.yml is wrong when the environment could not be read at all', () => {
      const cfg = config(`environments:\n  "prod;x": { deploy: { command: ./go } }\n`);
      const pre = deployPreflight(cfg, 'prod;x');
      assert.ok(!pre.ok && pre.reason === 'invalid-file');
      assert.match(pre.message, /^no environment "prod;x" could be read \(delivery\.yml: 1 error\); nothing was deployed$/);
      assert.match(locatedProblem(pre.problems[0]), /^delivery\.yml:3:3: environment id "prod;x" may contain only/);
    });

    it('refuses an unknown environment, naming the known ones, and one without "deploy", naming every kind', () => {
      const cfg = config(`environments:\n  staging:\n    deploy: { command: ./go }\n  bare: {}\n`);
      assert.deepEqual(deployPreflight(cfg, 'prod'), { ok: false, reason: 'unknown-environment', problems: [], message: 'no environment "prod" (environments: staging, bare)' });
      assert.deepEqual(deployPreflight(cfg, 'bare'), {
        ok: false,
        reason: 'no-deploy',
        problems: [],
        message: 'environment "bare" has no "deploy" in delivery.yml; say how to deploy it (command, ssh, gitPush, http, docker or workflow)',
      });
      const ok = deployPreflight(cfg, 'staging');
      assert.ok(ok.ok && ok.environment.id === 'staging');
    });

    it('warnings do not block a deploy', () => {
      const cfg = config(`environments:\n  staging:\n    deploy: { command: ./go }\n`);
      cfg.problems.push({ file: 'delivery.yml', line: 1, column: 1, endLine: 1, endColumn: 2, severity: 'warning', message: 'just so you know' });
      assert.equal(deployPreflight(cfg, 'staging').ok, true);
    });
  });

  describe('what is deployed: probe versus history', () => {
    const probed = env(`  staging:\n    version: { http: "http://h/v" }\n    deploy: { command: ./go }\n`);
    const unprobed = env(`  staging:\n    deploy: { command: ./go }\n`);

    it('the version probe wins over the history', async () => {
      const f = new Fakes();
      f.history.set('staging', [record('2', B, 'success')]);
      f.versions.set('staging', { sha: A, raw: 'aaaaaaa', error: null });
      assert.deepEqual(await deployedCommit(probed, f.ports()), { sha: A, note: 'from the version probe (http)' });
    });

    it('a failed probe falls back to the last successful deploy, saying why; probeOnly does not', async () => {
      const f = new Fakes();
      f.history.set('staging', [record('3', C, 'failed'), record('2', B, 'success')]);
      assert.deepEqual(await deployedCommit(probed, f.ports()), { sha: B, note: 'from the deploy history (version probe failed: connection refused)' });
      assert.deepEqual(await deployedCommit(probed, f.ports(), { probeOnly: true }), { sha: null, note: 'version probe failed: connection refused' });
      f.versions.set('staging', { sha: null, raw: 'v1.2', error: null });
      assert.deepEqual(await deployedCommit(probed, f.ports(), { probeOnly: true }), { sha: null, note: 'the version probe reports v1.2, which is not a commit here' });
    });

    it('without a probe the history says it, or nothing does', async () => {
      const f = new Fakes();
      assert.deepEqual(await deployedCommit(unprobed, f.ports()), { sha: null, note: 'unknown (no version probe; no successful deploy in the history)' });
      f.history.set('staging', [record('1', A, 'success')]);
      assert.deepEqual(await deployedCommit(unprobed, f.ports()), { sha: A, note: 'from the deploy history (no version probe)' });
    });
  });

  describe('prepare', () => {
    it('resolves the ref, reads HEAD, what runs and what it reverts, and asks what must be confirmed', async () => {
      const f = new Fakes();
      f.history.set('staging', [record('1', B, 'success')]);
      f.head = { sha: HEAD, dirty: true };
      f.reverts = [{ sha: B, subject: 'Newer work' }];
      const p = await prepared(f, env(`  staging:\n    protected: true\n    deploy: { command: ./go }\n`), 'main');
      assert.equal(p.sha, HEAD);
      assert.equal(p.ref, 'main');
      assert.equal(p.previousSha, B);
      assert.deepEqual(p.head, { sha: HEAD, dirty: true });
      assert.deepEqual(p.reasons.map((r) => r.kind), ['protected', 'dirty', 'reverts']);
      assert.deepEqual(p.steps.map((s) => s.id), ['command']);
      assert.equal(p.lockedBy, null);
    });

    it('an unknown ref is an error, not a deploy', async () => {
      const f = new Fakes();
      assert.deepEqual(await prepareDeploy({ ...request(env(`  staging:\n    deploy: { command: ./go }\n`)), ref: 'nope' }, f.ports()), { error: '"nope" does not name a commit in /w' });
    });
  });

  describe('the history: the team store and this machine', () => {
    it("the team's records come first in the store's order; records only this machine has (an earlier version's) follow, marked local", async () => {
      const f = new Fakes();
      f.history.set('staging', [record('old2', B, 'failed'), record('old1', A, 'success')]);
      const p = await prepared(f, env(`  staging:\n    deploy: { command: ./go }\n`));
      const s = await startDeploy(p, f.ports());
      assert.ok(s.ok);
      await s.handle.done;
      f.history.set('staging', [{ ...f.saved[f.saved.length - 1] }, record('old2', B, 'failed'), record('old1', A, 'success')]);
      const h = await environmentHistory(p.environment, f.ports());
      assert.deepEqual(
        h.entries.map((e) => [e.id, e.origin, e.status, e.sha === null ? null : e.sha[0], e.local !== null]),
        [
          ['d1', 'shared', 'success', 'e', true],
          ['old2', 'local', 'failed', 'b', true],
          ['old1', 'local', 'success', 'a', true],
        ],
      );
      assert.deepEqual([h.store, h.error, h.lock?.locked], ['local', null, false]);
      // The team's record of this deploy says who and from where; the local one keeps its steps and log.
      assert.deepEqual([h.entries[0].user, h.entries[0].host, h.entries[0].fromSha], ['ann', 'box', A]);
    });

    it('a store that cannot be read still shows this machine\'s records, and says why', async () => {
      const f = new Fakes();
      f.history.set('staging', [record('old1', A, 'success')]);
      f.store('staging').fail = new Error('ssh store root@h:.delivery/staging: Connection refused');
      const e = env(`  staging:\n    deploy: { command: ./go }\n`);
      const h = await environmentHistory(e, f.ports());
      assert.deepEqual(h.entries.map((x) => [x.id, x.origin]), [['old1', 'local']]);
      assert.equal(h.error, 'the deploy history at memory:staging could not be read: ssh store root@h:.delivery/staging: Connection refused');
    });
  });

  describe('rollback target', () => {
    const history = [record('5', D, 'failed'), record('4', C, 'success'), record('3', B, 'interrupted'), record('2', B, 'cancelled'), record('1', A, 'success'), record('0', sha('0'), 'success')];

    it('offers every other commit deployed successfully, once, the default first (what the editor lets you pick)', () => {
      const more = [...history, record('x', C, 'success'), record('y', sha('9'), 'success')];
      assert.deepEqual(rollbackChoices(more, C).map((d) => d.id), ['1', '0', 'y'], 'A (the default), then the older ones; C is what runs');
      assert.deepEqual(rollbackChoices(more, null).map((d) => d.sha), [C, A, sha('0'), sha('9')]);
      assert.deepEqual(rollbackChoices([record('a', A, 'failed')], B), [], 'nothing deployed successfully: nothing to offer');
    });

    it('goes to the successful deploy before the current one, skipping failed, cancelled and interrupted ones', () => {
      assert.equal(rollbackTarget(history, C)?.id, '1');
      assert.equal(rollbackTarget(history, A)?.id, '0');
      assert.equal(rollbackTarget(history, sha('0')), null, 'nothing before the oldest');
    });

    it('when the current commit is unknown or not in the history, the newest successful deploy of another commit', () => {
      assert.equal(rollbackTarget(history, null)?.id, '4');
      assert.equal(rollbackTarget(history, sha('9'))?.id, '4');
      assert.equal(rollbackTarget([record('1', A, 'success'), record('0', A, 'success')], A), null, 'the same commit is no rollback');
    });

    it('prepareRollback deploys that commit as a rollback, or the commit --to names', async () => {
      const f = new Fakes();
      const e = env(`  staging:\n    deploy: { command: ./go }\n`);
      f.history.set('staging', history);
      const p = await prepareRollback(request(e), f.ports());
      assert.ok(!('error' in p));
      assert.deepEqual([p.action, p.sha, p.previousSha], ['rollback', A, C], 'the history says C runs; A was before it');
      const to = await prepareRollback(request(e), f.ports(), B);
      assert.ok(!('error' in to));
      assert.deepEqual([to.action, to.sha, to.ref], ['rollback', B, B]);
    });

    it('with no earlier successful deploy there is nothing to roll back to', async () => {
      const f = new Fakes();
      f.history.set('staging', [record('1', A, 'success'), record('0', B, 'failed')]);
      assert.deepEqual(await prepareRollback(request(env(`  staging:\n    deploy: { command: ./go }\n`)), f.ports()), {
        error: 'no earlier successful deploy of "staging" in its history to roll back to',
      });
    });
  });

  describe('promote', () => {
    const list = envs(`  staging:\n    version: { http: "http://h/v" }\n    deploy: { command: ./go }\n  prod:\n    promotesFrom: staging\n    deploy: { command: ./go }\n  solo:\n    deploy: { command: ./go }\n`);
    const prod = list.find((e) => e.id === 'prod')!;

    it('deploys the commit the promotesFrom environment runs, by its probe', async () => {
      const f = new Fakes();
      f.versions.set('staging', { sha: C, raw: 'ccccccc', error: null });
      const p = await preparePromote(request(prod), list, f.ports());
      assert.ok(!('error' in p));
      assert.deepEqual([p.action, p.sha, p.environment.id], ['promote', C, 'prod']);
    });

    it('refuses when the probe cannot tell, even if the history remembers a deploy', async () => {
      const f = new Fakes();
      f.history.set('staging', [record('1', A, 'success')]);
      assert.deepEqual(await preparePromote(request(prod), list, f.ports()), { error: 'cannot tell which commit "staging" runs: version probe failed: connection refused' });
    });

    it('refuses without promotesFrom, from itself, or from an environment that does not exist', async () => {
      const f = new Fakes();
      const solo = list.find((e) => e.id === 'solo')!;
      assert.deepEqual(await preparePromote(request(solo), list, f.ports()), { error: 'environment "solo" has no "promotesFrom" in delivery.yml' });
      assert.deepEqual(await preparePromote(request({ ...solo, promotesFrom: 'solo' }), list, f.ports()), { error: 'environment "solo" promotes from itself' });
      assert.deepEqual(await preparePromote(request({ ...solo, promotesFrom: 'ghost' }), list, f.ports()), { error: 'environment "solo" promotes from "ghost", which is not defined' });
    });

    it('uses the history of a promotesFrom environment that has no probe', async () => {
      const l = envs(`  qa:\n    deploy: { command: ./go }\n  prod:\n    promotesFrom: qa\n    deploy: { command: ./go }\n`);
      const f = new Fakes();
      f.history.set('qa', [record('2', B, 'failed', 'qa'), record('1', A, 'success', 'qa')]);
      const p = await preparePromote(request(l[1]), l, f.ports());
      assert.ok(!('error' in p));
      assert.equal(p.sha, A);
    });
  });

  describe('start: refusals before anything runs', () => {
    it('a protected environment needs its name typed; a wrong name or a flag does not confirm', async () => {
      const f = new Fakes();
      const p = await prepared(f, env(`  staging:\n    protected: true\n    deploy: { command: ./go }\n`));
      for (const confirmed of [undefined, { dirty: true, reverts: true }, { environmentName: 'Staging' }]) {
        const s = await startDeploy(p, f.ports(), { confirmed });
        assert.ok(!s.ok && s.kind === 'confirm');
        assert.match(s.message, /protected environment: type its name \("staging"\)/);
      }
      assert.deepEqual([f.acquired, f.saved, f.executed], [[], [], []], 'no lock, no record, nothing run');
      const s = await startDeploy(p, f.ports(), { confirmed: { environmentName: 'staging' } });
      assert.ok(s.ok);
      await s.handle.done;
    });

    it('uncommitted changes and reverted commits must be confirmed too', async () => {
      const f = new Fakes();
      f.history.set('staging', [record('1', B, 'success')]);
      f.head = { sha: HEAD, dirty: true };
      f.reverts = [{ sha: B, subject: 'Newer' }];
      const p = await prepared(f, env(`  staging:\n    deploy: { command: ./go }\n`));
      const s = await startDeploy(p, f.ports(), { confirmed: { dirty: true } });
      assert.ok(!s.ok && s.kind === 'confirm');
      assert.deepEqual(s.reasons.map((r) => r.kind), ['reverts']);
      assert.deepEqual(f.saved, []);
    });

    it('a missing secret refuses the deploy, naming it, before the lock is taken', async () => {
      const f = new Fakes();
      const p = await prepared(f, env(`  staging:\n    deploy:\n      command: ./go\n      env: { TOKEN: "\${secret:DEPLOY_TOKEN}" }\n`));
      const s = await startDeploy(p, f.ports());
      assert.ok(!s.ok && s.kind === 'error');
      assert.match(s.message, /^environment "staging": .*DEPLOY_TOKEN/);
      assert.deepEqual([f.acquired, f.saved], [[], []]);
    });

    it('a held lock refuses the deploy, naming its holder; nothing is recorded', async () => {
      const f = new Fakes();
      f.store('staging').lock = {
        holder: { token: 'x', deployId: 'other', user: 'bob', host: 'ci', pid: 77, pidStartTime: null, sha: null, message: 'release 4', since: 0, renewedAt: 1_000, expiresAfterMs: 60_000 },
        ageMs: null,
      };
      const p = await prepared(f, env(`  staging:\n    deploy: { command: ./go }\n`));
      assert.equal(p.lockedBy?.user, 'bob', 'prepare already tells who holds it');
      const s = await startDeploy(p, f.ports());
      assert.ok(!s.ok && s.kind === 'locked');
      assert.equal(s.holder.user, 'bob');
      assert.equal(s.message, '"staging" is being deployed by bob on ci (deploy other, pid 77): "release 4" since 1970-01-01 00:00:00 UTC; wait for it to finish');
      assert.deepEqual([f.saved, f.executed, f.checkouts], [[], [], []]);
    });

    it('a lock that cannot be written (a full disk) refuses the deploy', async () => {
      const f = new Fakes();
      f.store('staging').fail = new Error('ENOSPC: no space left on device');
      const s = await startDeploy(await prepared(f, env(`  staging:\n    deploy: { command: ./go }\n`)), f.ports());
      assert.deepEqual(s, { ok: false, kind: 'store', message: 'could not take the deploy lock of "staging", so nothing was deployed: ENOSPC: no space left on device' });
    });

    it('a record that cannot be saved refuses the deploy, removes its traces and releases the lock', async () => {
      const f = new Fakes();
      f.failSave = new Error('ENOSPC');
      f.head = { sha: HEAD, dirty: true };
      const s = await startDeploy(await prepared(f, env(`  staging:\n    deploy: { command: ./go }\n`)), f.ports(), { confirmed: { dirty: true } });
      assert.deepEqual(s, { ok: false, kind: 'error', message: 'could not start the deploy: ENOSPC' });
      assert.deepEqual([f.discarded, f.released, f.removed, f.executed], [['staging/d1'], 1, 1, []]);
    });
  });

  describe('start: the run and its record', () => {
    it('records the deploy before it runs, at every step, and at the end; then releases the lock', async () => {
      const f = new Fakes();
      f.history.set('staging', [record('1', A, 'success')]);
      const p = await prepared(f, env(`  staging:\n    deploy: { command: ./go }\n    health: { http: "http://h/health" }\n`));
      const s = await startDeploy(p, f.ports());
      assert.ok(s.ok);
      const first = f.saved[0];
      assert.deepEqual(
        { status: first.status, sha: first.sha, previousSha: first.previousSha, user: first.user, pid: first.pid, startedAt: first.startedAt, steps: first.steps.map((x) => x.status), logFile: first.logFile },
        { status: 'running', sha: HEAD, previousSha: A, user: 'ann@box', pid: 4242, startedAt: 1_000, steps: ['pending', 'pending'], logFile: '/state/deploys/staging/d1/deploy.log' },
        'saved before anything ran',
      );
      const r = await s.handle.done;
      assert.deepEqual([f.executed, f.healthChecks], [['command'], 1], 'the executor ran the command; the service checked health');
      assert.deepEqual([r.status, r.health, r.finishedAt, r.durationMs], ['success', 'up', 1_010, 10]);
      const last = f.saved[f.saved.length - 1];
      assert.deepEqual([last.status, last.steps.map((x) => x.status)], ['success', ['success', 'success']]);
      assert.ok(f.saved.some((x) => x.steps[0].status === 'running'), 'the running step was recorded');
      assert.deepEqual([f.acquired, f.released], [['staging:d1:ann'], 1]);
      assert.match(f.logLines[0], /^\| deploy e{40} \(HEAD\) to staging by ann@box; previous: a{40} \(from the deploy history \(no version probe\)\)$/);
    });

    it('a failed step fails the deploy, skips the rest and still releases the lock', async () => {
      const f = new Fakes();
      f.outcomes.command = { status: 'failed', reason: 'exited with code 3' };
      const s = await startDeploy(await prepared(f, env(`  staging:\n    deploy: { command: ./go }\n    health: { http: "http://h/health" }\n`)), f.ports());
      assert.ok(s.ok);
      const r = await s.handle.done;
      assert.deepEqual([r.status, r.reason, r.steps.map((x) => x.status)], ['failed', 'deploy command failed: exited with code 3', ['failed', 'skipped']]);
      assert.deepEqual([f.executed, f.healthChecks], [['command'], 0]);
      assert.equal(f.released, 1);
    });

    it('works in the folder when it is at the commit and clean, else in a clean checkout removed afterwards', async () => {
      const e = env(`  staging:\n    deploy: { command: ./go }\n`);
      const clean = new Fakes();
      const s1 = await startDeploy(await prepared(clean, e), clean.ports());
      assert.ok(s1.ok);
      await s1.handle.done;
      assert.deepEqual([clean.checkouts, clean.executorDirs], [[], ['/w']]);

      const other = new Fakes();
      const s2 = await startDeploy(await prepared(other, e, A), other.ports());
      assert.ok(s2.ok);
      await s2.handle.done;
      assert.deepEqual([other.checkouts, other.executorDirs, other.removed], [[A], ['/state/checkouts/aaaaaaaaaaaa'], 1]);
      assert.ok(other.logLines.some((l) => l.startsWith('| working in a clean checkout of aaaaaaaaaaaa')));
    });

    it('a kind that needs no files never checks out, unless a build pipeline runs first', async () => {
      const hook = env(`  staging:\n    deploy: { http: { url: "http://h/hook" } }\n`);
      const f = new Fakes();
      f.head = { sha: HEAD, dirty: true };
      const s = await startDeploy(await prepared(f, hook, A), f.ports(), { confirmed: { dirty: true } });
      assert.ok(s.ok);
      await s.handle.done;
      assert.deepEqual([f.checkouts, f.executed], [[], ['http.hook']]);
      const built = parseDeliveryConfig(`version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: make }\nenvironments:\n  staging:\n    deploy: { pipeline: ci, http: { url: "http://h/hook" } }\n`);
      assert.deepEqual(built.problems, []);
      const g = new Fakes();
      const s2 = await startDeploy(await prepared(g, built.environments[0], A), g.ports());
      assert.ok(s2.ok);
      await s2.handle.done;
      assert.deepEqual([g.checkouts, g.executed], [[A], ['pipeline', 'http.hook']]);
    });

    it('hands the executor the method with secrets and ${DELIVERY_*} expanded where the kind allows, and masks the secrets', async () => {
      const f = new Fakes();
      f.secrets = { HOOK_TOKEN: 's3cr3t' };
      const e = env(`  staging:\n    deploy:\n      http: { url: "http://h/hook?sha=\${DELIVERY_SHORT_SHA}", headers: { Authorization: "Bearer \${secret:HOOK_TOKEN}" } }\n`);
      const s = await startDeploy(await prepared(f, e), f.ports());
      assert.ok(s.ok);
      await s.handle.done;
      const req = f.executorRequests[0];
      assert.ok(req.method.kind === 'http');
      assert.deepEqual([req.method.url, req.method.headers], ['http://h/hook?sha=eeeeeee', { Authorization: 'Bearer s3cr3t' }]);
      assert.equal(req.masker.mask('token s3cr3t'), 'token ***');
      assert.equal(e.deploy!.method.kind === 'http' && e.deploy!.method.url, 'http://h/hook?sha=${DELIVERY_SHORT_SHA}', 'the spec itself is unchanged');
    });

    it('expands an ssh upload path as data: ~/ means the remote home, and a ref cannot climb out of it', async () => {
      const f = new Fakes();
      const e = env(`  staging:\n    deploy: { ssh: { host: h }, upload: { from: dist, to: "~/releases/\${DELIVERY_SHORT_SHA}" } }\n`);
      const s = await startDeploy(await prepared(f, e), f.ports());
      assert.ok(s.ok);
      await s.handle.done;
      const m = f.executorRequests[0].method;
      assert.ok(m.kind === 'ssh');
      assert.equal(m.upload?.to, 'releases/eeeeeee');
      assert.deepEqual(f.executed, ['ssh.prepare', 'ssh.upload']);

      const g = new Fakes();
      const bad = env(`  staging:\n    deploy: { ssh: { host: h }, upload: { from: dist, to: "/srv/\${DELIVERY_REF}" } }\n`);
      g.refs.set('../etc', A);
      const s2 = await startDeploy(await prepared(g, bad, '../etc'), g.ports());
      assert.deepEqual(s2, { ok: false, kind: 'error', message: 'environment "staging": upload "to": ${DELIVERY_REF} is "../etc", which would leave the path "/srv/${DELIVERY_REF}"' });
    });
  });

  describe('verify: the version and health checks', () => {
    const e = env(`  staging:\n    version: { http: "http://h/v" }\n    deploy: { command: ./go }\n    health: { http: "http://h/health", timeout: 10s, interval: 2s }\n`);

    it('waits until the probe reports the new commit, then until the health check is up', async () => {
      const f = new Fakes();
      f.probeAnswers = [{ sha: null, raw: null, error: 'connection refused' }, { sha: A, raw: 'aaaaaaa', error: null }, { sha: HEAD, raw: 'eeeeeee', error: null }];
      f.health = [{ health: 'down', detail: 'HTTP 503' }, { health: 'up', detail: 'HTTP 200' }];
      const p = await prepared(f, e);
      f.probes = 0; // prepare asked once (what runs now)
      const s = await startDeploy(p, f.ports());
      assert.ok(s.ok);
      const lines: string[] = [];
      s.handle.onEvent((ev) => ev.type === 'line' && lines.push(ev.text));
      const r = await s.handle.done;
      assert.equal(r.status, 'success', r.reason ?? '');
      assert.deepEqual(r.steps.map((x) => [x.name, x.status, x.reason]), [
        ['deploy command', 'success', null],
        ['check the deployed version', 'success', 'the environment runs eeeeeee'],
        ['health check', 'success', 'GET http://h/health: HTTP 200'],
      ]);
      assert.deepEqual([f.probes, f.healthChecks, r.health], [3, 2, 'up']);
      assert.ok(lines.includes('version probe: connection refused') && lines.includes(`the environment reports ${A}`), lines.join('\n'));
      assert.ok(lines.includes('not healthy yet: GET http://h/health: HTTP 503'));
    });

    it('a version that never shows up fails the deploy after the health timeout; the health check is skipped', async () => {
      const f = new Fakes();
      f.probeAnswers = [{ sha: A, raw: 'aaaaaaa', error: null }];
      const s = await startDeploy(await prepared(f, e), f.ports());
      assert.ok(s.ok);
      const r = await s.handle.done;
      assert.equal(r.status, 'failed');
      assert.equal(r.reason, `version check failed: the environment reports ${A}, not eeeeeeeeeeee (the release may be deployed only in part)`);
      assert.deepEqual([f.healthChecks, r.steps[2].status], [0, 'skipped']);
      assert.equal(f.probes, 1 + 21, 'prepare, then every 500 ms for 10 s');
    });

    it('a health check that stays down fails the deploy, saying how long it waited; the release stays', async () => {
      const f = new Fakes();
      f.probeAnswers = [{ sha: HEAD, raw: HEAD, error: null }];
      f.health = [{ health: 'down', detail: 'HTTP 502' }];
      const s = await startDeploy(await prepared(f, e), f.ports());
      assert.ok(s.ok);
      const r = await s.handle.done;
      assert.deepEqual([r.status, r.health], ['failed', 'down']);
      assert.equal(r.reason, 'health check failed: GET http://h/health: HTTP 502 (still after 10 s) (the new release stays deployed: roll back to undo it)');
      assert.equal(f.healthChecks, 6, 'every 2 s for 10 s');
    });
  });

  describe('verify: after the deploy, metrics decide (onFailure: mark | rollback)', () => {
    const errQ = 'sum(rate(errors[1m]))';
    const latQ = 'p95_latency';
    const yaml = (extra = '') =>
      `  staging:\n    deploy: { command: ./go }\n    verify:\n      prometheus: http://127.0.0.1:9090\n      window: 60s\n      interval: 10s\n${extra}      checks:\n        - name: error rate\n          query: ${errQ}\n          max: 0.01\n        - { name: latency, query: ${latQ}, compare: baseline, tolerance: 50% }\n`;
    const good = (f: Fakes) => {
      f.metric[errQ] = () => ({ value: 0.001 });
      f.metric[latQ] = () => ({ value: 0.2 });
      f.rangeAnswer = { points: [[1, 0.15], [2, 0.25]] };
    };

    it('passes when every check stays within its bound for the whole window; the baseline is the window before the deploy', async () => {
      const f = new Fakes();
      good(f);
      const e = env(yaml());
      const p = await prepared(f, e);
      assert.deepEqual(p.steps.map((x) => x.id), ['command', 'verify']);
      assert.equal(p.steps[1].name, 'verify for 1m 00s: 2 Prometheus checks');
      const s = await startDeploy(p, f.ports());
      assert.ok(s.ok);
      const r = await s.handle.done;
      assert.equal(r.status, 'success');
      assert.equal(r.verification?.status, 'passed');
      assert.deepEqual(r.verification?.checks.map((c) => [c.name, c.value, c.ok, c.bound]), [
        ['error rate', 0.001, true, '≤ 0.01'],
        ['latency', 0.2, true, '≤ 0.3 (baseline 0.2 + 50%)'],
      ]);
      assert.equal(r.rolledBackTo, null);
      // Pre-flight: one query each; then every 10 s over 60 s: 7 evaluations each.
      assert.equal(f.queries.filter((q) => q.query === errQ).length, 1 + 7);
    });

    it('fails at the first evaluation past a bound and, with onFailure: rollback, deploys the previous release as its own rollback', async () => {
      const f = new Fakes();
      good(f);
      f.history.set('staging', [record('0', A, 'success')]);
      f.refs.set(A, A);
      const start = f.t;
      f.metric[errQ] = (t) => ({ value: t - start >= 20_000 ? 0.25 : 0.002 });
      const e = env(yaml('      onFailure: rollback\n'));
      const s = await startDeploy(await prepared(f, e), f.ports());
      assert.ok(s.ok);
      const lines: string[] = [];
      const rollbacks: string[] = [];
      s.handle.onEvent((ev) => {
        if (ev.type === 'line') lines.push(ev.text);
        if (ev.type === 'rollback') rollbacks.push(`${ev.deployId}:${ev.sha}`);
      });
      const r = await s.handle.done;
      assert.equal(r.status, 'failed');
      assert.equal(r.rolledBackTo, A);
      assert.deepEqual(rollbacks, [`d2:${A}`], 'the listeners are told when the rollback starts');
      assert.equal(r.verification?.status, 'failed');
      const failed = r.verification!.checks.find((c) => c.name === 'error rate')!;
      assert.deepEqual([failed.value, failed.ok], [0.25, false]);
      assert.match(r.reason ?? '', /^verification failed: error rate = 0\.25, bound ≤ 0\.01; rolled back to aaaaaaa \(deploy d2\)$/);
      // The rollback is its own deploy in the history, of A, without its own verification (verifyRollback: false).
      const rollback = f.saved.filter((x) => x.id === 'd2').at(-1)!;
      assert.deepEqual([rollback.action, rollback.sha, rollback.status, rollback.steps.map((x) => x.name)], ['rollback', A, 'success', ['deploy command']]);
      const events = f.store('staging').events.map((ev) => `${ev.id}:${ev.status}`);
      assert.deepEqual(events, ['d1:running', 'd2:running', 'd2:success', 'd1:failed']);
      assert.equal(f.store('staging').created.length, 1, 'the rollback ran under the failed deploy’s lock');
      assert.equal(f.released, 1);
      assert.ok(lines.some((l) => l.startsWith('rollback: ')), lines.join('\n'));
    });

    it('with onFailure: mark (the default) a failed verification fails the deploy and leaves the release', async () => {
      const f = new Fakes();
      good(f);
      f.history.set('staging', [record('0', A, 'success')]);
      f.metric[errQ] = () => ({ value: 0.5 });
      const s = await startDeploy(await prepared(f, env(yaml())), f.ports());
      assert.ok(s.ok);
      const r = await s.handle.done;
      assert.equal(r.status, 'failed');
      assert.equal(r.rolledBackTo, null);
      assert.match(r.reason ?? '', /the new release stays deployed: roll back to undo it\)$/);
      assert.equal(f.saved.filter((x) => x.id === 'd2').length, 0, 'nothing rolled back');
    });

    it('failureLimit tolerates that many evaluations past the bound', async () => {
      const f = new Fakes();
      good(f);
      const start = f.t;
      f.metric[errQ] = (t) => ({ value: t - start < 25_000 ? 0.5 : 0.001 });
      const e = env(yaml().replace('          max: 0.01\n', '          max: 0.01\n          failureLimit: 3\n'));
      const s = await startDeploy(await prepared(f, e), f.ports());
      assert.ok(s.ok);
      const r = await s.handle.done;
      assert.equal(r.status, 'success', r.reason ?? '');
      assert.match(r.verification!.checks[0].reason ?? '', /3 evaluation\(s\) past the bound, within failureLimit 3/);
    });

    it('missing data is never a pass and never a rollback: Prometheus going away mid-window leaves the deploy "unverified"', async () => {
      const f = new Fakes();
      good(f);
      f.history.set('staging', [record('0', A, 'success')]);
      const start = f.t;
      const down = { problem: { kind: 'down' as const, message: 'Prometheus at http://127.0.0.1:9090 could not be reached: connection refused' } };
      f.metric[errQ] = (t) => (t - start > 30_000 ? down : { value: 0.001 });
      f.metric[latQ] = (t) => (t - start > 30_000 ? down : { value: 0.2 });
      const s = await startDeploy(await prepared(f, env(yaml('      onFailure: rollback\n'))), f.ports());
      assert.ok(s.ok);
      const r = await s.handle.done;
      assert.equal(r.status, 'unverified');
      assert.equal(r.verification?.status, 'unverified');
      assert.deepEqual(r.verification?.checks.map((c) => [c.value, c.ok]), [[null, null], [null, null]]);
      assert.match(r.reason ?? '', /^unverified: error rate: Prometheus at http:\/\/127\.0\.0\.1:9090 could not be reached/);
      assert.equal(r.rolledBackTo, null);
      assert.deepEqual(f.store('staging').events.map((ev) => ev.status), ['running', 'unverified']);
    });

    it('no baseline (nothing before the deploy) leaves a baseline check undecided', async () => {
      const f = new Fakes();
      good(f);
      f.rangeAnswer = { points: [] };
      const s = await startDeploy(await prepared(f, env(yaml())), f.ports());
      assert.ok(s.ok);
      const r = await s.handle.done;
      assert.equal(r.status, 'unverified');
      assert.deepEqual(r.verification?.checks[1], { name: 'latency', bound: '≤ baseline + 50% (no baseline)', value: 0.2, ok: null, reason: 'no baseline: no data in the window before the deploy' });
    });

    it('a query Prometheus refuses is a located error before anything deploys', async () => {
      const f = new Fakes();
      good(f);
      f.metric[errQ] = () => ({ problem: { kind: 'query', message: '1:5: parse error: unexpected character', position: 4 } });
      const e = env(yaml());
      const p = await prepareDeploy(request(e), f.ports());
      assert.ok('error' in p);
      // The query is on line 11 (after "version: 1" and "environments:"), column 18; char 4 is 4 to the right.
      assert.match(p.error, /^delivery\.yml:11:22: check "error rate": Prometheus refused the query: 1:5: parse error: unexpected character\nnothing was deployed/);
      assert.deepEqual(f.executed, []);
      assert.deepEqual(f.acquired, []);
    });

    it('a Prometheus that cannot be reached before the deploy is a warning, not a refusal', async () => {
      const f = new Fakes();
      const p = await prepareDeploy(request(env(yaml())), { ...f.ports(), metrics: { query: async () => ({ problem: { kind: 'down', message: 'refused' } }), queryRange: async () => ({ points: [] }) } });
      assert.ok(!('error' in p));
      assert.match(p.verifyWarning ?? '', /may not be able to decide.*refused/);
    });

    it('cancelling while verifying stops it and leaves the release as it is', async () => {
      const f = new Fakes();
      good(f);
      const s = await startDeploy(await prepared(f, env(yaml('      onFailure: rollback\n'))), f.ports());
      assert.ok(s.ok);
      const start = f.t;
      f.metric[errQ] = (t) => {
        if (t - start > 20_000) s.handle.cancel();
        return { value: 0.001 };
      };
      const r = await s.handle.done;
      assert.equal(r.status, 'cancelled');
      assert.equal(r.rolledBackTo, null);
      assert.equal(f.saved.filter((x) => x.id === 'd2').length, 0);
    });
  });
});
