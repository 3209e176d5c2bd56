/**
 * The binomial range a count must fall in: with N independent trials each landing on an
 * endpoint with probability p, the count is Binomial(N, p). A Service lab checks each
 * endpoint's count against the central range that holds it with the given confidence
 * (99.9 %: a correct ruleset fails the check about once in a thousand runs per endpoint).
 */

/** ln(k!) for k = 0…n, by summing logs (exact enough for the n a lab sends). */
function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let k = 1; k <= n; k++) out[k] = out[k - 1]! + Math.log(k);
  return out;
}

/**
 * The probabilities P(X = k) for k = 0…n of X ~ Binomial(n, p).
 *
 * @param n number of trials (a non-negative integer).
 * @param p probability of success, 0…1.
 */
export function binomialPmf(n: number, p: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number ≥ 0, not ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be within 0…1, not ${p}`);
  if (p === 0 || p === 1) return Array.from({ length: n + 1 }, (_, k) => (k === p * n ? 1 : 0));
  const lf = logFactorials(n);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  const pmf: number[] = [];
  for (let k = 0; k <= n; k++)
    pmf.push(Math.exp(lf[n]! - lf[k]! - lf[n - k]! + k * lp + (n - k) * lq));
  return pmf;
}

export interface BinomialRange {
  /** Smallest count inside the range. */
  low: number;
  /** Largest count inside the range. */
  high: number;
  /** n·p, for people. */
  expected: number;
}

/**
 * The central range of Binomial(n, p) with at least `confidence` of its mass: `low` is
 * the largest k with P(X < k) ≤ α/2 and `high` the smallest k with P(X > k) ≤ α/2,
 * where α = 1 − confidence. So a count outside [low, high] happens with probability
 * at most α when the share really is p.
 *
 * @param n number of trials.
 * @param p expected share, 0…1.
 * @param confidence 0…1 (default 0.999).
 */
export function binomialRange(n: number, p: number, confidence = 0.999): BinomialRange {
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`confidence must be between 0 and 1, not ${confidence}`);
  const pmf = binomialPmf(n, p);
  const tail = (1 - confidence) / 2;
  let low = 0;
  let below = 0;
  // move low up while the mass strictly below the next k stays within the tail
  while (low < n && below + pmf[low]! <= tail) below += pmf[low++]!;
  let high = n;
  let above = 0;
  while (high > 0 && above + pmf[high]! <= tail) above += pmf[high--]!;
  return { low, high, expected: n * p };
}

/** One endpoint's count against its expected share. */
export interface ShareCheck {
  endpoint: string;
  count: number;
  share: number;
  range: BinomialRange;
  ok: boolean;
}

/**
 * Checks each endpoint's count of `total` requests against its expected share; endpoints
 * that answered without being expected are checked against share 0 (so they fail).
 *
 * @param counts requests served per endpoint.
 * @param shares expected share per endpoint (summing to 1).
 * @param confidence see {@link binomialRange}.
 */
export function checkShares(
  counts: ReadonlyMap<string, number>,
  shares: ReadonlyMap<string, number>,
  confidence = 0.999,
): ShareCheck[] {
  let total = 0;
  for (const c of counts.values()) total += c;
  const names = [...new Set([...shares.keys(), ...counts.keys()])];
  return names.map((endpoint) => {
    const share = shares.get(endpoint) ?? 0;
    const count = counts.get(endpoint) ?? 0;
    const range = binomialRange(total, share, confidence);
    return { endpoint, count, share, range, ok: count >= range.low && count <= range.high };
  });
}
