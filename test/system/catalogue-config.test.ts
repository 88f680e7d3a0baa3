// Bad-input catalogue, part 1: pipeline and environment files (delivery.yml, GitHub Actions, GitLab CI), each run
// through the real CLI. Every case states what a user sees (exit status and a located message: file:line:column),
// that nothing ran (no job, deploy or injected command left its marker), and that nothing was lost (the history
// made before the case still reads). Files are written by the test; the 20 MB and binary ones are generated.
import * as assert from 'node:assert/strict';
import { cleanupTempDirs } from '../support/tmp';
import { assertNothingLost, caseFolder, cli, inBatches, markers, seededStateRoot, type CliResult } from '../support/catalogueSupport';
import { useSharedWorkspaces } from '../support/workspaceMode';

interface ConfigCase {
  name: string;
  files: Record<string, string | Buffer>;
  /** CLI arguments (default: run the pipeline `ci`). */
  args?: string[];
  /** Variables for the CLI on top of this process's. */
  env?: Record<string, string>;
  code: number;
  /** Each must match the CLI's stderr. */
  says: RegExp[];
  /** Markers the supported part of the file may leave; default none: nothing ran. */
  ran?: string[];
}

/** delivery.yml with one pipeline `ci` whose jobs are `jobs` (its first job is on line 5). */
const ci = (jobs: string, pipelineExtra = '') => ({ 'delivery.yml': `version: 1\npipelines:\n  ci:\n${pipelineExtra}    jobs:\n${jobs}` });
const A = '      a: { run: "touch ran-a" }\n';
const env = (envs: string) => ({ 'delivery.yml': `version: 1\npipelines:\n  ci:\n    jobs:\n${A}environments:\n${envs}` });
const gh = (workflow: string) => ({ '.github/workflows/ci.yml': `on: push\njobs:\n${workflow}` });
const gl = (text: string) => ({ '.gitlab-ci.yml': text });
const NOTHING_RUN = /nothing was run$/m;

/** A file of 20 MB that starts like a valid delivery.yml. */
function twentyMegabytes(): string {
  const head = `version: 1\npipelines:\n  ci:\n    jobs:\n${A}`;
  return head + `# ${'x'.repeat(1022)}\n`.repeat(20 * 1024);
}

const CASES: ConfigCase[] = [
  // --- delivery.yml: YAML that does not parse ---
  { name: 'malformed YAML: an unclosed flow mapping', files: ci('      a: { run: "touch ran-a"\n'), code: 2, says: [/^delivery\.yml:6:1: error: Flow map in block collection must be sufficiently indented and end with a \}/m, /no pipeline "ci" could be read \(1 error above\); nothing was run/] },
  { name: 'malformed YAML: a tab used for indentation', files: ci('\ta: { run: "touch ran-a" }\n'), code: 2, says: [/^delivery\.yml:5:1: error: Tabs are not allowed as indentation/m, NOTHING_RUN] },
  { name: 'malformed YAML: mapping items at different columns', files: ci('      a:\n        run: "touch ran-a"\n       needs: [b]\n'), code: 2, says: [/^delivery\.yml:7:1: error: All mapping items must start at the same column/m, NOTHING_RUN] },
  { name: 'malformed YAML: two documents in one file', files: { 'delivery.yml': `version: 1\npipelines:\n  ci:\n    jobs:\n${A}---\nversion: 1\n` }, code: 2, says: [/^delivery\.yml:6:1: error: Source contains multiple documents/m, NOTHING_RUN] },
  { name: 'a YAML alias "billion laughs" bomb is not expanded', files: ci(A, `    env:\n      A: &a [x, x, x, x, x, x, x, x, x]\n      B: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n      C: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n      D: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`), code: 2, says: [/^delivery\.yml:5:13: error: pipeline "ci": "env\.A" must be a string, number or boolean, not a list/m, /^delivery\.yml:8:10: error: pipeline "ci": "env\.D" must be/m, NOTHING_RUN] },
  // --- delivery.yml: unknown keys ---
  { name: 'unknown top-level key, with a suggestion', files: { 'delivery.yml': `version: 1\npipeline:\n  ci:\n    jobs:\n${A}` }, code: 2, says: [/^delivery\.yml:2:1: error: delivery\.yml: unknown key "pipeline" \(did you mean "pipelines"\?\)/m, /^delivery\.yml:1:1: error: delivery\.yml: define "pipelines", "environments" or both/m, NOTHING_RUN] },
  { name: 'unknown pipeline key', files: { 'delivery.yml': `version: 1\npipelines:\n  ci:\n    jobz:\n${A}` }, code: 2, says: [/^delivery\.yml:4:5: error: pipeline "ci": unknown key "jobz" \(did you mean "jobs"\?\)/m, NOTHING_RUN] },
  { name: 'unknown job key, with a suggestion', files: ci('      a: { run: "touch ran-a", neds: [b] }\n      b: { run: "touch ran-b" }\n'), code: 2, says: [/^delivery\.yml:5:32: error: job "a": unknown key "neds" \(did you mean "needs"\?\)/m, NOTHING_RUN] },
  { name: 'unknown step key', files: ci('      a:\n        steps:\n          - { name: one, rn: "touch ran-a" }\n'), code: 2, says: [/^delivery\.yml:7:26: error: job "a", step 1: unknown key "rn" \(did you mean "run"\?\)/m, NOTHING_RUN] },
  // --- delivery.yml: wrong types ---
  { name: 'wrong type: retries is a word', files: ci('      a: { run: "touch ran-a", retries: many }\n'), code: 2, says: [/^delivery\.yml:5:41: error: job "a": "retries" must be a whole number from 0 to 10, not the string "many"/m, NOTHING_RUN] },
  { name: 'wrong type: allowFailure is a number', files: ci('      a: { run: "touch ran-a", allowFailure: 3 }\n'), code: 2, says: [/^delivery\.yml:5:46: error: job "a": "allowFailure" must be true or false, not number 3/m, NOTHING_RUN] },
  { name: 'wrong type: jobs is a list', files: ci('      - a: { run: "touch ran-a" }\n'), code: 2, says: [/^delivery\.yml:5:7: error: pipeline "ci": "jobs" must be a mapping, not a list/m, NOTHING_RUN] },
  { name: 'wrong type: an env value is a mapping', files: ci(A, '    env: { A: { b: 1 } }\n'), code: 2, says: [/^delivery\.yml:4:15: error: pipeline "ci": "env\.A" must be a string, number or boolean, not a mapping/m, NOTHING_RUN] },
  { name: 'wrong type: needs is a number', files: ci('      a: { run: "touch ran-a", needs: 5 }\n'), code: 2, says: [/^delivery\.yml:5:39: error: job "a": "needs" must be/m, NOTHING_RUN] },
  { name: 'wrong type: run is a list', files: ci('      a: { run: ["touch ran-a"] }\n'), code: 2, says: [/^delivery\.yml:5:17: error: job "a": "run" must be a string, not a list/m, NOTHING_RUN] },
  { name: 'wrong value: when is not one of the four rules', files: ci('      a: { run: "touch ran-a", when: sometimes }\n'), code: 2, says: [/^delivery\.yml:5:38: error: job "a": "when" must be one of on_success, on_failure, always, manual/m, NOTHING_RUN] },
  { name: 'a step that is a string, not a mapping', files: ci('      a: { steps: ["touch ran-a"] }\n'), code: 2, says: [/^delivery\.yml:5:20: error: job "a", step 1 must be a mapping, not the string "touch ran-a"/m, NOTHING_RUN] },
  { name: 'a job with neither run nor steps', files: ci('      a: { stage: build }\n'), code: 2, says: [/^delivery\.yml:5:7: error: job "a": add "run" \(a script\) or "steps"/m, NOTHING_RUN] },
  { name: 'a working directory outside the workspace', files: ci('      a: { run: "touch ran-a", cwd: ../.. }\n'), code: 2, says: [/^delivery\.yml:5:37: error: job "a": "cwd" must be a path inside the workspace folder, not "\.\.\/\.\."/m, NOTHING_RUN] },
  // --- delivery.yml: duplicate ids ---
  { name: 'duplicate job ids', files: ci(`${A}      a: { run: "touch ran-b" }\n`), code: 2, says: [/^delivery\.yml:6:7: error: Map keys must be unique/m, NOTHING_RUN] },
  { name: 'duplicate pipeline ids', files: { 'delivery.yml': `version: 1\npipelines:\n  ci:\n    jobs:\n${A}  ci:\n    jobs:\n      b: { run: "touch ran-b" }\n` }, code: 2, says: [/^delivery\.yml:6:3: error: Map keys must be unique/m, NOTHING_RUN] },
  { name: 'duplicate environment ids', files: env('  staging: {}\n  staging: {}\n'), code: 2, says: [/^delivery\.yml:8:3: error: Map keys must be unique/m, NOTHING_RUN] },
  // --- delivery.yml: needs ---
  { name: 'needs cycle of three jobs', files: ci('      a: { run: "touch ran-a", needs: [c] }\n      b: { run: "touch ran-b", needs: [a] }\n      c: { run: "touch ran-c", needs: [b] }\n'), code: 2, says: [/^delivery\.yml:5:40: error: jobs form a cycle through "needs": a → c → b → a/m, NOTHING_RUN] },
  { name: 'needs cycle of two jobs beside a free job', files: ci('      a: { run: "touch ran-a", needs: [b] }\n      b: { run: "touch ran-b", needs: [a] }\n      free: { run: "touch ran-free" }\n'), code: 2, says: [/^delivery\.yml:5:40: error: jobs form a cycle through "needs": a → b → a/m, NOTHING_RUN] },
  { name: 'a job that needs itself', files: ci('      a: { run: "touch ran-a", needs: [a] }\n'), code: 2, says: [/^delivery\.yml:5:40: error: job "a" needs itself/m, NOTHING_RUN] },
  { name: 'needs a job that does not exist', files: ci('      a: { run: "touch ran-a", needs: [ghost] }\n'), code: 2, says: [/^delivery\.yml:5:40: error: job "a" needs "ghost", which is not a job of pipeline "ci"/m, NOTHING_RUN] },
  { name: 'a stage that the stages list lacks', files: ci('      a: { run: "touch ran-a", stage: test }\n', '    stages: [build]\n'), code: 2, says: [/^delivery\.yml:6:7: error: job "a": stage "test" is not listed in the pipeline's stages \(build\)/m, NOTHING_RUN] },
  // --- delivery.yml: durations ---
  { name: 'bad duration: words', files: ci('      a: { run: "touch ran-a", timeout: 10 minutes }\n'), code: 2, says: [/^delivery\.yml:5:41: error: job "a": "timeout" must be a duration such as 30s, 10m or 1h30m, not the string "10 minutes"/m, NOTHING_RUN] },
  { name: 'bad duration: negative', files: ci('      a: { run: "touch ran-a", timeout: -5s }\n'), code: 2, says: [/^delivery\.yml:5:41: error: job "a": "timeout" must be a duration .* not the string "-5s"/m, NOTHING_RUN] },
  { name: 'bad duration: zero', files: ci('      a: { run: "touch ran-a", timeout: 0s }\n'), code: 2, says: [/^delivery\.yml:5:41: error: job "a": "timeout" must be a duration .* not the string "0s"/m, NOTHING_RUN] },
  { name: 'bad duration: longer than a timer can wait (it would fire at once)', files: ci('      a: { run: "touch ran-a", timeout: 30d }\n'), code: 2, says: [/^delivery\.yml:5:41: error: job "a": "timeout" must be at most 24 days, not the string "30d"/m, NOTHING_RUN] },
  // --- delivery.yml: the file itself ---
  { name: 'an empty file', files: { 'delivery.yml': '' }, code: 2, says: [/^delivery\.yml:1:1: error: delivery\.yml is empty: add "version: 1"/m, /no pipeline "ci" could be read/] },
  { name: 'a file of comments only', files: { 'delivery.yml': '# nothing yet\n\n' }, code: 2, says: [/^delivery\.yml:1:1: error: delivery\.yml is empty/m, NOTHING_RUN] },
  { name: 'a 20 MB file is refused unread', files: { 'delivery.yml': twentyMegabytes() }, code: 2, says: [/^delivery\.yml:1:1: error: delivery\.yml is too large to be a pipeline file \(20 MB; the limit is 4 MB\)/m, NOTHING_RUN] },
  { name: 'a binary file (NUL bytes)', files: { 'delivery.yml': Buffer.concat([Buffer.from('version: 1\n'), Buffer.from([0, 1, 2, 0xff, 0]), Buffer.from(`\npipelines:\n  ci:\n    jobs:\n${A}`)]) }, code: 2, says: [/^delivery\.yml:1:1: error: file is binary \(contains NUL bytes\), not YAML/m, NOTHING_RUN] },
  { name: 'a non-UTF-8 file (Latin-1 é)', files: { 'delivery.yml': Buffer.from(`version: 1\npipelines:\n  ci:\n    name: Caf\xe9\n    jobs:\n${A}`, 'latin1') }, code: 2, says: [/^delivery\.yml:4:14: error: file is not valid UTF-8/m, NOTHING_RUN] },
  { name: 'a UTF-16 file', files: { 'delivery.yml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`version: 1\npipelines:\n  ci:\n    jobs:\n${A}`, 'utf16le')]) }, code: 2, says: [/^delivery\.yml:1:1: error: file is binary \(contains NUL bytes\), not YAML/m, NOTHING_RUN] },
  { name: 'an unsupported version', files: { 'delivery.yml': `version: 2\npipelines:\n  ci:\n    jobs:\n${A}` }, code: 2, says: [/^delivery\.yml:1:10: error: delivery\.yml: unsupported version number 2; this extension reads version 1/m, NOTHING_RUN] },
  { name: 'no version', files: { 'delivery.yml': `pipelines:\n  ci:\n    jobs:\n      a: { run: "touch ran-a" }\n` }, code: 2, says: [/^delivery\.yml:1:1: error: delivery\.yml: missing required key "version"/m, NOTHING_RUN] },
  // --- delivery.yml: ids with shell metacharacters are refused, never run ---
  { name: 'pipeline id $(touch pwned)', files: { 'delivery.yml': `version: 1\npipelines:\n  "$(touch pwned)":\n    jobs:\n${A}` }, args: ['run', '$(touch pwned)'], code: 2, says: [/^delivery\.yml:3:3: error: pipeline id "\$\(touch pwned\)" may contain only letters, digits, "_", "\." and "-"/m, NOTHING_RUN] },
  { name: 'job id with a semicolon', files: ci('      "a;touch pwned": { run: "touch ran-a" }\n'), code: 2, says: [/^delivery\.yml:5:7: error: job id "a;touch pwned" may contain only/m, NOTHING_RUN] },
  { name: 'job id with quotes', files: ci(`      "a'\\"b": { run: "touch ran-a" }\n`), code: 2, says: [/^delivery\.yml:5:7: error: job id "a'"b" may contain only/m, NOTHING_RUN] },
  { name: 'job id with a newline', files: ci('      "a\\ntouch pwned": { run: "touch ran-a" }\n'), code: 2, says: [/^delivery\.yml:5:7: error: job id "a\ntouch pwned" may contain only/m, NOTHING_RUN] },
  // --- delivery.yml: environments (checked before anything is probed or deployed) ---
  { name: 'environment id with shell metacharacters', files: env('  "prod;touch pwned": { deploy: { command: "touch ran-d" } }\n'), args: ['deploy', 'prod;touch pwned', '--yes'], code: 2, says: [/^delivery\.yml:7:3: error: environment id "prod;touch pwned" may contain only/m, /nothing was deployed/] },
  { name: 'environment with two deploy methods', files: env('  staging:\n    deploy: { command: "touch ran-d", gitPush: { remote: "file:///nowhere.git" } }\n'), args: ['deploy', 'staging', '--yes'], code: 2, says: [/^delivery\.yml:8:39: error: environment "staging": deploy: use exactly one of command, ssh, gitPush, [^\n]*, not command and gitPush/m, /delivery\.yml has 1 error; nothing was deployed/] },
  { name: 'ssh host with shell metacharacters', files: env('  edge:\n    deploy: { ssh: { host: "h;touch pwned" }, run: "touch ran-d" }\n'), args: ['deploy', 'edge', '--yes'], code: 2, says: [/^delivery\.yml:8:28: error: environment "edge": deploy: ssh: "host" is not a valid host name: "h;touch pwned"/m, /nothing was deployed/] },
  { name: 'promotesFrom names no environment', files: env('  qa:\n    promotesFrom: ghost\n    deploy: { command: "touch ran-d" }\n'), args: ['promote', 'qa', '--yes'], code: 2, says: [/^delivery\.yml:8:19: error: environment "qa": promotesFrom names "ghost", which is not an environment in delivery\.yml/m, /nothing was deployed/] },
  { name: 'a deploy pipeline that does not exist', files: env('  qa:\n    deploy: { pipeline: nope, command: "touch ran-d" }\n'), args: ['deploy', 'qa', '--yes'], code: 2, says: [/^delivery\.yml:7:3: error: environment "qa": deploy pipeline "nope" is not a pipeline in delivery\.yml/m, /nothing was deployed/] },
  { name: 'a probe timeout longer than a timer can wait', files: env('  qa:\n    version: { command: "touch ran-v; git rev-parse HEAD", timeout: 100000h }\n'), args: ['envs'], code: 2, says: [/^delivery\.yml:8:69: error: environment "qa": version: "timeout" must be at most 24 days, not the string "100000h"/m, /nothing was checked/] },
  // --- GitHub Actions workflows ---
  { name: 'GitHub: malformed YAML', files: gh('  a:\n    runs-on: ubuntu-latest\n    steps: [ { run: touch ran-a }\n'), code: 2, says: [/^\.github\/workflows\/ci\.yml:\d+:\d+: error: /m, /no pipeline "ci" could be read/] },
  { name: 'GitHub: needs cycle', files: gh('  a:\n    runs-on: ubuntu-latest\n    needs: [b]\n    steps: [{ run: touch ran-a }]\n  b:\n    runs-on: ubuntu-latest\n    needs: [a]\n    steps: [{ run: touch ran-b }]\n'), code: 2, says: [/^\.github\/workflows\/ci\.yml:3:3: error: jobs need each other in a cycle: a → b → a/m, NOTHING_RUN] },
  { name: 'GitHub: needs a job that does not exist', files: gh('  a:\n    runs-on: ubuntu-latest\n    needs: ghost\n    steps: [{ run: touch ran-a }]\n'), code: 2, says: [/^\.github\/workflows\/ci\.yml:5:12: error: job "a" needs "ghost", which is not a job of this workflow/m, NOTHING_RUN] },
  { name: 'GitHub: an expression that does not parse', files: gh('  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: touch ran-a ${{ foo( }}\n'), code: 2, says: [/^\.github\/workflows\/ci\.yml:6:\d+: error: expression "foo\(": unexpected end of expression/m, NOTHING_RUN] },
  { name: 'GitHub: a job without steps (misspelt key)', files: gh('  a:\n    runs-on: ubuntu-latest\n    stepz: [{ run: touch ran-a }]\n'), code: 2, says: [/^\.github\/workflows\/ci\.yml:4:5: error: job "a": missing "steps" \(or "uses" to call a reusable workflow\)/m, NOTHING_RUN] },
  { name: 'GitHub: a job in a container is unsupported locally', files: gh('  a:\n    runs-on: ubuntu-latest\n    container: node:20\n    steps: [{ run: touch ran-a }]\n'), env: { DELIVERY_CONTAINER_ENGINE: '/nonexistent/docker' }, code: 1, says: [/^a UNSUPPORTED \(GitHub container node:20 needs a container engine: \/nonexistent\/docker is not an executable/m] },
  { name: 'GitHub: a job with service containers is unsupported locally', files: gh('  a:\n    runs-on: ubuntu-latest\n    services: { db: { image: postgres } }\n    steps: [{ run: touch ran-a }]\n'), env: { DELIVERY_CONTAINER_ENGINE: '/nonexistent/docker' }, code: 1, says: [/^a UNSUPPORTED \(services postgres needs a container engine: \/nonexistent\/docker is not an executable/m] },
  { name: 'GitHub: a reusable workflow of another repository the actions host cannot give is unsupported; its dependants are skipped', files: gh('  a:\n    uses: acme/shared/.github/workflows/other.yml@v1\n  b:\n    needs: a\n    runs-on: ubuntu-latest\n    steps: [{ run: touch ran-b }]\n'), code: 1, says: [/^a UNSUPPORTED \(reusable workflow acme\/shared\/\.github\/workflows\/other\.yml@v1: cannot fetch acme\/shared@v1 from .*, and the action cache \(.*\) has no copy of it/m, /^b SKIP \(needs "a"/m] },
  { name: 'GitHub: a job calling a local reusable workflow that does not exist: the run is refused, located', files: gh('  a:\n    uses: ./.github/workflows/other.yml\n  b:\n    needs: a\n    runs-on: ubuntu-latest\n    steps: [{ run: touch ran-b }]\n'), code: 2, says: [/^delivery: \.github\/workflows\/ci\.yml:3:3: job "a": calls \.\/\.github\/workflows\/other\.yml, which does not exist$/m] },
  { name: 'GitHub: a remote action the actions host cannot give is unsupported; the rest of the job runs', files: gh('  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/cache@v4\n      - run: touch ran-a\n'), code: 0, ran: ['ran-a'], says: [/unsupported locally: cannot fetch actions\/cache@v4 from .*, and the action cache \(.*\) has no copy of it/] },
  { name: 'GitHub: a docker:// action step without a container engine is unsupported, saying so', files: gh('  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker://alpine:3\n      - run: touch ran-a\n'), env: { DELIVERY_CONTAINER_ENGINE: '/nonexistent/docker' }, code: 0, ran: ['ran-a'], says: [/unsupported locally: uses a Docker action docker:\/\/alpine:3 \(no container engine: \/nonexistent\/docker is not an executable\)/] },
  { name: 'GitHub: a secret a local run does not have fails the step, never an empty string', files: gh('  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: test -n "${{ secrets.TOKEN }}" && touch ran-a\n'), code: 1, says: [/^a FAIL \(step "Run test -n .*": secrets\.TOKEN is not available to local runs: give it with --secret TOKEN \(or "Delivery: Set Secret" in VS Code\)\)/m] },
  { name: 'GitHub: timeout-minutes beyond what a timer can wait does not fire at once', files: gh('  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 99999999999\n    steps: [{ run: sleep 0.3 && touch ran-a }]\n'), code: 0, ran: ['ran-a'], says: [/^a PASS/m] },
  // --- GitLab CI ---
  { name: 'GitLab: malformed YAML', files: gl('test:\n  script: [ "touch ran-a"\n'), args: ['run', 'gitlab-ci'], code: 2, says: [/^\.gitlab-ci\.yml:\d+:\d+: error: /m, /no pipeline "gitlab-ci" could be read/] },
  { name: 'GitLab: extends a job that does not exist', files: gl('test:\n  extends: .missing\n  script: touch ran-a\n'), args: ['run', 'gitlab-ci'], code: 2, says: [/^\.gitlab-ci\.yml:2:12: error: job "test": extends "\.missing", which is not defined/m, NOTHING_RUN] },
  { name: 'GitLab: needs cycle', files: gl('a:\n  needs: [b]\n  script: touch ran-a\nb:\n  needs: [a]\n  script: touch ran-b\n'), args: ['run', 'gitlab-ci'], code: 2, says: [/^\.gitlab-ci\.yml:2:11: error: jobs need each other in a cycle: a → b → a/m, NOTHING_RUN] },
  { name: 'GitLab: a stage that is not defined', files: gl('test:\n  stage: nowhere\n  script: touch ran-a\n'), args: ['run', 'gitlab-ci'], code: 2, says: [/^\.gitlab-ci\.yml:2:10: error: job "test": stage "nowhere" does not exist; the stages are \.pre, build, test, deploy, \.post/m, NOTHING_RUN] },
  { name: 'GitLab: unknown job key, with a suggestion', files: gl('test:\n  script: touch ran-a\n  scriptt: x\n'), args: ['run', 'gitlab-ci'], code: 2, says: [/^\.gitlab-ci\.yml:3:3: error: job "test": unknown key "scriptt" \(did you mean "script"\?\)/m, NOTHING_RUN] },
  { name: 'GitLab: !reference to something undefined', files: gl('test:\n  script: !reference [.nope, script]\n'), args: ['run', 'gitlab-ci'], code: 2, says: [/^\.gitlab-ci\.yml:2:22: error: !reference \[\.nope, script\]: "\.nope" is not defined/m, NOTHING_RUN] },
  { name: 'GitLab: a bad timeout', files: gl('test:\n  script: touch ran-a\n  timeout: 100 years\n'), args: ['run', 'gitlab-ci'], code: 2, says: [/^\.gitlab-ci\.yml:3:12: error: job "test": "timeout" must be a duration such as 30m, 1h 30m or 2 hours, not the string "100 years"/m, NOTHING_RUN] },
  { name: 'GitLab: a trigger job is unsupported locally', files: gl('deploy:\n  trigger: other/project\n'), args: ['run', 'gitlab-ci'], code: 1, says: [/^deploy UNSUPPORTED \(triggers a downstream pipeline \(project other\/project\)\)/m] },
  { name: 'GitLab: a job with an image and no container engine is unsupported, saying so', files: gl('test:\n  image: node:20\n  script: touch ran-a\n'), args: ['run', 'gitlab-ci'], env: { DELIVERY_CONTAINER_ENGINE: '/nonexistent/docker' }, code: 1, says: [/^test UNSUPPORTED \(GitLab image node:20 needs a container engine: \/nonexistent\/docker is not an executable/m] },
  { name: 'GitLab: include:remote is listed as a problem; the rest still loads', files: gl('include:\n  - remote: https://example.invalid/ci.yml\ntest:\n  script: touch ran-a\n'), args: ['pipelines'], code: 0, says: [/^\.gitlab-ci\.yml:2:\d+: warning: .*remote/m] },
];

describe('bad-input catalogue: pipeline and environment files (CLI)', function () {
  useSharedWorkspaces();
  this.timeout(180_000);
  const results = new Map<string, { folder: string; state: string; r: CliResult }>();
  before(async () => {
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are distinct');
    await inBatches(CASES, 4, async (c) => {
      const folder = caseFolder(c.files);
      const state = await seededStateRoot(folder);
      results.set(c.name, { folder, state, r: await cli(folder, state, c.args ?? ['run', 'ci'], { env: c.env }) });
    });
  });
  after(cleanupTempDirs);

  it(`states at least 50 distinct cases (${CASES.length})`, () => assert.ok(CASES.length >= 50));

  for (const c of CASES) {
    it(c.name, async () => {
      const { folder, state, r } = results.get(c.name)!;
      const shown = `exit ${r.code}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout.slice(0, 2000)}`;
      assert.equal(r.code, c.code, shown);
      for (const re of c.says) assert.match(`${r.stderr}\n${r.stdout}`, re, shown);
      assert.doesNotMatch(r.stderr, /\n {4}at .*\(.*\.js:\d+:\d+\)/, 'no stack trace');
      assert.deepEqual(markers(folder), c.ran ?? [], 'what ran');
      await assertNothingLost(folder, state);
    });
  }
});
