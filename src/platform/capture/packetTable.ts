/**
 * The panel's packet table over a whole hop without holding its packets: sorting and
 * filtering run over the hop's records (hopRecords.ts), and only the rows of the page
 * being shown are decoded, from the capture file by their offsets (or from memory for
 * small pastes). "Follow this packet" finds the same packet in every hop by its key.
 */
import type { Packet } from '../../core/packets/model';
import { summarizePacket, type PacketRow } from '../../core/packets/packetSummary';
import { innermostEthernet, outermostIp, tunnelLayer } from '../../core/packets/layers';
import { ECHO_REQUEST, HopRecords } from '../../core/hops/hopRecords';
import { NumberIndex } from '../../core/hops/numberIndex';
import {
  parseTableFilter,
  type FollowedHop,
  type SortColumn,
  type TableFilter,
  type TablePage,
  type TableQuery,
} from '../../core/hops/tableFilter';
import { readPage, type AnalyzedCapture, type FileAnalysis } from './analyzeFiles';

/** One hop's table: records, and a way to decode a run of its packets again. */
export class HopTable {
  private order: { key: string; indices: Uint32Array } | undefined;
  private nextKeys: NumberIndex | undefined;

  constructor(
    readonly records: HopRecords,
    private readonly fetch: (start: number, count: number) => Promise<Packet[]>,
    private readonly context: {
      /** The next hop's records ("not seen at the next hop"). */
      next?: HopRecords | undefined;
      /** Keys of the probe packets, and the probe flow's hash at this hop. */
      probeKeys?: NumberIndex | undefined;
      probeFlowHash?: number | undefined;
    } = {},
  ) {}

  get total(): number {
    return this.records.length;
  }

  /** A capture read from disk: pages come from its file. */
  static fromCapture(
    capture: Pick<AnalyzedCapture, 'records' | 'index'>,
    context: HopTable['context'] = {},
  ): HopTable {
    return new HopTable(capture.records, (s, n) => readPage(capture, s, n), context);
  }

  /** Packets already in memory (a pasted selection). */
  static fromPackets(name: string, packets: readonly Packet[]): HopTable {
    const records = new HopRecords(name);
    packets.forEach((p, i) => records.add(p, i));
    return new HopTable(records, (s, n) => Promise.resolve(packets.slice(s, s + n)));
  }

  async packet(index: number): Promise<Packet | undefined> {
    if (index < 0 || index >= this.records.length) return undefined;
    return (await this.fetch(index, 1))[0];
  }

  /** One page of the filtered, sorted hop. */
  async query(q: TableQuery): Promise<TablePage> {
    const parsed = parseTableFilter(q.filter);
    const indices = this.select(parsed.filter ?? {}, q);
    const offset = Math.max(0, Math.min(q.offset, Math.max(0, indices.length - 1)));
    const pageIndices = Array.from(indices.subarray(offset, offset + Math.max(0, q.count)));
    const packets = await this.fetchIndices(pageIndices);
    return {
      matching: indices.length,
      offset,
      rows: packets.map((p) => (p ? summarizePacket(p) : EMPTY_ROW)),
      indices: pageIndices,
      filterError: parsed.error,
    };
  }

  /** Decodes the packets at `indices`, reading contiguous runs together. */
  private async fetchIndices(indices: number[]): Promise<(Packet | undefined)[]> {
    const out: (Packet | undefined)[] = [];
    let i = 0;
    while (i < indices.length) {
      let j = i + 1;
      while (j < indices.length && indices[j] === indices[j - 1]! + 1) j++;
      const run = await this.fetch(indices[i]!, j - i);
      for (let k = 0; k < j - i; k++) out.push(run[k]);
      i = j;
    }
    return out;
  }

  /** Positions in the hop that pass the filter, in the asked order. */
  private select(filter: TableFilter, q: TableQuery): Uint32Array {
    const r = this.records;
    const n = r.length;
    const flowOk = r.flows.map((f) => {
      if (filter.address && f.src !== filter.address && f.dst !== filter.address) return false;
      if (filter.port !== undefined && f.srcPort !== filter.port && f.dstPort !== filter.port) {
        return false;
      }
      if (filter.protocol && f.protocol !== filter.protocol) return false;
      return true;
    });
    const needsFlow =
      filter.address !== undefined || filter.port !== undefined || filter.protocol !== undefined;
    const next = q.notSeenAtNextHop ? this.nextHopKeys() : undefined;
    const probeKeys = this.context.probeKeys;
    const probeFlow =
      this.context.probeFlowHash !== undefined
        ? r.flowByHash(this.context.probeFlowHash)
        : undefined;
    const out = new Uint32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const f = r.flow(i);
      if (needsFlow && (f < 0 || !flowOk[f])) continue;
      if (filter.ttl !== undefined && r.ttl(i) !== filter.ttl) continue;
      if (q.probeOnly) {
        const k = r.key(i);
        const byKey = probeKeys?.has(k) ?? false;
        const byFlow =
          probeFlow !== undefined && f === probeFlow && (r.flags(i) & ECHO_REQUEST) !== 0;
        if (!byKey && !byFlow) continue;
      }
      if (next) {
        const k = r.key(i);
        if (k !== k || next.has(k)) continue;
      }
      out[m++] = i;
    }
    const selected = out.subarray(0, m);
    if (q.sort === 'index' && !q.descending) return selected;
    const sorted = this.sorted(q.sort);
    // Keep the sort order, restricted to what passed the filter.
    let result: Uint32Array;
    if (m === n) result = sorted.slice();
    else {
      const pass = new Uint8Array(n);
      for (let k = 0; k < m; k++) pass[selected[k]!] = 1;
      result = new Uint32Array(m);
      let w = 0;
      for (let k = 0; k < n; k++) if (pass[sorted[k]!]) result[w++] = sorted[k]!;
    }
    if (q.descending) result.reverse();
    return result;
  }

  /** The hop's positions sorted by `column` (stable: capture order among equals), cached. */
  private sorted(column: SortColumn): Uint32Array {
    if (this.order?.key === column) return this.order.indices;
    const r = this.records;
    const n = r.length;
    let indices: Uint32Array;
    if (column === 'index') {
      indices = new Uint32Array(n);
      for (let i = 0; i < n; i++) indices[i] = i;
    } else if (column === 'time') {
      indices = new Uint32Array(n);
      for (let i = 0; i < n; i++) indices[i] = i;
      indices.sort((a, b) => timeOrder(r.time(a), r.time(b)) || a - b);
    } else if (n >= 2 ** 24) {
      // Too many positions to pack beside a rank: a comparator sort, slower but right.
      const rank = this.ranks(column);
      indices = new Uint32Array(n);
      for (let i = 0; i < n; i++) indices[i] = i;
      indices.sort((a, b) => rank(a) - rank(b) || a - b);
    } else {
      // Small integer ranks packed above the position sort natively, which is fast.
      const rank = this.ranks(column);
      const packed = new Float64Array(n);
      for (let i = 0; i < n; i++) packed[i] = rank(i) * 2 ** 24 + i;
      packed.sort();
      indices = new Uint32Array(n);
      for (let i = 0; i < n; i++) indices[i] = packed[i]! % 2 ** 24;
    }
    this.order = { key: column, indices };
    return indices;
  }

  private ranks(column: Exclude<SortColumn, 'index' | 'time'>): (i: number) => number {
    const r = this.records;
    switch (column) {
      case 'ttl':
        return (i) => r.ttl(i) ?? 256;
      case 'length':
        return (i) => r.frameLength(i) ?? 65536;
      default: {
        const field = column === 'source' ? 'src' : column === 'destination' ? 'dst' : 'protocol';
        const names = [...new Set(r.flows.map((f) => f[field]))].sort(compareText);
        const position = new Map(names.map((name, k) => [name, k]));
        const flowRank = r.flows.map((f) => position.get(f[field])!);
        return (i) => {
          const f = r.flow(i);
          return f < 0 ? names.length : flowRank[f]!;
        };
      }
    }
  }

  private nextHopKeys(): NumberIndex {
    this.nextKeys ??= this.context.next ? this.context.next.keySet() : new NumberIndex();
    return this.nextKeys;
  }
}

/** Where the packet at `index` of `tables[hop]` is in every hop, with what changed. */
export async function followPacket(
  tables: readonly HopTable[],
  names: readonly string[],
  hop: number,
  index: number,
): Promise<FollowedHop[]> {
  const from = tables[hop];
  const key = from && index >= 0 && index < from.total ? from.records.key(index) : NaN;
  const selected = from ? await from.packet(index) : undefined;
  const selectedRow = selected ? summarizePacket(selected) : null;
  const out: FollowedHop[] = [];
  for (const [h, table] of tables.entries()) {
    const at = h === hop ? index : key === key ? table.records.findKey(key) : -1;
    const packet = at >= 0 ? await table.packet(at) : undefined;
    if (!packet) {
      out.push({
        hop: names[h] ?? '',
        index: null,
        row: null,
        ttl: null,
        outer: '',
        macs: '',
        nat: '',
      });
      continue;
    }
    const row = summarizePacket(packet);
    const eth = innermostEthernet(packet);
    const tunnel = tunnelLayer(packet);
    const outer = outermostIp(packet);
    const nat: string[] = [];
    if (selectedRow && row.source !== selectedRow.source) {
      nat.push(`source ${selectedRow.source} → ${row.source}`);
    }
    if (selectedRow && row.destination !== selectedRow.destination) {
      nat.push(`destination ${selectedRow.destination} → ${row.destination}`);
    }
    out.push({
      hop: names[h] ?? '',
      index: at,
      row,
      ttl: row.ttl,
      outer: tunnel && outer ? row.encapsulation : '',
      macs: eth?.src && eth.dst ? `${eth.src} → ${eth.dst}` : '',
      nat: nat.join(', '),
    });
  }
  return out;
}

const EMPTY_ROW: PacketRow = {
  time: '',
  source: '',
  destination: '',
  protocol: '',
  ttl: null,
  length: null,
  frameLength: null,
  ipLength: null,
  encapsulation: '',
  info: 'could not be read again from the capture file',
};

function timeOrder(a: number, b: number): number {
  if (a === b) return 0;
  if (a !== a) return 1;
  if (b !== b) return -1;
  return a - b;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The tables of an analysis: pages from each capture file, probe and next hop known. */
export function analysisTables(
  analysis: Pick<FileAnalysis, 'captures' | 'correlation'>,
): HopTable[] {
  const { captures, correlation } = analysis;
  const probeKeys = new NumberIndex(correlation.probes?.keys.length ?? 0);
  for (const k of correlation.probes?.keys ?? []) probeKeys.add(k, 0);
  return captures.map((capture, i) => {
    const match = correlation.hops[i];
    const rep = match && match.record >= 0 ? capture.records.flow(match.record) : -1;
    return HopTable.fromCapture(capture, {
      next: captures[i + 1]?.records,
      probeKeys,
      probeFlowHash: rep >= 0 ? capture.records.flows[rep]?.hash : undefined,
    });
  });
}
