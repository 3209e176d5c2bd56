/**
 * Whether a program is installed: the first executable file of that name on PATH. Used to
 * offer buttons (Open in Wireshark) only where they can work; running goes through the runner.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** The full path of `name` on `env.PATH`, or undefined when it is not there. */
export async function toolOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here: try the next directory.
    }
  }
  return undefined;
}
