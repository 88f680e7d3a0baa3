// A GitHub job's scratch folder (RUNNER_TEMP, event.json) and its steps' files (GITHUB_ENV, GITHUB_OUTPUT, …) are
// reused within a run (adapters/scratch.ts): what one job or step left must never reach the next, and a file a step
// replaced with a link or a second name of another file must never be emptied or written through.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FolderSources } from '../../src/adapters/folderSources';
import { startLocalRun } from '../../src/adapters/localRuns';
import { FileRunStore } from '../../src/adapters/runStore';
import type { RunRecord } from '../../src/shared/model';
import { cleanupTempDirs, gitRepo, tempDir } from '../support/tmp';
import { useSharedWorkspaces } from '../support/workspaceMode';

async function run(folder: string, id: string): Promise<RunRecord> {
  const snapshot = await new FolderSources(folder).loadAll();
  const pipeline = snapshot.pipelines.find((p) => p.def.id === id);
  assert.ok(pipeline, `pipeline ${id} (problems: ${JSON.stringify(snapshot.problems)})`);
  const handle = await startLocalRun(pipeline, {}, { folder, store: new FileRunStore(path.join(tempDir('delivery-scratch-state-'), 'state')), trigger: 'cli', parallelism: 1 });
  if ('error' in handle) throw new Error(handle.error);
  return handle.done;
}

const summary = (r: RunRecord) => r.jobs.map((j) => `${j.id}: ${j.status} ${j.reason ?? ''}`).join('\n');

describe('GitHub scratch folders and step files reused within a run (real processes)', function () {
  useSharedWorkspaces();
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('a later job gets the same folder back, emptied, with the payload as it was and empty step files', async () => {
    const outside = path.join(tempDir('delivery-scratch-outside-'), 'precious.txt');
    fs.writeFileSync(outside, 'kept=yes\n');
    const dir = gitRepo({
      '.github/workflows/w.yml': `name: w
on: push
jobs:
  first:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "$RUNNER_TEMP" > first.temp
          echo left > "$RUNNER_TEMP/leftover"
          mkdir "$RUNNER_TEMP/tool-cache-x"
          echo '{"changed": true}' > "$GITHUB_EVENT_PATH"
          echo "x=1" >> "$GITHUB_OUTPUT"
          echo "FROM_FIRST=1" >> "$GITHUB_ENV"
      - run: |
          # This step's files are fresh: nothing of the step before.
          test ! -s "$GITHUB_OUTPUT" && test ! -s "$GITHUB_ENV" && test -f "$GITHUB_PATH" && test -f "$GITHUB_STEP_SUMMARY"
          echo "$FROM_FIRST" > first.env
          # Replaced: a link to a file outside, and a second name of it.
          ln -sf "$OUTSIDE" "$GITHUB_OUTPUT"
          ln -f "$OUTSIDE" "$GITHUB_ENV"
        env:
          OUTSIDE: ${outside}
  second:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "$RUNNER_TEMP" > second.temp
          ls -A "$RUNNER_TEMP" | sort > second.ls
          cat "$GITHUB_EVENT_PATH" > second.event
          for f in "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_PATH" "$GITHUB_STATE" "$GITHUB_STEP_SUMMARY"; do
            test -f "$f" && test ! -L "$f" && test ! -s "$f" || { echo "not fresh: $f"; exit 1; }
          done
          echo "y=2" >> "$GITHUB_OUTPUT"
`,
    });
    const r = await run(dir, 'w');
    assert.equal(r.status, 'success', summary(r));
    const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
    assert.equal(read('first.env').trim(), '1', 'GITHUB_ENV of step 1 reached step 2');
    // Reused: the second job had the first one's folder (made once), emptied of what the first left there.
    assert.equal(read('second.temp'), read('first.temp'));
    const left = read('second.ls').split('\n').filter(Boolean);
    assert.ok(!left.includes('leftover') && !left.includes('tool-cache-x'), `RUNNER_TEMP of the second job: ${left.join(' ')}`);
    assert.ok(left.includes('event.json'), left.join(' '));
    assert.notEqual(read('second.event'), '{"changed": true}\n', 'the payload the first job overwrote is written again');
    assert.doesNotThrow(() => JSON.parse(read('second.event')));
    // The file outside was neither emptied (through the link or its second name) nor written.
    assert.equal(fs.readFileSync(outside, 'utf8'), 'kept=yes\n');
    assert.equal(fs.statSync(outside).nlink, 1, 'its second name in the scratch folder is gone');
    // The scratch folder is gone once the run has ended.
    assert.equal(fs.existsSync(read('first.temp').trim()), false);
  });
});
