// `podpath cluster` against the API stand-in fed with recorded objects: the picture, every auth
// kind, and each error said in one line on stderr with exit 2 (within 10 s, never a hang).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { main } from '../../src/cli';
import {
  KubeApiStandIn,
  makeCertificates,
  standInKubeconfig,
  type Certificates,
} from '../support/kubeApiStandIn';
import { k3sFlannelObjects, kindCalicoObjects } from '../support/kubeFixtures';

let certs: Certificates;
let flannel: KubeApiStandIn;
let calico: KubeApiStandIn;
let n = 0;

async function run(
  argv: string[],
): Promise<{ code: number; out: string; err: string; ms: number }> {
  let out = '';
  let err = '';
  const started = Date.now();
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err, ms: Date.now() - started };
}

function kubeconfigFile(text: string): string {
  const file = join(certs.dir, `kubeconfig-${++n}`);
  writeFileSync(file, text);
  return file;
}

/** One line on stderr, exit 2, quickly. */
function assertOneLineFailure(r: { code: number; err: string; ms: number }, re: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, re);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
}

before(async () => {
  certs = await makeCertificates();
  flannel = new KubeApiStandIn({
    certs,
    tokens: { 'tok-admin': 'admin', 'tok-nopods': 'viewer' },
    deny: ['viewer list pods'],
  });
  for (const o of k3sFlannelObjects()) flannel.upsert(o);
  await flannel.start();
  calico = new KubeApiStandIn({ certs, tokens: { 'tok-admin': 'admin' } });
  for (const o of kindCalicoObjects()) calico.upsert(o);
  await calico.start();
});

after(async () => {
  await flannel.stop();
  await calico.stop();
});

test('--json: the k3s Flannel VXLAN node, its pods, flannel-vxlan and kube-proxy iptables', async () => {
  const kc = kubeconfigFile(
    standInKubeconfig(flannel, certs, { token: 'tok-admin', context: 'k3s' }),
  );
  const r = await run(['cluster', '--kubeconfig', kc, '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as {
    context: string;
    server: string;
    nodes: Record<string, unknown>[];
    pods: Record<string, unknown>[];
    network: { cni: string; mode: string; details: Record<string, unknown> };
    kubeProxy: { mode: string; evidence: string[] };
  };
  assert.equal(j.context, 'k3s');
  assert.equal(j.server, flannel.url);
  assert.deepEqual(Object.keys(j.nodes[0] ?? {}), [
    'name',
    'roles',
    'ready',
    'internalIP',
    'podCIDRs',
    'provider',
  ]);
  assert.equal(j.nodes.length, 1);
  assert.equal(j.nodes[0]?.['podCIDRs'] instanceof Array, true);
  assert.deepEqual(j.nodes[0]?.['podCIDRs'], ['10.42.0.0/24']);
  assert.equal(j.nodes[0]?.['provider'], 'k3s');
  assert.equal(j.nodes[0]?.['internalIP'], '172.17.0.2');
  assert.ok(j.pods.length >= 5, `${j.pods.length} pods`);
  assert.deepEqual(Object.keys(j.pods[0] ?? {}), [
    'namespace',
    'name',
    'node',
    'podIP',
    'hostNetwork',
    'phase',
  ]);
  assert.ok(j.pods.every((p) => p['namespace'] === 'kube-system'));
  assert.equal(j.network.cni, 'flannel');
  assert.equal(j.network.mode, 'flannel-vxlan');
  assert.equal(j.kubeProxy.mode, 'iptables');
});

test('readable summary of the kind Calico cluster, with client-certificate auth', async () => {
  const kc = kubeconfigFile(
    standInKubeconfig(calico, certs, { clientCert: true, context: 'kind-ks-cloud' }),
  );
  const r = await run(['cluster', '--kubeconfig', kc]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Context kind-ks-cloud at https:\/\/127\.0\.0\.1:\d+/);
  assert.match(
    r.out,
    /ks-cloud-control-plane\s+control-plane,master\s+Ready\s+172\.18\.0\.3\s+10\.244\.0\.0\/24\s+kind\s+v1\.23\.12/,
  );
  assert.match(r.out, /Pods \(10\)/);
  assert.match(
    r.out,
    /kube-system\s+etcd-ks-cloud-control-plane\s+ks-cloud-control-plane\s+172\.18\.0\.3 \(host network\)\s+Running/,
  );
});

test("Service CIDR: from the kind cluster's kube-apiserver pod in --json and text; k3s says not readable", async () => {
  const kc = kubeconfigFile(
    standInKubeconfig(calico, certs, { clientCert: true, context: 'kind-ks-cloud' }),
  );
  const r = await run(['cluster', '--kubeconfig', kc, '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as {
    network: { details: Record<string, unknown>; evidence: string[] };
  };
  assert.equal(j.network.details['serviceCIDR'], '10.96.0.0/16');
  assert.deepEqual(j.network.details['serviceCIDRs'], ['10.96.0.0/16']);
  assert.ok(
    j.network.evidence.includes(
      'Service CIDR 10.96.0.0/16: Pod kube-system/kube-apiserver-ks-cloud-control-plane --service-cluster-ip-range',
    ),
    j.network.evidence.join('\n'),
  );
  const text = await run(['cluster', '--kubeconfig', kc]);
  assert.match(
    text.out,
    /Service CIDR: 10\.96\.0\.0\/16 · pod CIDRs \(nodes\): 10\.244\.0\.0\/24, 10\.244\.1\.0\/24/,
  );
  const k3s = kubeconfigFile(standInKubeconfig(flannel, certs, { token: 'tok-admin' }));
  const none = await run(['cluster', '--kubeconfig', k3s, '--json']);
  const nj = JSON.parse(none.out) as {
    network: { details: Record<string, unknown>; evidence: string[] };
  };
  assert.equal('serviceCIDR' in nj.network.details, false);
  assert.ok(nj.network.evidence.some((e) => e.startsWith('Service CIDR not readable')));
  assert.match((await run(['cluster', '--kubeconfig', k3s])).out, /Service CIDR: not readable/);
});

test('an exec credential plugin supplies the token', async () => {
  const plugin = join(certs.dir, 'token-plugin.sh');
  writeFileSync(
    plugin,
    `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-admin"}}'\n`,
  );
  chmodSync(plugin, 0o755);
  const kc = kubeconfigFile(standInKubeconfig(flannel, certs, { exec: { command: plugin } }));
  const r = await run(['cluster', '--kubeconfig', kc, '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as { nodes: unknown[] }).nodes.length, 1);
});

test('several kubeconfig files merge as kubectl merges them (--context picks one)', async () => {
  const a = kubeconfigFile(
    standInKubeconfig(calico, certs, { token: 'tok-admin', context: 'first' }),
  );
  const b = kubeconfigFile(
    standInKubeconfig(flannel, certs, { token: 'tok-admin', context: 'second' }),
  );
  const r = await run(['cluster', '--kubeconfig', `${a}:${b}`, '--context', 'second', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as { server: string }).server, flannel.url);
  const cur = await run(['cluster', '--kubeconfig', `${a}:${b}`, '--json']);
  assert.equal(
    (JSON.parse(cur.out) as { context: string }).context,
    'first',
    'first file sets current-context',
  );
});

test('401: says the credentials were rejected and what to do', async () => {
  const kc = kubeconfigFile(standInKubeconfig(flannel, certs, { token: 'expired' }));
  assertOneLineFailure(
    await run(['cluster', '--kubeconfig', kc]),
    /401 Unauthorized.*token has probably expired/,
  );
});

test('403 on pods: a warning naming the verb and resource, the rest still printed', async () => {
  const kc = kubeconfigFile(standInKubeconfig(flannel, certs, { token: 'tok-nopods' }));
  const r = await run(['cluster', '--kubeconfig', kc, '--json']);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.err,
    /warning: User 'standin-user' may not list pods cluster-wide .*403 Forbidden/,
  );
  const j = JSON.parse(r.out) as { nodes: unknown[]; pods: unknown[]; network: { mode: string } };
  assert.equal(j.nodes.length, 1);
  assert.equal(j.pods.length, 0);
  assert.equal(j.network.mode, 'flannel-vxlan');
});

test('unreachable: a closed port is refused at once', async () => {
  const kc = kubeconfigFile(
    standInKubeconfig({ url: 'https://127.0.0.1:1' }, certs, { token: 'x' }),
  );
  assertOneLineFailure(
    await run(['cluster', '--kubeconfig', kc]),
    /Cannot reach the API server .* \(connection refused\)/,
  );
});

test('unreachable: a server that never answers times out within 10 s', async () => {
  const silent: Server = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  try {
    const kc = kubeconfigFile(
      standInKubeconfig({ url: `https://127.0.0.1:${port}` }, certs, { token: 'x' }),
    );
    assertOneLineFailure(
      await run(['cluster', '--kubeconfig', kc]),
      /Cannot reach the API server .* \(no answer in time\)/,
    );
  } finally {
    silent.close();
  }
});

test('TLS failure: the kubeconfig trusts a different CA', async () => {
  const other = await makeCertificates();
  const kc = kubeconfigFile(
    standInKubeconfig(flannel, certs, { token: 'tok-admin', caFile: other.caFile }),
  );
  assertOneLineFailure(
    await run(['cluster', '--kubeconfig', kc]),
    /TLS failure .*not signed by the kubeconfig's certificate-authority/,
  );
});

test('a missing exec plugin is named, with how to install it', async () => {
  // An absolute path that cannot exist: a bare `aws` may be on this machine's PATH.
  const kc = kubeconfigFile(
    standInKubeconfig(flannel, certs, {
      exec: { command: '/nonexistent/podpath-test/aws', args: ['eks', 'get-token'] },
    }),
  );
  assertOneLineFailure(
    await run(['cluster', '--kubeconfig', kc]),
    /needs the credential plugin '\/nonexistent\/podpath-test\/aws', which is not installed or not on PATH \(install the AWS CLI v2\)/,
  );
});

test('an exec plugin that never answers is named, cut off within 10 s, and killed with its children', async () => {
  const plugin = join(certs.dir, 'hanging-plugin.sh');
  const pids = join(certs.dir, 'hanging-plugin.pids');
  // A script plugin whose child does the waiting, as wrappers around a login flow do: killing
  // only the script would leave the child holding the pipes.
  writeFileSync(plugin, `#!/bin/sh\nsleep 600 &\necho $$ $! > ${pids}\nwait\n`);
  chmodSync(plugin, 0o755);
  const kc = kubeconfigFile(standInKubeconfig(flannel, certs, { exec: { command: plugin } }));
  const r = await run(['cluster', '--kubeconfig', kc]);
  assertOneLineFailure(
    r,
    /credential plugin '.*hanging-plugin\.sh' of user '.*' did not answer within 7 s and was stopped/,
  );
  const started = readFileSync(pids, 'utf8').trim().split(/\s+/).map(Number);
  assert.equal(started.length, 2);
  for (const pid of started) {
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    // Gone, or at most a zombie waiting for its parent to read its status.
    assert.ok(stat === '' || / Z /.test(stat), `plugin process ${pid} still runs: ${stat}`);
  }
});

test('an exec plugin that fails says so with its stderr', async () => {
  const plugin = join(certs.dir, 'failing-plugin.sh');
  writeFileSync(plugin, '#!/bin/sh\necho "error: SSO session expired" >&2\nexit 3\n');
  chmodSync(plugin, 0o755);
  const kc = kubeconfigFile(standInKubeconfig(flannel, certs, { exec: { command: plugin } }));
  assertOneLineFailure(
    await run(['cluster', '--kubeconfig', kc]),
    /credential plugin '.*failing-plugin\.sh' .* failed \(exit code 3\): error: SSO session expired/,
  );
});

test('a context whose cluster entry is missing', async () => {
  const text = standInKubeconfig(flannel, certs, { token: 'x', context: 'orphan' }).replace(
    'cluster: orphan\n    user',
    'cluster: gone\n    user',
  );
  const kc = kubeconfigFile(text);
  assertOneLineFailure(
    await run(['cluster', '--kubeconfig', kc]),
    /Context 'orphan' names cluster 'gone', which no kubeconfig file .* defines/,
  );
});
