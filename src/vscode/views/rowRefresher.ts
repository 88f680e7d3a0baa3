// Refreshing a tree by rows. A whole-tree refresh hands VS Code new node objects, and for a moment the rows it
// shows name nodes it no longer knows: an inline action clicked then reaches its command with no node (the command
// falls back to asking). Status changes therefore refresh only the rows that now read differently, keeping their
// node objects (and handles); configuration changes still refresh everything.

/** A row whose text, icon and children can be summed up in one string: when it changes, the row is refreshed. */
export interface RefreshableRow {
  shown(): string;
}

export class RowRefresher<N extends RefreshableRow> {
  private readonly rows = new Map<string, { node: N; shown: string }>();
  /** How often the whole tree and single rows were refreshed (the test API reads it). */
  readonly counts = { whole: 0, rows: 0 };

  constructor(private readonly fire: (nodes: N[] | undefined) => void) {}

  /** The node for row `id`: the one handed out before when `fits` says it shows the same thing, else a new one. */
  node<M extends N>(id: string, fits: (cached: N) => cached is M, make: () => M): M {
    const cached = this.rows.get(id)?.node;
    if (cached && fits(cached)) return cached;
    const node = make();
    this.rows.set(id, { node, shown: node.shown() });
    return node;
  }

  /** Everything again: new configuration, new nodes. */
  whole(): void {
    this.rows.clear();
    this.counts.whole++;
    this.fire(undefined);
  }

  /** Statuses moved: refresh the rows that read differently now (everything, when no row was handed out yet). */
  changed(): void {
    if (this.rows.size === 0) return this.whole();
    const changed: N[] = [];
    for (const entry of this.rows.values()) {
      const shown = entry.node.shown();
      if (shown === entry.shown) continue;
      entry.shown = shown;
      changed.push(entry.node);
    }
    if (changed.length === 0) return;
    this.counts.rows += changed.length;
    this.fire(changed);
  }
}
