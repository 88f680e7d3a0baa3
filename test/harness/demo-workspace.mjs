// The demo workspace for `npm start`: a git repository with pipelines and two environments that really run —
//   staging:    a `command` deploy (scripts/deploy-local.sh: git archive -> live folder -> restart the app)
//   production: a `gitPush` deploy to a bare repository whose post-receive hook restarts the app (protected)
// Both apps serve /version (the deployed commit) and /health on 127.0.0.1. On first use production runs the first
// commit, staging the second, and HEAD is one commit ahead, so the Environments tree has something to show.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, freePort } from './lib-codeserver.mjs';

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Demo', GIT_AUTHOR_EMAIL: 'demo@example.invalid', GIT_COMMITTER_NAME: 'Demo', GIT_COMMITTER_EMAIL: 'demo@example.invalid' };
const git = (cwd, ...args) => execFileSync('git', args, { cwd, env: gitEnv, stdio: 'pipe' }).toString().trim();
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'targets');

async function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function waitHealthy(port) {
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the demo app on port ${port} did not start`);
}

function deliveryYml(targets, ports) {
  return `# Demo project for Software Delivery: a pipeline and two environments that really run on this machine.
version: 1
pipelines:
  ci:
    name: CI
    jobs:
      build:
        run: |
          echo "checking app.js"
          node --check app.js
          sleep 0.5
      lint:
        needs: [build]
        run: |
          echo "lint: ok"
          sleep 0.3
      test:
        needs: [build]
        steps:
          - name: unit
            run: |
              for i in 1 2 3; do echo "unit test $i ok"; sleep 0.2; done

environments:
  staging:
    name: Staging
    url: http://127.0.0.1:${ports.staging}
    version: { http: "http://127.0.0.1:${ports.staging}/version", json: sha, timeout: 3s }
    deploy:
      pipeline: ci
      command: bash scripts/deploy-local.sh
      env: { TARGET_DIR: "${targets}/staging", APP_PORT: "${ports.staging}" }
    health: { http: "http://127.0.0.1:${ports.staging}/health", expect: 200, timeout: 10s }
  production:
    name: Production
    url: http://127.0.0.1:${ports.production}
    promotesFrom: staging
    protected: true
    version: { http: "http://127.0.0.1:${ports.production}/version", json: sha, timeout: 3s }
    deploy:
      gitPush: { remote: "file://${targets}/production.git", branch: main }
    health: { http: "http://127.0.0.1:${ports.production}/health", expect: 200, timeout: 10s }
`;
}

const DEPLOY_LOCAL = `#!/bin/bash
# Demo deploy: the commit DELIVERY_SHA into TARGET_DIR/live, then (re)start the app there on APP_PORT.
set -euo pipefail
live="$TARGET_DIR/live"
mkdir -p "$live"
find "$live" -mindepth 1 -maxdepth 1 ! -name app.pid ! -name app.log -exec rm -rf {} +
git archive "$DELIVERY_SHA" | tar -x -C "$live"
echo "$DELIVERY_SHA" > "$live/VERSION"
echo "deploying \${DELIVERY_SHORT_SHA} to $DELIVERY_ENV (was \${DELIVERY_PREVIOUS_SHA:-nothing})"
bash "$live/restart.sh" "$live" "$APP_PORT" "$DELIVERY_ENV"
echo "live on http://127.0.0.1:$APP_PORT"
`;

function postReceive(targets, port) {
  return `#!/bin/bash
set -e
while read old new ref; do
  [ "$ref" = refs/heads/main ] || { echo "ignoring $ref"; continue; }
  echo "-----> deploying $new to production"
  GIT_WORK_TREE="${targets}/production/live" git --git-dir="${targets}/production.git" checkout -f -q main
  echo "$new" > "${targets}/production/live/VERSION"
  bash "${targets}/production/live/restart.sh" "${targets}/production/live" ${port} production
done
`;
}

function startAppIn(dir, port, env) {
  execFileSync('bash', [path.join(dir, 'restart.sh'), dir, String(port), env], { stdio: 'ignore' });
}

/** Creates (once) and starts the demo. Returns { workspace, stop() }. */
export async function prepareDemo(workspace, targets) {
  const portsFile = path.join(targets, 'ports.json');
  if (!fs.existsSync(path.join(workspace, '.git')) || !fs.existsSync(portsFile)) {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(targets, { recursive: true, force: true });
    fs.mkdirSync(workspace, { recursive: true });
    fs.mkdirSync(path.join(targets, 'staging', 'live'), { recursive: true });
    fs.mkdirSync(path.join(targets, 'production', 'live'), { recursive: true });
    const ports = {
      staging: (await portFree(18082)) ? 18082 : await freePort(),
      production: (await portFree(18083)) ? 18083 : await freePort(),
    };
    fs.writeFileSync(portsFile, JSON.stringify(ports));
    git(workspace, 'init', '-q', '-b', 'main');
    fs.copyFileSync(path.join(FIXTURES, 'restart.sh'), path.join(workspace, 'restart.sh'));
    fs.mkdirSync(path.join(workspace, 'scripts'));
    fs.writeFileSync(path.join(workspace, 'scripts', 'deploy-local.sh'), DEPLOY_LOCAL, { mode: 0o755 });
    fs.writeFileSync(path.join(workspace, 'delivery.yml'), deliveryYml(targets, ports));
    fs.writeFileSync(path.join(workspace, '.gitignore'), 'node_modules/\n');
    const app = fs.readFileSync(path.join(FIXTURES, 'app.js'), 'utf8');
    const commit = (message, files) => {
      for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(workspace, f), text);
      git(workspace, 'add', '-A');
      git(workspace, 'commit', '-q', '-m', message);
      return git(workspace, 'rev-parse', 'HEAD');
    };
    const first = commit('Serve /version and /health', { 'app.js': app, 'README.md': '# Demo app\n' });
    const second = commit('Add a greeting page', { 'greeting.txt': 'Hello from the demo app\n' });
    commit('Explain how to deploy', { 'README.md': '# Demo app\n\nDeploy with the Delivery view: Environments → Deploy.\n', 'CHANGES.md': '- greeting page\n- deploy notes\n' });
    // production runs the first commit (pushed through its hook), staging the second.
    git(targets, 'init', '-q', '--bare', '-b', 'main', path.join(targets, 'production.git'));
    fs.writeFileSync(path.join(targets, 'production.git', 'hooks', 'post-receive'), postReceive(targets, ports.production), { mode: 0o755 });
    git(workspace, 'push', '-q', `file://${targets}/production.git`, `${first}:refs/heads/main`);
    const stagingLive = path.join(targets, 'staging', 'live');
    execFileSync('bash', ['-c', 'git archive "$1" | tar -x -C "$2"', 'archive', second, stagingLive], { cwd: workspace });
    fs.writeFileSync(path.join(stagingLive, 'VERSION'), `${second}\n`);
    fs.appendFileSync(path.join(workspace, 'README.md'), '\nA local change that is not committed yet.\n');
  }
  const ports = JSON.parse(fs.readFileSync(portsFile, 'utf8'));
  for (const [env, port] of Object.entries(ports)) {
    const live = path.join(targets, env, 'live');
    if (fs.existsSync(path.join(live, 'restart.sh'))) {
      startAppIn(live, port, env);
      await waitHealthy(port);
    }
  }
  const stop = async () => {
    for (const env of Object.keys(ports)) {
      const pidFile = path.join(targets, env, 'live', 'app.pid');
      try { process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM'); } catch { /* not running */ }
    }
  };
  return { workspace, ports, stop };
}
