// `deploy: { workflow: { pipeline, ref, inputs } }`: dispatch a run of a remote pipeline (GitHub workflow, GitLab
// pipeline, Buildbot build) and follow it.
import { isScalar, type Node } from 'yaml';
import { MapReader } from '../../config/reader';
import type { DeployKindDef } from './kind';

export interface WorkflowDeploy {
  kind: 'workflow';
  /** A pipeline of the folder by id or <source>:<id>: delivery.yml with `remote:`, a GitHub workflow, .gitlab-ci.yml. */
  pipeline: string;
  /** The branch or tag the run uses; null: the deploy's ref when it names one, else the folder's branch. */
  ref: string | null;
  /** Trigger inputs; `${DELIVERY_*}` and `${secret:NAME}` are expanded as data, never by a shell. */
  inputs: Record<string, string>;
}

const WORKFLOW_KEYS = ['pipeline', 'ref', 'inputs'] as const;

export const workflowDeploy: DeployKindDef<'workflow', WorkflowDeploy> = {
  kind: 'workflow',
  ownKeys: {},
  read({ f, r, what }) {
    const w = MapReader.from(f, r.value('workflow'), `${what}: workflow`, WORKFLOW_KEYS);
    if (!w) return null;
    const pipeline = w.required('pipeline') ? w.string('pipeline', { nonEmpty: true }) : undefined;
    if (pipeline !== undefined && !/^([a-z]+:)?[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(pipeline)) {
      f.error(w.at('pipeline'), `${what}: workflow "pipeline" must be a pipeline id (or <source>:<id>), not "${pipeline}"`);
      return null;
    }
    const ref = w.string('ref', { nonEmpty: true }) ?? null;
    if (ref !== null && (ref.startsWith('-') || !/^[A-Za-z0-9._/${}-]+$/.test(ref) || ref.includes('..'))) {
      f.error(w.at('ref'), `${what}: workflow "ref" must be a branch or tag name, not "${ref}"`);
    }
    const inputs: Record<string, string> = {};
    if (w.has('inputs')) {
      const m = MapReader.from(f, w.value('inputs'), `${what}: workflow inputs`, null);
      for (const key of m?.keys() ?? []) {
        const v = m!.value(key);
        if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) f.error(m!.pair(key)?.key as Node, `${what}: workflow input name "${key}" may contain only letters, digits, "_", "." and "-"`);
        else if (isScalar(v) && (typeof v.value === 'string' || typeof v.value === 'number' || typeof v.value === 'boolean')) inputs[key] = String(v.value);
        else f.error(v ?? m!.pair(key), `${what}: workflow input "${key}" must be a string, number or boolean`);
      }
    }
    return pipeline === undefined ? null : { kind: 'workflow', pipeline, ref, inputs };
  },
  steps: (m) => [
    { id: 'workflow.dispatch', name: `trigger ${m.pipeline}` },
    { id: 'workflow.follow', name: `follow the ${m.pipeline} run` },
  ],
  async expand(m, x) {
    const inputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.inputs)) inputs[k] = await x.data(v);
    return { ...m, inputs, ref: m.ref === null ? null : await x.data(m.ref) };
  },
  needsFiles: () => false,
};
