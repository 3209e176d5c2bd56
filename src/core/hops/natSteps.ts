/**
 * The NAT a probe went through, hop by hop: given the probe's addresses and ports as
 * each hop captured it (the correlation already found the same packet there, since TCP
 * keys leave addresses and ports out), every change between two hops in a row is a
 * DNAT (destination) or an SNAT (source), said with the rule that did it when known.
 */

/** The probe's innermost addresses and ports at one hop (null where it was not seen). */
export interface ProbeAddresses {
  hop: string;
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
}

export interface NatStep {
  kind: 'DNAT' | 'SNAT';
  /** The hops between which the rewrite happened. */
  between: [string, string];
  from: string;
  to: string;
  /** The rule (KUBE-SEP-…, endpoint-…, MASQUERADE) that did it, when known. */
  rule: string | null;
  sentence: string;
}

function addr(ip: string, port: number | null): string {
  return port === null ? ip : `${ip}:${port}`;
}

/**
 * The rewrites between consecutive hops where the probe was seen.
 *
 * @param seen the probe at each hop, in path order (hops that did not see it left out).
 * @param rules `dnatRule(to)` names the chain whose DNAT leads to `to`; `snatRule` names the source NAT.
 */
export function natSteps(
  seen: readonly ProbeAddresses[],
  rules: { dnatRule?: (to: string) => string | undefined; snatRule?: string } = {},
): NatStep[] {
  const out: NatStep[] = [];
  for (let i = 1; i < seen.length; i++) {
    const a = seen[i - 1]!;
    const b = seen[i]!;
    const between: [string, string] = [a.hop, b.hop];
    if (a.dst !== b.dst || a.dport !== b.dport) {
      const from = addr(a.dst, a.dport);
      const to = addr(b.dst, b.dport);
      const rule = rules.dnatRule?.(to) ?? null;
      out.push({
        kind: 'DNAT',
        between,
        from,
        to,
        rule,
        sentence: `destination ${from} → ${to} between ${a.hop} and ${b.hop} (DNAT${rule ? `, ${rule}` : ''}).`,
      });
    }
    if (a.src !== b.src || a.sport !== b.sport) {
      const from = addr(a.src, a.sport);
      const to = addr(b.src, b.sport);
      const rule = rules.snatRule ?? null;
      out.push({
        kind: 'SNAT',
        between,
        from,
        to,
        rule,
        sentence: `source ${from} → ${to} between ${a.hop} and ${b.hop} (${rule ?? 'SNAT'}).`,
      });
    }
  }
  return out;
}
