// A version endpoint on 127.0.0.1 (a port the kernel picks) for the probe scenarios: GET /v/<sha> answers
// {"build":{"sha":"<sha>"}}; /slow/<ms>/<sha> answers the same after <ms> milliseconds.
import http from 'node:http';

export async function startVersionServer() {
  const server = http.createServer((req, res) => {
    const m = /^\/(?:slow\/(\d+)\/)?v?\/?([0-9a-f]{7,64})$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end('not found');
      return;
    }
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ build: { sha: m[2] } }));
    if (m[1]) setTimeout(answer, Number(m[1]));
    else answer();
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
