// Tree rows refreshed one by one: one node object per row for as long as the row exists, only changed rows fired,
// the whole tree only when rows appear, go or move.
import * as assert from 'node:assert/strict';
import { RowRefresher } from '../../src/vscode/views/rowRefresher';

class Row {
  constructor(
    readonly id: string,
    public text: string,
    public def = 'v1',
  ) {}
  shown(): string {
    return this.text;
  }
}

describe('tree row refresher', () => {
  const setup = () => {
    const fired: (string[] | undefined)[] = [];
    const rows = new RowRefresher<Row>((nodes) => fired.push(nodes?.map((n) => n.id)));
    /** What the provider does: a row's node, its definition brought up to date in place. */
    const node = (id: string, text: string, def = 'v1') =>
      rows.node(id, () => new Row(id, text, def), (n: Row) => {
        const moved = n.def !== def;
        n.def = def;
        return moved;
      });
    /** VS Code fetched the top of the tree. */
    const fetched = (...ids: string[]) => rows.shownStructure(ids);
    return { fired, rows, node, fetched };
  };

  it('hands out the same node for a row, across definition changes and whole refreshes', () => {
    const { rows, node, fetched } = setup();
    const a = node('a', 'one');
    fetched('a');
    assert.equal(node('a', 'one'), a);
    assert.equal(node('a', 'one', 'v2'), a, 'a new definition updates the node in place');
    assert.equal(a.def, 'v2');
    rows.whole();
    assert.equal(node('a', 'one'), a, 'a whole refresh keeps the object too: its handle names the same node');
  });

  it('refreshes only the rows whose text changed, once per change', () => {
    const { fired, rows, node, fetched } = setup();
    const a = node('a', 'one');
    node('b', 'two');
    fetched('a', 'b');
    rows.changed();
    assert.deepEqual(fired, [], 'nothing changed: nothing fired');
    a.text = 'uno';
    rows.changed();
    rows.changed();
    assert.deepEqual(fired, [['a']]);
    assert.deepEqual(rows.counts, { whole: 0, rows: 1 });
  });

  it('fires nothing for status changes before VS Code fetched the tree (it gets fresh rows when it does)', () => {
    const { fired, rows, node } = setup();
    const a = node('a', 'one');
    a.text = 'uno';
    rows.changed();
    assert.deepEqual(fired, []);
  });

  it('a configuration change with the same rows refreshes only the rows whose definition or text changed', () => {
    const { fired, rows, node, fetched } = setup();
    const a = node('a', 'one');
    const b = node('b', 'two');
    node('c', 'three');
    fetched('a', 'b', 'c');
    b.text = 'deux';
    rows.reconcile(() => [node('a', 'one', 'v2').id, node('b', 'two').id, node('c', 'three').id]);
    assert.deepEqual(fired, [['a', 'b']], 'a: new definition; b: new text; c: untouched');
    assert.equal(a.def, 'v2');
    assert.deepEqual(rows.counts, { whole: 0, rows: 2 });
    rows.reconcile(() => ['a', 'b', 'c']);
    assert.deepEqual(fired, [['a', 'b']], 'nothing new: nothing fired');
  });

  it('a configuration change that adds, removes or reorders rows refreshes the whole tree', () => {
    const { fired, rows, node, fetched } = setup();
    node('a', 'one');
    node('b', 'two');
    fetched('a', 'b');
    rows.reconcile(() => ['b', 'a']);
    assert.deepEqual(fired, [undefined]);
    rows.reconcile(() => ['a']);
    assert.deepEqual(fired, [undefined, undefined], 'not fetched since the last whole refresh: whole again');
    fetched('a');
    rows.reconcile(() => ['a', 'new']);
    assert.deepEqual(fired, [undefined, undefined, undefined]);
    assert.equal(rows.counts.whole, 3);
  });

  it('a row whose definition changed while VS Code was fetching it is not fired again', () => {
    const { fired, rows, node, fetched } = setup();
    node('a', 'one');
    fetched('a');
    node('a', 'one', 'v2'); // VS Code asked for the row's children: it shows the new definition already
    rows.changed();
    assert.deepEqual(fired, []);
  });

  it('drops rows not handed out for two whole refreshes', () => {
    const { rows, node, fetched } = setup();
    const gone = node('gone', 'x');
    fetched('gone');
    rows.whole();
    rows.whole();
    rows.whole();
    assert.notEqual(node('gone', 'x'), gone, 'a row that came back after long gets a new node');
  });
});
