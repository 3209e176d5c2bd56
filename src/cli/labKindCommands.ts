/**
 * `podpath lab create --kind MODE …` and `podpath lab delete NAME`: lab clusters on
 * kind. `--dry-run` runs nothing: it writes the kind config and every manifest into
 * the output folder exactly as a real run would and prints each command's argv.
 */
import type { KindLabPlan, LabStep } from '../core/kindlab/labPlan';
import {
  isKindClusterName,
  isKubeProxyMode,
  KIND_LAB_MODES,
  KUBE_PROXY_MODES,
  kindLabMode,
  type KubeProxyMode,
} from '../core/kindlab/modes';
import { podIp } from '../core/kindlab/labClusters';
import { PROBE_NAMESPACE } from '../core/kindlab/probeManifests';
import { ToolError } from '../platform/exec/runner';
import {
  deleteKindLab,
  KindLabError,
  prepareKindLab,
  runKindLab,
  type KindLabProgress,
} from '../platform/kindlab/kindLab';
import type { CliIo } from './captureCommands';
import { parseArgs } from './captureCommands';
import { UsageError } from './table';

const CREATE_USAGE =
  'usage: podpath lab create --kind MODE [--name NAME] [--kube-proxy iptables|nftables|ipvs] [--dry-run] [--json] [--out DIR] [--image PROBE_IMAGE] [--node-image KIND_NODE_IMAGE] [--cni-bin-dir DIR]';

/** An argv as a person would type it: words with shell-special characters single-quoted. */
export function shellWords(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

function stepJson(s: LabStep): Record<string, unknown> {
  return {
    id: s.id,
    phase: s.phase,
    title: s.title,
    argv: s.argv,
    ...(s.optional ? { optional: true } : {}),
  };
}

function planText(plan: KindLabPlan): string {
  const lines = plan.steps.map(
    (s, i) =>
      `${String(i + 1).padStart(3)}. [${s.phase}] ${s.title}${s.optional ? ' (optional)' : ''}\n       ${shellWords(s.argv)}`,
  );
  const cleanup = plan.cleanup.map((s) => `       ${shellWords(s.argv)}`);
  return `Steps:\n${lines.join('\n')}\nOn failure or cancel:\n${cleanup.join('\n')}\n`;
}

export { podIp };

export async function runLabCreate(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, {
    flags: ['dry-run', 'json'],
    options: ['kind', 'name', 'kube-proxy', 'out', 'image', 'node-image', 'cni-bin-dir'],
  });
  if (parsed.positional.length > 0) throw new UsageError(CREATE_USAGE);
  const modeName = parsed.options.get('kind');
  if (!modeName) throw new UsageError(`--kind MODE is required; ${CREATE_USAGE}`);
  const mode = kindLabMode(modeName);
  if (!mode) {
    throw new UsageError(
      `unknown mode ${modeName}; one of: ${KIND_LAB_MODES.map((m) => m.mode).join(', ')}`,
    );
  }
  const proxy = parsed.options.get('kube-proxy') ?? 'iptables';
  if (!isKubeProxyMode(proxy)) {
    throw new UsageError(`--kube-proxy is one of ${KUBE_PROXY_MODES.join(', ')}, not ${proxy}`);
  }
  const kubeProxyMode: KubeProxyMode = proxy;
  const name = parsed.options.get('name') ?? `podpath-${mode.mode}`;
  if (!isKindClusterName(name)) {
    throw new UsageError(
      `--name ${name} is not a kind cluster name (lower-case letters, digits and -, at most 32)`,
    );
  }
  const dryRun = parsed.flags.has('dry-run');
  const json = parsed.flags.has('json');
  const say = json ? io.stderr : io.stdout;

  const prepared = await prepareKindLab({
    name,
    mode,
    kubeProxyMode,
    outDir: parsed.options.get('out') ?? `podpath-lab-${name}`,
    probeImage: parsed.options.get('image'),
    nodeImage: parsed.options.get('node-image'),
    cniBinDir: parsed.options.get('cni-bin-dir'),
  });
  const { plan } = prepared;
  for (const w of prepared.warnings) io.stderr(`podpath lab: warning: ${w}\n`);
  const summary = {
    name,
    mode: mode.mode,
    kubeProxyMode,
    context: plan.context,
    outDir: prepared.outDir,
  };

  if (dryRun) {
    if (json) {
      io.stdout(
        JSON.stringify(
          {
            ...summary,
            files: prepared.written,
            steps: plan.steps.map(stepJson),
            cleanup: plan.cleanup.map(stepJson),
            warnings: prepared.warnings,
          },
          null,
          2,
        ) + '\n',
      );
      return 0;
    }
    io.stdout(
      `Lab ${name}: ${mode.title}, kube-proxy ${kubeProxyMode} (dry run: nothing was run)\n`,
    );
    io.stdout(`Wrote:\n${prepared.written.map((p) => `  ${p}\n`).join('')}`);
    io.stdout(planText(plan));
    return 0;
  }

  if (prepared.warnings.length > 0) {
    // Creating a cluster that a later step is sure to fail on (and then delete) helps nobody.
    io.stderr(
      'podpath lab: not creating the cluster until that is fixed (--dry-run still works)\n',
    );
    return 1;
  }
  say(`Lab ${name}: ${mode.title}, kube-proxy ${kubeProxyMode}; files in ${prepared.outDir}\n`);
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    io.stderr(`\n${signal}: cancelling; the cluster will be deleted…\n`);
    controller.abort(new DOMException(`Cancelled by ${signal}`, 'AbortError'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const total = plan.steps.length;
  const progress = (p: KindLabProgress): void => {
    const n = plan.steps.indexOf(p.step) + 1;
    const where = n > 0 ? `${n}/${total}` : 'cleanup';
    if (p.status === 'start') say(`[${where}] ${p.step.title}…\n`);
    else if (p.status === 'output') say(`        ${p.message ?? ''}\n`);
    else if (p.status === 'done')
      say(`[${where}] ok${p.durationMs !== undefined ? ` (${p.durationMs} ms)` : ''}\n`);
    else io.stderr(`[${where}] ${p.status}: ${p.message ?? ''}\n`);
  };
  try {
    const result = await runKindLab(plan, { signal: controller.signal, onProgress: progress });
    if (json) {
      io.stdout(JSON.stringify({ ...summary, warnings: result.warnings }, null, 2) + '\n');
      return 0;
    }
    say(`\nLab ${name} is ready (kubectl context ${plan.context}).\n${result.probePods}`);
    say(
      `Pod A → pod B: kubectl --context ${plan.context} -n ${PROBE_NAMESPACE} exec pod-a -- ping -c 3 ${podIp(result.probePods, 'pod-b') ?? '<pod-b IP>'}\n` +
        `Delete it with: podpath lab delete ${name}\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof KindLabError) {
      io.stderr(`podpath lab: ${err.message}\n`);
      return controller.signal.aborted ? 130 : 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function runLabDelete(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, {});
  const [name, ...extra] = parsed.positional;
  if (!name || extra.length > 0) throw new UsageError('usage: podpath lab delete NAME');
  if (!isKindClusterName(name)) throw new UsageError(`${name} is not a kind cluster name`);
  try {
    await deleteKindLab(name);
  } catch (err) {
    if (err instanceof ToolError) {
      io.stderr(`podpath lab: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  io.stdout(`Deleted kind cluster ${name}.\n`);
  return 0;
}

const RUN_KIND_USAGE =
  'usage: podpath lab run MODE --kind [--name NAME] [--kube-proxy iptables|nftables|ipvs] [--json] [--out DIR] [--image PROBE_IMAGE] [--node-image KIND_NODE_IMAGE] [--cni-bin-dir DIR]';

/** A CLI command as a function: `podpath trace …` for `lab run --kind`'s trace step. */
export type CliCommand = (args: readonly string[], io: CliIo) => Promise<number>;

/**
 * `podpath lab run MODE --kind …`: create the lab cluster (the same steps as `lab create
 * --kind`), then trace `podpath-lab/pod-a` → `podpath-lab/pod-b` in context `kind-NAME` with
 * `podpath trace` (so the report is the same as that command's). With --json, stdout carries
 * only the trace's object; the creation's progress goes to stderr. Stops at the first step
 * that fails, with its exit code.
 */
export async function runLabRunKind(
  args: readonly string[],
  io: CliIo,
  steps: { create?: CliCommand; trace: CliCommand },
): Promise<number> {
  const parsed = parseArgs(args, {
    flags: ['kind', 'json'],
    options: ['name', 'kube-proxy', 'out', 'image', 'node-image', 'cni-bin-dir'],
  });
  const [modeName, ...extra] = parsed.positional;
  if (!parsed.flags.has('kind') || !modeName || extra.length > 0) {
    throw new UsageError(RUN_KIND_USAGE);
  }
  const mode = kindLabMode(modeName);
  if (!mode) {
    throw new UsageError(
      `unknown mode ${modeName}; one of: ${KIND_LAB_MODES.map((m) => m.mode).join(', ')}`,
    );
  }
  const name = parsed.options.get('name') ?? `podpath-${mode.mode}`;
  if (!isKindClusterName(name)) {
    throw new UsageError(
      `--name ${name} is not a kind cluster name (lower-case letters, digits and -, at most 32)`,
    );
  }
  const proxy = parsed.options.get('kube-proxy') ?? 'iptables';
  if (!isKubeProxyMode(proxy)) {
    throw new UsageError(`--kube-proxy is one of ${KUBE_PROXY_MODES.join(', ')}, not ${proxy}`);
  }
  const json = parsed.flags.has('json');
  const out = parsed.options.get('out');
  const createArgs = [
    '--kind',
    mode.mode,
    '--name',
    name,
    '--kube-proxy',
    proxy,
    ...(out !== undefined ? ['--out', out] : []),
    // What the creation alone takes passes through as given.
    ...['image', 'node-image', 'cni-bin-dir'].flatMap((o) => {
      const v = parsed.options.get(o);
      return v !== undefined ? [`--${o}`, v] : [];
    }),
  ];
  // With --json only the trace's object goes to stdout.
  const createIo: CliIo = json ? { ...io, stdout: io.stderr } : io;
  const created = await (steps.create ?? runLabCreate)(createArgs, createIo);
  if (created !== 0) return created;
  return steps.trace(
    [
      '--context',
      `kind-${name}`,
      ...(out !== undefined ? ['--out', `${out}/trace`] : []),
      ...(json ? ['--json'] : []),
      `${PROBE_NAMESPACE}/pod-a`,
      `${PROBE_NAMESPACE}/pod-b`,
    ],
    io,
  );
}
