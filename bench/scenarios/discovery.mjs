// Discovery: 500 GitHub Actions workflow files and a .gitlab-ci.yml with 50 local includes, read by
// FolderSources.loadAll() cold in a fresh process; then re-reading one changed workflow file, and one changed
// include (which re-imports .gitlab-ci.yml with all its includes). Reference for the cold load: the YAML library
// alone parsing the same files (bench/runners/yaml.ts), the floor of any load that reads them all.
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
    let checked = null;
    const r = await measureCases(ctx, [
      { name: 'loadAll', spec: () => ({ cmd: process.execPath, args: [ctx.runners.discovery, dir, wf, inc], json: true }), after: (x) => (checked = x.json) },
      { name: 'yaml', spec: () => ({ cmd: process.execPath, args: [ctx.runners.yaml, dir], json: true }) },
    ]);
    if (checked.pipelines !== workflows + 1 || checked.errors > 0) throw new Error(`discovery: ${checked.pipelines} pipelines, ${checked.errors} errors (${JSON.stringify(checked.firstError)})`);
    const cold = r.loadAll.map((x) => x.json.loadAllMs);
    const yaml = r.yaml.map((x) => x.json.ms);
    // Per run: the median of its 5 reloads.
    const reload = r.loadAll.map((x) => median(x.json.reloadMs));
    const reloadInclude = r.loadAll.map((x) => median(x.json.reloadIncludeMs));
    const title = `discovery, ${workflows} workflows + .gitlab-ci.yml with ${includes} includes`;
    return {
      rows: [
        row({ scenario: title, measured: '`loadAll()` cold (in-process)', samples: cold, reference: { name: 'the YAML library alone, same files', samples: yaml }, ratio: median(cold) / median(yaml), ratioText: `${(median(cold) / median(yaml)).toFixed(2)}×`, target: '≤ 300 ms cold', met: median(cold) <= 300 }),
        row({ scenario: title, measured: '`reload()` of one changed workflow', samples: reload, target: '≤ 20 ms', met: median(reload) <= 20 }),
        row({ scenario: title, measured: '`reload()` of one changed include (re-imports .gitlab-ci.yml + all includes)', samples: reloadInclude, target: '', met: null }),
        row({ scenario: title, measured: 'whole process (Node start-up, loadAll, 10 reloads)', samples: r.loadAll.map((x) => x.wallMs), target: '', met: null }),
      ],
      notes: [`${checked.pipelines} pipelines with ${checked.jobs} jobs read`],
    };
  },
};
