// `delivery deploy` of a 1,000-file app over ssh + rsync to an OpenSSH sshd on 127.0.0.1 (the tests' throwaway
// sshd), against a shell script doing the same by hand: `rsync -az -e ssh` of the folder, then `ssh host` to switch
// the release. Both upload into a fresh folder every run. Ours also takes and releases the environment's lock and
// writes its history on the host (#13), and checks what is deployed first.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { measureCases, median, row } from '../lib/harness.mjs';
import { repoWith } from '../lib/fixtures.mjs';

const require = createRequire(import.meta.url);

export default {
  title: 'ssh + rsync deploy of a 1,000-file app to a loopback sshd',
  async run(ctx) {
    // The throwaway sshd of the tests (keys, config, host key in a folder of its own; stopped by its PID).
    const support = path.join(ctx.root, 'out', 'test', 'support', 'targets', 'sshd.js');
    if (!fs.existsSync(support)) execFileSync(process.execPath, [path.join(ctx.root, 'esbuild.mjs'), '--tests'], { cwd: ctx.root, stdio: 'ignore' });
    const { startSshd, sshdUnavailable } = require(support);
    const why = sshdUnavailable();
    if (why) return { rows: [], notes: [`not measured: ${why}`] };
    const base = path.join(ctx.work, 'sshdeploy');
    fs.rmSync(base, { recursive: true, force: true });
    const sshd = await startSshd(path.join(base, 'sshd'));
    try {
      const files = ctx.smoke ? 50 : 1000;
      const remote = path.join(base, 'remote');
      const app = {};
      for (let i = 0; i < files; i++) app[`app/d${i % 20}/f${i}.txt`] = `file ${i}\n`.repeat(40);
      const ssh = `{ host: 127.0.0.1, port: ${sshd.port}, user: root, identityFile: "${sshd.clientKey}", knownHostsFile: "${sshd.knownHosts}" }`;
      const dir = repoWith(path.join(base, 'repo'), {
        ...app,
        'delivery.yml': `version: 1\nenvironments:\n  box:\n    deploy:\n      ssh: ${ssh}\n      upload: { from: app, to: "${remote}/ours/\${DELIVERY_SHA}" }\n      run: 'ln -sfn "$DELIVERY_UPLOAD_TO" "${remote}/ours/current"'\n`,
        'deploy.sh': [
          '#!/bin/bash',
          'set -eo pipefail',
          `SSH="ssh -p ${sshd.port} -i ${sshd.clientKey} -o IdentitiesOnly=yes -o UserKnownHostsFile=${sshd.knownHosts} -o BatchMode=yes -o LogLevel=ERROR"`,
          'sha=$(git rev-parse HEAD)',
          `rsync -az --delete --mkpath -e "$SSH" app/ "root@127.0.0.1:${remote}/ref/$sha/"`,
          `$SSH root@127.0.0.1 "ln -sfn ${remote}/ref/$sha ${remote}/ref/current"`,
          '',
        ].join('\n'),
      });
      const fresh = (which) => fs.rmSync(path.join(remote, which), { recursive: true, force: true });
      const r = await measureCases(ctx, [
        {
          name: 'delivery',
          spec: () => ({ cmd: process.execPath, args: [ctx.build.cli, 'deploy', 'box', '--yes', '--json'], cwd: dir, env: ctx.env, json: true }),
          after: (x) => {
            if (x.json.status !== 'success') throw new Error(`sshdeploy: the deploy ended ${x.json.status}: ${x.json.reason}`);
            if (fs.readdirSync(path.join(remote, 'ours', x.json.sha), { recursive: true }).length < files) throw new Error('sshdeploy: the upload is incomplete');
            fresh('ours');
          },
        },
        { name: 'reference', spec: () => ({ cmd: 'bash', args: ['deploy.sh'], cwd: dir }), after: () => fresh('ref') },
      ]);
      const ours = r.delivery.map((x) => x.wallMs);
      const ref = r.reference.map((x) => x.wallMs);
      const ratio = median(ours) / median(ref);
      const title = `ssh + rsync deploy of a ${files.toLocaleString('en-US')}-file app to a loopback sshd`;
      return {
        rows: [
          row({
            scenario: title,
            measured: '`delivery deploy` wall (checks, lock and history on the host, mkdir, rsync, script)',
            samples: ours,
            reference: { name: '`rsync -e ssh` then `ssh host activate`', samples: ref },
            ratio,
            ratioText: `${ratio.toFixed(2)}×`,
            target: '≤ 1.2×',
            met: ratio <= 1.2,
          }),
        ],
      };
    } finally {
      await sshd.stop();
    }
  },
};
