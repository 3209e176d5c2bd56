/** Parser for `bridge fdb show` text (bridge forwarding and VXLAN tunnel entries). */

export interface FdbEntry {
  mac: string;
  dev?: string;
  /** VXLAN remote (`dst 172.18.0.6`). */
  dst?: string;
  master?: string;
  vlan?: number;
  /** The entry lives in the device's own table (`self`): VXLAN remotes, multicast. */
  self: boolean;
  permanent: boolean;
  static: boolean;
  /** Other bare words (`extern_learn`, `offload`, `sticky`). */
  flags: string[];
  attributes: Record<string, string>;
}

/** Parses `bridge fdb show` output; one entry per non-blank line. */
export function parseBridgeFdb(text: string): FdbEntry[] {
  const out: FdbEntry[] = [];
  for (const line of text.split('\n')) {
    const ws = line
      .trim()
      .split(/\s+/)
      .filter((w) => w.length > 0);
    const mac = ws[0];
    if (mac === undefined) continue;
    const e: FdbEntry = {
      mac,
      self: false,
      permanent: false,
      static: false,
      flags: [],
      attributes: {},
    };
    for (let i = 1; i < ws.length; i++) {
      const w = ws[i] ?? '';
      const next = ws[i + 1];
      if (w === 'self') e.self = true;
      else if (w === 'permanent') e.permanent = true;
      else if (w === 'static') e.static = true;
      else if (w === 'dev' && next !== undefined) {
        e.dev = next;
        i += 1;
      } else if (w === 'dst' && next !== undefined) {
        e.dst = next;
        i += 1;
      } else if (w === 'master' && next !== undefined) {
        e.master = next;
        i += 1;
      } else if (w === 'vlan' && next !== undefined) {
        e.vlan = Number(next);
        i += 1;
      } else if (['port', 'vni', 'via', 'src_vni', 'nhid'].includes(w) && next !== undefined) {
        e.attributes[w] = next;
        i += 1;
      } else e.flags.push(w);
    }
    out.push(e);
  }
  return out;
}
