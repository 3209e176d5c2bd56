/**
 * `podpath bench`: builds a 1,000,000-packet pcap from the fixture captures,
 * renders it with tcpdump, and times tcpdump, our pcap decoder and our text
 * parser in the same run; then times hop correlation of 8 hops × 100,000 packets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatBenchResult, runCaptureBench } from '../platform/bench/captureBench';
import { runCorrelationBench } from '../platform/bench/correlationBench';
import type { CliIo } from './captureCommands';
import { parseArgs } from './captureCommands';
import { UsageError } from './table';

export async function runBenchCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, {
    flags: ['json', 'keep'],
    options: ['packets', 'fixtures', 'work'],
  });
  if (parsed.positional.length > 0) throw new UsageError('podpath bench takes no FILE');
  const packets = Number(parsed.options.get('packets') ?? 1_000_000);
  if (!Number.isInteger(packets) || packets < 1) {
    throw new UsageError('--packets needs a positive whole number');
  }
  // dist/cli.js sits one folder below the repository root, next to test/fixtures.
  const fixturesDir = resolve(
    parsed.options.get('fixtures') ?? join(__dirname, '..', 'test', 'fixtures', 'netns'),
  );
  const workDir = parsed.options.get('work') ?? mkdtempSync(join(tmpdir(), 'podpath-bench-'));
  const json = parsed.flags.has('json');
  try {
    const result = await runCaptureBench({
      packets,
      fixturesDir,
      workDir,
      onProgress: (m) => io.stderr(`${m}\n`),
      extraTimings: async () => {
        io.stderr('Correlating 8 hops × 100,000 synthetic packets\n');
        const c = runCorrelationBench(8, 100_000);
        return { 'correlate 8×100k': c.correlateMs };
      },
    });
    io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : `${formatBenchResult(result)}\n`);
    return 0;
  } finally {
    if (!parsed.flags.has('keep') && !parsed.options.has('work')) {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
}
