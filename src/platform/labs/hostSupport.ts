/**
 * Whether this machine can run the offline labs at all, and how to install what is
 * missing. Labs build network namespaces, which only Linux has: on macOS and Windows
 * the Labs view says so and points to WSL or Remote-SSH (the extension is a workspace
 * extension, so there it runs on the Linux side), while parsing, analysis, datapaths
 * and clusters keep working everywhere.
 */
import { readFile } from 'node:fs/promises';
import { installAdvice, type InstallAdvice } from '../../core/labs/installAdvice';

/** Why labs cannot run on this OS, or undefined on Linux. */
export function labsUnsupportedReason(
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (platform === 'linux') return undefined;
  const where =
    platform === 'win32'
      ? 'open this folder in WSL (Remote - WSL) or on a Linux machine over Remote-SSH'
      : 'open this folder on a Linux machine over Remote-SSH, or in a Linux Dev Container or VM';
  return `Offline labs need Linux (network namespaces and root); this is ${platform === 'win32' ? 'Windows' : platform === 'darwin' ? 'macOS' : platform}: ${where}. Parsing captures, analysis, datapaths and clusters work here.`;
}

/** /etc/os-release (or /usr/lib/os-release), or undefined when neither can be read. */
export async function readOsRelease(): Promise<string | undefined> {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      // try the next
    }
  }
  return undefined;
}

/** Install advice for `tools` on this machine's distribution. */
export async function installAdviceHere(tools: readonly string[]): Promise<InstallAdvice> {
  return installAdvice(tools, await readOsRelease(), process.getuid?.() === 0);
}
