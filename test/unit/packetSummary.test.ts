import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePcap } from '../../src/core/packets/pcapDecoder';
import { describeLayers, summarizePacket } from '../../src/core/packets/packetSummary';

const GAPS = join(__dirname, '..', 'fixtures', 'decoder-gaps');

test('an ICMP error row names the MTU and the packet it is about; its quote is one field', () => {
  const { packets } = decodePcap(new Uint8Array(readFileSync(join(GAPS, 'icmp-errors.pcap'))));
  const row = summarizePacket(packets[1]!);
  assert.equal(
    row.info,
    'unreachable, length 556, mtu 1450, about IPv4 10.81.0.1 > 10.82.0.1, ICMP echo request',
  );
  // The row is the error's own: from the router back to the sender.
  assert.equal(row.ttl, 64);
  const icmp = describeLayers(packets[1]!).find((l) => l.kind === 'icmp')!;
  assert.deepEqual(
    icmp.fields.find((f) => f.name === 'quoted'),
    { name: 'quoted', value: 'IPv4 10.81.0.1 > 10.82.0.1, ICMP echo request' },
  );
});

test('ERSPAN and NSH layers have titles of their own', () => {
  const gre = decodePcap(new Uint8Array(readFileSync(join(GAPS, 'gre-tunnels.pcap')))).packets[3]!;
  assert.ok(describeLayers(gre).some((l) => l.title === 'ERSPAN'));
  const nsh = decodePcap(
    new Uint8Array(
      readFileSync(
        join(__dirname, '..', 'fixtures', 'tcpdump-tests', 'v4.99.3', 'nsh-over-vxlan-gpe.pcap'),
      ),
    ),
  ).packets[0]!;
  assert.ok(describeLayers(nsh).some((l) => l.title === 'NSH'));
});
