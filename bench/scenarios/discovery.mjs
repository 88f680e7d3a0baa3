// Discovery: 500 GitHub Actions workflow files and a .gitlab-ci.yml with 50 local includes, read by
// FolderSources.loadAll() cold in a fresh process — in a first session (nothing kept), and in a later one (the
// import results kept between sessions, as the CLI and the extension keep them, the files unchanged); then
// re-reading one changed workflow file, and one changed include (which re-imports .gitlab-ci.yml with all its
// includes). Reference for the cold load: the YAML library alone parsing the same files (bench/runners/yaml.ts),
// the floor of any load that parses them all.
import fs from 'node:fs';
import path from 'node:path';
import { measureCases, median, row } from '../lib/harness.mjs';
import { repoWith } from '../lib/fixtures.mjs';

export const workflow = (i) => `name: Workflow ${i}
on:
  push:
    branches: [main]
  pull_request:
  workflow_dispatch:
    inputs:
      level: { description: Log level, default: info }
env:
  APP: app-${i}
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      version: \${{ steps.meta.outputs.version }}
    steps:
      - uses: actions/checkout@v4
      - id: meta
        run: echo "version=1.\${{ github.run_number }}.${i}" >> "$GITHUB_OUTPUT"
      - name: Build
        run: |
          echo "building $APP"
          make build LEVEL=\${{ inputs.level }}
  test:
    needs: build
    runs-on: \${{ matrix.os }}
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest, macos-latest]
        node: [18, 20, 22]
        exclude:
          - { os: macos-latest, node: 18 }
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: { node-version: "\${{ matrix.node }}" }
      - run: npm ci && npm test
        env: { CI: "true", VERSION: "\${{ needs.build.outputs.version }}" }
  deploy:
    if: github.ref == 'refs/heads/main' && success()
    needs: [build, test]
    runs-on: ubuntu-latest
    environment: { name: staging, url: "https://staging.example.invalid/${i}" }
    steps:
      - run: ./deploy.sh staging \${{ needs.build.outputs.version }}
`;

const part = (i) => `.template-${i}:
  image: node:20
  before_script: [npm ci]
  variables: { PART: "${i}" }
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

test-${i}:
  extends: .template-${i}
  stage: test
  script:
    - npm test -- --shard=${i}
  artifacts: { paths: [coverage/], expire_in: 1 week }

lint-${i}:
  extends: .template-${i}
  stage: test
  needs: []
  script: [npm run lint]
`;

export default {
  title: 'discovery of 500 workflow files + 50 .gitlab-ci.yml includes',
  async run(ctx) {
    const workflows = ctx.smoke ? 10 : 500;
    const includes = ctx.smoke ? 3 : 50;
    const files = {};
    for (let i = 0; i < workflows; i++) files[`.github/workflows/wf-${String(i).padStart(3, '0')}.yml`] = workflow(i);
    for (let i = 0; i < includes; i++) files[`ci/part-${String(i).padStart(2, '0')}.yml`] = part(i);
    files['.gitlab-ci.yml'] = `stages: [build, test, deploy]\ninclude:\n${Array.from({ length: includes }, (_, i) => `  - local: ci/part-${String(i).padStart(2, '0')}.yml\n`).join('')}build:\n  stage: build\n  script: [make]\ndeploy:\n  stage: deploy\n  script: [./deploy.sh]\n  when: manual\n`;
    const dir = repoWith(path.join(ctx.work, 'discovery'), files);
    const wf = `.github/workflows/wf-${String(Math.floor(workflows / 2)).padStart(3, '0')}.yml`;
    const inc = `ci/part-${String(Math.floor(includes / 2)).padStart(2, '0')}.yml`;
    // The later session's cache: a file changed less than 2 s ago is not kept (sourceCache.ts), so the files must
    // be older than that when the warm-up run fills it.
    // A copy of its own: the first-session case changes and restores files (its reloads), which must not count.
    const kept = repoWith(path.join(ctx.work, 'discovery-kept'), files);
    const cacheFile = path.join(ctx.work, 'discovery-source-cache.json');
    fs.rmSync(cacheFile, { force: true });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    fs.rmSync(path.join(ctx.work, 'discovery-first'), { recursive: true, force: true });
    let firstRuns = 0;
    let checked = null;
    let checkedCached = null;
    const r = await measureCases(ctx, [
      // The first session writes the cache (a new file each run), as the CLI and the extension do.
      { name: 'loadAll', spec: () => ({ cmd: process.execPath, args: [ctx.runners.discovery, dir, wf, inc, '--cache', path.join(ctx.work, 'discovery-first', `${firstRuns++}.json`)], json: true }), after: (x) => (checked = x.json) },
      { name: 'loadAll, cached', spec: () => ({ cmd: process.execPath, args: [ctx.runners.discovery, kept, wf, inc, '--cache', cacheFile, '--no-reload'], json: true }), after: (x) => (checkedCached = x.json) },
      { name: 'yaml', spec: () => ({ cmd: process.execPath, args: [ctx.runners.yaml, dir], json: true }) },
    ]);
    for (const c of [checked, checkedCached]) {
      if (c.pipelines !== workflows + 1 || c.errors > 0) throw new Error(`discovery: ${c.pipelines} pipelines, ${c.errors} errors (${JSON.stringify(c.firstError)})`);
    }
    const cold = r.loadAll.map((x) => x.json.loadAllMs);
    const cached = r['loadAll, cached'].map((x) => x.json.loadAllMs);
    const yaml = r.yaml.map((x) => x.json.ms);
    // Per run: the median of its 5 reloads.
    const reload = r.loadAll.map((x) => median(x.json.reloadMs));
    const reloadInclude = r.loadAll.map((x) => median(x.json.reloadIncludeMs));
    const title = `discovery, ${workflows} workflows + .gitlab-ci.yml with ${includes} includes`;
    return {
      rows: [
        row({ scenario: title, measured: '`loadAll()` cold (in-process), first session', samples: cold, reference: { name: 'the YAML library alone, same files', samples: yaml }, ratio: median(cold) / median(yaml), ratioText: `${(median(cold) / median(yaml)).toFixed(2)}×`, target: '≤ 1.3× the YAML library', met: median(cold) <= 1.3 * median(yaml) }),
        row({ scenario: title, measured: '`loadAll()` cold (in-process), a later session (files unchanged: results kept between sessions)', samples: cached, reference: { name: 'the YAML library alone, same files', samples: yaml }, ratio: median(cached) / median(yaml), ratioText: `${(median(cached) / median(yaml)).toFixed(2)}×`, target: '≤ 1.3× the YAML library', met: median(cached) <= 1.3 * median(yaml) }),
        row({ scenario: title, measured: '`reload()` of one changed workflow', samples: reload, target: '≤ 20 ms', met: median(reload) <= 20 }),
        row({ scenario: title, measured: '`reload()` of one changed include (re-imports .gitlab-ci.yml + all includes)', samples: reloadInclude, target: '', met: null }),
        row({ scenario: title, measured: 'whole process (Node start-up, loadAll, 10 reloads)', samples: r.loadAll.map((x) => x.wallMs), target: '', met: null }),
      ],
      notes: [`${checked.pipelines} pipelines with ${checked.jobs} jobs read`],
    };
  },
};
