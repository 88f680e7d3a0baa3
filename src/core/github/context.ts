// The facts of one local run of a workflow that every job shares: the `github`, `runner`, `inputs`, `vars` and
// `secrets` contexts, taken from the local repository and the run's options — or marked unknown, so that an
// expression that needs them fails with the reason instead of quietly reading ''.
import type { PlanContext } from '../sources';
import { LazyObject, Unknown, evaluateTemplate, toText, type Value, type ValueObject } from './expressions';
import type { Workflow } from './workflow';

export interface GithubRunOptions {
  /** The event the run stands for; default: a manual run (workflow_dispatch) with the inputs' defaults. */
  event?: { name: string; payload?: Record<string, unknown> };
  /**
   * Secrets known to the run. Given: a secret not in it reads as '' (as on GitHub, where a missing secret is
   * empty). Absent: local runs have no secrets, and an expression that reads one fails.
   */
  secrets?: Record<string, string>;
  /**
   * Secrets given for this run (CLI --secret, the editor's stored secrets): read as given; one not given still
   * fails the expression that reads it (unless `secrets` says missing ones are empty).
   */
  givenSecrets?: Record<string, string>;
  /** Inputs given for this run, as text, over the payload's `inputs` (checked by checkRunInputs first). */
  inputs?: Record<string, string>;
}

/** Values with the keys that come from the workflow file itself (for the script-injection rule). */
export interface Trusted {
  values: ValueObject;
  trusted: Set<string>;
}

export function isTrustedKey(t: Trusted, key: string | null): boolean {
  if (key === null) return false;
  if (t.trusted.has(key)) return true;
  const lower = key.toLowerCase();
  return [...t.trusted].some((k) => k.toLowerCase() === lower);
}

export interface RunFacts {
  folder: string;
  eventName: string;
  payload: ValueObject;
  github: ValueObject;
  inputs: Trusted;
  vars: LazyObject;
  secrets: LazyObject;
  /** Variables from outside the file: applied last to every step's environment. */
  variables: Record<string, string>;
  runner: { os: string; arch: string };
  /** GITHUB_* variables every step gets (the job- and step-specific ones are added later). */
  env: Record<string, string>;
  /** hashFiles() over the workspace; null: this run cannot read the workspace's files. */
  hashFiles: ((args: string[]) => string) | null;
  /** Why github.repository is the folder's name (no GitHub remote), for the log of the steps that read it; else null. */
  repositoryNote: string | null;
}

export function runFacts(wf: Workflow, ctx: PlanContext, variables: Record<string, string>, opts: GithubRunOptions, runId: string): RunFacts {
  const git = ctx.git;
  const unknown = (what: string, why: string) => new Unknown(`${what} is not known in this local run: ${why}`);
  const ref = git?.ref ?? (git?.branch ? `refs/heads/${git.branch}` : null);
  const remoteRepo = repositoryOf(git?.remoteUrl ?? null);
  // Without a remote naming the repository, the folder stands for it (owner `local`): steps that only print or
  // label with it still run, and their log says so (repositoryNote).
  const repo = remoteRepo ?? `local/${folderRepoName(ctx.folder)}`;
  const repositoryNote = remoteRepo
    ? null
    : `github.repository is "${repo}" (owner "local", the folder's name): the repository has no remote that names it (origin)`;
  const actor = git?.author?.name ?? null;
  const eventName = opts.event?.name ?? 'workflow_dispatch';
  const given = opts.event?.payload;
  const payload: ValueObject = given || opts.inputs ? ({ ...(given ?? {}), inputs: { ...((given?.inputs ?? {}) as ValueObject), ...(opts.inputs ?? {}) } } as ValueObject) : {};
  const inputs = inputValues(wf, payload, eventName);
  const noGit = 'the folder has no git commit';
  // A manual run's payload holds every input as text, defaults included (as GitHub's github.event.inputs).
  const eventInputs = () => Object.fromEntries(Object.entries(inputs.values).filter(([, v]) => !(v instanceof Unknown)).map(([k, v]) => [k, toText(v)]));
  const fullPayload: ValueObject = given
    ? eventName === 'workflow_dispatch'
      ? { ...(given as ValueObject), inputs: eventInputs() }
      : (given as ValueObject)
    : {
        inputs: eventInputs(),
        ref: ref ?? null,
        workflow: wf.file,
        // As GitHub's payload: actions read default_branch (dorny/paths-filter compares against it).
        repository: { full_name: repo, name: repo.split('/')[1], owner: { login: repo.split('/')[0] }, ...(git?.defaultBranch ? { default_branch: git.defaultBranch } : {}) },
        ...(actor ? { sender: { login: actor } } : {}),
      };
  const github: ValueObject = {
    action: '',
    action_path: '',
    action_ref: '',
    action_repository: '',
    actor: actor ?? unknown('github.actor', 'no git user name is configured'),
    api_url: 'https://api.github.com',
    base_ref: '',
    event: fullPayload,
    event_name: eventName,
    graphql_url: 'https://api.github.com/graphql',
    head_ref: '',
    job: '',
    ref: ref ?? unknown('github.ref', noGit),
    ref_name: ref ? ref.replace(/^refs\/(heads|tags)\//, '') : unknown('github.ref_name', noGit),
    ref_protected: false,
    ref_type: ref ? (ref.startsWith('refs/tags/') ? 'tag' : 'branch') : unknown('github.ref_type', noGit),
    repository: repo,
    repository_owner: repo.split('/')[0],
    repositoryUrl: `git://github.com/${repo}.git`,
    retention_days: '90',
    run_id: runId,
    run_number: '1',
    run_attempt: '1',
    secret_source: 'None',
    server_url: 'https://github.com',
    sha: git?.sha ?? unknown('github.sha', noGit),
    token: new Unknown('the GitHub token (github.token / secrets.GITHUB_TOKEN) is not available to local runs'),
    triggering_actor: actor ?? unknown('github.triggering_actor', 'no git user name is configured'),
    workflow: wf.name,
    workflow_ref: ref ? `${repo}/${wf.file}@${ref}` : unknown('github.workflow_ref', noGit),
    workspace: ctx.folder,
  };
  const secrets = new LazyObject('secrets', (key) => {
    const mine = opts.givenSecrets && Object.prototype.hasOwnProperty.call(opts.givenSecrets, key) ? opts.givenSecrets[key] : undefined;
    if (mine !== undefined) return mine;
    if (opts.secrets) return opts.secrets[key] ?? (key.toUpperCase() === 'GITHUB_TOKEN' ? (github.token as Value) : '');
    return key.toUpperCase() === 'GITHUB_TOKEN'
      ? github.token
      : new Unknown(`secrets.${key} is not available to local runs: give it with --secret ${key} (or "Delivery: Set Secret" in VS Code)`);
  });
  const vars = new LazyObject('vars', (key) => variables[key] ?? new Unknown(`vars.${key} is not known locally: give it as a variable (--variable ${key}=value)`));
  const { platform, arch } = ctx.host;
  const runner = {
    os: platform === 'darwin' ? 'macOS' : platform === 'win32' ? 'Windows' : 'Linux',
    arch: ({ x64: 'X64', arm64: 'ARM64', arm: 'ARM', ia32: 'X86' } as Record<string, string>)[arch] ?? arch.toUpperCase(),
  };
  const env: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: ctx.folder,
    GITHUB_WORKFLOW: wf.name,
    GITHUB_RUN_ID: runId,
    GITHUB_RUN_NUMBER: '1',
    GITHUB_EVENT_NAME: eventName,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
    GITHUB_HEAD_REF: '',
    GITHUB_BASE_REF: '',
    GITHUB_REF_PROTECTED: 'false',
    RUNNER_OS: runner.os,
    RUNNER_ARCH: runner.arch,
    RUNNER_NAME: 'delivery-local',
    RUNNER_ENVIRONMENT: 'self-hosted',
  };
  const known: [string, Value][] = [
    ['GITHUB_SHA', github.sha],
    ['GITHUB_REF', github.ref],
    ['GITHUB_REF_NAME', github.ref_name],
    ['GITHUB_REF_TYPE', github.ref_type],
    ['GITHUB_REPOSITORY', github.repository],
    ['GITHUB_REPOSITORY_OWNER', github.repository_owner],
    ['GITHUB_ACTOR', github.actor],
    ['GITHUB_TRIGGERING_ACTOR', github.triggering_actor],
    ['GITHUB_WORKFLOW_REF', github.workflow_ref],
  ];
  for (const [k, v] of known) if (typeof v === 'string') env[k] = v;
  const io = ctx.io;
  const hashFiles = io?.hashFiles ? (args: string[]) => io.hashFiles!(ctx.folder, args) : null;
  return { folder: ctx.folder, eventName, payload: fullPayload, github, inputs, vars, secrets, variables, runner, env, hashFiles, repositoryNote };
}

/** A repository name from a folder's name, with what GitHub does not allow in one replaced by `-`. */
function folderRepoName(folder: string): string {
  const base = folder.split(/[\\/]/).filter((p) => p !== '').pop() ?? '';
  const name = base.replace(/[^A-Za-z0-9._-]+/g, '-');
  return name === '' || /^\.+$/.test(name) ? 'workspace' : name;
}

const REPOSITORY_READS = /\bgithub\s*\.\s*(repository|repository_owner|repositoryUrl|workflow_ref)\b|\bgithub\s*\[\s*'(repository|repository_owner|repositoryUrl|workflow_ref)'|\bGITHUB_(REPOSITORY|REPOSITORY_OWNER|WORKFLOW_REF)\b|\bgithub\.event\.repository\b/i;

/** The note for a step's log when it reads github.repository and the folder's name stands for it (see runFacts). */
export function repositoryNotes(facts: RunFacts, texts: readonly (string | null | undefined)[]): string[] {
  if (!facts.repositoryNote) return [];
  return texts.some((t) => t && REPOSITORY_READS.test(t)) ? [facts.repositoryNote] : [];
}

/** `owner/name` from a remote URL (https://host/owner/name.git, git@host:owner/name.git), else null. */
export function repositoryOf(url: string | null): string | null {
  if (!url) return null;
  const m = /[:/]([^/:]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url.trim());
  return m ? `${m[1]}/${m[2]}` : null;
}

/**
 * The `inputs` context: the event payload's inputs (typed by their declaration), else the declared defaults. A
 * called run (workflow_call) reads on.workflow_call's declarations; others the manual run's (else the call's).
 */
function inputValues(wf: Workflow, payload: ValueObject, eventName: string): Trusted {
  const decls = eventName === 'workflow_call' && wf.call ? wf.call.inputs : wf.inputs;
  const given = (payload.inputs ?? null) as ValueObject | null;
  const values: ValueObject = {};
  const trusted = new Set<string>();
  const scope = { context: (name: string) => (name === 'github' ? ({ event_name: eventName } as Value) : undefined), trusted: () => true };
  for (const decl of decls) {
    const raw = given && Object.prototype.hasOwnProperty.call(given, decl.name) ? given[decl.name] : undefined;
    if (raw !== undefined) {
      values[decl.name] = typed(raw, decl.type);
      continue;
    }
    if (decl.default !== undefined) {
      let v: Value = decl.default;
      if (typeof v === 'string') {
        try {
          const r = evaluateTemplate(v, scope);
          v = r.value;
          if (!r.tainted) trusted.add(decl.name);
        } catch (e) {
          v = new Unknown(`input "${decl.name}": its default cannot be evaluated locally (${(e as Error).message})`);
        }
      } else trusted.add(decl.name);
      values[decl.name] = v instanceof Unknown ? v : typed(v, decl.type);
    } else if (decl.required) {
      values[decl.name] = new Unknown(`input "${decl.name}" is required and has no default: give it with --input ${decl.name}=VALUE`);
    } else {
      // What GitHub gives an optional input nobody filled in.
      values[decl.name] = decl.type === 'boolean' ? false : '';
      trusted.add(decl.name);
    }
  }
  for (const [k, v] of Object.entries(given ?? {})) if (!(k in values)) values[k] = v;
  return { values, trusted };
}

function typed(v: Value, type: string): Value {
  if (type === 'boolean') return v === true || (typeof v === 'string' && v.trim().toLowerCase() === 'true');
  if (type === 'number') {
    const n = typeof v === 'number' ? v : Number(toText(v));
    return Number.isNaN(n) ? toText(v) : n;
  }
  return typeof v === 'string' ? v : toText(v);
}
