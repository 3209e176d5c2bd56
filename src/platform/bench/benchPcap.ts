/**
 * The pcap reading and writing the benchmarks share: Ethernet records out of a classic pcap
 * (either byte order), and a fast writer of large synthetic little-endian microsecond pcaps
 * through one 4 MiB buffer.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface PcapRecord {
  data: Buffer;
  origLen: number;
}

/**
 * The records of a classic pcap whose link type is Ethernet; none for anything else (another
 * format, another link type, or fewer than 24 bytes). A truncated last record is dropped.
 */
export function ethernetRecords(bytes: Buffer): PcapRecord[] {
  if (bytes.length < 24) return [];
  const magic = bytes.readUInt32BE(0);
  const little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!little && magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) return [];
  const u32 = (o: number): number => (little ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  if ((u32(20) & 0xffff) !== 1) return [];
  const records: PcapRecord[] = [];
  let o = 24;
  while (o + 16 <= bytes.length) {
    const caplen = u32(o + 8);
    if (o + 16 + caplen > bytes.length) break;
    records.push({ data: bytes.subarray(o + 16, o + 16 + caplen), origLen: u32(o + 12) });
    o += 16 + caplen;
  }
  return records;
}

/** What record `i` of a synthetic pcap is. */
export interface SyntheticRecord {
  data: Uint8Array;
  origLen: number;
  /** Time after the start (1,700,000,000 s), in µs. */
  micros: number;
  /** Rewrites the copied frame in place (`at`: its first byte in `block`). */
  patch?: (block: Buffer, at: number) => void;
}

/** Writes `count` records as a little-endian microsecond Ethernet pcap; returns its size. */
export function writeSyntheticPcap(
  path: string,
  count: number,
  record: (i: number) => SyntheticRecord,
): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    const block = Buffer.alloc(4 << 20);
    let used = 0;
    const flush = (): void => {
      writeSync(fd, block, 0, used);
      written += used;
      used = 0;
    };
    block.writeUInt32LE(0xa1b2c3d4, 0);
    block.writeUInt16LE(2, 4);
    block.writeUInt16LE(4, 6);
    block.writeUInt32LE(0, 8);
    block.writeUInt32LE(0, 12);
    block.writeUInt32LE(262144, 16);
    block.writeUInt32LE(1, 20);
    used = 24;
    const startSec = 1_700_000_000;
    for (let i = 0; i < count; i++) {
      const r = record(i);
      const len = r.data.length;
      if (used + 16 + len > block.length) flush();
      block.writeUInt32LE(startSec + Math.floor(r.micros / 1e6), used);
      block.writeUInt32LE(r.micros % 1e6, used + 4);
      block.writeUInt32LE(len, used + 8);
      block.writeUInt32LE(r.origLen, used + 12);
      block.set(r.data, used + 16);
      r.patch?.(block, used + 16);
      used += 16 + len;
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return written;
}
