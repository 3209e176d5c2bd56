/**
 * Streaming reader for pcap (both byte orders, microsecond and nanosecond) and
 * pcapng (sections in either byte order, several interfaces with their own link
 * types and timestamp resolutions; EPB, SPB and the obsolete PB; other blocks
 * skipped). Bytes arrive in chunks of any size and boundary; each record becomes a
 * Packet handed to the sink at once, so memory stays bounded by one record.
 *
 * Damage ends the file: a truncated or impossible record produces one fatal
 * issue naming the record number and byte offset, and every packet before it has
 * already been delivered. Nothing here throws on input.
 */
import { FrameDecoder } from './frameDecoder';
import type { CaptureIssue, Layer, Packet } from './model';
import type { PacketSink } from './sink';

export { decodeFrame, FrameDecoder } from './frameDecoder';
export type { PacketSink } from './sink';

export interface PcapDecoder {
  push(chunk: Uint8Array): void;
  end(): void;
  /** The file's link type (pcapng: the first interface's), once its header was read. */
  readonly linktype: number | undefined;
}

const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
/** libpcap's largest snapshot length; records above it (and above the file's snaplen) are corrupt. */
const MAX_SNAPLEN = 262144;
/** Hard bound on one record or block, whatever the header claims. */
const MAX_RECORD = 16 * 1024 * 1024;

const STATE_START = 0;
const STATE_PCAP = 1;
const STATE_PCAPNG = 2;
const STATE_DONE = 3;

interface NgInterface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second (if_tsresol). */
  units: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offset: number;
}

/**
 * Which capture container `head` (the first bytes of a file, 4 or more) starts,
 * or null when it is neither (tcpdump text, say).
 */
export function isPcapMagic(head: Uint8Array): 'pcap' | 'pcapng' | null {
  if (head.length < 4) return null;
  const m = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return 'pcap';
  if (m === PCAPNG_SHB) {
    if (head.length < 12) return 'pcapng';
    const bom = ((head[8]! << 24) | (head[9]! << 16) | (head[10]! << 8) | head[11]!) >>> 0;
    return bom === PCAPNG_BOM || bom === 0x4d3c2b1a ? 'pcapng' : null;
  }
  return null;
}

class StreamingPcapDecoder implements PcapDecoder {
  linktype: number | undefined = undefined;
  private readonly sink: PacketSink;
  /** This file's frame decoder: its address caches live and die with the file. */
  private readonly frames = new FrameDecoder();
  private state = STATE_START;
  /** Bytes received but not yet consumed (an incomplete header, record or block). */
  private pending: Uint8Array | undefined = undefined;
  /** File offset of the first byte of the buffer being consumed. */
  private base = 0;
  private records = 0;
  private little = true;
  /** pcap: divisor turning the fraction field into seconds (1e6 or 1e9). */
  private fraction = 1e6;
  private maxCaplen = MAX_SNAPLEN;
  private interfaces: NgInterface[] = [];

  constructor(sink: PacketSink) {
    this.sink = sink;
  }

  push(chunk: Uint8Array): void {
    if (this.state === STATE_DONE || chunk.length === 0) return;
    let buf = chunk;
    const pending = this.pending;
    if (pending !== undefined) {
      buf = new Uint8Array(pending.length + chunk.length);
      buf.set(pending, 0);
      buf.set(chunk, pending.length);
    }
    const used = this.consume(buf);
    if (this.state === STATE_DONE) {
      this.pending = undefined;
      return;
    }
    this.base += used;
    // Copy the tail: the caller may reuse its chunk buffer.
    this.pending = used < buf.length ? buf.slice(used) : undefined;
  }

  end(): void {
    if (this.state === STATE_DONE) return;
    const left = this.pending?.length ?? 0;
    if (this.state === STATE_START) {
      this.fatal(
        1,
        left === 0
          ? 'empty file: no pcap or pcapng header'
          : `file too short for a capture header (${left} bytes)`,
      );
    } else if (left > 0) {
      const p = this.pending!;
      if (this.state === STATE_PCAP) {
        const need =
          left >= PCAP_RECORD_HEADER ? PCAP_RECORD_HEADER + this.u32(p, 8) : PCAP_RECORD_HEADER;
        this.fatal(
          this.records + 1,
          `record ${this.records + 1} at byte offset ${this.base} is truncated: ` +
            `${left} of ${need} bytes present (file cut short?)`,
        );
      } else {
        this.fatal(
          this.records + 1,
          `pcapng block at byte offset ${this.base} is truncated: only ${left} bytes present ` +
            `(after record ${this.records}; file cut short?)`,
        );
      }
    }
    this.state = STATE_DONE;
    this.pending = undefined;
  }

  private u32(b: Uint8Array, o: number): number {
    return this.little
      ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
      : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  private u16(b: Uint8Array, o: number): number {
    return this.little ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
  }

  private fatal(at: number, message: string): void {
    this.state = STATE_DONE;
    this.sink.issue?.({ at, message, fatal: true });
  }

  /** Consumes whole units from `b`; returns how many bytes were used. */
  private consume(b: Uint8Array): number {
    let o = 0;
    if (this.state === STATE_START) {
      if (b.length < 4) return 0;
      const m = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (m === PCAPNG_SHB) {
        this.state = STATE_PCAPNG;
      } else if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) {
        if (b.length < PCAP_HEADER) return 0;
        this.little = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
        this.fraction = m === 0xa1b23c4d || m === 0x4d3cb2a1 ? 1e9 : 1e6;
        const snaplen = this.u32(b, 16);
        this.maxCaplen = Math.min(MAX_RECORD, Math.max(snaplen, MAX_SNAPLEN));
        // The upper bits of the link-type field carry FCS information, not the type.
        this.linktype = this.u32(b, 20) & 0xffff;
        this.state = STATE_PCAP;
        o = PCAP_HEADER;
      } else {
        const hex = m.toString(16).padStart(8, '0');
        this.fatal(1, `not a pcap or pcapng file (magic 0x${hex} at byte offset 0)`);
        return b.length;
      }
    }
    return this.state === STATE_PCAP ? this.consumePcap(b, o) : this.consumePcapng(b, o);
  }

  private consumePcap(b: Uint8Array, o: number): number {
    const n = b.length;
    const sink = this.sink;
    const linktype = this.linktype ?? 1;
    const fraction = this.fraction;
    const little = this.little;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    while (n - o >= PCAP_RECORD_HEADER) {
      const caplen = dv.getUint32(o + 8, little);
      if (caplen > this.maxCaplen) {
        this.fatal(
          this.records + 1,
          `record ${this.records + 1} at byte offset ${this.base + o} is corrupt: captured ` +
            `length ${caplen} exceeds the limit ${this.maxCaplen}`,
        );
        return n;
      }
      if (n - o - PCAP_RECORD_HEADER < caplen) break;
      const sec = dv.getUint32(o, little);
      const frac = dv.getUint32(o + 4, little);
      const orig = dv.getUint32(o + 12, little);
      const start = o + PCAP_RECORD_HEADER;
      const layers: Layer[] = [];
      this.frames.decodeLinkInto(linktype, b, start, start + caplen, layers);
      const packet: Packet = {
        ts: sec + frac / fraction,
        frameLength: orig,
        layers,
        source: ++this.records,
      };
      sink.packet(packet);
      o = start + caplen;
    }
    return o;
  }

  private consumePcapng(b: Uint8Array, o: number): number {
    const n = b.length;
    while (n - o >= 12) {
      const at = this.base + o;
      let type = this.u32(b, o);
      if (type === PCAPNG_SHB) {
        // Each section states its own byte order.
        const bom = ((b[o + 8]! << 24) | (b[o + 9]! << 16) | (b[o + 10]! << 8) | b[o + 11]!) >>> 0;
        if (bom === PCAPNG_BOM) this.little = false;
        else if (bom === 0x4d3c2b1a) this.little = true;
        else {
          this.fatal(
            this.records + 1,
            `pcapng section header at byte offset ${at} has a bad byte-order magic`,
          );
          return n;
        }
        type = PCAPNG_SHB;
      }
      const len = this.u32(b, o + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
        this.fatal(
          this.records + 1,
          `pcapng block at byte offset ${at} is corrupt: block length ${len}` +
            ` (after record ${this.records})`,
        );
        return n;
      }
      if (n - o < len) break;
      if (this.u32(b, o + len - 4) !== len) {
        this.fatal(
          this.records + 1,
          `pcapng block at byte offset ${at} is corrupt: trailing length does not match ${len}` +
            ` (after record ${this.records})`,
        );
        return n;
      }
      if (!this.block(type, b, o, len, at)) return n;
      o += len;
    }
    return o;
  }

  /** Handles one complete block; returns false when it ended the file. */
  private block(type: number, b: Uint8Array, o: number, len: number, at: number): boolean {
    switch (type) {
      case PCAPNG_SHB:
        this.interfaces = [];
        return true;
      case 1:
        return this.interfaceBlock(b, o, len, at);
      case 6: // enhanced packet block
      case 2: {
        // obsolete packet block: 16-bit interface id and drop count
        if (len < 32) return this.badBlock(at, 'packet block shorter than its header');
        const ifId = type === 6 ? this.u32(b, o + 8) : this.u16(b, o + 8);
        const caplen = this.u32(b, o + 20);
        const orig = this.u32(b, o + 24);
        if (28 + caplen > len - 4) {
          return this.badBlock(at, `captured length ${caplen} exceeds the block`);
        }
        this.emit(ifId, this.u32(b, o + 12), this.u32(b, o + 16), b, o + 28, caplen, orig);
        return true;
      }
      case 3: {
        // simple packet block: interface 0, no timestamp
        if (len < 16) return this.badBlock(at, 'simple packet block shorter than its header');
        const orig = this.u32(b, o + 8);
        const iface = this.interfaces[0];
        let caplen = Math.min(orig, len - 16);
        if (iface && iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
        this.emit(0, -1, 0, b, o + 12, caplen, orig);
        return true;
      }
      default:
        return true; // name resolution, statistics, custom, unknown: not packets
    }
  }

  private badBlock(at: number, why: string): boolean {
    this.fatal(
      this.records + 1,
      `record ${this.records + 1} (pcapng block at byte offset ${at}) is corrupt: ${why}`,
    );
    return false;
  }

  private interfaceBlock(b: Uint8Array, o: number, len: number, at: number): boolean {
    if (len < 20) return this.badBlock(at, 'interface block shorter than its header');
    const iface: NgInterface = {
      linktype: this.u16(b, o + 8),
      snaplen: this.u32(b, o + 12),
      units: 1e6,
      offset: 0,
    };
    const end = o + len - 4;
    let p = o + 16;
    while (end - p >= 4) {
      const code = this.u16(b, p);
      const olen = this.u16(b, p + 2);
      if (code === 0 || p + 4 + olen > end) break;
      if (code === 9 && olen >= 1) {
        const v = b[p + 4]!;
        iface.units = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
      } else if (code === 14 && olen >= 8) {
        const hi = this.u32(b, p + 4 + (this.little ? 4 : 0)) | 0;
        const lo = this.u32(b, p + 4 + (this.little ? 0 : 4));
        iface.offset = hi * 4294967296 + lo;
      }
      p += 4 + ((olen + 3) & ~3);
    }
    this.interfaces.push(iface);
    if (this.linktype === undefined) this.linktype = iface.linktype;
    return true;
  }

  private emit(
    ifId: number,
    tsHigh: number,
    tsLow: number,
    b: Uint8Array,
    start: number,
    caplen: number,
    orig: number,
  ): void {
    const source = ++this.records;
    const iface = this.interfaces[ifId];
    const layers: Layer[] = [];
    let ts: number | undefined;
    if (iface === undefined) {
      layers.push({ kind: 'raw', text: `packet on undeclared interface ${ifId}, ${caplen} bytes` });
      this.sink.issue?.({
        at: source,
        message: `record ${source} names undeclared interface ${ifId}`,
      });
    } else {
      this.frames.decodeLinkInto(iface.linktype, b, start, start + caplen, layers);
      if (tsHigh >= 0) {
        ts = tsHigh * (4294967296 / iface.units) + tsLow / iface.units + iface.offset;
      }
    }
    const packet: Packet =
      ts === undefined
        ? { frameLength: orig, layers, source }
        : { ts, frameLength: orig, layers, source };
    this.sink.packet(packet);
  }
}

/**
 * A streaming pcap/pcapng decoder: push chunks of any size, then call `end()`.
 * Packets go to `sink.packet` as soon as their record is complete; problems go to
 * `sink.issue` (a fatal one ends decoding, keeping everything before it).
 */
export function createPcapDecoder(sink: PacketSink): PcapDecoder {
  return new StreamingPcapDecoder(sink);
}

/** Decodes a whole pcap/pcapng file held in memory. Never throws on input. */
export function decodePcap(bytes: Uint8Array): { packets: Packet[]; issues: CaptureIssue[] } {
  const packets: Packet[] = [];
  const issues: CaptureIssue[] = [];
  const decoder = createPcapDecoder({
    packet: (p) => packets.push(p),
    issue: (i) => issues.push(i),
  });
  decoder.push(bytes);
  decoder.end();
  return { packets, issues };
}
