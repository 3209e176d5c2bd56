// KindNodeShell against the docker stand-in (test/support/kindStandIn): node
// discovery by the kind labels, pod sandboxes found with crictl, the argv it runs,
// and the message when a kind node has no tcpdump. No root needed: nothing here
// enters a namespace (test/unit/kindTrace.test.ts does, as root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  detectProvider,
  KindNodeShell,
  KindShellError,
  parseKindProviderId,
} from '../../src/platform/shells/kindShell';
import { runTool } from '../../src/platform/exec/runner';

const STAND_IN = join(__dirname, '..', 'support', 'kindStandIn');
let dir = '';
const saved = { path: process.env.PATH, mapping: process.env.PODPATH_KIND_STANDIN };
const POD_ID = `1111111${'ab'.repeat(28)}1`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pp-kindshell-'));
  const file = join(dir, 'mapping.json');
  await writeFile(
    file,
    JSON.stringify({
      cluster: 'podpath-lab',
      nodes: [
        { name: 'podpath-lab-control-plane', role: 'control-plane', namespace: 'pp-none-cp' },
        { name: 'podpath-lab-worker', role: 'worker', namespace: 'pp-none-a', ip: '172.18.0.5' },
        {
          name: 'podpath-lab-worker2',
          role: 'worker',
          namespace: 'pp-none-b',
          missingTools: ['tcpdump'],
        },
      ],
      pods: [
        {
          name: 'podA',
          namespace: 'default',
          id: POD_ID,
          node: 'podpath-lab-worker',
          netns: 'pp-none-podA',
          ip: '10.244.0.5',
        },
        {
          name: 'podA-2',
          namespace: 'default',
          id: `2222222${'ab'.repeat(28)}2`,
          node: 'podpath-lab-worker',
          netns: 'pp-none-podA2',
          ip: '10.244.0.6',
        },
      ],
    }),
  );
  process.env.PODPATH_KIND_STANDIN = file;
  process.env.PATH = `${STAND_IN}${delimiter}${saved.path ?? ''}`;
});

after(async () => {
  process.env.PATH = saved.path;
  if (saved.mapping === undefined) delete process.env.PODPATH_KIND_STANDIN;
  else process.env.PODPATH_KIND_STANDIN = saved.mapping;
  await rm(dir, { recursive: true, force: true });
});

test('providerIDs of kind nodes name the provider, the cluster and the node', () => {
  assert.deepEqual(parseKindProviderId('kind://docker/podpath-lab/podpath-lab-worker'), {
    provider: 'docker',
    cluster: 'podpath-lab',
    node: 'podpath-lab-worker',
  });
  assert.equal(parseKindProviderId('kind://podman/c/n')?.provider, 'podman');
  assert.equal(parseKindProviderId('aws:///eu-west-1a/i-0abc'), undefined);
  assert.equal(parseKindProviderId('kind://lxc/c/n'), undefined);
});

test('the provider comes from the providerID, then KIND_EXPERIMENTAL_PROVIDER, then what answers', async () => {
  assert.equal(await detectProvider({ providerId: 'kind://nerdctl/c/n' }), 'nerdctl');
  assert.equal(await detectProvider({ env: { KIND_EXPERIMENTAL_PROVIDER: 'podman' } }), 'podman');
  // The stand-in answers `docker version`.
  assert.equal(await detectProvider({ env: {} }), 'docker');
});

test('listNodes finds the cluster by its kind label, with each node role', async () => {
  const shell = new KindNodeShell({ cluster: 'podpath-lab', provider: 'docker' });
  assert.deepEqual(await shell.listNodes(), [
    { name: 'podpath-lab-control-plane', role: 'control-plane' },
    { name: 'podpath-lab-worker', role: 'worker' },
    { name: 'podpath-lab-worker2', role: 'worker' },
  ]);
  const other = new KindNodeShell({ cluster: 'elsewhere', provider: 'docker' });
  assert.deepEqual(await other.listNodes(), []);
});

test('the stand-in prints docker inspect JSON and refuses unknown containers like docker', async () => {
  const r = await runTool(['docker', 'inspect', 'podpath-lab-worker']);
  const [c] = JSON.parse(r.stdout) as {
    Name: string;
    Config: { Labels: Record<string, string> };
  }[];
  assert.equal(c?.Name, '/podpath-lab-worker');
  assert.equal(c?.Config.Labels['io.x-k8s.kind.role'], 'worker');
  await assert.rejects(runTool(['docker', 'inspect', 'nope']), /No such object: nope/);
});

test("a pod's network namespace is found through crictl pods and crictl inspectp", async () => {
  const shell = new KindNodeShell({ cluster: 'podpath-lab', provider: 'docker' });
  // `--name podA` also matches podA-2 (crictl matches by regular expression): the exact name wins.
  assert.deepEqual(await shell.podSandbox('podpath-lab-worker', 'default/podA'), {
    id: POD_ID,
    netnsPath: '/run/netns/pp-none-podA',
  });
  await assert.rejects(
    shell.podSandbox('podpath-lab-worker2', 'podA'),
    (e: unknown) =>
      e instanceof KindShellError &&
      e.message ===
        'No ready sandbox for pod podA on podpath-lab-worker2 (crictl pods found none).',
  );
});

test('commands run as `docker exec <node> …`, in a pod as nsenter into its netns', () => {
  const shell = new KindNodeShell({ cluster: 'podpath-lab', provider: 'podman' });
  assert.deepEqual(shell.execArgv('podpath-lab-worker', ['ip', 'route', 'show']), [
    'podman',
    'exec',
    'podpath-lab-worker',
    'ip',
    'route',
    'show',
  ]);
  assert.deepEqual(shell.execArgv('n1', ['cat'], true), ['podman', 'exec', '-i', 'n1', 'cat']);
  assert.throws(() => shell.execArgv('-it', ['sh']), KindShellError);
  assert.throws(() => shell.execArgv('n1', []), /needs a command/);
});

test('tcpdump missing on a kind node: the error says how to install it there', async () => {
  const shell = new KindNodeShell({ cluster: 'podpath-lab', provider: 'docker' });
  await assert.rejects(
    shell.run({ node: 'podpath-lab-worker2' }, ['tcpdump', '--version']),
    (e: unknown) =>
      e instanceof KindShellError &&
      e.message ===
        "tcpdump is not installed on kind node podpath-lab-worker2; install it with `docker exec podpath-lab-worker2 sh -c 'apt-get update && apt-get install -y tcpdump'` (as the walkthroughs do) and try again.",
  );
  const started = shell.start({ node: 'podpath-lab-worker2' }, ['tcpdump', '-i', 'eth0']);
  await assert.rejects(started.done, /tcpdump is not installed on kind node podpath-lab-worker2/);
});
