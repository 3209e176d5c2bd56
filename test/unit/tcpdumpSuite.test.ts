/**
 * Cross-validation against tcpdump's own test suite: for every normal-traffic
 * case, decode the pcap with our decoder, parse tcpdump's expected text with our
 * parser, and require the same layers and the same values for every field both
 * sides carry, packet by packet. Fuzz-regression cases must only go through both
 * without throwing. The agreement is printed as a figure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePcap } from '../../src/core/packets/pcapDecoder';
import { parseTcpdumpText } from '../../src/core/packets/tcpdumpText';
import type { Layer, Packet } from '../../src/core/packets/model';

const SUITE = join(__dirname, '..', 'fixtures', 'tcpdump-tests');

interface Case {
  set: string;
  name: string;
  category: string;
  kind: string;
  args: string;
  pcap: string;
  out: string;
}

function loadCases(): Case[] {
  const [head, ...lines] = readFileSync(join(SUITE, 'manifest.tsv'), 'utf8').trim().split('\n');
  const cols = head!.split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    const get = (c: string): string => cells[cols.indexOf(c)] ?? '';
    // The master set's upstream outputs come from tcpdump 5.0; compare against what
    // Debian's 4.99.3 prints for the same pcap (regenerated), like our users see.
    const out =
      get('set') === 'master' ? get('regenerated_debian_4.99.3_out') : get('expected_out');
    return {
      set: get('set'),
      name: get('name'),
      category: get('category'),
      kind: get('kind'),
      args: get('testlist_args'),
      pcap: get('pcap'),
      out,
    };
  });
}

/** Categories of the protocols Podpath models (NFLOG is not one of them). */
const MODELLED = new Set([
  'vxlan',
  'otv(8472)',
  'geneve',
  'gre',
  'vlan/qinq',
  'arp',
  'icmp',
  'icmp6/ipv6',
  'ipv4',
  'tcp',
  'udp',
  'dns',
]);

/** BPF filter arguments (`geneve 0xb`, `-T domain`) change which packets print: not comparable. */
function usesFilterOrReinterpretation(args: string): boolean {
  return args.split(/\s+/).some((a) => a !== '' && !a.startsWith('-'));
}

interface Comparison {
  packets: number;
  agreeing: number;
  fields: number;
  differences: string[];
}

function compareLayers(
  decoded: Layer[],
  parsed: Layer[],
  where: string,
  into: Comparison,
): boolean {
  let ok = true;
  const n = Math.min(decoded.length, parsed.length);
  for (let i = 0; i < n; i++) {
    const d = decoded[i]!;
    const p = parsed[i]!;
    // Past the first layer either side did not understand, there is nothing to compare.
    if (d.kind === 'raw' || p.kind === 'raw') return ok;
    if (d.kind !== p.kind) {
      into.differences.push(`${where}: layer ${i} is ${d.kind} decoded but ${p.kind} parsed`);
      return false;
    }
    const dr = d as unknown as Record<string, unknown>;
    const pr = p as unknown as Record<string, unknown>;
    for (const key of Object.keys(pr)) {
      if (key === 'kind' || !(key in dr)) continue;
      into.fields++;
      if (dr[key] !== pr[key]) {
        into.differences.push(
          `${where}: ${p.kind}.${key} decoded ${JSON.stringify(dr[key])} but parsed ${JSON.stringify(pr[key])}`,
        );
        ok = false;
      }
    }
  }
  if (decoded.length !== parsed.length) {
    const longer = decoded.length > parsed.length ? decoded : parsed;
    if (longer[n]?.kind !== 'raw') {
      into.differences.push(
        `${where}: decoded ${decoded.map((l) => l.kind).join('/')} but parsed ${parsed.map((l) => l.kind).join('/')}`,
      );
      return false;
    }
  }
  return ok;
}

/** Without -e tcpdump prints no link-level header, and hides VLAN tags too. */
function printsLinkLevel(args: string): boolean {
  return /(^|\s)-[a-zA-Z]*e/.test(args);
}

function compareCase(c: Case, into: Comparison): void {
  const linkLevel = printsLinkLevel(c.args);
  const decoded = decodePcap(new Uint8Array(readFileSync(join(SUITE, c.pcap)))).packets.map((p) =>
    linkLevel
      ? p
      : { ...p, layers: p.layers.filter((l) => l.kind !== 'ethernet' && l.kind !== 'vlan') },
  );
  const parsed = parseTcpdumpText(readFileSync(join(SUITE, c.out), 'utf8')).packets;
  if (decoded.length !== parsed.length) {
    into.differences.push(`${c.name}: ${decoded.length} packets decoded, ${parsed.length} parsed`);
  }
  const n = Math.min(decoded.length, parsed.length);
  for (let i = 0; i < n; i++) {
    const d: Packet = decoded[i]!;
    const p: Packet = parsed[i]!;
    const where = `${c.set}/${c.name} #${i + 1}`;
    into.packets++;
    let ok = compareLayers(d.layers, p.layers, where, into);
    // Text times are wall-clock time of day in UTC (-tt epoch and -tttt dates reduce
    // to the same); -ttt and -ttttt print deltas, which say nothing absolute.
    const deltas = /(^|\s)-ttt(\s|$)|-ttttt/.test(c.args);
    if (p.ts !== undefined && d.ts !== undefined && !deltas) {
      into.fields++;
      const dayD = Math.round((d.ts % 86400) * 1e6);
      const dayP = Math.round((p.ts % 86400) * 1e6);
      // Nanosecond pcaps print truncated to microseconds: allow one microsecond.
      if (Math.abs(dayD - dayP) > 1) {
        into.differences.push(`${where}: time decoded ${d.ts} but parsed ${p.ts}`);
        ok = false;
      }
    }
    if (ok) into.agreeing++;
  }
}

const cases = loadCases();
const normal = cases.filter(
  (c) => c.kind === 'normal-traffic' && MODELLED.has(c.category) && c.out !== '',
);
const comparable = normal.filter((c) => !usesFilterOrReinterpretation(c.args));

test('tcpdump suite: our pcap decoder and text parser agree, packet by packet', () => {
  const total: Comparison = { packets: 0, agreeing: 0, fields: 0, differences: [] };
  const perCase: string[] = [];
  for (const c of comparable) {
    const one: Comparison = { packets: 0, agreeing: 0, fields: 0, differences: [] };
    compareCase(c, one);
    total.packets += one.packets;
    total.agreeing += one.agreeing;
    total.fields += one.fields;
    total.differences.push(...one.differences);
    if (one.agreeing !== one.packets || one.differences.length > 0) {
      perCase.push(`${c.set}/${c.name}: ${one.agreeing}/${one.packets} packets agree`);
    }
  }
  const pct = total.packets ? ((100 * total.agreeing) / total.packets).toFixed(2) : '0';
  console.log(
    `tcpdump suite agreement: ${total.agreeing}/${total.packets} packets (${pct}%) in ` +
      `${comparable.length} cases, ${total.fields} fields compared; ` +
      `${normal.length - comparable.length} filter-expression cases not comparable`,
  );
  for (const line of perCase) console.log(`  ${line}`);
  for (const d of total.differences.slice(0, 40)) console.log(`  ${d}`);
  assert.ok(total.packets > 1000, `only ${total.packets} packets compared`);
  assert.deepEqual(total.differences, [], 'decoder and parser disagree');
});

test('tcpdump suite: fuzz-regression cases parse and decode without throwing', () => {
  const fuzz = cases.filter((c) => c.kind !== 'normal-traffic');
  assert.ok(fuzz.length >= 40);
  for (const c of fuzz) {
    const bytes = new Uint8Array(readFileSync(join(SUITE, c.pcap)));
    const decoded = decodePcap(bytes);
    assert.ok(Array.isArray(decoded.packets), c.name);
    if (c.out) {
      const parsed = parseTcpdumpText(readFileSync(join(SUITE, c.out), 'utf8'));
      assert.ok(Array.isArray(parsed.packets), c.name);
    }
  }
});
