// The lazily loaded part of the extension (see features.ts). `./features.js` is a separate bundle next to
// extension.js (esbuild.mjs); in tests it is the transpiled module next to this one.
import type * as Features from './features';

let loading: Promise<typeof Features> | null = null;

export function features(): Promise<typeof Features> {
  loading ??= import('./features.js');
  return loading;
}
