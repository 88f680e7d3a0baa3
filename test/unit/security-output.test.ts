// Security issue #17, items 3 and 7, the pure half: the masker and the sanitiser. Real processes, a real HTTP server
// and the real CLI are in test/system/security-output.test.ts.
import * as assert from 'node:assert/strict';
import { checkVersion, excerpt } from '../../src/core/environments/status';
import { deployIndicator } from '../../src/core/environments/indicator';
import { jsonText, markdownText, notificationText, plainText, terminalText } from '../../src/core/sanitize';
import { Masker } from '../../src/core/secrets';
import type { EnvironmentStatus } from '../../src/shared/model';
import { assertNoSecret, ESCAPES, HEALTH_KEY, SSH_KEY, UNSAFE, VERSION_KEY } from '../support/secretText';

describe('security: secrets masked in every sink, target text inert (#17.3, #17.7)', () => {
  describe('the masker (core/secrets.ts)', () => {
    it('masks a multi-line secret whole and each of its lines (#17.3a), but not lines shorter than the minimum', () => {
      const m = new Masker([SSH_KEY]);
      const printed = `key:\n${SSH_KEY}\nthen line by line:\n${SSH_KEY.split('\n').map((l) => `> ${l}`).join('\n')}`;
      const out = m.mask(printed);
      assertNoSecret('masked output', out);
      assert.match(out, /^key:\n\*\*\*\nthen line by line:\n> \*\*\*\n> \*\*\*/);
      assert.ok(out.includes('> Qw=\n'), 'a line shorter than the minimum is not a mask on its own');
      assert.equal(new Masker(['ab']).mask('ab cd'), 'ab cd', 'values shorter than the minimum are not masked');
    });

    it('masks the whitespace-collapsed form, the JSON-escaped form, and overlapping secrets as one run (#17.3d)', () => {
      const m = new Masker([VERSION_KEY, 'abc"def\\', 'XYZ123', '123QRS']);
      assert.equal(m.mask(`a ${VERSION_KEY} b`), 'a *** b');
      assert.equal(m.mask(excerpt(`a ${VERSION_KEY} b`, 200)), 'a *** b', 'the collapsed form, as an excerpt shows it');
      assert.equal(m.mask(JSON.stringify({ v: 'abc"def\\' })), '{"v":"***"}');
      assert.equal(m.mask('..XYZ123QRS..'), '..***..', 'no piece of either overlapping secret shows');
    });

    it('a streaming masker masks secrets cut anywhere, holding back at most the longest form minus one (#17.3b)', () => {
      const m = new Masker([SSH_KEY, VERSION_KEY, HEALTH_KEY]);
      const text = `start ${SSH_KEY} mid ${VERSION_KEY}${HEALTH_KEY} hkey-secret-91 end ${VERSION_KEY.slice(0, 10)}`;
      const expected = m.mask(text);
      for (const size of [1, 2, 3, 7, 13, 64]) {
        const s = m.stream();
        let out = '';
        for (let i = 0; i < text.length; i += size) out += s.push(text.slice(i, i + size));
        out += s.end();
        assert.equal(out, expected, `pieces of ${size}`);
      }
      // Plain output is not held back at all (a prompt or a progress line shows at once); what may be the start of a
      // secret is, until the next piece or the end decides.
      assert.equal(m.stream().push('building...\n'), 'building...\n');
      const s = m.stream();
      assert.equal(s.push(`abc ${VERSION_KEY.slice(0, 10)}`), 'abc ');
      assert.equal(s.push('!'), `${VERSION_KEY.slice(0, 10)}!`);
      assert.equal(s.push(`x ${VERSION_KEY.slice(0, 9)}`), 'x ');
      assert.equal(s.end(), VERSION_KEY.slice(0, 9));
    });
  });

  describe('the sanitiser (core/sanitize.ts)', () => {
    it('terminalText makes C0 (not \\t \\n), DEL, C1, bare CR and bidi controls visible', () => {
      assert.equal(terminalText('a\tb\nc\r\nd'), 'a\tb\nc\r\nd');
      assert.equal(terminalText('\u001b]0;t\u0007x\ry\u007f\u009b1m\u202e\u2069'), '\\x1b]0;t\\x07x\\x0dy\\x7f\\x9b1m\\u202e\\u2069');
      assert.doesNotMatch(terminalText(ESCAPES), UNSAFE);
      assert.equal(terminalText('\u001b[31mred\u001b[8mno\u001b[38;5;200mx\n', { colours: true }), '\u001b[31mred\\x1b[8mno\u001b[38;5;200mx\u001b[0m\n');
      assert.equal(terminalText('\u001b[31mred', { colours: true }), '\u001b[31mred\u001b[0m');
    });

    it('jsonText escapes what JSON.stringify leaves raw; terminalText json mode keeps JSON valid', () => {
      const value = { s: `a\u009b\u202e\u2028\u007fb${ESCAPES}` };
      const out = jsonText(value);
      assert.doesNotMatch(out, UNSAFE);
      assert.deepEqual(JSON.parse(out), value);
      assert.deepEqual(JSON.parse(terminalText(JSON.stringify(value), { json: true })), value);
    });

    it('editor text: plain, notification and markdown forms are inert; the status-bar tooltip builder escapes target text', () => {
      assert.equal(plainText('a\u001b[2Kb\u202ec\nd', { oneLine: true }), 'a\\x1b[2Kb\\u202ec d');
      assert.equal(notificationText('see [here](command:delivery.deploy)'), 'see [here] (command:delivery.deploy)');
      assert.equal(notificationText('build: [linux] failed'), 'build: [linux] failed');
      const md = markdownText('[x](command:delivery.deploy?%5B%5D) $(zap) <img src=x onerror=alert(1)> **b** `c`\n&#x202e;');
      assert.ok(!/(^|[^\\])[[\]()<>`*$&]/.test(md), `every markdown character is escaped: ${md}`);
      const hostile = '[click](command:delivery.deploy) $(check) up to date <b>x</b>\u001b[2K';
      const status: EnvironmentStatus = {
        id: 'prod', name: 'Prod', url: null,
        deployed: { sha: null, error: hostile, raw: null, checkedAt: 0 },
        local: { sha: null, branch: null, dirty: false }, ahead: null, behind: null, health: 'down', healthDetail: hostile,
      };
      const tip = deployIndicator({ id: 'prod', name: 'Prod' }, status, null, null).tooltip;
      assert.ok(!tip.includes('[click](command:') && !tip.includes('$(check)') && !tip.includes('<b>') && !tip.includes('\u001b'), tip);
      assert.ok(tip.includes('\\[click\\]\\(command\\:delivery\\.deploy\\)'), tip);
      const v = checkVersion('abc\u001b');
      assert.ok('error' in v && v.error.includes('\u001b'), 'the core keeps data as it is: the sinks make it inert');
    });
  });
});
