// The HTTP client of the remote engines, split by concern under http/: client.ts (a request's policy: token
// origin, retries, redirects), cache.ts (ETag / If-None-Match), rateLimit.ts, pagination.ts, proxy.ts
// (HTTP(S)_PROXY / NO_PROXY), tunnel.ts (CONNECT for https:// through a proxy), tls.ts (extra CAs), transport.ts
// (agents, timeouts, body and decompression caps), errors.ts, json.ts (checked readers of bodies).
// Built on node:http/https rather than fetch: Node 20's fetch reads no proxy settings and takes no CA option
// without the undici package (docs/decisions.md). Importers use this module, not the files under http/.
export { delay, HttpClient, type HttpClientOptions, type HttpResponse, type RequestOptions } from './http/client';
export { RemoteApiError, serverMessage, type RemoteErrorKind, type ServiceWords } from './http/errors';
export { asArray, asObject, idOf, num, str, time, type Json } from './http/json';
export { nextPageUrl } from './http/pagination';
export { proxyFor, proxyFromEnv, type ProxySettings } from './http/proxy';
export { clockTime } from './http/rateLimit';
export { loadCa } from './http/tls';
