/**
 * What a hop keeps of each packet once it has been decoded: a compact record in typed-array
 * columns, not the packet. A record is the packet's logical key (which survives routing,
 * encapsulation and NAT), its innermost flow, time, TTL, length, a few flags, and where the
 * packet starts in its file, so the packet itself can be decoded again when it is shown.
 * About 30 bytes a packet: a million-packet hop is 28 MB, eight of them fit in a few hundred.
 *
 * Keys (see packetObservation.ts for why these fields):
 * - ICMP echo: type + family + id + seq packed into one exact number below 2^35.
 * - TCP: sequence, ack, flags and length; UDP with its payload captured: IP id, length and a
 *   hash of the payload's first bytes. Neither holds addresses or ports, so NAT keeps them.
 * - Everything else: a 48-bit hash of the fields, placed at or above 2^36 so it never meets
 *   an echo key. Two packets collide with odds of about n²/2^49: nothing a capture reaches.
 * Flows are the innermost IP addresses, protocol and ports (ICMP: the echo id), kept once per
 * distinct flow in a small table; records point at it.
 */
import type { Icmp6Layer, IcmpLayer, Layer, Packet } from '../packets/model';
import { NumberIndex } from './numberIndex';
import { innermostIpIndex, protocolOf, type IpLayer } from './packetObservation';

/** Record flags. */
export const ECHO_REQUEST = 1;
export const ECHO_REPLY = 2;
/** TCP SYN without ACK: its sender is the client. */
export const TCP_SYN = 4;
export const HAS_TTL = 8;

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;
const HASHED_BASE = 2 ** 36;

export interface FlowEntry {
  /** `icmp`, `icmp6`, `tcp`, `udp` or `ip<protocol>`. */
  protocol: string;
  src: string;
  dst: string;
  srcPort: number | null;
  dstPort: number | null;
  /** ICMP echo identifier, when the flow is a ping. */
  icmpId: number | null;
  /** The same value for the same flow in every hop. */
  hash: number;
  /** Index of the flow's first record in this hop. */
  firstRecord: number;
  packets: number;
}

/**
 * An ICMP error (destination unreachable, packet too big, time exceeded…) that quotes the
 * datagram it was sent about, with the key and flow that datagram would have as a packet of
 * its own: correlation ties the error to the probe when they are the probe's.
 */
export interface IcmpErrorRecord {
  /** The error's own record index in the hop. */
  record: number;
  family: 'icmp' | 'icmp6';
  /** As the decoder names it (`unreachable`, `time exceeded`, `packet too big`…). */
  type: string;
  code: number | null;
  /** Next-hop MTU of "fragmentation needed", MTU of "packet too big". */
  mtu: number | null;
  /** Who sent the error, and to whom (the error's own IP addresses). */
  from: string;
  to: string;
  /** The quoted datagram's addresses. */
  quotedSrc: string;
  quotedDst: string;
  quotedKey: number;
  quotedFlowHash: number;
}

/** ICMP errors kept per hop: enough to say why, never a whole flood. */
const MAX_ICMP_ERRORS = 64;

/** One block of CHUNK records, a typed array per column (one shape: fast monomorphic access). */
class RecordChunk {
  readonly keys = new Float64Array(CHUNK);
  readonly times = new Float64Array(CHUNK);
  /** Byte offsets: low 32 bits and the bits above (files past 4 GiB). */
  readonly offsetLow = new Uint32Array(CHUNK);
  readonly offsetHigh = new Uint16Array(CHUNK);
  readonly flows = new Int32Array(CHUNK);
  readonly lengths = new Uint16Array(CHUNK);
  readonly ttls = new Uint8Array(CHUNK);
  readonly flags = new Uint8Array(CHUNK);
}

/**
 * The records of one hop, in capture order. Append with {@link HopRecords.add}; read with the
 * accessors. Index `i` is the packet's position in the hop (0-based), the same position the
 * packet table shows and `readPage` reads.
 */
export class HopRecords {
  length = 0;
  /** Packets that were not IP (ARP, LLDP, …): counted and kept, never a probe. */
  nonIp = 0;
  readonly flows: FlowEntry[] = [];
  /** ICMP errors that quote a datagram, in capture order (the first MAX_ICMP_ERRORS). */
  readonly icmpErrors: IcmpErrorRecord[] = [];
  private readonly flowIndex = new NumberIndex();
  private readonly chunks: RecordChunk[] = [];

  constructor(readonly name: string) {}

  /** Appends the record of `packet`, which starts at byte `offset` of its file; returns its index. */
  add(packet: Packet, offset: number): number {
    const i = this.length++;
    const j = i & MASK;
    let c = this.chunks[i >>> CHUNK_BITS];
    if (c === undefined) {
      c = new RecordChunk();
      this.chunks.push(c);
    }
    const layers = packet.layers;
    c.offsetLow[j] = offset % 4294967296;
    c.offsetHigh[j] = Math.floor(offset / 4294967296);
    c.times[j] = packet.ts ?? NaN;
    const ipIndex = innermostIpIndex(layers);
    if (ipIndex < 0) {
      this.nonIp++;
      c.keys[j] = NaN;
      c.flows[j] = -1;
      c.lengths[j] = clampLength(packet.frameLength);
      return i;
    }
    const ip = layers[ipIndex] as IpLayer;
    const next = layers[ipIndex + 1];
    const k = SCRATCH;
    packetKey(ip, next, k);
    let flags = k.flags;
    const ttl = ip.kind === 'ipv4' ? ip.ttl : ip.hopLimit;
    if (ttl !== undefined) {
      flags |= HAS_TTL;
      c.ttls[j] = ttl;
    }
    const key = k.key;
    const flowHash = k.flowHash;
    c.keys[j] = key;
    c.flags[j] = flags;
    c.lengths[j] = clampLength(packet.frameLength ?? outerLength(layers));
    let flow = this.flowIndex.get(flowHash);
    if (flow < 0) {
      flow = this.flows.length;
      this.flowIndex.add(flowHash, flow);
      this.flows.push({
        protocol: protocolOf(ip, next),
        src: ip.src,
        dst: ip.dst,
        srcPort: k.srcPort,
        dstPort: k.dstPort,
        icmpId: k.icmpId,
        hash: flowHash,
        firstRecord: i,
        packets: 0,
      });
    }
    this.flows[flow]!.packets++;
    c.flows[j] = flow;
    if (
      (next?.kind === 'icmp' || next?.kind === 'icmp6') &&
      next.quoted !== undefined &&
      this.icmpErrors.length < MAX_ICMP_ERRORS
    ) {
      this.addIcmpError(i, ip, next, next.quoted);
    }
    return i;
  }

  /** Keeps an ICMP error with the key and flow its quoted datagram would have as a packet. */
  private addIcmpError(
    record: number,
    ip: IpLayer,
    icmp: IcmpLayer | Icmp6Layer,
    quoted: Layer[],
  ): void {
    // Innermost, like the hop's own records: an error about a tunnel packet that quotes
    // enough of it is about the pod packet inside.
    const at = innermostIpIndex(quoted);
    if (at < 0) return;
    const inner = quoted[at] as IpLayer;
    const k: KeyParts = {
      key: 0,
      flowHash: 0,
      flags: 0,
      srcPort: null,
      dstPort: null,
      icmpId: null,
    };
    packetKey(inner, quoted[at + 1], k);
    this.icmpErrors.push({
      record,
      family: icmp.kind,
      type: icmp.type,
      code: icmp.code ?? null,
      mtu: icmp.mtu ?? null,
      from: ip.src,
      to: ip.dst,
      quotedSrc: inner.src,
      quotedDst: inner.dst,
      quotedKey: k.key,
      quotedFlowHash: k.flowHash,
    });
  }

  /** Logical key, NaN for packets without IP. */
  key(i: number): number {
    return this.chunks[i >>> CHUNK_BITS]!.keys[i & MASK]!;
  }
  /** Index into `flows`, -1 for packets without IP. */
  flow(i: number): number {
    return this.chunks[i >>> CHUNK_BITS]!.flows[i & MASK]!;
  }
  /** Timestamp as the capture gave it, NaN when it had none. */
  time(i: number): number {
    return this.chunks[i >>> CHUNK_BITS]!.times[i & MASK]!;
  }
  /** Byte offset in the file where the packet (pcap record, first text line) starts. */
  offset(i: number): number {
    const c = this.chunks[i >>> CHUNK_BITS]!;
    return c.offsetHigh[i & MASK]! * 4294967296 + c.offsetLow[i & MASK]!;
  }
  ttl(i: number): number | null {
    const c = this.chunks[i >>> CHUNK_BITS]!;
    return (c.flags[i & MASK]! & HAS_TTL) !== 0 ? c.ttls[i & MASK]! : null;
  }
  /** Frame length, else outermost IP length; null when neither was captured. */
  frameLength(i: number): number | null {
    const n = this.chunks[i >>> CHUNK_BITS]!.lengths[i & MASK]!;
    return n === 0 ? null : n;
  }
  flags(i: number): number {
    return this.chunks[i >>> CHUNK_BITS]!.flags[i & MASK]!;
  }

  /** The flow with the same hash in this hop, if any. */
  flowByHash(hash: number): number | undefined {
    const f = this.flowIndex.get(hash);
    return f < 0 ? undefined : f;
  }

  /** The first record index of the packet with `key`, or -1. A linear scan: one lookup. */
  findKey(key: number): number {
    const chunks = this.chunks;
    for (let c = 0; c < chunks.length; c++) {
      const keys = chunks[c]!.keys;
      const n = Math.min(CHUNK, this.length - c * CHUNK);
      for (let j = 0; j < n; j++) if (keys[j] === key) return c * CHUNK + j;
    }
    return -1;
  }

  /** The distinct keys of this hop, for "seen at the next hop" questions. */
  keySet(): NumberIndex {
    const set = new NumberIndex(this.length);
    const chunks = this.chunks;
    for (let c = 0; c < chunks.length; c++) {
      const keys = chunks[c]!.keys;
      const n = Math.min(CHUNK, this.length - c * CHUNK);
      for (let j = 0; j < n; j++) {
        const k = keys[j]!;
        if (k === k) set.add(k, 0);
      }
    }
    return set;
  }
}

/** The ICMP echo request key an echo reply `key` answers, or undefined for other keys. */
export function requestKeyOfReply(key: number): number | undefined {
  if (!(key < HASHED_BASE)) return undefined;
  const typeFamily = Math.floor(key / 2 ** 32);
  if (typeFamily >> 1 !== 2) return undefined;
  return key - 2 * 2 ** 32;
}

/** The ICMP sequence number inside an echo key, or undefined for other keys. */
export function echoSeqOfKey(key: number): number | undefined {
  return key < HASHED_BASE ? key % 65536 : undefined;
}

/**
 * A line of text that is not a packet (commentary glued to a command, a prompt): no time
 * and nothing but raw layers. Kept out of the hop's packets.
 */
export function isTextNoise(packet: Packet): boolean {
  return packet.ts === undefined && packet.layers.every((l) => l.kind === 'raw');
}

function clampLength(n: number | null | undefined): number {
  if (n === null || n === undefined || !(n > 0)) return 0;
  return n > 65535 ? 65535 : n;
}

function outerLength(layers: Layer[]): number | undefined {
  for (const l of layers) {
    if (l.kind === 'ipv4') return l.length;
    if (l.kind === 'ipv6') return l.length === undefined ? undefined : l.length + 40;
  }
  return undefined;
}

interface KeyParts {
  key: number;
  flowHash: number;
  /** ECHO_REQUEST, ECHO_REPLY, TCP_SYN. */
  flags: number;
  srcPort: number | null;
  dstPort: number | null;
  icmpId: number | null;
}

/** Reused by `add` so that a record costs no allocation. */
const SCRATCH: KeyParts = {
  key: 0,
  flowHash: 0,
  flags: 0,
  srcPort: null,
  dstPort: null,
  icmpId: null,
};

/**
 * The logical key and flow hash of the packet whose innermost IP layer is `ip`, followed by
 * `next`, written into `out` (see the header comment for what goes into each).
 */
function packetKey(ip: IpLayer, next: Layer | undefined, out: KeyParts): void {
  let flags = 0;
  let key: number;
  let flowHash: number;
  let srcPort: number | null = null;
  let dstPort: number | null = null;
  let icmpId: number | null = null;
  const ipId = ip.kind === 'ipv4' && ip.id !== undefined ? ip.id : -1;
  const srcHash = hashString(FNV, ip.src);
  const dstHash = hashString(FNV, ip.dst);
  // Both orders: a flow and its reverse are different flows.
  const addrHash = mix(srcHash, dstHash, 1);
  const addrHash2 = mix(dstHash ^ 0x5bd1e995, srcHash, 2);
  if (next === undefined) {
    key = hashed(mix(addrHash, ipId, 0), mix(addrHash2, ipId, 1));
    flowHash = hashed(mix(addrHash, 0, 0), addrHash2);
  } else {
    switch (next.kind) {
      case 'icmp':
      case 'icmp6': {
        const family = next.kind === 'icmp6' ? 1 : 0;
        const code = next.type === 'echo request' ? 1 : next.type === 'echo reply' ? 2 : 0;
        const { id, seq } = next;
        if (code === 1) flags |= ECHO_REQUEST;
        else if (code === 2) flags |= ECHO_REPLY;
        if (code !== 0 && id !== undefined && seq !== undefined && id < 65536 && seq < 65536) {
          key = ((code * 2 + family) * 65536 + id) * 65536 + seq;
        } else {
          const t = hashString(mix(FNV, next.code ?? -1, ipId), next.type);
          key = hashed(
            mix(mix(t ^ addrHash, id ?? -1, seq ?? -1), family, 3),
            mix(addrHash2, ipId, 4),
          );
        }
        icmpId = id ?? null;
        flowHash = hashed(mix(addrHash, 7 + family, id ?? -1), mix(addrHash2, id ?? -1, 7));
        break;
      }
      case 'tcp': {
        const f = next.flags;
        if (f !== undefined && f.includes('S') && !f.includes('.')) flags |= TCP_SYN;
        // Ports and addresses are left out of the key: NAT rewrites them (see packetObservation).
        const h1 = hashString(mix(FNV, next.seq ?? -1, next.ack ?? -1), f ?? '');
        key = hashed(mix(h1, next.length ?? -1, 5), mix(FNV2, next.seq ?? -1, next.ack ?? -1));
        srcPort = next.srcPort;
        dstPort = next.dstPort;
        flowHash = hashed(mix(addrHash, 6, next.srcPort), mix(addrHash2, next.dstPort, 6));
        break;
      }
      case 'udp': {
        if (next.payloadHash !== undefined && next.length !== undefined) {
          // Addresses and ports are left out, as for TCP: DNAT and MASQUERADE rewrite them.
          // The IP id, length and payload stay. Which port is the higher one keeps a reply
          // that repeats its request byte for byte (an echo, both IP ids 0) apart from it;
          // a NAT'd port seldom crosses the other port, and if it does the hop is missed,
          // never matched wrongly.
          const up = next.srcPort >= next.dstPort ? 1 : 2;
          key = hashed(
            mix(mix(FNV, ipId, next.length), next.payloadHash, 17 * up),
            mix(FNV2 ^ next.payloadHash, next.length, ipId + up * 65536),
          );
        } else {
          key = hashed(
            mix(mix(addrHash, ipId, next.srcPort), next.dstPort, 17),
            mix(addrHash2, ipId, next.dstPort),
          );
        }
        srcPort = next.srcPort;
        dstPort = next.dstPort;
        flowHash = hashed(mix(addrHash, 17, next.srcPort), mix(addrHash2, next.dstPort, 17));
        break;
      }
      default: {
        const proto = (ip.kind === 'ipv4' ? ip.proto : ip.nextHeader) ?? -1;
        key = hashed(mix(addrHash, ipId, proto), mix(addrHash2, ipId, proto + 9));
        flowHash = hashed(mix(addrHash, proto, 9), mix(addrHash2, proto, 9));
        break;
      }
    }
  }
  out.key = key;
  out.flowHash = flowHash;
  out.flags = flags;
  out.srcPort = srcPort;
  out.dstPort = dstPort;
  out.icmpId = icmpId;
}

const FNV = 0x811c9dc5;
const FNV2 = 0x01000193 ^ 0x5bd1e995;

function hashString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

function mix(h: number, a: number, b: number): number {
  h = Math.imul(h ^ (a | 0), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ Math.floor(a / 4294967296), 0x85ebca6b);
  h = Math.imul(h ^ (b | 0), 0xc2b2ae35);
  return h ^ (h >>> 13);
}

/** Two 32-bit hashes → one 48-bit number at or above 2^36. */
function hashed(a: number, b: number): number {
  return HASHED_BASE + (a >>> 0) * 65536 + ((b >>> 0) & 0xffff);
}
