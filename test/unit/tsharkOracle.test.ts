/**
 * tshark as the oracle for what tcpdump 4.99.3 cannot tell us: ERSPAN inside GRE,
 * the quoted packet of ICMPv6 errors, NSH over VXLAN-GPE, and GRE payloads. For a
 * few captures (ours and the tcpdump suite's), every packet's protocol chain and
 * the fields both tools read (addresses, TTLs, GRE key, ERSPAN session, ICMP codes
 * and MTUs, NSH path, VNI, UDP ports) must be the same, quoted packets included.
 * Skipped, with the reason, when tshark is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePcap } from '../../src/core/packets/pcapDecoder';
import type { Layer } from '../../src/core/packets/model';
import { runTool, ToolError } from '../../src/platform/exec/runner';

const FIXTURES = join(__dirname, '..', 'fixtures');
const CAPTURES = [
  'decoder-gaps/gre-tunnels.pcap',
  'decoder-gaps/icmp-errors.pcap',
  'tcpdump-tests/v4.99.3/nsh-over-vxlan-gpe.pcap',
  'tcpdump-tests/master/icmp-rfc5837.pcap',
];

/** tshark fields, in this order, each with every occurrence in the packet. */
const FIELDS = [
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ip.ttl',
  'ipv6.src',
  'ipv6.dst',
  'gre.key',
  'erspan.spanid',
  'erspan.version',
  'icmp.code',
  'icmp.mtu',
  'icmpv6.mtu',
  'nsh.spi',
  'nsh.si',
  'nsh.nextproto',
  'vxlan.vni',
  'udp.dstport',
] as const;

/** Protocols both sides name, tshark's name for each of our layer kinds. */
const PROTOCOL: Partial<Record<Layer['kind'], string>> = {
  ethernet: 'eth',
  ipv4: 'ip',
  ipv6: 'ipv6',
  icmp: 'icmp',
  icmp6: 'icmpv6',
  tcp: 'tcp',
  udp: 'udp',
  gre: 'gre',
  erspan: 'erspan',
  nsh: 'nsh',
};
const COMPARED = new Set(Object.values(PROTOCOL));

type Row = Record<(typeof FIELDS)[number], string>;

/** Our decode of one packet as tshark would print those fields. */
function ours(layers: Layer[]): Row {
  const f: Record<string, string[]> = {};
  for (const name of FIELDS) f[name] = [];
  const add = (name: (typeof FIELDS)[number], v: string | number | undefined): void => {
    if (v !== undefined) f[name]!.push(String(v));
  };
  const walk = (ls: Layer[]): void => {
    for (const l of ls) {
      const proto = PROTOCOL[l.kind];
      if (proto !== undefined) add('frame.protocols', proto);
      switch (l.kind) {
        case 'ipv4':
          add('ip.src', l.src);
          add('ip.dst', l.dst);
          add('ip.ttl', l.ttl);
          break;
        case 'ipv6':
          add('ipv6.src', l.src);
          add('ipv6.dst', l.dst);
          break;
        case 'gre':
          if (l.key !== undefined) add('gre.key', '0x' + l.key.toString(16).padStart(8, '0'));
          break;
        case 'erspan':
          add('erspan.spanid', l.sessionId);
          add('erspan.version', l.type - 1);
          break;
        case 'icmp':
          add('icmp.code', l.code);
          add('icmp.mtu', l.mtu);
          if (l.quoted) walk(l.quoted);
          break;
        case 'icmp6':
          add('icmpv6.mtu', l.mtu);
          if (l.quoted) walk(l.quoted);
          break;
        case 'nsh':
          add('nsh.spi', l.spi);
          add('nsh.si', l.si);
          add('nsh.nextproto', l.nextProtocol);
          break;
        case 'vxlan':
          add('vxlan.vni', l.vni);
          break;
        case 'udp':
          add('udp.dstport', l.dstPort);
          break;
        default:
          break;
      }
    }
  };
  walk(layers);
  const row = {} as Row;
  for (const name of FIELDS) row[name] = f[name]!.join(name === 'frame.protocols' ? ':' : ',');
  return row;
}

function theirs(line: string): Row {
  const cells = line.split('\t');
  const row = {} as Row;
  FIELDS.forEach((name, i) => {
    const v = cells[i] ?? '';
    row[name] =
      name === 'frame.protocols'
        ? v
            .split(':')
            .filter((p) => COMPARED.has(p))
            .join(':')
        : v;
  });
  return row;
}

for (const capture of CAPTURES) {
  test(`tshark agrees with our decode of ${capture}`, async (t) => {
    const file = join(FIXTURES, capture);
    let out: string;
    try {
      const argv = ['tshark', '-r', file, '-T', 'fields', '-E', 'occurrence=a'];
      argv.push('-E', 'aggregator=,');
      for (const name of FIELDS) argv.push('-e', name);
      out = (await runTool(argv)).stdout;
    } catch (err) {
      if (err instanceof ToolError && err.kind === 'not-found') {
        return t.skip('tshark not installed');
      }
      throw err;
    }
    const lines = out.split('\n').filter((l) => l !== '');
    const packets = decodePcap(new Uint8Array(readFileSync(file))).packets;
    assert.equal(packets.length, lines.length, 'packet count');
    let compared = 0;
    packets.forEach((p, i) => {
      const expected = theirs(lines[i]!);
      assert.deepEqual(ours(p.layers), expected, `${capture} packet ${i + 1}`);
      compared += Object.values(expected).filter((v) => v !== '').length;
    });
    assert.ok(compared >= packets.length * 3, `only ${compared} fields compared`);
  });
}
