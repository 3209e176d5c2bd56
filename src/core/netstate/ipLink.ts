/**
 * Parsers for `ip link` / `ip -d link` and `ip addr` text. Both print one block
 * per interface: a header line (`2: eth0@if3: <FLAGS> mtu … state …`), then
 * indented continuation lines (`link/ether …`, the `-d` kind and slave lines,
 * `inet …` addresses). JSON (`ip -j`) would be easier but real walkthroughs and
 * bug reports paste the text form, so the text form is what we read.
 */

/** One interface as `ip link` / `ip -d link` prints it. */
export interface IpLink {
  index: number;
  name: string;
  /** `eth0@if3` → 3; `cali…@if2` → 2 (peer ifindex, in the other namespace when linkNetns is set). */
  peerIndex?: number;
  /** `eth0@NONE` and `vxlan@eth0` style parents are kept as text. */
  parent?: string;
  flags: string[];
  mtu: number;
  state?: string;
  master?: string;
  qdisc?: string;
  /** `ether`, `loopback`, `ipip`, `none`… */
  linkType?: string;
  mac?: string;
  brd?: string;
  linkNetns?: string;
  linkNetnsId?: number;
  /** `-d` only: `veth`, `bridge`, `vxlan`, `ipip`… (absent for devices with no kind, like lo). */
  kind?: string;
  /** `-d` only: key/value attributes of the kind line (`id` → `1`, `dstport` → `8472`). */
  kindAttributes: Record<string, string>;
  /** `-d` only: bare words on the kind line (`nolearning`, `udpcsum`). */
  kindFlags: string[];
  /** `-d` only: `bridge_slave` when the device is a bridge port. */
  slaveKind?: string;
  slaveAttributes: Record<string, string>;
}

/** The VXLAN settings of an `ip -d link` vxlan device, or undefined for other kinds. */
export interface VxlanSettings {
  id: number;
  local?: string;
  dev?: string;
  dstport?: number;
  learning: boolean;
}

const HEADER = /^(\d+):\s+([^:\s]+?)(?:@([^:\s]+))?:\s+<([^>]*)>\s*(.*)$/;

/** Words that are flags (no value) on `-d` kind and slave lines. */
const BARE_WORDS = new Set([
  'nolearning',
  'learning',
  'udpcsum',
  'noudpcsum',
  'noudp6zerocsumtx',
  'noudp6zerocsumrx',
  'udp6zerocsumtx',
  'udp6zerocsumrx',
  'external',
  'noexternal',
  'proxy',
  'l2miss',
  'l3miss',
  'rsc',
  'gbp',
  'gpe',
  'pmtudisc',
  'nopmtudisc',
  'ignore-df',
  'noignore-df',
]);

/** Keys that take two values (`srcport 0 0`). */
const TWO_VALUE_KEYS = new Set(['srcport']);

/** Keys that print their value padded (`hello_timer    0.00`): still one value. */
function parseAttributes(tokens: string[]): { attrs: Record<string, string>; flags: string[] } {
  const attrs: Record<string, string> = {};
  const flags: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const key = tokens[i];
    if (key === undefined) continue;
    if (BARE_WORDS.has(key)) {
      flags.push(key);
      continue;
    }
    const value = tokens[i + 1];
    if (value === undefined) {
      flags.push(key);
      continue;
    }
    if (TWO_VALUE_KEYS.has(key)) {
      attrs[key] = `${value} ${tokens[i + 2] ?? ''}`.trim();
      i += 2;
      continue;
    }
    attrs[key] = value;
    i += 1;
  }
  return { attrs, flags };
}

function splitWords(line: string): string[] {
  return line
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/** Link-layer attributes that sit on the `link/…` line after the addresses. */
const LINK_LINE_GENERIC = new Set([
  'promiscuity',
  'allmulti',
  'minmtu',
  'maxmtu',
  'addrgenmode',
  'numtxqueues',
  'numrxqueues',
  'gso_max_size',
  'gso_max_segs',
  'tso_max_size',
  'tso_max_segs',
  'gro_max_size',
  'gso_ipv4_max_size',
  'gro_ipv4_max_size',
  'parentbus',
  'parentdev',
]);

function parseHeader(line: string): IpLink | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  const [, index, name, at, flags, rest] = m;
  const link: IpLink = {
    index: Number(index),
    name: name ?? '',
    flags: (flags ?? '').split(',').filter((f) => f.length > 0),
    mtu: 0,
    kindAttributes: {},
    kindFlags: [],
    slaveAttributes: {},
  };
  if (at !== undefined) {
    const peer = /^if(\d+)$/.exec(at);
    if (peer) link.peerIndex = Number(peer[1]);
    else link.parent = at;
  }
  const { attrs } = parseAttributes(splitWords(rest ?? ''));
  if (attrs.mtu !== undefined) link.mtu = Number(attrs.mtu);
  if (attrs.state !== undefined) link.state = attrs.state;
  if (attrs.master !== undefined) link.master = attrs.master;
  if (attrs.qdisc !== undefined) link.qdisc = attrs.qdisc;
  return link;
}

function applyLinkLine(link: IpLink, words: string[]): void {
  const first = words[0] ?? '';
  link.linkType = first.slice('link/'.length);
  let i = 1;
  // `link/ether MAC brd MAC`, `link/ipip 0.0.0.0 brd 0.0.0.0`, `link/none`
  const address = words[i];
  if (address !== undefined && address !== 'brd' && !LINK_LINE_GENERIC.has(address)) {
    link.mac = address;
    i += 1;
  }
  if (words[i] === 'brd') {
    link.brd = words[i + 1];
    i += 2;
  }
  const { attrs } = parseAttributes(words.slice(i));
  if (attrs['link-netns'] !== undefined) link.linkNetns = attrs['link-netns'];
  if (attrs['link-netnsid'] !== undefined) link.linkNetnsId = Number(attrs['link-netnsid']);
}

function applyDetailLine(link: IpLink, words: string[]): void {
  const [kind, ...rest] = words;
  if (kind === undefined || LINK_LINE_GENERIC.has(kind)) return;
  const { attrs, flags } = parseAttributes(rest);
  if (kind.endsWith('_slave')) {
    link.slaveKind = kind;
    link.slaveAttributes = attrs;
    return;
  }
  if (link.kind !== undefined) return;
  link.kind = kind;
  link.kindAttributes = attrs;
  link.kindFlags = flags;
}

/**
 * Parses `ip link show` or `ip -d link show` output into one record per
 * interface. Lines that do not belong to a block are ignored.
 */
export function parseIpLink(text: string): IpLink[] {
  return parseIpAddr(text).map(({ addresses: _addresses, ...link }) => link);
}

/** One address line of `ip addr`. */
export interface IpAddress {
  family: 'inet' | 'inet6';
  address: string;
  prefixLength: number;
  peer?: string;
  scope?: string;
  /** `inet 10.0.0.1/24 … eth0:1` style labels. */
  label?: string;
  flags: string[];
}

export interface IpAddrInterface extends IpLink {
  addresses: IpAddress[];
}

function parseAddressLine(words: string[]): IpAddress | undefined {
  const [family, cidr, ...rest] = words;
  if ((family !== 'inet' && family !== 'inet6') || cidr === undefined) return undefined;
  const slash = cidr.lastIndexOf('/');
  const address: IpAddress = {
    family,
    address: slash >= 0 ? cidr.slice(0, slash) : cidr,
    prefixLength: slash >= 0 ? Number(cidr.slice(slash + 1)) : family === 'inet' ? 32 : 128,
    flags: [],
  };
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    const next = rest[i + 1];
    if (w === 'peer' && next !== undefined) {
      address.peer = next;
      i += 1;
    } else if (w === 'scope' && next !== undefined) {
      address.scope = next;
      i += 1;
    } else if ((w === 'brd' || w === 'metric') && next !== undefined) {
      i += 1;
    } else if (w !== undefined && i === rest.length - 1 && address.scope !== undefined) {
      // the trailing word after scope is the label (interface name or alias) or a flag
      if (/^(dynamic|noprefixroute|tentative|deprecated|secondary|permanent)$/.test(w))
        address.flags.push(w);
      else address.label = w;
    } else if (w !== undefined) {
      address.flags.push(w);
    }
  }
  return address;
}

/**
 * Parses `ip addr show` (also works on `ip link` / `ip -d link`, giving no
 * addresses). Continuation lines are classified by their first word: `link/…`,
 * `inet`/`inet6`, `valid_lft` (ignored), otherwise a `-d` kind or slave line.
 */
export function parseIpAddr(text: string): IpAddrInterface[] {
  const out: IpAddrInterface[] = [];
  let current: IpAddrInterface | undefined;
  for (const raw of text.split('\n')) {
    if (raw.trim().length === 0) continue;
    if (!/^\s/.test(raw)) {
      const header = parseHeader(raw);
      current = header ? { ...header, addresses: [] } : undefined;
      if (current) out.push(current);
      continue;
    }
    if (!current) continue;
    const words = splitWords(raw);
    const first = words[0] ?? '';
    if (first.startsWith('link/')) applyLinkLine(current, words);
    else if (first === 'inet' || first === 'inet6') {
      const a = parseAddressLine(words);
      if (a) current.addresses.push(a);
    } else if (first === 'valid_lft' || first === 'altname') continue;
    else applyDetailLine(current, words);
  }
  return out;
}

/** VXLAN settings of a parsed `ip -d link` device, or undefined when it is not VXLAN. */
export function vxlanSettings(link: IpLink): VxlanSettings | undefined {
  if (link.kind !== 'vxlan') return undefined;
  const a = link.kindAttributes;
  const settings: VxlanSettings = {
    id: Number(a.id),
    learning: !link.kindFlags.includes('nolearning'),
  };
  if (a.local !== undefined) settings.local = a.local;
  if (a.dev !== undefined) settings.dev = a.dev;
  if (a.dstport !== undefined) settings.dstport = Number(a.dstport);
  return settings;
}
