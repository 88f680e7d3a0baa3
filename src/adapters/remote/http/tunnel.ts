// https:// through an HTTP proxy: a CONNECT tunnel, then TLS to the real host inside it.
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { proxyAuthorization, redactUrl } from './proxy';

/** An https agent whose connections go through an HTTP proxy's CONNECT tunnel (kept alive like any other). */
export class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    opts: https.AgentOptions,
  ) {
    super(opts);
  }

  // Node's Agent accepts an asynchronous createConnection(options, callback) and then ignores the return value.
  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): null {
    const target = `${options.host}:${options.port}`;
    const headers: Record<string, string> = { host: target };
    if (this.proxy.username) headers['proxy-authorization'] = proxyAuthorization(this.proxy);
    const req = http.request({ host: this.proxy.hostname, port: this.proxy.port || 80, method: 'CONNECT', path: target, headers, agent: false });
    const done = (err: Error | null, socket?: Duplex) => {
      if (err) Object.assign(err, { proxy: redactUrl(this.proxy) });
      callback?.(err, socket as Duplex);
    };
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new Error(`the proxy refused the tunnel to ${target} (${res.statusCode} ${res.statusMessage ?? ''})`.trim()));
        return;
      }
      const host = String(options.servername || options.hostname || options.host);
      // SNI carries host names only (RFC 6066); the certificate is still checked against an IP address.
      const secure = tls.connect({ socket, host, ...(isIP(host) ? {} : { servername: host }), ca: options.ca, ALPNProtocols: ['http/1.1'] });
      done(null, secure);
    });
    req.once('error', (e) => done(e));
    req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('the proxy did not open the tunnel in time'), { code: 'ETIMEDOUT' })));
    req.end();
    return null;
  }
}
