/**
 * What to run to install the tools a lab needs, for the distribution named by
 * /etc/os-release (read by the platform, parsed here): apt, dnf, apk, pacman or zypper,
 * with that distribution's package names, and whether it needs root. Pure, so each
 * distribution's advice is unit-tested from os-release samples.
 */

export type PackageManager = 'apt' | 'dnf' | 'apk' | 'pacman' | 'zypper';

/** The `KEY=value` pairs of an os-release file (quotes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

/** The package manager of a distribution, from its `ID` and `ID_LIKE`; undefined when unknown. */
export function packageManagerOf(osRelease: Record<string, string>): PackageManager | undefined {
  const ids = [osRelease.ID ?? '', ...(osRelease.ID_LIKE ?? '').split(/\s+/)]
    .map((s) => s.toLowerCase())
    .filter(Boolean);
  const has = (...names: string[]): boolean => ids.some((id) => names.includes(id));
  if (has('debian', 'ubuntu', 'linuxmint', 'pop', 'raspbian')) return 'apt';
  if (has('fedora', 'rhel', 'centos', 'rocky', 'almalinux', 'amzn', 'ol')) return 'dnf';
  if (has('alpine')) return 'apk';
  if (has('arch', 'manjaro', 'endeavouros')) return 'pacman';
  if (has('opensuse', 'suse', 'opensuse-leap', 'opensuse-tumbleweed', 'sles')) return 'zypper';
  return undefined;
}

/** Package of each tool, per manager (`ping` is iputils-ping on Debian, iputils elsewhere). */
const PACKAGES: Record<string, Record<PackageManager, string>> = {
  ip: { apt: 'iproute2', dnf: 'iproute', apk: 'iproute2', pacman: 'iproute2', zypper: 'iproute2' },
  bridge: {
    apt: 'iproute2',
    dnf: 'iproute',
    apk: 'iproute2',
    pacman: 'iproute2',
    zypper: 'iproute2',
  },
  tcpdump: { apt: 'tcpdump', dnf: 'tcpdump', apk: 'tcpdump', pacman: 'tcpdump', zypper: 'tcpdump' },
  ping: {
    apt: 'iputils-ping',
    dnf: 'iputils',
    apk: 'iputils',
    pacman: 'iputils',
    zypper: 'iputils',
  },
  iperf3: { apt: 'iperf3', dnf: 'iperf3', apk: 'iperf3', pacman: 'iperf3', zypper: 'iperf' },
  sysctl: { apt: 'procps', dnf: 'procps-ng', apk: 'procps', pacman: 'procps-ng', zypper: 'procps' },
  bird: { apt: 'bird2', dnf: 'bird', apk: 'bird', pacman: 'bird', zypper: 'bird' },
  birdc: { apt: 'bird2', dnf: 'bird', apk: 'bird', pacman: 'bird', zypper: 'bird' },
};

const INSTALL: Record<PackageManager, string[]> = {
  apt: ['apt-get', 'install', '-y'],
  dnf: ['dnf', 'install', '-y'],
  apk: ['apk', 'add'],
  pacman: ['pacman', '-S', '--needed', '--noconfirm'],
  zypper: ['zypper', 'install', '-y'],
};

export interface InstallAdvice {
  manager: PackageManager | undefined;
  packages: string[];
  /** The command to run, `sudo` in front when not root; null when the distribution is unknown. */
  command: string | null;
  /** One sentence for people. */
  sentence: string;
}

/**
 * Advice for installing `tools` on the distribution described by `osRelease` text;
 * `root` says whether the caller already runs as root (else the command needs sudo).
 */
export function installAdvice(
  tools: readonly string[],
  osRelease: string | undefined,
  root: boolean,
): InstallAdvice {
  const release = parseOsRelease(osRelease ?? '');
  const manager = packageManagerOf(release);
  const name = release.PRETTY_NAME ?? release.NAME ?? 'this distribution';
  if (!manager) {
    return {
      manager,
      packages: [...tools],
      command: null,
      sentence: `Missing ${tools.join(', ')}: install them with ${name}'s package manager (as root).`,
    };
  }
  const packages = [...new Set(tools.map((t) => PACKAGES[t]?.[manager] ?? t))];
  const argv = [...(root ? [] : ['sudo']), ...INSTALL[manager], ...packages];
  const command = argv.join(' ');
  return {
    manager,
    packages,
    command,
    sentence: `Missing ${tools.join(', ')}: install with \`${command}\`${root ? '' : ' (installing needs root)'}.`,
  };
}
