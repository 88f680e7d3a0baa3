import * as assert from 'node:assert/strict';
import { parsePlatformEntry, platformOf, runsOnLabels, settingPlatforms } from '../../src/core/github/platforms';

const NO_MAC = 'runs on "macos-latest", which has no local platform (map one with --platform macos-latest=host or the delivery.platforms setting)';

describe('GitHub platforms: runs-on labels to this machine or an image', () => {
  it('maps ubuntu-*, self-hosted and linux to this machine by default; other labels to nothing', () => {
    for (const labels of [['ubuntu-latest'], ['ubuntu-22.04'], ['Ubuntu-24.04'], ['self-hosted'], ['self-hosted', 'linux'], ['self-hosted', 'linux', 'x64']]) {
      assert.deepEqual(platformOf(labels, undefined, 'x64'), { host: true }, labels.join(', '));
    }
    assert.deepEqual(platformOf(['macos-latest'], undefined, 'x64'), { unsupported: NO_MAC });
    assert.deepEqual(platformOf(['windows-2022'], {}, 'x64'), {
      unsupported: 'runs on "windows-2022", which has no local platform (map one with --platform windows-2022=host or the delivery.platforms setting)',
    });
    assert.match((platformOf(['self-hosted', 'linux', 'arm64'], undefined, 'x64') as { unsupported: string }).unsupported, /^runs on "arm64", which has no local platform/);
    // GitHub's Arm runners are this machine only on an Arm machine (tomli's ubuntu-24.04-arm leg ran on x64).
    assert.match((platformOf(['ubuntu-24.04-arm'], undefined, 'x64') as { unsupported: string }).unsupported, /^runs on "ubuntu-24.04-arm", which has no local platform/);
    assert.deepEqual(platformOf(['ubuntu-22.04-arm'], undefined, 'arm64'), { host: true });
    assert.deepEqual(platformOf(['self-hosted', 'gpu', 'big'], undefined, 'x64'), {
      unsupported: 'runs on "gpu", "big", which have no local platform (map one with --platform gpu=host or the delivery.platforms setting)',
    });
  });

  it('takes the run map first (labels without regard to case): host, an image, all labels must map', () => {
    assert.deepEqual(platformOf(['macos-latest'], { 'macos-latest': 'host' }, 'x64'), { host: true });
    assert.deepEqual(platformOf(['MacOS-Latest'], { 'macos-latest': 'HOST' }, 'x64'), { host: true });
    assert.deepEqual(platformOf(['ubuntu-latest'], { 'ubuntu-latest': 'node:20-bookworm' }, 'x64'), { image: 'node:20-bookworm' });
    assert.deepEqual(platformOf(['self-hosted', 'ubuntu-latest'], { 'ubuntu-latest': 'node:20' }, 'x64'), { image: 'node:20' });
    assert.deepEqual(platformOf(['ubuntu-latest', 'macos-latest'], { 'ubuntu-latest': 'host' }, 'x64'), { unsupported: NO_MAC });
  });

  it('reads runs-on as a label, a list, an expression (a matrix value, a list from fromJSON) or { group, labels }', () => {
    const matrix: Record<string, unknown> = { '${{ matrix.os }}': 'macos-latest', '${{ fromJSON(matrix.labels) }}': ['self-hosted', 'linux'] };
    const evaluate = (t: string) => {
      if (t in matrix) return matrix[t];
      throw new Error('needs.setup is not known');
    };
    assert.deepEqual(runsOnLabels('ubuntu-latest', evaluate), { labels: ['ubuntu-latest'] });
    assert.deepEqual(runsOnLabels(['self-hosted', 'linux'], evaluate), { labels: ['self-hosted', 'linux'] });
    assert.deepEqual(runsOnLabels('${{ matrix.os }}', evaluate), { labels: ['macos-latest'] });
    assert.deepEqual(runsOnLabels('${{ fromJSON(matrix.labels) }}', evaluate), { labels: ['self-hosted', 'linux'] });
    assert.deepEqual(runsOnLabels({ group: 'big-runners', labels: ['ubuntu-latest'] }, evaluate), { labels: ['ubuntu-latest'] });
    assert.deepEqual(runsOnLabels({ group: 'big-runners' }, evaluate), { labels: ['big-runners'] });
    assert.deepEqual(runsOnLabels('${{ needs.setup.outputs.runner }}', evaluate), { error: 'runs-on ${{ needs.setup.outputs.runner }} cannot be evaluated before the run (needs.setup is not known)' });
  });

  it('checks --platform entries and the delivery.platforms setting', () => {
    assert.deepEqual(parsePlatformEntry('macos-latest=host'), { label: 'macos-latest', value: 'host' });
    assert.deepEqual(parsePlatformEntry('ubuntu-latest=ghcr.io/catthehacker/ubuntu:act-22.04'), { label: 'ubuntu-latest', value: 'ghcr.io/catthehacker/ubuntu:act-22.04' });
    assert.deepEqual(parsePlatformEntry('macos-latest'), { error: 'needs LABEL=host or LABEL=IMAGE, not "macos-latest"' });
    assert.deepEqual(parsePlatformEntry('macos-latest='), { error: 'label "macos-latest" needs "host" or an image name' });
    assert.deepEqual(parsePlatformEntry('x=--privileged'), { error: '"--privileged" (for label "x") is neither "host" nor an image name' });
    const problems: string[] = [];
    assert.deepEqual(settingPlatforms({ 'macos-latest': 'host', 'windows-latest': 3, gpu: '' }, (p) => problems.push(p)), { 'macos-latest': 'host' });
    assert.deepEqual(problems, ['label "windows-latest" needs "host" or an image name', 'label "gpu" needs "host" or an image name']);
    assert.deepEqual(settingPlatforms(['host'], (p) => problems.push(p)), {});
    assert.equal(problems.at(-1), 'must be an object of runs-on label -> "host" or an image');
  });
});
