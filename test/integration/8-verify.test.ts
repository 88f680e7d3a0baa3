// verify: prometheus inside VS Code, against a real Prometheus started by the test scraping the metrics app (a bad
// release: half its requests answer 500, under a bounded load): the Environments tree row shows the first check's
// value now and turns to the graph icon near and past its bound; an unreachable Prometheus is said in the row; an
// environment without verify: shows nothing of it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stageMetricsApp, startLoad, startMetricsApp, type Load, type MetricsApp } from '../support/targets/metricsApp';
import { prometheusUnavailable, startPrometheus, type Prometheus } from '../support/targets/prometheus';
import { freePort } from '../support/targets/common';
import { requireTool } from '../support/requireTool';
import type { TreeRow } from '../../src/vscode/api';
import { api, waitFor, workspaceFolder } from './helpers';

suite('verify: the first check in the Environments tree', () => {
  let base: string | undefined;
  let app: MetricsApp | undefined;
  let load: Load | undefined;
  let prom: Prometheus | undefined;
  let folder: string;
  let original: string;

  suiteSetup(async function () {
    this.timeout(90000);
    requireTool(this, prometheusUnavailable());
    folder = workspaceFolder().uri.fsPath;
    original = fs.readFileSync(path.join(folder, 'delivery.yml'), 'utf8');
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-it-verify-'));
    stageMetricsApp(path.join(base, 'app'), { version: 'v2', errorRate: 0.5 });
    app = await startMetricsApp(path.join(base, 'app'), { env: 'checked' });
    load = startLoad(`${app.url}/`, { everyMs: 25, max: 20_000 });
    prom = await startPrometheus(path.join(base, 'prom'), { targets: [app.target] });
    const closed = await freePort();
    const env = (id: string, url: string, query: string) => `  ${id}:
    deploy: { command: "true" }
    verify:
      prometheus: ${url}
      checks:
        - { name: error rate, query: '${query}', max: 0.01 }
`;
    const errors = 'sum(rate(http_requests_total{code="500"}[5s])) / sum(rate(http_requests_total[5s]))';
    fs.writeFileSync(
      path.join(folder, 'delivery.yml'),
      `${original.replace(/\n*$/, '\n')}${env('bad', prom.url, errors)}${env('near', prom.url, 'vector(0.009)')}${env('fine', prom.url, 'vector(0.002)')}${env('dark', `http://127.0.0.1:${closed}`, 'up')}  plain:\n    deploy: { command: "true" }\n`,
    );
    const a = await api();
    await waitFor(() => a.environments().some((e) => e.id === 'dark'), 'the verified environments to be read');
  });

  suiteTeardown(async () => {
    if (original !== undefined && folder) fs.writeFileSync(path.join(folder, 'delivery.yml'), original);
    await load?.stop();
    await app?.stop();
    await prom?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  test('each row shows its first check now, with the graph icon near and past the bound', async function () {
    this.timeout(90000);
    const a = await api();
    const row = (rows: TreeRow[], label: string) => rows.find((r) => r.label === label);
    // The environments refresh reads each first check once; the bad release's error rate needs a few scrapes.
    const rows = await waitFor(
      async () => {
        await a.environmentRows(true);
        const r = await a.tree('environments');
        return /error rate 0\.[3-7]/.test(row(r, 'bad')?.description ?? '') && /error rate 0\.009/.test(row(r, 'near')?.description ?? '') ? r : null;
      },
      "the bad release's error rate in its row",
      60000,
    );
    assert.equal(row(rows, 'bad')!.icon, 'graph-line', 'past its bound');
    assert.equal(row(rows, 'near')!.icon, 'graph-line', 'within 20% of its bound');
    assert.match(row(rows, 'fine')!.description, /error rate 0\.002/);
    assert.equal(row(rows, 'fine')!.icon, 'server-environment');
    assert.match(row(rows, 'dark')!.description, /error rate: Prometheus unreachable/);
    assert.doesNotMatch(row(rows, 'plain')!.description, /error rate/);
  });
});
