// Loads kube-proxy rules written by podpath into a scratch network namespace with
// iptables-restore and nft -f, reads them back with iptables-save and nft list (text
// and JSON), and checks the explainer says the same of what the kernel holds as of
// what was written. Needs root (skips with the reason otherwise); run it under
// `flock /tmp/pp-lab.lock`, as other labs use the same machine.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { explainServices, toExplanationJson } from '../../src/core/kubeproxy/explainService';
import { readServiceSpecs } from '../../src/core/kubeproxy/serviceSpec';
import type { ServiceExplanation } from '../../src/core/kubeproxy/types';
import { writeIptablesRestore, writeNftables } from '../../src/core/kubeproxy/writeRules';
import type { RuleService } from '../../src/core/kubeproxy/writeRules';
import { runTool } from '../../src/platform/exec/runner';
import { labServices } from '../support/kubeproxyRuleServices';

const FIX = join(__dirname, '..', 'fixtures', 'kubeproxy');

/** The lab Services plus the six of kube-proxy's TestOverall* (load balancers, source ranges). */
function services(): RuleService[] {
  const overall = readServiceSpecs(readFileSync(join(FIX, 'overall-services.yaml'), 'utf8'));
  const eps: Record<string, string[]> = {
    svc1: ['10.180.0.1'],
    svc2: ['10.180.0.2'],
    svc3: ['10.180.0.3'],
    svc4: ['10.180.0.4', '10.180.0.5'],
    svc5: ['10.180.0.3'],
  };
  return [
    ...labServices(),
    ...overall.services.map((spec) => ({
      spec,
      endpoints: (eps[spec.name] ?? []).map((ip) => ({
        ip,
        port: 80,
        local: spec.name !== 'svc2',
      })),
      healthCheckNodePort: spec.name === 'svc2' ? 30000 : null,
    })),
  ];
}

async function whyNot(tools: string[]): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'loading rules into a network namespace needs root';
  for (const argv of [['ip', 'netns', 'list'], ...tools.map((t) => [t, '--version'])]) {
    try {
      await runTool(argv, { timeoutMs: 10_000 });
    } catch (err) {
      return `${argv[0]!} is not usable here: ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** Runs `body` with a fresh `pp-svc-<random>` namespace, deleted whatever happens. */
async function inScratchNamespace(body: (exec: string[]) => Promise<void>): Promise<void> {
  const ns = `pp-svc-${randomBytes(4).toString('hex')}`;
  await runTool(['ip', 'netns', 'add', ns], { timeoutMs: 10_000 });
  try {
    await body(['ip', 'netns', 'exec', ns]);
  } finally {
    await runTool(['ip', 'netns', 'del', ns], { timeoutMs: 10_000 });
  }
}

/** What the explainer concludes, without the line numbers and raw text of the source. */
// The kernel keeps a `statistic` probability as a 32-bit fraction, so iptables-save
// prints 0.3333333333 back as 0.33333333349: shares agree to about 1e-9, not exactly.
const share = (x: number): number => Math.round(x * 1e6) / 1e6;

function conclusions(e: ServiceExplanation): unknown {
  const json = toExplanationJson(e);
  return {
    json: {
      ...json,
      services: json.services.map((s) => ({
        ...s,
        endpoints: s.endpoints.map((p) => ({ address: p.address, share: share(p.share) })),
      })),
    },
    paths: e.services.map((s) =>
      s.paths.map((p) => ({
        entry: p.entry,
        address: p.address,
        from: p.from,
        outcome: p.outcome,
        endpoints: p.endpoints.map((x) => [x.address, share(x.share), x.chain]),
        masquerade: p.masquerade,
        weight: share(p.weight),
        chains: p.chains,
      })),
    ),
  };
}

const SVC_NAMES = [
  'lab/empty',
  'lab/local',
  'lab/sticky',
  'lab/web',
  'ns1/svc1',
  'ns2/svc2',
  'ns3/svc3',
  'ns4/svc4',
  'ns5/svc5',
  'ns6/svc6',
];

function check(label: string, written: ServiceExplanation, read: ServiceExplanation): void {
  assert.deepEqual(
    written.unread,
    [],
    `${label}: lines of the written rules the parser could not read`,
  );
  assert.deepEqual(read.unread, [], `${label}: lines the parser could not read`);
  assert.deepEqual(
    [...new Set(read.services.map((s) => `${s.namespace}/${s.name}`))].sort(),
    SVC_NAMES,
    label,
  );
  assert.deepEqual(conclusions(read), conclusions(written), label);
}

test('iptables: rules loaded with iptables-restore read back with iptables-save explain the same', async (t) => {
  const why = await whyNot(['iptables-restore', 'iptables-save']);
  if (why) return t.skip(why);
  const list = services();
  const specs = list.map((s) => s.spec);
  const text = writeIptablesRestore(list, { localTrafficCidr: '10.0.0.0/8' });
  const written = explainServices(text, { specs });
  await inScratchNamespace(async (exec) => {
    await runTool([...exec, 'iptables-restore'], { input: text, timeoutMs: 30_000 });
    const saved = await runTool([...exec, 'iptables-save'], { timeoutMs: 30_000 });
    const read = explainServices(saved.stdout, { specs });
    assert.equal(read.mode, 'iptables');
    check('iptables-save', written, read);
    // The kernel holds every rule written (iptables-save adds the built-in chains only).
    const count = (s: string): number =>
      s.split('\n').filter((l) => /^(\[\d+:\d+\] )?-A /.test(l)).length;
    assert.equal(count(saved.stdout), count(text));
  });
});

test('nftables: rules loaded with nft -f read back with nft list and nft -j list explain the same', async (t) => {
  const why = await whyNot(['nft']);
  if (why) return t.skip(why);
  const list = services();
  const specs = list.map((s) => s.spec);
  const text = writeNftables(list, {
    localTrafficCidr: '10.0.0.0/8',
    serviceCidr: '172.30.0.0/16',
    nodeIPs: ['192.168.0.2'],
  });
  const written = explainServices(text, { specs });
  await inScratchNamespace(async (exec) => {
    await runTool([...exec, 'nft', '-f', '-'], { input: text, timeoutMs: 30_000 });
    const listed = await runTool([...exec, 'nft', 'list', 'table', 'ip', 'kube-proxy'], {
      timeoutMs: 30_000,
    });
    const json = await runTool([...exec, 'nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], {
      timeoutMs: 30_000,
    });
    for (const [label, out] of [
      ['nft list', listed.stdout],
      ['nft -j list', json.stdout],
    ] as const) {
      const read = explainServices(out, { specs });
      assert.equal(read.mode, 'nftables', label);
      check(label, written, read);
    }
  });
});
