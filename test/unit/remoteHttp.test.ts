// The pure parts of the remote engines' HTTP client: next-page links, proxy settings from the environment, server
// messages. The client against real local servers (caching, rate limits, proxies, a private CA) is in
// test/system/remoteHttp.test.ts.
import * as assert from 'node:assert/strict';
import { nextPageUrl, proxyFor, proxyFromEnv, serverMessage } from '../../src/adapters/remote/http';

describe('remote HTTP client', () => {
  it('reads next pages from Link, then X-Next-Page, and none past the last page', () => {
    assert.equal(nextPageUrl({ url: 'https://h/x?page=1', headers: { link: '<https://h/x?page=2>; rel="next"' } }), 'https://h/x?page=2');
    assert.equal(nextPageUrl({ url: 'https://h/x?page=1', headers: { link: '<https://h/x?page=1>; rel="prev"' } }), null);
    assert.equal(nextPageUrl({ url: 'https://h/x?per_page=5', headers: { 'x-next-page': '3' } }), 'https://h/x?per_page=5&page=3');
    assert.equal(nextPageUrl({ url: 'https://h/x', headers: { 'x-next-page': '3', 'x-total-pages': '2' } }), null);
    assert.equal(nextPageUrl({ url: 'https://h/x', headers: { 'x-next-page': '' } }), null);
  });

  it('finds the message in GitHub and GitLab error bodies', () => {
    const b = (x: unknown) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x));
    assert.equal(serverMessage(b({ message: 'Bad credentials', documentation_url: 'x' })), 'Bad credentials');
    assert.equal(serverMessage(b({ message: { base: ['Reference not found'] } })), 'Reference not found');
    assert.equal(serverMessage(b({ message: { ref: ['is invalid'] } })), 'ref is invalid');
    assert.equal(serverMessage(b({ error: 'insufficient_scope', error_description: 'The request requires higher privileges' })), 'The request requires higher privileges');
    assert.equal(serverMessage(b({ message: 'Validation Failed', errors: [{ resource: 'x', code: 'invalid', message: 'Unexpected inputs provided: ["foo"]' }] })), 'Validation Failed; Unexpected inputs provided: ["foo"]');
    assert.equal(serverMessage(b('<html>502</html>')), null);
    assert.equal(serverMessage(b('')), null);
  });

  describe('proxy', () => {
    it('reads HTTP(S)_PROXY and NO_PROXY from the environment', () => {
      const p = proxyFromEnv({ HTTPS_PROXY: 'http://proxy:3128', http_proxy: 'proxy:8080', NO_PROXY: 'localhost, .internal.example.com,10.0.0.1:8443' });
      assert.deepEqual(p, { http: 'proxy:8080', https: 'http://proxy:3128', noProxy: 'localhost, .internal.example.com,10.0.0.1:8443' });
      assert.equal(proxyFor(new URL('https://api.github.com/x'), p)?.href, 'http://proxy:3128/');
      assert.equal(proxyFor(new URL('http://gitlab.example.com/x'), p)?.href, 'http://proxy:8080/');
      assert.equal(proxyFor(new URL('https://git.internal.example.com/x'), p), null);
      assert.equal(proxyFor(new URL('https://internal.example.com/x'), p), null);
      assert.equal(proxyFor(new URL('https://localhost:9000/x'), p), null);
      assert.equal(proxyFor(new URL('https://10.0.0.1:8443/x'), p), null);
      assert.notEqual(proxyFor(new URL('https://10.0.0.1/x'), p), null, 'NO_PROXY with a port bypasses only that port');
      assert.equal(proxyFor(new URL('https://api.github.com/x'), { ...p, noProxy: '*' }), null);
      assert.throws(() => proxyFor(new URL('https://x/'), { https: 'socks5://p:1080' }), /only http:\/\/ proxies/);
      const v6 = { http: 'http://proxy:3128' };
      assert.equal(proxyFor(new URL('http://[::1]:8080/'), { ...v6, noProxy: '::1' }), null);
      assert.equal(proxyFor(new URL('http://[::1]:8080/'), { ...v6, noProxy: '[::1]:8080' }), null);
      assert.notEqual(proxyFor(new URL('http://[::1]:9090/'), { ...v6, noProxy: '[::1]:8080' }), null);
    });
  });
});
