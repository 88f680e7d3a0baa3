import * as assert from 'node:assert/strict';
import { decideSetup, satisfies, setupActionOf, versionFromFile, versionNumbers, type Toolchain } from '../../src/core/github/toolchains';

describe('GitHub setup actions: this machine\'s toolchain when its version fits', () => {
  it('reads the versions tools print', () => {
    assert.deepEqual(versionNumbers('v20.20.2'), [20, 20, 2]);
    assert.deepEqual(versionNumbers('1.22.3'), [1, 22, 3]);
    assert.deepEqual(versionNumbers('1.8.0_292', 'java'), [8, 0, 292]);
    assert.deepEqual(versionNumbers('17.0.15', 'java'), [17, 0, 15]);
  });

  const cases: [Toolchain, string, string, boolean][] = [
    ['node', '20', '20.20.2', true],
    ['node', '20.x', '20.20.2', true],
    ['node', 'v20', '20.20.2', true],
    ['node', '20.20', '20.20.2', true],
    ['node', '20.19', '20.20.2', false],
    ['node', '20.20.2', '20.20.2', true],
    ['node', '24', '20.20.2', false],
    ['node', '18', '20.20.2', false],
    ['node', '>=18', '20.20.2', true],
    ['node', '>= 18 <21', '20.20.2', true],
    ['node', '>20', '20.20.2', false],
    ['node', '<=20', '20.20.2', true],
    ['node', '^20.10.0', '20.20.2', true],
    ['node', '^18', '20.20.2', false],
    ['node', '~20.20.0', '20.20.2', true],
    ['node', '~20.19', '20.20.2', false],
    ['node', '18 || 20', '20.20.2', true],
    ['node', 'lts/*', '20.20.2', true],
    ['node', 'lts/*', '21.7.0', false],
    ['node', 'lts/iron', '20.20.2', true],
    ['node', 'lts/jod', '20.20.2', false],
    ['node', 'latest', '20.20.2', true],
    ['node', 'node', '20.20.2', true],
    ['python', '3.11', '3.11.7', true],
    ['python', '3.x', '3.11.7', true],
    ['python', '3.12', '3.11.7', false],
    ['python', '>=3.9', '3.11.7', true],
    ['go', '1.22', '1.22.3', true],
    ['go', '1.21', '1.22.3', false],
    ['go', '^1.21', '1.22.3', true],
    ['go', 'stable', '1.22.3', true],
    ['java', '17', '17.0.15', true],
    ['java', '21', '17.0.15', false],
    ['java', '1.8', '1.8.0_292', true],
    ['java', '8', '1.8.0_292', true],
  ];
  for (const [tool, want, local, ok] of cases) {
    it(`${tool} ${want} on ${local}: ${ok ? 'fits' : 'does not fit'}`, () => {
      assert.equal(satisfies(tool, want, local)?.ok, ok);
    });
  }

  it('notes the matches that are not exact, and reads no version it does not know', () => {
    assert.equal(satisfies('node', 'lts/*', '20.20.2')?.note, '"lts/*" is taken as this machine\'s Node 20.20.2 (an LTS line)');
    assert.equal(satisfies('node', 'latest', '20.20.2')?.note, '"latest" is taken as this machine\'s Node 20.20.2');
    assert.equal(satisfies('node', '20', '20.20.2')?.note, null);
    assert.equal(satisfies('python', 'pypy3.9', '3.11.7'), null);
  });

  it('reads simple version files', () => {
    assert.equal(versionFromFile('node', '.nvmrc', '# pinned\nv20.11.1\n'), 'v20.11.1');
    assert.equal(versionFromFile('node', 'package.json', '{"engines":{"node":">=18"}}'), '>=18');
    assert.equal(versionFromFile('node', 'package.json', '{"volta":{"node":"20.1.0"},"engines":{"node":">=18"}}'), '20.1.0');
    assert.equal(versionFromFile('node', 'package.json', '{"name":"x"}'), null);
    assert.equal(versionFromFile('node', '.tool-versions', 'python 3.11.7\nnodejs 20.1.0\n'), '20.1.0');
    assert.equal(versionFromFile('python', '.python-version', '3.11\n'), '3.11');
    assert.equal(versionFromFile('python', 'pyproject.toml', '[project]\nname = "x"\nrequires-python = ">=3.9"\n'), '>=3.9');
    assert.equal(versionFromFile('go', 'go.mod', 'module x\n\ngo 1.22\n\ntoolchain go1.22.3\n'), '1.22.3');
    assert.equal(versionFromFile('go', 'go.mod', 'module x\n\ngo 1.21\n'), '1.21');
    assert.equal(versionFromFile('java', '.sdkmanrc', 'java=17.0.2-tem\n'), '17.0.2');
  });

  it('decides a setup step: this machine\'s version with a note, or unsupported naming both versions', () => {
    const node = setupActionOf('actions/setup-node')!;
    assert.equal(setupActionOf('actions/setup-dotnet'), null);
    assert.deepEqual(decideSetup(node, 'actions/setup-node@v4', ['20'], '20.20.2'), {
      ok: true,
      note: 'uses this machine\'s Node 20.20.2 (asks for 20); nothing is installed',
      outputs: { 'node-version': 'v20.20.2' },
    });
    assert.deepEqual(decideSetup(node, 'actions/setup-node@v4', ['24'], '20.20.2'), { unsupported: 'actions/setup-node@v4 asks for Node 24, this machine has 20.20.2' });
    assert.deepEqual(decideSetup(setupActionOf('actions/setup-go')!, 'actions/setup-go@v5', ['1.22'], null), { unsupported: 'actions/setup-go@v5 asks for Go 1.22, and this machine has no go' });
    assert.deepEqual(decideSetup(setupActionOf('actions/setup-python')!, 'actions/setup-python@v5', [], null), { unsupported: 'actions/setup-python@v5 needs Python, and this machine has no python3' });
    assert.deepEqual(decideSetup(node, 'actions/setup-node@v4', [], '20.20.2', ['node-version-file .nvmrc: no such file, so the version is not checked']), {
      ok: true,
      note: 'uses this machine\'s Node 20.20.2 (no version asked); nothing is installed; node-version-file .nvmrc: no such file, so the version is not checked',
      outputs: { 'node-version': 'v20.20.2' },
    });
    assert.deepEqual(decideSetup(setupActionOf('actions/setup-python')!, 'actions/setup-python@v5', ['pypy3.9'], '3.11.7'), {
      unsupported: 'actions/setup-python@v5 asks for Python pypy3.9, which a local run cannot compare with this machine\'s 3.11.7',
    });
  });
});
