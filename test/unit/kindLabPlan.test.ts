/**
 * The kind lab's pure parts: kind configs, the pinned upstream CNI manifests changed
 * per mode (parsed back and compared with upstream object by object), the probe pods
 * and the step list. The changed manifests are also fed to Podpath's own cluster
 * detection, which must name the mode the lab asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { detectNetwork } from '../../src/core/cluster/detect';
import {
  CniManifestError,
  calicoManifestFor,
  flannelManifestFor,
} from '../../src/core/kindlab/cniManifests';
import { kindClusterConfig } from '../../src/core/kindlab/kindConfig';
import { kindLabPlan, type KindLabPlan } from '../../src/core/kindlab/labPlan';
import {
  KIND_LAB_MODES,
  KUBE_PROXY_MODES,
  kindLabMode,
  type KindLabMode,
} from '../../src/core/kindlab/modes';
import { PROBE_IMAGE } from '../../src/core/kindlab/probeManifests';

const CNI = join(__dirname, '..', '..', 'media', 'cni');
const FLANNEL = readFileSync(join(CNI, 'kube-flannel-v0.28.9.yml'), 'utf8');
const CALICO = readFileSync(join(CNI, 'calico-v3.32.1.yaml'), 'utf8');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function objects(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function find(list: Obj[], kind: string, name: string): Obj {
  const o = list.find((x) => x['kind'] === kind && x['metadata']?.['name'] === name);
  assert.ok(o, `${kind} ${name} missing`);
  return o;
}

function mode(name: KindLabMode) {
  const m = kindLabMode(name);
  assert.ok(m);
  return m;
}

function plan(
  name: KindLabMode,
  kubeProxyMode: 'iptables' | 'nftables' | 'ipvs' = 'iptables',
): KindLabPlan {
  return kindLabPlan({
    name: 'pp-lab',
    mode: mode(name),
    kubeProxyMode,
    outDir: '/tmp/lab-out',
    probeImage: PROBE_IMAGE,
    hostCniBinDir: '/usr/lib/cni',
    manifests: { flannel: FLANNEL, calico: CALICO },
  });
}

test('the vendored manifests are the pinned upstream bytes (media/cni/SOURCES.md)', async () => {
  const { createHash } = await import('node:crypto');
  const sources = readFileSync(join(CNI, 'SOURCES.md'), 'utf8');
  for (const file of ['kube-flannel-v0.28.9.yml', 'calico-v3.32.1.yaml']) {
    const sha = createHash('sha256')
      .update(readFileSync(join(CNI, file)))
      .digest('hex');
    assert.match(sources, new RegExp(`\\| \`${file.replace('.', '\\.')}\` .*\`${sha}\` \\|`), file);
  }
});

test('kind configs: one control plane, two workers, the CNI off except kindnet, subnet and kube-proxy mode', () => {
  for (const m of KIND_LAB_MODES) {
    for (const proxy of KUBE_PROXY_MODES) {
      const text = kindClusterConfig({ name: 'pp-lab', mode: m, kubeProxyMode: proxy });
      const c = parse(text) as Obj;
      assert.equal(c['kind'], 'Cluster');
      assert.equal(c['apiVersion'], 'kind.x-k8s.io/v1alpha4');
      assert.equal(c['name'], 'pp-lab');
      assert.deepEqual(
        c['nodes'].map((n: Obj) => n['role']),
        ['control-plane', 'worker', 'worker'],
      );
      for (const n of c['nodes'])
        assert.deepEqual(n['labels'], {
          'podpath.dev/lab': 'pp-lab',
          'podpath.dev/lab-mode': m.mode,
        });
      assert.equal(
        c['networking']['disableDefaultCNI'],
        m.cni === 'kindnet' ? undefined : true,
        m.mode,
      );
      assert.equal(c['networking']['kubeProxyMode'], proxy);
      assert.equal(
        c['networking']['podSubnet'],
        m.cni === 'calico' ? '192.168.0.0/16' : '10.244.0.0/16',
        m.mode,
      );
      assert.match(text, /^# Podpath lab "pp-lab"/);
    }
  }
});

test('Flannel manifest per mode: net-conf.json backend changed, every other object as upstream', () => {
  const upstream = objects(FLANNEL);
  for (const [name, backend] of [
    ['flannel-vxlan', 'vxlan'],
    ['flannel-host-gw', 'host-gw'],
  ] as const) {
    const out = objects(flannelManifestFor(FLANNEL, mode(name)));
    assert.equal(out.length, upstream.length);
    const cm = find(out, 'ConfigMap', 'kube-flannel-cfg');
    const conf = JSON.parse(cm['data']['net-conf.json']) as Obj;
    assert.deepEqual(conf, {
      Network: '10.244.0.0/16',
      EnableNFTables: false,
      Backend: { Type: backend },
    });
    // cni-conf.json is untouched text.
    assert.equal(
      cm['data']['cni-conf.json'],
      find(upstream, 'ConfigMap', 'kube-flannel-cfg')['data']['cni-conf.json'],
    );
    out.forEach((o, i) => {
      if (o !== cm) assert.deepEqual(o, upstream[i]);
    });
    const d = detectNetwork({
      nodes: [],
      daemonSets: out.filter((o) => o['kind'] === 'DaemonSet'),
      configMaps: [cm],
      ipPools: [],
      installations: [],
    });
    assert.equal(d.mode, name);
  }
});

test('Calico manifest per mode: calico_backend, calico-node pool env and BIRD probes', () => {
  const upstream = objects(CALICO);
  const expected: Record<string, [string, string, string]> = {
    'calico-bgp': ['bird', 'Never', 'Never'],
    'calico-ipip': ['bird', 'Always', 'Never'],
    'calico-vxlan': ['vxlan', 'Never', 'Always'],
    'calico-vxlan-crosssubnet': ['vxlan', 'Never', 'CrossSubnet'],
  };
  for (const [name, [backend, ipip, vxlan]] of Object.entries(expected)) {
    const out = objects(calicoManifestFor(CALICO, mode(name as KindLabMode)));
    assert.equal(out.length, upstream.length, name);
    const cm = find(out, 'ConfigMap', 'calico-config');
    assert.equal(cm['data']['calico_backend'], backend, name);
    const ds = find(out, 'DaemonSet', 'calico-node');
    const node = ds['spec']['template']['spec']['containers'].find(
      (c: Obj) => c['name'] === 'calico-node',
    );
    const env = Object.fromEntries(
      node['env'].filter((e: Obj) => 'value' in e).map((e: Obj) => [e['name'], e['value']]),
    );
    assert.equal(env['CALICO_IPV4POOL_IPIP'], ipip, name);
    assert.equal(env['CALICO_IPV4POOL_VXLAN'], vxlan, name);
    assert.equal(env['CALICO_IPV4POOL_CIDR'], '192.168.0.0/16', name);
    // The backend still comes from calico-config, as upstream wires it.
    assert.deepEqual(
      node['env'].find((e: Obj) => e['name'] === 'CALICO_NETWORKING_BACKEND')['valueFrom'],
      { configMapKeyRef: { name: 'calico-config', key: 'calico_backend' } },
    );
    const live = node['livenessProbe']['exec']['command'] as string[];
    const ready = node['readinessProbe']['exec']['command'] as string[];
    assert.equal(live.includes('-bird-live'), backend === 'bird', name);
    assert.equal(ready.includes('-bird-ready'), backend === 'bird', name);
    assert.ok(live.includes('-felix-live'));
    out.forEach((o, i) => {
      if (o !== cm && o !== ds) assert.deepEqual(o, upstream[i], `${name}: document ${i}`);
    });
    const d = detectNetwork({
      nodes: [],
      daemonSets: [ds],
      configMaps: [cm],
      ipPools: [],
      installations: [],
    });
    assert.equal(d.cni, 'calico');
    assert.equal(d.mode, name, name);
  }
});

test('the VXLAN modes differ from calico.yaml where upstream calico-vxlan.yaml does', () => {
  const out = objects(calicoManifestFor(CALICO, mode('calico-vxlan-crosssubnet')));
  const up = objects(CALICO);
  const ds = find(out, 'DaemonSet', 'calico-node');
  const upDs = find(up, 'DaemonSet', 'calico-node');
  const strip = (o: Obj) => {
    const c = structuredClone(o);
    const node = c['spec']['template']['spec']['containers'].find(
      (x: Obj) => x['name'] === 'calico-node',
    );
    node['env'] = node['env'].filter((e: Obj) => !/^CALICO_IPV[46]POOL_/.test(e['name']));
    node['livenessProbe']['exec']['command'] = node['livenessProbe']['exec']['command'].filter(
      (a: string) => a !== '-bird-live',
    );
    node['readinessProbe']['exec']['command'] = node['readinessProbe']['exec']['command'].filter(
      (a: string) => a !== '-bird-ready',
    );
    return c;
  };
  assert.deepEqual(strip(ds), strip(upDs));
});

test('a manifest without the object a mode changes is refused with a sentence', () => {
  assert.throws(
    () =>
      flannelManifestFor(
        'kind: Namespace\napiVersion: v1\nmetadata: {name: x}\n',
        mode('flannel-vxlan'),
      ),
    CniManifestError,
  );
  assert.throws(
    () => calicoManifestFor(FLANNEL, mode('calico-ipip')),
    /has no ConfigMap calico-config/,
  );
  assert.throws(() => flannelManifestFor(FLANNEL, mode('calico-ipip')), /not a Flannel mode/);
  assert.throws(() => flannelManifestFor('a: [', mode('flannel-vxlan')), /not valid YAML/);
});

test('probe pods: pinned to the two workers, one Service selecting both', () => {
  const p = plan('flannel-vxlan');
  const probe = objects(p.files.find((f) => f.name === 'probe-pods.yaml')?.content ?? '');
  assert.deepEqual(
    probe.map((o) => `${o['kind']}/${o['metadata']['name']}`),
    ['Namespace/podpath-lab', 'Pod/pod-a', 'Pod/pod-b', 'Service/probe'],
  );
  const [, a, b, svc] = probe as [Obj, Obj, Obj, Obj];
  assert.equal(a['spec']['nodeSelector']['kubernetes.io/hostname'], 'pp-lab-worker');
  assert.equal(b['spec']['nodeSelector']['kubernetes.io/hostname'], 'pp-lab-worker2');
  for (const pod of [a, b]) {
    for (const [k, v] of Object.entries(svc['spec']['selector'] as Obj))
      assert.equal(pod['metadata']['labels'][k], v);
    assert.equal(pod['spec']['containers'][0]['image'], PROBE_IMAGE);
    assert.equal(pod['metadata']['labels']['podpath.dev/lab'], 'pp-lab');
  }
});

test('step list for Flannel VXLAN: create, node preparation, apply, waits, probes, in order', () => {
  const p = plan('flannel-vxlan');
  assert.deepEqual(
    p.files.map((f) => f.name),
    ['kind-config.yaml', 'cni.yaml', 'probe-pods.yaml'],
  );
  assert.deepEqual(p.steps[0]?.argv, [
    'kind',
    'create',
    'cluster',
    '--config',
    '/tmp/lab-out/kind-config.yaml',
    '--name',
    'pp-lab',
  ]);
  assert.deepEqual(p.steps[1]?.argv, ['kind', 'get', 'nodes', '--name', 'pp-lab']);
  const ids = p.steps.map((s) => s.id);
  const at = (id: string) => {
    const i = ids.indexOf(id);
    assert.ok(i >= 0, id);
    return i;
  };
  for (const node of ['pp-lab-control-plane', 'pp-lab-worker', 'pp-lab-worker2']) {
    for (const plugin of ['bridge', 'portmap', 'host-local']) {
      const s = p.steps[at(`cni-plugin-${plugin}@${node}`)];
      assert.deepEqual(s?.argv, [
        'docker',
        'cp',
        `/usr/lib/cni/${plugin}`,
        `${node}:/opt/cni/bin/${plugin}`,
      ]);
    }
    assert.deepEqual(p.steps[at(`sysctl@${node}`)]?.argv, [
      'docker',
      'exec',
      node,
      'sysctl',
      '-w',
      'net.ipv4.ip_forward=1',
      'net.bridge.bridge-nf-call-iptables=1',
    ]);
    assert.equal(p.steps[at(`tcpdump@${node}`)]?.optional, true);
  }
  assert.deepEqual(p.steps[at('modprobe-vxlan')]?.argv, [
    'docker',
    'exec',
    'pp-lab-control-plane',
    'modprobe',
    'vxlan',
  ]);
  assert.ok(!ids.includes('modprobe-ipip'));
  assert.deepEqual(p.steps[at('apply-cni')]?.argv, [
    'kubectl',
    '--context',
    'kind-pp-lab',
    'apply',
    '-f',
    '/tmp/lab-out/cni.yaml',
  ]);
  assert.deepEqual(p.steps[at('rollout-daemonset-kube-flannel-ds')]?.argv, [
    'kubectl',
    '--context',
    'kind-pp-lab',
    '-n',
    'kube-flannel',
    'rollout',
    'status',
    'daemonset/kube-flannel-ds',
    '--timeout=600s',
  ]);
  assert.ok(at('cni-plugin-bridge@pp-lab-worker2') < at('apply-cni'));
  assert.ok(at('apply-cni') < at('rollout-daemonset-kube-flannel-ds'));
  assert.ok(at('rollout-daemonset-kube-flannel-ds') < at('nodes-ready'));
  assert.ok(at('nodes-ready') < at('apply-probes'));
  assert.ok(at('apply-probes') < at('probes-ready'));
  assert.deepEqual(
    p.cleanup.map((s) => s.argv),
    [['kind', 'delete', 'cluster', '--name', 'pp-lab']],
  );
  for (const s of [...p.steps, ...p.cleanup]) {
    assert.ok(s.hint.length > 20, s.id);
    assert.ok(s.timeoutMs > 0, s.id);
  }
});

test('step lists per mode: Calico copies no plugins and loads ipip only for IPIP; kindnet applies no CNI', () => {
  const ipip = plan('calico-ipip');
  const ids = ipip.steps.map((s) => s.id);
  assert.ok(ids.includes('modprobe-ipip'));
  assert.ok(!ids.some((id) => id.startsWith('cni-plugin-')));
  assert.ok(ids.includes('rollout-daemonset-calico-node'));
  assert.ok(ids.includes('rollout-deployment-calico-kube-controllers'));
  const sysctl = ipip.steps.find((s) => s.id === 'sysctl@pp-lab-worker');
  assert.deepEqual(sysctl?.argv.slice(-1), ['net.ipv4.ip_forward=1']);
  const kindnet = plan('kindnet');
  assert.deepEqual(
    kindnet.files.map((f) => f.name),
    ['kind-config.yaml', 'probe-pods.yaml'],
  );
  assert.ok(!kindnet.steps.some((s) => s.id === 'apply-cni'));
  assert.ok(kindnet.steps.some((s) => s.id === 'rollout-daemonset-kindnet'));
  assert.ok(!plan('calico-bgp').steps.some((s) => s.id === 'modprobe-ipip'));
  assert.ok(!plan('calico-vxlan').steps.some((s) => s.id === 'modprobe-ipip'));
});

test('kube-proxy ipvs and nftables load their kernel modules', () => {
  const ipvs = plan('flannel-vxlan', 'ipvs').steps.map((s) => s.id);
  for (const m of ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'])
    assert.ok(ipvs.includes(`modprobe-${m}`), m);
  assert.ok(plan('flannel-vxlan', 'nftables').steps.some((s) => s.id === 'modprobe-nf_tables'));
  assert.ok(!plan('flannel-vxlan').steps.some((s) => s.id.startsWith('modprobe-ip_vs')));
  const cfg = parse(plan('calico-ipip', 'nftables').files[0]?.content ?? '') as Obj;
  assert.equal(cfg['networking']['kubeProxyMode'], 'nftables');
});

test('a node image is passed to kind create cluster', () => {
  const p = kindLabPlan({
    name: 'pp-lab',
    mode: mode('kindnet'),
    kubeProxyMode: 'iptables',
    outDir: '/o/',
    probeImage: 'example/probe:1',
    nodeImage: 'kindest/node:v1.34.0',
    hostCniBinDir: '/usr/lib/cni',
    manifests: { flannel: FLANNEL, calico: CALICO },
  });
  assert.deepEqual(p.steps[0]?.argv.slice(-2), ['--image', 'kindest/node:v1.34.0']);
  assert.equal(p.steps[0]?.argv[4], '/o/kind-config.yaml');
});
