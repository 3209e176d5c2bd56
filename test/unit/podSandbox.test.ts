// findPodSandbox against crictl answers given as data (the shape crictl 1.3x prints), and the
// per-pod cache both node shells keep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedPerPod, findPodSandbox } from '../../src/platform/shells/podSandbox';
import type { CrictlAccess, PodSandbox } from '../../src/platform/shells/podSandbox';

class SandboxError extends Error {}

/** A crictl that answers from `pods` and `inspect` (by sandbox id) and records what it ran. */
function fakeCrictl(
  pods: { id: string; name: string; namespace: string }[],
  inspect: Record<string, unknown>,
): CrictlAccess & { ran: string[][] } {
  const ran: string[][] = [];
  return {
    ran,
    json: (args) => {
      ran.push([...args]);
      if (args[0] === 'pods') {
        return Promise.resolve({
          items: pods.map((p) => ({
            id: p.id,
            metadata: { name: p.name, namespace: p.namespace },
            state: 'SANDBOX_READY',
          })),
        });
      }
      return Promise.resolve(inspect[args[args.length - 1] ?? ''] ?? {});
    },
    error: (message) => new SandboxError(message),
    noNetns: (id) => `no netns for ${id}`,
  };
}

const NETNS = (path: string) => ({
  info: { pid: 4242, runtimeSpec: { linux: { namespaces: [{ type: 'network', path }] } } },
});

test('the exact name wins over crictl --name regular-expression matches; namespace narrows it', async () => {
  const crictl = fakeCrictl(
    [
      { id: 'aaa', name: 'podA', namespace: 'default' },
      { id: 'bbb', name: 'podA-2', namespace: 'default' },
    ],
    { aaa: NETNS('/var/run/netns/cni-1'), bbb: NETNS('/var/run/netns/cni-2') },
  );
  assert.deepEqual(await findPodSandbox(crictl, 'node-a', 'default/podA'), {
    id: 'aaa',
    netnsPath: '/var/run/netns/cni-1',
    pid: 4242,
  });
  assert.deepEqual(crictl.ran, [
    ['pods', '--name', 'podA', '--state', 'ready', '-o', 'json', '--namespace', 'default'],
    ['inspectp', '-o', 'json', 'aaa'],
  ]);
});

test('without a namespace path the sandbox pid gives /proc/<pid>/ns/net; neither is an error', async () => {
  const pods = [{ id: 'aaa', name: 'podA', namespace: 'default' }];
  assert.deepEqual(
    await findPodSandbox(fakeCrictl(pods, { aaa: { info: { pid: 77 } } }), 'n', 'podA'),
    { id: 'aaa', netnsPath: '/proc/77/ns/net', pid: 77 },
  );
  await assert.rejects(
    findPodSandbox(fakeCrictl(pods, { aaa: { info: { pid: 0 } } }), 'n', 'podA'),
    (e: unknown) => e instanceof SandboxError && e.message === 'no netns for aaa',
  );
});

test('no sandbox, two sandboxes, no name: one sentence in the shell’s own error', async () => {
  const two = fakeCrictl(
    [
      { id: 'aaa', name: 'web', namespace: 'a' },
      { id: 'bbb', name: 'web', namespace: 'b' },
    ],
    {},
  );
  await assert.rejects(
    findPodSandbox(two, 'node-a', 'web'),
    (e: unknown) =>
      e instanceof SandboxError &&
      e.message === 'Pod name web matches 2 sandboxes on node-a; give it as namespace/name.',
  );
  await assert.rejects(
    findPodSandbox(two, 'node-a', 'c/web'),
    (e: unknown) =>
      e instanceof SandboxError &&
      e.message === 'No ready sandbox for pod c/web on node-a (crictl pods found none).',
  );
  await assert.rejects(
    findPodSandbox(two, 'node-a', 'ns/'),
    (e: unknown) => e instanceof SandboxError && e.message === '"ns/" is not a pod name.',
  );
});

test('cachedPerPod looks up once per node and pod, and forgets a failed lookup', async () => {
  const cache = new Map<string, Promise<PodSandbox>>();
  let calls = 0;
  const ok = (): Promise<PodSandbox> => {
    calls++;
    return Promise.resolve({ id: 'x', netnsPath: '/p' });
  };
  await cachedPerPod(cache, 'n1', 'podA', ok);
  await cachedPerPod(cache, 'n1', 'podA', ok);
  await cachedPerPod(cache, 'n2', 'podA', ok);
  assert.equal(calls, 2);
  const failing = (): Promise<PodSandbox> => {
    calls++;
    return Promise.reject(new Error('crictl down'));
  };
  await assert.rejects(cachedPerPod(cache, 'n1', 'podB', failing), /crictl down/);
  await assert.rejects(cachedPerPod(cache, 'n1', 'podB', failing), /crictl down/);
  assert.equal(calls, 4, 'a failed lookup is tried again');
});
