/** Parser for `ip neigh show` text (the ARP / NDP cache). */

export interface IpNeighbour {
  address: string;
  dev?: string;
  lladdr?: string;
  /** NUD states as printed: `REACHABLE`, `STALE`, `PERMANENT`, `FAILED`… (more than one is possible). */
  states: string[];
  router: boolean;
  proxy: boolean;
}

/** Parses `ip neigh show` output; one entry per non-blank line. */
export function parseIpNeigh(text: string): IpNeighbour[] {
  const out: IpNeighbour[] = [];
  for (const line of text.split('\n')) {
    const ws = line
      .trim()
      .split(/\s+/)
      .filter((w) => w.length > 0);
    const address = ws[0];
    if (address === undefined) continue;
    const n: IpNeighbour = { address, states: [], router: false, proxy: false };
    for (let i = 1; i < ws.length; i++) {
      const w = ws[i] ?? '';
      const next = ws[i + 1];
      if (w === 'dev' && next !== undefined) {
        n.dev = next;
        i += 1;
      } else if (w === 'lladdr' && next !== undefined) {
        n.lladdr = next;
        i += 1;
      } else if (w === 'router') n.router = true;
      else if (w === 'proxy') n.proxy = true;
      else if (/^[A-Z_]+$/.test(w)) n.states.push(w);
    }
    out.push(n);
  }
  return out;
}
