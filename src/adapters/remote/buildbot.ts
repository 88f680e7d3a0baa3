// Buildbot as a remote engine, over its REST API (/api/v2) and JSON-RPC control calls. One builder of one master
// is one pipeline. A run is a build request (its id is known the moment a build is forced, before any build
// exists, and a rebuild makes a new one); its jobs are the builds of that request (one, unless a build was retried);
// a job's steps are the build's steps, and its log is the logs of those steps, one after the other.
import { buildbotInputs, buildbotLogText, buildbotParam, buildbotRefField, buildbotStatus, type BuildbotField } from '../../core/remote/buildbot';
import { checkInputs } from '../../core/remote/inputs';
import { isFinished, type LogChunk, type RemoteEngine, type RemoteJob, type RemoteRun, type RemoteStep, type RemoteTarget, type TriggerInput } from '../../core/remote/types';
import { asArray, asObject, HttpClient, num, RemoteApiError, str, type HttpClientOptions, type Json } from './http';

export type BuildbotTarget = Extract<RemoteTarget, { engine: 'buildbot' }>;

export interface BuildbotEngineOptions {
  target: BuildbotTarget;
  /** Recorded as the owner of the builds this engine forces (default "delivery"). */
  owner?: string;
  http?: Partial<Pick<HttpClientOptions, 'proxy' | 'ca' | 'timeoutMs' | 'retries' | 'sleep' | 'now'>>;
}

/** Log lines asked for per request, and at most per logs() call. */
const LINES_PER_REQUEST = 2000;
const LINES_PER_CALL = 10_000;
const RUN_PROPERTIES = ['owner', 'reason', 'scheduler'];
const BUILD_PROPERTIES = ['branch', 'revision', 'got_revision'];

interface Builder {
  id: number;
  name: string;
}

interface Scheduler {
  fields: BuildbotField[];
  inputs: TriggerInput[];
}

interface LogInfo {
  logid: number;
  type: string;
  lines: number;
  complete: boolean;
}

export class BuildbotEngine implements RemoteEngine {
  readonly kind = 'buildbot' as const;
  private readonly http: HttpClient;
  private readonly target: BuildbotTarget;
  private builderInfo: Builder | null = null;
  private schedulerInfo: Scheduler | null = null;
  /** Logs of finished steps no longer change: stepid -> its logs. */
  private readonly finishedStepLogs = new Map<number, LogInfo[]>();

  constructor(private readonly opts: BuildbotEngineOptions) {
    this.target = opts.target;
    this.http = new HttpClient({
      ...opts.http,
      baseUrl: `${opts.target.url.replace(/\/+$/, '')}/api/v2`,
      auth: async () => ({}),
      words: { service: 'Buildbot', tokenHint: 'this Buildbot master is used without a token' },
    });
  }

  dispose(): void {
    this.http.dispose();
  }

  // ---- the builder and its force scheduler, looked up once ----

  private async builder(signal: AbortSignal): Promise<Builder> {
    if (this.builderInfo) return this.builderInfo;
    const body = asObject(await this.http.json('builders', { signal }), 'builders');
    const all = asArray(body.builders, 'builders').map((b) => asObject(b, 'a builder'));
    const found = all.find((b) => str(b, 'name') === this.target.builder);
    if (!found) {
      const names = all.map((b) => str(b, 'name')).filter((n): n is string => !!n);
      throw new RemoteApiError('notFound', `Buildbot at ${this.target.url} has no builder "${this.target.builder}" (builders: ${names.join(', ') || 'none'})`, null);
    }
    this.builderInfo = { id: num(found, 'builderid') ?? -1, name: this.target.builder };
    return this.builderInfo;
  }

  private async scheduler(signal: AbortSignal): Promise<Scheduler> {
    if (this.schedulerInfo) return this.schedulerInfo;
    const name = this.target.scheduler;
    const body = asObject(
      await this.http.json(`forceschedulers/${encodeURIComponent(name)}`, {
        signal,
        notFound: `Buildbot at ${this.target.url} has no force scheduler "${name}" (set "scheduler:" in remote: buildbot)`,
      }),
      'forceschedulers',
    );
    const sched = asObject(asArray(body.forceschedulers, 'forceschedulers')[0], `force scheduler ${name}`);
    const builders = Array.isArray(sched.builder_names) ? sched.builder_names.map(String) : [];
    if (!builders.includes(this.target.builder)) {
      throw new RemoteApiError('invalid', `the force scheduler "${name}" of ${this.target.url} does not build "${this.target.builder}" (it builds: ${builders.join(', ') || 'nothing'})`, null);
    }
    const fields = fieldList(sched.all_fields);
    this.schedulerInfo = { fields, inputs: buildbotInputs(fields) };
    return this.schedulerInfo;
  }

  // ---- RemoteEngine ----

  async inputs(signal: AbortSignal): Promise<TriggerInput[]> {
    return (await this.scheduler(signal)).inputs;
  }

  async runs(opts: { branch?: string; limit: number; signal: AbortSignal }): Promise<RemoteRun[]> {
    const { signal } = opts;
    const builder = await this.builder(signal);
    const fetchCount = Math.max(1, opts.branch ? opts.limit * 3 : opts.limit);
    const requests = await this.list('buildrequests', 'buildrequests', signal, {
      builderid: builder.id,
      order: '-buildrequestid',
      limit: fetchCount,
      property: RUN_PROPERTIES,
    });
    const builds = await this.list(`builders/${builder.id}/builds`, 'builds', signal, { order: '-buildid', limit: fetchCount * 2, property: BUILD_PROPERTIES });
    const byRequest = groupBuilds(builds);
    const out: RemoteRun[] = [];
    for (const br of requests) {
      const id = num(br, 'buildrequestid');
      if (id === null) continue;
      const ofRequest = byRequest.get(id) ?? [];
      const source = ofRequest.length ? null : await this.sourceStamp(br, signal);
      const run = this.toRun(br, ofRequest, source);
      if (opts.branch && run.branch !== opts.branch) continue;
      out.push(run);
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  async trigger(opts: { ref: string; inputs: Record<string, string>; signal: AbortSignal }): Promise<RemoteRun> {
    const { signal } = opts;
    const builder = await this.builder(signal);
    const sched = await this.scheduler(signal);
    const { errors } = checkInputs(sched.inputs, opts.inputs);
    if (errors.length) throw new RemoteApiError('invalid', `Buildbot ${this.target.scheduler}: ${errors.join('; ')}`, null);
    // The REST API records the signed-in user as the owner (nobody, without authentication): say who in the reason.
    const params: Record<string, unknown> = { builderid: String(builder.id), reason: `triggered by ${this.opts.owner ?? 'delivery'}` };
    const ref = buildbotRefField(sched.fields);
    if (ref?.settable && opts.ref) params.branch = opts.ref;
    else if (ref && !ref.settable && opts.ref && ref.fixedValue && opts.ref !== ref.fixedValue) {
      throw new RemoteApiError('invalid', `the force scheduler "${this.target.scheduler}" always builds branch "${ref.fixedValue}", not "${opts.ref}"`, null);
    }
    const declared = new Map(sched.inputs.map((i) => [i.name, i]));
    for (const [k, v] of Object.entries(opts.inputs)) params[k] = buildbotParam(declared.get(k), v);
    const result = await this.rpc(`forceschedulers/${encodeURIComponent(this.target.scheduler)}`, 'force', params, signal);
    const brid = requestIdOf(result, builder.id);
    return (await this.run(String(brid), signal)).run;
  }

  async run(id: string, signal: AbortSignal): Promise<{ run: RemoteRun; jobs: RemoteJob[] }> {
    const builder = await this.builder(signal);
    const br = await this.request(id, signal);
    if (num(br, 'builderid') !== builder.id) throw new RemoteApiError('notFound', `run ${id} is not a build of "${builder.name}" on ${this.target.url}`, null);
    const builds = (await this.list(`buildrequests/${encodeURIComponent(id)}/builds`, 'builds', signal, { property: BUILD_PROPERTIES })).sort(
      (a, b) => (num(a, 'buildid') ?? 0) - (num(b, 'buildid') ?? 0),
    );
    const source = builds.length ? null : await this.sourceStamp(br, signal);
    const jobs: RemoteJob[] = [];
    for (const [i, b] of builds.entries()) {
      const steps = await this.list(`builds/${num(b, 'buildid')}/steps`, 'steps', signal, {});
      jobs.push(this.toJob(b, builds.length > 1 ? `${builder.name} (attempt ${i + 1})` : builder.name, steps));
    }
    return { run: this.toRun(br, builds.reverse(), source), jobs };
  }

  async logs(runId: string, jobId: string, offset: number, signal: AbortSignal): Promise<LogChunk> {
    const build = asObject(
      asArray(asObject(await this.http.json(`builds/${encodeURIComponent(jobId)}`, { signal, notFound: `no job ${jobId} on ${this.target.url}` }), 'build').builds, 'builds')[0],
      'build',
    );
    if (String(num(build, 'buildrequestid')) !== runId) throw new RemoteApiError('notFound', `job ${jobId} is not part of run ${runId}`, null);
    const steps = (await this.list(`builds/${encodeURIComponent(jobId)}/steps`, 'steps', signal, {})).sort((a, b) => (num(a, 'number') ?? 0) - (num(b, 'number') ?? 0));
    let text = '';
    let at = 0; // first line of the current log, counted over all logs of the build
    let position = offset;
    let budget = LINES_PER_CALL;
    let everything = true;
    for (const step of steps) {
      const logs = await this.stepLogs(step, signal);
      for (const [i, log] of logs.entries()) {
        const end = at + log.lines;
        if (!log.complete) everything = false;
        if (position < end && budget > 0) {
          const from = position - at;
          const lines = await this.logLines(log.logid, from, Math.min(end - position, budget), signal);
          if (lines.length > 0) {
            if (from === 0 && i === 0) text += `── step ${str(step, 'name') ?? num(step, 'number')} ──\n`;
            text += buildbotLogText(lines, log.type);
            position += lines.length;
            budget -= lines.length;
          }
        }
        at = end;
      }
      if (!(step.complete === true)) everything = false;
    }
    const complete = build.complete === true && everything && position >= at;
    return { text, offset: position, complete };
  }

  async cancel(id: string, signal: AbortSignal): Promise<void> {
    const { run } = await this.run(id, signal);
    if (isFinished(run.status)) throw new RemoteApiError('conflict', `run ${id} has already ended (${run.status}); nothing to cancel`, 409);
    // Cancelling the request stops its build when one has started, and keeps a queued one from starting.
    await this.rpc(`buildrequests/${encodeURIComponent(id)}`, 'cancel', { reason: `cancelled by ${this.opts.owner ?? 'delivery'}` }, signal);
  }

  async rerunFailed(id: string, signal: AbortSignal): Promise<RemoteRun> {
    const { run, jobs } = await this.run(id, signal);
    if (!isFinished(run.status)) throw new RemoteApiError('conflict', `run ${id} is still ${run.status}; wait for it to end or cancel it first`, 409);
    if (run.status === 'success') throw new RemoteApiError('invalid', `run ${id} succeeded; nothing failed to re-run`, null);
    const last = jobs.at(-1);
    if (!last) throw new RemoteApiError('invalid', `run ${id} was cancelled before it started; trigger a new run instead`, null);
    // Buildbot re-runs a whole build ("rebuild": same source and properties, a new build request).
    const result = await this.rpc(`builds/${encodeURIComponent(last.id)}`, 'rebuild', {}, signal);
    const builder = await this.builder(signal);
    return (await this.run(String(requestIdOf(result, builder.id)), signal)).run;
  }

  // ---- HTTP helpers ----

  private async list(path: string, key: string, signal: AbortSignal, query: Record<string, string | number | string[]>): Promise<Json[]> {
    const u = this.http.url(path);
    for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(x));
    const body = asObject(await this.http.json(u.href, { signal, cache: false }), key);
    return asArray(body[key], key).map((x) => asObject(x, key));
  }

  private async request(id: string, signal: AbortSignal): Promise<Json> {
    if (!/^\d+$/.test(id)) throw new RemoteApiError('notFound', `"${id}" is not a Buildbot run id (a build request number)`, null);
    const u = this.http.url(`buildrequests/${id}`);
    for (const p of RUN_PROPERTIES) u.searchParams.append('property', p);
    const body = asObject(await this.http.json(u.href, { signal, cache: false, notFound: `no run ${id} on Buildbot at ${this.target.url}` }), 'buildrequest');
    return asObject(asArray(body.buildrequests, 'buildrequests')[0], `run ${id}`);
  }

  /** A JSON-RPC control call; its error (bad parameters, unknown object) becomes a RemoteApiError. */
  private async rpc(path: string, method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const res = await this.http.request(path, { method: 'POST', body: { jsonrpc: '2.0', id: 1, method, params }, signal, allow: [400, 404, 500] });
    let body: Json;
    try {
      body = asObject(JSON.parse(res.body.toString('utf8')), method);
    } catch {
      throw new RemoteApiError('server', `Buildbot answered ${method} on ${path} with something that is not JSON-RPC (HTTP ${res.status})`, res.status);
    }
    if (body.error !== undefined) {
      const err = asObject(body.error, 'error');
      const message = typeof err.message === 'string' ? err.message : JSON.stringify(err.message);
      const kind = num(err, 'code') === -32602 ? 'invalid' : res.status === 404 ? 'notFound' : 'server';
      throw new RemoteApiError(kind, `Buildbot refused ${method} on ${path}: ${message}`, res.status, null, message);
    }
    if (res.status >= 400) throw new RemoteApiError('server', `Buildbot answered ${method} on ${path} with HTTP ${res.status}`, res.status);
    return body.result;
  }

  private async stepLogs(step: Json, signal: AbortSignal): Promise<LogInfo[]> {
    const stepid = num(step, 'stepid') ?? -1;
    const known = this.finishedStepLogs.get(stepid);
    if (known) return known;
    const logs = (await this.list(`steps/${stepid}/logs`, 'logs', signal, {}))
      .map((l) => ({ logid: num(l, 'logid') ?? -1, type: str(l, 'type') ?? 's', lines: num(l, 'num_lines') ?? 0, complete: l.complete === true }))
      .sort((a, b) => a.logid - b.logid);
    if (step.complete === true && logs.every((l) => l.complete)) this.finishedStepLogs.set(stepid, logs);
    return logs;
  }

  private async logLines(logid: number, from: number, count: number, signal: AbortSignal): Promise<string[]> {
    const lines: string[] = [];
    while (lines.length < count) {
      const limit = Math.min(LINES_PER_REQUEST, count - lines.length);
      const body = asObject(await this.http.json(`logs/${logid}/contents`, { signal, cache: false, query: { offset: from + lines.length, limit } }), 'log');
      const chunk = asArray(body.logchunks ?? [], 'logchunks')[0];
      const content = chunk ? (str(asObject(chunk, 'logchunk'), 'content') ?? '') : '';
      const got = content === '' ? [] : content.replace(/\n$/, '').split('\n');
      lines.push(...got);
      if (got.length < limit) break;
    }
    return lines;
  }

  /** Branch and commit of a request that has no build yet: its build set's first source stamp. */
  private async sourceStamp(br: Json, signal: AbortSignal): Promise<{ branch: string | null; revision: string | null }> {
    const bsid = num(br, 'buildsetid');
    if (bsid === null) return { branch: null, revision: null };
    const body = asObject(await this.http.json(`buildsets/${bsid}`, { signal, cache: false }), 'buildset');
    const set = asObject(asArray(body.buildsets, 'buildsets')[0] ?? {}, 'buildset');
    const ss = Array.isArray(set.sourcestamps) && set.sourcestamps[0] ? asObject(set.sourcestamps[0], 'sourcestamp') : {};
    return { branch: nonEmpty(str(ss, 'branch')), revision: nonEmpty(str(ss, 'revision')) };
  }

  // ---- mapping ----

  /** `builds`: the request's builds, newest first. */
  private toRun(br: Json, builds: Json[], source: { branch: string | null; revision: string | null } | null): RemoteRun {
    const build = builds[0] ?? null;
    const props = (build?.properties ?? {}) as Json;
    const reqProps = (br.properties ?? {}) as Json;
    const complete = br.complete === true;
    const s = buildbotStatus({ complete, results: num(br, 'results'), started: build !== null });
    const brid = num(br, 'buildrequestid');
    const builderid = num(br, 'builderid');
    const base = this.target.url.replace(/\/+$/, '');
    const number = build ? num(build, 'number') : null;
    return {
      id: String(brid),
      engine: 'buildbot',
      number,
      title: propertyText(reqProps, 'reason'),
      url: number !== null ? `${base}/#/builders/${builderid}/builds/${number}` : `${base}/#/buildrequests/${brid}`,
      branch: build ? propertyText(props, 'branch') : (source?.branch ?? null),
      sha: build ? (propertyText(props, 'got_revision') ?? propertyText(props, 'revision')) : (source?.revision ?? null),
      status: s.status,
      rawStatus: build && !complete ? (str(build, 'state_string') ?? s.raw) : s.raw,
      actor: propertyText(reqProps, 'owner'),
      event: propertyText(reqProps, 'scheduler'),
      createdAt: seconds(br, 'submitted_at'),
      startedAt: builds.length ? seconds(builds[builds.length - 1], 'started_at') : null,
      finishedAt: complete ? (seconds(br, 'complete_at') ?? (build ? seconds(build, 'complete_at') : null)) : null,
    };
  }

  private toJob(b: Json, name: string, steps: Json[]): RemoteJob {
    const base = this.target.url.replace(/\/+$/, '');
    const s = buildbotStatus({ complete: b.complete === true, results: num(b, 'results'), started: true });
    return {
      id: String(num(b, 'buildid')),
      name,
      stage: null,
      status: s.status,
      rawStatus: str(b, 'state_string') ?? s.raw,
      url: `${base}/#/builders/${num(b, 'builderid')}/builds/${num(b, 'number')}`,
      startedAt: seconds(b, 'started_at'),
      finishedAt: seconds(b, 'complete_at'),
      steps: steps
        .filter((st) => st.hidden !== true)
        .sort((x, y) => (num(x, 'number') ?? 0) - (num(y, 'number') ?? 0))
        .map((st): RemoteStep => {
          const started = seconds(st, 'started_at');
          return {
            name: str(st, 'name') ?? `step ${num(st, 'number')}`,
            number: num(st, 'number') ?? 0,
            status: buildbotStatus({ complete: st.complete === true, results: num(st, 'results'), started: started !== null }).status,
            startedAt: started,
            finishedAt: seconds(st, 'complete_at'),
          };
        }),
    };
  }
}

function fieldList(x: unknown): BuildbotField[] {
  if (!Array.isArray(x)) return [];
  return x.map((raw) => {
    const f = asObject(raw, 'a force scheduler field');
    return {
      name: str(f, 'name') ?? '',
      fullName: str(f, 'fullName'),
      type: str(f, 'type') ?? '',
      label: str(f, 'label'),
      default: f.default,
      required: f.required === true,
      hide: f.hide === true,
      choices: Array.isArray(f.choices) ? f.choices : null,
      fields: Array.isArray(f.fields) ? fieldList(f.fields) : null,
    };
  });
}

/** The build request id of a force/rebuild answer: [buildsetid, {"<builderid>": buildrequestid}]. */
function requestIdOf(result: unknown, builderid: number): number {
  const map = Array.isArray(result) && result[1] && typeof result[1] === 'object' ? (result[1] as Record<string, unknown>) : null;
  const id = map ? (map[String(builderid)] ?? Object.values(map)[0]) : undefined;
  if (typeof id !== 'number') throw new RemoteApiError('server', `Buildbot did not say which build request it created (answer: ${JSON.stringify(result)})`, null);
  return id;
}

function groupBuilds(builds: Json[]): Map<number, Json[]> {
  const out = new Map<number, Json[]>();
  for (const b of builds) {
    const br = num(b, 'buildrequestid');
    if (br === null) continue;
    out.set(br, [...(out.get(br) ?? []), b]);
  }
  for (const list of out.values()) list.sort((a, b) => (num(b, 'buildid') ?? 0) - (num(a, 'buildid') ?? 0));
  return out;
}

/** Properties come as {name: [value, source]}. */
function propertyText(props: Json, name: string): string | null {
  const p = props[name];
  const v = Array.isArray(p) ? p[0] : undefined;
  return typeof v === 'string' ? nonEmpty(v) : typeof v === 'number' ? String(v) : null;
}

function nonEmpty(s: string | null): string | null {
  return s === null || s === '' ? null : s;
}

/** Buildbot times are seconds since the epoch. */
function seconds(o: Json, key: string): number | null {
  const v = num(o, key);
  return v === null ? null : Math.round(v * 1000);
}
