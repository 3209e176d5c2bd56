// UI test in a real workbench: installs the packaged podpath-<version>.vsix into an isolated
// code-server, opens the fixture workspace in Debian's Chromium through playwright-core, and
// does what a person does: opens the Podpath view, opens a manifest and clicks its CodeLens,
// analyzes the fixture capture folder, and runs the flannel-vxlan lab from the Labs view. The
// panel beside the editor must show the Mermaid diagram and the packet table, come back the same
// after being hidden and after a window reload, and follow dark, high-contrast and light colour
// themes (redrawing the diagram, the missing hop still highlighted). Screenshots go to
// test-results/screenshots/ (a failing check also saves failed-<check>.png there).
// Run: npm run test:ui (packages first). Needs scripts/e2e/installWorkbench.sh (run on demand).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { OpenWorkbench, Scratch } from '../../scripts/e2e/workbench';
import {
  chooseFromContextMenu,
  openFile,
  panelFrame,
  quickInput,
  showView,
  until,
} from '../../scripts/e2e/ui';
import {
  closeWorkbench,
  ensureCodeServer,
  makeScratch,
  openWorkbench,
  watchdog,
} from '../../scripts/e2e/workbench';

// PODPATH_REPO_ROOT: test another checkout (or a packaging experiment) with this file.
const repoRoot = resolve(process.env['PODPATH_REPO_ROOT'] ?? join(__dirname, '..', '..'));
const workspace = join(repoRoot, 'test', 'fixtures', 'workspace');
const captureFolder = join(workspace, 'captures', 'flannel-vxlan');
// PODPATH_STAGE (set by scripts/test.sh per VS Code version) keeps each run's files apart.
const stage = process.env['PODPATH_STAGE'];
const shots = join(repoRoot, 'test-results', ...(stage ? [stage] : []), 'screenshots');
const logDir = join(repoRoot, 'test-results', stage ?? 'ui');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
const vsix = join(repoRoot, `podpath-${manifest.version}.vsix`);
/** Participants of the Flannel VXLAN cross-node datapath, in the order packets meet them. */
const flannelParticipants = ['podA', 'nodeA', 'nodeB', 'podB'];
const isRoot = process.getuid?.() === 0;

let scratch: Scratch | undefined;
let wb: OpenWorkbench | undefined;
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

/** The packet table's data rows (the toolkit's grid, or the plain table it falls back to). */
const PACKET_ROWS =
  'vscode-data-grid-row:not([row-type="header"]):not([row-type="sticky-header"]), tbody tr';

/** What a person reads in the panel: its heading, the selected hop and the table's rows. */
interface PanelSnapshot {
  title: string;
  hop: string;
  rows: string[];
}

async function panelSnapshot(p: Page): Promise<PanelSnapshot> {
  const frame = panelFrame(p);
  const text = async (l: Locator): Promise<string> =>
    ((await l.textContent({ timeout: 1_000 })) ?? '').replace(/\s+/g, ' ').trim();
  const rows: string[] = [];
  for (const row of await frame.locator(PACKET_ROWS).all()) rows.push(await text(row));
  return {
    title: await text(frame.locator('h1').first()),
    hop: await text(frame.locator('.pp-hop[aria-selected="true"] .pp-hop-name').first()),
    rows,
  };
}

/** Waits until the panel reads as `expected` (it redraws from saved state, then from the host). */
async function expectSamePanel(p: Page, expected: PanelSnapshot, when: string): Promise<void> {
  await until(`the panel to read as before ${when}`, 15_000, async () => {
    const now = await panelSnapshot(p);
    assert.deepEqual(now, expected, `the panel differs ${when}`);
    return true;
  });
}

/** Picks a colour theme by its label through "Preferences: Color Theme", as a person would. */
async function setColorTheme(p: Page, label: string): Promise<void> {
  await quickInput(p, '>Preferences: Color Theme');
  await p
    .locator('.quick-input-widget .monaco-list-row')
    .filter({ hasText: /^Preferences: Color Theme/ })
    .first()
    .click();
  const input = p.locator('.quick-input-widget input.input');
  const row = p
    .locator('.quick-input-widget .monaco-list-row')
    .filter({ has: p.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) })
    .first();
  await until(`the theme picker to offer ${label}`, 15_000, async () => {
    if (await row.isVisible()) return true;
    await input.fill(label);
    return undefined;
  });
  await row.click();
  await p.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The panel's packet table, once it has at least minRows data rows; returns its text. */
async function waitForPacketTable(p: Page, minRows: number, ms: number): Promise<Locator> {
  const frame = panelFrame(p);
  const table = frame.locator('vscode-data-grid, table').first();
  await until(`a packet table with ${minRows}+ rows`, ms, async () => {
    const rows = await frame.locator(PACKET_ROWS).count();
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

/**
 * Runs "Analyze capture files…" on a folder through code-server's file dialog and picks the
 * Flannel VXLAN plan; returns once the choice is made (the panel draws afterwards).
 */
async function analyzeFolder(p: Page, folder: string): Promise<void> {
  await runCommand(p, 'Analyze capture files…');
  // code-server's open dialog is VS Code's simple file dialog: a path in a quick input.
  // It fills in its starting folder itself, after it opens: wait for that, then replace
  // it. A folder path with a trailing slash is accepted as the folder by Enter.
  const input = p.locator('.quick-input-widget input.input');
  await until('the file dialog', 15_000, async () =>
    (await input.inputValue()).startsWith('/') ? true : undefined,
  );
  const target = `${folder}/`;
  await until(`the file dialog to show ${target}`, 15_000, async () => {
    if ((await input.inputValue()) === target) return true;
    await input.fill(target);
    await sleep(300);
    return undefined;
  });
  await p.locator('.quick-input-widget .monaco-list-row', { hasText: '01-podA' }).first().waitFor();
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
}

describe('Podpath in a real workbench (code-server + Chromium)', { timeout: 420_000 }, () => {
  before(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    mkdirSync(logDir, { recursive: true });
    assert.ok(existsSync(vsix), `${vsix} is missing: run npm run package first`);
    const bin = ensureCodeServer(repoRoot);
    scratch = makeScratch('ui');
    wb = await openWorkbench({
      bin,
      scratch,
      vsix,
      workspace,
      logFile: join(logDir, 'code-server.log'),
      // The Clusters view reads the fixture kubeconfig, as a user's KUBECONFIG.
      env: { KUBECONFIG: join(workspace, 'kubeconfig') },
    });
    page = wb.page;
  });

  after(async () => {
    await closeWorkbench(wb, scratch);
    cancelWatchdog();
  });

  test('the Podpath view opens and lists the fixture kubeconfig contexts', () =>
    check('tree', async (p) => {
      // The activity-bar item appears only once the installed extension is registered.
      const item = p.locator('.activitybar').getByRole('tab', { name: /^Podpath/ });
      await item.waitFor({ state: 'visible', timeout: 90_000 });
      await item.click();
      const sidebar = p.locator('.part.sidebar');
      const clusters = await showView(p, 'Clusters');
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
      await analyzeFolder(p, captureFolder);

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

  test('beside a YAML at 1440 × 900 the whole diagram and the Encapsulation column are in view', () =>
    check('beside-yaml-fit', async (p) => {
      await closeAllEditors(p);
      await openFile(p, 'manifests/pod.yaml');
      await analyzeFolder(p, captureFolder);
      const svg = await waitForDiagram(p, flannelParticipants, 60_000);
      await waitForPacketTable(p, 2, 30_000);
      assert.ok(
        (await p.locator('.editor-group-container').count()) >= 2,
        'the panel did not open beside the YAML',
      );
      await p
        .locator('.editor-group-container .tab', { hasText: 'pod.yaml' })
        .first()
        .waitFor({ state: 'visible' });
      await sleep(500); // let Mermaid finish its layout
      const webview = p.locator('iframe.webview.ready').filter({ visible: true }).last();
      const area = await webview.boundingBox();
      assert.ok(area, 'the panel has no box');
      assert.ok(area.width < 900, `the panel is not beside the editor (${area.width} px wide)`);
      const inside = (
        box: { x: number; y: number; width: number; height: number } | null,
      ): boolean =>
        box !== null &&
        box.x >= area.x - 1 &&
        box.x + box.width <= area.x + area.width + 1 &&
        box.width > 0;
      // The whole diagram, pod A to pod B, fits the panel's width: nothing clipped or scrolled.
      const svgBox = await svg.boundingBox();
      assert.ok(
        inside(svgBox),
        `the diagram ${JSON.stringify(svgBox)} overflows the panel ${JSON.stringify(area)}`,
      );
      const frame = panelFrame(p);
      for (const name of ['podA', 'podB']) {
        const actor = frame.locator('svg text', { hasText: new RegExp(`^${name}`) }).first();
        assert.ok(inside(await actor.boundingBox()), `${name} is not inside the visible panel`);
      }
      const header = frame
        .locator('th, [cell-type="columnheader"]', { hasText: /^Encapsulation$/ })
        .first();
      // Scrolled down to, never sideways: the column must be there at the table's own scroll.
      const tableBox = frame.locator('.pp-table').first();
      await tableBox.evaluate((e) => e.scrollIntoView({ block: 'start' }));
      assert.equal(await tableBox.evaluate((e) => e.scrollLeft), 0);
      const visible = await tableBox.boundingBox();
      const headerBox = await header.boundingBox();
      assert.ok(await header.isVisible(), 'the Encapsulation column is hidden');
      assert.ok(
        visible !== null &&
          headerBox !== null &&
          inside(headerBox) &&
          headerBox.x + headerBox.width <= visible.x + visible.width + 1,
        `the Encapsulation column ${JSON.stringify(headerBox)} is cut off by the table ${JSON.stringify(visible)}`,
      );
      for (const name of ['Info', 'frame', 'IP length']) {
        const th = frame.locator('th', { hasText: new RegExp(`^${name}$`) }).first();
        const box = await th.boundingBox();
        assert.ok(
          box !== null && visible !== null && box.x + box.width <= visible.x + visible.width + 1,
          `the ${name} column is cut off`,
        );
      }
      await shot('beside-yaml-1440');
      await shot('beside-yaml-diagram', svg);
      await shot('beside-yaml-table');
      await svg.evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await shot('beside-yaml-1440-diagram');
    }));

  test('the panel survives being hidden and a window reload', () =>
    check('restore', async (p) => {
      const frame = panelFrame(p);
      const tab = p
        .locator('.tabs-container .tab', { hasText: 'Podpath: Captures: flannel-vxlan' })
        .first();
      await tab.waitFor({ state: 'visible', timeout: 10_000 });
      // Read the fourth hop first: restored means the reader's place too, not only the view.
      const fourth = frame.locator('.pp-hop[data-hop="3"]');
      await fourth.click({ timeout: 10_000 });
      await until('the fourth hop to be selected', 5_000, async () =>
        (await fourth.getAttribute('aria-selected', { timeout: 1_000 })) === 'true'
          ? true
          : undefined,
      );
      await sleep(300); // the webview saves its state 50 ms after a change
      const before = await panelSnapshot(p);
      assert.equal(before.title, 'Captures: flannel-vxlan');
      assert.match(before.hop, /^04-nodeA-eth0/);
      assert.ok(before.rows.length >= 2, `only ${before.rows.length} packet row(s)`);

      // (a) Hidden: another file opened in the panel's editor group covers it.
      await tab.click();
      await openFile(p, 'manifests/pod.yaml');
      await until('the panel to be hidden', 10_000, async () =>
        (await p.locator('iframe.webview').filter({ visible: true }).count()) === 0
          ? true
          : undefined,
      );
      await tab.click();
      await waitForDiagram(p, flannelParticipants, 20_000);
      await waitForPacketTable(p, 2, 10_000);
      await expectSamePanel(p, before, 'after being hidden and shown again');

      // (b) Reloaded: VS Code brings the panel back through Podpath's serializer. The
      // palette's reload shuts the window down properly (a bare page reload may lose which tab
      // was active); the panel's tab is clicked if another one came back active.
      await quickInput(p, '>Developer: Reload Window');
      const loaded = p.waitForEvent('load', { timeout: 30_000 });
      await p
        .locator('.quick-input-widget .monaco-list-row')
        .filter({ hasText: /^Developer: Reload Window/ })
        .first()
        .click();
      await loaded;
      await p.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await tab.waitFor({ state: 'visible', timeout: 60_000 });
      if (!((await tab.getAttribute('class')) ?? '').split(/\s+/).includes('active')) {
        await tab.click();
      }
      await waitForDiagram(p, flannelParticipants, 60_000);
      await waitForPacketTable(p, 2, 20_000);
      await expectSamePanel(p, before, 'after the window reloaded');
      await sleep(500); // let Mermaid finish its layout before the picture
      await shot('panel-restored');
    }));

  test('running the flannel-vxlan lab from the Labs view shows its analysis', (t: TestContext) => {
    if (!isRoot) {
      t.skip('needs root: the lab builds network namespaces in the extension host');
      return;
    }
    return check('lab', async (p) => {
      await closeAllEditors(p);
      const labs = await showView(p, 'Labs');
      // The row shows the lab's title and what it builds; "Flannel VXLAN, same node" is another.
      const row = labs
        .locator('.monaco-list-row')
        .filter({ hasText: /Flannel VXLAN(?!,)/ })
        .first();
      await row.waitFor({ state: 'visible' });
      assert.match(
        (await row.textContent()) ?? '',
        /needs root · 2 nodes, 2 pods, flannel\.1 VXLAN/,
      );
      await row.waitFor({ state: 'visible' });
      await row.hover();
      const run = row
        .locator('.actions .action-label[aria-label^="Run"]:not([aria-label*="fault" i])')
        .first();
      if (await run.isVisible().catch(() => false)) {
        await run.click();
      } else {
        // No inline button: the context menu has the same Run action.
        await chooseFromContextMenu(p, row, /^Run lab$/);
      }
      await waitForDiagram(p, flannelParticipants, 90_000);
      await waitForPacketTable(p, 2, 30_000);
      await p.locator('.tabs-container .tab', { hasText: /Lab\b/ }).first().waitFor();
      // The run tore the lab down: the row says so and the tree lists none of its nodes and pods.
      await until('the lab row to say torn down', 15_000, async () =>
        /torn down/.test((await row.textContent()) ?? '') ? true : undefined,
      );
      assert.equal(
        await labs
          .locator('.monaco-list-row')
          .filter({ hasText: /^(nodeA|podA)/ })
          .count(),
        0,
        'a torn-down lab still lists its nodes and pods',
      );
      await p.mouse.move(900, 450); // no tooltip over the tree in the pictures
      await sleep(500);
      await shot('lab-panel');
      await shot('lab-tree', p.locator('.part.sidebar'));
    });
  });
  test('the panel follows light, dark and high-contrast themes', () =>
    check('themes', async (p) => {
      assert.ok(scratch, 'no scratch folder');
      // A capture set where the probe is lost on the wire: from nodeB's eth0 on, each hop
      // file keeps only its pcap header. The missing hop must stay readable in every theme.
      const lost = join(scratch.dir, 'captures', 'flannel-vxlan');
      mkdirSync(lost, { recursive: true });
      for (const name of readdirSync(captureFolder)) {
        const data = readFileSync(join(captureFolder, name));
        writeFileSync(join(lost, name), name >= '05' ? data.subarray(0, 24) : data);
      }
      await closeAllEditors(p);
      await analyzeFolder(p, lost);
      const frame = panelFrame(p);
      const svg = await waitForDiagram(p, flannelParticipants, 60_000);
      await frame
        .locator('.pp-hop.pp-missing', { hasText: '05-nodeB-eth0' })
        .waitFor({ state: 'visible', timeout: 10_000 });

      const themes = [
        { label: 'Dark Modern', bodyClass: 'vscode-dark', picture: 'theme-dark' },
        {
          label: 'Dark High Contrast',
          bodyClass: 'vscode-high-contrast',
          picture: 'theme-high-contrast',
        },
        // Last: the workbench's own default, so that it is left as it was found.
        { label: 'Light Modern', bodyClass: 'vscode-light', picture: 'theme-light' },
      ];
      for (const { label, bodyClass, picture } of themes) {
        const classes = async (): Promise<string[]> =>
          ((await frame.locator('body').getAttribute('class', { timeout: 1_000 })) ?? '').split(
            /\s+/,
          );
        const alreadyThere = (await classes()).includes(bodyClass);
        const drawnBefore = await svg.getAttribute('id', { timeout: 5_000 });
        await setColorTheme(p, label);
        await until(`the panel's body to carry ${bodyClass}`, 15_000, async () =>
          (await classes()).includes(bodyClass) ? true : undefined,
        );
        if (!alreadyThere) {
          // Each drawing has a new id: a new one means the diagram followed the theme.
          await until(`the diagram to be redrawn for ${label}`, 15_000, async () => {
            const id = await svg.getAttribute('id', { timeout: 1_000 });
            return id && id !== drawnBefore ? true : undefined;
          });
        }
        await waitForDiagram(p, flannelParticipants, 10_000);
        const highlighted = await frame
          .locator('svg .pp-missing-text, svg .pp-missing-line')
          .count();
        assert.ok(highlighted > 0, `the missing hop is not highlighted in ${label}`);
        await frame.locator('.pp-missing-text').first().scrollIntoViewIfNeeded();
        await sleep(500); // let Mermaid finish its layout before the picture
        await shot(picture);
        await shot(`${picture}-diagram`, svg);
      }
    }));
});
