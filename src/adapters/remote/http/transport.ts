// One request on the wire: kept-alive agents per protocol and proxy, forwarding or tunnelling through a proxy, a
// timeout, and a size cap on the body before and after decompression.
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import { proxyAuthorization, proxyFor, redactUrl, type ProxySettings } from './proxy';
import { TunnelAgent } from './tunnel';

export interface RawResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface TransportOptions {
  proxy: ProxySettings;
  /** PEM certificates to trust instead of Node's defaults. */
  ca?: string[];
  /** One request, from connecting to the last byte. */
  timeoutMs: number;
  /** Bodies larger than this (compressed or not) are refused. */
  maxBodyBytes: number;
}

export class Transport {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly opts: TransportOptions) {}

  /**
   * Sends one request and reads the whole answer. Rejects with the network error (`proxy` set on it when one was
   * used), or an Error named TimeoutError when the timeout, not the caller's signal, ended it.
   */
  send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal): Promise<RawResponse> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    const proxy = proxyFor(url, this.opts.proxy);
    const agent = this.agentFor(url, proxy);
    const maxBytes = this.opts.maxBodyBytes;
    const out: Record<string, string> = { ...headers };
    if (body) out['content-length'] = String(body.length);
    let req: http.ClientRequest;
    if (proxy && url.protocol === 'http:') {
      // A forwarding proxy takes the absolute URI as the request target.
      if (proxy.username) out['proxy-authorization'] = proxyAuthorization(proxy);
      out.host = url.host;
      req = http.request({ host: proxy.hostname, port: proxy.port || 80, path: url.href, method, headers: out, agent, signal: both });
    } else {
      req = (url.protocol === 'https:' ? https : http).request(url, { method, headers: out, agent, signal: both });
    }
    return new Promise<RawResponse>((resolve, reject) => {
      const fail = (e: Error) => {
        const err = timeout.aborted && !signal.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : e;
        if (proxy) Object.assign(err, { proxy: redactUrl(proxy) });
        reject(err);
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            res.destroy(new Error(`the answer is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          decode(Buffer.concat(chunks), String(res.headers['content-encoding'] ?? ''), maxBytes)
            .then((b) => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: flatHeaders(res.headers), body: b }))
            .catch(fail);
        });
      });
      req.end(body);
    });
  }

  /** Closes kept-alive connections. */
  dispose(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  private agentFor(url: URL, proxy: URL | null): http.Agent {
    const key = `${url.protocol}${proxy ? ` via ${proxy.host}` : ''}`;
    const known = this.agents.get(key);
    if (known) return known;
    let agent: http.Agent;
    if (url.protocol === 'https:') agent = proxy ? new TunnelAgent(proxy, { keepAlive: true, ca: this.opts.ca }) : new https.Agent({ keepAlive: true, ca: this.opts.ca });
    else agent = new http.Agent({ keepAlive: true });
    this.agents.set(key, agent);
    return agent;
  }
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** A compressed body, inflated up to `maxBytes` (a few KB of gzip can inflate to gigabytes). */
function decode(body: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const enc = encoding.trim().toLowerCase();
  const done = (res: (b: Buffer) => void, rej: (e: Error) => void) => (e: Error | null, b: Buffer) => {
    if (e && (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') rej(new Error(`the answer is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB once decompressed`));
    else if (e) rej(e);
    else res(b);
  };
  if (enc === 'gzip' || enc === 'x-gzip') return new Promise((res, rej) => zlib.gunzip(body, { maxOutputLength: maxBytes }, done(res, rej)));
  if (enc === 'deflate') return new Promise((res, rej) => zlib.inflate(body, { maxOutputLength: maxBytes }, done(res, rej)));
  return Promise.resolve(body);
}
