// GitLab CI as a remote engine, over the REST API v4 (gitlab.com or a self-managed host): a project's pipelines,
// a new pipeline with variables, a pipeline's jobs, job traces read on from an offset while the job runs, cancel
// and retry of a pipeline, and play / retry / cancel of one job. Every GET is conditional (ETag).
import { isFinished, type LogChunk, type RemoteEngine, type RemoteJob, type RemoteRun, type RemoteStatus, type RemoteTarget, type TriggerInput } from '../../core/remote/types';
import type { RemoteHttpSettings } from './github';
import { checkPipelineVariables, pipelineVariables } from './gitlabInputs';
import { asArray, asObject, HttpClient, idOf, RemoteApiError, num, str, time, type Json } from './http';

export type GitlabTarget = Extract<RemoteTarget, { engine: 'gitlab' }>;

export interface GitlabEngineOptions {
  target: GitlabTarget;
  /** The token for target.host; undefined calls without one (public projects, read only). */
  token: () => Promise<string | undefined>;
  /** `Authorization: Bearer` (OAuth and access tokens, the default) or `PRIVATE-TOKEN` (access tokens only). */
  tokenHeader?: 'bearer' | 'private-token';
  /** What to tell a person whose token is missing or refused. */
  tokenHint?: string;
  /** The CI file as in the workspace (prefilled variables are read from it); else read through the API at the ref. */
  ciFile?: (signal: AbortSignal) => Promise<{ path: string; text: string } | null>;
  http?: RemoteHttpSettings;
}

export class GitlabEngine implements RemoteEngine {
  readonly kind = 'gitlab' as const;
  private readonly http: HttpClient;
  private readonly projectPath: string;
  private readonly where: string;

  constructor(private readonly opts: GitlabEngineOptions) {
    const { target } = opts;
    this.projectPath = `projects/${encodeURIComponent(target.project)}`;
    this.where = `${target.project}${target.host === 'gitlab.com' ? '' : ` on ${target.host}`}`;
    this.http = new HttpClient({
      ...opts.http,
      baseUrl: target.apiUrl,
      headers: { accept: 'application/json' },
      auth: async (): Promise<Record<string, string>> => {
        const token = await opts.token();
        if (!token) return {};
        return opts.tokenHeader === 'private-token' ? { 'private-token': token } : { authorization: `Bearer ${token}` };
      },
      words: { service: 'GitLab', tokenHint: opts.tokenHint ?? `set GITLAB_TOKEN or store a GitLab token for ${target.host}` },
    });
  }

  dispose(): void {
    this.http.dispose();
  }

  private get noProject(): string {
    return `no GitLab project ${this.where}, or the token cannot see it`;
  }

  private pipelinePath(id: string): string {
    return `${this.projectPath}/pipelines/${encodeURIComponent(id)}`;
  }

  private jobPath(id: string): string {
    return `${this.projectPath}/jobs/${encodeURIComponent(id)}`;
  }

  async inputs(signal: AbortSignal): Promise<TriggerInput[]> {
    return this.variablesAt(signal);
  }

  /** Prefilled variables: from the workspace's CI file, else from the repository at `ref` (or its default branch). */
  private async variablesAt(signal: AbortSignal, at?: string): Promise<TriggerInput[]> {
    let file = await this.opts.ciFile?.(signal);
    if (!file) {
      const project = asObject(await this.http.json(this.projectPath, { signal, notFound: this.noProject }), `project ${this.opts.target.project}`);
      const path = str(project, 'ci_config_path') || '.gitlab-ci.yml';
      // A CI file in another project (`file@group/project`) or at a URL: no prefilled variables to show.
      if (path.includes('@') || /^https?:/.test(path)) return [];
      const ref = at ?? str(project, 'default_branch') ?? 'HEAD';
      try {
        file = { path, text: await this.http.text(`${this.projectPath}/repository/files/${encodeURIComponent(path)}/raw`, { query: { ref }, signal }) };
      } catch (e) {
        if (RemoteApiError.is(e, 'notFound')) return [];
        throw e;
      }
    }
    const { inputs, errors } = pipelineVariables(file.path, file.text);
    if (errors.length > 0) throw new Error(errors[0]! + (errors.length > 1 ? ` (and ${errors.length - 1} more problems)` : ''));
    return inputs;
  }

  async runs(opts: { branch?: string; limit: number; signal: AbortSignal }): Promise<RemoteRun[]> {
    const limit = Math.max(1, opts.limit);
    const list = await this.http.collect(`${this.projectPath}/pipelines`, {
      query: { ref: opts.branch, per_page: Math.min(limit, 100), order_by: 'id', sort: 'desc' },
      signal: opts.signal,
      notFound: this.noProject,
      limit,
      items: (body) => asArray(body, 'pipelines'),
    });
    return list.map((p) => gitlabPipeline(asObject(p, 'a pipeline')));
  }

  async trigger(opts: { ref: string; inputs: Record<string, string>; signal: AbortSignal }): Promise<RemoteRun> {
    const ref = opts.ref.replace(/^refs\/(heads|tags)\//, '');
    const checked = checkPipelineVariables(await this.variablesAt(opts.signal, ref), opts.inputs);
    if ('errors' in checked) throw new Error(`cannot start a pipeline of ${this.where}: ${checked.errors.join('; ')}`);
    try {
      const body = await this.http.json(`${this.projectPath}/pipeline`, {
        method: 'POST',
        body: { ref, variables: checked.variables.map((v) => ({ ...v, variable_type: 'env_var' })) },
        signal: opts.signal,
        notFound: this.noProject,
      });
      return gitlabPipeline(asObject(body, 'the new pipeline'));
    } catch (e) {
      if (RemoteApiError.is(e, 'invalid')) throw new RemoteApiError('invalid', `GitLab refused to start a pipeline of ${this.where} on ${ref}: ${e.serverMessage ?? e.message}`, e.status, null, e.serverMessage);
      throw e;
    }
  }

  async run(id: string, signal: AbortSignal): Promise<{ run: RemoteRun; jobs: RemoteJob[] }> {
    const notFound = `no pipeline ${id} in ${this.where}, or the token cannot see it`;
    const [pipeline, jobs] = await Promise.all([
      this.http.json(this.pipelinePath(id), { signal, notFound }),
      this.http.collect(`${this.pipelinePath(id)}/jobs`, { query: { per_page: 100 }, signal, notFound, limit: 5000, items: (b) => asArray(b, 'jobs of a pipeline') }),
    ]);
    const list = jobs.map((j) => gitlabJob(asObject(j, 'a job')));
    // GitLab lists the newest job first; a pipeline reads in the order its jobs were created.
    list.sort((a, b) => Number(a.id) - Number(b.id));
    return { run: gitlabPipeline(asObject(pipeline, `pipeline ${id}`)), jobs: list };
  }

  async logs(runId: string, jobId: string, offset: number, signal: AbortSignal): Promise<LogChunk> {
    // The job's state first: a trace read after the job had ended is the whole trace.
    const job = asObject(await this.http.json(this.jobPath(jobId), { signal, notFound: `no job ${jobId} in ${this.where}, or the token cannot see it` }), `job ${jobId}`);
    const pipeline = job.pipeline && typeof job.pipeline === 'object' ? str(job.pipeline as Json, 'id') : null;
    if (pipeline !== null && pipeline !== runId) throw new Error(`job ${jobId} belongs to pipeline ${pipeline}, not to pipeline ${runId}`);
    const ended = isFinished(gitlabStatus(str(job, 'status')));
    const from = Math.max(0, offset);
    // A job that never started (manual, pending, skipped, cancelled while queued) has no trace.
    if (str(job, 'started_at') === null) return { text: '', offset: from, complete: ended };
    const res = await this.http.request(`${this.jobPath(jobId)}/trace`, {
      signal,
      cache: false,
      headers: { accept: 'text/plain', ...(from > 0 ? { range: `bytes=${from}-` } : {}) },
      allow: [416],
      notFound: `no trace for job ${jobId} in ${this.where} (erased, or the token cannot see it)`,
    });
    // 206: the server honoured the range; 200: the whole trace, sliced here; 416: nothing past the offset yet.
    let chunk = res.status === 206 ? res.body : res.status === 416 ? Buffer.alloc(0) : res.body.subarray(Math.min(from, res.body.length));
    if (!ended) {
      // A running job's trace grows: hand out whole lines only, so no line (or UTF-8 character) is split.
      chunk = chunk.subarray(0, chunk.lastIndexOf(0x0a) + 1);
    }
    return { text: chunk.toString('utf8'), offset: from + chunk.length, complete: ended };
  }

  async cancel(id: string, signal: AbortSignal): Promise<void> {
    await this.http.request(`${this.pipelinePath(id)}/cancel`, { method: 'POST', signal, notFound: `no pipeline ${id} in ${this.where}, or the token cannot see it` });
  }

  async rerunFailed(id: string, signal: AbortSignal): Promise<RemoteRun> {
    const body = await this.http.json(`${this.pipelinePath(id)}/retry`, { method: 'POST', signal, notFound: `no pipeline ${id} in ${this.where}, or the token cannot see it` });
    return gitlabPipeline(asObject(body, `pipeline ${id}`));
  }

  /** Starts a manual job, with job variables. */
  async playJob(jobId: string, variables: Record<string, string>, signal: AbortSignal): Promise<RemoteJob> {
    const attrs = Object.entries(variables).map(([key, value]) => ({ key, value }));
    return this.jobAction(jobId, 'play', signal, attrs.length ? { job_variables_attributes: attrs } : undefined);
  }

  async retryJob(jobId: string, signal: AbortSignal): Promise<RemoteJob> {
    return this.jobAction(jobId, 'retry', signal);
  }

  async cancelJob(jobId: string, signal: AbortSignal): Promise<RemoteJob> {
    return this.jobAction(jobId, 'cancel', signal);
  }

  private async jobAction(jobId: string, action: 'play' | 'retry' | 'cancel', signal: AbortSignal, body?: unknown): Promise<RemoteJob> {
    try {
      const res = await this.http.json(`${this.jobPath(jobId)}/${action}`, { method: 'POST', body, signal, notFound: `no job ${jobId} in ${this.where}, or the token cannot see it` });
      return gitlabJob(asObject(res, `job ${jobId}`));
    } catch (e) {
      if (RemoteApiError.is(e, 'invalid') || RemoteApiError.is(e, 'forbidden')) {
        throw new RemoteApiError(e.kind, `GitLab cannot ${action} job ${jobId} of ${this.where}: ${e.serverMessage ?? e.message}`, e.status, null, e.serverMessage);
      }
      throw e;
    }
  }
}

/** GitLab's pipeline and job statuses in the engine-neutral words. */
export function gitlabStatus(status: string | null): RemoteStatus {
  switch (status) {
    case 'created':
    case 'waiting_for_resource':
    case 'preparing':
    case 'pending':
    case 'scheduled':
    case 'waiting_for_callback':
      return 'queued';
    case 'running':
    case 'canceling':
      return 'running';
    case 'success':
      return 'success';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'cancelled';
    case 'skipped':
      return 'skipped';
    case 'manual':
      return 'manual';
  }
  return 'unknown';
}

export function gitlabPipeline(o: Json): RemoteRun {
  const status = str(o, 'status');
  const user = o.user && typeof o.user === 'object' ? (o.user as Json) : null;
  return {
    id: idOf(o, 'a pipeline'),
    engine: 'gitlab',
    number: num(o, 'iid'),
    title: str(o, 'name'),
    url: str(o, 'web_url'),
    branch: str(o, 'ref'),
    sha: str(o, 'sha'),
    status: gitlabStatus(status),
    rawStatus: status ?? 'unknown',
    actor: user ? str(user, 'username') : null,
    event: str(o, 'source'),
    createdAt: time(o, 'created_at'),
    startedAt: time(o, 'started_at'),
    finishedAt: time(o, 'finished_at'),
  };
}

export function gitlabJob(o: Json): RemoteJob {
  const status = str(o, 'status');
  return {
    id: idOf(o, 'a job'),
    name: str(o, 'name') ?? '(job)',
    stage: str(o, 'stage'),
    status: gitlabStatus(status),
    rawStatus: status ?? 'unknown',
    url: str(o, 'web_url'),
    startedAt: time(o, 'started_at'),
    finishedAt: time(o, 'finished_at'),
    steps: [],
  };
}
