// runLab refuses what it cannot run before it checks the machine or builds anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabRunError, runLab } from '../../src/platform/labs/labRunner';

test('an unknown lab or a fault the lab cannot inject fails before anything is built', async () => {
  await assert.rejects(runLab('no-such-lab'), (e: unknown) => {
    assert.ok(e instanceof LabRunError);
    assert.equal(e.phase, 'prerequisites');
    assert.match(e.message, /no lab called no-such-lab/);
    return true;
  });
  await assert.rejects(
    runLab('flannel-host-gw', { fault: 'missing-fdb' }),
    /cannot inject missing-fdb/,
  );
});
