/**
 * Decodes one captured frame, from its link-layer header to the innermost payload,
 * into the packet model's layers (outermost first), following tunnels (VXLAN,
 * Geneve, GRE, IP-in-IP) into the inner frame.
 *
 * This is the hot path of the pcap benchmark (a million frames well under a
 * second), so it works on (bytes, start, end) windows instead of slicing, reads
 * bytes by index, and builds address strings from lookup tables through a small
 * cache. It never throws on input: a header it cannot read becomes a `raw` layer
 * saying what was wrong, and decoding of that frame stops there.
 *
 * Names and lengths follow tcpdump: ICMP `length` is the ICMP message length
 * (`ICMP echo request, id 1, seq 1, length 64`), UDP `length` is the UDP length
 * minus its header (`UDP, length 12`), TCP `length` is the payload length, and TCP
 * flags are tcpdump's letters in its order (`F S R P . U E W`). Where tcpdump
 * versions differ, names follow 4.99 (Debian 12): ICMP type 42 is `type-#42`.
 */
import type {
  ErspanLayer,
  GreLayer,
  Icmp6Layer,
  IcmpLayer,
  Layer,
  TcpLayer,
  UdpLayer,
} from './model';

/** Tunnels inside tunnels deeper than this are shown as raw, not followed. */
const MAX_DEPTH = 8;

/** Byte → two hex digits and byte → decimal text: read-only tables built once. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);
const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/*
 * Captures repeat the same few addresses millions of times; interning their
 * strings saves both the formatting and the memory of a million copies. The caches
 * are bounded and only memoise a pure function, so results never depend on them.
 */
const CACHE_LIMIT = 4096;

/** UDP payload bytes hashed for `payloadHash`: a DNS header and the name's start, a probe's id. */
const UDP_HASH_BYTES = 32;

/** FNV-1a over `b[from, to)`, as an unsigned 32-bit number. */
function fnv1a(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function hex4(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}

function raw(layers: Layer[], text: string): void {
  layers.push({ kind: 'raw', text });
}

/**
 * tcpdump's flag letters for every value of the 8 TCP flag bits, in its
 * tcp_flag_values order. The AccECN bit (`e` in tcpdump 5) is left out, as
 * tcpdump 4.99 (Debian 12, Ubuntu 24.04) does not print it.
 */
const TCP_FLAGS: readonly string[] = Array.from({ length: 256 }, (_, v) => {
  const order: [number, string][] = [
    [0x01, 'F'],
    [0x02, 'S'],
    [0x04, 'R'],
    [0x08, 'P'],
    [0x10, '.'],
    [0x20, 'U'],
    [0x40, 'E'],
    [0x80, 'W'],
  ];
  let s = '';
  for (const [bit, letter] of order) if (v & bit) s += letter;
  return s === '' ? 'none' : s;
});

const ICMP_TYPES: Readonly<Record<number, string>> = {
  0: 'echo reply',
  3: 'unreachable',
  4: 'source quench',
  5: 'redirect',
  8: 'echo request',
  9: 'router advertisement',
  10: 'router solicitation',
  11: 'time exceeded',
  12: 'parameter problem',
  13: 'time stamp request',
  14: 'time stamp reply',
  15: 'information request',
  16: 'information reply',
  17: 'address mask request',
  18: 'address mask reply',
};

const ICMP6_TYPES: Readonly<Record<number, string>> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  130: 'multicast listener query',
  131: 'multicast listener report',
  132: 'multicast listener done',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  138: 'router renumbering',
  139: 'node information query',
  140: 'node information reply',
  141: 'inverse neighbor discovery solicitation',
  142: 'inverse neighbor discovery advertisement',
  143: 'multicast listener report v2',
};

const ARP_OPS: Readonly<Record<number, string>> = {
  1: 'request',
  2: 'reply',
  3: 'reverse request',
  4: 'reverse reply',
  8: 'inverse request',
  9: 'inverse reply',
  10: 'nak',
};

/**
 * Decodes one frame of the given pcap LINKTYPE into layers, outermost first.
 * Unknown link types and unreadable headers become `raw` layers; never throws.
 */
export function decodeFrame(linktype: number, frame: Uint8Array): Layer[] {
  const layers: Layer[] = [];
  new FrameDecoder().decodeLinkInto(linktype, frame, 0, frame.length, layers);
  return layers;
}

/**
 * Like {@link decodeFrame} over `bytes[start, end)`, appending to `layers`; the
 * container decoder uses it to decode records in place without copying them.
 * Pass the `decoder` of the capture being read to reuse its address caches.
 */
export function decodeLinkInto(
  linktype: number,
  b: Uint8Array,
  start: number,
  end: number,
  layers: Layer[],
  decoder: FrameDecoder = new FrameDecoder(),
): void {
  decoder.decodeLinkInto(linktype, b, start, end, layers);
}

/** IPv6 extension headers that only need skipping to reach the transport. */
function isSkippableExtension(next: number): boolean {
  return next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140;
}

/** ICMP types that quote the datagram they are about (RFC 792, RFC 4443). */
function isIcmpError(t: number, v6: boolean): boolean {
  return v6 ? t >= 1 && t <= 4 : t === 3 || t === 4 || t === 5 || t === 11 || t === 12;
}

/**
 * A frame decoder with its own address-text caches: one per capture being read,
 * so no state is shared between files, tests or callers.
 */
export class FrameDecoder {
  private readonly ipv4Cache = new Map<number, string>();
  private readonly macCache = new Map<number, string>();

  /**
   * Decodes `bytes[start, end)` as one frame of the given pcap LINKTYPE, appending
   * its layers (outermost first) to `layers`. Never throws on input.
   */
  decodeLinkInto(
    linktype: number,
    b: Uint8Array,
    start: number,
    end: number,
    layers: Layer[],
  ): void {
    if (end > b.length) end = b.length;
    try {
      this.decodeLink(linktype, b, start, end, layers);
    } catch {
      // Defensive only: every read is bounds-checked, but a bug must not lose the file.
      raw(layers, `undecodable frame, ${end - start} bytes`);
    }
  }

  private ipv4At(b: Uint8Array, o: number): string {
    const key = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    let s = this.ipv4Cache.get(key);
    if (s === undefined) {
      s = DEC[b[o]!]! + '.' + DEC[b[o + 1]!]! + '.' + DEC[b[o + 2]!]! + '.' + DEC[b[o + 3]!]!;
      if (this.ipv4Cache.size >= CACHE_LIMIT) this.ipv4Cache.clear();
      this.ipv4Cache.set(key, s);
    }
    return s;
  }

  private macAt(b: Uint8Array, o: number): string {
    const key =
      ((b[o]! << 8) | b[o + 1]!) * 4294967296 +
      (((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0);
    let s = this.macCache.get(key);
    if (s === undefined) {
      s =
        HEX2[b[o]!]! +
        ':' +
        HEX2[b[o + 1]!]! +
        ':' +
        HEX2[b[o + 2]!]! +
        ':' +
        HEX2[b[o + 3]!]! +
        ':' +
        HEX2[b[o + 4]!]! +
        ':' +
        HEX2[b[o + 5]!]!;
      if (this.macCache.size >= CACHE_LIMIT) this.macCache.clear();
      this.macCache.set(key, s);
    }
    return s;
  }

  /**
   * IPv6 text as inet_ntop (and so tcpdump) writes it: the longest run of two or
   * more zero groups becomes `::`, and IPv4-mapped/compatible addresses end in a
   * dotted quad.
   */
  private ipv6At(b: Uint8Array, o: number): string {
    const w: number[] = [];
    for (let i = 0; i < 8; i++) w.push((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!);
    let bestStart = -1;
    let bestLen = 0;
    for (let i = 0; i < 8;) {
      if (w[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && w[j] === 0) j++;
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (bestLen < 2) bestStart = -1;
    let out = '';
    for (let i = 0; i < 8; i++) {
      if (i === bestStart) {
        out += i === 0 ? '::' : ':';
        i += bestLen - 1;
        continue;
      }
      if (i === 6 && bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
        out += this.ipv4At(b, o + 12);
        break;
      }
      out += w[i]!.toString(16);
      if (i < 7) out += ':';
    }
    return out;
  }

  private decodeLink(linktype: number, b: Uint8Array, s: number, e: number, layers: Layer[]): void {
    switch (linktype) {
      case 1: // LINKTYPE_ETHERNET
        this.decodeEthernet(b, s, e, layers, 0);
        return;
      case 113: // LINKTYPE_LINUX_SLL: the cooked header is not an Ethernet header; keep what follows
        if (e - s < 16) return raw(layers, `truncated linux cooked header, ${e - s} bytes`);
        this.decodeEthertype(u16(b, s + 14), b, s + 16, e, layers, 0);
        return;
      case 276: // LINKTYPE_LINUX_SLL2
        if (e - s < 20) return raw(layers, `truncated linux cooked v2 header, ${e - s} bytes`);
        this.decodeEthertype(u16(b, s), b, s + 20, e, layers, 0);
        return;
      case 101: // LINKTYPE_RAW
      case 12: // DLT_RAW as some BSDs wrote it
      case 14:
        this.decodeRawIp(b, s, e, layers, 0);
        return;
      case 228: // LINKTYPE_IPV4
        this.decodeIpv4(b, s, e, layers, 0);
        return;
      case 229: // LINKTYPE_IPV6
        this.decodeIpv6(b, s, e, layers, 0);
        return;
      case 0: // LINKTYPE_NULL: address family in the writer's byte order
      case 108: {
        // LINKTYPE_LOOP: network byte order
        if (e - s < 4) return raw(layers, `truncated loopback header, ${e - s} bytes`);
        const family =
          linktype === 0 && b[s + 3] === 0 && b[s + 2] === 0 ? b[s]! | (b[s + 1]! << 8) : u32(b, s);
        if (family === 2) this.decodeIpv4(b, s + 4, e, layers, 0);
        else if (family === 10 || family === 24 || family === 28 || family === 30)
          this.decodeIpv6(b, s + 4, e, layers, 0);
        else raw(layers, `loopback family ${family}, ${e - s - 4} bytes`);
        return;
      }
      case 226: {
        // LINKTYPE_IPNET (Solaris): a 24-byte header whose second byte is the family
        if (e - s < 24) return raw(layers, `truncated ipnet header, ${e - s} bytes`);
        const family = b[s + 1]!;
        if (family === 2) this.decodeIpv4(b, s + 24, e, layers, 0);
        else if (family === 26) this.decodeIpv6(b, s + 24, e, layers, 0);
        else raw(layers, `ipnet family ${family}, ${e - s - 24} bytes`);
        return;
      }
      case 9: // LINKTYPE_PPP
      case 50: // LINKTYPE_PPP_HDLC
        this.decodePpp(b, s, e, layers);
        return;
      case 239: // LINKTYPE_NFLOG
        this.decodeNflog(b, s, e, layers);
        return;
      default:
        raw(layers, `linktype ${linktype}, ${e - s} bytes`);
    }
  }

  /**
   * PPP: an optional `ff 03` address and control pair, then a protocol field of one
   * byte (compressed, odd) or two; only the IP protocols are followed.
   */
  private decodePpp(b: Uint8Array, s: number, e: number, layers: Layer[]): void {
    let p = s;
    if (e - p >= 2 && b[p] === 0xff && b[p + 1] === 0x03) p += 2;
    if (e - p < 1) return raw(layers, `truncated ppp header, ${e - s} bytes`);
    let proto = b[p]!;
    if (proto & 1) p += 1;
    else if (e - p < 2) return raw(layers, `truncated ppp header, ${e - s} bytes`);
    else {
      proto = u16(b, p);
      p += 2;
    }
    if (proto === 0x21) this.decodeIpv4(b, p, e, layers, 0);
    else if (proto === 0x57) this.decodeIpv6(b, p, e, layers, 0);
    else raw(layers, `ppp protocol ${hex4(proto)}, ${e - p} bytes`);
  }

  private decodeRawIp(b: Uint8Array, s: number, e: number, layers: Layer[], depth: number): void {
    if (e - s < 1) return raw(layers, 'empty ip packet');
    const v = b[s]! >> 4;
    if (v === 4) this.decodeIpv4(b, s, e, layers, depth);
    else if (v === 6) this.decodeIpv6(b, s, e, layers, depth);
    else raw(layers, `ip version ${v}, ${e - s} bytes`);
  }

  /**
   * NFLOG: a 4-byte header, then TLVs whose length and type are in the capturing
   * host's byte order; the packet is TLV type 9. The byte order is guessed from the
   * first TLV's length, which must fit the frame.
   */
  private decodeNflog(b: Uint8Array, s: number, e: number, layers: Layer[]): void {
    if (e - s < 4) return raw(layers, `truncated nflog header, ${e - s} bytes`);
    const family = b[s]!;
    let p = s + 4;
    let little = true;
    if (e - p >= 4) {
      const le = b[p]! | (b[p + 1]! << 8);
      little = le >= 4 && le <= e - p;
    }
    while (e - p >= 4) {
      const len = little ? b[p]! | (b[p + 1]! << 8) : u16(b, p);
      const type = little ? b[p + 2]! | (b[p + 3]! << 8) : u16(b, p + 2);
      if (len < 4 || len > e - p) break;
      if (type === 9) {
        if (family === 2) this.decodeIpv4(b, p + 4, p + len, layers, 0);
        else if (family === 10) this.decodeIpv6(b, p + 4, p + len, layers, 0);
        else raw(layers, `nflog family ${family}, ${len - 4} bytes`);
        return;
      }
      p += (len + 3) & ~3;
    }
    raw(layers, `nflog without packet, ${e - s} bytes`);
  }

  private decodeEthernet(
    b: Uint8Array,
    s: number,
    e: number,
    layers: Layer[],
    depth: number,
  ): void {
    if (e - s < 14) return raw(layers, `truncated ethernet header, ${e - s} bytes`);
    const type = u16(b, s + 12);
    layers.push({
      kind: 'ethernet',
      src: this.macAt(b, s + 6),
      dst: this.macAt(b, s),
      ethertype: type,
    });
    if (type <= 1500) return raw(layers, `802.3 llc, ${e - s - 14} bytes`);
    this.decodeEthertype(type, b, s + 14, e, layers, depth);
  }

  private decodeEthertype(
    type: number,
    b: Uint8Array,
    o: number,
    e: number,
    layers: Layer[],
    depth: number,
  ): void {
    switch (type) {
      case 0x0800:
        this.decodeIpv4(b, o, e, layers, depth);
        return;
      case 0x86dd:
        this.decodeIpv6(b, o, e, layers, depth);
        return;
      case 0x0806:
      case 0x8035:
        this.decodeArp(b, o, e, layers);
        return;
      case 0x8100:
      case 0x88a8:
      case 0x9100: {
        if (e - o < 4) return raw(layers, `truncated vlan tag, ${e - o} bytes`);
        if (depth >= MAX_DEPTH) return raw(layers, 'too many nested headers');
        layers.push({ kind: 'vlan', id: u16(b, o) & 0x0fff });
        const inner = u16(b, o + 2);
        if (inner <= 1500) return raw(layers, `802.3 llc, ${e - o - 4} bytes`);
        this.decodeEthertype(inner, b, o + 4, e, layers, depth + 1);
        return;
      }
      default:
        raw(layers, `ethertype ${hex4(type)}, ${e - o} bytes`);
    }
  }

  private decodeArp(b: Uint8Array, o: number, e: number, layers: Layer[]): void {
    if (e - o < 8) return raw(layers, `truncated arp, ${e - o} bytes`);
    const ptype = u16(b, o + 2);
    const hlen = b[o + 4]!;
    const plen = b[o + 5]!;
    const opcode = u16(b, o + 6);
    const op = ARP_OPS[opcode] ?? `op ${opcode}`;
    if (hlen === 6 && plen === 4 && ptype === 0x0800 && e - o >= 28) {
      layers.push({
        kind: 'arp',
        op,
        senderIp: this.ipv4At(b, o + 14),
        senderMac: this.macAt(b, o + 8),
        targetIp: this.ipv4At(b, o + 24),
        targetMac: this.macAt(b, o + 18),
      });
    } else {
      layers.push({ kind: 'arp', op });
    }
  }

  private decodeIpv4(b: Uint8Array, o: number, e: number, layers: Layer[], depth: number): void {
    if (e - o < 20) return raw(layers, `truncated ipv4 header, ${e - o} bytes`);
    const vihl = b[o]!;
    if (vihl >> 4 !== 4) return raw(layers, `ip version ${vihl >> 4}, ${e - o} bytes`);
    const ihl = (vihl & 15) * 4;
    if (ihl < 20) return raw(layers, `bad ipv4 header length ${ihl}`);
    const total = u16(b, o + 2);
    const frag = u16(b, o + 6);
    const proto = b[o + 9]!;
    layers.push({
      kind: 'ipv4',
      src: this.ipv4At(b, o + 12),
      dst: this.ipv4At(b, o + 16),
      ttl: b[o + 8]!,
      id: u16(b, o + 4),
      length: total,
      proto,
      df: (frag & 0x4000) !== 0,
      tos: b[o + 1]!,
    });
    if (ihl > e - o) return raw(layers, `truncated ipv4 options, ${e - o} bytes`);
    // A total length of 0 (or below the header) is what TSO/GSO captures carry: use the frame.
    let end = e;
    let payload = e - o - ihl;
    if (total >= ihl) {
      payload = total - ihl;
      if (o + total < e) end = o + total; // drop Ethernet padding
    }
    const fragOffset = (frag & 0x1fff) * 8;
    if (fragOffset !== 0) return raw(layers, `fragment offset ${fragOffset}, ${payload} bytes`);
    this.decodeIpPayload(proto, b, o + ihl, end, payload, layers, depth);
  }

  private decodeIpv6(b: Uint8Array, o: number, e: number, layers: Layer[], depth: number): void {
    if (e - o < 40) return raw(layers, `truncated ipv6 header, ${e - o} bytes`);
    const v = b[o]! >> 4;
    if (v !== 6) return raw(layers, `ip version ${v}, ${e - o} bytes`);
    const plen = u16(b, o + 4);
    let next = b[o + 6]!;
    layers.push({
      kind: 'ipv6',
      src: this.ipv6At(b, o + 8),
      dst: this.ipv6At(b, o + 24),
      hopLimit: b[o + 7]!,
      length: plen,
      nextHeader: next,
    });
    let end = e;
    let remaining = e - o - 40;
    if (plen !== 0) {
      remaining = plen;
      if (o + 40 + plen < e) end = o + 40 + plen;
    }
    let p = o + 40;
    for (;;) {
      if (isSkippableExtension(next) || next === 51) {
        if (end - p < 2) return raw(layers, `truncated ipv6 extension header ${next}`);
        const len = next === 51 ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
        next = b[p]!;
        p += len;
        remaining -= len;
        if (p > end) return raw(layers, `truncated ipv6 extension header`);
      } else if (next === 44) {
        if (end - p < 8) return raw(layers, 'truncated ipv6 fragment header');
        const fragOffset = u16(b, p + 2) & 0xfff8;
        next = b[p]!;
        p += 8;
        remaining -= 8;
        if (fragOffset !== 0)
          return raw(layers, `fragment offset ${fragOffset}, ${remaining} bytes`);
      } else if (next === 59) {
        return; // no next header
      } else {
        break;
      }
    }
    this.decodeIpPayload(next, b, p, end, remaining < 0 ? 0 : remaining, layers, depth);
  }

  /**
   * The IP payload in `b[o, e)`; `length` is the payload length the IP header
   * declares (what tcpdump prints even when the capture was cut short).
   */
  private decodeIpPayload(
    proto: number,
    b: Uint8Array,
    o: number,
    e: number,
    length: number,
    layers: Layer[],
    depth: number,
  ): void {
    switch (proto) {
      case 6:
        this.decodeTcp(b, o, e, length, layers);
        return;
      case 17:
        this.decodeUdp(b, o, e, length, layers, depth);
        return;
      case 1:
        this.decodeIcmp(b, o, e, length, layers, false, depth);
        return;
      case 58:
        this.decodeIcmp(b, o, e, length, layers, true, depth);
        return;
      case 4:
      case 41:
        if (depth >= MAX_DEPTH) return raw(layers, 'too many nested headers');
        layers.push({ kind: 'ipip' });
        if (proto === 4) this.decodeIpv4(b, o, e, layers, depth + 1);
        else this.decodeIpv6(b, o, e, layers, depth + 1);
        return;
      case 47:
        this.decodeGre(b, o, e, layers, depth);
        return;
      default:
        raw(layers, `ip proto ${proto}, ${length} bytes`);
    }
  }

  private decodeIcmp(
    b: Uint8Array,
    o: number,
    e: number,
    length: number,
    layers: Layer[],
    v6: boolean,
    depth: number,
  ): void {
    const name = v6 ? 'icmp6' : 'icmp';
    if (e - o < 4) return raw(layers, `truncated ${name} header, ${e - o} bytes`);
    const t = b[o]!;
    const code = b[o + 1]!;
    // tcpdump 4.99 (Debian 12) names unknown types differently per family, and does
    // not know RFC 8335's extended echo (ICMPv6 160/161) yet.
    const type = v6
      ? (ICMP6_TYPES[t] ?? `unknown icmp6 type (${t})`)
      : (ICMP_TYPES[t] ?? `type-#${t}`);
    const echo = v6 ? t === 128 || t === 129 : t === 0 || t === 8;
    if (echo && e - o >= 8) {
      layers.push({ kind: name, type, code, id: u16(b, o + 4), seq: u16(b, o + 6), length });
      return;
    }
    const l: Icmp6Layer | IcmpLayer = { kind: name, type, code, length };
    layers.push(l);
    if (!isIcmpError(t, v6) || e - o < 8) return;
    // Fragmentation needed carries the next-hop MTU in its low 16 bits (RFC 1191);
    // packet too big a whole 32-bit MTU.
    if (!v6 && t === 3 && code === 4) {
      const mtu = u16(b, o + 6);
      if (mtu !== 0) l.mtu = mtu;
    } else if (v6 && t === 2) l.mtu = u32(b, o + 4);
    // An error about an error is not followed: the quoted packet is one level deep.
    if (depth >= MAX_DEPTH || e - o <= 8) return;
    let qe = e;
    // RFC 4884: a non-zero length says how much of the rest is the original datagram
    // (in 32-bit words for ICMP, 64-bit for ICMPv6); extension objects follow it.
    const words = v6 ? b[o + 4]! : b[o + 5]!;
    if ((v6 ? t === 1 || t === 3 : t === 3 || t === 11 || t === 12) && words !== 0) {
      const n = words * (v6 ? 8 : 4);
      if (o + 8 + n < qe) qe = o + 8 + n;
    }
    const quoted: Layer[] = [];
    this.decodeQuotedIp(b, o + 8, qe, quoted, depth + 1, v6);
    if (quoted.length > 0) l.quoted = quoted;
  }

  /**
   * The quoted datagram of an ICMP error: an IP header and, by RFC 792, as little
   * as 8 bytes of its payload, so a TCP header cut there keeps its ports and sequence.
   */
  private decodeQuotedIp(
    b: Uint8Array,
    o: number,
    e: number,
    layers: Layer[],
    depth: number,
    v6: boolean,
  ): void {
    if (v6) this.decodeIpv6(b, o, e, layers, depth);
    else this.decodeIpv4(b, o, e, layers, depth);
    const last = layers[layers.length - 1];
    const ip = layers[0];
    if (last?.kind !== 'raw' || !last.text.startsWith('truncated tcp header') || ip === undefined)
      return;
    // Find the TCP header again: after the IPv4 header, or the fixed IPv6 one.
    const p = ip.kind === 'ipv4' ? o + (b[o]! & 15) * 4 : o + 40;
    if (ip.kind === 'ipv6' && ip.nextHeader !== 6) return;
    if (e - p < 4) return;
    layers.pop();
    const tcp: TcpLayer = { kind: 'tcp', srcPort: u16(b, p), dstPort: u16(b, p + 2) };
    if (e - p >= 8) tcp.seq = u32(b, p + 4);
    layers.push(tcp);
  }

  private decodeTcp(b: Uint8Array, o: number, e: number, length: number, layers: Layer[]): void {
    if (e - o < 20) return raw(layers, `truncated tcp header, ${e - o} bytes`);
    const srcPort = u16(b, o);
    const dstPort = u16(b, o + 2);
    const doff = (b[o + 12]! >> 4) * 4;
    if (doff < 20) return raw(layers, `tcp ${srcPort} > ${dstPort}: bad header length ${doff}`);
    const bits = b[o + 13]!;
    const payload = length - doff < 0 ? 0 : length - doff;
    if (bits & 0x10) {
      layers.push({
        kind: 'tcp',
        srcPort,
        dstPort,
        flags: TCP_FLAGS[bits]!,
        seq: u32(b, o + 4),
        ack: u32(b, o + 8),
        win: u16(b, o + 14),
        length: payload,
      });
    } else {
      // tcpdump prints no ack without the ACK flag: the field is meaningless then.
      layers.push({
        kind: 'tcp',
        srcPort,
        dstPort,
        flags: TCP_FLAGS[bits]!,
        seq: u32(b, o + 4),
        win: u16(b, o + 14),
        length: payload,
      });
    }
    if ((srcPort === 53 || dstPort === 53) && payload >= 14 && e - o - doff >= 14) {
      this.decodeDns(b, o + doff + 2, e, layers); // DNS over TCP has a 2-byte length prefix
    }
  }

  private decodeUdp(
    b: Uint8Array,
    o: number,
    e: number,
    ipLength: number,
    layers: Layer[],
    depth: number,
  ): void {
    if (e - o < 8) return raw(layers, `truncated udp header, ${e - o} bytes`);
    const srcPort = u16(b, o);
    const dstPort = u16(b, o + 2);
    let ulen = u16(b, o + 4);
    // Big TCP/GSO over a tunnel: a UDP length of 0 means "the rest of the IP payload".
    if (ulen === 0 && ipLength >= 8) ulen = ipLength;
    if (ulen < 8) {
      layers.push({ kind: 'udp', srcPort, dstPort });
      return raw(layers, `bad udp length ${ulen}`);
    }
    const p = o + 8;
    const end = o + ulen < e ? o + ulen : e;
    const udp: UdpLayer = { kind: 'udp', srcPort, dstPort, length: ulen - 8 };
    layers.push(udp);
    if (dstPort === 8472 || dstPort === 4789 || srcPort === 8472 || srcPort === 4789) {
      if (end - p < 8) return raw(layers, `truncated vxlan header, ${end - p} bytes`);
      if (depth >= MAX_DEPTH) return raw(layers, 'too many nested headers');
      layers.push({
        kind: 'vxlan',
        vni: (b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]!,
        flags: b[p]!,
      });
      this.decodeEthernet(b, p + 8, end, layers, depth + 1);
    } else if (dstPort === 4790 || srcPort === 4790) {
      if (end - p < 8) return raw(layers, `truncated vxlan-gpe header, ${end - p} bytes`);
      if (depth >= MAX_DEPTH) return raw(layers, 'too many nested headers');
      const flags = b[p]! & 0x0f; // I, P, B, O (tcpdump's letters); the version bits aside
      const next = b[p + 3]!;
      layers.push({
        kind: 'vxlan',
        vni: (b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]!,
        flags,
        gpe: true,
        nextProtocol: next,
      });
      this.decodeGpeNext(next, b, p + 8, end, layers, depth + 1);
    } else if (dstPort === 6081 || srcPort === 6081) {
      if (end - p < 8) return raw(layers, `truncated geneve header, ${end - p} bytes`);
      if (depth >= MAX_DEPTH) return raw(layers, 'too many nested headers');
      const optLen = (b[p]! & 0x3f) * 4;
      const proto = u16(b, p + 2);
      layers.push({ kind: 'geneve', vni: (b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]! });
      const inner = p + 8 + optLen;
      if (inner > end) return raw(layers, `truncated geneve options, ${end - p} bytes`);
      if (proto === 0x6558) this.decodeEthernet(b, inner, end, layers, depth + 1);
      else this.decodeEthertype(proto, b, inner, end, layers, depth + 1);
    } else {
      // Not a tunnel: the payload is the application's, the same at every hop after NAT.
      const want = ulen - 8 < UDP_HASH_BYTES ? ulen - 8 : UDP_HASH_BYTES;
      if (end - p >= want) udp.payloadHash = fnv1a(b, p, p + want);
      if (dstPort === 53 || srcPort === 53) this.decodeDns(b, p, end, layers);
    }
  }

  /** What a VXLAN-GPE or NSH header's next-protocol field names. */
  private decodeGpeNext(
    next: number,
    b: Uint8Array,
    p: number,
    e: number,
    layers: Layer[],
    depth: number,
  ): void {
    if (next === 1) this.decodeIpv4(b, p, e, layers, depth);
    else if (next === 2) this.decodeIpv6(b, p, e, layers, depth);
    else if (next === 3) this.decodeEthernet(b, p, e, layers, depth);
    else if (next === 4) this.decodeNsh(b, p, e, layers, depth);
    else raw(layers, `next protocol ${next}, ${e - p} bytes`);
  }

  /** NSH (RFC 8300): base header, service path header, then metadata up to its length. */
  private decodeNsh(b: Uint8Array, p: number, e: number, layers: Layer[], depth: number): void {
    if (e - p < 8) return raw(layers, `truncated nsh header, ${e - p} bytes`);
    if (depth >= MAX_DEPTH) return raw(layers, 'too many nested headers');
    const len = (b[p + 1]! & 0x3f) * 4; // in 4-byte words, after a 6-bit TTL
    const next = b[p + 3]!;
    layers.push({
      kind: 'nsh',
      spi: (b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]!,
      si: b[p + 7]!,
      nextProtocol: next,
    });
    if (len < 8 || len > e - p) return raw(layers, `bad nsh length ${len}`);
    this.decodeGpeNext(next, b, p + len, e, layers, depth + 1);
  }

  private decodeDns(b: Uint8Array, o: number, e: number, layers: Layer[]): void {
    if (e - o < 12) return raw(layers, `truncated dns header, ${e - o > 0 ? e - o : 0} bytes`);
    layers.push({
      kind: 'dns',
      id: u16(b, o),
      response: (b[o + 2]! & 0x80) !== 0,
      questions: u16(b, o + 4),
      answers: u16(b, o + 6),
    });
  }

  private decodeGre(b: Uint8Array, o: number, e: number, layers: Layer[], depth: number): void {
    if (e - o < 4) return raw(layers, `truncated gre header, ${e - o} bytes`);
    const flags = u16(b, o);
    const version = flags & 7;
    const proto = u16(b, o + 2);
    const gre: GreLayer = { kind: 'gre', proto };
    layers.push(gre);
    let hdr = 4;
    if (version === 0) {
      if (flags & 0x4000) return raw(layers, 'gre with source routing'); // rare, not followed
      if (flags & 0x8000) hdr += 4; // checksum + reserved
      if (flags & 0x2000) {
        if (e - o >= hdr + 4) gre.key = u32(b, o + hdr);
        hdr += 4;
      }
      if (flags & 0x1000) hdr += 4; // sequence
    } else if (version === 1) {
      hdr += 4; // enhanced GRE (PPTP) always carries payload length + call id
      if (flags & 0x1000) hdr += 4;
      if (flags & 0x0080) hdr += 4; // acknowledgment
    } else {
      return raw(layers, `gre version ${version}, ${e - o - 4} bytes`);
    }
    if (hdr > e - o) return raw(layers, `truncated gre header, ${e - o} bytes`);
    if (depth >= MAX_DEPTH) return raw(layers, 'too many nested headers');
    const p = o + hdr;
    if (proto === 0x6558) this.decodeEthernet(b, p, e, layers, depth + 1);
    else if (proto === 0x88be || proto === 0x22eb)
      this.decodeErspan(proto, flags, b, p, e, layers, depth);
    else this.decodeEthertype(proto, b, p, e, layers, depth + 1);
  }

  /**
   * ERSPAN: type I (0x88be without a GRE sequence number) mirrors the frame with no
   * header of its own; type II (0x88be) has an 8-byte header, type III (0x22eb) a
   * 12-byte one plus an 8-byte platform sub-header when its O bit is set.
   */
  private decodeErspan(
    proto: number,
    greFlags: number,
    b: Uint8Array,
    p: number,
    e: number,
    layers: Layer[],
    depth: number,
  ): void {
    if (proto === 0x88be && (greFlags & 0x1000) === 0) {
      return this.decodeEthernet(b, p, e, layers, depth + 1);
    }
    const three = proto === 0x22eb;
    let len = three ? 12 : 8;
    if (e - p < len) return raw(layers, `truncated erspan header, ${e - p} bytes`);
    const vlan = u16(b, p) & 0x0fff;
    const l: ErspanLayer = {
      kind: 'erspan',
      type: three ? 3 : 2,
      sessionId: u16(b, p + 2) & 0x3ff,
    };
    if (vlan !== 0) l.vlan = vlan;
    layers.push(l);
    if (three && b[p + 11]! & 1) len += 8;
    if (e - p < len) return raw(layers, `truncated erspan header, ${e - p} bytes`);
    this.decodeEthernet(b, p + len, e, layers, depth + 1);
  }
}
