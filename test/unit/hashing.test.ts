// Names derived from paths and ids (state folders, log folders, GitLab environment slugs) hash with a SHA-256 of our
// own (core/sha256.ts: the CLI does not load node:crypto to start) and take random parts from adapters/random.ts.
// The digests must be node:crypto's exactly: a state folder's name must not change between versions.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { nodeCrypto, preferKernelRandom, randomHex } from '../../src/adapters/random';
import { folderStateDir } from '../../src/adapters/stateDir';
import { logFileName, newRunId } from '../../src/adapters/runStore';
import { environmentSlug } from '../../src/core/gitlab/variables';
import { sha256Hex } from '../../src/core/sha256';

const nodeSha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('hashing and random names without loading node:crypto', () => {
  it('sha256Hex is SHA-256 of the UTF-8 text, at every length around the block boundaries', () => {
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (let n = 0; n <= 200; n++) assert.equal(sha256Hex('a'.repeat(n)), nodeSha256('a'.repeat(n)), `length ${n}`);
  });

  it('sha256Hex agrees with node:crypto on multi-byte text, astral characters and lone surrogates', () => {
    for (const text of ['é/日本語/😀', '/home/ünïcode/project', 'job: build [linux, 😀]', 'x\uD800y', '\uDC00', 'z'.repeat(100_000)]) {
      assert.equal(sha256Hex(text), nodeSha256(text), JSON.stringify(text.slice(0, 40)));
    }
  });

  it('the names made from hashes are what node:crypto made before', () => {
    assert.equal(folderStateDir('/nonexistent/delivery-project', '/state'), `/state/delivery-project-${nodeSha256('/nonexistent/delivery-project').slice(0, 12)}`);
    assert.equal(logFileName('build: [linux, 16]'), `logs/build___linux__16_-${nodeSha256('build: [linux, 16]').slice(0, 12)}.log`);
    const slug = environmentSlug('Review/Feature Branch With A Long Name');
    assert.equal(slug, `review-feature-br-${BigInt(`0x${nodeSha256('Review/Feature Branch With A Long Name')}`).toString(36).slice(-6)}`);
  });

  it('randomHex gives hex of the length asked, different each time, across refills of its pool, from either source', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      if (i === 150) preferKernelRandom(); // node:crypto first, then /dev/urandom (as the CLI does)
      const h = randomHex(9);
      assert.match(h, /^[0-9a-f]{18}$/);
      seen.add(h);
    }
    assert.equal(seen.size, 300);
    assert.match(randomHex(1000), /^[0-9a-f]{2000}$/, 'more than the pool holds');
    assert.match(newRunId(new Date('2026-11-27T06:12:07.123Z')), /^20261127-061207-123-[0-9a-f]{6}$/);
  });

  it('nodeCrypto loads node:crypto itself, once', () => {
    assert.equal(nodeCrypto(), nodeCrypto());
    assert.equal(nodeCrypto().createHash('sha256').update('abc').digest('hex'), sha256Hex('abc'));
  });
});
