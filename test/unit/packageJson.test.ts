import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMAND_IDS } from '../../src/vscode/commands/ids';
import { ENVIRONMENT_KEYS, JOB_KEYS, PIPELINE_KEYS, STEP_KEYS, TOP_KEYS } from '../../src/core/config/delivery';

const root = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('package.json', () => {
  it('contributes exactly the commands the extension registers', () => {
    const contributed = (pkg.contributes.commands as { command: string }[]).map((c) => c.command).sort();
    assert.deepEqual(contributed, [...COMMAND_IDS].sort());
  });

  it('gives every command the Delivery category and every menu entry a contributed command', () => {
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'Delivery', c.command);
    const ids = new Set(COMMAND_IDS as readonly string[]);
    for (const [menu, entries] of Object.entries(pkg.contributes.menus as Record<string, { command: string }[]>)) {
      for (const e of entries) assert.ok(ids.has(e.command), `${menu}: ${e.command}`);
    }
  });

  it('keeps the engine, views and activation the tests and users rely on', () => {
    assert.equal(pkg.engines.vscode, '^1.100.0');
    assert.match(pkg.devDependencies['@types/vscode'], /^~?\^?1\.100\./);
    assert.deepEqual(pkg.contributes.views.delivery.map((v: { id: string }) => v.id), ['delivery.pipelines', 'delivery.environments']);
    for (const e of ['workspaceContains:delivery.yml', 'workspaceContains:.gitlab-ci.yml', 'workspaceContains:.github/workflows/*.yml', 'workspaceContains:.github/workflows/*.yaml']) {
      assert.ok(pkg.activationEvents.includes(e), e);
    }
    for (const [key, prop] of Object.entries(pkg.contributes.configuration.properties as Record<string, { markdownDescription?: string }>)) {
      assert.ok(prop.markdownDescription, `${key} has a markdownDescription`);
    }
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  });

  it('ships a JSON schema for delivery.yml whose keys match the validator', () => {
    const url = pkg.contributes.yamlValidation[0].url as string;
    const schema = JSON.parse(fs.readFileSync(path.join(root, url), 'utf8'));
    const keys = (o: { properties: Record<string, unknown> }) => Object.keys(o.properties).sort();
    assert.deepEqual(keys(schema), [...TOP_KEYS].sort());
    const pipeline = schema.properties.pipelines.additionalProperties;
    assert.deepEqual(keys(pipeline), [...PIPELINE_KEYS].sort());
    const job = pipeline.properties.jobs.additionalProperties;
    assert.deepEqual(keys(job), [...JOB_KEYS].sort());
    assert.deepEqual(keys(job.properties.steps.items), [...STEP_KEYS].sort());
    assert.deepEqual(keys(schema.properties.environments.additionalProperties), [...ENVIRONMENT_KEYS].sort());
  });
});
