// PodNodeShell against the API stand-in (test/support/kubeApiStandIn.ts + kubeStandInPods.ts):
// node-shell pods created through the API (after consent), Running, exec over the WebSocket
// channel protocol (client-node's Exec), exit codes from the status channel, stdout bytes
// streamed to a file, long-running commands stopped by a second exec, PodSecurity and RBAC
// refusals, cleanup by label, cancel. No root: the stand-in runs the exec'd argv directly
// (nodes without a lab namespace); test/root/podShellLab.test.ts runs it on a built lab.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KubeApiStandIn,
  makeCertificates,
  standInKubeconfig,
  type Certificates,
} from '../support/kubeApiStandIn';
import type { PodApiOptions } from '../support/kubeStandInPods';
import { ClusterClient, loadKubeConfigSet } from '../../src/platform/kube/kubeClient';
import {
  cleanupNodeShellPods,
  createPodNodeShell,
  DEFAULT_NODE_SHELL_IMAGE,
  HOST_PREFIX,
  nodeShellConsentText,
  PodShellError,
  type NodeShellConsentRequest,
  type PodNodeShell,
  type PodNodeShellOptions,
} from '../../src/platform/shells/podShell';
import { ToolError } from '../../src/platform/exec/runner';

let certs: Certificates;
let dir = '';
const standIns: KubeApiStandIn[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-podshell-'));
  certs = await makeCertificates(join(dir));
});

after(async () => {
  for (const s of standIns) {
    await s.stop();
    s.podApi.dispose();
  }
  await rm(dir, { recursive: true, force: true });
});

const NODES = [
  { name: 'node-a', ip: '172.18.0.5' },
  { name: 'node-b', ip: '172.18.0.6' },
];

async function cluster(
  pods: PodApiOptions = {},
  extra: { deny?: string[] } = {},
): Promise<{ standIn: KubeApiStandIn; client: ClusterClient }> {
  const standIn = new KubeApiStandIn({
    certs,
    tokens: { 'tok-alice': 'alice' },
    deny: extra.deny,
    pods: { nodes: NODES, startDelayMs: 20, ...pods },
  });
  for (const n of NODES) {
    standIn.upsert({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name },
      status: { addresses: [{ type: 'InternalIP', address: n.ip }] },
    });
  }
  await standIn.start();
  standIns.push(standIn);
  const file = join(dir, `kubeconfig-${standIns.length}`);
  await writeFile(file, standInKubeconfig(standIn, certs, { token: 'tok-alice' }));
  const client = new ClusterClient(loadKubeConfigSet([file]));
  return { standIn, client };
}

function shellFor(
  client: ClusterClient,
  options: Partial<PodNodeShellOptions> = {},
): { shell: PodNodeShell; asked: NodeShellConsentRequest[] } {
  const asked: NodeShellConsentRequest[] = [];
  const shell = createPodNodeShell({
    client,
    confirm: (r) => {
      asked.push(r);
      return Promise.resolve(true);
    },
    pollMs: 20,
    ...options,
  });
  return { shell, asked };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('the consent text says what is created, where, with which image', () => {
  const text = nodeShellConsentText({
    context: 'prod',
    server: 'https://10.0.0.1:6443',
    namespace: 'podpath',
    nodes: ['node-a', 'node-b'],
    image: DEFAULT_NODE_SHELL_IMAGE,
    owner: 'pp-run-1',
    deadlineSeconds: 3600,
  });
  assert.match(text.message, /2 privileged pods in namespace podpath of context prod/);
  assert.match(text.message, /node-a, node-b/);
  assert.match(text.detail, /nicolaka\/netshoot:v\d/);
  assert.match(text.detail, /podpath\.dev\/owner=pp-run-1/);
  assert.match(text.detail, /60 minutes/);
  assert.match(text.detail, /podpath\.nodeShell\.namespace/);
  assert.equal(text.confirmLabel, 'Create pods');
  assert.equal(
    nodeShellConsentText({ ...baseRequest(), nodes: ['n1'] }).confirmLabel,
    'Create pod',
  );
});

function baseRequest(): NodeShellConsentRequest {
  return {
    context: 'c',
    server: 's',
    namespace: 'default',
    nodes: [],
    image: 'i',
    owner: 'o',
    deadlineSeconds: 60,
  };
}

test('consent refused: nothing is created and the error says cancelled', async () => {
  const { standIn, client } = await cluster();
  const shell = createPodNodeShell({ client, confirm: () => Promise.resolve(false) });
  await assert.rejects(shell.run({ node: 'node-a' }, ['echo', 'hi']), (e: unknown) => {
    assert.ok(e instanceof PodShellError);
    assert.equal(e.kind, 'cancelled');
    assert.match(e.message, /cancelled: no pod was created on node-a/);
    return true;
  });
  assert.equal(standIn.requests.filter((r) => r.startsWith('POST')).length, 0);
  assert.deepEqual(shell.createdPods, []);
});

test('create → Running → exec: stdout, stderr and exit codes through the status channel; dispose deletes', async () => {
  const { standIn, client } = await cluster();
  const { shell, asked } = shellFor(client, { owner: 'pp-test-1' });
  await shell.prepare(['node-a', 'node-b']);
  assert.equal(asked.length, 1, 'one question for both nodes');
  assert.deepEqual(asked[0]?.nodes, ['node-a', 'node-b']);
  assert.equal(asked[0]?.image, DEFAULT_NODE_SHELL_IMAGE);
  assert.equal(shell.createdPods.length, 2);
  const [first] = shell.createdPods;
  const [ns = '', name = ''] = (first ?? '').split('/');
  const pod = standIn.get('v1', 'Pod', name, ns) as {
    metadata: { labels: Record<string, string> };
    spec: Record<string, unknown> & { containers: { securityContext: unknown }[] };
    status: { phase: string; podIP: string };
  };
  assert.equal(pod.status.phase, 'Running');
  assert.equal(pod.spec['hostNetwork'], true);
  assert.equal(pod.spec['hostPID'], true);
  assert.equal(pod.spec['nodeName'], 'node-a');
  assert.deepEqual(pod.spec['tolerations'], [{ operator: 'Exists' }]);
  assert.equal(typeof pod.spec['activeDeadlineSeconds'], 'number');
  assert.deepEqual(pod.spec.containers[0]?.securityContext, { privileged: true });
  assert.equal(pod.metadata.labels['podpath.dev/owner'], 'pp-test-1');
  assert.equal(pod.metadata.labels['app.kubernetes.io/managed-by'], 'podpath');
  assert.equal(pod.status.podIP, '172.18.0.5', 'a hostNetwork pod has the node IP');

  const echo = await shell.run({ node: 'node-a' }, ['echo', 'hello', 'node']);
  assert.equal(echo.stdout, 'hello node\n');
  assert.equal(echo.exitCode, 0);
  assert.equal(echo.stderr, '', 'the pid line is not part of stderr');
  const lastExec = standIn.podApi.execs.at(-1) ?? [];
  assert.deepEqual(lastExec.slice(4, 4 + HOST_PREFIX.length), [...HOST_PREFIX]);

  const both = await shell.run({ node: 'node-b' }, ['sh', '-c', 'echo out; echo err >&2']);
  assert.equal(both.stdout, 'out\n');
  assert.equal(both.stderr, 'err\n');

  await assert.rejects(shell.run({ node: 'node-a' }, ['sh', '-c', 'echo bad >&2; exit 3']), (e) => {
    assert.ok(e instanceof ToolError);
    assert.equal(e.kind, 'exit');
    assert.equal(e.exitCode, 3);
    assert.match(e.stderr, /bad/);
    return true;
  });
  const allowed = await shell.run({ node: 'node-a' }, ['sh', '-c', 'exit 1'], {
    okExitCodes: [0, 1],
  });
  assert.equal(allowed.exitCode, 1);

  const lines: string[] = [];
  await shell.run({ node: 'node-a' }, ['printf', 'a\\nb\\nc'], {
    onStdoutLine: (l) => lines.push(l),
  });
  assert.deepEqual(lines, ['a', 'b', 'c']);

  const fed = await shell.run({ node: 'node-a' }, ['cat'], { input: 'from stdin\n' });
  assert.equal(fed.stdout, 'from stdin\n', 'stdin over v5, closed with the close message');

  const names = shell.createdPods;
  await shell.dispose();
  assert.deepEqual(shell.createdPods, []);
  for (const p of names) {
    const [pns = '', pname = ''] = p.split('/');
    assert.equal(standIn.get('v1', 'Pod', pname, pns), undefined, `${p} deleted`);
  }
  assert.ok(standIn.requests.some((r) => r.startsWith('DELETE /api/v1/namespaces/default/pods/')));
});

test('an apiserver that speaks only v4.channel.k8s.io still gives output and exit codes', async () => {
  const { client } = await cluster({ protocols: ['v4.channel.k8s.io'] });
  const { shell } = shellFor(client);
  try {
    assert.equal((await shell.run({ node: 'node-a' }, ['echo', 'v4'])).stdout, 'v4\n');
    await assert.rejects(shell.run({ node: 'node-a' }, ['false']), /exit code 1/);
  } finally {
    await shell.dispose();
  }
});

test('stdoutFile: binary stdout bytes land in a local file unchanged', async () => {
  const { client } = await cluster();
  const { shell } = shellFor(client);
  const source = join(dir, 'random.bin');
  const bytes = randomBytes(300_000);
  await writeFile(source, bytes);
  const out = join(dir, 'copy.bin');
  try {
    const r = await shell.run({ node: 'node-a' }, ['cat', source], { stdoutFile: out });
    assert.equal(r.stdout, '');
    assert.ok(bytes.equals(await readFile(out)), 'the file holds exactly the bytes');
  } finally {
    await shell.dispose();
  }
});

test('start: the pid comes on stderr, stdout stays clean, stop is a second exec kill', async () => {
  const { standIn, client } = await cluster();
  const { shell } = shellFor(client);
  const out = join(dir, 'started.out');
  const stderrLines: string[] = [];
  try {
    const proc = shell.start(
      { node: 'node-a' },
      ['sh', '-c', 'echo ready; echo listening >&2; exec sleep 30'],
      { stdoutFile: out, onStderrLine: (l) => stderrLines.push(l) },
    );
    const pid = await proc.spawned;
    assert.ok(pid && pid > 0, 'remote pid reported');
    await eventually(() => stderrLines.includes('listening'), 'the command runs');
    assert.ok(alive(pid));
    proc.stop('SIGINT');
    const result = await proc.done;
    assert.equal(typeof result.exitCode, 'number');
    assert.equal(await readFile(out, 'utf8'), 'ready\n', 'no pid line in stdout');
    assert.ok(!stderrLines.some((l) => l.startsWith('podpath-pid')));
    assert.ok(!alive(pid), 'the remote process is gone');
    const kill = standIn.podApi.execs.find((a) => a[0] === 'kill');
    assert.deepEqual(kill, ['kill', '-s', 'INT', String(pid)]);
  } finally {
    await shell.dispose();
  }
});

test('cancel: a started command and a running one end on the node, then dispose deletes the pods', async () => {
  const { standIn, client } = await cluster();
  const { shell } = shellFor(client);
  const controller = new AbortController();
  const proc = shell.start({ node: 'node-a' }, ['sleep', '30'], { signal: controller.signal });
  const pid = await proc.spawned;
  assert.ok(pid);
  let runPid: number | undefined;
  const running = shell.run({ node: 'node-b' }, ['sh', '-c', 'echo $$ >&2; exec sleep 30'], {
    signal: controller.signal,
    onStderrLine: (l) => (runPid = Number(l)),
  });
  await eventually(() => runPid !== undefined, 'run started');
  controller.abort();
  await assert.rejects(proc.done, (e) => e instanceof ToolError && e.kind === 'cancelled');
  await assert.rejects(running, (e) => e instanceof ToolError && e.kind === 'cancelled');
  await eventually(() => !alive(pid), 'started process killed');
  await eventually(() => !alive(runPid ?? 0), 'run process killed');
  const names = shell.createdPods;
  await shell.dispose();
  for (const p of names) {
    const [ns = '', name = ''] = p.split('/');
    assert.equal(standIn.get('v1', 'Pod', name, ns), undefined);
  }
  assert.equal(standIn.podApi.runningCount(), 0);
});

test('cancel while the pods start: prepare rejects and deletes what it made', async () => {
  const { standIn, client } = await cluster({ startDelayMs: 60_000 });
  const { shell } = shellFor(client);
  const controller = new AbortController();
  const preparing = shell.prepare(['node-a', 'node-b'], controller.signal);
  await eventually(() => shell.createdPods.length === 2, 'both pods created');
  const names = shell.createdPods;
  controller.abort();
  await assert.rejects(preparing, /cancelled/);
  for (const p of names) {
    const [ns = '', name = ''] = p.split('/');
    assert.equal(standIn.get('v1', 'Pod', name, ns), undefined, `${p} deleted`);
  }
});

test('a node the cluster does not have: said before any pod is created', async () => {
  const { standIn, client } = await cluster();
  const { shell } = shellFor(client);
  await assert.rejects(shell.prepare(['node-x']), (e: unknown) => {
    assert.ok(e instanceof PodShellError);
    assert.match(e.message, /has no node named node-x/);
    return true;
  });
  assert.equal(standIn.requests.filter((r) => r.startsWith('POST')).length, 0);
});

test('PodSecurity baseline: one sentence naming the namespace, the label and the setting', async () => {
  const { standIn, client } = await cluster({ baselineNamespaces: ['locked'] });
  const { shell } = shellFor(client, { namespace: 'locked' });
  await assert.rejects(shell.prepare(['node-a']), (e: unknown) => {
    assert.ok(e instanceof PodShellError);
    assert.equal(e.kind, 'pod-security');
    assert.match(
      e.message,
      /Namespace locked refuses privileged host pods \(PodSecurity "baseline:latest"\)/,
    );
    assert.match(
      e.message,
      /kubectl label namespace locked pod-security\.kubernetes\.io\/enforce=privileged/,
    );
    assert.match(e.message, /podpath\.nodeShell\.namespace/);
    assert.equal(e.message.split('. ').length, 1, 'one sentence');
    return true;
  });
  assert.deepEqual(shell.createdPods, []);
  assert.ok(standIn.requests.some((r) => r === 'POST /api/v1/namespaces/locked/pods'));
});

test('RBAC: a refused exec or create says which verb on which resource', async () => {
  const { client } = await cluster({}, { deny: ['alice create pods/exec'] });
  const { shell } = shellFor(client);
  try {
    await assert.rejects(shell.run({ node: 'node-a' }, ['true']), (e: unknown) => {
      assert.ok(e instanceof PodShellError);
      assert.equal(e.kind, 'forbidden');
      assert.match(e.message, /may not create pods\/exec '[^']+' in namespace default/);
      assert.match(e.message, /RBAC verb create on pods\/exec/);
      return true;
    });
  } finally {
    await shell.dispose();
  }
  const { client: c2 } = await cluster({}, { deny: ['alice create pods'] });
  const { shell: s2 } = shellFor(c2);
  await assert.rejects(
    s2.prepare(['node-a']),
    /may not create pods in namespace default.*create on pods/,
  );
});

test('a pod that cannot pull its image or be scheduled fails fast and is deleted', async () => {
  for (const outcome of ['ImagePullBackOff', 'Unschedulable'] as const) {
    const { standIn, client } = await cluster({ podOutcome: () => outcome });
    const progress: string[] = [];
    const { shell } = shellFor(client, {
      image: 'example.invalid/nope:1',
      onProgress: (m) => progress.push(m),
    });
    const started = Date.now();
    let names: string[] = [];
    await assert.rejects(
      shell.prepare(['node-a']).finally(() => (names = shell.createdPods)),
      (e: unknown) => {
        assert.ok(e instanceof PodShellError);
        assert.equal(e.kind, 'start');
        assert.match(
          e.message,
          outcome === 'ImagePullBackOff'
            ? /ImagePullBackOff.*podpath\.nodeShell\.image/
            : /cannot be scheduled/,
        );
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000);
    assert.ok(progress.some((m) => /Creating a node-shell pod on node-a/.test(m)));
    assert.deepEqual(names, [], 'deleted after the failure');
    assert.ok(standIn.requests.some((r) => r.startsWith('DELETE ')));
  }
});

test('tcpdump missing from the image: a message that names the image and the setting', async () => {
  const { client } = await cluster({ missingTools: ['tcpdump'] });
  const { shell } = shellFor(client, { image: 'busybox:1.36' });
  try {
    const proc = shell.start({ node: 'node-a' }, ['tcpdump', '-i', 'eth0', '-U', '-w', '-']);
    await assert.rejects(proc.done, (e: unknown) => {
      assert.ok(e instanceof PodShellError);
      assert.equal(e.kind, 'tool');
      assert.match(
        e.message,
        /tcpdump is not in the node-shell image busybox:1\.36; set podpath\.nodeShell\.image/,
      );
      return true;
    });
  } finally {
    await shell.dispose();
  }
});

test('inside a pod: the sandbox netns from the host crictl; image tools reach it through /proc/1/root', async () => {
  const mapping = join(dir, 'kind-mapping.json');
  await writeFile(
    mapping,
    JSON.stringify({
      cluster: 'c',
      nodes: [{ name: 'node-a', role: 'worker', ip: '172.18.0.5' }],
      pods: [
        {
          name: 'podA',
          namespace: 'default',
          id: `1111111${'ab'.repeat(28)}1`,
          node: 'node-a',
          netns: 'pp-none-podA',
          ip: '10.244.0.5',
        },
      ],
    }),
  );
  const { client } = await cluster({ nodes: undefined, kindMapping: mapping });
  const { shell } = shellFor(client);
  try {
    assert.deepEqual(
      await shell.placedArgv({ node: 'node-a', pod: 'default/podA' }, ['ip', 'link']),
      [...HOST_PREFIX, 'nsenter', '--net=/run/netns/pp-none-podA', 'ip', 'link'],
    );
    assert.deepEqual(
      await shell.placedArgv({ node: 'node-a', pod: 'podA' }, ['tcpdump', '-i', 'eth0']),
      ['nsenter', '--net=/proc/1/root/run/netns/pp-none-podA', 'tcpdump', '-i', 'eth0'],
    );
    await assert.rejects(
      shell.placedArgv({ node: 'node-a', pod: 'nope' }, ['ip', 'link']),
      /No ready sandbox for pod nope on node-a/,
    );
  } finally {
    await shell.dispose();
  }
});

test('cleanupNodeShellPods: deletes a dead run’s pods by label, leaves live ones', async () => {
  const { standIn, client } = await cluster();
  const { shell: dead } = shellFor(client, { owner: 'pp-dead-run' });
  const { shell: live } = shellFor(client, { owner: 'pp-live-run' });
  await dead.prepare(['node-a']);
  await live.prepare(['node-b']);
  const deadPods = dead.createdPods;
  const livePods = live.createdPods;
  // Both name this process; the "dead" one is judged by a liveness check that says no.
  const none = await cleanupNodeShellPods(client, { isAlive: () => true });
  assert.deepEqual(none, []);
  const byOwner = await cleanupNodeShellPods(client, { owner: 'pp-dead-run' });
  assert.deepEqual(
    byOwner.map((p) => `${p.namespace}/${p.name}`),
    deadPods,
  );
  assert.equal(byOwner[0]?.node, 'node-a');
  assert.equal(byOwner[0]?.owner, 'pp-dead-run');
  const swept = await cleanupNodeShellPods(client, { isAlive: () => false });
  assert.deepEqual(
    swept.map((p) => `${p.namespace}/${p.name}`),
    livePods,
  );
  for (const p of [...deadPods, ...livePods]) {
    const [ns = '', name = ''] = p.split('/');
    assert.equal(standIn.get('v1', 'Pod', name, ns), undefined);
  }
  assert.ok(
    standIn.requests.some((r) =>
      /labelSelector=app\.kubernetes\.io%2Fmanaged-by%3Dpodpath/.test(r),
    ),
  );
  await dead.dispose();
  await live.dispose();
});

test('the stand-in exec endpoint as the real kubectl sees it: output, stdin and exit codes', async (t) => {
  const { client, standIn } = await cluster();
  const { shell } = shellFor(client);
  try {
    await shell.prepare(['node-a']);
    const [pod = ''] = shell.createdPods;
    const [ns = '', name = ''] = pod.split('/');
    const file = join(dir, `kubeconfig-${standIns.length}`);
    const kubectl = (args: string[], input?: string) =>
      kubectlRun(['kubectl', '--kubeconfig', file, '-n', ns, 'exec', ...args], input);
    const probe = await kubectl(['--help']);
    if (probe.code !== 0) return t.skip('kubectl is not installed');
    const echo = await kubectl([name, '--', 'echo', 'from', 'kubectl']);
    assert.equal(echo.stdout, 'from kubectl\n', echo.stderr);
    assert.equal(echo.code, 0);
    const fed = await kubectl(['-i', name, '--', 'cat'], 'piped\n');
    assert.equal(fed.stdout, 'piped\n', fed.stderr);
    const failing = await kubectl([name, '--', 'sh', '-c', 'echo oops >&2; exit 3']);
    assert.equal(failing.code, 3, failing.stderr);
    assert.match(failing.stderr, /oops/);
    assert.ok(
      standIn.requests.some((r) => r.startsWith(`GET /api/v1/namespaces/${ns}/pods/${name}/exec?`)),
    );
  } finally {
    await shell.dispose();
  }
});

/** kubectl with its exit code, stdout and stderr (a failing exit is part of the answer). */
function kubectlRun(
  argv: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', () => resolve({ code: 127, stdout, stderr }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

test('dispose while a pod is still starting deletes it without waiting for the start timeout', async () => {
  const { standIn, client } = await cluster({ startDelayMs: 60_000 });
  const { shell } = shellFor(client, { startTimeoutMs: 60_000 });
  const preparing = shell.prepare(['node-a']);
  preparing.catch(() => undefined);
  await eventually(() => shell.createdPods.length === 1, 'pod created');
  const [pod = ''] = shell.createdPods;
  const t0 = Date.now();
  await shell.dispose();
  assert.ok(Date.now() - t0 < 3000, 'dispose did not wait for the pod to start');
  await assert.rejects(preparing, /cancelled/);
  const [ns = '', name = ''] = pod.split('/');
  assert.equal(standIn.get('v1', 'Pod', name, ns), undefined);
});
