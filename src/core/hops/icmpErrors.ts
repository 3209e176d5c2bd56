/**
 * ICMP errors tied to the probe (correlation.ts finds them by the datagram they quote), as
 * the report gives them: grouped, and said in words ("fragmentation needed, next-hop MTU
 * 1450"), so a hop reads "answered by ICMP unreachable code 4 from 10.244.0.1" instead of
 * counting the error as an unrelated packet.
 */
import type { ProbeIcmpError } from './correlation';
import type { HopIcmpError } from './types';

const UNREACHABLE: Record<number, string> = {
  0: 'network unreachable (no route to the destination network)',
  1: 'host unreachable (no answer to ARP for the destination, or no route to it)',
  2: 'protocol unreachable',
  3: 'port unreachable (nothing listens on that port)',
  4: 'fragmentation needed',
  5: 'source route failed',
  6: 'destination network unknown',
  7: 'destination host unknown',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  11: 'network unreachable for this TOS',
  12: 'host unreachable for this TOS',
  13: 'communication administratively prohibited (a firewall rule rejects it)',
  14: 'host precedence violation',
  15: 'precedence cutoff in effect',
};

const UNREACHABLE6: Record<number, string> = {
  0: 'no route to the destination',
  1: 'communication administratively prohibited (a firewall rule rejects it)',
  2: 'beyond the scope of the source address',
  3: 'address unreachable (no answer to neighbour discovery)',
  4: 'port unreachable (nothing listens on that port)',
  5: 'source address failed ingress/egress policy',
  6: 'reject route to the destination',
};

/**
 * What an ICMP error means, in words: `fragmentation needed, next-hop MTU 1450`,
 * `TTL exceeded in transit`, `packet too big, MTU 1280`.
 */
export function icmpErrorMeaning(
  e: Pick<ProbeIcmpError, 'family' | 'type' | 'code' | 'mtu'>,
): string {
  const { family, type, code, mtu } = e;
  if (family === 'icmp' && type === 'unreachable' && code !== null) {
    const text = UNREACHABLE[code] ?? `unreachable (code ${code})`;
    return code === 4 && mtu !== null ? `${text}, next-hop MTU ${mtu}` : text;
  }
  if (family === 'icmp6' && type === 'destination unreachable' && code !== null) {
    return UNREACHABLE6[code] ?? `destination unreachable (code ${code})`;
  }
  if (type === 'packet too big') return mtu !== null ? `packet too big, MTU ${mtu}` : type;
  if (type === 'time exceeded') {
    if (code === 1) return 'fragment reassembly time exceeded';
    return family === 'icmp6'
      ? 'hop limit exceeded in transit (a routing loop, or the hop limit ran out)'
      : 'TTL exceeded in transit (a routing loop, or the TTL ran out)';
  }
  return type;
}

/**
 * A hop's errors about the probe for its report: one entry per distinct error (type, code,
 * sender, receiver, MTU), with how many times it was seen, in order of first appearance.
 */
export function hopIcmpErrors(errors: readonly ProbeIcmpError[]): HopIcmpError[] {
  const byKey = new Map<string, HopIcmpError>();
  for (const e of errors) {
    const key = [e.family, e.type, e.code, e.from, e.to, e.mtu, e.about].join('|');
    const seen = byKey.get(key);
    if (seen) {
      seen.count++;
      continue;
    }
    byKey.set(key, {
      family: e.family,
      type: e.type,
      code: e.code,
      from: e.from,
      to: e.to,
      mtu: e.mtu,
      meaning: icmpErrorMeaning(e),
      about: e.about,
      quoted: `${e.quotedSrc} → ${e.quotedDst}`,
      count: 1,
    });
  }
  return [...byKey.values()];
}

/** `ICMP unreachable code 4`, `ICMPv6 packet too big`. */
export function icmpErrorName(e: Pick<HopIcmpError, 'family' | 'type' | 'code'>): string {
  const family = e.family === 'icmp6' ? 'ICMPv6' : 'ICMP';
  const code = e.code !== null && e.code !== 0 ? ` code ${e.code}` : '';
  return `${family} ${e.type}${code}`;
}

/**
 * The sentence for a hop where the probe was answered by an ICMP error:
 * `At 01-podA-eth0 the probe was answered by ICMP unreachable code 4 from 10.244.0.1:
 * fragmentation needed, next-hop MTU 1450.`
 */
export function icmpErrorSentence(hop: string, errors: readonly HopIcmpError[]): string {
  const parts = errors.map((e) => {
    const times = e.count > 1 ? ` (${e.count} times)` : '';
    const about =
      e.about === 'packet'
        ? ''
        : ` (it quotes a packet of the probe's flow, ${e.quoted}, not one of the probe packets)`;
    return `${icmpErrorName(e)} from ${e.from}${times}: ${e.meaning}${about}`;
  });
  return `At ${hop} the probe was answered by ${parts.join('; and by ')}.`;
}
