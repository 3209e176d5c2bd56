// UI test of "Trace to…" in a real workbench (issue 8's "Done means"): the offline
// flannel-vxlan lab is built in network namespaces and dressed as kind cluster podpath-lab —
// the API stand-in serves its Nodes, Pods and Flannel objects (test/support/labClusterObjects),
// the docker stand-in (test/support/kindStandIn, first on code-server's PATH, mapping from
// PODPATH_KIND_STANDIN) runs `docker exec` in the lab's node namespaces. A person opens
// Clusters, expands the context, Nodes, pod A's node, opens pod A's context menu, chooses
// "Trace to…", picks pod B and the ICMP probe; the panel shows the trace with all 8 hops
// seen. Screenshots: test-results/screenshots-trace/*.png; the step timings the extension
// logged are printed. Needs root (skips with the reason otherwise).
// Run: npm run package, then under `flock /tmp/pp-lab.lock flock /tmp/pp-workbench.lock`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { CodeServer, Scratch } from '../../scripts/e2e/workbench';
import { chooseFromContextMenu, expand, row, until } from '../../scripts/e2e/ui';
import {
  codeServerVersion,
  ensureCodeServer,
  installVsix,
  launchBrowser,
  makeScratch,
  removeScratch,
  startCodeServer,
  watchdog,
  workbenchUrl,
} from '../../scripts/e2e/workbench';
import { findLab } from '../../src/core/labs/catalog';
import { labAvailability } from '../../src/platform/netns/kernelProbes';
import type { LabTopology } from '../../src/platform/netns/labBuild';
import { buildLab, teardownLab } from '../../src/platform/netns/labBuild';
import { KubeApiStandIn, makeCertificates, standInKubeconfig } from '../support/kubeApiStandIn';
import { LAB_CLUSTER, kindStandInMapping, labClusterObjects } from '../support/labClusterObjects';

const repoRoot = resolve(process.env['PODPATH_REPO_ROOT'] ?? join(__dirname, '..', '..'));
const workspace = join(repoRoot, 'test', 'fixtures', 'workspace');
// One folder per workbench version (test.sh runs the stage on VS Code 1.100 and 1.90).
const shots = join(repoRoot, 'test-results', 'screenshots-trace', codeServerVersion);
const logDir = join(repoRoot, 'test-results', 'ui');
const standInBin = join(repoRoot, 'test', 'support', 'kindStandIn');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
const vsix = join(repoRoot, `podpath-${manifest.version}.vsix`);
const LAB = 'flannel-vxlan';
const CONTEXT = `kind-${LAB_CLUSTER}`;

let scratch: Scratch | undefined;
let server: CodeServer | undefined;
let browser: BrowserContext | undefined;
let page: Page | undefined;
let api: KubeApiStandIn | undefined;
let topology: LabTopology | undefined;

const skip = process.getuid?.() === 0 ? false : 'needs root: the lab builds network namespaces';

/** The extension's output log lines about the trace (exthost logs of the scratch dir). */
function traceLogLines(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/Podpath\.log$/i.test(e.name) || /podpath/i.test(e.name)) {
        found.push(
          ...readFileSync(p, 'utf8')
            .split('\n')
            .filter((l) => /\btrace\b|failed/.test(l)),
        );
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
}

describe('Trace to… against the lab-backed stand-ins (code-server + Chromium)', { skip }, () => {
  const cancelWatchdog = skip
    ? () => undefined
    : watchdog(Number(process.env['PODPATH_UI_TIMEOUT_MS'] ?? 300_000), () =>
        console.error('trace ui: watchdog expired; killing code-server and the browser'),
      );

  /** Builds the lab, serves it, starts the workbench; the reason when the lab cannot run. */
  async function setUp(): Promise<string | undefined> {
    mkdirSync(shots, { recursive: true });
    mkdirSync(logDir, { recursive: true });
    assert.ok(existsSync(vsix), `${vsix} is missing: run npm run package first`);
    const lab = findLab(LAB);
    assert.ok(lab);
    const availability = await labAvailability(lab);
    if (!availability.available) return availability.reason ?? 'the lab cannot run here';
    topology = await buildLab(lab);
    const certs = await makeCertificates();
    const bin = ensureCodeServer(repoRoot);
    scratch = makeScratch('ui-trace');
    const mapping = join(scratch.dir, 'kind-standin.json');
    writeFileSync(mapping, JSON.stringify(kindStandInMapping(lab), null, 2));
    // The exec endpoint runs what is exec'd in the lab's pods in their netns: pod A's image
    // has ping, so the probe runs inside pod A.
    api = new KubeApiStandIn({ certs, tokens: { t: 'admin' }, pods: { kindMapping: mapping } });
    for (const o of labClusterObjects(lab)) {
      const meta = o['metadata'] as { name?: string };
      if (o['kind'] === 'Pod' && meta.name === 'podA') {
        const spec = o['spec'] as { containers: Record<string, unknown>[] };
        spec.containers = spec.containers.map((c) => ({ ...c, image: 'nicolaka/netshoot:v0.13' }));
      }
      api.upsert(o);
    }
    await api.start();
    const kubeconfig = join(certs.dir, 'lab.yaml');
    writeFileSync(kubeconfig, standInKubeconfig(api, certs, { token: 't', context: CONTEXT }));
    installVsix(bin, scratch, vsix);
    server = await startCodeServer({
      bin,
      scratch,
      workspace,
      logFile: join(logDir, 'code-server-trace.log'),
      env: {
        KUBECONFIG: kubeconfig,
        PODPATH_KIND_STANDIN: mapping,
        PATH: `${standInBin}${delimiter}${process.env['PATH'] ?? ''}`,
        // Otherwise the server takes PATH from a login shell (`$SHELL -ilc env`), whose
        // /etc/profile drops the stand-in and finds the real docker CLI.
        VSCODE_CLI: '1',
      },
    });
    browser = await launchBrowser(scratch);
    const p = browser.pages()[0] ?? (await browser.newPage());
    p.setDefaultTimeout(30_000);
    await p.goto(workbenchUrl(server, workspace), { timeout: 60_000 });
    page = p;
    return undefined;
  }

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (scratch) {
      for (const line of traceLogLines(scratch.userDataDir)) console.log(`# ${line}`);
      removeScratch(scratch);
    }
    await api?.stop();
    api?.podApi.dispose();
    if (topology) await teardownLab(topology);
    cancelWatchdog();
  });

  test('pod A → Trace to… → pod B shows all 8 hops seen', async (t) => {
    const why = await setUp();
    if (why) {
      t.skip(why);
      return;
    }
    assert.ok(page);
    const p = page;
    try {
      const item = p.locator('.activitybar').getByRole('tab', { name: /^Podpath/ });
      await item.waitFor({ state: 'visible', timeout: 90_000 });
      await item.click();
      const sidebar = p.locator('.part.sidebar');
      const header = sidebar.locator('.pane-header', { hasText: /^Clusters/i }).first();
      await header.waitFor({ state: 'visible' });
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      for (const other of [/^Captures/i, /^Datapaths/i, /^Labs/i]) {
        const h = sidebar.locator('.pane-header', { hasText: other }).first();
        if ((await h.getAttribute('aria-expanded')) === 'true') await h.click();
      }
      const view = sidebar.locator('.pane', {
        has: p.locator('.pane-header', { hasText: /^Clusters/i }),
      });
      await expand(row(view, CONTEXT));
      await until('the context to say connected', 15_000, async () =>
        /connected/.test((await row(view, CONTEXT).textContent()) ?? '') ? true : undefined,
      );
      await expand(row(view, /^Nodes/));
      await expand(row(view, /^podpath-lab-worker(?!2)/));
      const podA = row(view, 'default/podA');
      await podA.waitFor({ state: 'visible', timeout: 15_000 });

      // Pod A's context menu → Trace to…
      await chooseFromContextMenu(p, podA, /^Trace to…$/);
      // Pod B: searchable, with its IP and node.
      const input = p.locator('.quick-input-widget input.input');
      await input.waitFor({ state: 'visible' });
      const podB = p
        .locator('.quick-input-widget .monaco-list-row')
        .filter({ hasText: 'default/podB' })
        .first();
      await podB.waitFor({ state: 'visible', timeout: 15_000 });
      assert.match((await podB.textContent()) ?? '', /on podpath-lab-worker2/);
      await input.fill('podB');
      await p.screenshot({ path: join(shots, 'trace-pick-pod-b.png') });
      await p.keyboard.press('Enter');
      // The probe: ICMP is the first choice.
      await p
        .locator('.quick-input-widget .monaco-list-row')
        .filter({ hasText: 'ICMP echo (ping)' })
        .first()
        .waitFor({ state: 'visible' });
      await p.keyboard.press('Enter');

      const frame = p
        .locator('iframe.webview.ready')
        .filter({ visible: true })
        .last()
        .contentFrame()
        .frameLocator('#active-frame');
      const title = frame.locator('h1');
      const failed = p
        .locator('.notifications-toasts .notification-toast')
        .filter({ hasText: /Tracing pod A → pod B failed/ });
      await until('the trace to show in the panel', 120_000, async () => {
        if (await failed.count()) throw new Error(`NOW ${await failed.first().textContent()}`);
        return /Trace default\/podA → default\/podB/.test(
          (await title.textContent({ timeout: 1_000 })) ?? '',
        )
          ? true
          : undefined;
      });
      const tabs = frame.locator('.pp-hops [role="tab"]');
      await until('8 hops in the panel', 30_000, async () =>
        (await tabs.count()) === 8 ? true : undefined,
      );
      const texts = await tabs.allTextContents();
      const seen = texts.filter((t) => t.includes('✓ seen')).length;
      assert.equal(seen, 8, `hops seen: ${texts.join(' | ')}`);
      // Each hop's pcap can be revealed; the first hop's bar names its file.
      const bar = frame.locator('.pp-hop-file');
      await bar.getByRole('button', { name: /^Reveal/ }).waitFor({ state: 'visible' });
      assert.match((await bar.textContent()) ?? '', /Capture 01-.*\.pcap/);
      const notes = (await frame.locator('main').textContent()) ?? '';
      const timings = /Timings: .*?; total [\d.]+ m?s\./.exec(notes)?.[0];
      assert.ok(timings, 'the panel states the timings');
      assert.match(notes, /Probed from inside default\/podA \(container coredns\)\./);
      console.log(`# ${timings}`);
      await p.mouse.move(900, 450);
      await p.screenshot({ path: join(shots, 'trace-panel.png') });
      // The hops, each seen, and the selected hop's pcap with Reveal.
      await frame.locator('.pp-hops').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await p.screenshot({ path: join(shots, 'trace-hops.png') });
    } catch (err) {
      await p.screenshot({ path: join(shots, 'failed-trace.png') }).catch(() => undefined);
      throw err;
    }
  });
});
