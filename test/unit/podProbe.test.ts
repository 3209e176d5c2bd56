// The trace's probe inside pod A (src/platform/trace/podProbe.ts): which exec outcomes make it
// fall back to pod A's network namespace on its node (the command could not start, exec is
// forbidden, no such container) and which are the probe's own result (replies or none), and
// runPodProbe with a client whose exec answers as the runtime does and a node shell that
// records whether the fallback ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Writable } from 'node:stream';
import { KubeError } from '../../src/platform/kube/kubeClient';
import type { ClusterClient, ExecOutcome, ExecRequest } from '../../src/platform/kube/kubeClient';
import type { RunOptions, RunResult, ToolProcess } from '../../src/platform/exec/runner';
import type { NodeShell, ShellTarget } from '../../src/platform/shells/nodeShell';
import { inPodFallback, runPodProbe } from '../../src/platform/trace/podProbe';
import type { InPodAttempt } from '../../src/platform/trace/podProbe';

const OCI_NOT_FOUND =
  'error executing command in container: failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: exec: "ping": executable file not found in $PATH: unknown';
const PING_LOST =
  'PING 10.244.1.5 (10.244.1.5) 56(84) bytes of data.\n\n--- 10.244.1.5 ping statistics ---\n3 packets transmitted, 0 received, 100% packet loss, time 405ms\n';
const PING_OK =
  'PING 10.244.1.5 (10.244.1.5) 56(84) bytes of data.\n64 bytes from 10.244.1.5: icmp_seq=1 ttl=62 time=0.1 ms\n\n--- 10.244.1.5 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 405ms\n';

function ended(exitCode: number | null, extra: Partial<InPodAttempt & { ended: true }> = {}) {
  return { ended: true as const, exitCode, message: '', stdout: '', stderr: '', ...extra };
}

test('inPodFallback: a command that cannot start, a refused exec, no container → fall back', () => {
  const cases: [InPodAttempt, string][] = [
    [ended(null, { message: OCI_NOT_FOUND }), 'tool-missing'],
    // busybox / a shell: "sh: ping: not found", exit 127; a file that is not executable, 126.
    [ended(127, { stderr: 'sh: exec: line 1: ping: not found\n' }), 'tool-missing'],
    [ended(126, { stderr: 'sh: /bin/ping: cannot execute binary file\n' }), 'tool-missing'],
    [ended(null, { message: 'container probe is not valid for pod podA' }), 'no-container'],
    [
      { ended: false, error: new KubeError('forbidden', 'alice may not create pods/exec') },
      'forbidden',
    ],
    [{ ended: false, error: new KubeError('server', 'error dialing backend') }, 'exec-failed'],
    [ended(null, { message: 'something else went wrong' }), 'exec-failed'],
    // An unprivileged ping that may not open its socket sent nothing at all.
    [ended(2, { stderr: 'ping: socket: Operation not permitted\n' }), 'not-permitted'],
    // A ping that rejects an option (or finds no route) printed no statistics: it sent nothing;
    // the node-side ping in the same netns says the same about the datapath.
    [
      ended(1, { stderr: "ping: invalid option -- 'W'\nBusyBox v1.36.1 multi-call binary.\n" }),
      'tool-failed',
    ],
    [ended(2, { stderr: 'ping: connect: Network is unreachable\n' }), 'tool-failed'],
  ];
  for (const [attempt, reason] of cases) {
    assert.equal(inPodFallback(attempt, 'ping')?.reason, reason, JSON.stringify(attempt));
  }
  assert.equal(
    inPodFallback(ended(null, { message: OCI_NOT_FOUND }), 'ping')?.detail,
    'the image has no ping',
  );
});

test('inPodFallback: replies or none are the result, never a reason to probe from elsewhere', () => {
  const results: InPodAttempt[] = [
    ended(0, { stdout: PING_OK }),
    // No reply: ping exits 1 with its statistics line.
    ended(1, { stdout: PING_LOST }),
    // curl: connection refused (7), timed out (28): the packets crossed the datapath.
    ended(7, { stdout: '0.000000 000' }),
    ended(28, { stdout: '0.000000 000' }),
    // curl's exit 127 that is not a missing executable.
    ended(127, { stdout: '0.000000 000', stderr: 'unexpected answer\n' }),
  ];
  for (const attempt of results) {
    const tool = /^0\.0/.test(attempt.ended ? attempt.stdout : '') ? 'curl' : 'ping';
    assert.equal(inPodFallback(attempt, tool), null, JSON.stringify(attempt));
  }
});

/** A client whose exec answers with `answer`, recording what it was asked. */
function fakeClient(
  answer: (r: ExecRequest) => { stdout?: string; stderr?: string; outcome: ExecOutcome } | Error,
) {
  const asked: ExecRequest[] = [];
  const client = {
    exec(request: ExecRequest) {
      asked.push(request);
      const a = answer(request);
      if (a instanceof Error) return Promise.reject(a);
      const write = (w: Writable, text?: string) => {
        if (text) w.write(text);
        w.end();
      };
      write(request.stdout, a.stdout);
      write(request.stderr, a.stderr);
      // A cancel closes the exec: its done rejects, as ClusterClient's does.
      const done = new Promise<ExecOutcome>((resolve, reject) => {
        if (request.signal?.aborted) reject(new KubeError('cancelled', 'Cancelled.'));
        else setTimeout(() => resolve(a.outcome), 5);
      });
      return Promise.resolve({ done, protocol: 'v5.channel.k8s.io', close: () => undefined });
    },
  };
  return { client: client as unknown as ClusterClient, asked };
}

/** A node shell that answers ping from the pod's netns, recording each run. */
function fakeShell(stdout = PING_OK) {
  const runs: { target: ShellTarget; argv: readonly string[] }[] = [];
  const shell: NodeShell = {
    kind: 'fake',
    run(target: ShellTarget, argv: readonly string[], _o?: RunOptions): Promise<RunResult> {
      runs.push({ target, argv });
      return Promise.resolve({ stdout, stderr: '', exitCode: 0, durationMs: 1 });
    },
    start(): ToolProcess {
      throw new Error('not used');
    },
  };
  return { shell, runs };
}

const BASE = {
  from: { node: 'kind-worker', pod: 'default/podA' },
  namespace: 'default',
  name: 'podA',
  probe: { protocol: 'icmp' as const },
  to: '10.244.1.5',
};

test('runPodProbe: ping inside the pod; no reply is still the pod’s result', async () => {
  const { client, asked } = fakeClient(() => ({
    stdout: PING_LOST,
    outcome: { exitCode: 1, message: 'command terminated with non-zero exit code' },
  }));
  const { shell, runs } = fakeShell();
  const r = await runPodProbe({ ...BASE, client, shell, container: 'app' });
  assert.equal(r.ranIn, 'pod');
  assert.deepEqual([r.kind, r.sent, r.received], ['icmp', 3, 0]);
  assert.equal(r.where, 'probed from inside default/podA (container app)');
  assert.deepEqual(runs, [], 'no probe from the node');
  assert.equal(asked[0]?.container, 'app');
  assert.deepEqual(asked[0]?.command, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', BASE.to]);
});

test('runPodProbe: an image without ping, or no such container → from the pod’s netns on its node', async () => {
  const { client } = fakeClient(() => ({
    outcome: { exitCode: null, message: OCI_NOT_FOUND },
  }));
  const { shell, runs } = fakeShell();
  const r = await runPodProbe({ ...BASE, client, shell, container: 'app' });
  assert.equal(r.ranIn, 'node-netns');
  assert.equal(r.ranIn === 'node-netns' && r.fallback.reason, 'tool-missing');
  assert.equal(
    r.where,
    "default/podA's image has no ping: probed from its network namespace on node kind-worker",
  );
  assert.deepEqual([r.sent, r.received], [3, 3]);
  assert.deepEqual(runs[0]?.target, BASE.from);

  const none = fakeClient(() => new Error('not asked'));
  const r2 = await runPodProbe({
    ...BASE,
    client: none.client,
    shell,
    container: { missing: 'has no container named probe (it has app)' },
  });
  assert.equal(r2.ranIn === 'node-netns' && r2.fallback.reason, 'no-container');
  assert.deepEqual(none.asked, []);

  const forbidden = fakeClient(() => new KubeError('forbidden', 'may not create pods/exec'));
  const r3 = await runPodProbe({ ...BASE, client: forbidden.client, shell, container: 'app' });
  assert.equal(r3.ranIn === 'node-netns' && r3.fallback.reason, 'forbidden');
  assert.match(r3.where, /^exec into default\/podA is not allowed \(pods\/exec\): probed from/);
});

test('runPodProbe: a cancel ends the exec and probes nowhere else', async () => {
  const controller = new AbortController();
  const { client, asked } = fakeClient(() => {
    controller.abort(new Error('cancelled by the test'));
    return { outcome: { exitCode: 0, message: '' } };
  });
  const { shell, runs } = fakeShell();
  await assert.rejects(
    runPodProbe({ ...BASE, client, shell, container: 'app', signal: controller.signal }),
    /cancelled by the test/,
  );
  assert.equal(asked.length, 1);
  assert.ok(asked[0]?.signal?.aborted, 'the exec saw the cancel');
  assert.deepEqual(runs, []);
});
