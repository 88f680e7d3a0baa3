// The demo workspace for `npm start`: a git repository with a delivery.yml (pipelines and environments).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { copyFixture } from './lib-codeserver.mjs';

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Demo', GIT_AUTHOR_EMAIL: 'demo@example.invalid', GIT_COMMITTER_NAME: 'Demo', GIT_COMMITTER_EMAIL: 'demo@example.invalid' };
const git = (cwd, ...args) => execFileSync('git', args, { cwd, env: gitEnv, stdio: 'pipe' }).toString().trim();

/** Creates (once) the demo repository. Returns { workspace, stop() }. */
export async function prepareDemo(workspace, _targets) {
  if (!fs.existsSync(path.join(workspace, '.git'))) {
    fs.rmSync(workspace, { recursive: true, force: true });
    copyFixture('workspace', workspace);
    git(workspace, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(workspace, '.gitignore'), 'out/\n');
    git(workspace, 'add', '-A');
    git(workspace, 'commit', '-q', '-m', 'Demo project');
  }
  return { workspace, stop: async () => {} };
}
