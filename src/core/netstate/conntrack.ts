/**
 * `conntrack -L` output read into entries (original and reply tuple), and what they say
 * about NAT: the reply tuple is what the kernel expects back, so a reply source that is
 * not the original destination is a DNAT, and a reply destination that is not the
 * original source is an SNAT (MASQUERADE). Tolerant: a line it cannot read is kept in
 * `unread`, never a throw.
 */

export interface ConntrackTuple {
  src: string;
  dst: string;
  /** TCP/UDP/SCTP ports; null for ICMP and the rest. */
  sport: number | null;
  dport: number | null;
}

export interface ConntrackEntry {
  /** `tcp`, `udp`, `icmp`, … as conntrack names it. */
  protocol: string;
  /** Seconds left before the entry expires. */
  timeout: number | null;
  /** TCP state (`ESTABLISHED`, `TIME_WAIT`…), null for the other protocols. */
  state: string | null;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** `ASSURED`, `UNREPLIED`, … */
  flags: string[];
  mark: number | null;
}

export interface ConntrackListing {
  entries: ConntrackEntry[];
  /** Lines that were not an entry nor conntrack's own summary line. */
  unread: string[];
}

const SUMMARY = /^conntrack v[\d.]+ \(conntrack-tools\): \d+ flow entries have been shown\.$/;

function tuple(fields: Map<string, string>): ConntrackTuple | undefined {
  const src = fields.get('src');
  const dst = fields.get('dst');
  if (src === undefined || dst === undefined) return undefined;
  const port = (k: string): number | null => {
    const v = fields.get(k);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  };
  return { src, dst, sport: port('sport'), dport: port('dport') };
}

function parseLine(line: string): ConntrackEntry | undefined {
  const tokens = line.trim().split(/\s+/);
  let i = 0;
  // `-o extended` starts with the layer-3 family and its number
  if ((tokens[0] === 'ipv4' || tokens[0] === 'ipv6') && /^\d+$/.test(tokens[1] ?? '')) i = 2;
  const protocol = tokens[i];
  if (protocol === undefined || !/^[a-z][a-z0-9-]*$/.test(protocol)) return undefined;
  if (!/^\d+$/.test(tokens[i + 1] ?? '')) return undefined;
  i += 2;
  let timeout: number | null = null;
  if (/^\d+$/.test(tokens[i] ?? '')) timeout = Number(tokens[i++]);
  let state: string | null = null;
  if (/^[A-Z_]+$/.test(tokens[i] ?? '')) state = tokens[i++]!;
  const groups: Map<string, string>[] = [new Map()];
  const flags: string[] = [];
  let mark: number | null = null;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    const flag = /^\[([A-Z_]+)\]$/.exec(t);
    if (flag) {
      flags.push(flag[1]!);
      continue;
    }
    const eq = t.indexOf('=');
    if (eq <= 0) return undefined;
    const key = t.slice(0, eq);
    const value = t.slice(eq + 1);
    if (key === 'mark') {
      mark = /^\d+$/.test(value) ? Number(value) : null;
      continue;
    }
    // a second `src=` starts the reply tuple
    if (key === 'src' && groups[groups.length - 1]!.has('src')) groups.push(new Map());
    groups[groups.length - 1]!.set(key, value);
  }
  const original = groups[0] ? tuple(groups[0]) : undefined;
  const reply = groups[1] ? tuple(groups[1]) : undefined;
  if (!original || !reply) return undefined;
  return { protocol, timeout, state, original, reply, flags, mark };
}

/**
 * Reads `conntrack -L` (default or `-o extended` output; conntrack's summary line may be
 * mixed in).
 *
 * @param text the command's output.
 */
export function parseConntrack(text: string): ConntrackListing {
  const entries: ConntrackEntry[] = [];
  const unread: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || SUMMARY.test(line)) continue;
    const e = parseLine(line);
    if (e) entries.push(e);
    else unread.push(line);
  }
  return { entries, unread };
}

function endpoint(address: string, port: number | null): string {
  return port === null ? address : `${address}:${port}`;
}

/** The NAT one entry records, if any. */
export interface ConntrackNat {
  /** Original destination → where it really went (reply source). */
  dnat: { from: string; to: string } | null;
  /** Original source → the source the peer saw (reply destination). */
  snat: { from: string; to: string } | null;
}

/**
 * The DNAT and SNAT an entry records: the reply tuple, read backwards, is the
 * connection as the far end saw it.
 *
 * @param e one conntrack entry.
 */
export function natOf(e: ConntrackEntry): ConntrackNat {
  const o = e.original;
  const r = e.reply;
  const dnat =
    r.src !== o.dst || r.sport !== o.dport
      ? { from: endpoint(o.dst, o.dport), to: endpoint(r.src, r.sport) }
      : null;
  const snat =
    r.dst !== o.src || r.dport !== o.sport
      ? { from: endpoint(o.src, o.sport), to: endpoint(r.dst, r.dport) }
      : null;
  return { dnat, snat };
}

/** NAT of many connections, counted and worded. */
export interface NatSummary {
  /** `10.96.0.10:80 → 10.244.1.4:8080` with the rule's chain and how many connections. */
  dnat: { from: string; to: string; chain: string | null; connections: number }[];
  /** Source addresses only (ports are per connection): `172.18.0.100 → 10.244.0.0`. */
  snat: { from: string; to: string; connections: number }[];
  /** Connections of the selection without any NAT. */
  plain: number;
  /** One sentence each, for people. */
  findings: string[];
}

/**
 * Counts the DNAT and SNAT among the entries `select` keeps and says them in words:
 * "10.96.0.10:80 → 10.244.1.4:8080 (DNAT, KUBE-SEP-…): 67 connections", "source
 * 172.18.0.100 → 10.244.0.0 (MASQUERADE): 200 connections".
 *
 * @param entries conntrack entries of one node.
 * @param options where the entries were read, which to keep, and the DNAT chain per endpoint address.
 */
export function summarizeNat(
  entries: readonly ConntrackEntry[],
  options: {
    where: string;
    select?: (e: ConntrackEntry) => boolean;
    chainFor?: (endpoint: string) => string | undefined;
  },
): NatSummary {
  const dnat = new Map<
    string,
    { from: string; to: string; chain: string | null; connections: number }
  >();
  const snat = new Map<string, { from: string; to: string; connections: number }>();
  let plain = 0;
  for (const e of entries) {
    if (options.select && !options.select(e)) continue;
    const nat = natOf(e);
    if (!nat.dnat && !nat.snat) plain++;
    if (nat.dnat) {
      const k = `${nat.dnat.from} ${nat.dnat.to}`;
      const d = dnat.get(k) ?? {
        ...nat.dnat,
        chain: options.chainFor?.(nat.dnat.to) ?? null,
        connections: 0,
      };
      d.connections++;
      dnat.set(k, d);
    }
    if (nat.snat) {
      const from = e.original.src;
      const to = e.reply.dst;
      const k = `${from} ${to}`;
      const s = snat.get(k) ?? { from, to, connections: 0 };
      s.connections++;
      snat.set(k, s);
    }
  }
  const n = (c: number): string => `${c} connection${c === 1 ? '' : 's'}`;
  const findings = [
    ...[...dnat.values()].map(
      (d) =>
        `${options.where}: destination ${d.from} → ${d.to} (DNAT${d.chain ? `, ${d.chain}` : ''}): ${n(d.connections)}.`,
    ),
    ...[...snat.values()].map(
      (s) =>
        `${options.where}: source ${s.from} → ${s.to}${s.from === s.to ? ' (source port only)' : ''} (MASQUERADE): ${n(s.connections)}.`,
    ),
  ];
  if (plain > 0) findings.push(`${options.where}: ${n(plain)} without NAT.`);
  return { dnat: [...dnat.values()], snat: [...snat.values()], plain, findings };
}
