// What a deploy kind (`command:`, `ssh:`, `gitPush:`...) is to the core: how it is read from delivery.yml, which
// steps it plans, how its values are expanded before it runs, and whether it works on the commit's files. Each kind
// is one module of this folder, registered in index.ts; its adapter part (how its steps run) is registered in
// src/adapters/deploy/kinds/. Nothing here does I/O.
import type { MapReader } from '../../config/reader';
import type { YamlFile } from '../../config/yamlFile';
import type { DeployStepPlan } from '../deploy';

export interface DeployReadContext {
  f: YamlFile;
  /** The `deploy:` mapping (its kind key is `r.value(kind)`). */
  r: MapReader;
  /** `environment "<id>": deploy`, for messages. */
  what: string;
  /** `deploy.env`, already read. */
  env: Record<string, string>;
}

/** Expansion of a kind's values right before it runs; the secret values found are masked in its output. */
export interface DeployExpandContext {
  /** The DELIVERY_* variables of this deploy. */
  vars: Record<string, string>;
  /** `${secret:NAME}` expanded. */
  secrets(text: string): Promise<string>;
  secretsIn(map: Record<string, string>): Promise<Record<string, string>>;
  /** `${secret:NAME}`, then `${DELIVERY_*}` as data (never for a shell); throws with the reason. */
  data(text: string): Promise<string>;
  /** `${DELIVERY_*}` in a path: a value may not leave it (expandDeliveryVariables with `path`). */
  path(text: string): { value: string } | { error: string };
}

export interface DeployKindDef<K extends string, M extends { kind: K }> {
  kind: K;
  /**
   * Keys of `deploy:` besides the kind's own that belong to this kind, with what to say when a deploy of another
   * kind uses them (e.g. `cwd` → `"cwd" applies to "command" deploys only`).
   */
  ownKeys: Readonly<Record<string, string>>;
  /** Reads the kind from the `deploy:` mapping; problems are reported where they are, null when unusable. */
  read(c: DeployReadContext): M | null;
  /** The kind's steps, between the build pipeline and the version and health checks. */
  steps(m: M): DeployStepPlan[];
  /** The method with secrets and ${DELIVERY_*} expanded where this kind allows them; throws with the reason. */
  expand(m: M, x: DeployExpandContext): Promise<M>;
  /** Does it work on the files of the commit (then a clean checkout is made when the folder is not at it)? */
  needsFiles(m: M): boolean;
}
