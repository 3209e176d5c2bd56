/**
 * Whether a lab can run on this machine: root, the tools, `ip netns`, and the link
 * kinds the kernel can make. The kernel is asked in a throwaway namespace that is
 * always deleted again, so asking (`podpath lab list`, the Labs view) never changes
 * the root namespace. Module lists alone would be wrong: a module that is not loaded
 * yet may load on demand, and a kernel without /proc/modules (built-in only) has none.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabDefinition, LinkKind } from '../../core/labs/catalog';
import { LAB_PREFIX } from '../../core/labs/runRecord';
import { runTool, ToolError } from '../exec/runner';

export interface Availability {
  available: boolean;
  reason?: string;
}

const LINK_KINDS: readonly LinkKind[] = ['veth', 'bridge', 'vxlan', 'ipip'];

/** `ip -n NS …` that shows whether NS can hold a device of `kind`. */
function probeArgv(ns: string, kind: LinkKind): string[] {
  const add = (...args: string[]): string[] => ['ip', '-n', ns, 'link', 'add', ...args];
  switch (kind) {
    case 'veth':
      return add('pp-chk-a', 'type', 'veth', 'peer', 'name', 'pp-chk-b');
    case 'bridge':
      return add('pp-chk-br', 'type', 'bridge');
    case 'vxlan':
      return add('pp-chk-vx', 'type', 'vxlan', 'id', '42', 'dstport', '4789');
    case 'ipip':
      // the lab uses the fallback tunl0 that the ipip module puts in every namespace
      return ['ip', '-n', ns, 'link', 'show', 'tunl0'];
  }
}

async function whyNotIpip(): Promise<string> {
  const fb = await readFile('/proc/sys/net/core/fb_tunnels_only_for_init_net', 'utf8').catch(
    () => '0',
  );
  if (fb.trim() !== '0')
    return 'net.core.fb_tunnels_only_for_init_net is set, so new namespaces get no tunl0 (set it to 0)';
  return 'the ipip module is not loaded (try `modprobe ipip`; on Debian/Ubuntu kernels it ships in linux-modules-extra-$(uname -r))';
}

async function probeAll(): Promise<Map<LinkKind, Availability>> {
  const ns = `${LAB_PREFIX}probe-${randomBytes(4).toString('hex')}`;
  const out = new Map<LinkKind, Availability>();
  await runTool(['ip', 'netns', 'add', ns], { timeoutMs: 5000 });
  try {
    for (const kind of LINK_KINDS) {
      try {
        await runTool(probeArgv(ns, kind), { timeoutMs: 5000 });
        out.set(kind, { available: true });
      } catch (e) {
        const why =
          e instanceof ToolError ? e.stderr.trim().split('\n')[0] || e.message : String(e);
        const hint =
          kind === 'ipip'
            ? `: ${await whyNotIpip()}`
            : kind === 'vxlan'
              ? ': the vxlan module is missing (try `modprobe vxlan`; on Debian/Ubuntu kernels it ships in linux-modules-extra-$(uname -r))'
              : '';
        out.set(kind, {
          available: false,
          reason: `this kernel cannot create ${kind} devices (${why})${hint}`,
        });
      }
    }
  } finally {
    // recorded by no run, so nothing else would ever remove it
    await runTool(['ip', 'netns', 'del', ns], { timeoutMs: 5000 }).catch(() => undefined);
  }
  return out;
}

/**
 * Which link kinds this kernel can make. One probe answers every kind and is kept for
 * `maxAgeMs` only, so a check after `modprobe ipip` sees the module without a reload.
 */
export class LinkKindProbe {
  private cached: { at: number; kinds: Promise<Map<LinkKind, Availability>> } | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: { maxAgeMs?: number; now?: () => number } = {}) {
    this.maxAgeMs = options.maxAgeMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The probe's answers, probing again once the last answer is older than maxAgeMs. */
  kinds(): Promise<Map<LinkKind, Availability>> {
    const t = this.now();
    if (!this.cached || t - this.cached.at > this.maxAgeMs) {
      const kinds = probeAll();
      // a failed probe is not kept: the next check tries again
      kinds.catch(() => {
        if (this.cached?.kinds === kinds) this.cached = undefined;
      });
      this.cached = { at: t, kinds };
    }
    return this.cached.kinds;
  }

  async check(kind: LinkKind): Promise<Availability> {
    return (await this.kinds()).get(kind) ?? { available: false, reason: `no ${kind} devices` };
  }
}

/** Debian package that provides each tool a lab needs. */
const TOOL_PACKAGES: Record<string, string> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  sysctl: 'procps',
  tcpdump: 'tcpdump',
  ping: 'iputils-ping',
  bird: 'bird2',
  birdc: 'bird2',
};

async function onPath(tool: string): Promise<boolean> {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      await access(path.join(dir, tool), fsConstants.X_OK);
      return true;
    } catch {
      /* try the next directory */
    }
  }
  return false;
}

/**
 * Whether `lab` can run here: root, the tools, network namespaces and the kernel's
 * link kinds. The reason says exactly what is missing and how to get it. Pass one
 * `probe` when checking several labs, so the kernel is asked once.
 */
export async function labAvailability(
  lab: LabDefinition,
  probe: LinkKindProbe = new LinkKindProbe(),
): Promise<Availability> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return {
      available: false,
      reason:
        'Labs create network namespaces and need root: run as root (for example `sudo podpath lab run …`).',
    };
  const missing: string[] = [];
  for (const tool of lab.requires.tools) if (!(await onPath(tool))) missing.push(tool);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => TOOL_PACKAGES[t] ?? t))];
    return {
      available: false,
      reason: `Missing ${missing.join(', ')}: install with \`sudo apt-get install -y ${pkgs.join(' ')}\`.`,
    };
  }
  try {
    await runTool(['ip', 'netns', 'list'], { timeoutMs: 5000 });
  } catch (e) {
    return {
      available: false,
      reason: `\`ip netns\` does not work here: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  for (const kind of lab.requires.linkKinds) {
    let r: Availability;
    try {
      r = await probe.check(kind);
    } catch (e) {
      return {
        available: false,
        reason: `could not ask the kernel in a throwaway namespace: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    if (!r.available) return { available: false, reason: r.reason ?? `no ${kind} devices` };
  }
  return { available: true };
}
