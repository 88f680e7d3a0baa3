// The half of the GitLab CI import tests that needs git (test/unit/gitlab.test.ts holds the pure ones).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FolderSources } from '../../src/adapters/folderSources';
import { cleanupTempDirs } from '../support/tmp';
import { repoWith } from '../support/gitlabSupport';

describe('GitLab CI import', () => {
  after(cleanupTempDirs);

  it('is read by FolderSources, and a change to an included file re-imports the pipeline', async () => {
    const dir = repoWith({ '.gitlab-ci.yml': 'include: ci/jobs.yml\n', 'ci/jobs.yml': 'one:\n  script: echo one\n' });
    const sources = new FolderSources(dir);
    let snap = await sources.loadAll();
    assert.deepEqual(snap.files, ['.gitlab-ci.yml']);
    assert.deepEqual(snap.pipelines[0].def.jobs.map((j) => j.id), ['one']);
    fs.writeFileSync(path.join(dir, 'ci/jobs.yml'), 'one:\n  script: echo one\ntwo:\n  stage: deploy\n  script: echo two\n');
    assert.equal(await sources.reload('ci/jobs.yml'), true);
    snap = sources.snapshot();
    assert.deepEqual(snap.pipelines[0].def.jobs.map((j) => `${j.id}@${j.stage}`), ['one@test', 'two@deploy']);
    fs.writeFileSync(path.join(dir, '.gitlab-ci-local-variables.yml'), 'X: 1\n');
    assert.equal(await sources.reload('.gitlab-ci-local-variables.yml'), true, 'the project variables file is a dependency too');
  });
});
