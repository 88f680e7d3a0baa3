// A push-to-deploy remote: a bare repository whose post-receive hook checks the pushed branch out into a live
// folder, writes VERSION and (re)starts the app there (real-targets.md §3). Push over file:// or ssh://.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stopPidFile } from './common';

export interface GitRemote {
  bare: string;
  live: string;
  fileUrl: string;
  /** ssh:// URL for an sshd on this machine. */
  sshUrl(sshPort: number, user?: string): string;
  stopApp(): Promise<void>;
}

/**
 * Creates BASE/ENV.git; with `appPort`, the hook runs the checkout's restart.sh (the repo must contain app.js and
 * restart.sh); `rejectMessage` makes the hook refuse every push with that message.
 */
export function makeGitRemote(base: string, env: string, opts: { appPort?: number; branch?: string; rejectMessage?: string } = {}): GitRemote {
  const bare = path.join(base, `${env}.git`);
  const live = path.join(base, env, 'live');
  const branch = opts.branch ?? 'main';
  fs.mkdirSync(live, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', '-b', branch, bare]);
  const restart = opts.appPort ? `bash "${live}/restart.sh" "${live}" ${opts.appPort} ${env}` : 'true';
  const hook = opts.rejectMessage
    ? `#!/bin/bash\necho "${opts.rejectMessage}" >&2\nexit 1\n`
    : `#!/bin/bash
set -e
while read old new ref; do
  [ "$ref" = refs/heads/${branch} ] || { echo "ignoring $ref"; continue; }
  echo "-----> deploying $new to ${env}"
  GIT_WORK_TREE="${live}" git --git-dir="${bare}" checkout -f -q ${branch}
  echo "$new" > "${live}/VERSION"
  ${restart}
done
`;
  fs.writeFileSync(path.join(bare, 'hooks', 'post-receive'), hook, { mode: 0o755 });
  if (opts.rejectMessage) fs.writeFileSync(path.join(bare, 'hooks', 'pre-receive'), hook, { mode: 0o755 });
  return {
    bare,
    live,
    fileUrl: `file://${bare}`,
    sshUrl: (sshPort, user = 'root') => `ssh://${user}@127.0.0.1:${sshPort}${bare}`,
    stopApp: () => stopPidFile(path.join(live, 'app.pid')),
  };
}
