// The capture session's streamed pcaps (a shell whose tcpdump writes `-w -` and the bytes
// land in the local file) and its limits (duration, bytes per hop, snap length), on the
// loopback interface with ping to a 127/8 address only these tests use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, startTool } from '../../src/platform/exec/runner';
import type { NodeShell } from '../../src/platform/shells/nodeShell';
import { captureHops, tcpdumpCaptureArgv } from '../../src/platform/capture/captureSession';
import { portProbeArgv, runPingProbe } from '../../src/platform/capture/probes';

/** This machine, but tcpdump's pcap must come back over stdout as from a remote node. */
const streamingShell: NodeShell = {
  kind: 'local-streaming',
  streamsCaptures: true,
  run: (_target, argv, options) => runTool(argv, options),
  start: (_target, argv, options) => {
    // A pcap path handed to a streaming shell would be a bug: it must be `-`.
    const w = argv.indexOf('-w');
    if (argv[0] === 'tcpdump' && argv[w + 1] !== '-')
      throw new Error(`not streamed: ${argv.join(' ')}`);
    return startTool(argv, options);
  },
};

function whyNot(): string | undefined {
  return process.getuid?.() !== 0 ? 'capturing needs root' : undefined;
}

async function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'pp-limits-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('argv: `-w -` streams, the snap length is passed; port probes are curl argv', () => {
  const argv = tcpdumpCaptureArgv('eth0', '-', 'icmp', 96);
  assert.deepEqual(argv.slice(-5), ['-s', '96', '-w', '-', 'icmp']);
  assert.deepEqual(portProbeArgv({ protocol: 'tcp', to: '10.244.1.5', port: 80 }), [
    'curl',
    '-s',
    '-o',
    '/dev/null',
    '--connect-timeout',
    '3',
    '-m',
    '3',
    '-w',
    '%{time_connect} %{http_code}',
    'http://10.244.1.5:80/',
  ]);
  assert.equal(
    portProbeArgv({ protocol: 'udp', to: '10.244.1.5', port: 53 }).at(-1),
    'tftp://10.244.1.5:53/podpath-probe',
  );
});

test('a streaming shell: the pcap comes back over stdout whole, with every packet', async (t) => {
  const why = whyNot();
  if (why) return t.skip(why);
  await withDir(async (dir) => {
    const result = await captureHops({
      shell: streamingShell,
      hops: [
        {
          name: '01-a-lo',
          target: { node: 'a' },
          interface: 'lo',
          filter: 'icmp and host 127.0.0.94',
        },
      ],
      outDir: dir,
      traffic: async (signal) => {
        await runPingProbe(streamingShell, { from: { node: 'a' }, to: '127.0.0.94', signal });
      },
    });
    const [f] = result.files;
    assert.ok(f);
    // 3 requests + 3 replies on lo, each seen once (tcpdump on lo sees them as outgoing).
    assert.equal(f.packets, 6);
    const pcap = await readFile(f.pcap);
    assert.equal(pcap.readUInt32LE(0), 0xa1b2c3d4, 'a pcap header');
    assert.equal(f.bytes, pcap.length);
    const text = await readFile(f.text, 'utf8');
    assert.equal(text.split('\n').filter((l) => /ICMP echo/.test(l)).length, 6);
    assert.equal(result.durationLimitHit, false);
    assert.equal(f.limitedBy, undefined);
  });
});

test('the duration limit cuts endless traffic short and stops the captures, not an error', async (t) => {
  const why = whyNot();
  if (why) return t.skip(why);
  await withDir(async (dir) => {
    const t0 = Date.now();
    const result = await captureHops({
      shell: streamingShell,
      hops: [
        {
          name: '01-a-lo',
          target: { node: 'a' },
          interface: 'lo',
          filter: 'icmp and host 127.0.0.95',
        },
      ],
      outDir: dir,
      limits: { durationMs: 1500 },
      traffic: async (signal) => {
        // A probe that would go on for 30 s.
        await runPingProbe(streamingShell, {
          from: { node: 'a' },
          to: '127.0.0.95',
          count: 150,
          signal,
        }).catch(() => undefined);
      },
    });
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(result.durationLimitHit, true);
    assert.equal(result.files[0]?.limitedBy, 'duration');
    assert.ok((result.files[0]?.packets ?? 0) >= 4);
  });
});

test('the size limit stops the hop that reached it; the snap length cuts each packet', async (t) => {
  const why = whyNot();
  if (why) return t.skip(why);
  await withDir(async (dir) => {
    const result = await captureHops({
      shell: streamingShell,
      hops: [
        {
          name: '01-a-lo',
          target: { node: 'a' },
          interface: 'lo',
          filter: 'icmp and host 127.0.0.96',
        },
      ],
      outDir: dir,
      limits: { maxBytesPerHop: 3000, snaplen: 200 },
      traffic: async (signal) => {
        await runPingProbe(streamingShell, {
          from: { node: 'a' },
          to: '127.0.0.96',
          count: 20,
          size: 1000,
          signal,
        });
      },
    });
    const [f] = result.files;
    assert.ok(f);
    assert.equal(f.limitedBy, 'size');
    // Stopped soon after 3000 bytes (checked every 200 ms), well before 40 packets.
    assert.ok(f.packets < 40, `${f.packets} packets`);
    const pcap = await readFile(f.pcap);
    assert.equal(pcap.readUInt32LE(16), 200, 'snaplen in the pcap header');
    // Each record's captured length is at most the snap length.
    assert.ok(pcap.readUInt32LE(24 + 8) <= 200);
    assert.equal(result.durationLimitHit, false);
  });
});
