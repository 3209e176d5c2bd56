/**
 * `podpath bench`: times the person's path. `podpath analyze --json` runs end to end, in
 * its own process, over 8 hop files of 1,000,000 packets each (pcap, then tcpdump -v
 * text), against `tcpdump -nn -v -r` over the same files in the same run, with peak
 * memory from the OS; then the panel's packet table on one hop (first page, a jump, a
 * filter). The old figure — decoding and parsing into a sink, no analysis — stays as a
 * line of its own. `--packets N` (or PODPATH_BENCH_PACKETS) makes a quicker, smaller run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatAnalyzeBench, runAnalyzeBench } from '../platform/bench/analyzeBench';
import { timedRead } from '../platform/bench/captureBench';
import type { CliIo } from './captureCommands';
import { parseArgs } from './captureCommands';
import { UsageError } from './table';

export async function runBenchCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, {
    flags: ['json', 'keep'],
    options: ['packets', 'fixtures', 'work'],
  });
  if (parsed.positional.length > 0) throw new UsageError('podpath bench takes no FILE');
  const packets = Number(
    parsed.options.get('packets') ?? process.env.PODPATH_BENCH_PACKETS ?? 1_000_000,
  );
  if (!Number.isInteger(packets) || packets < 1) {
    throw new UsageError('--packets needs a positive whole number');
  }
  // dist/cli.js sits one folder below the repository root, next to test/fixtures.
  const hopFixturesDir = resolve(
    parsed.options.get('fixtures') ??
      join(__dirname, '..', 'test', 'fixtures', 'netns', 'flannel-vxlan'),
  );
  const workDir = parsed.options.get('work') ?? mkdtempSync(join(tmpdir(), 'podpath-bench-'));
  const json = parsed.flags.has('json');
  try {
    const result = await runAnalyzeBench({
      packets,
      hopFixturesDir,
      workDir,
      cliPath: process.argv[1] ?? join(__dirname, 'cli.js'),
      onProgress: (m) => io.stderr(`${m}\n`),
    });
    // The old figure: one hop decoded / parsed into a sink, nothing kept, no analysis.
    io.stderr('sink timings (decode and parse only) on one hop\n');
    const hop = join(workDir, '04-nodeA-eth0');
    const decode = await timedRead(`${hop}.pcap`, undefined);
    const parse = await timedRead(`${hop}.txt`, undefined);
    const perHopTcpdump = result.tcpdump.ms / result.hops;
    const sink = {
      decodeMs: decode.ms,
      parseMs: parse.ms,
      decodeRatio: decode.ms / perHopTcpdump,
      parseRatio: parse.ms / perHopTcpdump,
    };
    if (json) {
      io.stdout(`${JSON.stringify({ ...result, sink }, null, 2)}\n`);
    } else {
      io.stdout(
        `${formatAnalyzeBench(result)}\n` +
          `sink only (old)    one hop: pcap decode ${(decode.ms / 1000).toFixed(2)} s (${sink.decodeRatio.toFixed(3)} × tcpdump), text parse ${(parse.ms / 1000).toFixed(2)} s (${sink.parseRatio.toFixed(3)} × tcpdump), no analysis\n`,
      );
    }
    return 0;
  } finally {
    if (!parsed.flags.has('keep') && !parsed.options.has('work')) {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
}
