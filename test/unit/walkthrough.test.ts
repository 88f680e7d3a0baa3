// The walkthrough (package.json `contributes.walkthroughs`): the shape VS Code's extension point accepts (its JSON
// schema in 1.100: workbench/contrib/welcomeGettingStarted/browser/gettingStartedExtensionPoint.ts), media files
// that exist, and completion events and links that name real commands, views and context keys.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMAND_IDS } from '../../src/vscode/commands/ids';

const root = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

interface Step {
  id: string;
  title: string;
  description?: string;
  media: Record<string, unknown>;
  completionEvents?: string[];
  when?: string;
}

/** The events VS Code's walkthrough service listens for (the extension point's snippets, plus onEvent:). */
const EVENT = /^(onCommand|onLink|onView|onSettingChanged|onContext|extensionInstalled|onEvent):(.+)$|^onStepSelected$/;

/** Every string literal key that `setContext` is given in the extension's code. */
function contextKeysSet(): Set<string> {
  const keys = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of fs.readFileSync(p, 'utf8').matchAll(/'setContext',\s*'([^']+)'/g)) keys.add(m[1]);
    }
  };
  walk(path.join(root, 'src/vscode'));
  return keys;
}

describe('walkthrough', () => {
  const walkthroughs = pkg.contributes.walkthroughs as { id: string; title: string; description: string; steps: Step[] }[];
  const commands = new Set<string>([...COMMAND_IDS, ...(pkg.contributes.viewsContainers.activitybar as { id: string }[]).map((c) => `workbench.view.extension.${c.id}`)]);
  const views = new Set(Object.values(pkg.contributes.views as Record<string, { id: string }[]>).flatMap((list) => list.map((v) => v.id)));

  it('walks through the Delivery view, a run, an environment, a deploy and its diff, in the shape VS Code accepts', () => {
    assert.equal(walkthroughs.length, 1);
    const [w] = walkthroughs;
    for (const k of ['id', 'title', 'description']) assert.equal(typeof (w as unknown as Record<string, unknown>)[k], 'string', k);
    assert.deepEqual(w.steps.map((s) => s.id), ['openView', 'runPipeline', 'addEnvironment', 'deploy', 'readDiff']);
    for (const s of w.steps) {
      assert.ok(s.id && s.title && s.description, `${s.id}: id, title and description`);
      // media: exactly one of { image, altText }, { svg, altText }, { markdown }.
      const keys = Object.keys(s.media).sort().join(',');
      assert.ok(['altText,image', 'altText,svg', 'markdown'].includes(keys), `${s.id}: media has ${keys}`);
      assert.ok(s.completionEvents?.length, `${s.id}: completes on something the user does`);
    }
  });

  it('has its media files, and they are packaged', () => {
    const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
    assert.match(ignore, /^!media\/\*\*$/m);
    for (const s of walkthroughs[0].steps) {
      const file = String(s.media.markdown ?? s.media.image ?? s.media.svg);
      assert.match(file, /^media\/walkthrough\//, s.id);
      assert.ok(fs.statSync(path.join(root, file)).size > 0, `${s.id}: ${file}`);
    }
  });

  it('completes on real commands, views and context keys, and links to real commands', () => {
    const keys = contextKeysSet();
    for (const s of walkthroughs[0].steps) {
      for (const e of s.completionEvents ?? []) {
        const m = EVENT.exec(e);
        assert.ok(m, `${s.id}: ${e} is an event VS Code knows`);
        if (m[1] === 'onCommand') assert.ok(commands.has(m[2]), `${s.id}: command ${m[2]}`);
        if (m[1] === 'onView') assert.ok(views.has(m[2]), `${s.id}: view ${m[2]}`);
        if (m[1] === 'onContext') assert.ok(keys.has(m[2]), `${s.id}: the extension sets context key ${m[2]}`);
      }
      const links = [...(s.description ?? '').matchAll(/\]\(command:([^)?]+)/g)].map((x) => x[1]);
      assert.equal(links.length, 1, `${s.id}: one button`);
      for (const c of links) assert.ok(commands.has(c), `${s.id}: links to ${c}`);
    }
  });
});
