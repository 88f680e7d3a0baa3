// A local run's event, payload, inputs and secrets, checked before anything runs: which inputs an event takes,
// each wrong value with where its input is declared, payload and dotenv files with located errors, and options given to a command they do not apply to.
import * as assert from 'node:assert/strict';
import { misplacedOption } from '../../src/cli/optionScope';
import { checkEventName, checkRunInputs, declaredInputs, parseEventPayload, payloadInputs, runParameters } from '../../src/core/github/runInputs';
import { readWorkflow, type Workflow } from '../../src/core/github/workflow';
import { parseDotenv } from '../../src/core/secrets';

const FILE = '.github/workflows/release.yml';

function workflow(text: string): Workflow {
  const { workflow: wf, f } = readWorkflow(FILE, text);
  assert.ok(wf, JSON.stringify(f.problems));
  return wf;
}

const RELEASE = workflow(`on:
  push:
  workflow_dispatch:
    inputs:
      version:
        description: the version to release
        required: true
      dry-run:
        type: boolean
        default: true
      level:
        type: choice
        options: [patch, minor, major]
        default: patch
      count:
        type: number
        required: true
        default: 3
  workflow_call:
    inputs:
      target:
        type: string
        required: true
    secrets:
      DEPLOY_KEY:
        required: true
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ secrets.NPM_TOKEN }} \${{ secrets['DEPLOY_KEY'] }} \${{ secrets.GITHUB_TOKEN }} \${{ secrets.NPM_TOKEN }}"
`);

describe('local runs: events, inputs and secrets of a workflow', () => {
  it('takes the inputs of the event: workflow_dispatch or workflow_call, none for other events', () => {
    assert.deepEqual(declaredInputs(RELEASE, 'workflow_dispatch')?.map((d) => d.name), ['version', 'dry-run', 'level', 'count']);
    assert.deepEqual(declaredInputs(RELEASE, 'workflow_call')?.map((d) => d.name), ['target']);
    assert.equal(declaredInputs(RELEASE, 'push'), null);
    assert.equal(declaredInputs(workflow('on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{ run: echo }]\n'), 'workflow_dispatch'), null);
    assert.deepEqual(declaredInputs(workflow('on: workflow_dispatch\njobs:\n  a:\n    runs-on: x\n    steps: [{ run: echo }]\n'), 'workflow_dispatch'), []);
  });

  it('accepts what fits: required ones given, defaults for the rest', () => {
    assert.deepEqual(checkRunInputs(RELEASE, 'workflow_dispatch', { version: '1.2.0' }), []);
    assert.deepEqual(checkRunInputs(RELEASE, 'workflow_dispatch', { version: '1.2.0', 'dry-run': 'false', level: 'major', count: '-2.5' }), []);
    assert.deepEqual(checkRunInputs(RELEASE, 'workflow_call', { target: 'prod' }), []);
    assert.deepEqual(checkRunInputs(RELEASE, 'push', {}), []);
  });

  it('names each wrong input with the file:line:column of its declaration', () => {
    const cases: [string, string, Record<string, string>, string[]][] = [
      ['missing required', 'workflow_dispatch', {}, [`${FILE}:5:7: input "version" is required and has no default: give it (--input version=VALUE)`]],
      ['required, given empty', 'workflow_dispatch', { version: '' }, [`${FILE}:5:7: input "version" is required and must not be empty`]],
      ['boolean', 'workflow_dispatch', { version: '1', 'dry-run': 'yes' }, [`${FILE}:8:7: input "dry-run" is a boolean: true or false, not "yes"`]],
      ['choice', 'workflow_dispatch', { version: '1', level: 'huge' }, [`${FILE}:11:7: input "level" must be one of patch, minor, major, not "huge"`]],
      ['number', 'workflow_dispatch', { version: '1', count: 'many' }, [`${FILE}:15:7: input "count" is a number, not "many"`]],
      ['unknown, with a hint', 'workflow_dispatch', { version: '1', dryrun: 'true' }, [`${FILE}: unknown input "dryrun" (did you mean "dry-run"?): on.workflow_dispatch.inputs declares version, dry-run, level, count`]],
      ['workflow_call: its own inputs', 'workflow_call', { version: '1' }, [
        `${FILE}: unknown input "version": on.workflow_call.inputs declares target`,
        `${FILE}:21:7: input "target" is required and has no default: give it (--input target=VALUE)`,
      ]],
      ['an event without inputs', 'push', { version: '1' }, ['input "version" cannot be given: a push event carries no inputs (inputs are for the events workflow_dispatch and workflow_call)']],
    ];
    for (const [what, event, given, errors] of cases) assert.deepEqual(checkRunInputs(RELEASE, event, given), errors, what);
    const callOnly = workflow('on:\n  workflow_call:\n    inputs:\n      x: { type: string }\njobs:\n  a:\n    runs-on: x\n    steps: [{ run: echo }]\n');
    assert.deepEqual(checkRunInputs(callOnly, 'workflow_dispatch', { x: '1' }), [
      `input "x" cannot be given: ${FILE} has no workflow_dispatch (its workflow_call inputs are given with the event workflow_call)`,
    ]);
  });

  it('checks event names, with the nearest one', () => {
    assert.equal(checkEventName('pull_request'), null);
    assert.equal(checkEventName('workflow_call'), null);
    assert.equal(checkEventName('pul_request'), 'unknown event "pul_request" (did you mean "pull_request"?): an event is a name such as push, pull_request or workflow_dispatch');
  });

  it('lists what the editor asks for and the secrets the file reads (once each, without the GitHub token)', () => {
    const p = runParameters(RELEASE);
    assert.deepEqual(p.secrets, ['NPM_TOKEN', 'DEPLOY_KEY']);
    assert.deepEqual(
      p.inputs.map((i) => [i.name, i.type, i.required, i.default, i.options, i.location?.line]),
      [
        ['version', 'string', true, null, [], 5],
        ['dry-run', 'boolean', false, 'true', [], 8],
        ['level', 'choice', false, 'patch', ['patch', 'minor', 'major'], 11],
        ['count', 'number', true, '3', [], 15],
      ],
    );
  });

  it('reads an event payload: a JSON object, or an error with its line and column', () => {
    assert.deepEqual(parseEventPayload('{"pull_request": {"number": 7}}', 'pr.json'), { payload: { pull_request: { number: 7 } } });
    const bad = parseEventPayload('{\n  "pull_request": {\n    "number": 7,\n  }\n}\n', 'pr.json');
    assert.ok('error' in bad);
    assert.match(bad.error, /^pr\.json:4:3: not valid JSON: /);
    assert.deepEqual(parseEventPayload('{\n  "a": ', 'pr.json'), { error: 'pr.json:2:8: not valid JSON: Unexpected end of JSON input' });
    assert.deepEqual(parseEventPayload('[1]', 'a.json'), { error: 'a.json: an event payload is a JSON object ({ … }), not an array' });
    assert.deepEqual(parseEventPayload('"x"', 'a.json'), { error: 'a.json: an event payload is a JSON object ({ … }), not a string' });
    assert.deepEqual(parseEventPayload('{"inputs": [1]}', 'a.json'), { error: 'a.json: "inputs" must be an object of input names and values' });
    assert.deepEqual(payloadInputs({ inputs: { a: 'x', b: true, c: 3 } }), { a: 'x', b: 'true', c: '3' });
  });

  it('reads a dotenv file of secrets: comments, export, quotes, multi-line values; errors name the line', () => {
    const text = [
      '# deploy secrets',
      '',
      'NPM_TOKEN=abc123  # a comment',
      'export API_KEY = "k=1 # not a comment"',
      "RAW='a\\nb $X'",
      'ESCAPED="line1\\nline2\\t\\"q\\""',
      'KEY="-----BEGIN KEY-----',
      'AAAA',
      '-----END KEY-----"',
      'EMPTY=',
    ].join('\n');
    assert.deepEqual(parseDotenv(text, '.secrets'), {
      values: {
        NPM_TOKEN: 'abc123',
        API_KEY: 'k=1 # not a comment',
        RAW: 'a\\nb $X',
        ESCAPED: 'line1\nline2\t"q"',
        KEY: '-----BEGIN KEY-----\nAAAA\n-----END KEY-----',
        EMPTY: '',
      },
    });
    assert.deepEqual(parseDotenv('A=1\njust words\n', 's.env'), { error: 's.env:2: expected NAME=VALUE, a # comment or a blank line' });
    assert.deepEqual(parseDotenv('A=1\n9X=2\n', 's.env'), { error: 's.env:2: "9X" is not a secret name (letters, digits and _, not starting with a digit)' });
    assert.deepEqual(parseDotenv('A="open\nB=2\n', 's.env'), { error: 's.env:1: the value of A opens a " quote that is never closed' });
    assert.deepEqual(parseDotenv('A="x" y\n', 's.env'), { error: "s.env:1: unexpected text after the closing quote of A's value" });
  });
});

describe('CLI: options given to a command they do not apply to', () => {
  it('refuses them, naming the commands that take them', () => {
    assert.equal(misplacedOption('deploy', ['cwd', 'event']), 'deploy: --event applies to run, not to deploy');
    assert.equal(misplacedOption('pipelines', ['secret']), 'pipelines: --secret applies to run, not to pipelines');
    assert.equal(misplacedOption('envs', ['input']), 'envs: --input applies to run, remote, not to envs');
    assert.equal(misplacedOption('run', ['ref']), 'run: --ref applies to deploy, diff, remote, not to run');
    for (const [command, options] of [
      ['run', ['event', 'event-payload', 'input', 'secret', 'secret-file', 'needs', 'json', 'cwd']],
      ['remote', ['input', 'ref', 'wait', 'json']],
      ['rollback', ['to', 'yes', 'message']],
      ['history', ['limit']],
    ] as const) {
      assert.equal(misplacedOption(command, options), null, command);
    }
  });
});
