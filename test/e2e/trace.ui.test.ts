// UI test of "Trace to…" in a real workbench (issue 8's "Done means"): the offline
// flannel-vxlan lab is built in network namespaces and dressed as kind cluster podpath-lab —
// the API stand-in serves its Nodes, Pods and Flannel objects (test/support/labClusterObjects),
// the docker stand-in (test/support/kindStandIn, first on code-server's PATH, mapping from
// PODPATH_KIND_STANDIN) runs `docker exec` in the lab's node namespaces. A person opens
// Clusters, expands the context, Nodes, pod A's node, opens pod A's context menu, chooses
// "Trace to…", picks pod B and the ICMP probe; the panel shows the trace with all 8 hops
// seen. Then the lab is rebuilt with node A's route to pod B removed: the trace stops at the
// plan with a modal that lists the problem; "Capture anyway" and Cancel on the progress stop
// every capture (no tcpdump left, the panel unchanged); "Capture anyway" run to the end shows
// where the probe was lost. Screenshots: test-results/screenshots-trace/*.png; the step
// timings the extension logged are printed. Needs root (skips with the reason otherwise).
// Run: npm run package, then under `flock /tmp/pp-lab.lock flock /tmp/pp-workbench.lock`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { OpenWorkbench, Scratch } from '../../scripts/e2e/workbench';
import {
  chooseFromContextMenu,
  expand,
  panelFrame,
  row,
  showView,
  until,
} from '../../scripts/e2e/ui';
import {
  closeWorkbench,
  codeServerVersion,
  ensureCodeServer,
  makeScratch,
  openWorkbench,
  watchdog,
} from '../../scripts/e2e/workbench';
import { findLab } from '../../src/core/labs/catalog';
import { labAvailability } from '../../src/platform/netns/kernelProbes';
import type { LabTopology } from '../../src/platform/netns/labBuild';
import { buildLab, teardownLab } from '../../src/platform/netns/labBuild';
import { KubeApiStandIn, makeCertificates, standInKubeconfig } from '../support/kubeApiStandIn';
import { LAB_CLUSTER, kindStandInMapping, labClusterObjects } from '../support/labClusterObjects';
import { tcpdumpsIn } from '../support/labProcesses';

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
let wb: OpenWorkbench | undefined;
let page: Page | undefined;
let api: KubeApiStandIn | undefined;
let topology: LabTopology | undefined;
/** The Clusters view, expanded down to pod A by the first test. */
let clusters: Locator | undefined;

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

/** The "Timings: …; total …." sentence of the trace the panel shows, or undefined. */
async function shownTimings(p: Page): Promise<string | undefined> {
  const notes = (await panelFrame(p).locator('main').textContent({ timeout: 1_000 })) ?? '';
  return /Timings: .*?; total [\d.]+ m?s\./.exec(notes)?.[0];
}

/**
 * Pod A's context menu → Trace to… → pod B (searched by name) → the probe: ICMP, or TCP to
 * a port typed in the input box. The Clusters view is already expanded down to pod A.
 */
async function traceFromPodA(
  p: Page,
  view: Locator,
  probe: 'icmp' | { tcp: number },
  shot?: string,
): Promise<void> {
  const podA = row(view, 'default/podA');
  await podA.waitFor({ state: 'visible', timeout: 15_000 });
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
  if (shot) await p.screenshot({ path: join(shots, shot) });
  await p.keyboard.press('Enter');
  const choice = probe === 'icmp' ? 'ICMP echo (ping)' : 'TCP to a port…';
  const probeRow = p
    .locator('.quick-input-widget .monaco-list-row')
    .filter({ hasText: choice })
    .first();
  await probeRow.waitFor({ state: 'visible' });
  if (probe === 'icmp') {
    // ICMP is the first choice.
    await p.keyboard.press('Enter');
    return;
  }
  await probeRow.click();
  await until('the port input box', 10_000, async () =>
    /TCP port on pod B/.test((await p.locator('.quick-input-widget').textContent()) ?? '')
      ? true
      : undefined,
  );
  await input.fill(String(probe.tcp));
  await p.keyboard.press('Enter');
}

/** The modal that lists the plan's problems; clicks `button` on it. */
async function answerPlanProblems(
  p: Page,
  button: 'Capture anyway',
  shot: string,
): Promise<string> {
  const dialog = p.locator('.monaco-dialog-box').filter({ hasText: /contradicts the cluster/ });
  await dialog.waitFor({ state: 'visible', timeout: 60_000 });
  const text = (await dialog.textContent()) ?? '';
  await p.screenshot({ path: join(shots, shot) });
  await dialog.locator('.monaco-button', { hasText: button }).first().click();
  await dialog.waitFor({ state: 'hidden' });
  return text;
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
    wb = await openWorkbench({
      bin,
      scratch,
      vsix,
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
    page = wb.page;
    return undefined;
  }

  after(async () => {
    // The extension's log of the trace is read before the scratch folder goes.
    await closeWorkbench(wb, undefined);
    if (scratch) for (const line of traceLogLines(scratch.userDataDir)) console.log(`# ${line}`);
    await closeWorkbench(undefined, scratch);
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
      const view = await showView(p, 'Clusters', ['Captures', 'Datapaths', 'Labs']);
      await expand(row(view, CONTEXT));
      await until('the context to say connected', 15_000, async () =>
        /connected/.test((await row(view, CONTEXT).textContent()) ?? '') ? true : undefined,
      );
      await expand(row(view, /^Nodes/));
      await expand(row(view, /^podpath-lab-worker(?!2)/));
      clusters = view;
      await traceFromPodA(p, view, 'icmp', 'trace-pick-pod-b.png');

      const frame = panelFrame(p);
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

  test('a plan problem stops at a modal; Capture anyway, then Cancel, leaves no tcpdump and the panel as it was', async (t) => {
    if (!page || !clusters || !topology) return t.skip('the first trace did not run');
    const p = page;
    try {
      // Node A loses its route to pod B's subnet: the lab's missing-route fault.
      const lab = findLab(LAB);
      assert.ok(lab);
      await teardownLab(topology);
      topology = undefined;
      topology = await buildLab(lab, { fault: 'missing-route' });
      const before = await shownTimings(p);
      assert.ok(before, 'the first trace is shown');

      // TCP to port 80: with the route gone the SYN is never answered, so curl waits.
      await traceFromPodA(p, clusters, { tcp: 80 });
      const modal = await answerPlanProblems(p, 'Capture anyway', 'trace-plan-problems.png');
      assert.match(modal, /route/);
      const progress = p
        .locator('.notifications-toasts .notification-toast')
        .filter({ hasText: /tracing default\/podA → default\/podB/i });
      // Cancel while the captures run (the toast says so as the step changes).
      await progress
        .filter({ hasText: /capture:|probe:/ })
        .waitFor({ state: 'visible', timeout: 60_000 });
      await p.screenshot({ path: join(shots, 'trace-cancel.png') });
      await progress
        .getByRole('button', { name: /^Cancel/ })
        .first()
        .click();
      await progress.waitFor({ state: 'hidden', timeout: 30_000 });
      const lab2 = topology;
      assert.ok(lab2);
      assert.deepEqual(await tcpdumpsIn(lab2), [], 'a tcpdump is still running in the lab');
      // Nothing new is drawn: the panel still shows the first trace, and no error is shown.
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal(await shownTimings(p), before);
      assert.equal(
        await p
          .locator('.notifications-toasts .notification-toast')
          .filter({ hasText: /failed/ })
          .count(),
        0,
      );
    } catch (err) {
      await p.screenshot({ path: join(shots, 'failed-trace-cancel.png') }).catch(() => undefined);
      throw err;
    }
  });

  test('Capture anyway shows where the probe was lost', async (t) => {
    if (!page || !clusters || topology?.fault !== 'missing-route') {
      return t.skip('the lab with the missing route was not built');
    }
    const p = page;
    try {
      const before = await shownTimings(p);
      await traceFromPodA(p, clusters, 'icmp');
      await answerPlanProblems(p, 'Capture anyway', 'trace-plan-problems-icmp.png');
      const failed = p
        .locator('.notifications-toasts .notification-toast')
        .filter({ hasText: /Tracing pod A → pod B failed/ });
      const after = await until('the new trace in the panel', 120_000, async () => {
        if (await failed.count()) throw new Error(`NOW ${await failed.first().textContent()}`);
        const now = await shownTimings(p);
        return now && now !== before ? now : undefined;
      });
      console.log(`# with the route removed: ${after}`);
      const frame = panelFrame(p);
      const texts = await frame.locator('.pp-hops [role="tab"]').allTextContents();
      assert.equal(texts.length, 8, texts.join(' | '));
      console.log(`# hops: ${texts.join(' | ')}`);
      // Node A has no route to pod B's subnet: the probe reaches cni0 and never flannel.1.
      const seen = texts.map((x) => x.includes('✓ seen'));
      assert.deepEqual(seen, [true, true, false, false, false, false, false, false]);
      assert.match(texts[2] ?? '', /flannel\.1.*lost before here/);
      const main = (await frame.locator('main').textContent()) ?? '';
      assert.match(main, /lost between 02-\S+-cni0 and 03-\S+-flannel\.1/);
      await p.mouse.move(900, 450);
      await p.screenshot({ path: join(shots, 'trace-lost.png') });
    } catch (err) {
      await p.screenshot({ path: join(shots, 'failed-trace-lost.png') }).catch(() => undefined);
      throw err;
    }
  });
});
