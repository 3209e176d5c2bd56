// One meaning per word in the layer details: outer and inner told apart, decoded values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePcap } from '../../src/core/packets/pcapDecoder';
import { describeLayers, summarizePacket } from '../../src/core/packets/packetSummary';

const vxlan = join(__dirname, '..', 'fixtures', 'netns', 'flannel-vxlan', '04-nodeA-eth0.pcap');

test('a VXLAN packet: Outer / Inner layers with addresses, and decoded flags, DF and protocol', () => {
  const packet = decodePcap(readFileSync(vxlan)).packets[0]!;
  const layers = describeLayers(packet);
  assert.deepEqual(
    layers.map((l) => l.title),
    [
      'Outer Ethernet 02:42:ac:12:00:05 → 02:42:ac:12:00:06',
      'Outer IPv4 172.18.0.5 → 172.18.0.6',
      'Outer UDP',
      'VXLAN',
      'Inner Ethernet b2:8f:4e:6a:1d:c3 → 3e:a5:91:07:bc:22',
      'Inner IPv4 10.244.0.5 → 10.244.1.4',
      'ICMP',
    ],
  );
  const field = (i: number, name: string): string | undefined =>
    layers[i]!.fields.find((f) => f.name === name)?.value;
  assert.equal(field(3, 'flags'), '[I] (0x08)');
  assert.equal(field(1, 'proto'), '17 (UDP)');
  assert.equal(field(1, 'IP length'), '134');
  assert.equal(field(5, 'IP length'), '84');
  assert.equal(field(5, 'flags'), "DF (don't fragment)");
  assert.equal(field(0, 'ethertype'), '0x0800 (IPv4)');
  const row = summarizePacket(packet);
  assert.equal(row.frameLength, 148);
  assert.equal(row.ipLength, 134);
});
