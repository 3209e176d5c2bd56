import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNever, parseFromWebview } from '../../src/protocol';

test('accepts each message the webview sends, keeping only known fields', () => {
  assert.deepEqual(parseFromWebview({ type: 'ready', extra: '<script>' }), { type: 'ready' });
  assert.deepEqual(parseFromWebview({ type: 'showLog' }), { type: 'showLog' });
  assert.deepEqual(
    parseFromWebview({ type: 'selectPacket', requestId: 7, hop: 3, index: 499, junk: true }),
    { type: 'selectPacket', requestId: 7, hop: 3, index: 499 },
  );
  assert.deepEqual(
    parseFromWebview({
      type: 'rendered',
      diagram: 'ok',
      error: null,
      participants: ['podA 10.244.0.5', 'nodeA', 'nodeB', 'podB 10.244.1.4'],
    }),
    {
      type: 'rendered',
      diagram: 'ok',
      error: null,
      participants: ['podA 10.244.0.5', 'nodeA', 'nodeB', 'podB 10.244.1.4'],
    },
  );
  assert.deepEqual(
    parseFromWebview({
      type: 'rendered',
      diagram: 'failed',
      error: 'Parse error',
      participants: [],
    }),
    { type: 'rendered', diagram: 'failed', error: 'Parse error', participants: [] },
  );
  assert.equal(
    parseFromWebview({ type: 'rendered', diagram: 'none', error: null, participants: [] })?.type,
    'rendered',
  );
});

test('rejects values that are not messages', () => {
  for (const junk of [
    undefined,
    null,
    0,
    'ready',
    ['ready'],
    {},
    { type: 7 },
    { type: 'READY' },
    { type: 'show' },
    { type: 'packetLayers', requestId: 1, layers: null, error: null },
    { type: '__proto__' },
  ]) {
    assert.equal(parseFromWebview(junk), undefined, JSON.stringify(junk) ?? String(junk));
  }
});

test('rejects selectPacket without non-negative integer ids', () => {
  const good = { type: 'selectPacket', requestId: 1, hop: 0, index: 0 };
  assert.ok(parseFromWebview(good));
  for (const [field, value] of [
    ['requestId', -1],
    ['requestId', '1'],
    ['hop', 1.5],
    ['hop', Number.NaN],
    ['index', Infinity],
    ['index', null],
    ['index', undefined],
  ] as const) {
    assert.equal(parseFromWebview({ ...good, [field]: value }), undefined, `${field}=${value}`);
  }
});

test('rejects rendered reports with the wrong shapes', () => {
  const good = { type: 'rendered', diagram: 'ok', error: null, participants: ['podA'] };
  assert.ok(parseFromWebview(good));
  assert.equal(parseFromWebview({ ...good, diagram: 'maybe' }), undefined);
  assert.equal(parseFromWebview({ ...good, error: 42 }), undefined);
  assert.equal(parseFromWebview({ ...good, error: undefined }), undefined);
  assert.equal(parseFromWebview({ ...good, participants: 'podA' }), undefined);
  assert.equal(parseFromWebview({ ...good, participants: ['podA', 1] }), undefined);
});

test('caps the participant list a webview may report', () => {
  const many = Array.from({ length: 1000 }, (_, i) => `p${i}`);
  const parsed = parseFromWebview({
    type: 'rendered',
    diagram: 'ok',
    error: null,
    participants: many,
  });
  assert.equal(parsed?.type, 'rendered');
  assert.equal(parsed?.type === 'rendered' ? parsed.participants.length : -1, 200);
});

test('assertNever throws with the unexpected value', () => {
  assert.throws(() => assertNever({ type: 'mystery' } as never), /Unexpected message: .*mystery/);
});
