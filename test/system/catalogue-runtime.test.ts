// Bad-input catalogue, part 2: what jobs do at run time (binary, non-UTF-8 and huge output, missing commands,
// daemons), the state of the git repository (none, empty, detached, shallow, dirty) and names carrying shell
// metacharacters (branches, refs, variables, secrets, step outputs). All through the real CLI; each case states the
// outcome a user sees, that nothing ran that should not have (no "pwned"), and that the earlier history is intact.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileRunStore } from '../../src/adapters/runStore';
import { folderStateDir } from '../../src/adapters/stateDir';
import type { RunRecord } from '../../src/shared/model';
import { cleanupTempDirs, git, isAlive, tempDir, waitFor } from '../support/tmp';
import { assertNothingLost, caseFolder, cli, inBatches, markers, seededStateRoot, type CliResult } from '../support/catalogueSupport';
import { useSharedWorkspaces } from '../support/workspaceMode';

interface Ctx {
  folder: string;
  state: string;
  r: CliResult;
  /** The JSON the CLI printed (--json cases). */
  json: () => Record<string, unknown>;
  /** The newest run record of the case (not the seeded one). */
  run: () => Promise<RunRecord>;
  /** Files the case's setup made outside the folder (a deploy target). */
  outside: string;
}

interface RuntimeCase {
  name: string;
  /** The folder (and anything else the case needs); `outside` is a scratch folder for targets. */
  setup: (outside: string) => string;
  args: string[];
  env?: Record<string, string>;
  code: number;
  says?: RegExp[];
  /** Markers that must exist afterwards (what legitimately ran); default none. */
  ran?: string[];
  check?: (c: Ctx) => void | Promise<void>;
}

const ci = (jobs: string) => ({ 'delivery.yml': `version: 1\npipelines:\n  ci:\n    jobs:\n${jobs}` });
const envYml = (envs: string) => ({ 'delivery.yml': `version: 1\nenvironments:\n${envs}` });
/** An environment whose deploy command writes ran-deploy (and DELIVERY_REF) into `out`, and whose probe reads it. */
const commandEnv = (out: string, extra = '') =>
  envYml(`  staging:\n    version: { command: 'cat "${out}/deployed" 2>/dev/null || echo none' }\n    deploy:\n      command: 'touch "${out}/ran-deploy"; printf %s "$DELIVERY_REF" > "${out}/ref"; echo "$DELIVERY_SHA" > "${out}/deployed"'\n${extra}`);

/** A repository on branch `branch` (a name full of shell metacharacters) holding `files`. */
function onBranch(files: Record<string, string>, branch: string): string {
  const dir = caseFolder(files);
  git(dir, 'checkout', '-q', '-b', branch);
  return dir;
}

const PWNED_BRANCH = 'x$(touch${IFS}pwned)`touch${IFS}pwned`;touch${IFS}pwned;"\'';

const CASES: RuntimeCase[] = [
  // --- what a job prints ---
  {
    name: 'a job printing binary output (NUL and random bytes)',
    setup: () => caseFolder(ci(`      bin: { run: "head -c 65536 /dev/urandom; printf '\\\\0\\\\0\\\\nend of binary\\\\n'; touch ran-bin" }\n`)),
    args: ['run', 'ci', '--json'],
    code: 0,
    ran: ['ran-bin'],
    check: async ({ json, run }) => {
      assert.equal(json().status, 'success');
      const job = (await run()).jobs[0];
      assert.match(fs.readFileSync(job.logFile!, 'utf8'), /\nend of binary\n/);
    },
  },
  {
    name: 'a job printing non-UTF-8 output (Latin-1)',
    setup: () => caseFolder(ci(`      latin: { run: "printf 'caf\\\\xe9 cr\\\\xe8me\\\\n'; touch ran-latin" }\n`)),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-latin'],
    says: [/^latin +> caf\uFFFD cr\uFFFDme$/m],
    check: async ({ run }) => assert.match(fs.readFileSync((await run()).jobs[0].logFile!, 'utf8'), /\ncaf\uFFFD cr\uFFFDme\n/),
  },
  {
    name: 'a job printing a 1 MB single line: shown cut, kept whole in the log',
    setup: () => caseFolder(ci(`      long: { run: "head -c 1048576 /dev/zero | tr '\\\\0' x; echo; touch ran-long" }\n`)),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-long'],
    says: [/^long +> x{8192}… \[1040384 more characters in the log file\]$/m],
    check: async ({ run }) => {
      const log = fs.readFileSync((await run()).jobs[0].logFile!, 'utf8');
      assert.ok(log.includes(`\n${'x'.repeat(1048576)}\n`), `the log holds the whole line (log: ${log.length} characters)`);
    },
  },
  {
    name: 'a job printing a 3 MB single line: shown cut, its bytes kept whole in the log without being decoded whole',
    setup: () => caseFolder(ci(`      long: { run: "head -c 3145728 /dev/zero | tr '\\\\0' y; printf '\\\\r\\\\n'; echo after; touch ran-long" }\n`)),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-long'],
    says: [/^long +> y{8192}… \[3137536 more bytes in the log file\]$/m, /^long +> after$/m],
    check: async ({ run }) => {
      const log = fs.readFileSync((await run()).jobs[0].logFile!, 'utf8');
      assert.ok(log.includes(`\n${'y'.repeat(3145728)}\nafter\n`), `the log holds the whole line, its CR dropped (log: ${log.length} characters)`);
    },
  },
  {
    name: 'a job flooding 200,000 lines does not hang the run',
    setup: () => caseFolder(ci('      flood: { run: "seq 1 200000; touch ran-flood" }\n')),
    args: ['run', 'ci', '--json'],
    code: 0,
    ran: ['ran-flood'],
    check: async ({ run }) => {
      const lines = fs.readFileSync((await run()).jobs[0].logFile!, 'utf8').split('\n');
      assert.deepEqual([lines[1], lines[200000]], ['1', '200000'], 'every line is in the log');
    },
  },
  {
    name: 'a job reading standard input gets end-of-file, not a hang',
    setup: () => caseFolder(ci('      reader: { run: "cat; touch ran-reader" }\n')),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-reader'],
  },
  // --- commands that cannot run ---
  {
    name: 'a command that is not found',
    setup: () => caseFolder(ci('      a: { run: "no-such-command-xyz --flag; touch ran-a" }\n')),
    args: ['run', 'ci', '--json'],
    code: 1,
    says: [/no-such-command-xyz: command not found/],
    check: ({ json }) => assert.deepEqual((json().jobs as Record<string, unknown>).a, { status: 'failed', exitCode: 127, durationMs: ((json().jobs as Record<string, { durationMs: number }>).a).durationMs, attempts: 1, reason: 'step "a" exited with code 127' }),
  },
  {
    name: 'a script without execute permission',
    setup: () => caseFolder({ ...ci('      a: { run: "./deploy.sh && touch ran-a" }\n'), 'deploy.sh': '#!/bin/sh\ntouch ran-script\n' }),
    args: ['run', 'ci'],
    code: 1,
    says: [/\.\/deploy\.sh: Permission denied/, /FAIL +a .*exited with code 126/],
  },
  {
    name: 'a shell that is not installed',
    setup: () => caseFolder(ci('      a: { run: "touch ran-a", shell: no-such-shell-xyz }\n')),
    args: ['run', 'ci'],
    code: 1,
    says: [/command not found: no-such-shell-xyz/],
  },
  {
    name: 'a working directory that does not exist',
    setup: () => caseFolder(ci('      a: { run: "touch ran-a", cwd: sub/missing }\n')),
    args: ['run', 'ci'],
    code: 1,
    says: [/working directory does not exist: .*sub\/missing/],
  },
  {
    name: 'a job that forks daemons (setsid, and one ignoring SIGTERM): they are killed when it ends',
    setup: () =>
      caseFolder(ci(`      daemons:\n        run: |\n          setsid bash -c 'echo $$ > d1.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &\n          (trap '' TERM; echo $BASHPID > d2.pid; exec sleep 300) </dev/null >/dev/null 2>&1 &\n          sleep 0.3; touch ran-daemons\n`)),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-daemons'],
    says: [/daemons +\| killed \d+ process(es)? the job left running/],
    check: async ({ folder }) => {
      const pids = ['d1.pid', 'd2.pid'].map((f) => Number(fs.readFileSync(path.join(folder, f), 'utf8')));
      await waitFor(() => pids.every((p) => !isAlive(p)), 5000, 'the daemons to be gone');
    },
  },
  {
    name: 'a job starting 20 daemons at once and exiting at once: none survives',
    setup: () => caseFolder(ci(`      burst:\n        run: |\n          for i in $(seq 20); do setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> burst.pids; done\n          touch ran-burst\n`)),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-burst'],
    check: async ({ folder }) => {
      const pids = fs.readFileSync(path.join(folder, 'burst.pids'), 'utf8').trim().split('\n').map(Number);
      assert.equal(pids.length, 20);
      await waitFor(() => pids.every((p) => !isAlive(p)), 5000, 'all 20 daemons to be gone');
    },
  },
  // --- the git repository ---
  {
    name: 'no git repository: a run still runs and records no commit',
    setup: () => caseFolder(ci('      a: { run: "touch ran-a" }\n'), 'none'),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-a'],
    check: async ({ run }) => assert.equal((await run()).sha, null),
  },
  {
    name: 'no git repository: a deploy is refused, saying why',
    setup: (out) => caseFolder(commandEnv(out), 'none'),
    args: ['deploy', 'staging', '--yes'],
    code: 2,
    says: [/is not in a git repository: deploys need committed work/],
  },
  {
    name: 'no git repository: diff says so',
    setup: (out) => caseFolder(commandEnv(out), 'none'),
    args: ['diff', 'staging'],
    code: 2,
    says: [/is not in a git repository/],
  },
  {
    name: 'an empty repository (no commits): a deploy is refused, saying why',
    setup: (out) => caseFolder(commandEnv(out), 'empty'),
    args: ['deploy', 'staging', '--yes'],
    code: 2,
    says: [/has no commits yet: commit what you want to deploy/],
  },
  {
    name: 'an empty repository: envs shows no commit',
    setup: (out) => caseFolder(commandEnv(out), 'empty'),
    args: ['envs', '--json'],
    code: 1,
    check: ({ json }) => {
      const [e] = json().environments as { local: unknown; deployed: { sha: unknown; error: unknown } }[];
      assert.deepEqual(e.local, { sha: null, branch: 'main', dirty: true });
      assert.equal(e.deployed.sha, null);
      assert.match(String(e.deployed.error), /deployed version "none" is not in this repository/);
    },
  },
  {
    name: 'a detached HEAD deploys its commit; envs reports no branch',
    setup: (out) => {
      const dir = caseFolder(commandEnv(out));
      git(dir, 'commit', '-q', '--allow-empty', '-m', 'second');
      git(dir, 'checkout', '-q', '--detach', 'HEAD~1');
      return dir;
    },
    args: ['deploy', 'staging', '--yes', '--json'],
    code: 0,
    ran: ['ran-deploy'],
    check: async ({ json, folder, state }) => {
      assert.equal(json().sha, git(folder, 'rev-parse', 'HEAD'));
      const envs = JSON.parse((await cli(folder, state, ['envs', '--json'])).stdout) as { environments: { local: { branch: unknown } }[] };
      assert.equal(envs.environments[0].local.branch, null);
    },
  },
  {
    name: 'a shallow clone: no false "would revert" from history it lacks',
    setup: (out) => {
      const src = caseFolder(commandEnv(out));
      const first = git(src, 'rev-parse', 'HEAD');
      git(src, 'commit', '-q', '--allow-empty', '-m', 'two');
      git(src, 'commit', '-q', '--allow-empty', '-m', 'three');
      fs.writeFileSync(path.join(out, 'deployed'), `${first}\n`); // the environment runs the first commit
      const clone = tempDir('delivery-catalogue-shallow-');
      git(path.dirname(clone), 'clone', '-q', '--depth', '1', `file://${src}`, clone);
      return clone;
    },
    args: ['diff', 'staging'],
    code: 2,
    says: [/this clone is shallow and lacks the history joining [0-9a-f]{7} and [0-9a-f]{7}; run "git fetch --unshallow"/],
    check: async ({ folder, state }) => {
      const envs = JSON.parse((await cli(folder, state, ['envs', '--json'])).stdout) as { environments: { ahead: unknown; behind: unknown; deployed: { sha: unknown } }[] };
      assert.match(String(envs.environments[0].deployed.sha), /^[0-9a-f]{40}$/, 'the deployed commit was fetched');
      assert.deepEqual([envs.environments[0].ahead, envs.environments[0].behind], [null, null], 'distance unknown, not "1 to revert"');
      const deploy = await cli(folder, state, ['deploy', 'staging']);
      assert.equal(deploy.code, 0, `deployed without a confirmation about reverts: ${deploy.stderr}`);
    },
    ran: ['ran-deploy'],
  },
  {
    name: 'a dirty tree: the deploy asks for confirmation and deploys nothing without it',
    setup: (out) => {
      const dir = caseFolder(commandEnv(out));
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not committed');
      return dir;
    },
    args: ['deploy', 'staging'],
    code: 2,
    says: [/refusing to deploy "staging" without --yes:\n {2}- the working tree has uncommitted changes; they are not part of the deploy/],
  },
  {
    name: 'a ref that names no commit',
    setup: (out) => caseFolder(commandEnv(out)),
    args: ['deploy', 'staging', '--ref', 'no-such-branch', '--yes'],
    code: 2,
    says: [/"no-such-branch" does not name a commit in /],
  },
  // --- shell metacharacters in names and values: data, never code ---
  {
    name: 'a ref that looks like an option (--upload-pack=touch pwned)',
    setup: (out) => caseFolder(commandEnv(out)),
    args: ['deploy', 'staging', '--ref=--upload-pack=touch pwned', '--yes'],
    code: 2,
    says: [/"--upload-pack=touch pwned" is not a valid ref \(it starts with "-"\)/],
  },
  {
    name: 'a branch named with $( ), backticks, ; and quotes, deployed by --ref: DELIVERY_REF is data',
    setup: (out) => onBranch(commandEnv(out), PWNED_BRANCH),
    args: ['deploy', 'staging', '--ref', PWNED_BRANCH, '--yes', '--json'],
    code: 0,
    ran: ['ran-deploy'],
    check: ({ outside, json }) => {
      assert.equal(json().ref, PWNED_BRANCH);
      assert.equal(fs.readFileSync(path.join(outside, 'ref'), 'utf8'), PWNED_BRANCH);
    },
  },
  {
    name: 'that branch in a GitHub workflow (${{ github.ref_name }} in run:)',
    setup: () => onBranch({ '.github/workflows/ci.yml': 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "[${{ github.ref_name }}]" > branch.txt && touch ran-a\n' }, PWNED_BRANCH),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-a'],
    check: ({ folder }) => assert.equal(fs.readFileSync(path.join(folder, 'branch.txt'), 'utf8'), `[${PWNED_BRANCH}]\n`),
  },
  {
    name: 'that branch in GitLab CI ($CI_COMMIT_REF_NAME, and in variables:)',
    setup: () => onBranch({ '.gitlab-ci.yml': 'variables:\n  REF: "ref=$CI_COMMIT_REF_NAME"\nshow:\n  script:\n    - printf "%s|%s" "$CI_COMMIT_REF_NAME" "$REF" > branch.txt\n    - touch ran-show\n' }, PWNED_BRANCH),
    args: ['run', 'gitlab-ci'],
    code: 0,
    ran: ['ran-show'],
    check: ({ folder }) => assert.equal(fs.readFileSync(path.join(folder, 'branch.txt'), 'utf8'), `${PWNED_BRANCH}|ref=${PWNED_BRANCH}`),
  },
  {
    name: 'a --variable value with a newline and $( ) reaches the script as data',
    setup: () => caseFolder({ '.gitlab-ci.yml': 'show:\n  script:\n    - printf "%s" "$VALUE" > value.txt\n    - touch ran-show\n' }),
    args: ['run', 'gitlab-ci', '--variable', 'VALUE=line one\n$(touch pwned); touch pwned'],
    code: 0,
    ran: ['ran-show'],
    check: ({ folder }) => assert.equal(fs.readFileSync(path.join(folder, 'value.txt'), 'utf8'), 'line one\n$(touch pwned); touch pwned'),
  },
  {
    name: 'a step output carrying $( ) used by a later step of a GitHub workflow',
    setup: () =>
      caseFolder({ '.github/workflows/ci.yml': "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - id: evil\n        run: echo 'x=$(touch pwned)`touch pwned`' >> \"$GITHUB_OUTPUT\"\n      - run: echo \"${{ steps.evil.outputs.x }}\" > out.txt && touch ran-a\n" }),
    args: ['run', 'ci'],
    code: 0,
    ran: ['ran-a'],
    check: ({ folder }) => assert.equal(fs.readFileSync(path.join(folder, 'out.txt'), 'utf8'), '$(touch pwned)`touch pwned`\n'),
  },
  {
    name: 'a secret value with $( ) and quotes reaches the deploy as data, masked in the log',
    setup: (out) => caseFolder(envYml(`  staging:\n    deploy:\n      command: 'printf %s "$TOKEN" > "${out}/token"; echo "token is $TOKEN"'\n      env: { TOKEN: "\${secret:TOKEN}" }\n`)),
    args: ['deploy', 'staging', '--yes', '--json'],
    env: { DELIVERY_SECRET_TOKEN: `s3cr3t$(touch pwned)'"` },
    code: 0,
    check: ({ outside, json }) => {
      assert.equal(fs.readFileSync(path.join(outside, 'token'), 'utf8'), `s3cr3t$(touch pwned)'"`);
      const log = fs.readFileSync(String(json().logFile), 'utf8');
      assert.match(log, /token is \*\*\*/);
      assert.ok(!log.includes('s3cr3t'));
    },
  },
];

describe('bad-input catalogue: job output, processes, repository states and metacharacters (CLI)', function () {
  useSharedWorkspaces();
  this.timeout(180_000);
  const results = new Map<string, Ctx>();
  before(async () => {
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are distinct');
    await inBatches(CASES, 3, async (c) => {
      const outside = tempDir('delivery-catalogue-target-');
      const folder = c.setup(outside);
      const state = await seededStateRoot(folder);
      const r = await cli(folder, state, c.args, { env: c.env });
      const store = new FileRunStore(folderStateDir(folder, state));
      results.set(c.name, {
        folder,
        state,
        r,
        outside,
        json: () => JSON.parse(r.stdout) as Record<string, unknown>,
        run: async () => (await store.list(1))[0],
      });
    });
  });
  after(cleanupTempDirs);

  for (const c of CASES) {
    it(c.name, async () => {
      const ctx = results.get(c.name)!;
      const { r, folder, state, outside } = ctx;
      const shown = `exit ${r.code}\n--- stderr\n${r.stderr.slice(0, 4000)}\n--- stdout\n${r.stdout.slice(0, 4000)}`;
      assert.equal(r.code, c.code, shown);
      for (const re of c.says ?? []) assert.match(`${r.stderr}\n${r.stdout}`, re, shown);
      await c.check?.(ctx);
      assert.deepEqual(markers(folder, outside), c.ran ?? [], 'what ran');
      await assertNothingLost(folder, state);
    });
  }
});
