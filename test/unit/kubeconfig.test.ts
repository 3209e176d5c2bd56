import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as KubeconfigModule from '../../src/platform/kube/kubeconfig';

type Kubeconfig = typeof KubeconfigModule;
const load = (): Promise<Kubeconfig> => import('../../src/platform/kube/kubeconfig');

const fixture = join(__dirname, '..', 'fixtures', 'workspace', 'kubeconfig');

test('kubeconfigFiles: the setting wins, then KUBECONFIG (several files), then ~/.kube/config', async () => {
  const { kubeconfigFiles } = await load();
  assert.deepEqual(kubeconfigFiles('/a:/b', { KUBECONFIG: '/c' }, '/home/u'), ['/a', '/b']);
  assert.deepEqual(kubeconfigFiles('', { KUBECONFIG: '/c::~/d' }, '/home/u'), ['/c', '/home/u/d']);
  assert.deepEqual(kubeconfigFiles('  ', {}, '/home/u'), ['/home/u/.kube/config']);
});

test('kubeconfigFiles: vs-kubernetes.kubeconfig comes after podpath.kubeconfig, before KUBECONFIG', async () => {
  const { kubeconfigFiles } = await load();
  assert.deepEqual(kubeconfigFiles('', { KUBECONFIG: '/c' }, '/home/u', '~/vsk'), ['/home/u/vsk']);
  assert.deepEqual(kubeconfigFiles('/a', { KUBECONFIG: '/c' }, '/home/u', '/vsk'), ['/a']);
  assert.deepEqual(kubeconfigFiles('', { KUBECONFIG: '/c' }, '/home/u', ''), ['/c']);
});

test('readKubeContexts: the fixture has three contexts, kind-podpath current', async () => {
  const { readKubeContexts } = await load();
  const list = readKubeContexts([fixture]);
  assert.deepEqual(
    list.contexts.map((c) => c.name),
    ['kind-podpath', 'staging', 'calico-lab'],
  );
  assert.equal(list.current, 'kind-podpath');
  assert.equal(list.contexts[1]?.namespace, 'web');
  assert.equal(list.contexts[1]?.server, 'https://127.0.0.1:6444');
  assert.deepEqual(list.problems, []);
});

test('readKubeContexts: several files merge like kubectl (first wins), missing files skipped, bad ones reported', async () => {
  const { readKubeContexts } = await load();
  const dir = mkdtempSync(join(tmpdir(), 'pp-kubeconfig-'));
  try {
    const second = join(dir, 'second');
    writeFileSync(
      second,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: other',
        'clusters: [{name: other, cluster: {server: "https://10.0.0.1:6443"}}, {name: staging, cluster: {server: "https://evil:1"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: other, context: {cluster: other, user: u}}, {name: staging, context: {cluster: staging, user: u}}]',
      ].join('\n'),
    );
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'contexts: [ {');
    const list = readKubeContexts([join(dir, 'missing'), fixture, second, broken]);
    assert.deepEqual(
      list.contexts.map((c) => c.name),
      ['kind-podpath', 'staging', 'calico-lab', 'other'],
    );
    assert.equal(list.current, 'kind-podpath');
    assert.equal(list.contexts[1]?.file, fixture);
    assert.equal(list.problems.length, 1);
    assert.match(list.problems[0] ?? '', /broken is not a valid kubeconfig/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
