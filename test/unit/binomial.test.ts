import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { binomialPmf, binomialRange, checkShares } from '../../src/core/stats/binomial';

test('the pmf sums to 1 and matches a hand-computed Binomial(4, 0.5)', () => {
  const pmf = binomialPmf(4, 0.5);
  assert.deepEqual(
    pmf.map((x) => Math.round(x * 1e6) / 1e6),
    [0.0625, 0.25, 0.375, 0.25, 0.0625],
  );
  const big = binomialPmf(200, 1 / 3);
  assert.ok(Math.abs(big.reduce((a, b) => a + b, 0) - 1) < 1e-9);
});

test('the 99.9 % range of Binomial(200, 1/3) leaves at most 0.05 % in each tail', () => {
  const r = binomialRange(200, 1 / 3);
  const pmf = binomialPmf(200, 1 / 3);
  const sum = (a: number, b: number): number => pmf.slice(a, b + 1).reduce((x, y) => x + y, 0);
  assert.ok(sum(0, r.low - 1) <= 0.0005, 'mass below low');
  assert.ok(sum(0, r.low) > 0.0005, 'low is the largest such k');
  assert.ok(sum(r.high + 1, 200) <= 0.0005, 'mass above high');
  assert.ok(sum(r.high, 200) > 0.0005, 'high is the smallest such k');
  // about mean ± 3.3 standard deviations (66.7 ± 22)
  assert.ok(r.low >= 42 && r.low <= 48, `low ${r.low}`);
  assert.ok(r.high >= 86 && r.high <= 91, `high ${r.high}`);
  assert.ok(Math.abs(r.expected - 200 / 3) < 1e-9);
});

test('edge shares: 1 means every request, 0 none', () => {
  assert.deepEqual(binomialRange(200, 1), { low: 200, high: 200, expected: 200 });
  assert.deepEqual(binomialRange(200, 0), { low: 0, high: 0, expected: 0 });
  assert.deepEqual(binomialRange(0, 0.5), { low: 0, high: 0, expected: 0 });
});

test('half and half: symmetric range', () => {
  const r = binomialRange(200, 0.5);
  assert.equal(r.low + r.high, 200);
});

test('bad input is a clear RangeError', () => {
  assert.throws(() => binomialRange(-1, 0.5), /whole number/);
  assert.throws(() => binomialRange(10, 1.5), /within 0…1/);
  assert.throws(() => binomialRange(10, 0.5, 1), /confidence/);
});

test('checkShares: counts inside pass, a skewed count and an unexpected endpoint fail', () => {
  const shares = new Map([
    ['a', 1 / 3],
    ['b', 1 / 3],
    ['c', 1 / 3],
  ]);
  const good = checkShares(
    new Map([
      ['a', 70],
      ['b', 64],
      ['c', 66],
    ]),
    shares,
  );
  assert.ok(good.every((c) => c.ok));
  const skewed = checkShares(
    new Map([
      ['a', 120],
      ['b', 40],
      ['c', 40],
    ]),
    shares,
  );
  assert.deepEqual(
    skewed.map((c) => c.ok),
    [false, false, false],
  );
  const stray = checkShares(
    new Map([
      ['a', 199],
      ['z', 1],
    ]),
    new Map([['a', 1]]),
  );
  assert.deepEqual(
    stray.map((c) => [c.endpoint, c.ok]),
    [
      ['a', false],
      ['z', false],
    ],
  );
});
