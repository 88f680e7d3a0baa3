// Runs the mocha suites of one folder inside the VS Code extension host (the @vscode/test-electron `run()`
// contract; code-server's host calls the same function). Rejects when a test fails, so the host exits with 1.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function runSuites(dir: string): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60000, grep: process.env.DELIVERY_TEST_GREP });
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(path.join(dir, f));
  const resultsFile = process.env.HARNESS_RESULTS_FILE;
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      if (resultsFile) fs.writeFileSync(resultsFile, JSON.stringify({ failures, stats: runner.stats }, null, 2));
      if (failures > 0) reject(new Error(`${failures} test(s) failed.`));
      else resolve();
    });
  });
}
