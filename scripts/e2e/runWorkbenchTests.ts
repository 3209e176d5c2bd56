// Runs the extension's Mocha suite (test/integration) inside code-server's real extension host:
// builds the extension and the suite, starts an isolated code-server, opens the workbench with
// the `payload` that loads Podpath from this repo as a development extension and runs
// out/test/integration/index.js, relays Mocha's output, and writes
// test-results/counts/workbench.json. Anything that stops the suite from running is a failure.
// Usage: node --import tsx scripts/e2e/runWorkbenchTests.ts [repoRoot]
// Env: PODPATH_WORKBENCH_TIMEOUT_MS (whole run, default 600000), PODPATH_KEEP_SCRATCH=1,
// CODE_SERVER_VERSION (which install, default 4.100.3), PODPATH_STAGE (the counts' stage name
// and results folder, default workbench; scripts/test.sh names one per VS Code version).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import type { CodeServer, Scratch, StageCounts } from './workbench';
import {
  codeServerVersion,
  ensureCodeServer,
  launchBrowser,
  makeScratch,
  removeScratch,
  startCodeServer,
  watchdog,
  workbenchUrl,
  writeCounts,
} from './workbench';

const stage = process.env['PODPATH_STAGE'] ?? 'workbench';
const repoRoot = resolve(process.argv[2] ?? '.');
const resultsDir = join(repoRoot, 'test-results', stage);
const mochaLog = join(resultsDir, 'mocha.log');
const totalTimeoutMs = Number(process.env['PODPATH_WORKBENCH_TIMEOUT_MS'] ?? 600_000);
const started = Date.now();

// Workbench log lines that say nothing about the suite (offline marketplace, connection setup).
const noise =
  /open-vsx|ENOTFOUND|vsda|^Creating a socket|^Resolv(ing|ed) connection token|^\[Service Worker\]|^Updating additional builtin|^ChatSessionStore/;

function fail(reason: string, counts?: Partial<StageCounts>): StageCounts {
  return {
    stage,
    passed: counts?.passed ?? 0,
    failed: Math.max(1, counts?.failed ?? 0),
    skipped: counts?.skipped ?? 0,
    skipReasons: counts?.skipReasons ?? [],
    failures: [...(counts?.failures ?? []), reason],
  };
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${String(result.status)})`);
  }
}

async function runSuite(scratch: Scratch): Promise<StageCounts> {
  run(process.execPath, ['esbuild.mjs']);
  if (!existsSync(join(repoRoot, 'dist', 'extension.js'))) {
    return fail('dist/extension.js was not built (is there a src/extension.ts?)');
  }
  run(process.execPath, ['scripts/e2e/buildIntegration.mjs', repoRoot]);
  const bin = ensureCodeServer(repoRoot);

  const countsFile = join(scratch.dir, 'mocha-counts.json');
  let server: CodeServer | undefined;
  let browser: BrowserContext | undefined;
  try {
    server = await startCodeServer({
      bin,
      scratch,
      workspace: join(repoRoot, 'test', 'fixtures', 'workspace'),
      logFile: join(resultsDir, 'code-server.log'),
      // The extension host inherits the server's environment: index.ts reads these.
      env: { PODPATH_COUNTS_FILE: countsFile, PODPATH_STAGE: stage },
    });
    console.log(
      `${stage}: code-server ${codeServerVersion} ${server.origin} up after ${Date.now() - started} ms`,
    );
    browser = await launchBrowser(scratch);
    const page = browser.pages()[0] ?? (await browser.newPage());

    let exitCode: number | undefined;
    const exited = new Promise<number>((resolveExit) => {
      void page.exposeFunction('codeAutomationExit', (code: number, logs?: unknown) => {
        exitCode = code;
        if (Array.isArray(logs)) {
          writeFileSync(join(resultsDir, 'workbench-logs.json'), JSON.stringify(logs, null, 1));
        }
        resolveExit(code);
      });
    });
    await page.exposeFunction('codeAutomationLog', (level: string, message: string) => {
      const text = String(message).replace(/\n$/, '');
      appendFileSync(mochaLog, `${text}\n`);
      if (noise.test(text)) return;
      if (level === 'error' || level === 'warn') console.error(text);
      else console.log(text);
    });
    page.on('pageerror', (err) => appendFileSync(mochaLog, `[pageerror] ${err.message}\n`));

    const url = workbenchUrl(server, join(repoRoot, 'test', 'fixtures', 'workspace'), {
      extensionPath: repoRoot,
      testsPath: join(repoRoot, 'out', 'test', 'integration', 'index'),
    });
    await page.goto(url, { timeout: 60_000 });
    const remaining = totalTimeoutMs - (Date.now() - started) - 15_000;
    const timedOut = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), remaining));
    const outcome = await Promise.race([exited, timedOut]);
    if (outcome === 'timeout') {
      await page.screenshot({ path: join(resultsDir, 'timeout.png') }).catch(() => undefined);
      return fail(`the suite did not finish within ${Math.round(totalTimeoutMs / 1000)} s`);
    }
    console.log(`workbench: extension host exited with code ${String(exitCode)}`);

    if (!existsSync(countsFile)) {
      return fail(
        `the extension host exited (code ${String(exitCode)}) without running the suite; ` +
          `see ${mochaLog} and test-results/${stage}/code-server.log`,
      );
    }
    const counts = JSON.parse(readFileSync(countsFile, 'utf8')) as StageCounts;
    counts.stage = stage;
    if (exitCode !== 0 && counts.failed === 0) {
      return fail(`extension host exit code ${String(exitCode)} with no failed test`, counts);
    }
    return counts;
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
  }
}

async function main(): Promise<void> {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(mochaLog, '');
  // If this process is killed from outside, the stage still counts as failed.
  writeCounts(repoRoot, fail('the workbench runner did not finish'));
  const scratch = makeScratch('workbench');
  const cancel = watchdog(totalTimeoutMs, () => {
    writeCounts(repoRoot, fail(`watchdog: no result within ${totalTimeoutMs / 1000} s`));
    console.error('workbench: watchdog expired; killed code-server and the browser');
  });
  let counts: StageCounts;
  try {
    counts = await runSuite(scratch);
  } catch (err) {
    counts = fail(err instanceof Error ? err.message : String(err));
  } finally {
    cancel();
    removeScratch(scratch);
  }
  writeCounts(repoRoot, counts);
  for (const reason of counts.skipReasons) console.log(`skipped: ${reason}`);
  for (const failure of counts.failures ?? []) console.error(`failed: ${failure}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `${stage}: ${counts.passed} passed, ${counts.failed} failed` +
      `${counts.skipped ? `, ${counts.skipped} skipped` : ''} (${seconds} s)`,
  );
  process.exit(counts.failed > 0 ? 1 : 0);
}

void main();
