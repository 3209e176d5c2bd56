/**
 * The kind lab orchestration against stand-ins for kind, docker and kubectl
 * (test/support/kindStandins: each says which documented output format it follows).
 * Checked: the order of the commands, progress, a failure at every step (the cluster
 * is deleted, the message names the step and the fix), an optional step's warning,
 * cancellation, and the CLI's --dry-run writing the same files a real run applies.
 * The argv of every kubectl and docker step is also checked with the real clients
 * (Debian's kubernetes-client and the docker CLI), which must reject nothing but the
 * missing cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { kindLabMode, type KindLabMode } from '../../src/core/kindlab/modes';
import type { KindLabPlan } from '../../src/core/kindlab/labPlan';
import { runLabCommand } from '../../src/cli/labCommand';
import { runTool, ToolError } from '../../src/platform/exec/runner';
import {
  KindLabError,
  prepareKindLab,
  runKindLab,
  type KindLabProgress,
  type StepRunner,
} from '../../src/platform/kindlab/kindLab';
import { STANDIN_SEP, useKindStandins } from '../support/kindStandinRun';

const ORIGINAL_PATH = process.env['PATH'] ?? '';
const kind = useKindStandins('pp-kindlab-');
const { calls, reset } = kind;
const SEP = STANDIN_SEP;

async function prepared(mode: KindLabMode, name = 'pp-lab'): Promise<KindLabPlan> {
  const m = kindLabMode(mode);
  assert.ok(m);
  const p = await prepareKindLab({
    name,
    mode: m,
    kubeProxyMode: 'iptables',
    outDir: join(kind.work, `${name}-${mode}`),
    cniBinDir: kind.cniDir,
  });
  assert.deepEqual(p.warnings, []);
  return p.plan;
}

test('Flannel VXLAN: every step runs in order, with progress and the rollout lines', async () => {
  reset();
  const plan = await prepared('flannel-vxlan');
  const events: KindLabProgress[] = [];
  const result = await runKindLab(plan, { onProgress: (p) => events.push(p) });
  assert.deepEqual(
    calls(),
    plan.steps.map((s) => s.argv),
  );
  assert.deepEqual(
    events.filter((e) => e.status === 'start').map((e) => e.step.id),
    plan.steps.map((s) => s.id),
  );
  assert.equal(events.filter((e) => e.status === 'done').length, plan.steps.length);
  assert.ok(
    events.some(
      (e) =>
        e.status === 'output' &&
        /^Waiting for daemon set "kube-flannel-ds" rollout to finish: 2 of 3/.test(e.message ?? ''),
    ),
  );
  assert.match(result.probePods, /^pod-a\s+1\/1\s+Running/m);
  assert.deepEqual(result.warnings, []);
  // The files the commands name are there, and cni.yaml is the VXLAN manifest.
  const cni = parseAllDocuments(
    await readFile(join(kind.work, 'pp-lab-flannel-vxlan', 'cni.yaml'), 'utf8'),
  ).map((d) => d.toJS());
  const cm = cni.find((o) => o?.kind === 'ConfigMap');
  assert.equal(JSON.parse(cm.data['net-conf.json']).Backend.Type, 'vxlan');
});

test('a failure at any required step deletes the cluster and names the step and the fix', async () => {
  const plan = await prepared('calico-ipip');
  const required = plan.steps.filter((s) => !s.optional);
  assert.ok(required.length >= 10);
  // The stand-in scripts cover the tools' formats elsewhere; here an in-process runner fails
  // each step in turn (with kind's own error for a name in use), which keeps this loop fast.
  for (const step of required) {
    const ran: string[][] = [];
    const run: StepRunner = async (argv) => {
      ran.push([...argv]);
      if (argv === step.argv) {
        throw new ToolError('exit', argv, 1, `ERROR: failed: boom in ${step.id}`);
      }
      return {
        stdout: argv[1] === 'get' ? `${plan.controlPlane}\n${plan.workers.join('\n')}\n` : '',
      };
    };
    const err = await runKindLab(plan, { run }).then(
      () => assert.fail(`${step.id} did not fail the run`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KindLabError, step.id);
    assert.equal(err.step?.id, step.id);
    assert.equal(err.cleanedUp, true, step.id);
    assert.ok(
      err.message.startsWith(
        `${step.title} failed: ERROR: failed: boom in ${step.id}. ${step.hint}`,
      ),
      err.message,
    );
    assert.match(err.message, /The cluster pp-lab was deleted\.$/);
    const at = plan.steps.indexOf(step);
    // Everything up to the failed step, then only the clean-up.
    assert.deepEqual(ran, [
      ...plan.steps.slice(0, at + 1).map((s) => s.argv),
      ['kind', 'delete', 'cluster', '--name', 'pp-lab'],
    ]);
  }
});

test('a failure through the stand-in: kind refuses a name in use, the cluster is deleted', async () => {
  const plan = await prepared('kindnet');
  const create = plan.steps[0];
  assert.ok(create);
  // kind's message for an existing cluster (sigs.k8s.io/kind pkg/cluster/internal/create).
  reset({
    PP_STANDIN_FAIL: ['kind', ...create.argv.slice(1)].join(SEP),
    PP_STANDIN_FAIL_MSG:
      'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "pp-lab"',
  });
  await assert.rejects(runKindLab(plan), (e: KindLabError) => {
    assert.match(
      e.message,
      /failed: ERROR: failed to create cluster: node\(s\) already exist for a cluster with the name "pp-lab"\. Check that Docker runs/,
    );
    assert.equal(e.cleanedUp, true);
    return true;
  });
  assert.deepEqual(calls(), [create.argv, ['kind', 'delete', 'cluster', '--name', 'pp-lab']]);
});

test('a missing kernel module: the hint says to load it on the host', async () => {
  const plan = await prepared('calico-ipip');
  const step = plan.steps.find((s) => s.id === 'modprobe-ipip');
  assert.ok(step);
  // kmod's message when the module is not in the running kernel's tree.
  reset({
    PP_STANDIN_FAIL: step.argv.join(SEP),
    PP_STANDIN_FAIL_MSG:
      'modprobe: FATAL: Module ipip not found in directory /lib/modules/6.1.0-28-amd64',
  });
  await assert.rejects(runKindLab(plan), (e: Error) => {
    assert.match(
      e.message,
      /Load kernel module ipip failed: modprobe: FATAL: Module ipip not found/,
    );
    assert.match(e.message, /sudo modprobe ipip/);
    return true;
  });
});

test('an optional step (tcpdump in a node) only warns; the creation goes on', async () => {
  const plan = await prepared('kindnet');
  const step = plan.steps.find((s) => s.id === 'tcpdump@pp-lab-worker');
  assert.ok(step);
  reset({
    PP_STANDIN_FAIL: step.argv.join(SEP),
    PP_STANDIN_FAIL_MSG: 'E: Unable to locate package tcpdump',
  });
  const events: KindLabProgress[] = [];
  const result = await runKindLab(plan, { onProgress: (p) => events.push(p) });
  assert.equal(result.warnings.length, 1);
  assert.match(
    result.warnings[0] ?? '',
    /pp-lab-worker: install tcpdump failed: E: Unable to locate package tcpdump\. tcpdump could not be installed/,
  );
  assert.ok(events.some((e) => e.status === 'warning' && e.step.id === step.id));
  assert.deepEqual(
    calls(),
    plan.steps.map((s) => s.argv),
  );
});

test('kind naming the nodes otherwise stops the run before any node is touched', async () => {
  const plan = await prepared('flannel-vxlan');
  reset({ PP_STANDIN_NODES: 'other-control-plane\nother-worker' });
  await assert.rejects(
    runKindLab(plan),
    /Check the nodes kind created failed: kind lists other-control-plane, other-worker, not pp-lab-control-plane/,
  );
  assert.deepEqual(
    calls().map((c) => c.slice(0, 3)),
    [
      ['kind', 'create', 'cluster'],
      ['kind', 'get', 'nodes'],
      ['kind', 'delete', 'cluster'],
    ],
  );
});

test('cancel while waiting for the CNI: the wait is killed and the cluster deleted', async () => {
  const plan = await prepared('calico-vxlan');
  const wait = plan.steps.find((s) => s.id === 'rollout-daemonset-calico-node');
  assert.ok(wait);
  reset({ PP_STANDIN_SLOW: wait.argv.join(SEP) });
  const controller = new AbortController();
  const started = Date.now();
  const run = runKindLab(plan, {
    signal: controller.signal,
    onProgress: (p) => {
      if (p.step === wait && p.status === 'start') setTimeout(() => controller.abort(), 300);
    },
  });
  await assert.rejects(run, (e: KindLabError) => {
    assert.match(
      e.message,
      /^Cancelled during: Wait for daemonset\/calico-node in kube-system\. The cluster pp-lab was deleted\.$/,
    );
    return true;
  });
  assert.ok(Date.now() - started < 10_000, 'the cancel did not stop the wait promptly');
  assert.deepEqual(calls().at(-1), ['kind', 'delete', 'cluster', '--name', 'pp-lab']);
});

test('kind not installed: says so, and says the cluster may need deleting by hand', async () => {
  reset();
  const plan = await prepared('kindnet');
  await assert.rejects(
    runKindLab(plan, {
      run: (argv, o) => runTool(argv, { ...o, env: { ...process.env, PATH: '/nonexistent' } }),
    }),
    /^KindLabError: Create kind cluster pp-lab \(1 control plane, 2 workers\) failed: kind is not installed or not on PATH\. .*could not be deleted: run `kind delete cluster --name pp-lab`\.$/s,
  );
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runLabCommand(args, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

test('podpath lab create --dry-run writes the files a real run applies and runs nothing', async () => {
  reset();
  const out = join(kind.work, 'dry');
  const r = await cli([
    'create',
    '--kind',
    'calico-vxlan-crosssubnet',
    '--kube-proxy',
    'ipvs',
    '--dry-run',
    '--json',
    '--out',
    out,
    '--name',
    'dry-lab',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(calls(), []);
  const printed = JSON.parse(r.stdout) as {
    files: string[];
    steps: { id: string; argv: string[] }[];
    context: string;
  };
  assert.deepEqual(
    printed.files,
    ['kind-config.yaml', 'cni.yaml', 'probe-pods.yaml'].map((f) => join(out, f)),
  );
  assert.equal(printed.context, 'kind-dry-lab');
  const config = parse(await readFile(join(out, 'kind-config.yaml'), 'utf8')) as {
    networking: Record<string, unknown>;
  };
  assert.deepEqual(config.networking, {
    disableDefaultCNI: true,
    podSubnet: '192.168.0.0/16',
    kubeProxyMode: 'ipvs',
  });
  // The same files, byte for byte, as the plan a real run would apply.
  const m = kindLabMode('calico-vxlan-crosssubnet');
  assert.ok(m);
  const real = await prepareKindLab({
    name: 'dry-lab',
    mode: m,
    kubeProxyMode: 'ipvs',
    outDir: join(kind.work, 'real'),
    cniBinDir: kind.cniDir,
  });
  for (const f of real.plan.files)
    assert.equal(await readFile(join(out, f.name), 'utf8'), f.content, f.name);
  assert.deepEqual(
    printed.steps.map((s) => s.argv),
    real.plan.steps.map((s) => s.argv.map((a) => a.replace(join(kind.work, 'real'), out))),
  );
  assert.ok(printed.steps.some((s) => s.id === 'modprobe-ip_vs'));

  const text = await cli([
    'create',
    '--kind',
    'flannel-vxlan',
    '--dry-run',
    '--out',
    join(kind.work, 'dry2'),
    '--cni-bin-dir',
    kind.cniDir,
  ]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    /^Lab podpath-flannel-vxlan: Flannel VXLAN, kube-proxy iptables \(dry run: nothing was run\)$/m,
  );
  assert.match(text.stdout, /^ {2}1\. \[cluster\] Create kind cluster podpath-flannel-vxlan/m);
  assert.match(
    text.stdout,
    new RegExp(`docker cp ${kind.cniDir}/bridge podpath-flannel-vxlan-worker:/opt/cni/bin/bridge`),
  );
  assert.match(
    text.stdout,
    /On failure or cancel:\n {7}kind delete cluster --name podpath-flannel-vxlan\n$/,
  );
  assert.deepEqual(calls(), []);
});

test('podpath lab create without --dry-run runs the steps; lab delete deletes', async () => {
  reset();
  const r = await cli([
    'create',
    '--kind',
    'kindnet',
    '--name',
    'cli-lab',
    '--out',
    join(kind.work, 'cli'),
    '--cni-bin-dir',
    kind.cniDir,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Lab cli-lab is ready \(kubectl context kind-cli-lab\)/);
  // pod-b's IP from the stand-in's `kubectl get pods -o wide` table.
  assert.match(r.stdout, /exec pod-a -- ping -c 3 10\.244\.2\.2$/m);
  assert.equal(calls()[0]?.[0], 'kind');
  reset();
  const d = await cli(['delete', 'cli-lab']);
  assert.equal(d.code, 0);
  assert.deepEqual(calls(), [['kind', 'delete', 'cluster', '--name', 'cli-lab']]);
});

test('a real run without the CNI plugins Flannel needs stops before creating anything', async () => {
  reset();
  const empty = join(kind.work, 'empty-cni');
  await mkdir(empty, { recursive: true });
  const r = await cli([
    'create',
    '--kind',
    'flannel-host-gw',
    '--out',
    join(kind.work, 'nocni'),
    '--cni-bin-dir',
    empty,
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /No CNI bridge plugin in .*empty-cni.*apt-get install containernetworking-plugins/,
  );
  assert.match(r.stderr, /not creating the cluster until that is fixed/);
  assert.deepEqual(calls(), []);
});

test('bad arguments to lab create and lab delete are one-line usage errors', async () => {
  for (const [args, pattern] of [
    [['create'], /--kind MODE is required/],
    [['create', '--kind', 'weave'], /unknown mode weave; one of: flannel-vxlan, .*kindnet/],
    [
      ['create', '--kind', 'kindnet', '--kube-proxy', 'userspace'],
      /--kube-proxy is one of iptables, nftables, ipvs, not userspace/,
    ],
    [['create', '--kind', 'kindnet', '--name', 'Bad_Name'], /not a kind cluster name/],
    [['delete'], /usage: podpath lab delete NAME/],
  ] as const) {
    const r = await cli([...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('the real kubectl and docker clients accept every argv of the plan', async (t) => {
  const realPath = ORIGINAL_PATH;
  const has = async (tool: string) =>
    runTool(['sh', '-c', `command -v ${tool}`], { env: { ...process.env, PATH: realPath } }).then(
      () => true,
      () => false,
    );
  if (!(await has('kubectl')) || !(await has('docker'))) {
    t.skip('needs the real kubectl and docker clients on PATH');
    return;
  }
  const plan = await prepared('flannel-vxlan', 'pp-check');
  // One argv per command shape (the same command on another node parses the same way).
  const shapes = new Map<string, (typeof plan.steps)[number]>();
  for (const s of plan.steps) {
    if (s.argv[0] !== 'kubectl' && s.argv[0] !== 'docker') continue;
    shapes.set(
      s.argv.map((a) => a.replace(/pp-check-(control-plane|worker2?)/g, 'NODE')).join(' '),
      s,
    );
  }
  assert.ok(shapes.size >= 10);
  for (const step of shapes.values()) {
    const env = {
      ...process.env,
      PATH: realPath,
      KUBECONFIG: join(kind.work, 'no-such-kubeconfig'),
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    };
    const err = await runTool(step.argv, { env, timeoutMs: 20_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ToolError, `${step.id} unexpectedly succeeded`);
    // Flags parsed; only the missing cluster / daemon stopped it.
    const expected =
      step.argv[0] === 'kubectl'
        ? /context "kind-pp-check" does not exist/
        : /Cannot connect to the Docker daemon/;
    assert.match(err.stderr, expected, `${step.id}: ${err.stderr}`);
  }
});
