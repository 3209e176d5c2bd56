/**
 * `podpath lab run MODE --kind` = create + trace + report: the arguments (mode, name,
 * kube-proxy mode, --json, pass-through creation options, usage errors), the order (the
 * creation's commands, against the kind / docker / kubectl stand-ins of
 * test/support/kindStandins, all before the trace starts), the trace's argv (`podpath trace
 * --context kind-NAME podpath-lab/pod-a podpath-lab/pod-b`), --json keeping stdout for the
 * trace's object, and no trace after a failed creation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLabCommand } from '../../src/cli/labCommand';
import { runLabRunKind, type CliCommand } from '../../src/cli/labKindCommands';
import type { CliIo } from '../../src/cli/captureCommands';
import { STANDIN_SEP, useKindStandins } from '../support/kindStandinRun';

const kind = useKindStandins('pp-labrunkind-');
const { calls, reset } = kind;
const SEP = STANDIN_SEP;

function capture(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) }, out, err };
}

test('lab run MODE --kind creates with the stand-ins, then traces pod-a → pod-b in kind-NAME', async () => {
  reset();
  const { io, out, err } = capture();
  let callsWhenTraced: string[][] | undefined;
  let traceArgs: readonly string[] | undefined;
  const trace: CliCommand = (args, traceIo) => {
    callsWhenTraced = calls();
    traceArgs = args;
    traceIo.stdout('{"cluster":"…"}\n');
    return Promise.resolve(0);
  };
  const code = await runLabCommand(
    [
      'run',
      'flannel-vxlan',
      '--kind',
      '--name',
      'pp-run',
      '--kube-proxy',
      'nftables',
      '--json',
      '--out',
      join(kind.work, 'run'),
      '--cni-bin-dir',
      kind.cniDir,
    ],
    io,
    trace,
  );
  assert.equal(code, 0, err.join(''));
  // Every creation command ran, the cluster first, before the trace started.
  assert.ok(callsWhenTraced && callsWhenTraced.length > 3, 'the creation ran no commands');
  assert.deepEqual(callsWhenTraced[0], [
    'kind',
    'create',
    'cluster',
    '--config',
    join(kind.work, 'run', 'kind-config.yaml'),
    '--name',
    'pp-run',
  ]);
  assert.deepEqual(calls(), callsWhenTraced, 'nothing ran after the trace');
  assert.ok(existsSync(join(kind.work, 'run', 'kind-config.yaml')));
  assert.match(
    readFileSync(join(kind.work, 'run', 'kind-config.yaml'), 'utf8'),
    /kubeProxyMode: nftables/,
  );
  assert.deepEqual(traceArgs, [
    '--context',
    'kind-pp-run',
    '--out',
    `${join(kind.work, 'run')}/trace`,
    '--json',
    'podpath-lab/pod-a',
    'podpath-lab/pod-b',
  ]);
  // --json: stdout is the trace's object alone; the creation talked on stderr.
  assert.deepEqual(out, ['{"cluster":"…"}\n']);
  assert.match(err.join(''), /Lab pp-run is ready \(kubectl context kind-pp-run\)/);
});

test('a failed creation stops before the trace, with its exit code', async () => {
  reset();
  const config = join(kind.work, 'fail', 'kind-config.yaml');
  process.env['PP_STANDIN_FAIL'] = [
    'kind',
    'create',
    'cluster',
    '--config',
    config,
    '--name',
    'pp-fail',
  ].join(SEP);
  try {
    const { io, err } = capture();
    let traced = false;
    const code = await runLabRunKind(
      [
        'kindnet',
        '--kind',
        '--name',
        'pp-fail',
        '--out',
        join(kind.work, 'fail'),
        '--cni-bin-dir',
        kind.cniDir,
      ],
      io,
      {
        trace: () => {
          traced = true;
          return Promise.resolve(0);
        },
      },
    );
    assert.notEqual(code, 0);
    assert.equal(traced, false);
    assert.match(err.join(''), /podpath lab: /);
  } finally {
    delete process.env['PP_STANDIN_FAIL'];
  }
});

test('argument handling: defaults, pass-through options and usage errors', async () => {
  const seen: { create?: readonly string[]; trace?: readonly string[] } = {};
  const steps = {
    create: (a: readonly string[]) => {
      seen.create = a;
      return Promise.resolve(0);
    },
    trace: (a: readonly string[]) => {
      seen.trace = a;
      return Promise.resolve(0);
    },
  };
  const { io } = capture();
  assert.equal(
    await runLabRunKind(['calico-vxlan', '--kind', '--image', 'busybox:1.36'], io, steps),
    0,
  );
  assert.deepEqual(seen.create, [
    '--kind',
    'calico-vxlan',
    '--name',
    'podpath-calico-vxlan',
    '--kube-proxy',
    'iptables',
    '--image',
    'busybox:1.36',
  ]);
  assert.deepEqual(seen.trace, [
    '--context',
    'kind-podpath-calico-vxlan',
    'podpath-lab/pod-a',
    'podpath-lab/pod-b',
  ]);
  for (const [args, message] of [
    [['flannel-vxlan'], /usage: podpath lab run MODE --kind/],
    [['--kind'], /usage: podpath lab run MODE --kind/],
    [['weave', '--kind'], /unknown mode weave; one of: flannel-vxlan, .*kindnet/],
    [['kindnet', '--kind', '--kube-proxy', 'userspace'], /--kube-proxy is one of/],
    [['kindnet', '--kind', '--name', 'Bad_Name'], /not a kind cluster name/],
    [['kindnet', 'extra', '--kind'], /usage: podpath lab run MODE --kind/],
  ] as const) {
    await assert.rejects(runLabRunKind(args, io, steps), message, args.join(' '));
  }
  // Through `podpath lab`: a usage error is exit 2 with the message; without --kind the
  // offline lab runner still owns `lab run`.
  const bad = capture();
  assert.equal(await runLabCommand(['run', 'weave', '--kind'], bad.io, steps.trace), 2);
  assert.match(bad.err.join(''), /unknown mode weave/);
});
