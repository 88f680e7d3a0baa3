// Small graph helpers for job dependencies.

/** A cycle as a list of node ids (first node not repeated), or null when the graph is acyclic. */
export function findCycle(nodes: readonly string[], edges: (id: string) => readonly string[]): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 1);
    stack.push(id);
    for (const next of edges(id)) {
      const s = state.get(next);
      if (s === 1) return stack.slice(stack.indexOf(next));
      if (s === undefined) {
        const c = visit(next);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 2);
    return null;
  };
  for (const id of nodes) {
    if (!state.has(id)) {
      const c = visit(id);
      if (c) return c;
    }
  }
  return null;
}

/** Depth of each node: 0 for nodes without edges, else 1 + the deepest dependency. Assumes no cycle. */
export function depths(nodes: readonly string[], edges: (id: string) => readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const known = new Set(nodes);
  const depth = (id: string, guard: number): number => {
    const d = out.get(id);
    if (d !== undefined) return d;
    if (guard > nodes.length) return 0;
    let max = -1;
    for (const e of edges(id)) if (known.has(e)) max = Math.max(max, depth(e, guard + 1));
    out.set(id, max + 1);
    return max + 1;
  };
  for (const n of nodes) depth(n, 0);
  return out;
}
