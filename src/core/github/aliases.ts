// YAML anchors and aliases in GitHub workflows (GitHub reads them since September 2025): every alias is replaced by
// the node it names before the workflow is read, so `steps: *shared` is a list of steps, and a problem inside an
// alias points into the anchored text. GitHub rejects `<<` merge keys: each one is a located error (the merge is
// still applied, so the rest of the file reads as its author meant). Expansion is bounded by AliasBudget.
import { isAlias, isMap, isPair, isScalar, isSeq, Scalar, type Node, type Pair } from 'yaml';
import type { YamlFile } from '../config/yamlFile';
import { AliasBudget } from '../config/yamlSource';

/** Aliases nested (an alias whose node holds an alias whose node…) deeper than this are refused. */
const MAX_DEPTH = 500;

export const MERGE_KEY_MESSAGE =
  '"<<" (a YAML merge key) is not supported by GitHub Actions, which rejects the workflow; write the keys out, or alias the whole mapping';

/** Replaces the aliases of the file's document in place; false when the file expands into too many values. */
export function inlineAliases(f: YamlFile): boolean {
  const doc = f.doc;
  if (!doc || doc.contents === null) return true;
  const budget = new AliasBudget();
  const open = new Set<Node>();
  let stop = false;
  const nothing = (at: Node): Scalar => {
    const s = new Scalar(null);
    if (at.range) s.range = [at.range[0], at.range[1], at.range[2]];
    return s;
  };
  const visit = (node: Node | null, depth: number): Node | null => {
    if (node === null || stop) return node;
    const counted = budget.take();
    if (counted !== 'ok') {
      if (counted === 'exceeded') f.error(node, AliasBudget.message);
      stop = true;
      return nothing(node);
    }
    if (depth > MAX_DEPTH) {
      f.error(node, `aliases nest more than ${MAX_DEPTH} deep`);
      stop = true;
      return nothing(node);
    }
    if (isAlias(node)) {
      const target = node.resolve(doc) as Node | undefined;
      if (!target) {
        f.error(node, `unknown alias *${node.source}: no anchor &${node.source} is defined before it`);
        return nothing(node);
      }
      if (open.has(target)) {
        f.error(node, `alias *${node.source} is inside the node it names (&${node.source})`);
        return nothing(node);
      }
      return visit(target, depth + 1);
    }
    if (isSeq(node)) {
      open.add(node);
      node.items = (node.items as (Node | null)[]).map((i) => visit(i, depth + 1));
      open.delete(node);
    } else if (isMap(node)) {
      open.add(node);
      const own: Pair[] = [];
      const merged: Pair[] = [];
      for (const pair of node.items as Pair[]) {
        pair.key = visit(pair.key as Node | null, depth + 1);
        if (isMergeKey(pair.key)) {
          f.error(pair.key as Node, MERGE_KEY_MESSAGE);
          const value = visit(pair.value as Node | null, depth + 1);
          for (const src of isSeq(value) ? (value.items as (Node | null)[]) : [value]) {
            if (isMap(src)) merged.push(...(src.items as Pair[]));
            else if (src) f.error(src, '"<<" merges mappings only');
          }
          continue;
        }
        pair.value = visit(pair.value as Node | null, depth + 1);
        own.push(pair);
      }
      open.delete(node);
      if (merged.length) {
        // YAML's merge: the mapping's own keys win, then the first source that has the key.
        const seen = new Set(own.map(keyText));
        const added = merged.filter((p) => {
          const k = keyText(p);
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        });
        node.items = [...added, ...own];
      } else if (own.length !== node.items.length) node.items = own;
    }
    return node;
  };
  doc.contents = visit(doc.contents as Node, 0) as typeof doc.contents;
  return !budget.overdrawn && !stop;
}

function isMergeKey(key: unknown): boolean {
  // The reader parses with YAML 1.1 merges on: a plain `<<` key is the merge symbol (a quoted one is a string).
  return isScalar(key) && typeof key.value === 'symbol';
}

function keyText(p: Pair): string {
  return isPair(p) && isScalar(p.key) ? String(p.key.value) : String(p.key);
}
