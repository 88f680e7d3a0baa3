// Lint, with the layer rules that keep the architecture honest (docs/architecture.md):
//   core     -> shared only; no vscode, no I/O modules of Node
//   adapters -> core, shared; no vscode
//   shared   -> nothing (JSON-only types, usable by the browser)
//   cli      -> core, adapters, shared; no vscode
//   vscode   -> everything but cli and webview
//   webview  -> shared only, and the UI toolkit in exactly one module (webview/toolkit.ts)
import tseslint from 'typescript-eslint';

const nodeIo = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'os', 'dgram', 'tls', 'worker_threads', 'cluster', 'readline'];
const nodeIoPatterns = nodeIo.flatMap((m) => [m, `node:${m}`]);
const vscodeBan = { name: 'vscode', message: 'Only src/vscode may import vscode.' };
const layer = (group, message) => ({ group, message });

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', '.vscode-test/**', 'bench/.work/**', 'bench/node_modules/**', '**/*.mjs', 'test/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [vscodeBan, ...nodeIoPatterns.map((name) => ({ name, message: 'src/core does no I/O: take a port from src/adapters instead.' }))],
        patterns: [
          layer(['**/adapters/**', '**/adapters'], 'src/core must not depend on src/adapters (inject a port).'),
          layer(['**/vscode/**'], 'src/core must not depend on src/vscode.'),
          layer(['**/cli/**'], 'src/core must not depend on src/cli.'),
          layer(['**/webview/**'], 'src/core must not depend on webview/.'),
          layer(['simple-git'], 'git access belongs in src/adapters.'),
        ],
      }],
      // Time, timers and the machine come in through ports (src/core/clock.ts; real ones in src/adapters/clock.ts).
      'no-restricted-globals': ['error', ...['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'setImmediate', 'performance', 'process'].map((name) => ({ name, message: 'src/core takes time/platform from a port (Clock, HostFacts).' }))],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'src/core takes time from a port (Clock).' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/core takes time from a port (Clock): new Date(clock.now()).' }],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [vscodeBan],
        patterns: [
          layer(['**/vscode/**'], 'src/adapters must not depend on src/vscode.'),
          layer(['**/cli/**'], 'src/adapters must not depend on src/cli.'),
          layer(['**/webview/**'], 'src/adapters must not depend on webview/.'),
        ],
      }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [vscodeBan],
        patterns: [
          layer(['node:*', ...nodeIo, 'path', 'util', 'crypto', 'events', 'stream'], 'src/shared is JSON-only and browser-safe: no Node built-ins.'),
          layer(['**/core/**', '**/adapters/**', '**/vscode/**', '**/cli/**', '**/webview/**', 'yaml', 'simple-git'], 'src/shared imports nothing but src/shared.'),
        ],
      }],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [vscodeBan],
        patterns: [layer(['**/vscode/**', '**/webview/**'], 'src/cli runs without VS Code: use core + adapters.')],
      }],
    },
  },
  {
    files: ['src/vscode/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [layer(['**/cli/**', '**/webview/**'], 'src/vscode must not depend on src/cli or webview/ (webview talks through src/shared/protocol).')],
      }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    ignores: ['webview/toolkit.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [vscodeBan],
        patterns: [
          layer(['**/src/core/**', '**/src/adapters/**', '**/src/vscode/**', '**/src/cli/**'], 'webview/ imports only src/shared.'),
          layer(['node:*', ...nodeIo, 'path', 'yaml', 'simple-git'], 'webview/ runs in the browser.'),
          layer(['@vscode/webview-ui-toolkit', '@vscode/webview-ui-toolkit/*', '@vscode-elements/*'], 'Import the UI toolkit only in webview/toolkit.ts (docs/decisions.md).'),
        ],
      }],
    },
  },
  {
    files: ['webview/toolkit.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [vscodeBan],
        patterns: [layer(['**/src/core/**', '**/src/adapters/**', '**/src/vscode/**', '**/src/cli/**'], 'webview/ imports only src/shared.')],
      }],
    },
  },
);
