// Security: values substituted into deploy paths (upload "to") cannot climb out of where delivery.yml put them.
import * as assert from 'node:assert/strict';
import { expandDeliveryVariables } from '../../src/core/environments/deploy';

describe('security: ${DELIVERY_*} in deploy paths', () => {
  const vars = (ref: string) => ({ DELIVERY_ENV: 'staging', DELIVERY_SHA: 'a'.repeat(40), DELIVERY_SHORT_SHA: 'aaaaaaa', DELIVERY_REF: ref, DELIVERY_PREVIOUS_SHA: '' });

  it('keeps a branch with slashes inside the path', () => {
    assert.deepEqual(expandDeliveryVariables('/srv/app/${DELIVERY_REF}', vars('feature/x'), { path: true }), { value: '/srv/app/feature/x' });
  });

  for (const ref of ['../../etc', 'a/../../b', '/etc', '~root', 'x\\..\\y']) {
    it(`refuses a ref "${ref}" that would leave the folder`, () => {
      const r = expandDeliveryVariables('/srv/app/${DELIVERY_REF}/current', vars(ref), { path: true });
      assert.ok('error' in r, `expected an error, got ${JSON.stringify(r)}`);
      assert.match(r.error, /would leave the path/);
    });
  }

  it('leaves values that are not paths alone', () => {
    assert.deepEqual(expandDeliveryVariables('ref=${DELIVERY_REF}', vars('../x')), { value: 'ref=../x' });
  });
});
