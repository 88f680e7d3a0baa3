// Helpers for the deploy tests: a repository holding the test app and a delivery.yml, and a deploy through the
// same API the extension and the CLI use.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FolderSources } from '../../src/adapters/folderSources';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import type { LockStatus } from '../../src/core/environments/teamState';
import type { EnvironmentHistory } from '../../src/core/environments/deployService';
import {
  environmentHistory,
  teamLock,
  prepareDeploy,
  preparePromote,
  prepareRollback,
  startDeploy,
  type DeployPreparation,
  type DeployServices,
  type DeployStart,
} from '../../src/adapters/deploy/runner';
import { folderStateDir } from '../../src/adapters/stateDir';
import type { DeployConfirmation } from '../../src/core/environments/deploy';
import type { DeployEvent } from '../../src/core/environments/deployRun';
import type { DeployAction, DeployRecord } from '../../src/shared/model';
import { TARGET_FIXTURES } from './targets/app';
import { git, tempDir, writeFiles } from './tmp';

/** A repository on branch main with app/app.js, app/restart.sh and the given delivery.yml. */
export function appRepo(deliveryYml: string, extra: Record<string, string> = {}): string {
  const dir = tempDir('delivery-deploy-repo-');
  git(dir, 'init', '-q', '-b', 'main');
  writeFiles(dir, {
    'app/app.js': fs.readFileSync(path.join(TARGET_FIXTURES, 'app.js'), 'utf8'),
    'app/restart.sh': fs.readFileSync(path.join(TARGET_FIXTURES, 'restart.sh'), 'utf8'),
    'delivery.yml': deliveryYml,
    ...extra,
  });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

/** A repository whose delivery.yml has one environment deployed by `command` (passed to YAML as a quoted string). */
export function commandRepo(env: string, command: string, opts: { protected?: boolean } = {}, extra: Record<string, string> = {}): string {
  const prot = opts.protected ? '    protected: true\n' : '';
  return appRepo(`version: 1\nenvironments:\n  ${env}:\n${prot}    deploy:\n      command: ${JSON.stringify(command)}\n`, extra);
}

/** Commits a change (a file written with `text`) and returns the new HEAD. */
export function commit(dir: string, file: string, text: string, message: string): string {
  writeFiles(dir, { [file]: text });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

export interface Deployer {
  services: DeployServices;
  stateDir: string;
  prepare(env: string, opts?: { ref?: string; action?: DeployAction; to?: string }): Promise<DeployPreparation>;
  start(prep: DeployPreparation, confirmed?: DeployConfirmation): Promise<DeployStart>;
  /** Prepare + start with every confirmation + wait; returns the record and the events. */
  deploy(env: string, opts?: { ref?: string; action?: DeployAction; to?: string; onEvent?: (e: DeployEvent, cancel: () => void) => void }): Promise<{ record: DeployRecord; events: DeployEvent[] }>;
}

/** `baseEnv`: variables added to the environment of every deploy process (e.g. DOCKER_BUILDKIT for the test engine). */
export function deployer(folder: string, secrets: Record<string, string> = {}, baseEnv?: Record<string, string>): Deployer {
  const stateDir = folderStateDir(folder, tempDir('delivery-state-'));
  const services: DeployServices = { stateDir, secrets: async (n) => secrets[n] };
  if (baseEnv) {
    services.runner = new LocalProcessRunner({ baseEnv: { ...process.env, ...baseEnv } });
    services.storeEnv = baseEnv;
  }
  const prepare: Deployer['prepare'] = async (envId, opts = {}) => {
    const snapshot = await new FolderSources(folder).loadAll();
    assert.deepEqual(snapshot.problems.filter((p) => p.severity === 'error'), []);
    const environment = snapshot.environments.find((e) => e.id === envId);
    assert.ok(environment, `no environment ${envId}`);
    const base = { folder, environment, trigger: 'cli' as const, pipelines: snapshot.pipelines };
    const prep =
      opts.action === 'rollback'
        ? await prepareRollback(base, services, opts.to)
        : opts.action === 'promote'
          ? await preparePromote(base, snapshot.environments, services)
          : await prepareDeploy({ ...base, ref: opts.ref }, services);
    if ('error' in prep) throw new Error(prep.error);
    return prep;
  };
  const start: Deployer['start'] = (prep, confirmed) => startDeploy(prep, services, { confirmed });
  return {
    services,
    stateDir,
    prepare,
    start,
    deploy: async (envId, opts = {}) => {
      const prep = await prepare(envId, opts);
      const s = await start(prep, { environmentName: envId, dirty: true, reverts: true });
      if (!s.ok) throw new Error(`${s.kind}: ${s.message}`);
      const events: DeployEvent[] = [];
      s.handle.onEvent((e) => {
        events.push(e);
        opts.onEvent?.(e, () => s.handle.cancel());
      });
      const record = await s.handle.done;
      return { record, events };
    },
  };
}

export async function getJson(url: string): Promise<Record<string, unknown>> {
  const r = await fetch(url);
  return (await r.json()) as Record<string, unknown>;
}

export function readLog(record: DeployRecord): string {
  return fs.readFileSync(record.logFile!, 'utf8');
}

/** The team lock of an environment as the deploy service sees it (its store: local, ssh host, git remote…). */
export async function teamLockOf(folder: string, envId: string, stateDir: string): Promise<LockStatus> {
  const snapshot = await new FolderSources(folder).loadAll();
  const environment = snapshot.environments.find((e) => e.id === envId);
  assert.ok(environment, `no environment ${envId}`);
  return (await teamLock(folder, environment, { stateDir, secrets: async () => undefined })).status();
}

/** The environment's history (team store + this machine's records), as `delivery history` reads it. */
export async function teamHistoryOf(folder: string, envId: string, stateDir: string): Promise<EnvironmentHistory> {
  const snapshot = await new FolderSources(folder).loadAll();
  const environment = snapshot.environments.find((e) => e.id === envId);
  assert.ok(environment, `no environment ${envId}`);
  return environmentHistory(folder, environment, { stateDir, secrets: async () => undefined });
}
