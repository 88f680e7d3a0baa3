// `delivery`: the same pipelines, runs and deploys as the VS Code extension, in a terminal or in CI.
// Exit status: 0 success, 1 a run, deploy or check failed, 2 bad usage or invalid configuration, 3 deployed or checked
// but the verification could not decide ("unverified"), 130 interrupted.
import { parseArgs } from 'node:util';
import { FolderError, UsageError, workspaceFolder, type CliCommand, type CliContext } from './context';
import { cliMasker, SafeOutput } from './output';
import { preferKernelRandom } from '../adapters/random';
import { misplacedOption } from './optionScope';
import type { Masker } from '../core/secrets';
import { terminalText } from '../core/sanitize';
import { pipelinesCommand, runCommand } from './pipelines';
import type * as Lazy from './lazyCommands';

/** A command from the lazily loaded bundle (environments, deploys, remote engines). */
function lazy(name: keyof typeof Lazy): CliCommand {
  return async (ctx) => ((await import('./lazyCommands.js')) as typeof Lazy)[name](ctx);
}

const VERSION = '0.1.0';

/** Every command: name -> implementation (one module per area). */
const COMMANDS: Record<string, CliCommand> = {
  pipelines: pipelinesCommand,
  run: runCommand,
  envs: lazy('envsCommand'),
  diff: lazy('diffCommand'),
  deploy: lazy('deployCommand'),
  rollback: lazy('rollbackCommand'),
  promote: lazy('promoteCommand'),
  remote: lazy('remoteCommand'),
  lock: lazy('lockCommand'),
  history: lazy('historyCommand'),
  verify: lazy('verifyCommand'),
};

const USAGE = `usage: delivery <command> [options]

commands:
  pipelines                         list the pipelines of the folder and any problems in their files
  run <pipeline> [<job>...]         run a pipeline locally (or only the named jobs, or one matrix leg:
                                    "test (16)", "build: [aws, app1]")
  envs                              what is deployed where: each environment's commit, distance to HEAD, health
  diff <env> [--to ENV|--ref REF]   what deploying HEAD (or REF, or ENV's commit) to <env> would change
  deploy <env> [--ref REF]          build (if configured), deploy, check the version and health, watch the
                                    metrics of verify:; records the history (exit 3: deployed, unverified)
  rollback <env> [--to SHA]         re-deploy an earlier commit (default: the previous successful deploy)
  promote <env>                     deploy the commit that the environment's promotesFrom runs
  verify <env>                      evaluate the environment's verify: checks now, without deploying
                                    (exit 0 passed, 1 failed, 3 could not be decided)
  history <env> [--limit N]         the environment's deploys, rollbacks, promotes and lock events, newest first,
                                    from the team's store (the ssh host, the git remote, the registry)
  lock status <env>                 who holds the environment's deploy lock, since when, and why
  lock acquire <env> [-m MSG]       hold the lock by hand (a migration, a freeze): nobody deploys until released
  lock release <env> [--force]      release it (someone else's lock needs --force, which is recorded)
  remote runs <pipeline>            recent runs of the pipeline on its remote engine (Buildbot, GitHub, GitLab)
  remote trigger <pipeline>         start a remote run (--ref REF, --input K=V..., --wait)
  remote logs <run> [--follow]      a remote run's logs (<run>: <pipeline>#<id>, as remote runs lists it)
  remote cancel <run>               cancel a remote run
  remote rerun <run>                re-run the failed jobs of a remote run (--wait)
  remote inputs <pipeline>          the inputs a remote trigger accepts

options:
  --cwd DIR          the workspace folder (default: the current directory; inside a git repository,
                     its root)
  --json             print the result as JSON (the documented contract) on stdout; progress goes to stderr
  --needs            with job names: also run the jobs they need
  --parallel N       jobs running at once (default: the number of CPUs)
  --variable K=V     a variable for the run (repeatable)
  --manual JOB       run a manual job as if it were not manual (repeatable)
  --unset-variable K remove a variable for the run, whatever defined it (repeatable)
  --stage S          run the jobs of one stage
  --force-shell-executor
                     run jobs that name a container image (GitLab image:/services:, GitHub
                     container:) in the local shell instead of a container (alias: --allow-images)
  --shell-executor-no-image
                     jobs without an image run in the local shell (always so; accepted for
                     gitlab-ci-local compatibility)
  --actions-host URL where remote actions (uses: owner/repo@ref) are fetched from with git
                     (default: $DELIVERY_ACTIONS_HOST, else https://github.com; a GHES URL works)
  --workspace W      isolated: each job (each matrix leg) runs in a copy of the folder (committed and
                     uncommitted files, not ignored ones; kept in the run's folder when the job fails;
                     GitLab and delivery.yml artifacts copied into the jobs that take them); shared: in
                     the folder itself (default: isolated for GitHub workflows, shared for GitLab CI,
                     delivery.yml jobs as their workspace: says; DELIVERY_WORKSPACE sets it too)
  --platform L=V     a GitHub runs-on label L runs on this machine (V: host) or in image V (repeatable;
                     defaults: ubuntu-*, self-hosted, linux -> host; a label mapped to nothing is unsupported)
  --yes              confirm without asking (deploys to protected environments)
  --ref REF          the commit, branch or tag to use (deploy, diff)
  --to X             the target (rollback: a SHA; diff: another environment)
  --input K=V        an input of the run (workflow_dispatch / workflow_call inputs, checked before anything
                     runs) or of a remote trigger (repeatable)
  --event NAME       run: the event the run stands for (github.event_name; default workflow_dispatch)
  --event-payload F  run: a JSON file, the event's payload (github.event, the file at GITHUB_EVENT_PATH)
  --secret NAME[=V]  run: a secret (secrets.NAME); without =V its value is the environment variable NAME;
                     masked everywhere (repeatable)
  --secret-file F    run: secrets from a dotenv file (NAME=VALUE lines, # comments, optional quotes)
  --wait             remote trigger/rerun: wait for the run to end (exit 1 unless it succeeds)
  --follow           remote logs: follow the logs until the run ends
  --limit N          remote runs, history: how many (default 20)
  -m, --message M    lock acquire/release, deploy: a message kept with the lock and in the history
  --force            lock release: release a lock someone else holds
  --branch B         remote runs: only runs of branch B
  --pipeline P       remote logs/cancel/rerun: the pipeline of a run given by its bare id
  --trust-api-host H remote: send the GitHub/GitLab token to API host H that delivery.yml names
                     (repeatable; also DELIVERY_TRUSTED_API_HOSTS=H1,H2)
  -h, --help         this help
  --version          the version

A pipeline is named by its id, or <source>:<id> when ids repeat across sources (delivery, github, gitlab).`;

export async function main(argv: string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<number> {
  // Random names from the kernel: loading node:crypto for them would cost a short run more than its own work.
  preferKernelRandom();
  const env = io.env ?? process.env;
  const masker = cliMasker(env);
  const json = argv.includes('--json');
  const stdout = new SafeOutput(io.stdout ?? process.stdout, masker, { json });
  const stderr = new SafeOutput(io.stderr ?? process.stderr, masker, { json: false });
  try {
    return await command(argv, stdout, stderr, env, io.signal, masker);
  } finally {
    stdout.flush();
    stderr.flush();
  }
}

async function command(argv: string[], stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined, masker?: Masker): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      tokens: true,
      options: {
        cwd: { type: 'string' },
        json: { type: 'boolean', default: false },
        needs: { type: 'boolean', default: false },
        parallel: { type: 'string' },
        variable: { type: 'string', multiple: true, default: [] },
        manual: { type: 'string', multiple: true, default: [] },
        'unset-variable': { type: 'string', multiple: true, default: [] },
        stage: { type: 'string' },
        'allow-images': { type: 'boolean', default: false },
        'force-shell-executor': { type: 'boolean', default: false },
        'actions-host': { type: 'string' },
        workspace: { type: 'string' },
        platform: { type: 'string', multiple: true, default: [] },
        'shell-executor-no-image': { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        ref: { type: 'string' },
        to: { type: 'string' },
        input: { type: 'string', multiple: true, default: [] },
        event: { type: 'string' },
        'event-payload': { type: 'string' },
        secret: { type: 'string', multiple: true, default: [] },
        'secret-file': { type: 'string', multiple: true, default: [] },
        wait: { type: 'boolean', default: false },
        follow: { type: 'boolean', default: false },
        limit: { type: 'string' },
        branch: { type: 'string' },
        pipeline: { type: 'string' },
        'trust-api-host': { type: 'string', multiple: true, default: [] },
        message: { type: 'string', short: 'm' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    stderr.write(`delivery: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...args] = positionals;
  if (values.help || !command) {
    stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  try {
    const impl = COMMANDS[command];
    if (!impl) throw new UsageError(`unknown command "${command}"`);
    const misplaced = misplacedOption(command, parsed.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])));
    if (misplaced) throw new UsageError(misplaced);
    const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
    if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1)) throw new UsageError('--parallel must be a whole number ≥ 1');
    const variables: Record<string, string> = {};
    for (const kv of values.variable) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`--variable needs NAME=VALUE, not "${kv}"`);
      variables[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) throw new UsageError('--limit must be a whole number from 1 to 1000');
    const ctx: CliContext = {
      folder: workspaceFolder(values.cwd, process.cwd()),
      args,
      options: { json: values.json, needs: values.needs, parallel, yes: values.yes, ref: values.ref, to: values.to, variables, unsetVariables: values['unset-variable'], stage: values.stage, manual: values.manual, forceShellExecutor: values['force-shell-executor'] || values['allow-images'], workspace: values.workspace, actionsHost: values['actions-host'], platforms: values.platform, inputs: values.input, event: values.event, eventPayload: values['event-payload'], secrets: values.secret, secretFiles: values['secret-file'], wait: values.wait, follow: values.follow, limit, branch: values.branch, pipeline: values.pipeline, trustApiHosts: values['trust-api-host'], message: values.message, force: values.force },
      stdout,
      stderr,
      progress: values.json ? stderr : stdout,
      env,
      signal: signal ?? interruptSignal(),
      masker,
    };
    return await impl(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      stderr.write(`delivery: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof FolderError) {
      stderr.write(`delivery: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/** Aborted on the first Ctrl-C / SIGTERM; a second one exits at once. */
function interruptSignal(): AbortSignal {
  const ctl = new AbortController();
  const onSignal = () => {
    if (ctl.signal.aborted) process.exit(130);
    ctl.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return ctl.signal;
}

/** Resolves once what was written to `stream` has been handed to the OS (a slow pipe reader gets all of it). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

if (require.main === module) {
  // A reader that went away (`delivery pipelines --json | head`): stop quietly, as other command-line tools do.
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  main(process.argv.slice(2)).then(
    async (code) => {
      process.exitCode = code;
      // Nothing of ours is left running; leave promptly even if a stray handle (a keep-alive socket) remains —
      // but only once stdout and stderr are written out: exiting earlier cuts a piped answer at 64 KB.
      await Promise.all([drained(process.stdout), drained(process.stderr)]);
      setTimeout(() => process.exit(code), 50).unref();
    },
    (e: unknown) => {
      process.stderr.write(terminalText(cliMasker(process.env).mask(`delivery: ${(e as Error)?.stack ?? String(e)}\n`)));
      process.exitCode = 2;
    },
  );
}
