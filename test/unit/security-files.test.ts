// Issue #17: a job id cannot name a log file outside its run folder (pure: a temp state folder only). The hostile
// repositories (committed symlinks, FIFOs, the real CLI) are in test/system/security-files.test.ts.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { FileRunStore } from '../../src/adapters/runStore';
import type { RunRecord } from '../../src/shared/model';
import { cleanupTempDirs, tempDir } from '../support/tmp';

describe('security: repository files', () => {
  after(cleanupTempDirs);

  describe('log files', () => {
    it('a job id cannot name a log file outside the run folder', async () => {
      const store = new FileRunStore(path.join(tempDir('delivery-sec-state-'), 'state'));
      const run = { id: '20261202-000000-000-abcdef' } as RunRecord;
      const dir = path.join(store.runsDir, run.id);
      for (const id of ['..', '../../escape', '/etc/x', 'a\0b', '.hidden']) {
        const log = store.openLog(run, id);
        await log.close();
        assert.equal(path.dirname(path.dirname(log.path)), dir, id);
        assert.ok(!path.relative(dir, log.path).split(path.sep).some((part) => part.startsWith('.')), `${id}: ${log.path}`);
      }
    });
  });
});
