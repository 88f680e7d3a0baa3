// dist/cli.js, the `delivery` command: starts the CLI bundle (dist/cliMain.js, built from main.ts) from a V8 code
// cache kept under the state root (see adapters/codeCache.ts), which saves compiling the bundle on every run.
// DELIVERY_NO_CODE_CACHE=1 compiles as usual and keeps no cache.
import * as path from 'node:path';
import { runWithCodeCache } from '../adapters/codeCache';
import { stateRoot } from '../adapters/stateDir';

/** The command word (`run`, `pipelines`...): each command gets the cache of the functions it runs. */
function commandKey(argv: string[]): string {
  const word = argv.find((a) => !a.startsWith('-'));
  return word !== undefined && /^[a-z][a-z-]{0,30}$/.test(word) ? word : 'default';
}

runWithCodeCache(path.join(__dirname, 'cliMain.js'), module, {
  dir: process.env.DELIVERY_NO_CODE_CACHE ? null : path.join(stateRoot(), 'code-cache'),
  key: commandKey(process.argv.slice(2)),
});
