// HTTP for deploys: the deploy hook and polling its status endpoint (waiting for health is core/environments/verify.ts). Single requests
// (GET with a timeout and a capped body, the health check) come from the environments adapters; this adds the
// hook call and the polling. Every wait honours the deploy's AbortSignal. Redirects never carry the hook's
// configured headers or body to another origin, and answers are read up to a cap.
import { excerpt, jsonPath } from '../../core/environments/status';
import type { DeployStepIO, DeployStepOutcome } from '../../core/environments/deployRun';
import { describeFetchError, fetchFollowing, httpGet, readCapped } from '../environments/http';
import { systemClock } from '../clock';

const REQUEST_TIMEOUT_MS = 10_000;
const HOOK_TIMEOUT_MS = 60_000;
/** What of a deploy hook's answer is read: it is shown as one line. */
export const MAX_HOOK_ANSWER_BYTES = 64 * 1024;

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return systemClock.sleep(ms, signal);
}

/** Calls the deploy hook; any 2xx answer means the deploy was accepted. */
export async function callHook(
  hook: { url: string; method: string; headers: Record<string, string>; body: string | null },
  io: DeployStepIO,
): Promise<DeployStepOutcome> {
  const timeout = AbortSignal.timeout(HOOK_TIMEOUT_MS);
  try {
    const r = await fetchFollowing(hook.url, { method: hook.method, headers: hook.headers, body: hook.method === 'GET' ? null : hook.body, signal: AbortSignal.any([io.signal, timeout]) });
    if ('refused' in r) {
      io.line('stderr', `the deploy hook ${r.refused}`);
      return { status: 'failed', reason: `the deploy hook ${r.refused}` };
    }
    const res = r.res;
    // The answer is only shown (200 characters): read a bounded part, whatever the server sends.
    const { text, truncated } = await readCapped(res, MAX_HOOK_ANSWER_BYTES);
    const body = excerpt(text, 200);
    io.line('stdout', `HTTP ${res.status}${body ? ` ${body}` : ''}${truncated ? ` (answer truncated at ${MAX_HOOK_ANSWER_BYTES / 1024} KiB)` : ''}`);
    if (res.ok) return { status: 'success' };
    return { status: 'failed', reason: `the deploy hook answered HTTP ${res.status}${body ? `: ${body}` : ''}` };
  } catch (e) {
    if (timeout.aborted) return { status: 'failed', reason: `the deploy hook ${hook.url} did not answer within ${HOOK_TIMEOUT_MS / 1000} s` };
    return { status: 'failed', reason: `could not call the deploy hook ${hook.url}: ${describeFetchError(e)}` };
  }
}

/** Polls a status endpoint until the JSON value at `json` is a success or failure value, or the time is up. */
export async function pollStatus(
  status: { url: string; json: string; success: string[]; failure: string[]; intervalMs: number; timeoutMs: number },
  io: DeployStepIO,
): Promise<DeployStepOutcome> {
  const t0 = Date.now();
  let last: string | null = null;
  let problem: string | null = null;
  while (!io.signal.aborted) {
    const r = await httpGet(status.url, { timeoutMs: REQUEST_TIMEOUT_MS, signal: io.signal });
    if ('error' in r) problem = r.error;
    else {
      let parsed: unknown = undefined;
      try {
        parsed = JSON.parse(r.answer.body);
      } catch {
        problem = `the status endpoint answered HTTP ${r.answer.status} with something that is not JSON: ${excerpt(r.answer.body, 120)}`;
      }
      const at = parsed === undefined ? null : jsonPath(parsed, status.json);
      if (at && !at.found) problem = `the status has no "${at.missing}"`;
      if (at?.found) {
        const v = String(at.value);
        if (v !== last) io.line('stdout', `status: ${v}`);
        last = v;
        problem = null;
        if (status.success.includes(v)) return { status: 'success', reason: `status "${v}"` };
        if (status.failure.includes(v)) return { status: 'failed', reason: `the deploy reported status "${v}"` };
      }
    }
    if (Date.now() - t0 >= status.timeoutMs) {
      return { status: 'failed', reason: `no final status after ${Math.round(status.timeoutMs / 1000)} s (last: ${last !== null ? `"${last}"` : (problem ?? 'none')})` };
    }
    await sleep(status.intervalMs, io.signal);
  }
  return { status: 'failed', reason: 'cancelled' };
}
