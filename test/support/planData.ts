// Plans as data (issue #10 item 0): a workflow that uses every GitHub step kind, and a check that a value is JSON
// data (no functions, class instances, Maps, undefined) — what survives JSON.stringify/parse unchanged.
import * as assert from 'node:assert/strict';

/** The places in `value` that are not JSON data, as paths (empty: it is data). */
export function notData(value: unknown, at = '$'): string[] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${at}: ${value}`];
  if (typeof value === 'undefined') return [`${at}: undefined`];
  if (typeof value === 'function') return [`${at}: a function`];
  if (typeof value !== 'object') return [`${at}: a ${typeof value}`];
  if (Array.isArray(value)) return value.flatMap((v, i) => notData(v, `${at}[${i}]`));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return [`${at}: an instance of ${(value as object).constructor?.name ?? 'a class'}`];
  return Object.entries(value).flatMap(([k, v]) => notData(v, `${at}.${k}`));
}

/** Asserts the plan is data: nothing but JSON values, and equal to its JSON round trip. */
export function assertData(plan: unknown, what: string): void {
  assert.deepEqual(notData(plan), [], `${what}: the plan is not data`);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(plan)), plan, `${what}: the plan changes in a JSON round trip`);
}

/** A repository whose workflow uses every kind of GitHub step and job the planner makes. */
export const EVERY_KIND: Record<string, string> = {
  '.github/workflows/every.yml': `name: Every kind
on: workflow_dispatch
jobs:
  setup:
    runs-on: ubuntu-latest
    outputs:
      legs: \${{ steps.legs.outputs.legs }}
    steps:
      - uses: actions/checkout@v4
      - id: legs
        run: echo 'legs=["a","b"]' >> "$GITHUB_OUTPUT"
      - name: Env for later steps
        run: echo "FROM_SETUP=yes" >> "$GITHUB_ENV"
      - if: env.FROM_SETUP == 'yes'
        run: echo "setup saw $FROM_SETUP" > setup.out
      - uses: ./.github/actions/greet
        id: greet
        with: { who: data }
      - run: test "\${{ steps.greet.outputs.message }}" = "Hello, data"
      - id: flaky
        continue-on-error: true
        run: exit 3
      - if: steps.flaky.outcome == 'failure'
        run: echo "flaky failed, the job went on" > flaky.out
  legs:
    needs: setup
    runs-on: ubuntu-latest
    strategy:
      matrix:
        leg: \${{ fromJSON(needs.setup.outputs.legs) }}
    steps:
      - run: echo "leg \${{ matrix.leg }}" > "leg-\${{ matrix.leg }}.out"
  call:
    needs: setup
    uses: ./.github/workflows/called.yml
    with:
      word: called
  elsewhere:
    runs-on: ubuntu-latest
    if: false
    steps:
      - uses: acme/node-tool@v1
      - uses: docker://alpine:3
      - uses: actions/setup-node@v4
        with: { node-version: 20 }
      - uses: someone/unknown-action@v1
`,
  '.github/workflows/called.yml': `on:
  workflow_call:
    inputs:
      word: { type: string, required: true }
jobs:
  inner:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ inputs.word }}" > called.out
`,
  '.github/actions/greet/action.yml': `name: greet
inputs:
  who: { required: true }
outputs:
  message:
    value: \${{ steps.say.outputs.message }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: echo "message=Hello, \${{ inputs.who }}" >> "$GITHUB_OUTPUT"
`,
  '.gitlab-ci.yml': `stages: [build, test]
build:
  stage: build
  script:
    - echo built > built.out
  after_script:
    - echo "after build $CI_JOB_STATUS" >> after.out
test:
  stage: test
  script:
    - exit 4
  after_script:
    - echo "after test $CI_JOB_STATUS" >> after.out
excluded:
  stage: test
  rules:
    - if: $NEVER == "yes"
  script:
    - echo never
`,
  'delivery.yml': `version: 1
pipelines:
  local:
    jobs:
      format: { run: 'echo formatted > format.out' }
      audit: { needs: [format], run: 'cat format.out > audit.out' }
`,
};
