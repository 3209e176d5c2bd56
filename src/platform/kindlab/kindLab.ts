/**
 * Creates a lab cluster on kind from the core's KindLabPlan: writes the files into
 * the output folder, then runs each step through the one runner, reporting every
 * step as it starts and ends (and the lines `kubectl rollout status` prints while it
 * waits). A failed or cancelled creation deletes the cluster it made; a failed
 * optional step (tcpdump in a node) is a warning. Nothing here imports vscode.
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { kindLabPlan, type KindLabPlan, type LabStep } from '../../core/kindlab/labPlan';
import type { KindLabModeInfo, KubeProxyMode } from '../../core/kindlab/modes';
import { PROBE_IMAGE } from '../../core/kindlab/probeManifests';
import { runTool, ToolError, type RunOptions } from '../exec/runner';

/** Where the vendored manifests live: media/cni beside dist/ in the bundle, or in the repo. */
const MANIFEST_DIRS = [
  join(__dirname, '..', 'media', 'cni'),
  join(__dirname, '..', '..', '..', 'media', 'cni'),
];
export const FLANNEL_MANIFEST = 'kube-flannel-v0.28.9.yml';
export const CALICO_MANIFEST = 'calico-v3.32.1.yaml';

/** Host folders where distributions put the CNI plugins (Debian's containernetworking-plugins first). */
export const HOST_CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin', '/usr/libexec/cni'];

export class KindLabError extends Error {
  override readonly name = 'KindLabError';
  constructor(
    message: string,
    readonly step: LabStep | null,
    readonly cleanedUp: boolean,
  ) {
    super(message);
  }
}

async function exists(path: string, mode = constants.R_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

async function readManifest(file: string): Promise<string> {
  for (const dir of MANIFEST_DIRS) {
    const path = join(dir, file);
    if (await exists(path)) return readFile(path, 'utf8');
  }
  throw new KindLabError(
    `The pinned CNI manifest ${file} is missing from this Podpath install (looked in ${MANIFEST_DIRS.join(', ')}).`,
    null,
    false,
  );
}

/**
 * The host folder with an executable `bridge` plugin: `explicit` when given, else the
 * first of HOST_CNI_DIRS that has one; `found: false` names the default when none does.
 */
export async function findHostCniBinDir(
  explicit?: string,
): Promise<{ dir: string; found: boolean }> {
  const candidates = explicit ? [resolve(explicit)] : HOST_CNI_DIRS;
  for (const dir of candidates) {
    if (await exists(join(dir, 'bridge'), constants.X_OK)) return { dir, found: true };
  }
  return { dir: candidates[0] ?? '/usr/lib/cni', found: false };
}

export interface PrepareKindLabOptions {
  name: string;
  mode: KindLabModeInfo;
  kubeProxyMode: KubeProxyMode;
  outDir: string;
  probeImage?: string;
  nodeImage?: string;
  cniBinDir?: string;
}

export interface PreparedKindLab {
  plan: KindLabPlan;
  outDir: string;
  /** Paths of the files written. */
  written: string[];
  /** Things the person should know before running (a missing host CNI plugin). */
  warnings: string[];
}

/** Builds the plan and writes its files into `outDir`, exactly what a real run applies. */
export async function prepareKindLab(options: PrepareKindLabOptions): Promise<PreparedKindLab> {
  const outDir = resolve(options.outDir);
  const needsFlannel = options.mode.cni === 'flannel';
  const cni = await findHostCniBinDir(options.cniBinDir);
  const warnings: string[] = [];
  if (needsFlannel && !cni.found) {
    warnings.push(
      `No CNI bridge plugin in ${options.cniBinDir ? cni.dir : HOST_CNI_DIRS.join(', ')}: Flannel needs bridge, portmap and host-local copied into the nodes. Install them (Debian/Ubuntu: apt-get install containernetworking-plugins) or pass --cni-bin-dir DIR.`,
    );
  }
  const plan = kindLabPlan({
    name: options.name,
    mode: options.mode,
    kubeProxyMode: options.kubeProxyMode,
    outDir,
    probeImage: options.probeImage ?? PROBE_IMAGE,
    ...(options.nodeImage ? { nodeImage: options.nodeImage } : {}),
    hostCniBinDir: cni.dir,
    manifests: {
      flannel: needsFlannel ? await readManifest(FLANNEL_MANIFEST) : '',
      calico: options.mode.cni === 'calico' ? await readManifest(CALICO_MANIFEST) : '',
    },
  });
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const file of plan.files) {
    const path = join(outDir, file.name);
    await writeFile(path, file.content, 'utf8');
    written.push(path);
  }
  return { plan, outDir, written, warnings };
}

export type StepStatus = 'start' | 'done' | 'warning' | 'failed' | 'output';

export interface KindLabProgress {
  step: LabStep;
  status: StepStatus;
  /** The failure or warning sentence, or an output line while the step runs. */
  message?: string;
  durationMs?: number;
}

/** Runs one argv; the CLI and tests replace it to observe or stub commands. */
export type StepRunner = (
  argv: readonly string[],
  options: RunOptions,
) => Promise<{ stdout: string }>;

export interface RunKindLabOptions {
  signal?: AbortSignal;
  onProgress?: (p: KindLabProgress) => void;
  run?: StepRunner;
}

export interface KindLabResult {
  plan: KindLabPlan;
  /** `kubectl get pods -o wide` of the probe namespace. */
  probePods: string;
  warnings: string[];
}

function failure(step: LabStep, err: unknown): string {
  const why =
    err instanceof ToolError
      ? err.kind === 'not-found'
        ? `${err.argv[0] ?? '?'} is not installed or not on PATH`
        : err.kind === 'timeout'
          ? `it did not finish within ${Math.round(step.timeoutMs / 1000)} s`
          : (err.stderr.trim().split('\n').pop() ?? `exit code ${err.exitCode ?? '?'}`)
      : err instanceof Error
        ? err.message
        : String(err);
  return `${step.title} failed: ${why}. ${step.hint}`;
}

/**
 * Runs the plan's steps in order. On a failure (or a cancel) after `kind create
 * cluster` started, runs the plan's clean-up and throws a KindLabError saying which
 * step failed, why, what to do, and whether the cluster was deleted.
 */
export async function runKindLab(
  plan: KindLabPlan,
  options: RunKindLabOptions = {},
): Promise<KindLabResult> {
  const run: StepRunner = options.run ?? ((argv, o) => runTool(argv, o));
  const report = options.onProgress ?? (() => undefined);
  const warnings: string[] = [];
  let created = false;
  let probePods = '';

  for (const step of plan.steps) {
    if (options.signal?.aborted) {
      throw await fail(plan, step, 'cancelled', created, run, report);
    }
    report({ step, status: 'start' });
    const started = Date.now();
    if (step.id === 'create-cluster') created = true;
    try {
      const { stdout } = await run(step.argv, {
        signal: options.signal,
        timeoutMs: step.timeoutMs,
        onStdoutLine: (line) => {
          if (line.trim()) report({ step, status: 'output', message: line });
        },
      });
      if (step.id === 'list-nodes') checkNodes(plan, stdout);
      if (step.id === 'probes-listed') probePods = stdout;
      report({ step, status: 'done', durationMs: Date.now() - started });
    } catch (err) {
      if (options.signal?.aborted) {
        throw await fail(plan, step, 'cancelled', created, run, report);
      }
      if (step.optional) {
        const message = failure(step, err);
        warnings.push(message);
        report({ step, status: 'warning', message, durationMs: Date.now() - started });
        continue;
      }
      throw await fail(plan, step, failure(step, err), created, run, report);
    }
  }
  return { plan, probePods, warnings };
}

/** kind must have named the nodes as the plan expects, or every later step targets the wrong container. */
function checkNodes(plan: KindLabPlan, stdout: string): void {
  const listed = new Set(
    stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  const missing = [plan.controlPlane, ...plan.workers].filter((n) => !listed.has(n));
  if (missing.length > 0) {
    throw new Error(
      `kind lists ${[...listed].join(', ') || 'no nodes'}, not ${missing.join(', ')}`,
    );
  }
}

async function fail(
  plan: KindLabPlan,
  step: LabStep,
  why: 'cancelled' | string,
  created: boolean,
  run: StepRunner,
  report: (p: KindLabProgress) => void,
): Promise<KindLabError> {
  const message = why === 'cancelled' ? `Cancelled during: ${step.title}.` : why;
  report({ step, status: 'failed', message });
  if (!created) return new KindLabError(message, step, false);
  let cleaned = true;
  for (const c of plan.cleanup) {
    report({ step: c, status: 'start' });
    try {
      // Clean-up runs even after a cancel, so it gets no signal of its own.
      await run(c.argv, { timeoutMs: c.timeoutMs });
      report({ step: c, status: 'done' });
    } catch (err) {
      cleaned = false;
      report({ step: c, status: 'failed', message: failure(c, err) });
    }
  }
  return new KindLabError(
    `${message} ${cleaned ? `The cluster ${plan.name} was deleted.` : `The cluster ${plan.name} could not be deleted: run \`kind delete cluster --name ${plan.name}\`.`}`,
    step,
    cleaned,
  );
}

/** `kind delete cluster --name NAME`. */
export async function deleteKindLab(
  name: string,
  options: { signal?: AbortSignal; run?: StepRunner } = {},
): Promise<void> {
  const run: StepRunner = options.run ?? ((argv, o) => runTool(argv, o));
  await run(['kind', 'delete', 'cluster', '--name', name], {
    signal: options.signal,
    timeoutMs: 300_000,
  });
}
