// Test-electron style entry point for the extension's Mocha suite: VS Code loads this file in
// the extension host (desktop via --extensionTestsPath, code-server via the `payload` URL) and
// awaits run(). It runs every compiled suite/**/*.test.js with the tdd interface and records
// pass/fail/skip counts as JSON, because the workbench runner only sees an exit code and text.
// Suite files use Mocha's globals (suite/test/setup…); mocha is bundled into this file only.
import Mocha from 'mocha';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { format } from 'node:util';

/** Pass/fail/skip counts in the shape scripts/summarize.mjs reads. */
export interface SuiteCounts {
  stage: string;
  passed: number;
  failed: number;
  skipped: number;
  skipReasons: string[];
  failures: string[];
}

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

function writeCounts(counts: SuiteCounts): void {
  // The workbench runner passes a scratch path; a manual run (launch.json) writes beside the
  // other results but outside test-results/counts/, so summarize.mjs never counts it twice.
  const root = resolve(__dirname, '..', '..', '..');
  const file =
    process.env['PODPATH_COUNTS_FILE'] ?? join(root, 'test-results', 'extension-host.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(counts, null, 2) + '\n');
}

/** Runs the suite; resolves when every test passed, rejects with the failure count otherwise. */
export function run(): Promise<void> {
  const timeout = Number(process.env['PODPATH_MOCHA_TIMEOUT'] ?? 30_000);
  // Reporters log printf-style (console.log('%s%s', …)); code-server forwards the raw arguments
  // to codeAutomationLog, so hand it finished lines instead.
  Mocha.reporters.Base.consoleLog = (...data: unknown[]) => console.log(format(...data));
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout, reporter: 'spec' });
  const suiteDir = join(__dirname, 'suite');
  const files = findTests(suiteDir);
  for (const file of files) mocha.addFile(file);
  const stage = process.env['PODPATH_STAGE'] ?? 'extension-host';
  const counts: SuiteCounts = {
    stage,
    passed: 0,
    failed: 0,
    skipped: 0,
    skipReasons: [],
    failures: [],
  };

  return new Promise<void>((resolvePromise, reject) => {
    if (files.length === 0) {
      counts.failed = 1;
      counts.failures.push(`no *.test.js under ${relative(process.cwd(), suiteDir) || suiteDir}`);
      writeCounts(counts);
      reject(new Error(`No compiled tests found under ${suiteDir}`));
      return;
    }
    try {
      const runner = mocha.run((failures) => {
        writeCounts(counts);
        if (failures > 0) reject(new Error(`${failures} test(s) failed.`));
        else resolvePromise();
      });
      runner.on('pass', () => {
        counts.passed += 1;
      });
      runner.on('fail', (runnable, err: Error) => {
        counts.failed += 1;
        counts.failures.push(`${runnable.fullTitle()}: ${err.message}`);
      });
      runner.on('pending', (test) => {
        // Mocha has no skip reason: a test that skips puts the reason in its title or in a
        // `skipReason` property it sets on itself before calling this.skip().
        counts.skipped += 1;
        const reason = (test as Mocha.Test & { skipReason?: string }).skipReason;
        counts.skipReasons.push(reason ? `${test.fullTitle()}: ${reason}` : test.fullTitle());
      });
    } catch (err) {
      counts.failed += 1;
      counts.failures.push(`mocha could not run: ${String(err)}`);
      writeCounts(counts);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
