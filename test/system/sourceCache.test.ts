// Import results kept between sessions (src/adapters/sourceCache.ts through FolderSources): a later session parses
// only what changed, lists exactly what a fresh import lists, and a run still plans from the file as it is then.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FolderSources, type FolderSnapshot } from '../../src/adapters/folderSources';
import { planFacts } from '../../src/adapters/clock';
import { SourceCache } from '../../src/adapters/sourceCache';
import { IMPORTERS } from '../../src/core/importers';
import type { Importer } from '../../src/core/sources';
import { cleanupTempDirs, tempDir, writeFiles } from '../support/tmp';

const workflow = (name: string, echo = 'hello') => `name: ${name}\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${echo}\n`;

const FILES = {
  '.github/workflows/a.yml': workflow('A'),
  '.github/workflows/b.yml': workflow('B'),
  '.github/workflows/broken.yml': 'name: Broken\non: push\njobs:\n  x: [\n',
  // Includes named by a glob (a listing) and a file that does not exist yet (the project's variables).
  '.gitlab-ci.yml': "include:\n  - local: 'ci/*.yml'\nbuild:\n  script: [echo build]\n",
  'ci/one.yml': 'one:\n  script: [echo one]\n',
};

/** A session whose loadAll() also waits until the cache is written (loadAll itself lists the pipelines first). */
class Session extends FolderSources {
  override async loadAll(): Promise<FolderSnapshot> {
    const snapshot = await super.loadAll();
    await this.saved();
    return snapshot;
  }
}

/** Sessions over one folder and one cache file, counting the files each session parses. */
function sessions(files: Record<string, string> = FILES, racyMs = 0) {
  const dir = tempDir('delivery-srccache-');
  writeFiles(dir, files);
  const cacheFile = path.join(tempDir('delivery-srccache-state-'), 'source-cache.json');
  const parsed: string[] = [];
  const importers: Importer[] = IMPORTERS.map((imp) => ({ ...imp, parse: (file, ctx) => (parsed.push(file.path), imp.parse(file, ctx)) }));
  return {
    dir,
    cacheFile,
    parsed,
    /** A new session: new FolderSources, new SourceCache over the same file. */
    session: () => new Session(dir, importers, { cache: new SourceCache(cacheFile, racyMs) }),
    /** A new session that does not wait for the cache to be written. */
    unwaited: () => new FolderSources(dir, importers, { cache: new SourceCache(cacheFile, racyMs) }),
    uncached: () => new FolderSources(dir, importers),
  };
}

/** What a snapshot lists, as plain data (the pipelines' definitions, problems, files). */
const listing = (s: FolderSnapshot) => JSON.parse(JSON.stringify({ defs: s.pipelines.map((p) => p.def), problems: s.problems, files: s.files })) as unknown;

describe('pipeline files kept between sessions', () => {
  after(cleanupTempDirs);

  it('a later session parses nothing unchanged and lists exactly what a fresh import lists', async () => {
    const s = sessions();
    const first = await s.session().loadAll();
    assert.deepEqual([...s.parsed].sort(), ['.github/workflows/a.yml', '.github/workflows/b.yml', '.github/workflows/broken.yml', '.gitlab-ci.yml']);
    assert.ok(fs.existsSync(s.cacheFile), 'the cache was written');
    s.parsed.length = 0;
    const second = await s.session().loadAll();
    assert.deepEqual(s.parsed, [], 'nothing parsed again');
    assert.deepEqual(listing(second), listing(first));
    assert.deepEqual(listing(second), listing(await new FolderSources(s.dir).loadAll()), 'the same as without any cache');
    assert.ok(second.problems.some((p) => p.file === '.github/workflows/broken.yml' && p.severity === 'error'), 'problems are kept too');
  });

  it('lists the pipelines before the cache is written, and saved() resolves once it is', async () => {
    const s = sessions();
    const sources = s.unwaited();
    const first = await sources.loadAll();
    assert.equal(first.pipelines.length, 3);
    assert.equal(fs.existsSync(s.cacheFile), false, 'written after the listing');
    await sources.saved();
    assert.ok(fs.existsSync(s.cacheFile), 'the cache was written');
    s.parsed.length = 0;
    await s.session().loadAll();
    assert.deepEqual(s.parsed, [], 'a later session parses nothing');
  });

  it('a pipeline listed from the cache plans from its file as it is when the run starts', async () => {
    const s = sessions();
    await s.session().loadAll();
    s.parsed.length = 0;
    const snapshot = await s.session().loadAll();
    assert.deepEqual(s.parsed, []);
    const a = snapshot.pipelines.find((p) => p.def.name === 'A')!;
    const plan = await a.plan({ jobs: [] }, { folder: s.dir, ...planFacts() });
    assert.ok(!('error' in plan), JSON.stringify(plan));
    assert.deepEqual(s.parsed, ['.github/workflows/a.yml'], 'the file was read again for the run');
    // Changed since it was listed: the run uses the new text; broken since: the run is refused.
    fs.writeFileSync(path.join(s.dir, '.github/workflows/a.yml'), 'name: A\non: push\njobs:\n  x: [\n');
    const refused = await a.plan({ jobs: [] }, { folder: s.dir, ...planFacts() });
    assert.ok('error' in refused, 'a file broken since the listing is not run');
    fs.rmSync(path.join(s.dir, '.github/workflows/a.yml'));
    const gone = await a.plan({ jobs: [] }, { folder: s.dir, ...planFacts() });
    assert.ok('error' in gone);
  });

  it('a GitLab pipeline listed from the cache plans without importing its file first (it is parsed once, by the plan)', async () => {
    const s = sessions();
    await s.session().loadAll();
    const snapshot = await s.session().loadAll();
    s.parsed.length = 0;
    const gitlab = snapshot.pipelines.find((p) => p.def.source.kind === 'gitlab')!;
    const plan = await gitlab.plan({ jobs: [] }, { folder: s.dir, ...planFacts() });
    assert.ok(!('error' in plan), JSON.stringify(plan));
    assert.deepEqual(plan.jobs.map((j) => j.id).sort(), ['build', 'one']);
    assert.deepEqual(s.parsed, [], 'not imported again: the plan reads the file itself');
    // Changed since it was listed: the run uses the new text; broken since: refused; gone: refused, saying so.
    fs.writeFileSync(path.join(s.dir, '.gitlab-ci.yml'), "include:\n  - local: 'ci/*.yml'\nbuild2:\n  script: [echo build]\n");
    const changed = await gitlab.plan({ jobs: [] }, { folder: s.dir, ...planFacts() });
    assert.deepEqual('error' in changed ? changed : changed.jobs.map((j) => j.id).sort(), ['build2', 'one']);
    fs.writeFileSync(path.join(s.dir, '.gitlab-ci.yml'), 'build: [\n');
    assert.ok('error' in (await gitlab.plan({ jobs: [] }, { folder: s.dir, ...planFacts() })), 'a file broken since the listing is not run');
    fs.rmSync(path.join(s.dir, '.gitlab-ci.yml'));
    const gone = await gitlab.plan({ jobs: [] }, { folder: s.dir, ...planFacts() });
    assert.match('error' in gone ? gone.error : '', /\.gitlab-ci\.yml no longer exists/);
  });

  it('parses again what changed: the file, a file it read, a listing it made, a file that appeared', async () => {
    const s = sessions();
    await s.session().loadAll();
    const again = async () => {
      s.parsed.length = 0;
      const snap = await s.session().loadAll();
      return { parsed: [...s.parsed].sort(), snap };
    };
    // The workflow itself (another size).
    fs.writeFileSync(path.join(s.dir, '.github/workflows/b.yml'), workflow('B2'));
    let r = await again();
    assert.deepEqual(r.parsed, ['.github/workflows/b.yml']);
    assert.ok(r.snap.pipelines.some((p) => p.def.name === 'B2'));
    // An included file.
    fs.writeFileSync(path.join(s.dir, 'ci/one.yml'), 'one:\n  script: [echo one, echo more]\n');
    r = await again();
    assert.deepEqual(r.parsed, ['.gitlab-ci.yml']);
    // A new file matching the include glob (a listing changed).
    fs.writeFileSync(path.join(s.dir, 'ci/two.yml'), 'two:\n  script: [echo two]\n');
    r = await again();
    assert.deepEqual(r.parsed, ['.gitlab-ci.yml']);
    assert.ok(r.snap.pipelines.find((p) => p.def.source.kind === 'gitlab')?.def.jobs.some((j) => j.id === 'two'), 'the new include is read');
    // A file the import looked for and did not find, now there (GitLab project variables).
    fs.writeFileSync(path.join(s.dir, '.gitlab-ci-local-variables.yml'), 'X: "1"\n');
    r = await again();
    assert.ok(r.parsed.includes('.gitlab-ci.yml'), `re-imported after the variables file appeared (${r.parsed.join(', ')})`);
    // A deleted workflow is gone, and so is its entry.
    fs.rmSync(path.join(s.dir, '.github/workflows/b.yml'));
    r = await again();
    assert.deepEqual(r.parsed, []);
    assert.ok(!r.snap.pipelines.some((p) => p.def.name === 'B2'));
    assert.ok(!Object.keys((JSON.parse(fs.readFileSync(s.cacheFile, 'utf8')) as { entries: object }).entries).includes('.github/workflows/b.yml'));
    // Nothing changed: nothing parsed.
    assert.deepEqual((await again()).parsed, []);
  });

  it('does not keep a file changed within the last 2 seconds, nor another code’s or a damaged cache', async () => {
    const racy = sessions({ '.github/workflows/a.yml': workflow('A') }, 2000);
    await racy.session().loadAll();
    racy.parsed.length = 0;
    await racy.session().loadAll();
    assert.deepEqual(racy.parsed, ['.github/workflows/a.yml'], 'just written: parsed again (a same-size rewrite within the timestamp granularity would look unchanged)');

    const s = sessions();
    await s.session().loadAll();
    const cache = JSON.parse(fs.readFileSync(s.cacheFile, 'utf8')) as { code: string };
    fs.writeFileSync(s.cacheFile, JSON.stringify({ ...cache, code: 'another build' }));
    s.parsed.length = 0;
    await s.session().loadAll();
    assert.equal(s.parsed.length, 4, 'a cache written by other code is not used');
    fs.writeFileSync(s.cacheFile, '{"format":1,"code":');
    s.parsed.length = 0;
    const snap = await s.session().loadAll();
    assert.equal(s.parsed.length, 4, 'a damaged cache is not used');
    assert.equal(snap.pipelines.length, 3);
  });

  it('keeps no environments: delivery.yml with environments is read every session', async () => {
    const s = sessions({ 'delivery.yml': 'version: 1\nenvironments:\n  staging:\n    url: http://127.0.0.1:1\n' });
    await s.session().loadAll();
    s.parsed.length = 0;
    const snap = await s.session().loadAll();
    assert.deepEqual(s.parsed, ['delivery.yml']);
    assert.equal(snap.environments.length, 1);
  });
});
