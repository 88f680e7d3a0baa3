// Where run history, logs and deploy records live: per workspace folder, outside the repository, shared by
// the VS Code extension and the CLI so both see the same history.
//   $DELIVERY_STATE_DIR/<folder name>-<hash>      when set (tests, CI)
//   $XDG_STATE_HOME/software-delivery/<…>         else (default ~/.local/state)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256Hex } from '../core/sha256';

export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DELIVERY_STATE_DIR) return path.resolve(env.DELIVERY_STATE_DIR);
  const xdg = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(xdg, 'software-delivery');
}

export function folderStateDir(folder: string, root = stateRoot()): string {
  let real = folder;
  try {
    real = fs.realpathSync(folder);
  } catch {
    // Not there (yet): key on the path as given.
  }
  return stateDirOf(real, root);
}

/** folderStateDir without synchronous file I/O (the extension host's activation must not block on the disk). */
export async function folderStateDirAsync(folder: string, root = stateRoot()): Promise<string> {
  return stateDirOf(await fs.promises.realpath(folder).catch(() => folder), root);
}

function stateDirOf(real: string, root: string): string {
  const hash = sha256Hex(real).slice(0, 12);
  const name = path.basename(real).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40) || 'root';
  return path.join(root, `${name}-${hash}`);
}
