// `deploy: { http: { url, method, headers, body, status } }`: call a deploy hook, then poll its status endpoint.
import { MapReader } from '../../config/reader';
import type { DeployStepPlan } from '../deploy';
import { checkUrl, headerMap } from '../specReader';
import type { DeployKindDef } from './kind';

export interface HttpDeploy {
  kind: 'http';
  url: string;
  method: 'POST' | 'PUT' | 'GET';
  headers: Record<string, string>;
  body: string | null;
  /** Poll a status endpoint until it reports success or failure. */
  status: { url: string; json: string; success: string[]; failure: string[]; intervalMs: number; timeoutMs: number } | null;
}

export const httpDeploy: DeployKindDef<'http', HttpDeploy> = {
  kind: 'http',
  ownKeys: {},
  read({ f, r, what }) {
    const h = MapReader.from(f, r.value('http'), `${what}: http`, ['url', 'method', 'headers', 'body', 'status']);
    const url = h?.required('url') ? checkUrl(h, 'url', h.string('url', { nonEmpty: true })) : undefined;
    let status: HttpDeploy['status'] = null;
    if (h?.has('status')) {
      const s = MapReader.from(f, h.value('status'), `${what}: http status`, ['url', 'json', 'success', 'failure', 'interval', 'timeout']);
      const surl = s?.required('url') ? checkUrl(s, 'url', s.string('url', { nonEmpty: true })) : undefined;
      const json = s?.required('json') ? s.string('json', { nonEmpty: true }) : undefined;
      const success = s?.stringList('success') ?? [];
      if (s && success.length === 0) f.error(s.node, `${what}: http status needs "success" values (e.g. [live])`);
      if (s && surl !== undefined && json !== undefined) {
        status = { url: surl, json, success, failure: s.stringList('failure') ?? [], intervalMs: s.duration('interval') ?? 1000, timeoutMs: s.duration('timeout') ?? 10 * 60_000 };
      }
    }
    if (!h || url === undefined) return null;
    return { kind: 'http', url, method: h.oneOf('method', ['POST', 'PUT', 'GET'] as const) ?? 'POST', headers: headerMap(h, 'headers') ?? {}, body: h.string('body') ?? null, status };
  },
  steps: (m) => [{ id: 'http.hook', name: `${m.method} deploy hook` }, ...(m.status ? [{ id: 'http.status', name: 'wait for the deploy status' } as DeployStepPlan] : [])],
  async expand(m, x) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.headers)) headers[k] = await x.data(v);
    const status = m.status ? { ...m.status, url: await x.data(m.status.url) } : null;
    return { ...m, url: await x.data(m.url), headers, body: m.body === null ? null : await x.data(m.body), status };
  },
  needsFiles: () => false,
};
