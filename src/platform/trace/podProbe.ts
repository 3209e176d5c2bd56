/**
 * The trace's probe, run where the person would run it: inside pod A, through the API's exec
 * endpoint (ClusterClient.exec), with the same argv and the same parsing as the probe run from
 * pod A's network namespace on its node. When the probe cannot start in pod A (its image has
 * no ping or curl, pods/exec is forbidden, there is no such container, the exec cannot be
 * made), it runs from pod A's network namespace on its node instead, and the result says why.
 * A probe that ran and got no replies is a finding, never a reason to run it again elsewhere.
 *
 * Cancel closes the exec (ClusterClient.exec terminates its WebSocket on the signal). The
 * kubelet leaves the command running in the container, but every probe ends by itself within
 * seconds (`ping -c 3 -W 1`, `curl -m 3`), so nothing outlives the trace for long; no `sh` is
 * used to track a pid, since the images this is for (distroless) often have none.
 */
import { Writable } from 'node:stream';
import type { ProbeOutcome } from '../capture/probes';
import {
  pingArgv,
  pingOutcome,
  portOutcome,
  portProbeArgv,
  runPingProbe,
  runPortProbe,
} from '../capture/probes';
import type { ClusterClient } from '../kube/kubeClient';
import { KubeError } from '../kube/kubeClient';
import type { NodeShell, ShellTarget } from '../shells/nodeShell';
import type { Probe } from '../../core/datapath/types';

/** Why the probe did not run inside pod A. */
export type ProbeFallbackReason =
  'tool-missing' | 'not-permitted' | 'tool-failed' | 'forbidden' | 'no-container' | 'exec-failed';

/** Where the probe ran, and, when not in the pod, why. */
export type ProbePlace =
  | { ranIn: 'pod'; pod: string; container: string; node: string; where: string }
  | {
      ranIn: 'node-netns';
      pod: string;
      node: string;
      fallback: { reason: ProbeFallbackReason; detail: string };
      where: string;
    };

/**
 * A probe's outcome with where it ran. `where` is what people read: "probed from inside
 * default/podA (container app)", or "default/podA's image has no ping: probed from its network
 * namespace on node kind-worker".
 */
export type PlacedProbeOutcome = ProbeOutcome & ProbePlace;

/** How one exec of the probe in pod A ended: the command's exit, or a failure to run it. */
export type InPodAttempt =
  | { ended: true; exitCode: number | null; message: string; stdout: string; stderr: string }
  | { ended: false; error: unknown };

/**
 * Decides whether the probe falls back to pod A's network namespace on its node, from how the
 * exec in pod A went: the reason and one line of detail, or null when the exec's result is
 * the probe's result (replies or none). A cancel is neither: it is rethrown by the caller.
 */
export function inPodFallback(
  attempt: InPodAttempt,
  tool: string,
): { reason: ProbeFallbackReason; detail: string } | null {
  if (!attempt.ended) {
    const e = attempt.error;
    if (e instanceof KubeError && e.kind === 'forbidden') {
      return { reason: 'forbidden', detail: e.message };
    }
    return {
      reason: 'exec-failed',
      detail: e instanceof Error ? e.message : String(e),
    };
  }
  const { exitCode, message, stderr } = attempt;
  if (exitCode === null) {
    // The runtime could not start the command: runc / containerd say it like this.
    if (/executable file not found|no such file or directory/i.test(message)) {
      return { reason: 'tool-missing', detail: `the image has no ${tool}` };
    }
    if (/container .* is not valid for pod|container not found/i.test(message)) {
      return { reason: 'no-container', detail: message };
    }
    return { reason: 'exec-failed', detail: message || 'the command did not start' };
  }
  // A shell's or busybox's own words for a missing executable.
  if (
    (exitCode === 126 || exitCode === 127) &&
    /not found|no such file|cannot execute/i.test(stderr)
  ) {
    return { reason: 'tool-missing', detail: `the image has no ${tool}` };
  }
  // A ping that may not open its socket in this container sent nothing (no statistics line).
  if (
    exitCode !== 0 &&
    !/packets transmitted/.test(attempt.stdout) &&
    /operation not permitted|permission denied|are you root|lacking privilege/i.test(stderr)
  ) {
    return {
      reason: 'not-permitted',
      detail: `${tool} may not send from this container (${firstLine(stderr)})`,
    };
  }
  // A ping that printed no statistics line sent no probe (an option this image's ping lacks, a
  // route it cannot use): the same netns answers from the node with iputils' ping, so nothing
  // the datapath says is lost. curl exit 2: it could not start (an option it lacks).
  const pingDidNotRun =
    tool === 'ping' && exitCode !== 0 && !/packets transmitted/.test(attempt.stdout);
  if (pingDidNotRun || (tool === 'curl' && exitCode === 2)) {
    return {
      reason: 'tool-failed',
      detail: `${tool} in the image did not send the probe (exit ${exitCode}${stderr.trim() ? `: ${firstLine(stderr)}` : ''})`,
    };
  }
  return null;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

class Collect extends Writable {
  text = '';
  constructor(private readonly max = 64 * 1024) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    if (this.text.length < this.max) this.text += chunk.toString('utf8');
    cb();
  }
}

/**
 * One exec of argv in the container, collected. Never throws but for a cancel (the signal's
 * reason is rethrown by the caller): every other failure is an InPodAttempt to judge.
 */
export async function execInPod(
  client: ClusterClient,
  request: {
    namespace: string;
    pod: string;
    container: string;
    argv: readonly string[];
    timeoutMs: number;
    signal?: AbortSignal;
  },
): Promise<InPodAttempt> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort('timeout'), request.timeoutMs);
  const onAbort = (): void => controller.abort('cancelled');
  if (request.signal?.aborted) onAbort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const stdout = new Collect();
  const stderr = new Collect();
  try {
    const handle = await client.exec({
      namespace: request.namespace,
      pod: request.pod,
      container: request.container,
      command: request.argv,
      stdout,
      stderr,
      signal: controller.signal,
    });
    const outcome = await handle.done;
    return { ended: true, ...outcome, stdout: stdout.text, stderr: stderr.text };
  } catch (error) {
    if (controller.signal.reason === 'timeout') {
      return {
        ended: false,
        error: new Error(`no exit status within ${Math.round(request.timeoutMs / 1000)} s`),
      };
    }
    return { ended: false, error };
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }
}

export interface PodProbeRequest {
  client: ClusterClient;
  /** The node-side fallback's shell, and pod A's place for it. */
  shell: NodeShell;
  from: ShellTarget & { pod: string };
  /** Pod A's namespace and name. */
  namespace: string;
  name: string;
  /** The container to run in; null when the pod has no such container (the detail says why). */
  container: string | { missing: string };
  probe: Probe;
  /** Destination IP (pod B). */
  to: string;
  signal?: AbortSignal;
}

/**
 * Runs the probe inside pod A, or from its network namespace on its node when it cannot start
 * there (see inPodFallback). Throws the signal's reason when cancelled, and what the node-side
 * probe throws when that fails too.
 */
export async function runPodProbe(request: PodProbeRequest): Promise<PlacedProbeOutcome> {
  const { probe, to, signal, from } = request;
  const pod = from.pod;
  const argv =
    probe.protocol === 'icmp'
      ? pingArgv({ to })
      : portProbeArgv({ protocol: probe.protocol, to, port: probe.port });
  const tool = argv[0] ?? '';
  let fallback: { reason: ProbeFallbackReason; detail: string };
  if (typeof request.container !== 'string') {
    fallback = { reason: 'no-container', detail: request.container.missing };
  } else {
    const container = request.container;
    const attempt = await execInPod(request.client, {
      namespace: request.namespace,
      pod: request.name,
      container,
      argv,
      // ping -c 3 -i 0.2 -W 1, curl -m 3: a few seconds, plus the exec's own round trips.
      timeoutMs: 15_000,
      signal,
    });
    signal?.throwIfAborted();
    const why = inPodFallback(attempt, tool);
    if (!why && attempt.ended && attempt.exitCode !== null) {
      const outcome = placedResult(probe, to, attempt.stdout, attempt.exitCode, attempt.stderr);
      return {
        ...outcome,
        ranIn: 'pod',
        pod,
        container,
        node: from.node,
        where: `probed from inside ${pod} (container ${container})`,
      };
    }
    fallback = why ?? { reason: 'exec-failed', detail: 'the command did not start' };
  }
  const outcome =
    probe.protocol === 'icmp'
      ? await runPingProbe(request.shell, { from, to, signal })
      : await runPortProbe(request.shell, {
          from,
          protocol: probe.protocol,
          to,
          port: probe.port,
          signal,
        });
  return {
    ...outcome,
    ranIn: 'node-netns',
    pod,
    node: from.node,
    fallback,
    where: `${fallbackSentence(pod, tool, fallback)}: probed from its network namespace on node ${from.node}`,
  };
}

/**
 * The in-pod result parsed as the node-side probe parses it. A ping exit other than 0 (replies)
 * or 1 (no reply), with its statistics line printed, is an error there too.
 */
function placedResult(
  probe: Probe,
  to: string,
  stdout: string,
  exitCode: number,
  stderr: string,
): ProbeOutcome {
  if (probe.protocol === 'icmp') {
    if (exitCode !== 0 && exitCode !== 1) {
      throw new Error(
        `ping in the pod failed (exit ${exitCode}): ${firstLine(stderr) || firstLine(stdout)}`,
      );
    }
    return pingOutcome(stdout, 3);
  }
  return portOutcome({ protocol: probe.protocol, to, port: probe.port }, stdout, exitCode);
}

function fallbackSentence(
  pod: string,
  tool: string,
  fallback: { reason: ProbeFallbackReason; detail: string },
): string {
  switch (fallback.reason) {
    case 'tool-missing':
      return `${pod}'s image has no ${tool}`;
    case 'not-permitted':
      return `${tool} may not send from inside ${pod}`;
    case 'tool-failed':
      return `${pod}'s ${fallback.detail}`;
    case 'forbidden':
      return `exec into ${pod} is not allowed (pods/exec)`;
    case 'no-container':
      return `${pod} ${fallback.detail}`;
    case 'exec-failed':
      return `exec into ${pod} failed (${fallback.detail})`;
  }
}
