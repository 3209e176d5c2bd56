/**
 * Reads what a node in kube-proxy's IPVS mode shows: `ipvsadm -Ln` (or
 * `ipvsadm-save -n`), `ipset list`, `ip addr show kube-ipvs0` and the iptables
 * rules that remain (`iptables-save`), all from one text in any order.
 *
 * Tolerant: lines no section claims are kept in `unread`.
 */
import { parseIptablesSave, type IptablesRuleset } from './iptablesRules';

export interface IpvsRealServer {
  /** `IP:PORT`. */
  address: string;
  forward: string;
  weight: number;
  activeConnections?: number;
  inactiveConnections?: number;
}

export interface IpvsVirtualService {
  protocol: string;
  address: string;
  port: number;
  scheduler: string;
  /** `persistent N`: ClientIP affinity in seconds. */
  persistentSeconds: number | null;
  realServers: IpvsRealServer[];
  line: number;
}

export interface IpvsState {
  services: IpvsVirtualService[];
  /** ipset name → members as printed (`10.96.0.1,tcp:443`). */
  ipsets: Map<string, string[]>;
  /** Addresses on kube-ipvs0, or null when the dump does not show the device. */
  dummyAddresses: Set<string> | null;
  iptables: IptablesRuleset;
  unread: string[];
}

function splitHostPort(text: string): { host: string; port: number } | null {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  return m ? { host: m[1]!, port: Number(m[2]) } : null;
}

/**
 * Reads the IPVS view of a node.
 *
 * @param text any mix of ipvsadm, ipset, ip addr and iptables-save output.
 */
export function parseIpvsState(text: string): IpvsState {
  const state: IpvsState = {
    services: [],
    ipsets: new Map(),
    dummyAddresses: null,
    iptables: parseIptablesSave(''),
    unread: [],
  };
  const iptLines: string[] = [];
  let current: IpvsVirtualService | null = null;
  let set: string[] | null = null;
  let inMembers = false;
  let inDummy = false;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.trim();
    if (!line) {
      inMembers = false;
      return;
    }
    // Prompts and iptables-save's own comments.
    if (/^\$\s/.test(line)) {
      // A new command: whatever section was open has ended.
      set = null;
      inMembers = false;
      inDummy = false;
      current = null;
      return;
    }
    if (/^# (Generated|Completed) by|^# Completed on/.test(line)) return;
    // iptables-save lines go to the iptables reader, with their table headers.
    if (
      /^(\*\w+|:\S+ \S+ \[\d+:\d+\]|COMMIT|(\[\d+:\d+\] )?-A \S+)/.test(line) &&
      !/^-A -[tuf] /.test(line)
    ) {
      iptLines.push(raw);
      return;
    }
    if (/^(IP Virtual Server version|Prot LocalAddress:Port|-> RemoteAddress:Port)/.test(line))
      return;
    const vs = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\w+)(.*)$/.exec(line);
    if (vs) {
      const hp = splitHostPort(vs[2]!);
      if (!hp) {
        state.unread.push(`${lineNo}: ${raw}`);
        return;
      }
      const persistent = /persistent (\d+)/.exec(vs[4] ?? '');
      current = {
        protocol: vs[1]!.toLowerCase(),
        address: hp.host,
        port: hp.port,
        scheduler: vs[3]!,
        persistentSeconds: persistent ? Number(persistent[1]) : null,
        realServers: [],
        line: lineNo,
      };
      state.services.push(current);
      return;
    }
    const rs = /^->\s+(\S+)\s+(\w+)\s+(\d+)(?:\s+(\d+)\s+(\d+))?/.exec(line);
    if (rs && current) {
      current.realServers.push({
        address: rs[1]!.replace(/^\[(.*)\](:\d+)$/, '$1$2'),
        forward: rs[2]!,
        weight: Number(rs[3]),
        ...(rs[4] !== undefined
          ? { activeConnections: Number(rs[4]), inactiveConnections: Number(rs[5]) }
          : {}),
      });
      return;
    }
    // ipvsadm-save -n: -A -t VIP:PORT -s rr [-p 10800] / -a -t VIP:PORT -r RIP:PORT -m -w 1
    const saveA = /^-A -([tus]) (\S+) -s (\w+)(?: -p (\d+))?/.exec(line);
    if (saveA) {
      const hp = splitHostPort(saveA[2]!);
      if (hp) {
        current = {
          protocol: { t: 'tcp', u: 'udp', s: 'sctp' }[saveA[1] as 't' | 'u' | 's'],
          address: hp.host,
          port: hp.port,
          scheduler: saveA[3]!,
          persistentSeconds: saveA[4] ? Number(saveA[4]) : null,
          realServers: [],
          line: lineNo,
        };
        state.services.push(current);
        return;
      }
    }
    const saveR = /^-a -([tus]) (\S+) -r (\S+) -([gim])(?: -w (\d+))?/.exec(line);
    if (saveR) {
      const owner = state.services.find((s) => `${s.address}:${s.port}` === saveR[2]);
      if (owner) {
        owner.realServers.push({
          address: saveR[3]!,
          forward: { g: 'Route', i: 'Tunnel', m: 'Masq' }[saveR[4] as 'g' | 'i' | 'm'],
          weight: saveR[5] ? Number(saveR[5]) : 1,
        });
        return;
      }
    }
    const name = /^Name: (\S+)/.exec(line);
    if (name) {
      set = [];
      state.ipsets.set(name[1]!, set);
      inMembers = false;
      inDummy = false;
      return;
    }
    if (set && /^(Type|Revision|Header|Size in memory|References|Number of entries):/.test(line))
      return;
    if (set && line === 'Members:') {
      inMembers = true;
      return;
    }
    if (inMembers && set) {
      set.push(line.split(/\s+/)[0]!);
      return;
    }
    const dev = /^\d+: (\S+?)(?:@\S+)?: </.exec(line);
    if (dev) {
      inDummy = dev[1] === 'kube-ipvs0';
      if (inDummy) state.dummyAddresses = state.dummyAddresses ?? new Set();
      return;
    }
    if (inDummy && /^(link\/|valid_lft)/.test(line)) return;
    const inet = /^inet6? (\S+?)(?:\/\d+)? /.exec(line + ' ');
    if (inDummy && inet) {
      state.dummyAddresses!.add(inet[1]!);
      return;
    }
    state.unread.push(`${lineNo}: ${raw}`);
  });
  state.iptables = parseIptablesSave(iptLines.join('\n'));
  state.unread.push(...state.iptables.unread);
  return state;
}

/** True when the text looks like IPVS output rather than iptables or nftables. */
export function looksLikeIpvs(text: string): boolean {
  return (
    /^\s*(?:IP Virtual Server version|Prot LocalAddress:Port)/m.test(text) ||
    /^-A -[tus] \S+ -s \w+/m.test(text)
  );
}
