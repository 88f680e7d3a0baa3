// Security: what Delivery keeps on this machine. Secrets are scoped to the workspace that stored them (a repository
// opened later cannot name them in delivery.yml), and the state folder and job logs are private to this user and
// never written through a link planted where they go.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { FileRunStore, logFileName } from '../../src/adapters/runStore';
import * as secretsModule from '../../src/core/secrets';
import { Masker } from '../../src/core/secrets';
import type { RunRecord } from '../../src/shared/model';
import { Secrets } from '../../src/vscode/secrets';
import { cleanupTempDirs, tempDir } from '../support/tmp';

/** VS Code's SecretStorage and Memento hold strings by key; outside VS Code a Map stands in for each. */
class MapSecretStorage {
  readonly values = new Map<string, string>();
  async get(key: string) {
    return this.values.get(key);
  }
  async store(key: string, value: string) {
    this.values.set(key, value);
  }
  async delete(key: string) {
    this.values.delete(key);
  }
}
class MapMemento {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown) {
    this.values.set(key, value);
  }
}
function logStub() {
  const warnings: string[] = [];
  const masker = new Masker();
  return { warnings, masker, addSecret: (v: string) => masker.add(v), warn: (m: string) => warnings.push(m) };
}
type SecretsArgs = ConstructorParameters<typeof Secrets>;
function secretsFor(storage: MapSecretStorage, state: MapMemento, log = logStub()) {
  return new Secrets(storage as unknown as SecretsArgs[0], log as unknown as SecretsArgs[1], state as unknown as SecretsArgs[2]);
}

describe('security: secrets are kept per workspace', () => {
  it("a repository opened later cannot read another workspace's ${secret:NAME}", async () => {
    const storage = new MapSecretStorage();
    const mine = secretsFor(storage, new MapMemento());
    await mine.set('PROD_KEY', 'prod-key-value-123');
    assert.equal(await mine.resolver('PROD_KEY'), 'prod-key-value-123');
    const hostile = secretsFor(storage, new MapMemento());
    assert.equal(await hostile.resolver('PROD_KEY'), undefined, 'another workspace resolves nothing');
    assert.ok(![...storage.values.keys()].includes('delivery.secret.PROD_KEY'), 'nothing stored user-wide for a ${secret:} name');
  });

  it('keeps its scope across restarts of the same workspace', async () => {
    const storage = new MapSecretStorage();
    const state = new MapMemento();
    await secretsFor(storage, state).set('HOOK', 'hook-value-456');
    assert.equal(await secretsFor(storage, state).resolver('HOOK'), 'hook-value-456');
  });

  it('a value an earlier version stored for every workspace is not handed out, and the user is told once', async () => {
    const storage = new MapSecretStorage();
    await storage.store('delivery.secret.OLD', 'old-global-value');
    const log = logStub();
    const s = secretsFor(storage, new MapMemento(), log);
    assert.equal(await s.resolver('OLD'), undefined);
    assert.equal(await s.resolver('OLD'), undefined);
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0], /secret OLD .*set it again here/);
  });

  it('remote engine tokens stay user-wide for the token provider, not for ${secret:} in another workspace', async () => {
    const storage = new MapSecretStorage();
    await secretsFor(storage, new MapMemento()).set('GITLAB_TOKEN', 'glpat-token-value');
    const other = secretsFor(storage, new MapMemento());
    assert.equal(await other.token('GITLAB_TOKEN'), 'glpat-token-value', 'remote runs of any workspace find the token');
    assert.equal(await other.resolver('GITLAB_TOKEN'), undefined, "another workspace's delivery.yml cannot name it");
    assert.equal(other.masker.mask('x glpat-token-value y'), 'x *** y', 'a token read is masked');
  });
});

describe('security: the state folder and job logs', () => {
  afterEach(cleanupTempDirs);

  const run = (id: string): RunRecord => ({ id, status: 'running', pid: process.pid }) as unknown as RunRecord;

  it('run folders are private to this user', () => {
    const state = path.join(tempDir(), 'state');
    const store = new FileRunStore(state);
    const log = store.openLog(run('r1'), 'build');
    log.write('stdout', 'hello');
    assert.equal(fs.statSync(path.join(state, 'runs', 'r1')).mode & 0o777, 0o700);
    assert.equal(fs.statSync(state).mode & 0o777, 0o700, 'the state folder it made too');
  });

  it('a job log is never written through a link planted where it goes', async () => {
    const state = path.join(tempDir(), 'state');
    const victim = path.join(tempDir(), 'victim.txt');
    fs.writeFileSync(victim, 'original\n');
    const dir = path.join(state, 'runs', 'r2');
    fs.mkdirSync(dir, { recursive: true });
    const planted = path.join(dir, logFileName('build'));
    fs.mkdirSync(path.dirname(planted), { recursive: true });
    fs.symlinkSync(victim, planted);
    const log = new FileRunStore(state).openLog(run('r2'), 'build');
    log.write('stdout', 'attacker-controlled line');
    await log.close().catch(() => undefined);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'original\n', 'the file the link points at is unchanged');
  });
});

describe('security: maskers from two bundles', () => {
  it('combine even when each bundle has its own Masker class (the extension and its lazily loaded features)', () => {
    const load = createRequire(__filename);
    const file = load.resolve('../../src/core/secrets');
    const first = secretsModule;
    delete load.cache[file];
    const second = load(file) as typeof secretsModule;
    assert.notEqual(first.Masker, second.Masker, 'two classes, as in two bundles');
    const combined = new first.Masker(['deploy-key-123']).with(new second.Masker(['session-token-456']));
    assert.equal(combined.mask('a deploy-key-123 b session-token-456 c'), 'a *** b *** c');
  });
});
