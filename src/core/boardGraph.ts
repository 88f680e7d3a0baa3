// The board's graph: a run's jobs as nodes in columns (declared stages, else dependency depth), a job run as several
// legs (matrix, parallel) as one node holding them, `needs` as edges. Pure: the webview only measures and draws.
import type { JobRecord } from '../shared/model';
import type { GraphColumn, GraphEdge, GraphItem, GraphView } from '../shared/views';

// How an engine names a job's instances: GitHub "test (18, ubuntu)" (and "… #3" when two are alike), GitLab
// "build: [1/2]" and "build: [18,alpine]".
const LEG_ID = [/^(.+?) \(.*\)(?: #\d+)?$/, /^(.+?): \[.*\]$/];

function legBase(id: string): string | null {
  for (const re of LEG_ID) {
    const m = re.exec(id);
    if (m) return m[1];
  }
  return null;
}

/**
 * The node each record belongs to: its own id, or the job it is a leg of. Records are legs of a job when two or more
 * share a base id and their needs, or when the job's own record is there (a matrix known only at run time: the
 * job's record stands for the group while its legs run).
 */
export function legGroups(jobs: readonly Pick<JobRecord, 'id' | 'deps'>[]): { nodeOf: Map<string, string>; legs: Map<string, string[]> } {
  const ids = new Set(jobs.map((j) => j.id));
  const byBase = new Map<string, string[]>();
  const key = (j: Pick<JobRecord, 'id' | 'deps'>, base: string) => `${base}\n${[...j.deps].sort().join('\n')}`;
  for (const j of jobs) {
    const base = legBase(j.id);
    if (base === null) continue;
    const k = key(j, base);
    byBase.set(k, [...(byBase.get(k) ?? []), j.id]);
  }
  const nodeOf = new Map<string, string>(jobs.map((j) => [j.id, j.id]));
  const legs = new Map<string, string[]>();
  for (const [k, members] of byBase) {
    const base = k.slice(0, k.indexOf('\n'));
    if (members.length < 2 && !ids.has(base)) continue;
    // Two groups of the same base (different needs) keep their records apart.
    if (legs.has(base)) continue;
    legs.set(base, members);
    for (const m of members) nodeOf.set(m, base);
  }
  return { nodeOf, legs };
}

/** A run's graph over its columns (`stagesOf`), the node order per column chosen to cross few edges (barycentre sweeps). */
export function boardGraph(jobs: readonly JobRecord[], stages: readonly { name: string; jobs: readonly JobRecord[] }[]): GraphView {
  const { nodeOf, legs } = legGroups(jobs);
  const columnOf = new Map<string, number>();
  const columns: { name: string; nodes: string[] }[] = stages.map((stage, c) => {
    const nodes: string[] = [];
    for (const job of stage.jobs) {
      const node = nodeOf.get(job.id)!;
      if (columnOf.has(node)) continue;
      columnOf.set(node, c);
      nodes.push(node);
    }
    return { name: stage.name, nodes };
  });
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  for (const job of jobs) {
    const to = nodeOf.get(job.id)!;
    for (const dep of job.deps) {
      const from = nodeOf.get(dep);
      if (from === undefined || from === to || seen.has(`${from}\n${to}`)) continue;
      seen.add(`${from}\n${to}`);
      edges.push({ from, to });
    }
  }
  const items: GraphItem[][] = columns.map((c) => c.nodes.map((node) => (legs.has(node) ? { node, legs: legs.get(node)! } : { node })));
  // An edge over several columns passes through each one between its ends, as an item there (a "dummy node").
  edges.forEach((e, i) => {
    const a = columnOf.get(e.from)!;
    const b = columnOf.get(e.to)!;
    for (let c = a + 1; c < b; c++) items[c].push({ pass: i });
  });
  const ordered = orderColumns(items, edges, columnOf);
  return { columns: columns.map((c, i): GraphColumn => ({ name: c.name, items: ordered[i] })), edges };
}

const itemKey = (item: GraphItem) => ('node' in item ? `n:${item.node}` : `p:${item.pass}`);

/** For each item, the items it connects to in the column before (`left`) and after (`right`). */
function neighbours(edges: readonly GraphEdge[], columnOf: Map<string, number>): { left: Map<string, string[]>; right: Map<string, string[]> } {
  const left = new Map<string, string[]>();
  const right = new Map<string, string[]>();
  const link = (a: string, b: string) => {
    right.set(a, [...(right.get(a) ?? []), b]);
    left.set(b, [...(left.get(b) ?? []), a]);
  };
  edges.forEach((e, i) => {
    const a = columnOf.get(e.from)!;
    const b = columnOf.get(e.to)!;
    if (b <= a) return; // within a column, or back: no place in the sweeps
    const chain = [`n:${e.from}`, ...Array.from({ length: b - a - 1 }, () => `p:${i}`), `n:${e.to}`];
    for (let k = 0; k + 1 < chain.length; k++) link(chain[k], chain[k + 1]);
  });
  return { left, right };
}

function orderColumns(items: GraphItem[][], edges: readonly GraphEdge[], columnOf: Map<string, number>): GraphItem[][] {
  const { left, right } = neighbours(edges, columnOf);
  let order = items.map((col) => [...col]);
  let best = order;
  let bestCrossings = countCrossings(order, right);
  const sweep = (c: number, from: GraphItem[], by: Map<string, string[]>) => {
    const pos = new Map(from.map((it, i) => [itemKey(it), i]));
    const keyed = order[c].map((it, i) => {
      const ns = (by.get(itemKey(it)) ?? []).map((k) => pos.get(k)).filter((p): p is number => p !== undefined);
      return { it, key: ns.length ? ns.reduce((s, p) => s + p, 0) / ns.length : i, i };
    });
    keyed.sort((x, y) => x.key - y.key || x.i - y.i);
    order[c] = keyed.map((k) => k.it);
  };
  for (let round = 0; round < 4 && bestCrossings > 0; round++) {
    order = order.map((col) => [...col]);
    if (round % 2 === 0) for (let c = 1; c < order.length; c++) sweep(c, order[c - 1], left);
    else for (let c = order.length - 2; c >= 0; c--) sweep(c, order[c + 1], right);
    const n = countCrossings(order, right);
    if (n < bestCrossings) {
      best = order;
      bestCrossings = n;
    }
  }
  return best;
}

function countCrossings(order: GraphItem[][], right: Map<string, string[]>): number {
  let n = 0;
  for (let c = 0; c + 1 < order.length; c++) {
    const pos = new Map(order[c + 1].map((it, i) => [itemKey(it), i]));
    const segs: [number, number][] = [];
    order[c].forEach((it, i) => {
      for (const k of right.get(itemKey(it)) ?? []) {
        const j = pos.get(k);
        if (j !== undefined) segs.push([i, j]);
      }
    });
    for (let a = 0; a < segs.length; a++) for (let b = a + 1; b < segs.length; b++) if ((segs[a][0] - segs[b][0]) * (segs[a][1] - segs[b][1]) < 0) n++;
  }
  return n;
}

/** How many pairs of edges cross between adjacent columns as the graph is ordered (what the sweeps lower). */
export function crossings(graph: GraphView): number {
  const columnOf = new Map<string, number>();
  graph.columns.forEach((c, i) => c.items.forEach((it) => 'node' in it && columnOf.set(it.node, i)));
  const items = graph.columns.map((c) => c.items);
  return countCrossings(items, neighbours(graph.edges, columnOf).right);
}
