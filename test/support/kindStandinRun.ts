/**
 * The setup the unit tests of kind labs share: the kind / docker / kubectl stand-ins of
 * test/support/kindStandins first on PATH, the calls they log (one line per call, argv
 * joined by \x1f), and a folder of empty CNI plugin files (`bridge`, `portmap`,
 * `host-local`) for node preparation to copy. Call once at the top of a test file; it
 * registers its own before/after hooks.
 */
import { after, before } from 'node:test';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const STANDINS = join(__dirname, 'kindStandins');
export const STANDIN_SEP = '\x1f';
/** Environment switches the stand-ins read (a failing command, its message, delays, nodes). */
const SWITCHES = ['PP_STANDIN_FAIL', 'PP_STANDIN_FAIL_MSG', 'PP_STANDIN_SLOW', 'PP_STANDIN_NODES'];

export interface KindStandinRun {
  /** The test file's scratch folder. */
  readonly work: string;
  /** The folder of CNI plugin files. */
  readonly cniDir: string;
  /** The stand-ins' call log. */
  readonly log: string;
  /** The calls logged so far, each an argv. */
  calls(): string[][];
  /** Clears the stand-ins' switches and the call log, then sets `env`. */
  reset(env?: Record<string, string>): void;
}

export function useKindStandins(prefix: string): KindStandinRun {
  const originalPath = process.env['PATH'] ?? '';
  let work = '';
  const run: KindStandinRun = {
    get work() {
      return work;
    },
    get cniDir() {
      return join(work, 'cni-bin');
    },
    get log() {
      return join(work, 'calls.log');
    },
    calls() {
      if (!existsSync(run.log)) return [];
      return readFileSync(run.log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(STANDIN_SEP));
    },
    reset(env = {}) {
      for (const k of SWITCHES) delete process.env[k];
      Object.assign(process.env, env);
      if (existsSync(run.log)) rmSync(run.log);
    },
  };
  before(async () => {
    work = await mkdtemp(join(tmpdir(), prefix));
    await mkdir(run.cniDir);
    for (const plugin of ['bridge', 'portmap', 'host-local']) {
      await writeFile(join(run.cniDir, plugin), '#!/bin/sh\n');
      await chmod(join(run.cniDir, plugin), 0o755);
    }
    process.env['PATH'] = `${STANDINS}${delimiter}${originalPath}`;
    process.env['PP_STANDIN_LOG'] = run.log;
  });
  after(async () => {
    process.env['PATH'] = originalPath;
    delete process.env['PP_STANDIN_LOG'];
    for (const k of SWITCHES) delete process.env[k];
    await rm(work, { recursive: true, force: true });
  });
  return run;
}
