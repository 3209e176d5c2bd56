import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBenchResult, runCaptureBench } from '../../src/platform/bench/captureBench';
import { ToolError } from '../../src/platform/exec/runner';

test('a small capture bench: every generated packet is decoded and parsed back', async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), 'pp-bench-'));
  try {
    const extra = { called: 0 };
    const r = await runCaptureBench({
      packets: 3000,
      fixturesDir: join(__dirname, '../fixtures/netns'),
      workDir,
      extraTimings: async ({ pcapPath }) => {
        extra.called++;
        return { 'probe timing': statSync(pcapPath).size > 0 ? 1 : 0 };
      },
    }).catch((err: unknown) => {
      if (err instanceof ToolError && err.kind === 'not-found') return undefined;
      throw err;
    });
    if (!r) return t.skip('tcpdump not installed');
    assert.equal(r.sourceFiles, 28);
    assert.equal(r.sourcePackets, 177);
    assert.equal(r.decodedPackets, 3000);
    assert.equal(r.decodeIssues, 0);
    assert.equal(r.parsedPackets, 3000, 'the text parser reads every packet tcpdump -v printed');
    assert.equal(statSync(r.pcapPath).size, r.pcapBytes);
    assert.equal(statSync(r.textPath).size, r.textBytes);
    assert.ok(r.tcpdumpMs > 0 && Number.isFinite(r.decodeRatio) && Number.isFinite(r.parseRatio));
    assert.equal(r.decodeTarget, 0.25);
    assert.equal(r.parseTarget, 0.6);
    assert.equal(extra.called, 1);
    assert.deepEqual(r.extra, { 'probe timing': 1 });
    assert.match(formatBenchResult(r), /pcap decode .* ratio/);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});
