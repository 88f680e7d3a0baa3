// hashFiles() over real files, as the GitHub runner computes it: the SHA-256 of the SHA-256 digests of the matching
// files, met depth first with each folder's entries in name order; '' when nothing matches; what would hang or leave
// the repository is refused with the reason.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hashWorkspaceFiles } from '../../src/adapters/hashFiles';
import { cleanupTempDirs, tempDir, writeFiles } from '../support/tmp';
import { requireTool } from '../support/requireTool';

const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest();
/** The runner's result for these files, in this order. */
function expected(dir: string, files: string[]): string {
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(sha(fs.readFileSync(path.join(dir, f))));
  return h.digest('hex');
}

describe('hashFiles() over the workspace', () => {
  after(cleanupTempDirs);

  it('hashes the digests of the matching files in the runner\'s order (depth first, names in byte order)', () => {
    const dir = tempDir();
    writeFiles(dir, {
      'package-lock.json': 'root',
      'b/package-lock.json': 'b',
      'b.txt': 'not matched',
      'B/package-lock.json': 'upper B',
      'a/z/package-lock.json': 'a/z',
      'a/package-lock.json': 'a',
      '.hidden/package-lock.json': 'hidden',
      'node_modules/x/package-lock.json': 'deps',
    });
    // Byte order: ".hidden" < "B" < "a" < "b" < "node_modules" < "package-lock.json"; a folder's files before its subfolders' only by name.
    const order = ['.hidden/package-lock.json', 'B/package-lock.json', 'a/package-lock.json', 'a/z/package-lock.json', 'b/package-lock.json', 'node_modules/x/package-lock.json', 'package-lock.json'];
    assert.equal(hashWorkspaceFiles(dir, ['**/package-lock.json']), expected(dir, order));
    assert.equal(hashWorkspaceFiles(dir, ['**/package-lock.json', '!node_modules/**']), expected(dir, order.filter((f) => !f.startsWith('node_modules'))));
    // Two patterns with different search paths: the first pattern's folder is walked first.
    assert.equal(hashWorkspaceFiles(dir, ['b/*.json\na/*.json']), expected(dir, ['b/package-lock.json', 'a/package-lock.json']));
    assert.equal(hashWorkspaceFiles(dir, [path.join(dir, 'a/package-lock.json')]), expected(dir, ['a/package-lock.json']));
    assert.equal(hashWorkspaceFiles(dir, ['**/nothing-matches']), '');
    assert.equal(hashWorkspaceFiles(dir, ['/etc/hostname']), '', 'outside the workspace: ignored, as the runner does');
  });

  it('matches the digest of the runner for a known file (sha256 of sha256)', () => {
    const dir = tempDir();
    writeFiles(dir, { 'go.sum': 'hello\n' });
    // sha256("hello\n") = 5891b5b5…; the result is the sha256 of those 32 bytes.
    assert.equal(hashWorkspaceFiles(dir, ['go.sum']), crypto.createHash('sha256').update(Buffer.from('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03', 'hex')).digest('hex'));
  });

  it('refuses a link that leaves the repository and a FIFO, with the reason, instead of reading them', function () {
    const dir = tempDir();
    const outside = tempDir();
    writeFiles(outside, { 'secret.txt': 'x' });
    writeFiles(dir, { 'a.lock': 'a' });
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'b.lock'));
    assert.throws(() => hashWorkspaceFiles(dir, ['*.lock']), /hashFiles: b\.lock resolves outside the repository/);
    fs.unlinkSync(path.join(dir, 'b.lock'));
    requireTool(this, spawnSync('mkfifo', [path.join(dir, 'c.lock')]).status !== 0 ? 'mkfifo could not make a FIFO here (coreutils)' : null);
    assert.throws(() => hashWorkspaceFiles(dir, ['*.lock']), /hashFiles: c\.lock is not a regular file; not read/);
  });

  it('refuses an invalid pattern with the runner\'s reason', () => {
    assert.throws(() => hashWorkspaceFiles(tempDir(), ['../x']), /relative pathing '\.' and '\.\.' is not allowed/);
  });
});
