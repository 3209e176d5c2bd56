// UI test in a real workbench: installs the packaged podpath-<version>.vsix into an isolated
// code-server, opens the fixture workspace in Debian's Chromium through playwright-core, and
// does what a person does: opens the Podpath view, opens a manifest and clicks its CodeLens,
// analyzes the fixture capture folder, and runs the flannel-vxlan lab from the Labs view. The
// panel beside the editor must show the Mermaid diagram and the packet table. Screenshots go to
// test-results/screenshots/ (a failing check also saves failed-<check>.png there).
// Run: npm run test:ui (packages first). Needs scripts/e2e/installWorkbench.sh (run on demand).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import type { CodeServer, Scratch } from '../../scripts/e2e/workbench';
import {
  ensureCodeServer,
  installVsix,
  launchBrowser,
  makeScratch,
  removeScratch,
  startCodeServer,
  watchdog,
  workbenchUrl,
} from '../../scripts/e2e/workbench';

// PODPATH_REPO_ROOT: test another checkout (or a packaging experiment) with this file.
const repoRoot = resolve(process.env['PODPATH_REPO_ROOT'] ?? join(__dirname, '..', '..'));
const workspace = join(repoRoot, 'test', 'fixtures', 'workspace');
const captureFolder = join(workspace, 'captures', 'flannel-vxlan');
const shots = join(repoRoot, 'test-results', 'screenshots');
const logDir = join(repoRoot, 'test-results', 'ui');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
const vsix = join(repoRoot, `podpath-${manifest.version}.vsix`);
/** Participants of the Flannel VXLAN cross-node datapath, in the order packets meet them. */
const flannelParticipants = ['podA', 'nodeA', 'nodeB', 'podB'];
const isRoot = process.getuid?.() === 0;

let scratch: Scratch | undefined;
let server: CodeServer | undefined;
let browser: BrowserContext | undefined;
let page: Page | undefined;

// Outer bound for everything in this file, whatever hangs inside Playwright.
const cancelWatchdog = watchdog(Number(process.env['PODPATH_UI_TIMEOUT_MS'] ?? 480_000), () =>
  console.error('ui: watchdog expired; killing code-server and the browser'),
);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function workbench(): Page {
  assert.ok(page, 'the workbench did not open (see the first failure)');
  return page;
}

async function shot(name: string, target?: Locator): Promise<void> {
  const path = join(shots, `${name}.png`);
  if (target) await target.screenshot({ path });
  else await workbench().screenshot({ path });
}

/** Runs one check; on failure saves failed-<name>.png so the state can be looked at. */
async function check(name: string, body: (p: Page) => Promise<void>): Promise<void> {
  const p = workbench();
  try {
    await body(p);
  } catch (err) {
    await p.screenshot({ path: join(shots, `failed-${name}.png`) }).catch(() => undefined);
    throw err;
  }
}

/** Polls until fn returns a value (not undefined) or throws the last reason after ms. */
async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    }
    await sleep(300);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (${last})` : ''}`);
}

/** Opens the quick input with F1 (retrying: focus may sit in a webview), typed text replaces it. */
async function quickInput(p: Page, text: string): Promise<Locator> {
  const input = p.locator('.quick-input-widget input.input');
  for (let attempt = 0; ; attempt++) {
    await p.keyboard.press('Escape');
    await p.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      break;
    } catch (err) {
      if (attempt === 2) throw err;
      // Move the focus back to the workbench (out of a webview iframe) and try again.
      await p.locator('.part.statusbar').click({ position: { x: 2, y: 2 } });
    }
  }
  await input.fill(text);
  return input;
}

/** Runs a palette command by its title (category `Podpath: ` added here). */
async function runCommand(p: Page, title: string): Promise<void> {
  await quickInput(p, `>Podpath: ${title}`);
  const row = p
    .locator('.quick-input-widget .monaco-list-row')
    .filter({ hasText: `Podpath: ${title}` })
    .first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await row.click();
}

/** Opens a workspace file through Quick Open, as a person would. */
async function openFile(p: Page, relativePath: string): Promise<void> {
  const name = relativePath.split('/').pop() ?? relativePath;
  await quickInput(p, relativePath);
  const row = p.locator('.quick-input-widget .monaco-list-row').filter({ hasText: name }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  await p.keyboard.press('Enter');
  await p
    .locator('.tabs-container .tab.active', { hasText: name })
    .first()
    .waitFor({ state: 'visible', timeout: 15_000 });
}

/** The visible Podpath panel's document: the webview's outer iframe, then its active frame. */
function panelFrame(p: Page): FrameLocator {
  return p
    .locator('iframe.webview.ready')
    .filter({ visible: true })
    .last()
    .contentFrame()
    .frameLocator('#active-frame');
}

/** The Mermaid diagram in the panel, once its text names every participant. */
async function waitForDiagram(p: Page, participants: string[], ms: number): Promise<Locator> {
  const svg = panelFrame(p)
    .locator('svg[id^="mermaid"], .mermaid svg, svg[aria-roledescription]')
    .first();
  await until(`a diagram naming ${participants.join(', ')}`, ms, async () => {
    const text = (await svg.textContent({ timeout: 1_000 })) ?? '';
    // Mermaid's <text> elements have no separators between them: match substrings.
    const missing = participants.filter((name) => !text.includes(name));
    if (missing.length) throw new Error(`the diagram lacks ${missing.join(', ')}`);
    return true;
  });
  return svg;
}

/** The panel's packet table, once it has at least minRows data rows; returns its text. */
async function waitForPacketTable(p: Page, minRows: number, ms: number): Promise<Locator> {
  const frame = panelFrame(p);
  const table = frame.locator('vscode-data-grid, table').first();
  await until(`a packet table with ${minRows}+ rows`, ms, async () => {
    const rows = await frame
      .locator(
        'vscode-data-grid-row:not([row-type="header"]):not([row-type="sticky-header"]), tbody tr',
      )
      .count();
    if (rows < minRows) throw new Error(`the packet table has ${rows} row(s)`);
    return true;
  });
  return table;
}

/** Closes every editor and panel, so that what a check sees next is new. */
async function closeAllEditors(p: Page): Promise<void> {
  await quickInput(p, '>View: Close All Editors');
  await p
    .locator('.quick-input-widget .monaco-list-row')
    .filter({ hasText: /^View: Close All Editors/ })
    .first()
    .click();
  await until('every editor to close', 10_000, async () =>
    (await p.locator('iframe.webview').filter({ visible: true }).count()) === 0 &&
    (await p.locator('.tabs-container .tab').count()) === 0
      ? true
      : undefined,
  );
}

/** The sidebar pane of a Podpath view, expanded. */
async function openView(p: Page, name: string): Promise<Locator> {
  const sidebar = p.locator('.part.sidebar');
  const title = p.locator('.pane-header', { hasText: new RegExp(`^${name}`, 'i') });
  const header = sidebar.locator('.pane-header', { hasText: new RegExp(`^${name}`, 'i') }).first();
  await header.waitFor({ state: 'visible' });
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  return sidebar.locator('.pane', { has: title });
}

describe('Podpath in a real workbench (code-server + Chromium)', { timeout: 420_000 }, () => {
  before(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    mkdirSync(logDir, { recursive: true });
    assert.ok(existsSync(vsix), `${vsix} is missing: run npm run package first`);
    const bin = ensureCodeServer(repoRoot);
    scratch = makeScratch('ui');
    installVsix(bin, scratch, vsix);
    server = await startCodeServer({
      bin,
      scratch,
      workspace,
      logFile: join(logDir, 'code-server.log'),
      // The Clusters view reads the fixture kubeconfig, as a user's KUBECONFIG.
      env: { KUBECONFIG: join(workspace, 'kubeconfig') },
    });
    browser = await launchBrowser(scratch);
    const p = browser.pages()[0] ?? (await browser.newPage());
    p.setDefaultTimeout(30_000);
    await p.goto(workbenchUrl(server, workspace), { timeout: 60_000 });
    page = p;
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (scratch) removeScratch(scratch);
    cancelWatchdog();
  });

  test('the Podpath view opens and lists the fixture kubeconfig contexts', () =>
    check('tree', async (p) => {
      // The activity-bar item appears only once the installed extension is registered.
      const item = p.locator('.activitybar').getByRole('tab', { name: /^Podpath/ });
      await item.waitFor({ state: 'visible', timeout: 90_000 });
      await item.click();
      const sidebar = p.locator('.part.sidebar');
      const clusters = await openView(p, 'Clusters');
      for (const context of ['kind-podpath', 'staging', 'calico-lab']) {
        await clusters
          .locator('.monaco-list-row')
          .filter({ hasText: context })
          .first()
          .waitFor({ state: 'visible' });
      }
      await shot('tree', sidebar);
    }));

  test('the Flannel ConfigMap CodeLens opens the datapath diagram beside the YAML', () =>
    check('codelens', async (p) => {
      await openFile(p, 'manifests/flannel-configmap.yaml');
      const lens = p
        .locator('.monaco-editor .codelens-decoration a')
        .filter({ hasText: /^Podpath:.*flannel/i })
        .first();
      await lens.waitFor({ state: 'visible', timeout: 30_000 });
      await lens.click();

      const svg = await waitForDiagram(p, flannelParticipants, 30_000);
      // Beside, not instead of: the YAML stays open in another editor group.
      assert.ok(
        (await p.locator('.editor-group-container').count()) >= 2,
        'the panel did not open beside the editor',
      );
      await p
        .locator('.editor-group-container .tab', { hasText: 'flannel-configmap.yaml' })
        .first()
        .waitFor({ state: 'visible' });
      await sleep(500); // let Mermaid finish its layout before the picture
      await shot('panel-beside-yaml');
      await shot('diagram-beside-yaml', svg);
    }));

  test('analyzing the fixture capture folder shows the packet table', () =>
    check('analyze', async (p) => {
      await closeAllEditors(p);
      await runCommand(p, 'Analyze capture files…');
      // code-server's open dialog is VS Code's simple file dialog: a path in a quick input.
      // It fills in its starting folder itself, after it opens: wait for that, then replace
      // it. A folder path with a trailing slash is accepted as the folder by Enter.
      const input = p.locator('.quick-input-widget input.input');
      await until('the file dialog', 15_000, async () =>
        (await input.inputValue()).startsWith('/') ? true : undefined,
      );
      const target = `${captureFolder}/`;
      await until(`the file dialog to show ${target}`, 15_000, async () => {
        if ((await input.inputValue()) === target) return true;
        await input.fill(target);
        await sleep(300);
        return undefined;
      });
      await p.locator('.quick-input-widget .monaco-list-row', { hasText: '01-podA' }).waitFor();
      await p.keyboard.press('Enter');
      // Podpath then asks which datapath plan to compare with: the one matching the hop names.
      const title = p.locator('.quick-input-widget .quick-input-title');
      const planChoice = async (): Promise<true | undefined> =>
        /hops, in this order/.test((await title.textContent({ timeout: 1_000 })) ?? '')
          ? true
          : undefined;
      try {
        await until('the plan choice after the file dialog', 5_000, planChoice);
      } catch {
        // Still the file dialog (one that accepts files only): use its Analyze button.
        await p
          .locator('.quick-input-widget .monaco-button', { hasText: 'Analyze' })
          .click({ timeout: 2_000 })
          .catch(() => undefined);
        await until('the plan choice after the file dialog', 15_000, planChoice);
      }
      const choice = p
        .locator('.quick-input-widget .monaco-list-row', { hasText: /^Analyze against .*VXLAN/i })
        .first();
      await choice.waitFor({ state: 'visible' });
      await choice.click();

      const svg = await waitForDiagram(p, flannelParticipants, 60_000);
      const table = await waitForPacketTable(p, 2, 30_000);
      const tableText = (await table.textContent()) ?? '';
      assert.match(tableText, /ICMP/i, 'the packet table shows no ICMP packet');
      assert.match(tableText, /10\.244\.\d+\.\d+/, 'the packet table shows no pod address');
      await sleep(500); // let Mermaid finish its layout before the pictures
      await shot('analysis');
      await shot('diagram', svg);
      await table.scrollIntoViewIfNeeded();
      await shot('packet-table');
    }));

  test('running the flannel-vxlan lab from the Labs view shows its analysis', (t: TestContext) => {
    if (!isRoot) {
      t.skip('needs root: the lab builds network namespaces in the extension host');
      return;
    }
    return check('lab', async (p) => {
      await closeAllEditors(p);
      const labs = await openView(p, 'Labs');
      // The row shows the lab's title and its id; other ids start with flannel-vxlan too.
      const row = labs
        .locator('.monaco-list-row')
        .filter({ hasText: /flannel-vxlan(?![-\w])/ })
        .first();
      await row.waitFor({ state: 'visible' });
      await row.hover();
      const run = row
        .locator('.actions .action-label[aria-label^="Run"]:not([aria-label*="fault" i])')
        .first();
      if (await run.isVisible().catch(() => false)) {
        await run.click();
      } else {
        // No inline button: the context menu has the same Run action.
        await row.click({ button: 'right' });
        await p
          .locator('.context-view .action-menu-item, .monaco-menu .action-label', {
            hasText: /^Run lab$/,
          })
          .first()
          .click();
      }
      await waitForDiagram(p, flannelParticipants, 90_000);
      await waitForPacketTable(p, 2, 30_000);
      await p.locator('.tabs-container .tab', { hasText: /Lab\b/ }).first().waitFor();
      // The lab's nodes and pods appear under it in the tree, with their namespaces.
      for (const member of ['nodeA', 'nodeB', 'podA', 'podB']) {
        await labs
          .locator('.monaco-list-row')
          .filter({ hasText: member })
          .first()
          .waitFor({ state: 'visible' });
      }
      await p.mouse.move(900, 450); // no tooltip over the tree in the pictures
      await sleep(500);
      await shot('lab-panel');
      await shot('lab-tree', p.locator('.part.sidebar'));
    });
  });
});
