/**
 * Times hop correlation on synthetic captures shaped like a Flannel VXLAN run:
 * `hops` captures of `packetsPerHop` packets each (echo requests and replies,
 * VXLAN-encapsulated on the two underlay hops), every probe seen everywhere.
 */
import { performance } from 'node:perf_hooks';
import type { Layer, Packet } from '../../core/packets/model';
import type { HopCapture } from '../../core/hops/types';
import { analyzeHops } from '../../core/hops/analyzeHops';

function syntheticHop(hop: number, hops: number, packets: number): Packet[] {
  const encapsulated = hop === hops / 2 - 1 || hop === hops / 2;
  const ttl = hop < 2 ? 64 : hop < hops - 2 ? 63 : 62;
  const out: Packet[] = new Array<Packet>(packets);
  for (let i = 0; i < packets; i++) {
    const request = i % 2 === 0;
    const seq = (i >> 1) & 0xffff;
    const id = 1000 + (i >> 17);
    const inner: Layer[] = [
      { kind: 'ethernet', src: '0a:58:0a:f4:00:05', dst: '0a:58:0a:f4:01:04', ethertype: 0x0800 },
      {
        kind: 'ipv4',
        src: request ? '10.244.0.5' : '10.244.1.4',
        dst: request ? '10.244.1.4' : '10.244.0.5',
        ttl,
        id: i & 0xffff,
        length: 84,
        proto: 1,
        df: true,
        tos: 0,
      },
      { kind: 'icmp', type: request ? 'echo request' : 'echo reply', code: 0, id, seq, length: 64 },
    ];
    const layers: Layer[] = encapsulated
      ? [
          {
            kind: 'ethernet',
            src: '02:42:ac:12:00:05',
            dst: '02:42:ac:12:00:06',
            ethertype: 0x0800,
          },
          {
            kind: 'ipv4',
            src: '172.18.0.5',
            dst: '172.18.0.6',
            ttl: 64,
            id: i & 0xffff,
            length: 134,
            proto: 17,
          },
          { kind: 'udp', srcPort: 49890, dstPort: 8472, length: 106 },
          { kind: 'vxlan', vni: 1, flags: 8 },
          ...inner,
        ]
      : inner;
    out[i] = { ts: 1_700_000_000 + i * 0.001 + hop * 0.00001, layers, source: i + 1 };
  }
  return out;
}

export interface CorrelationBenchResult {
  hops: number;
  packetsPerHop: number;
  correlateMs: number;
  firstMissingHop: string | null;
}

export function runCorrelationBench(hops = 8, packetsPerHop = 100_000): CorrelationBenchResult {
  const captures: HopCapture[] = [];
  for (let h = 0; h < hops; h++) {
    captures.push({
      name: `${String(h + 1).padStart(2, '0')}-hop`,
      packets: syntheticHop(h, hops, packetsPerHop),
    });
  }
  const started = performance.now();
  const report = analyzeHops(captures);
  const correlateMs = performance.now() - started;
  return { hops, packetsPerHop, correlateMs, firstMissingHop: report.firstMissingHop };
}
