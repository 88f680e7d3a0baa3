// Builds the extension (Node, CJS, `vscode` external), the `delivery` CLI (Node, CJS) and the webview
// (browser, IIFE). Type-checking is separate (`npm run typecheck`): esbuild only strips types.
//
//   node esbuild.mjs               development build with source maps
//   node esbuild.mjs --production  minified, no source maps (what `npm run package` ships)
//   node esbuild.mjs --watch       rebuild on change
//   node esbuild.mjs --tests       also transpile src/ and test/ file by file into out/ for mocha
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');
const tests = args.has('--tests');

/**
 * `import * as fs from 'node:fs'` makes esbuild copy the built-in's properties into a namespace object of getters
 * for each module that says it (__toESM: 100 for fs, in ~20 modules), which cost the CLI 3–4 ms of start-up. Here
 * fs, path and os are each one small ES module of their own, shared by every importer: one object, made once.
 */
const sharedBuiltins = {
  name: 'shared-builtins',
  setup(build) {
    build.onResolve({ filter: /^(node:)?(fs|path|os)$/ }, (args) => {
      if (args.kind !== 'import-statement') return undefined;
      return { path: args.path.replace(/^(node:)?/, 'node:'), namespace: 'shared-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'shared-builtin' }, async (args) => {
      const names = Object.keys(await import(args.path)).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
      // Each name read only if used (unused ones are dropped): reading them all would trip deprecation getters.
      const exports = names.map((n) => `export const ${n} = /* @__PURE__ */ (() => m.${n})();`).join('\n');
      return { contents: `const m = require(${JSON.stringify(args.path)});\nexport default m;\n${exports}\n`, loader: 'js' };
    });
  },
};

const node = {
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
  metafile: true,
  plugins: [sharedBuiltins],
};

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  // The main bundle (what activation loads) and, loaded on first use, environments + deploys + remote engines.
  { ...node, entryPoints: { extension: 'src/vscode/extension.ts' }, outdir: 'dist', external: ['vscode', './features.js'] },
  { ...node, entryPoints: { features: 'src/vscode/features.ts' }, outdir: 'dist', external: ['vscode'] },
  // The `delivery` command: a small launcher (dist/cli.js) that runs the CLI bundle (dist/cliMain.js) from a V8 code
  // cache. The bundle loads its lazy commands with require: V8 drops vm's dynamic import() callback when a
  // script comes from a code cache (Node 20).
  { ...node, entryPoints: { cli: 'src/cli/launcher.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  {
    ...node,
    entryPoints: { cliMain: 'src/cli/main.ts' },
    outdir: 'dist',
    external: ['vscode', './lazyCommands.js'],
    supported: { 'dynamic-import': false },
  },
  // The CLI's environment, deploy and remote commands, loaded when one of them runs.
  { ...node, entryPoints: { lazyCommands: 'src/cli/lazyCommands.ts' }, outdir: 'dist', external: ['vscode'] },
  {
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    bundle: true,
    minify: production,
    sourcemap: production ? false : 'inline',
    logLevel: 'warning',
    metafile: true,
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    loader: { '.css': 'css' },
  },
];

function listTs(dir) {
  const out = [];
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) { if (entry.name !== 'fixtures') out.push(...listTs(p)); }
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

if (tests) {
  // Unit, system and integration tests import src/ by relative path; transpiling file by file keeps that layout in out/.
  builds.push({
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    bundle: false,
    sourcemap: 'inline',
    logLevel: 'warning',
    entryPoints: [...listTs('src'), ...listTs('test/unit'), ...listTs('test/system'), ...listTs('test/integration'), ...listTs('test/integration-untrusted'), ...listTs('test/support')],
    outdir: 'out',
    outbase: '.',
  });
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching for changes');
} else {
  const started = Date.now();
  const results = await Promise.all(builds.map((b) => esbuild.build(b)));
  fs.chmodSync('dist/cli.js', 0o755);
  const sizes = results
    .flatMap((r) => Object.entries(r.metafile?.outputs ?? {}))
    .filter(([file]) => file.endsWith('.js') && file.startsWith('dist/'))
    .map(([file, meta]) => `${file} ${(meta.bytes / 1024).toFixed(0)} KB`);
  console.log(`esbuild: ${sizes.join(', ')} in ${Date.now() - started} ms${production ? ' (production)' : ''}`);
}
