// Refreshing a tree by rows, with one node object per row for as long as the row exists.
//
// Why: VS Code hands an inline action's command the node it registered for the clicked row's handle. A whole-tree
// refresh unregisters every node at once (the extension host clears its handle map, then asks for the rows
// again), and a row's refresh unregisters its children until they are fetched again: a click landing in between
// reaches its command with no node, and the command falls back to asking. So:
// - statuses (runs, probes, deploys) refresh only the rows that now read differently;
// - a configuration change updates the nodes in place and refreshes only the rows whose definition or text
//   changed; the whole tree is refreshed only when rows appear, disappear or move;
// - every row, children included, keeps its node object and its TreeItem.id, so a handle always names the same
//   node, and commands resolve a row by the ids it carries (`target()`), never by state captured in the object.

/** A row whose text, icon and children can be summed up in one string: when it changes, the row is refreshed. */
export interface RefreshableRow {
  shown(): string;
}

interface Entry<N> {
  node: N;
  /** What VS Code was last given for this row. */
  shown: string;
  /** Its definition changed while VS Code was not asking: refresh it. */
  dirty: boolean;
  /** The whole-tree generation it was last handed out in (rows not handed out for two generations are dropped). */
  generation: number;
}

export class RowRefresher<N extends RefreshableRow> {
  private readonly rows = new Map<string, Entry<N>>();
  /** The tree's rows above the leaves, as VS Code last fetched them; null until it fetches (or after a whole refresh). */
  private structure: string[] | null = null;
  /** True while the provider works out the structure for `reconcile` (VS Code is not being handed these nodes). */
  private quiet = false;
  private generation = 0;
  /** How often the whole tree and single rows were refreshed (the test API reads it). */
  readonly counts = { whole: 0, rows: 0 };

  constructor(private readonly fire: (nodes: N[] | undefined) => void) {}

  /**
   * The node for row `id`: the same object for as long as the row exists. `update` brings a cached node up to date
   * in place (a new definition) and returns true when what the row stands for changed.
   */
  node<M extends N>(id: string, make: () => M, update?: (cached: M) => boolean): M {
    const entry = this.rows.get(id);
    if (entry) {
      const node = entry.node as M;
      const moved = update?.(node) ?? false;
      if (this.quiet) entry.dirty ||= moved;
      else {
        entry.shown = node.shown();
        entry.dirty = false;
        entry.generation = this.generation;
      }
      return node;
    }
    const node = make();
    this.rows.set(id, { node, shown: node.shown(), dirty: false, generation: this.generation });
    return node;
  }

  /** VS Code fetched the tree's top: `ids` is its structure (the rows above the leaves) as shown now. */
  shownStructure(ids: string[]): void {
    this.structure = ids;
  }

  /**
   * The configuration changed: `structure` updates the nodes (through `node`) and returns the new structure. Same
   * structure: refresh the rows that changed; rows added, removed or moved: the whole tree.
   */
  reconcile(structure: () => string[]): void {
    if (this.structure === null) return this.whole();
    this.quiet = true;
    let ids: string[];
    try {
      ids = structure();
    } finally {
      this.quiet = false;
    }
    if (ids.length !== this.structure.length || ids.some((id, i) => id !== this.structure![i])) return this.whole();
    this.changed();
  }

  /** Everything again (rows appeared or went, trust changed). Nodes are kept: a row keeps its object. */
  whole(): void {
    for (const [id, entry] of this.rows) if (entry.generation < this.generation - 1) this.rows.delete(id);
    this.generation++;
    this.structure = null;
    this.counts.whole++;
    this.fire(undefined);
  }

  /** Statuses moved: refresh the rows that read differently now. Nothing when VS Code has not fetched the tree yet. */
  changed(): void {
    if (this.structure === null) return;
    const changed: N[] = [];
    for (const entry of this.rows.values()) {
      const shown = entry.node.shown();
      if (shown === entry.shown && !entry.dirty) continue;
      entry.shown = shown;
      entry.dirty = false;
      changed.push(entry.node);
    }
    if (changed.length === 0) return;
    this.counts.rows += changed.length;
    this.fire(changed);
  }
}
