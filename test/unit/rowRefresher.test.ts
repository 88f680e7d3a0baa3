// Tree rows refreshed one by one: the same node objects while a row's definition stays, only changed rows fired.
import * as assert from 'node:assert/strict';
import { RowRefresher } from '../../src/vscode/views/rowRefresher';

class Row {
  constructor(
    readonly id: string,
    public text: string,
  ) {}
  shown(): string {
    return this.text;
  }
}

describe('tree row refresher', () => {
  const setup = () => {
    const fired: (string[] | undefined)[] = [];
    const rows = new RowRefresher<Row>((nodes) => fired.push(nodes?.map((n) => n.id)));
    const node = (id: string, text: string) => rows.node(id, (n): n is Row => n.id === id, () => new Row(id, text));
    return { fired, rows, node };
  };

  it('hands out the same node for a row until the whole tree is refreshed', () => {
    const { rows, node } = setup();
    const a = node('a', 'one');
    assert.equal(node('a', 'one'), a);
    rows.whole();
    assert.notEqual(node('a', 'one'), a);
  });

  it('refreshes only the rows whose text changed, once per change', () => {
    const { fired, rows, node } = setup();
    const a = node('a', 'one');
    node('b', 'two');
    rows.changed();
    assert.deepEqual(fired, [], 'nothing changed: nothing fired');
    a.text = 'uno';
    rows.changed();
    rows.changed();
    assert.deepEqual(fired, [['a']]);
    assert.deepEqual(rows.counts, { whole: 0, rows: 1 });
  });

  it('refreshes the whole tree when no row was handed out yet, and on request', () => {
    const { fired, rows, node } = setup();
    rows.changed();
    node('a', 'one');
    rows.whole();
    assert.deepEqual(fired, [undefined, undefined]);
    assert.deepEqual(rows.counts, { whole: 2, rows: 0 });
  });

  it('a row whose definition changed gets a new node', () => {
    const { rows } = setup();
    const first = rows.node('a', (n): n is Row => n.text === 'v1', () => new Row('a', 'v1'));
    const second = rows.node('a', (n): n is Row => n.text === 'v2', () => new Row('a', 'v2'));
    assert.notEqual(first, second);
    assert.equal(rows.node('a', (n): n is Row => n.text === 'v2', () => new Row('a', 'v3')), second);
  });
});
