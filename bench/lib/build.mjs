// What the bench measures is built here, apart from the repository's dist/ (which the tests and other work
// rebuild at any time): the project's own esbuild.mjs --production, run in bench/.work/build/ whose src/,
// webview/, media/ and esbuild.mjs are links to the repository's — so the bundles are exactly what
// `npm run package` ships — plus the bench runners (bench/runners/*.ts, bench/vscode/*.ts) bundled the same way.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

export function buildProduct(root, work) {
  const dir = path.join(work, 'build');
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['src', 'webview', 'media', 'esbuild.mjs', 'tsconfig.json']) {
    const link = path.join(dir, name);
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(root, name), link);
  }
  // A copy, not a link: the VS Code bench loads this folder as the extension and may adjust activation (see vscode.mjs).
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: dir, stdio: 'pipe' });
  return {
    dir,
    cli: path.join(dir, 'dist', 'cli.js'),
    extension: path.join(dir, 'dist', 'extension.js'),
    webview: path.join(dir, 'dist', 'webview.js'),
  };
}

/** Bundles bench/runners/<name>.ts (Node, CJS, minified like the product) into .work/runners/<name>.js. */
export async function buildRunners(benchDir, work, names) {
  const out = path.join(work, 'runners');
  await esbuild.build({
    entryPoints: Object.fromEntries(names.map((n) => [n, path.join(benchDir, 'runners', `${n}.ts`)])),
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    external: ['vscode'],
    logLevel: 'warning',
  });
  return Object.fromEntries(names.map((n) => [n, path.join(out, `${n}.js`)]));
}
