// Shared plumbing for the real-workbench tests (scripts/e2e/runWorkbenchTests.ts and the
// Playwright UI test in test/e2e/): a code-server process with every state folder in a scratch
// dir, started in its own session so the whole process group (server, extension host, pty
// host…) can be killed at the end, and Debian's Chromium driven by playwright-core.
// Why each setting exists: ../../../shared/E2E-RECIPE.md.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

export const codeServerVersion = process.env['CODE_SERVER_VERSION'] ?? '4.100.3';
export const cacheDir = process.env['PODPATH_CACHE'] ?? join(homedir(), '.cache', 'podpath');
export const chromiumPath = process.env['PODPATH_CHROMIUM'] ?? '/usr/bin/chromium';

/** Where installWorkbench.sh puts code-server unless CODE_SERVER names another binary. */
export function codeServerBin(): string {
  return (
    process.env['CODE_SERVER'] ??
    join(cacheDir, `code-server-${codeServerVersion}`, 'node_modules', '.bin', 'code-server')
  );
}

/**
 * Makes sure code-server is installed (installWorkbench.sh is idempotent and takes about a
 * second when the install is already good). Throws with the installer's exit status otherwise.
 */
export function ensureCodeServer(repoRoot: string): string {
  if (process.env['PODPATH_SKIP_INSTALL'] !== '1') {
    const script = join(repoRoot, 'scripts', 'e2e', 'installWorkbench.sh');
    const result = spawnSync('bash', [script], { stdio: 'inherit' });
    if (result.status !== 0) {
      throw new Error(`${script} failed (exit ${String(result.status ?? result.signal)})`);
    }
  }
  const bin = codeServerBin();
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) {
    const why = probe.error?.message ?? (probe.stderr.trim() || `exit ${String(probe.status)}`);
    throw new Error(`code-server does not run: ${bin} --version -> ${why}`);
  }
  return bin;
}

/** Isolated state folders for one code-server + browser run. */
export interface Scratch {
  dir: string;
  tmp: string;
  userDataDir: string;
  extensionsDir: string;
  browserProfile: string;
  env: NodeJS.ProcessEnv;
}

/** Creates the scratch folders and the user settings the recipe asks for. */
export function makeScratch(label: string): Scratch {
  const base = join(cacheDir, 'runs');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, `${label}-`));
  const sub = (name: string): string => {
    const path = join(dir, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const scratch: Scratch = {
    dir,
    tmp: sub('tmp'),
    userDataDir: sub('user-data'),
    extensionsDir: sub('extensions'),
    browserProfile: sub('browser'),
    env: {},
  };
  scratch.env = {
    ...process.env,
    TMPDIR: scratch.tmp,
    XDG_CONFIG_HOME: sub('config'),
    XDG_DATA_HOME: sub('data'),
    XDG_CACHE_HOME: sub('cache'),
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
  };
  mkdirSync(join(scratch.userDataDir, 'User'), { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'update.mode': 'none',
    'git.enabled': false,
  };
  writeFileSync(
    join(scratch.userDataDir, 'User', 'settings.json'),
    JSON.stringify(settings, null, 2),
  );
  return scratch;
}

/** Removes a scratch dir unless PODPATH_KEEP_SCRATCH=1 (for looking at logs afterwards). */
export function removeScratch(scratch: Scratch): void {
  if (process.env['PODPATH_KEEP_SCRATCH'] === '1') return;
  rmSync(scratch.dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Installs a .vsix into the scratch extensions dir with code-server's own CLI. */
export function installVsix(bin: string, scratch: Scratch, vsix: string): void {
  const result = spawnSync(
    bin,
    [
      '--user-data-dir',
      scratch.userDataDir,
      '--extensions-dir',
      scratch.extensionsDir,
      '--install-extension',
      resolve(vsix),
      '--force',
    ],
    { env: scratch.env, encoding: 'utf8', timeout: 120_000 },
  );
  if (result.status !== 0) {
    throw new Error(
      `code-server --install-extension ${vsix} failed (exit ${String(result.status ?? result.signal)}):\n` +
        `${result.stdout}\n${result.stderr}`,
    );
  }
}

/** A running code-server; stop() kills its whole process group. */
export interface CodeServer {
  pid: number;
  port: number;
  origin: string;
  stop(): Promise<void>;
}

const liveGroups = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

// If the runner itself is interrupted, the extension host must not live on for hours.
function killAllGroups(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
}
process.once('exit', killAllGroups);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAllGroups();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts code-server in a new session (setsid through `detached`) on a free port, logging to
 * logFile, and waits for GET /healthz. Throws with the log's tail if it does not come up.
 */
export async function startCodeServer(options: {
  bin: string;
  scratch: Scratch;
  workspace: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}): Promise<CodeServer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const log = openSync(options.logFile, 'w');
  const child = spawn(
    options.bin,
    [
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      options.scratch.userDataDir,
      '--extensions-dir',
      options.scratch.extensionsDir,
      options.workspace,
    ],
    {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...options.scratch.env, ...options.env },
    },
  );
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.bin}`);
  liveGroups.add(pid);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exit ${String(code ?? signal)}`;
  });
  const stop = async (): Promise<void> => {
    killGroup(pid, 'SIGTERM');
    for (let i = 0; i < 20 && groupAlive(pid); i++) await sleep(100);
    killGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    try {
      const response = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return { pid, port, origin, stop };
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  await stop();
  throw new Error(
    `code-server did not answer ${origin}/healthz` +
      (exited ? ` (it ended: ${exited})` : ' in time') +
      `; its log: ${options.logFile}`,
  );
}

/** Debian's Chromium with the recipe's flags, a fresh profile, a fixed window size. */
export function launchBrowser(scratch: Scratch): Promise<BrowserContext> {
  return chromium.launchPersistentContext(scratch.browserProfile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1440, height: 900 },
    timeout: 60_000,
    env: scratch.env as Record<string, string>,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * The workbench URL for a folder; with `development`, also the payload that makes the
 * workbench load an extension from a path and run its tests (authority = the Host header).
 */
export function workbenchUrl(
  server: CodeServer,
  folder: string,
  development?: { extensionPath: string; testsPath: string },
): string {
  const url = new URL(server.origin + '/');
  url.searchParams.set('folder', folder);
  if (development) {
    const remote = (path: string): string => `vscode-remote://127.0.0.1:${server.port}${path}`;
    url.searchParams.set(
      'payload',
      JSON.stringify([
        ['extensionDevelopmentPath', remote(development.extensionPath)],
        ['extensionTestsPath', remote(development.testsPath)],
      ]),
    );
  }
  return url.toString();
}

/**
 * Kills everything after ms unless cancelled: the outer bound when something inside Playwright
 * hangs (SIGTERM from `timeout` may not stop it). onExpire runs first (write counts, say why).
 */
export function watchdog(ms: number, onExpire: () => void): () => void {
  const timer = setTimeout(() => {
    try {
      onExpire();
    } finally {
      killAllGroups();
      process.exit(124);
    }
  }, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/** The counts file every test stage writes, read by scripts/summarize.mjs. */
export interface StageCounts {
  stage: string;
  passed: number;
  failed: number;
  skipped: number;
  skipReasons: string[];
  failures?: string[];
}

export function writeCounts(repoRoot: string, counts: StageCounts): void {
  const dir = join(repoRoot, 'test-results', 'counts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${counts.stage}.json`), JSON.stringify(counts, null, 2) + '\n');
}

/** A workbench a UI test drives: code-server with the VSIX installed, and Chromium on it. */
export interface OpenWorkbench {
  server: CodeServer;
  browser: BrowserContext;
  page: Page;
}

/**
 * Installs the VSIX into the scratch profile, starts code-server on `workspace` (logging to
 * logFile, with `env` added to its environment) and opens the workbench in Chromium (pages
 * wait 30 s by default). Whatever started is stopped again if a later step fails.
 */
export async function openWorkbench(options: {
  bin: string;
  scratch: Scratch;
  vsix: string;
  workspace: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
}): Promise<OpenWorkbench> {
  installVsix(options.bin, options.scratch, options.vsix);
  const server = await startCodeServer(options);
  let browser: BrowserContext | undefined;
  try {
    browser = await launchBrowser(options.scratch);
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(30_000);
    await page.goto(workbenchUrl(server, options.workspace), { timeout: 60_000 });
    return { server, browser, page };
  } catch (err) {
    await browser?.close().catch(() => undefined);
    await server.stop();
    throw err;
  }
}

/** Closes the browser, stops code-server and removes the scratch folder (each if there). */
export async function closeWorkbench(
  open: Partial<OpenWorkbench> | undefined,
  scratch: Scratch | undefined,
): Promise<void> {
  await open?.browser?.close().catch(() => undefined);
  await open?.server?.stop();
  if (scratch) removeScratch(scratch);
}
