/**
 * Where each packet of a pcap or pcapng file starts, found while the file streams through
 * the decoder: the decoder hands out packets, this walks the same bytes' record and block
 * headers (a few bytes each, nothing decoded) and queues each packet's byte offset, so the
 * packet table can later read any packet back from disk by its offset.
 *
 * It also keeps what a reader needs in front of a packet to decode it alone: the pcap file
 * header, or the pcapng section and interface blocks.
 */

const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
const PCAPNG_SHB = 0x0a0d0d0a;

export class RecordOffsetWalker {
  /** Offsets of packets found but not yet taken, in order. */
  private readonly queue: number[] = [];
  private head = 0;
  /** File offset of the next record or block header. */
  private next = 0;
  /** Bytes of a header cut by a chunk boundary, with the offset they start at. */
  private carry = new Uint8Array(0);
  private carryAt = 0;
  private format: 'pcap' | 'pcapng' | undefined;
  private little = true;
  /** pcap file header, or pcapng SHB + IDB blocks of the current section. */
  private preamble: Uint8Array[] = [];
  /** File offset of the next chunk's first byte. */
  private base = 0;
  /** Set on damage the decoder will report: offsets stop there. */
  private dead = false;

  /** Feeds the next chunk of the file (the same chunks, in order, the decoder gets). */
  push(chunk: Uint8Array): void {
    const start = this.base;
    this.base += chunk.length;
    if (this.dead) return;
    let buf = chunk;
    let bufAt = start;
    if (this.carry.length > 0) {
      buf = new Uint8Array(this.carry.length + chunk.length);
      buf.set(this.carry, 0);
      buf.set(chunk, this.carry.length);
      bufAt = this.carryAt;
    }
    let o = this.next - bufAt;
    if (this.format === undefined) {
      if (buf.length < PCAP_HEADER) return this.keep(buf, bufAt, 0);
      const m = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!) >>> 0;
      if (m === PCAPNG_SHB) {
        this.format = 'pcapng';
      } else {
        this.format = 'pcap';
        this.little = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
        this.preamble = [buf.slice(0, PCAP_HEADER)];
        o = PCAP_HEADER;
      }
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (this.format === 'pcap') {
      while (buf.length - o >= PCAP_RECORD_HEADER) {
        const caplen = dv.getUint32(o + 8, this.little);
        this.queue.push(bufAt + o);
        o += PCAP_RECORD_HEADER + caplen;
      }
    } else {
      while (buf.length - o >= 12) {
        let type = dv.getUint32(o, this.little);
        if (type === PCAPNG_SHB || type === 0x0d0d0a0a) {
          const bom = dv.getUint32(o + 8, false);
          this.little = bom !== 0x1a2b3c4d;
          type = PCAPNG_SHB;
        }
        const len = dv.getUint32(o + 4, this.little);
        if (len < 12) {
          this.dead = true; // damaged: the decoder reports it
          return;
        }
        if (type === 6 || type === 2 || type === 3) {
          this.queue.push(bufAt + o);
        } else if (type === PCAPNG_SHB || type === 1) {
          if (buf.length - o < len) break;
          if (type === PCAPNG_SHB) this.preamble = [];
          this.preamble.push(buf.slice(o, o + len));
        }
        o += len;
      }
    }
    this.next = bufAt + o;
    if (o < buf.length) this.keep(buf, bufAt, o);
    else this.carry = new Uint8Array(0);
  }

  private keep(buf: Uint8Array, bufAt: number, from: number): void {
    // Only a header's worth is ever needed (the body of a record is skipped by offset).
    this.carry = buf.slice(from);
    this.carryAt = bufAt + from;
  }

  /** The offset of the next packet the decoder delivers. */
  take(): number {
    const v = this.queue[this.head++];
    if (this.head > 4096) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return v ?? -1;
  }

  /** What goes in front of a run of packets read alone so a decoder understands them. */
  prefix(): Uint8Array {
    const total = this.preamble.reduce((n, b) => n + b.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const b of this.preamble) {
      out.set(b, o);
      o += b.length;
    }
    return out;
  }
}
