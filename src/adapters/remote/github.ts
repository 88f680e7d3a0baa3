// GitHub Actions as a remote engine, over the REST API (api.github.com or GitHub Enterprise's /api/v3): a
// workflow's runs, workflow_dispatch with checked inputs, a run's jobs and steps, job logs (complete once the job
// has ended: the REST API has no live log), cancel and re-run of failed jobs. Polling a run is cheap: every GET is
// conditional (ETag), and GitHub does not count 304 answers against the rate limit.
import type { LogChunk, RemoteEngine, RemoteJob, RemoteRun, RemoteStatus, RemoteTarget, TriggerInput } from '../../core/remote/types';
import { checkDispatchInputs, dispatchDefinition, type DispatchDefinition } from './githubInputs';
import { asArray, asObject, delay, HttpClient, idOf, num, RemoteApiError, str, time, type HttpClientOptions, type Json } from './http';

export type GithubTarget = Extract<RemoteTarget, { engine: 'github' }>;

export type RemoteHttpSettings = Partial<Pick<HttpClientOptions, 'proxy' | 'ca' | 'timeoutMs' | 'retries' | 'maxRateLimitWaitMs' | 'sleep' | 'now'>>;

export interface GithubEngineOptions {
  target: GithubTarget;
  /** The token for target.host; undefined calls without one (public repositories only, 60 requests an hour). */
  token: () => Promise<string | undefined>;
  /** What to tell a person whose token is missing or refused. */
  tokenHint?: string;
  /**
   * The workflow file as in the workspace (inputs are read from it). Without it, or when it answers null, the
   * file is read through the API: at the ref a dispatch starts, else from the default branch.
   */
  workflowFile?: (signal: AbortSignal) => Promise<{ path: string; text: string } | null>;
  http?: RemoteHttpSettings;
  /** Finding the run a dispatch started: GitHub's dispatch answers 204 without it. Default 10 × 1 s. */
  findRun?: { attempts: number; intervalMs: number };
}

const API_VERSION = '2022-11-28';
const LOG_CACHE = 8;

export class GithubEngine implements RemoteEngine {
  readonly kind = 'github' as const;
  private readonly http: HttpClient;
  private readonly repoPath: string;
  private readonly where: string;
  /** Logs of finished jobs: they no longer change, and a reader asks again with a later offset. */
  private readonly finishedLogs = new Map<string, Buffer>();

  constructor(private readonly opts: GithubEngineOptions) {
    const { target } = opts;
    this.repoPath = `repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}`;
    this.where = `${target.owner}/${target.repo}${target.host === 'github.com' ? '' : ` on ${target.host}`}`;
    this.http = new HttpClient({
      ...opts.http,
      baseUrl: target.apiUrl,
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': API_VERSION },
      auth: async (): Promise<Record<string, string>> => {
        const token = await opts.token();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      words: { service: 'GitHub', tokenHint: opts.tokenHint ?? 'set GITHUB_TOKEN or sign in to GitHub' },
    });
  }

  dispose(): void {
    this.http.dispose();
  }

  private get workflowPath(): string {
    return `${this.repoPath}/actions/workflows/${encodeURIComponent(this.opts.target.workflow)}`;
  }

  private get noWorkflow(): string {
    return `no workflow ${this.opts.target.workflow} in ${this.where}, or the token cannot see it`;
  }

  async inputs(signal: AbortSignal): Promise<TriggerInput[]> {
    return this.withEnvironments((await this.definition(signal)).inputs, signal);
  }

  async runs(opts: { branch?: string; limit: number; signal: AbortSignal }): Promise<RemoteRun[]> {
    const limit = Math.max(1, opts.limit);
    const runs = await this.http.collect(`${this.workflowPath}/runs`, {
      query: { per_page: Math.min(limit, 100), branch: opts.branch },
      signal: opts.signal,
      notFound: this.noWorkflow,
      limit,
      items: (body) => asArray(asObject(body, 'workflow runs').workflow_runs, 'workflow runs'),
    });
    return runs.map((r) => githubRun(asObject(r, 'a workflow run')));
  }

  async trigger(opts: { ref: string; inputs: Record<string, string>; signal: AbortSignal }): Promise<RemoteRun> {
    const { signal } = opts;
    const workflow = this.opts.target.workflow;
    const def = await this.definition(signal, opts.ref);
    if (!def.dispatchable) throw new Error(`${workflow} in ${this.where} cannot be started by hand: it has no "on: workflow_dispatch"`);
    const checked = checkDispatchInputs(workflow, await this.withEnvironments(def.inputs, signal), opts.inputs);
    if ('errors' in checked) throw new Error(`cannot start ${workflow}: ${checked.errors.join('; ')}`);
    const ref = opts.ref.replace(/^refs\/(heads|tags)\//, '');
    // Runs that exist before the dispatch, so that the new one can be told apart.
    const before = new Set((await this.dispatchRuns(signal)).map((r) => r.id));
    let res;
    try {
      res = await this.http.request(`${this.workflowPath}/dispatches`, {
        method: 'POST',
        body: { ref: opts.ref, inputs: checked.values },
        signal,
        notFound: this.noWorkflow,
      });
    } catch (e) {
      if (RemoteApiError.is(e, 'invalid')) throw new RemoteApiError('invalid', `GitHub refused to start ${workflow} on ${opts.ref}: ${e.serverMessage ?? e.message}`, e.status, null, e.serverMessage);
      throw e;
    }
    // Newer GitHub versions can answer with the run's id; older ones answer 204 and the run appears shortly.
    const started = res.status === 200 ? startedRunId(res.body) : null;
    if (started !== null) return (await this.run(started, signal)).run;
    const find = this.opts.findRun ?? { attempts: 10, intervalMs: 1000 };
    const sleep = this.opts.http?.sleep ?? delay;
    for (let attempt = 0; attempt < find.attempts; attempt++) {
      if (attempt > 0) await sleep(find.intervalMs, signal);
      const fresh = (await this.dispatchRuns(signal)).filter((r) => !before.has(r.id) && (r.branch === ref || r.branch === null));
      if (fresh.length > 0) return fresh.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))[0]!;
    }
    throw new Error(`${workflow} was started on ${ref}, but its run has not appeared in ${this.where} yet: refresh the runs in a moment`);
  }

  async run(id: string, signal: AbortSignal): Promise<{ run: RemoteRun; jobs: RemoteJob[] }> {
    const notFound = `no run ${id} in ${this.where}, or the token cannot see it`;
    const [run, jobs] = await Promise.all([
      this.http.json(`${this.repoPath}/actions/runs/${encodeURIComponent(id)}`, { signal, notFound }),
      this.http.collect(`${this.repoPath}/actions/runs/${encodeURIComponent(id)}/jobs`, {
        query: { per_page: 100 },
        signal,
        notFound,
        limit: 1000,
        items: (body) => asArray(asObject(body, 'jobs of a run').jobs, 'jobs of a run'),
      }),
    ]);
    return { run: githubRun(asObject(run, `run ${id}`)), jobs: jobs.map((j) => githubJob(asObject(j, 'a job'))) };
  }

  async logs(runId: string, jobId: string, offset: number, signal: AbortSignal): Promise<LogChunk> {
    let log = this.finishedLogs.get(jobId);
    if (!log) {
      const job = asObject(await this.http.json(`${this.repoPath}/actions/jobs/${encodeURIComponent(jobId)}`, { signal, notFound: `no job ${jobId} in ${this.where}, or the token cannot see it` }), `job ${jobId}`);
      const ofRun = str(job, 'run_id');
      if (ofRun !== null && ofRun !== runId) throw new Error(`job ${jobId} belongs to run ${ofRun}, not to run ${runId}`);
      // The REST API serves a job's log once the job has ended; until then there is nothing to read.
      if (str(job, 'status') !== 'completed') return { text: '', offset, complete: false };
      // A job that never ran (skipped, or cancelled while queued) has no log.
      if (str(job, 'started_at') === null || str(job, 'conclusion') === 'skipped') return { text: '', offset, complete: true };
      const res = await this.http.request(`${this.repoPath}/actions/jobs/${encodeURIComponent(jobId)}/logs`, {
        signal,
        cache: false,
        notFound: `the log of job ${jobId} in ${this.where} is gone (logs expire) or the token cannot see it`,
      });
      log = res.body;
      this.finishedLogs.set(jobId, log);
      while (this.finishedLogs.size > LOG_CACHE) this.finishedLogs.delete(this.finishedLogs.keys().next().value!);
    }
    const from = Math.min(Math.max(0, offset), log.length);
    return { text: log.subarray(from).toString('utf8'), offset: log.length, complete: true };
  }

  async cancel(id: string, signal: AbortSignal): Promise<void> {
    try {
      await this.http.request(`${this.repoPath}/actions/runs/${encodeURIComponent(id)}/cancel`, { method: 'POST', signal, notFound: `no run ${id} in ${this.where}, or the token cannot see it` });
    } catch (e) {
      if (RemoteApiError.is(e, 'conflict')) throw new RemoteApiError('conflict', `run ${id} in ${this.where} cannot be cancelled: it has already finished`, 409, null, e.serverMessage);
      throw e;
    }
  }

  async rerunFailed(id: string, signal: AbortSignal): Promise<RemoteRun> {
    await this.http.request(`${this.repoPath}/actions/runs/${encodeURIComponent(id)}/rerun-failed-jobs`, { method: 'POST', body: {}, signal, notFound: `no run ${id} in ${this.where}, or the token cannot see it` });
    return (await this.run(id, signal)).run;
  }

  // ---- helpers ----

  /**
   * Inputs and whether the workflow can be dispatched: from the workspace's file, else from the repository at the
   * ref to be dispatched (GitHub checks the inputs against that version), or its default branch.
   */
  private async definition(signal: AbortSignal, ref?: string): Promise<DispatchDefinition> {
    const local = await this.opts.workflowFile?.(signal);
    let def: DispatchDefinition;
    if (local) def = dispatchDefinition(local.path, local.text);
    else {
      const wf = asObject(await this.http.json(this.workflowPath, { signal, notFound: this.noWorkflow }), `workflow ${this.opts.target.workflow}`);
      const path = str(wf, 'path');
      if (!path) throw new RemoteApiError('server', `GitHub did not say where ${this.opts.target.workflow} is`, null);
      const text = await this.http.text(`${this.repoPath}/contents/${path.split('/').map(encodeURIComponent).join('/')}`, {
        query: { ref },
        signal,
        headers: { accept: 'application/vnd.github.raw+json' },
        notFound: ref ? `${path} is not on ${ref} in ${this.where}` : `${path} is not on the default branch of ${this.where}`,
      });
      def = dispatchDefinition(path, text);
    }
    if (def.problems.length > 0) {
      const p = def.problems[0]!;
      throw new Error(`${p.file}:${p.line}:${p.column}: ${p.message}${def.problems.length > 1 ? ` (and ${def.problems.length - 1} more problems)` : ''}`);
    }
    return def;
  }

  private async dispatchRuns(signal: AbortSignal): Promise<RemoteRun[]> {
    const body = asObject(await this.http.json(`${this.workflowPath}/runs`, { query: { event: 'workflow_dispatch', per_page: 20 }, signal, notFound: this.noWorkflow }), 'workflow runs');
    return asArray(body.workflow_runs, 'workflow runs').map((r) => githubRun(asObject(r, 'a workflow run')));
  }

  /** `environment` inputs offer the repository's environments. */
  private async withEnvironments(inputs: TriggerInput[], signal: AbortSignal): Promise<TriggerInput[]> {
    if (!inputs.some((i) => i.type === 'environment' && i.options.length === 0)) return inputs;
    const environments = await this.environments(signal);
    return inputs.map((i) => (i.type === 'environment' && i.options.length === 0 ? { ...i, options: environments } : i));
  }

  /** The repository's deployment environments, for `environment` inputs; none when the token may not list them. */
  private async environments(signal: AbortSignal): Promise<string[]> {
    try {
      const body = asObject(await this.http.json(`${this.repoPath}/environments`, { query: { per_page: 100 }, signal }), 'environments');
      return asArray(body.environments, 'environments')
        .map((e) => str(asObject(e, 'an environment'), 'name'))
        .filter((n): n is string => n !== null);
    } catch (e) {
      if (RemoteApiError.is(e, 'forbidden') || RemoteApiError.is(e, 'notFound')) return [];
      throw e;
    }
  }
}

function startedRunId(body: Buffer): string | null {
  try {
    const id = (JSON.parse(body.toString('utf8')) as { workflow_run_id?: unknown }).workflow_run_id;
    return typeof id === 'number' ? String(id) : null;
  } catch {
    return null;
  }
}

/** GitHub's status + conclusion in the engine-neutral words. */
export function githubStatus(status: string | null, conclusion: string | null): RemoteStatus {
  switch (status) {
    case 'queued':
    case 'requested':
    case 'pending':
      return 'queued';
    case 'waiting': // for an environment's reviewers
      return 'manual';
    case 'in_progress':
      return 'running';
    case 'completed':
      switch (conclusion) {
        case 'success':
          return 'success';
        case 'failure':
        case 'timed_out':
        case 'startup_failure':
          return 'failed';
        case 'cancelled':
          return 'cancelled';
        case 'skipped':
        case 'neutral':
          return 'skipped';
        case 'action_required':
          return 'manual';
      }
  }
  return 'unknown';
}

function login(o: Json, key: string): string | null {
  const v = o[key];
  return v && typeof v === 'object' ? str(v as Json, 'login') : null;
}

export function githubRun(o: Json): RemoteRun {
  const status = str(o, 'status');
  const conclusion = str(o, 'conclusion');
  const finished = status === 'completed';
  return {
    id: idOf(o, 'a workflow run'),
    engine: 'github',
    number: num(o, 'run_number'),
    title: str(o, 'display_title') ?? str(o, 'name'),
    url: str(o, 'html_url'),
    branch: str(o, 'head_branch'),
    sha: str(o, 'head_sha'),
    status: githubStatus(status, conclusion),
    rawStatus: (finished ? conclusion : null) ?? status ?? 'unknown',
    actor: login(o, 'triggering_actor') ?? login(o, 'actor'),
    event: str(o, 'event'),
    createdAt: time(o, 'created_at'),
    startedAt: time(o, 'run_started_at'),
    finishedAt: finished ? time(o, 'updated_at') : null,
  };
}

export function githubJob(o: Json): RemoteJob {
  const status = str(o, 'status');
  const conclusion = str(o, 'conclusion');
  const steps = Array.isArray(o.steps) ? o.steps : [];
  return {
    id: idOf(o, 'a job'),
    name: str(o, 'name') ?? '(job)',
    stage: null,
    status: githubStatus(status, conclusion),
    rawStatus: (status === 'completed' ? conclusion : null) ?? status ?? 'unknown',
    url: str(o, 'html_url'),
    startedAt: time(o, 'started_at'),
    finishedAt: time(o, 'completed_at'),
    steps: steps.map((x, i) => {
      const s = asObject(x, 'a step');
      return {
        name: str(s, 'name') ?? `step ${i + 1}`,
        number: num(s, 'number') ?? i + 1,
        status: githubStatus(str(s, 'status'), str(s, 'conclusion')),
        startedAt: time(s, 'started_at'),
        finishedAt: time(s, 'completed_at'),
      };
    }),
  };
}
