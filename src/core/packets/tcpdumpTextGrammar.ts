/**
 * The grammar of one tcpdump packet record: link header, IP header (the `-v`
 * form in parentheses or none), addresses, transport, tunnels and their inner
 * packets, appended as layers to the packet being assembled.
 *
 * A record may span lines: with -v the IPv4 header is on one line and the
 * addresses on the next; VXLAN/OTV, and Geneve/GRE with -v, print the inner
 * packet on the following line(s). `expect` tells the line classifier which
 * continuation the record is waiting for.
 *
 * What tcpdump did not print is left out: no TTL without -v, no VLAN without
 * -e. Numbers that the printed form implies are filled in (an `ICMP` payload
 * means IP protocol 1, `udp port 53 unreachable` means ICMP code 3).
 */
import type {
  ArpLayer,
  EthernetLayer,
  GreLayer,
  Icmp6Layer,
  IcmpLayer,
  Ipv4Layer,
  Ipv6Layer,
  Layer,
  TcpLayer,
  UdpLayer,
} from './model';
import { TextCursor, isDigit, isHex, isMacAt } from './tcpdumpTextCursor';
import { ICMP6_NAMES, ICMP_PHRASES, PORT_NAMES, unreachableCode } from './tcpdumpTextNames';
import { TcpSeqTracker } from './tcpdumpTextTcpSeq';

export const EXPECT_NONE = 0;
/** A `-v` IPv4 header was printed; its addresses come on the next line. */
export const EXPECT_ADDR = 1;
/** A tunnel header ended the line; the inner packet comes on the next line. */
export const EXPECT_INNER = 2;

/** Nesting deeper than this (tunnels in tunnels) is kept as raw text. */
const MAX_DEPTH = 8;

type IpLayer = Ipv4Layer | Ipv6Layer;

/** IPv6 extension headers as tcpdump names them before the payload. */
const V6_EXT: ReadonlyMap<string, number> = new Map([
  ['HBH', 0],
  ['srcrt', 43],
  ['RT6', 43],
  ['frag', 44],
  ['ESP', 50],
  ['AH', 51],
  ['DSTOPT', 60],
  ['mobility', 135],
]);

export class PacketAssembler {
  readonly c = new TextCursor();
  layers: Layer[] = [];
  frameLength: number | undefined;
  expect = EXPECT_NONE;
  private pendingIp: Ipv4Layer | null = null;
  private pendingProto = -1;
  private pendingDepth = 0;
  private innerDepth = 0;
  /** An ICMP error whose quoted datagram may follow on the next (indented) lines. */
  private quotedFor: IcmpLayer | null = null;
  /** The tunnel header just read is NSH, whose -vv metadata lines come before the inner packet. */
  private afterNsh = false;
  private readonly tcpSeq = new TcpSeqTracker();
  private readonly seqOut = { seq: 0, ack: 0 };
  // The address pair last read: source token [a0, a1), destination token [b0, b1).
  private a0 = 0;
  private a1 = 0;
  private b0 = 0;
  private b1 = 0;
  private hostEnd = 0;

  /** Starts a new packet. */
  begin(): void {
    this.layers = [];
    this.frameLength = undefined;
    this.expect = EXPECT_NONE;
    this.pendingIp = null;
    this.pendingProto = -1;
    this.quotedFor = null;
    this.afterNsh = false;
  }

  /** True when an IPv4 header is still waiting for its address line. */
  hasPendingAddresses(): boolean {
    return this.pendingIp !== null;
  }

  // ---------------------------------------------------------------- entry points

  /**
   * Parses a packet record's first line from the cursor (after number and time
   * stamp). False when nothing there is recognised (no layer added).
   */
  body(): boolean {
    if (this.net(0)) return true;
    const start = this.c.p;
    this.skipSll2();
    if (this.c.p !== start && this.net(0)) return true;
    return this.genericLink();
  }

  /** Continues a record waiting for its `-v` address line; false if the line is not one. */
  addressLine(): boolean {
    const ip = this.pendingIp;
    if (ip === null) return false;
    if (!this.addrPair()) return false;
    this.pendingIp = null;
    this.expect = EXPECT_NONE;
    this.ipPayload(ip, false, this.pendingProto, this.pendingDepth);
    return true;
  }

  /** Continues a record waiting for a tunnel's inner packet; false if the line is not one. */
  innerLine(): boolean {
    this.expect = EXPECT_NONE;
    const c = this.c;
    const icmp = this.quotedFor;
    if (icmp !== null) {
      // -v prints an error's quoted datagram indented under it; a line at the
      // margin is the next packet (with -t it carries no number or time).
      this.quotedFor = null;
      if (c.p === 0) return false;
      const outer = this.layers;
      const quoted: Layer[] = [];
      this.layers = quoted;
      if (this.net(this.innerDepth)) {
        icmp.quoted = quoted;
        return true; // the rest of the record (its -v address line) goes to `quoted`
      }
      this.layers = outer;
      return false;
    }
    if (this.afterNsh && (c.sees('TLV Class ') || c.sees('Value: '))) {
      this.expect = EXPECT_INNER; // -vv NSH metadata, then the inner packet
      return true;
    }
    this.afterNsh = false;
    if (this.net(this.innerDepth)) return true;
    // a hex dump means the inner packet was not printed; other text is its summary
    if (this.c.sees('0x')) return false;
    return this.rawTail();
  }

  // ------------------------------------------------------------------ dispatch

  /** A network-level record at the cursor, whatever form it takes. */
  private net(depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    const c = this.c;
    const ch = c.code();
    if (ch === 73) {
      // I
      if (c.lit('IP ')) return this.ip4(depth) || this.rawTail();
      if (c.lit('IP6 ')) return this.ip6(depth) || this.rawTail();
      return false;
    }
    if (ch === 40) {
      // (
      if (c.sees('(tos ')) return this.ip4(depth);
      if (c.sees('(hlim ') || c.sees('(class ') || c.sees('(flowlabel ')) return this.ip6(depth);
      return false;
    }
    if (ch === 65 && c.lit('ARP, ')) return this.arp();
    if (ch === 78 && c.lit('NSH, ')) return this.nsh(depth);
    // LINKTYPE_RAW/IPV4/IPV6 with -e: `ip: 10.0.0.1.53 > …`
    if (ch === 105 && c.lit('ip: ')) return this.net(depth + 1);
    if (ch === 82) {
      if (c.lit('RARP, ')) return this.arp();
      if (c.sees('Request who-has ') || c.sees('Reply ')) return this.arp();
      return false;
    }
    if (isHex(ch)) {
      if (isMacAt(c.s, c.p, c.end) && c.s.startsWith(' > ', c.p + 17)) return this.ethernet(depth);
      // Bare addresses: -e prints no `IP ` before the IP header.
      const te = c.tokenEnd();
      if (te > c.p && c.s.startsWith(' > ', te)) {
        const colon = c.s.indexOf(':', c.p);
        return colon >= 0 && colon < te - 1 ? this.ip6(depth) : this.ip4(depth);
      }
    }
    return false;
  }

  /** Link headers other than Ethernet's: Linux cooked (-e), NFLOG, IPNET. */
  private genericLink(): boolean {
    const c = this.c;
    const start = c.p;
    const et = c.find('ethertype ');
    if (et >= 0) {
      c.p = et + 10;
      const type = this.etherTypeName();
      if (type >= 0 && c.lit(', length ')) {
        const n = c.uint();
        if (n >= 0 && this.frameLength === undefined) this.frameLength = n;
        if (c.lit(': ')) {
          this.etherPayload(type, 0);
          return true;
        }
      }
      c.p = start;
      return false;
    }
    const fam = c.find('family ');
    if (fam >= 0) {
      c.p = fam + 7;
      const close = c.find(' (');
      if (close >= 0) {
        c.p = close + 2;
        const f = c.uint();
        if (f >= 0 && c.lit('), length ')) {
          const n = c.uint();
          if (n >= 0 && this.frameLength === undefined) this.frameLength = n;
          if (c.lit(': ')) {
            const ok = f === 2 ? this.ip4(1) : f === 10 || f >= 24 ? this.ip6(1) : false;
            if (!ok) this.rawTail();
            return true;
          }
        }
      }
      c.p = start;
    }
    return false;
  }

  /** `eth0  In  ` — the interface and direction tcpdump prints for `-i any` (SLL2). */
  private skipSll2(): void {
    const c = this.c;
    const s = c.s;
    const te = c.tokenEnd();
    if (te === c.p || te - c.p > 20 || te >= c.end || s.charCodeAt(te) !== 32) return;
    let q = te;
    while (q < c.end && s.charCodeAt(q) === 32) q++;
    let w = 0;
    if (s.startsWith('In ', q)) w = 2;
    else if (s.startsWith('Out ', q)) w = 3;
    else if (s.startsWith('B ', q) || s.startsWith('M ', q) || s.startsWith('P ', q)) w = 1;
    else return;
    q += w;
    while (q < c.end && s.charCodeAt(q) === 32) q++;
    c.p = q;
  }

  // ------------------------------------------------------------------ link layer

  private ethernet(depth: number): boolean {
    const c = this.c;
    const s = c.s;
    const src = s.slice(c.p, c.p + 17);
    const dst = s.slice(c.p + 20, c.p + 37);
    if (!isMacAt(s, c.p + 20, c.end)) return false;
    c.p += 37;
    const eth: EthernetLayer = { kind: 'ethernet', src, dst };
    this.layers.push(eth);
    c.lit(', ');
    let type = -1;
    if (c.lit('ethertype ')) {
      type = this.etherTypeName();
      if (type >= 0) eth.ethertype = type;
    } else if (c.lit('802.3')) {
      // an 802.3 length field: LLC follows, which the model does not decode
    }
    if (c.lit(', length ')) {
      const n = c.uint();
      if (n >= 0 && this.frameLength === undefined) this.frameLength = n;
    }
    if (!c.lit(': ')) {
      if (!c.atEnd()) this.rawTail();
      return true;
    }
    this.etherPayload(type, depth + 1);
    return true;
  }

  /** `IPv4 (0x0800)` at the cursor → 0x0800 (cursor after the `)`), or -1. */
  private etherTypeName(): number {
    const c = this.c;
    const open = c.find('(0x');
    if (open < 0 || open - c.p > 40) return -1;
    c.p = open + 3;
    const v = c.hexDigits();
    if (v < 0 || !c.lit(')')) return -1;
    return v;
  }

  private etherPayload(type: number, depth: number): void {
    const c = this.c;
    if (c.atEnd()) return;
    if (depth > MAX_DEPTH) {
      this.rawTail();
      return;
    }
    let ok = false;
    if (type === 0x0800) ok = this.ip4(depth);
    else if (type === 0x86dd) ok = this.ip6(depth);
    else if (type === 0x0806 || type === 0x8035) ok = this.arp();
    else if (type === 0x8100 || type === 0x88a8 || type === 0x9100) ok = this.vlan(depth);
    if (!ok && !this.net(depth)) this.rawTail();
  }

  /** `vlan 200, p 0, [DEI, ]ethertype IPv4 (0x0800), <payload>` */
  private vlan(depth: number): boolean {
    const c = this.c;
    if (!c.lit('vlan ')) return false;
    const id = c.uint();
    if (id < 0) return false;
    this.layers.push({ kind: 'vlan', id });
    if (c.lit(', p ')) c.uint();
    c.lit(', DEI');
    if (!c.lit(', ethertype ')) return this.rawTail();
    const type = this.etherTypeName();
    if (type < 0) return true;
    if (!c.lit(', ')) return true;
    this.etherPayload(type, depth + 1);
    return true;
  }

  // -------------------------------------------------------------------- ARP

  private arp(): boolean {
    const c = this.c;
    const s = c.s;
    if (c.sees('Ethernet (len')) {
      c.skipPast('), ');
      c.skipPast('), ');
    }
    let layer: ArpLayer;
    if (c.lit('Request who-has ')) {
      const targetIp = this.word();
      let targetMac: string | undefined;
      if (c.lit(' (') && isMacAt(s, c.p, c.end)) {
        targetMac = s.slice(c.p, c.p + 17);
        c.p += 17;
        c.lit(')');
      }
      layer = { kind: 'arp', op: 'request' };
      if (c.skipPast(' tell ')) layer.senderIp = this.word();
      layer.targetIp = targetIp;
      if (targetMac !== undefined) layer.targetMac = targetMac;
    } else if (c.lit('Reply ')) {
      const senderIp = this.word();
      layer = { kind: 'arp', op: 'reply', senderIp };
      if (c.lit(' is-at ') && isMacAt(s, c.p, c.end)) layer.senderMac = s.slice(c.p, c.p + 17);
    } else if (c.lit('Reverse Request who-is ')) {
      layer = { kind: 'arp', op: 'reverse request', targetMac: this.word() };
      if (c.skipPast(' tell ')) layer.senderMac = this.word();
    } else if (c.lit('Reverse Reply ')) {
      layer = { kind: 'arp', op: 'reverse reply', targetMac: this.word() };
      if (c.lit(' at ')) layer.targetIp = this.word();
    } else if (c.lit('Inverse Request who-is ')) {
      layer = { kind: 'arp', op: 'inverse request' };
    } else if (c.lit('Inverse Reply ')) {
      layer = { kind: 'arp', op: 'inverse reply' };
    } else if (c.lit('NACK Reply')) {
      layer = { kind: 'arp', op: 'nak' };
    } else {
      this.rawTail();
      return true;
    }
    this.layers.push(layer);
    return true;
  }

  /** A token ending at a space, comma or the end of the line. */
  private word(): string {
    const c = this.c;
    const s = c.s;
    const start = c.p;
    let p = start;
    while (p < c.end) {
      const ch = s.charCodeAt(p);
      if (ch === 32 || ch === 44) break;
      p++;
    }
    c.p = p;
    return s.slice(start, p);
  }

  // --------------------------------------------------------------------- IP

  /** IPv4 after `IP ` (or bare with -e): the -v header and/or the addresses. */
  private ip4(depth: number): boolean {
    const c = this.c;
    if (c.code() === 40) {
      let ip = this.v4HeaderFast();
      if (ip === null) {
        const close = c.matchParen();
        if (close < 0) return false;
        ip = this.v4Header(c.p + 1, close - 1);
        c.p = close;
      }
      c.skipSpaces();
      this.layers.push(ip);
      if (c.atEnd()) {
        this.pendingIp = ip;
        this.pendingDepth = depth;
        this.expect = EXPECT_ADDR;
        return true;
      }
      if (!this.addrPair()) {
        this.rawTail();
        return true;
      }
      this.ipPayload(ip, false, this.pendingProto, depth);
      return true;
    }
    if (c.lit('truncated-ip - ')) c.skipPast('missing! ');
    if (!this.addrPair()) return false;
    const ip: Ipv4Layer = { kind: 'ipv4', src: '', dst: '' };
    this.layers.push(ip);
    this.ipPayload(ip, false, -1, depth);
    return true;
  }

  /**
   * The usual `-v` header, `(tos 0x0, ttl 64, id 31391, offset 0, flags [DF], proto
   * UDP (17), length 134)`, read in one pass; null (cursor unmoved) for any other
   * shape (ECN, options, bad checksum), which `v4Header` then reads field by field.
   */
  private v4HeaderFast(): Ipv4Layer | null {
    const c = this.c;
    const save = c.p;
    fast: {
      if (!c.lit('(tos 0x')) break fast;
      const tos = c.hexDigits();
      if (tos < 0 || !c.skim(', ttl ')) break fast;
      const ttl = c.uint();
      if (ttl < 0 || !c.skim(', id ')) break fast;
      const id = c.uint();
      if (id < 0 || !c.skim(', offset ') || c.uint() < 0 || !c.skim(', flags [')) break fast;
      const df = c.code() === 68 && c.code(1) === 70;
      if (!c.skim('none]') && !c.skim('DF]')) {
        const close = c.find(']');
        if (close < 0) break fast;
        c.p = close + 1;
      }
      if (!c.skim(', proto ')) break fast;
      // the protocol's name, then its number in parentheses: `UDP (17)`
      const s = c.s;
      let q = c.p;
      const stop = q + 24 < c.end ? q + 24 : c.end;
      while (q < stop && s.charCodeAt(q) !== 40) q++;
      if (q === stop || s.charCodeAt(q - 1) !== 32) break fast;
      c.p = q + 1;
      const proto = c.uint();
      if (proto < 0 || !c.skim('), length ')) break fast;
      const length = c.uint();
      if (length < 0 || !c.lit(')')) break fast;
      this.pendingProto = proto;
      return { kind: 'ipv4', src: '', dst: '', ttl, id, length, proto, df, tos };
    }
    c.p = save;
    return null;
  }

  /** `tos 0x0, ttl 64, id 31391, offset 0, flags [DF], proto UDP (17), length 134` */
  private v4Header(from: number, to: number): Ipv4Layer {
    const c = this.c;
    const ip: Ipv4Layer = { kind: 'ipv4', src: '', dst: '' };
    this.pendingProto = -1;
    c.p = from;
    let tos = -1;
    if (c.lit('tos ')) tos = c.hexOrUint();
    if (c.skipPast('ttl ', to)) {
      const v = c.uint();
      if (v >= 0) ip.ttl = v;
    }
    if (c.skipPast(', id ', to)) {
      const v = c.uint();
      if (v >= 0) ip.id = v;
    }
    const fl = c.find('flags [', to);
    if (fl >= 0) {
      c.p = fl + 7;
      const close = c.find(']', to);
      if (close >= 0) {
        ip.df = c.s.slice(c.p, close).indexOf('DF') >= 0;
        c.p = close;
      }
    }
    if (c.skipPast('proto ', to)) {
      const open = c.find(' (', to);
      if (open >= 0) {
        c.p = open + 2;
        const v = c.uint();
        if (v >= 0) {
          ip.proto = v;
          this.pendingProto = v;
        }
      }
    }
    if (c.skipPast(', length ', to)) {
      const v = c.uint();
      if (v >= 0) ip.length = v;
    }
    if (tos >= 0) ip.tos = tos;
    return ip;
  }

  /** IPv6 after `IP6 ` (or bare with -e), header in parentheses with -v. */
  private ip6(depth: number): boolean {
    const c = this.c;
    const ip: Ipv6Layer = { kind: 'ipv6', src: '', dst: '' };
    let proto = -1;
    if (c.code() === 40) {
      const close = c.matchParen();
      if (close < 0) return false;
      if (c.skipPast('hlim ', close)) {
        const v = c.uint();
        if (v >= 0) ip.hopLimit = v;
      }
      if (c.skipPast('next-header ', close)) {
        const open = c.find(' (', close);
        if (open >= 0) {
          c.p = open + 2;
          const v = c.uint();
          if (v >= 0) {
            ip.nextHeader = v;
            proto = v;
          }
        }
      }
      if (c.skipPast('payload length: ', close)) {
        const v = c.uint();
        if (v >= 0) ip.length = v;
      }
      c.p = close;
      c.skipSpaces();
      this.layers.push(ip);
      if (!this.addrPair()) {
        this.rawTail();
        return true;
      }
    } else {
      if (!this.addrPair()) return false;
      this.layers.push(ip);
    }
    this.ipPayload(ip, true, proto, depth);
    return true;
  }

  /**
   * `a > b: ` at the cursor: records both address tokens (ports still attached)
   * and leaves the cursor on the payload. False (cursor unmoved) if absent.
   */
  private addrPair(): boolean {
    const c = this.c;
    const s = c.s;
    const start = c.p;
    const a1 = c.tokenEnd();
    if (a1 === start || !s.startsWith(' > ', a1)) return false;
    const b0 = a1 + 3;
    c.p = b0;
    let b1 = c.tokenEnd();
    let next = b1;
    if (b1 > b0 && s.charCodeAt(b1 - 1) === 58) b1--;
    else if (b1 < c.end) {
      c.p = start;
      return false;
    }
    if (b1 === b0) {
      c.p = start;
      return false;
    }
    if (next < c.end) next++;
    c.p = next;
    this.a0 = start;
    this.a1 = a1;
    this.b0 = b0;
    this.b1 = b1;
    return true;
  }

  /**
   * The port at the end of an address token (`10.0.0.1.80`, `fd00::1.80`,
   * `10.0.0.1.http`), or -1; sets `hostEnd`.
   */
  private splitPort(t0: number, t1: number): number {
    const s = this.c.s;
    const dot = s.lastIndexOf('.', t1 - 1);
    if (dot <= t0 || dot === t1 - 1) return -1;
    let port = 0;
    let numeric = true;
    for (let i = dot + 1; i < t1; i++) {
      const ch = s.charCodeAt(i);
      if (!isDigit(ch)) {
        numeric = false;
        break;
      }
      port = port * 10 + ch - 48;
    }
    if (!numeric) {
      const named = PORT_NAMES.get(s.slice(dot + 1, t1));
      if (named === undefined) return -1;
      port = named;
    } else if (port > 65535 || t1 - dot > 6) return -1;
    // The host part must still be a whole address: 3 dots for IPv4, 0 or 3 after
    // the last colon for IPv6 (a trailing dotted quad), anything for a name.
    const colon = s.lastIndexOf(':', dot);
    let dots = 0;
    let allNumeric = true;
    for (let i = colon >= t0 ? colon + 1 : t0; i < dot; i++) {
      const ch = s.charCodeAt(i);
      if (ch === 46) dots++;
      else if (!isDigit(ch)) allNumeric = false;
    }
    if (colon >= t0) {
      if (dots !== 0 && dots !== 3) return -1;
    } else if (allNumeric && dots !== 3) return -1;
    this.hostEnd = dot;
    return port;
  }

  private setHosts(ip: IpLayer): void {
    const s = this.c.s;
    ip.src = s.slice(this.a0, this.a1);
    ip.dst = s.slice(this.b0, this.b1);
  }

  /** The IP payload at the cursor, after `a > b: `. */
  private ipPayload(ip: IpLayer, v6: boolean, hdrProto: number, depth: number): void {
    const c = this.c;
    const proto = hdrProto;
    let ext = false;
    for (let guard = 0; guard < 16 && !c.atEnd(); guard++) {
      const ch = c.code();
      if (ch === 70 && c.sees('Flags [')) return this.tcp(ip, ext);
      if (ch === 73) {
        if (c.sees('ICMP ') && !v6) return this.icmp(ip, ext);
        if (c.sees('ICMP6, ')) return this.icmp6(ip, ext);
        if (c.sees('IP ') || c.sees('IP6 ')) return this.ipip(ip, depth, ext);
      }
      if (ch === 85 && c.sees('UDP, ')) return this.udp(ip, depth, ext);
      if (ch === 71 && c.sees('GREv')) return this.gre(ip, depth, ext);
      if ((ch === 79 && c.sees('OTV, ')) || (ch === 86 && c.sees('VXLAN'))) {
        return this.udp(ip, depth, ext);
      }
      if (ch === 71 && c.sees('Geneve, ')) return this.udp(ip, depth, ext);
      if (ch === 40 && c.sees('(tos ')) return this.ipip(ip, depth, ext);
      if (ch === 91) {
        // `[udp sum ok] `, `[bad udp cksum …!] `, `[no cksum] `, `[icmp6 sum ok] `; `[|tcp]` ends it
        if (c.code(1) === 124) break;
        const close = c.find('] ');
        if (close < 0) break;
        c.p = close + 2;
        continue;
      }
      if (v6) {
        // extension headers: `HBH (rtalert: 0x0000) (padn) `, `frag (0|1448) `
        const te = c.tokenEnd();
        const eh = V6_EXT.get(c.s.slice(c.p, te));
        if (eh !== undefined) {
          if (!ext) {
            ext = true;
            const ip6 = ip as Ipv6Layer;
            if (ip6.nextHeader === undefined) ip6.nextHeader = eh;
          }
          c.p = te;
          c.skipSpaces();
          while (c.code() === 40) {
            const close = c.matchParen();
            if (close < 0) break;
            c.p = close;
            c.skipSpaces();
          }
          continue;
        }
      }
      if ((ch === 116 && c.sees('tcp ')) || (ch === 117 && c.sees('udp '))) {
        // -q: `tcp 0` / `udp 20`
        return this.quick(ip, ch === 116, ext);
      }
      if (isHex(ch) && depth < MAX_DEPTH) {
        // -e prints inner IP-in-IP headers without `IP `
        const te = c.tokenEnd();
        if (te > c.p && c.s.startsWith(' > ', te)) {
          if (digitsOnly(c.s, c.p, te)) return this.portsOnly(ip, depth, ext);
          return this.ipip(ip, depth, ext);
        }
      }
      if (isDigit(ch) && (proto === 17 || proto === -1)) {
        return this.udp(ip, depth, ext);
      }
      break;
    }
    // An unknown payload: ports mean UDP (TCP would print its flags).
    if (proto === 17 || proto === -1) {
      const save = c.p;
      if (this.splitPort(this.a0, this.a1) >= 0 && this.splitPort(this.b0, this.b1) >= 0) {
        this.udp(ip, depth, ext);
        return;
      }
      c.p = save;
    }
    this.setHosts(ip);
    if (proto >= 0) this.setProto(ip, proto, ext);
    this.rawTail();
  }

  private setProto(ip: IpLayer, proto: number, ext: boolean): void {
    if (ip.kind === 'ipv4') {
      if (ip.proto === undefined) ip.proto = proto;
    } else if (!ext && ip.nextHeader === undefined) ip.nextHeader = proto;
  }

  /**
   * `5645 > 5642: UDP, length 0` — after IPv6 extension headers tcpdump prints the
   * ports alone; the addresses are the IP header's.
   */
  private portsOnly(ip: IpLayer, depth: number, ext: boolean): void {
    const c = this.c;
    this.setHosts(ip);
    if (!this.addrPair()) {
      this.rawTail();
      return;
    }
    this.portTokens = true;
    if (c.sees('Flags [')) this.tcp(ip, ext);
    else this.udp(ip, depth, ext);
    this.portTokens = false;
  }

  /** Set while the address tokens are bare port numbers (see portsOnly). */
  private portTokens = false;

  /** Splits ports off both addresses; false (hosts set whole) when they carry none. */
  private ports(ip: IpLayer, out: { seq: number; ack: number }): boolean {
    const s = this.c.s;
    if (this.portTokens) {
      out.seq = Number(s.slice(this.a0, this.a1));
      out.ack = Number(s.slice(this.b0, this.b1));
      return out.seq <= 65535 && out.ack <= 65535;
    }
    const sp = this.splitPort(this.a0, this.a1);
    const srcEnd = this.hostEnd;
    const dp = sp < 0 ? -1 : this.splitPort(this.b0, this.b1);
    if (sp < 0 || dp < 0) {
      this.setHosts(ip);
      return false;
    }
    ip.src = s.slice(this.a0, srcEnd);
    ip.dst = s.slice(this.b0, this.hostEnd);
    out.seq = sp;
    out.ack = dp;
    return true;
  }

  private readonly portPair = { seq: 0, ack: 0 };

  // ---------------------------------------------------------------- transports

  private tcp(ip: IpLayer, ext: boolean): void {
    const c = this.c;
    const s = c.s;
    this.setProto(ip, 6, ext);
    const pp = this.portPair;
    if (!this.ports(ip, pp)) {
      this.rawTail();
      return;
    }
    const tcp: TcpLayer = { kind: 'tcp', srcPort: pp.seq, dstPort: pp.ack };
    c.p += 7;
    const close = c.find(']');
    if (close < 0) {
      this.layers.push(tcp);
      return;
    }
    const flags = s.slice(c.p, close);
    tcp.flags = flags;
    c.p = close + 1;
    let seq = NaN;
    let seqEnd = NaN;
    let ack = NaN;
    let length = -1;
    while (c.lit(', ')) {
      const ch = c.code();
      if (ch === 115 && c.lit('seq ')) {
        const v = c.uint();
        if (v >= 0) seq = v;
        if (c.lit(':')) {
          const e = c.uint();
          if (e >= 0) seqEnd = e;
        }
      } else if (ch === 97 && c.lit('ack ')) {
        const v = c.uint();
        if (v >= 0) ack = v;
      } else if (ch === 119 && c.lit('win ')) {
        const v = c.uint();
        if (v >= 0) tcp.win = v;
      } else if (ch === 111 && c.lit('options [')) {
        const e = c.find(']');
        if (e < 0) break;
        c.p = e + 1;
      } else if (ch === 99 && c.lit('cksum ')) {
        c.hexOrUint();
        if (c.lit(' (')) {
          const e = c.find(')');
          if (e < 0) break;
          c.p = e + 1;
        }
      } else if (ch === 117 && c.lit('urg ')) {
        c.uint();
      } else if (ch === 108 && c.lit('length ')) {
        length = c.uint();
        break;
      } else break;
    }
    if (!Number.isNaN(seq) || !Number.isNaN(ack)) {
      const out = this.seqOut;
      this.tcpSeq.convert(ip.src, ip.dst, tcp.srcPort, tcp.dstPort, flags, seq, ack, out);
      if (!Number.isNaN(out.seq)) tcp.seq = out.seq;
      if (!Number.isNaN(out.ack)) tcp.ack = out.ack;
    }
    if (length >= 0) tcp.length = length;
    else if (!Number.isNaN(seqEnd) && !Number.isNaN(seq)) tcp.length = (seqEnd - seq) >>> 0;
    this.layers.push(tcp);
    // DNS over TCP follows the length after a space, not a colon.
    if (c.code() === 32 && isDigit(c.code(1))) {
      c.p++;
      this.dns(null);
    }
  }

  private udp(ip: IpLayer, depth: number, ext: boolean): void {
    const c = this.c;
    const pp = this.portPair;
    if (!this.ports(ip, pp)) {
      this.rawTail();
      return;
    }
    this.setProto(ip, 17, ext);
    const udp: UdpLayer = { kind: 'udp', srcPort: pp.seq, dstPort: pp.ack };
    this.layers.push(udp);
    // checksum notes between the ports and the payload
    while (c.code() === 91 && c.code(1) !== 124) {
      const close = c.find('] ');
      if (close < 0) break;
      c.p = close + 2;
    }
    const ch = c.code();
    if (ch === 85 && c.lit('UDP, length ')) {
      const n = c.uint();
      if (n >= 0) udp.length = n;
    } else if (ch === 79 && c.lit('OTV, ')) {
      this.vxlan('instance ', depth);
    } else if (ch === 86 && c.lit('VXLAN, ')) {
      this.vxlan('vni ', depth);
    } else if (ch === 86 && c.lit('VXLAN-GPE, ')) {
      this.vxlanGpe(depth);
    } else if (ch === 71 && c.lit('Geneve, ')) {
      this.geneve(depth);
    } else if (isDigit(ch)) {
      this.dns(udp);
    }
  }

  /** `-q` output: `tcp 0`, `udp 20`. */
  private quick(ip: IpLayer, isTcp: boolean, ext: boolean): void {
    const c = this.c;
    this.setProto(ip, isTcp ? 6 : 17, ext);
    const pp = this.portPair;
    if (!this.ports(ip, pp)) {
      this.rawTail();
      return;
    }
    c.p += 4;
    const n = c.uint();
    const l: TcpLayer | UdpLayer = isTcp
      ? { kind: 'tcp', srcPort: pp.seq, dstPort: pp.ack }
      : { kind: 'udp', srcPort: pp.seq, dstPort: pp.ack };
    if (n >= 0) l.length = n;
    this.layers.push(l);
  }

  /** `flags [I] (0x08), vni 100` / `flags [I] (0x08), overlay 0, instance 1` */
  private vxlan(vniKey: string, depth: number): void {
    const c = this.c;
    let flags = -1;
    const open = c.find('(0x');
    if (open >= 0 && open - c.p < 24) {
      c.p = open + 3;
      flags = c.hexDigits();
    }
    if (!c.skipPast(vniKey)) {
      this.rawTail();
      return;
    }
    const vni = c.uint();
    if (vni < 0) {
      this.rawTail();
      return;
    }
    this.layers.push(flags >= 0 ? { kind: 'vxlan', vni, flags } : { kind: 'vxlan', vni });
    this.afterTunnel(depth);
  }

  /** `flags [IP], vni 16777215` then `: <inner>` on the line or (-v) the next one. */
  private vxlanGpe(depth: number): void {
    const c = this.c;
    let flags = 0;
    if (c.lit('flags [')) {
      const close = c.find(']');
      if (close < 0) return void this.rawTail();
      for (let i = c.p; i < close; i++) {
        const bit = GPE_FLAGS.get(c.s.charCodeAt(i));
        if (bit !== undefined) flags |= bit;
      }
      c.p = close + 1;
    }
    if (!c.skipPast('vni ')) return void this.rawTail();
    const vni = c.uint();
    if (vni < 0) return void this.rawTail();
    this.layers.push({ kind: 'vxlan', vni, flags, gpe: true });
    this.tunnelPayload(depth);
  }

  /**
   * `NSH, [ver 0, ]flags [O], [TTL 0, length 6, md type 2, ][next-protocol IPv4, ]
   * service-path-id 0xffffff, service-index 0xff` (RFC 8300, over VXLAN-GPE).
   */
  private nsh(depth: number): boolean {
    const c = this.c;
    const colon = c.find(': ');
    const limit = colon >= 0 ? colon : c.end;
    let next = -1;
    const np = c.find('next-protocol ', limit);
    if (np >= 0) {
      const at = np + 14;
      for (const [name, v] of NSH_NEXT) {
        if (c.s.startsWith(name, at)) next = v;
      }
    }
    if (!c.skipPast('service-path-id ', limit)) return this.rawTail();
    const spi = c.hexOrUint();
    if (spi < 0 || !c.lit(', service-index ')) return this.rawTail();
    const si = c.hexOrUint();
    if (si < 0) return this.rawTail();
    this.layers.push(
      next >= 0 ? { kind: 'nsh', spi, si, nextProtocol: next } : { kind: 'nsh', spi, si },
    );
    this.tunnelPayload(depth);
    this.afterNsh = this.expect === EXPECT_INNER;
    return true;
  }

  /** After a tunnel header: its inner packet follows `: ` on the line, or on the next line. */
  private tunnelPayload(depth: number): void {
    const c = this.c;
    if (c.lit(': ')) {
      if (!this.net(depth + 1)) this.rawTail();
      return;
    }
    if (c.atEnd()) this.afterTunnel(depth);
    else this.rawTail();
  }

  /** `Flags [C], vni 0xa, proto TEB (0x6558), options […]: <inner>` */
  private geneve(depth: number): void {
    const c = this.c;
    if (!c.skipPast('vni ')) {
      this.rawTail();
      return;
    }
    const vni = c.hexOrUint();
    if (vni < 0) {
      this.rawTail();
      return;
    }
    this.layers.push({ kind: 'geneve', vni });
    const colon = c.find(': ');
    if (colon >= 0) {
      c.p = colon + 2;
      if (!this.net(depth + 1)) this.rawTail();
      return;
    }
    this.afterTunnel(depth);
  }

  /** `GREv0, Flags [none], proto IPv4 (0x0800), length 88: <inner>` */
  private gre(ip: IpLayer, depth: number, ext: boolean): void {
    const c = this.c;
    this.setHosts(ip);
    this.setProto(ip, 47, ext);
    const colon = c.find(': ');
    const limit = colon >= 0 ? colon : c.end;
    const gre: GreLayer = { kind: 'gre' };
    const key = c.find('key=0x', limit);
    if (key >= 0) {
      const save = c.p;
      c.p = key + 6;
      const k = c.hexDigits();
      if (k >= 0) gre.key = k;
      c.p = save;
    }
    const pr = c.find('proto ', limit);
    if (pr >= 0) {
      const save = c.p;
      c.p = pr + 6;
      const t = this.etherTypeName();
      if (t >= 0) gre.proto = t;
      c.p = save;
    }
    this.layers.push(gre);
    if (colon >= 0) {
      c.p = colon + 2;
      if (!this.net(depth + 1)) this.rawTail();
      return;
    }
    this.afterTunnel(depth);
  }

  /** A tunnel header ended the line: its inner packet is on the next one. */
  private afterTunnel(depth: number): void {
    this.expect = EXPECT_INNER;
    this.innerDepth = depth + 1;
  }

  /** `IP c > d: …` (or `(tos …)`) inside IP: IP-in-IP. */
  private ipip(outer: IpLayer, depth: number, ext: boolean): void {
    const c = this.c;
    this.setHosts(outer);
    const inner6 = c.sees('IP6 ') || (!c.sees('IP ') && !c.sees('(tos ') && this.tokenHasColon());
    this.setProto(outer, inner6 ? 41 : 4, ext);
    this.layers.push({ kind: 'ipip' });
    if (!this.net(depth + 1)) this.rawTail();
  }

  private tokenHasColon(): boolean {
    const c = this.c;
    const i = c.s.indexOf(':', c.p);
    return i >= 0 && i < c.tokenEnd() - 1;
  }

  // --------------------------------------------------------------------- ICMP

  private icmp(ip: IpLayer, ext: boolean): void {
    const c = this.c;
    const s = c.s;
    this.setHosts(ip);
    this.setProto(ip, 1, ext);
    c.p += 5;
    if (c.skim('echo request, ') || c.skim('echo reply, ')) {
      const type = s.charCodeAt(c.p - 3) === 116 ? 'echo request' : 'echo reply';
      const save = c.p;
      if (c.skim('id ')) {
        const id = c.uint();
        if (id >= 0 && c.skim(', seq ')) {
          const seq = c.uint();
          if (seq >= 0 && c.skim(', length ')) {
            const length = c.uint();
            if (length >= 0) {
              this.layers.push({ kind: 'icmp', type, id, seq, length });
              return;
            }
          }
        }
      }
      c.p = save;
      const l: { kind: 'icmp'; type: string; id?: number; seq?: number; length?: number } = {
        kind: 'icmp',
        type,
      };
      if (c.lit('id ')) {
        const v = c.uint();
        if (v >= 0) l.id = v;
      }
      if (c.lit(', seq ')) {
        const v = c.uint();
        if (v >= 0) l.seq = v;
      }
      if (c.lit(', length ')) {
        const v = c.uint();
        if (v >= 0) l.length = v;
      }
      this.layers.push(l);
      return;
    }
    const lenAt = c.find(', length ');
    const phraseEnd = lenAt >= 0 ? lenAt : c.end;
    const phrase = s.slice(c.p, phraseEnd);
    const l: IcmpLayer = { kind: 'icmp', type: '' };
    if (phrase.indexOf(' unreachable') >= 0 || phrase.startsWith('#')) {
      l.type = 'unreachable';
      const code = unreachableCode(phrase);
      if (code !== undefined) l.code = code;
      // `unreachable - need to frag (mtu 1450)`
      const mtuAt = phrase.indexOf('(mtu ');
      if (code === 4 && mtuAt >= 0) {
        const mtu = parseInt(phrase.slice(mtuAt + 5), 10);
        if (mtu > 0) l.mtu = mtu;
      }
    } else {
      for (const [printed, name] of ICMP_PHRASES) {
        if (phrase.startsWith(printed)) {
          l.type = name;
          if (printed === 'time exceeded') {
            if (phrase.startsWith('time exceeded in-transit')) l.code = 0;
          } else if (printed === 'ip reassembly time exceeded') l.code = 1;
          break;
        }
      }
      if (l.type === '') {
        const comma = phrase.indexOf(',');
        l.type = comma >= 0 ? phrase.slice(0, comma) : phrase;
      }
    }
    if (lenAt >= 0) {
      c.p = lenAt + 9;
      const v = c.uint();
      if (v >= 0) l.length = v;
    }
    this.layers.push(l);
    if (c.atEnd() && QUOTING_ICMP.has(l.type)) {
      // -v prints the quoted datagram on the next lines
      this.quotedFor = l;
      this.expect = EXPECT_INNER;
      this.innerDepth = 1;
    }
  }

  private icmp6(ip: IpLayer, ext: boolean): void {
    const c = this.c;
    const s = c.s;
    this.setHosts(ip);
    this.setProto(ip, 58, ext);
    c.p += 7;
    let type = '';
    for (const name of ICMP6_NAMES) {
      if (c.sees(name)) {
        type = name;
        break;
      }
    }
    if (type === '') {
      // some types come after a qualifier: `who-are-you request node information query`
      const comma0 = c.find(',');
      const phrase = s.slice(c.p, comma0 >= 0 ? comma0 : c.end);
      for (const name of ICMP6_NAMES) {
        const at = phrase.indexOf(name);
        if (at >= 0) {
          type = name;
          c.p += at;
          break;
        }
      }
    }
    if (type === '') {
      const comma = c.find(',');
      type = s.slice(c.p, comma >= 0 ? comma : c.end);
    }
    const l: Icmp6Layer = { kind: 'icmp6', type };
    c.p += type.length;
    if (type === 'packet too big' && c.lit(', mtu ')) {
      const v = c.uint();
      if (v >= 0) l.mtu = v;
    }
    if (type === 'echo request' || type === 'echo reply') {
      if (c.lit(', id ')) {
        const v = c.uint();
        if (v >= 0) l.id = v;
      }
      if (c.lit(', seq ')) {
        const v = c.uint();
        if (v >= 0) l.seq = v;
      }
    }
    if (c.skipPast(', length ')) {
      const v = c.uint();
      if (v >= 0) l.length = v;
    }
    this.layers.push(l);
  }

  // ---------------------------------------------------------------------- DNS

  /**
   * tcpdump's DNS summary at the cursor: `22836+ [1au] A? www.tcpdump.org. (56)` (a
   * query) or `22836*- 2/2/5 …` (a response: answers/authority/additional). Not DNS
   * (nothing added) unless the shape fits.
   */
  private dns(udp: UdpLayer | null): void {
    const c = this.c;
    const s = c.s;
    const id = c.uint();
    if (id < 0 || id > 65535) return;
    // flags glued to the id: + % * - | $
    while (!c.atEnd()) {
      const ch = c.code();
      if (ch === 43 || ch === 37 || ch === 42 || ch === 45 || ch === 124 || ch === 36) c.p++;
      else break;
    }
    if (!c.atEnd() && c.code() !== 32) return;
    let response = false;
    let decided = false;
    let questions = 1;
    let answers = 0;
    let counted = false;
    let sawQ = false;
    for (let n = 0; n < 24 && !c.atEnd(); n++) {
      c.skipSpaces();
      const t0 = c.p;
      const t1 = c.tokenEnd();
      if (t1 === t0) break;
      c.p = t1;
      const first = s.charCodeAt(t0);
      const last = s.charCodeAt(t1 - 1);
      if (isDigit(first)) {
        const counts = countsAt(s, t0, t1);
        if (counts >= 0) {
          response = true;
          answers = counts;
          counted = true;
          decided = true;
          break;
        }
        if (!sawQ) return;
        continue;
      }
      if (first === 91 && last === 93) {
        // [1au] [2q] [1a] [b2&3=0x...]
        const kind = s.charCodeAt(t1 - 2);
        let v = 0;
        let i = t0 + 1;
        for (; i < t1 - 2 && isDigit(s.charCodeAt(i)); i++) v = v * 10 + s.charCodeAt(i) - 48;
        if (i === t1 - 2 && i > t0 + 1) {
          if (kind === 113) questions = v;
          else if (kind === 97 && s.charCodeAt(t1 - 3) !== 97) answers = v;
        }
        continue;
      }
      if (t1 - t0 === 2 && first === 113 && last === 58) {
        // `q:` (-vv) only introduces a response's questions
        sawQ = true;
        response = true;
        decided = true;
        continue;
      }
      if (last === 63) {
        if (sawQ) continue;
        decided = true;
        break;
      }
      // opcode and rcode words (`update`, `NXDomain`), possibly with flags glued on
      if (sawQ || n <= 1) continue;
      return;
    }
    if (!decided) return;
    if (response && !counted) answers = -1; // cut short before `an/ns/ar`
    this.layers.push(
      answers >= 0
        ? { kind: 'dns', id, response, questions, answers }
        : { kind: 'dns', id, response, questions },
    );
    if (udp !== null && s.charCodeAt(c.end - 1) === 41) {
      // the DNS message length closes the summary: `(56)`
      const open = s.lastIndexOf('(', c.end - 1);
      let v = 0;
      let i = open + 1;
      for (; i < c.end - 1 && isDigit(s.charCodeAt(i)); i++) v = v * 10 + s.charCodeAt(i) - 48;
      if (open >= 0 && i === c.end - 1 && i > open + 1) udp.length = v;
    }
  }

  /** Keeps what is left of the line as a `raw` layer (if anything is left). */
  private rawTail(): boolean {
    const c = this.c;
    c.skipSpaces();
    if (!c.atEnd()) this.layers.push({ kind: 'raw', text: c.rest() });
    c.p = c.end;
    return true;
  }
}

/** ICMP messages that quote the datagram they are about (tcpdump -v prints it). */
const QUOTING_ICMP: ReadonlySet<string> = new Set([
  'unreachable',
  'time exceeded',
  'parameter problem',
  'redirect',
  'source quench',
]);

/** VXLAN-GPE flag letters as tcpdump prints them, with their bits. */
const GPE_FLAGS: ReadonlyMap<number, number> = new Map([
  [73, 0x08], // I
  [80, 0x04], // P
  [66, 0x02], // B
  [79, 0x01], // O
]);

/** NSH next-protocol names as tcpdump prints them. */
const NSH_NEXT: readonly (readonly [string, number])[] = [
  ['IPv4', 1],
  ['IPv6', 2],
  ['Ethernet', 3],
  ['NSH', 4],
  ['MPLS', 5],
];

function digitsOnly(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return to > from;
}

/** `2/2/5` → 2 (the answer count), or -1 if the token is not three counts. */
function countsAt(s: string, t0: number, t1: number): number {
  let slashes = 0;
  let first = 0;
  let digits = 0;
  for (let i = t0; i < t1; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 47) {
      if (digits === 0) return -1;
      slashes++;
      digits = 0;
    } else if (isDigit(ch)) {
      if (slashes === 0) first = first * 10 + ch - 48;
      digits++;
    } else return -1;
  }
  return slashes === 2 && digits > 0 ? first : -1;
}
