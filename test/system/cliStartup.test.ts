// What `delivery run` loads to start: Node's crypto module and worker threads cost the CLI milliseconds of start-up
// each, and a run of a .gitlab-ci.yml without workspaces needs neither (names hash with core/sha256.ts, random parts
// come from adapters/random.ts, the workspace thread starts with the first workspace). A real CLI process, a real
// repository; the built-in modules it loaded are read from Node's own list as it exits.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, gitRepo, tempDir } from '../support/tmp';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

describe('CLI start-up: what a run loads', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  it('a GitLab run loads neither node:crypto nor node:worker_threads, and works', () => {
    const dir = gitRepo({ '.gitlab-ci.yml': 'stages: [build, test]\nbuild:\n  stage: build\n  script: [echo built > built.txt]\ntest:\n  stage: test\n  script: [test -f built.txt, echo tested]\n' });
    const hook = path.join(tempDir('delivery-startup-'), 'modules.js');
    fs.writeFileSync(hook, "process.on('exit', () => process.stderr.write('modules:' + JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule '))) + '\\n'));\n");
    const run = () => {
      const r = spawnSync(process.execPath, ['--require', hook, CLI, 'run', 'gitlab-ci'], { cwd: dir, encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(dir, '.state-test') } });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /test +> tested/);
      const modules = JSON.parse(/modules:(.*)/.exec(r.stderr)![1]) as string[];
      assert.ok(modules.includes('NativeModule child_process'), 'the list is read (jobs started processes)');
      return modules.filter((m) => /^NativeModule (crypto|worker_threads)$/.test(m));
    };
    assert.deepEqual(run(), [], 'first run');
    assert.deepEqual(run(), [], 'a later run (history and source cache on disk)');
  });
});
