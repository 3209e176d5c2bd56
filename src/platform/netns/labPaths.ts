/**
 * Where the offline labs keep their state: one folder, root-only, holding the run
 * records (what each run made), the per-lab locks and the BIRD files.
 */
import path from 'node:path';
import { LAB_PREFIX } from '../../core/labs/runRecord';

/** Run records, locks, and the control sockets, configs and logs of lab daemons. */
export const LAB_RUN_DIR = '/run/pp-lab';
/** One `<runId>.json` per run that has not been torn down. */
export const RUNS_DIR = path.join(LAB_RUN_DIR, 'runs');

/** `/run/pp-lab/pp-fv.lock`: the process that holds the lab (see labLocks.ts). */
export function lockPath(short: string): string {
  return path.join(LAB_RUN_DIR, `${LAB_PREFIX}${short}.lock`);
}

/** `/run/pp-lab/runs/<runId>.json`. */
export function runRecordPath(runId: string): string {
  return path.join(RUNS_DIR, `${runId}.json`);
}

/** BIRD's files for the node namespace `ns`. */
export function birdFiles(ns: string): { conf: string; socket: string; log: string } {
  return {
    conf: path.join(LAB_RUN_DIR, `${ns}.bird.conf`),
    socket: path.join(LAB_RUN_DIR, `${ns}.ctl`),
    log: path.join(LAB_RUN_DIR, `${ns}.bird.log`),
  };
}
