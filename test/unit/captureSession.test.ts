// The capture session over a NodeShell, on the loopback interface: every "hop" is `lo`
// on this machine, the traffic is ping to a 127/8 address only these tests use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, startTool } from '../../src/platform/exec/runner';
import type { NodeShell } from '../../src/platform/shells/nodeShell';
import {
  CaptureError,
  captureHops,
  tcpdumpCaptureArgv,
} from '../../src/platform/capture/captureSession';
import { pingArgv, runPingProbe, runTcpProbe } from '../../src/platform/capture/probes';

/** Every target is this machine: enough to exercise the session without namespaces. */
const localShell: NodeShell = {
  kind: 'local',
  run: (_target, argv, options) => runTool(argv, options),
  start: (_target, argv, options) => startTool(argv, options),
};

function whyNotRunnable(): string | undefined {
  if (process.getuid?.() !== 0) return 'capturing needs root';
  return undefined;
}

async function stillRunning(pattern: string): Promise<string> {
  const r = await runTool(['pgrep', '-a', '-f', pattern], { okExitCodes: [0, 1] });
  return r.stdout.trim();
}

test('tcpdump argv keeps the filter as one element and writes pcap unbuffered', () => {
  const argv = tcpdumpCaptureArgv('eth0', '/tmp/x/04-nodeA-eth0.pcap', 'udp port 8472 and (icmp)');
  assert.deepEqual(argv, [
    'tcpdump',
    '-i',
    'eth0',
    '-nn',
    '-U',
    '--immediate-mode',
    '-Z',
    'root',
    '-s',
    '262144',
    '-w',
    '/tmp/x/04-nodeA-eth0.pcap',
    'udp port 8472 and (icmp)',
  ]);
  assert.deepEqual(pingArgv({ to: '10.244.1.2', size: 1000 }), [
    'ping',
    '-n',
    '-c',
    '3',
    '-i',
    '0.2',
    '-W',
    '1',
    '-s',
    '1000',
    '10.244.1.2',
  ]);
});

test('captures every hop at once, loses nothing on stop, renders text next to the pcap', async (t) => {
  const why = whyNotRunnable();
  if (why) return t.skip(why);
  const dir = await mkdtemp(join(tmpdir(), 'pp-capture-'));
  try {
    const progress: string[] = [];
    const result = await captureHops({
      shell: localShell,
      hops: [
        {
          name: '01-a-lo',
          target: { node: 'a' },
          interface: 'lo',
          filter: 'icmp and host 127.0.0.93',
        },
        {
          name: '02-b-lo',
          target: { node: 'b', pod: 'p' },
          interface: 'lo',
          filter: 'icmp and host 127.0.0.93',
        },
      ],
      outDir: dir,
      settleMs: 50,
      onProgress: (m) => progress.push(m),
      traffic: async (signal) => {
        const outcome = await runPingProbe(localShell, {
          from: { node: 'a' },
          to: '127.0.0.93',
          signal,
        });
        assert.equal(outcome.sent, 3);
        assert.equal(outcome.received, 3);
      },
    });
    assert.equal(result.files.length, 2);
    for (const f of result.files) {
      // 3 requests + 3 replies, each seen once on lo.
      assert.equal(f.packets, 6, `${f.hop} packets`);
      assert.ok((await stat(f.pcap)).size > 24);
      const text = await readFile(f.text, 'utf8');
      assert.equal(text.match(/ICMP echo request/g)?.length, 3, `${f.hop} text`);
      assert.equal(text.match(/ICMP echo reply/g)?.length, 3);
      assert.match(text, /ttl 64/);
    }
    assert.equal(result.files[0]!.text, join(dir, '01-a-lo.txt'));
    assert.ok(progress.some((m) => /All 2 captures listening/.test(m)));
    assert.ok(result.timings.totalMs >= result.timings.trafficMs);
    assert.equal(await stillRunning(dir), '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a capture that dies at start names its hop and says what tcpdump said', async (t) => {
  const why = whyNotRunnable();
  if (why) return t.skip(why);
  const dir = await mkdtemp(join(tmpdir(), 'pp-capture-'));
  let trafficRan = false;
  try {
    await assert.rejects(
      captureHops({
        shell: localShell,
        hops: [
          { name: '01-a-lo', target: { node: 'a' }, interface: 'lo', filter: 'icmp' },
          {
            name: '02-b-missing',
            target: { node: 'b' },
            interface: 'pp-nosuchif0',
            filter: 'icmp',
          },
        ],
        outDir: dir,
        traffic: async () => {
          trafficRan = true;
        },
      }),
      (err: unknown) => {
        assert.ok(err instanceof CaptureError);
        assert.equal(err.hop, '02-b-missing');
        assert.match(err.message, /02-b-missing/);
        assert.match(err.message, /pp-nosuchif0/);
        assert.match(err.message, /No such device|doesn't exist|not exist/i);
        return true;
      },
    );
    assert.equal(trafficRan, false);
    assert.equal(await stillRunning(dir), '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a bad filter is reported with the hop name', async (t) => {
  const why = whyNotRunnable();
  if (why) return t.skip(why);
  const dir = await mkdtemp(join(tmpdir(), 'pp-capture-'));
  try {
    await assert.rejects(
      captureHops({
        shell: localShell,
        hops: [{ name: '01-a-lo', target: { node: 'a' }, interface: 'lo', filter: 'icmp and and' }],
        outDir: dir,
        traffic: async () => undefined,
      }),
      /01-a-lo.*syntax error/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('abort in the middle of the traffic stops every capture and the traffic', async (t) => {
  const why = whyNotRunnable();
  if (why) return t.skip(why);
  const dir = await mkdtemp(join(tmpdir(), 'pp-capture-'));
  const controller = new AbortController();
  try {
    const started = Date.now();
    await assert.rejects(
      captureHops({
        shell: localShell,
        hops: [
          {
            name: '01-a-lo',
            target: { node: 'a' },
            interface: 'lo',
            filter: 'icmp and host 127.0.0.94',
          },
          {
            name: '02-b-lo',
            target: { node: 'b' },
            interface: 'lo',
            filter: 'icmp and host 127.0.0.94',
          },
        ],
        outDir: dir,
        signal: controller.signal,
        traffic: async (signal) => {
          setTimeout(() => controller.abort(), 300);
          // A long ping: the abort must end it.
          await runTool(['ping', '-n', '-c', '100', '-i', '0.2', '127.0.0.94'], { signal });
        },
      }),
      (err: unknown) => err instanceof Error && err.name === 'AbortError',
    );
    assert.ok(Date.now() - started < 5000, 'abort is prompt');
    // Give the killed ping a moment to be reaped.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await stillRunning(dir), '');
    assert.equal(await stillRunning('127.0.0.94'), '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tcp probe: a real iperf3 exchange on loopback, server gone afterwards', async (t) => {
  const why = whyNotRunnable();
  if (why) return t.skip(why);
  const ok = await runTcpProbe(localShell, {
    from: { node: 'a' },
    server: { node: 'b' },
    to: '127.0.0.95',
    port: 5291,
  });
  assert.equal(ok.kind, 'tcp');
  assert.equal(ok.received, 1);
  assert.match(ok.summary, /receiver/);
  assert.equal(await stillRunning('iperf3 -s -1 -p 5291'), '');
});
