/**
 * Checks a PlanInput and resolves what every mode needs from it (the two nodes,
 * the probe, the TTL). Names, interfaces and addresses end up in file names and
 * tcpdump filter expressions, so anything that is not plainly a name or an IP
 * address is refused here rather than quoted later.
 */
import type { Endpoint, NodeInfo, PlanInput, Probe } from './types';

/** A PlanInput that cannot be planned: one sentence saying which field and why. */
export class PlanInputError extends Error {
  override readonly name = 'PlanInputError';
}

export interface PlanContext {
  input: PlanInput;
  source: Endpoint;
  destination: Endpoint;
  sourceNode: NodeInfo;
  destinationNode: NodeInfo;
  sameNode: boolean;
  initialTtl: number;
  probe: Probe;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// Linux rejects '/', ':' and whitespace and allows 15 bytes (IFNAMSIZ − 1).
const INTERFACE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,14}$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?::(?:\d{1,3}\.){3}\d{1,3})?$/;

/** True for a dotted-quad IPv4 address. */
export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

function isIp(s: string): boolean {
  return isIpv4(s) || (IPV6.test(s) && s.length <= 45 && (s.match(/:/g) ?? []).length >= 2);
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The IPv4 network of `ip` with a prefix of `bits` (`192.168.231.131`, 26 → `192.168.231.128/26`). */
export function ipv4Network(ip: string, bits: number): string | null {
  if (!isIpv4(ip) || bits < 0 || bits > 32) return null;
  const size = 2 ** (32 - bits);
  return `${numberToIpv4(Math.floor(ipv4ToNumber(ip) / size) * size)}/${bits}`;
}

/** Whether `ip` is inside `cidr`; null when either is not IPv4. */
export function ipv4InCidr(ip: string, cidr: string): boolean | null {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (base === undefined || !isIpv4(base) || !Number.isInteger(bits)) return null;
  const net = ipv4Network(base, bits);
  return net !== null && ipv4Network(ip, bits) === net;
}

function checkName(what: string, value: string): void {
  if (!NAME.test(value)) {
    throw new PlanInputError(`${what} "${value}" is not a plain name (letters, digits, . _ -).`);
  }
}

function checkInterface(what: string, value: string | undefined): void {
  if (value !== undefined && !INTERFACE.test(value)) {
    throw new PlanInputError(`${what} "${value}" is not a valid Linux interface name.`);
  }
}

function checkIp(what: string, value: string): void {
  if (!isIp(value)) throw new PlanInputError(`${what} "${value}" is not an IP address.`);
}

function checkEndpoint(role: string, ep: Endpoint): void {
  checkName(`${role} name`, ep.name);
  checkName(`${role} node`, ep.node);
  checkIp(`${role} IP`, ep.ip);
  checkInterface(`${role} interface`, ep.interface);
  checkInterface(`${role} host interface`, ep.hostInterface);
  if (ep.kind !== 'pod') {
    // A node endpoint skips the pod hops and changes where TTL is spent; not planned yet.
    throw new PlanInputError(`${role} ${ep.name} is a node; only pod-to-pod paths are planned.`);
  }
}

function checkInteger(what: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
    throw new PlanInputError(`${what} ${String(value)} is not an integer in ${min}..${max}.`);
  }
}

function findNode(nodes: NodeInfo[], name: string, role: string): NodeInfo {
  const node = nodes.find((n) => n.name === name);
  if (!node) throw new PlanInputError(`node ${name} of the ${role} is not in nodes.`);
  checkName('node name', node.name);
  checkIp(`node ${node.name} IP`, node.ip);
  checkInterface(`node ${node.name} interface`, node.interface);
  if (node.subnet !== undefined && !/^[0-9A-Fa-f:.]+\/\d{1,3}$/.test(node.subnet)) {
    throw new PlanInputError(`node ${node.name} subnet "${node.subnet}" is not a CIDR.`);
  }
  return node;
}

/**
 * Validates a PlanInput and resolves its nodes, probe and initial TTL.
 * @throws PlanInputError naming the offending field.
 */
export function planContext(input: PlanInput): PlanContext {
  checkEndpoint('source', input.source);
  checkEndpoint('destination', input.destination);
  checkInteger('initialTtl', input.initialTtl, 1, 255);
  checkInteger('vni', input.vni, 0, 0xffffff);
  checkInteger('vxlanPort', input.vxlanPort, 1, 65535);
  // 576 is the smallest MTU IPv4 hosts must accept; 9216 covers jumbo frames.
  checkInteger('tunnelMtu', input.tunnelMtu, 576, 9216);
  const probe: Probe = input.probe ?? { protocol: 'icmp' };
  if (probe.protocol !== 'icmp') checkInteger('probe port', probe.port, 1, 65535);
  if (input.source.ip === input.destination.ip) {
    throw new PlanInputError(`source and destination share the IP ${input.source.ip}.`);
  }
  return {
    input,
    source: input.source,
    destination: input.destination,
    sourceNode: findNode(input.nodes, input.source.node, 'source'),
    destinationNode: findNode(input.nodes, input.destination.node, 'destination'),
    sameNode: input.source.node === input.destination.node,
    initialTtl: input.initialTtl ?? 64,
    probe,
  };
}

/**
 * ICMP errors about a packet from `a` to `b`, as a tcpdump expression: errors sent back to
 * `a` (destination unreachable — "fragmentation needed" among them — and time exceeded)
 * whose quoted datagram is addressed to `b`. A node that drops the probe answers from its
 * own address, not from `b`, so `host a and host b` alone would filter the answer out.
 * IPv4 reads the quoted destination at `icmp[24:4]` (8 bytes of ICMP header, then the
 * quoted IP header's destination at its offset 16); IPv6 keeps errors to `a` by type only
 * (destination unreachable 1, packet too big 2, time exceeded 3).
 */
function icmpErrorsAbout(a: string, b: string): string {
  if (!isIpv4(a) || !isIpv4(b)) {
    return `icmp6 and dst host ${a} and (icmp6[0] == 1 or icmp6[0] == 2 or icmp6[0] == 3)`;
  }
  const hex = `0x${ipv4ToNumber(b).toString(16).padStart(8, '0')}`;
  return `icmp and dst host ${a} and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed) and icmp[24:4] == ${hex}`;
}

/**
 * The tcpdump filter for the probe itself (un-encapsulated hops), and the ICMP errors
 * sent back to its source about it. tcpdump gives `and` and `or` the same precedence, so
 * the alternatives are parenthesised; the filter is passed as one argv word, never
 * through a shell.
 */
export function probeFilter(probe: Probe, a: string, b: string): string {
  const proto =
    probe.protocol !== 'icmp'
      ? `${probe.protocol} port ${probe.port}`
      : isIpv4(a)
        ? 'icmp'
        : 'icmp6';
  return `(${proto} and host ${a} and host ${b}) or (${icmpErrorsAbout(a, b)})`;
}

/**
 * The tcpdump filter for tunnel traffic between two node IPs, and the ICMP errors sent back
 * to node `a` about it (an underlay router with a smaller MTU answers "fragmentation needed").
 */
export function tunnelFilter(tunnel: { udpPort: number } | 'ipip', a: string, b: string): string {
  const proto = tunnel === 'ipip' ? 'ip proto 4' : `udp port ${tunnel.udpPort}`;
  return `(${proto} and host ${a} and host ${b}) or (${icmpErrorsAbout(a, b)})`;
}

/** One-line description of the probe, e.g. `ICMP echo request`. */
export function probeText(probe: Probe): string {
  return probe.protocol === 'icmp'
    ? 'ICMP echo request'
    : `${probe.protocol.toUpperCase()} to port ${probe.port}`;
}
