// UI test of "Podpath: explain this Service" in a real workbench: the packaged extension in an
// isolated code-server, Debian's Chromium through playwright-core. A person opens the
// walkthrough's echoserver Service manifest, clicks its "explain this Service" CodeLens with the
// mouse, picks the workspace's rules file (the node's `iptables -t nat -vnL` listing) in the
// quick pick by typing its name, and the panel beside the YAML shows the Service flowchart and
// the three endpoints at 33.3% each. Then, with the kind cluster ks-cloud (the API stand-in)
// connected in the Clusters view, the same pick offers its nodes: choosing one runs
// `docker exec <node> iptables-save` (a stand-in docker printing a recorded dump) and the panel
// explains the Service from those rules. Screenshots: test-results/<stage>/screenshots-service/.
// Run: npm run test:ui (packages first), under flock /tmp/pp-workbench.lock.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { OpenWorkbench, Scratch } from '../../scripts/e2e/workbench';
import { openFile, panelFrame, showView } from '../../scripts/e2e/ui';
import { KubeApiStandIn, makeCertificates, standInKubeconfig } from '../support/kubeApiStandIn';
import { kindCalicoObjects } from '../support/kubeFixtures';
import {
  closeWorkbench,
  ensureCodeServer,
  makeScratch,
  openWorkbench,
  watchdog,
} from '../../scripts/e2e/workbench';

const repoRoot = resolve(process.env['PODPATH_REPO_ROOT'] ?? join(__dirname, '..', '..'));
const workspace = join(repoRoot, 'test', 'fixtures', 'workspace');
const stage = process.env['PODPATH_STAGE'];
// Not test-results/screenshots: podpath.ui.test.ts empties that folder when it starts.
const shots = join(repoRoot, 'test-results', ...(stage ? [stage] : []), 'screenshots-service');
const logDir = join(repoRoot, 'test-results', stage ?? 'ui');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
const vsix = join(repoRoot, `podpath-${manifest.version}.vsix`);

let scratch: Scratch | undefined;
let wb: OpenWorkbench | undefined;
let page: Page | undefined;
let calico: KubeApiStandIn | undefined;

function dockerCalls(sc: Scratch): string {
  return join(sc.dir, 'docker-calls.txt');
}

/**
 * A `docker` for the kind cluster ks-cloud the API stand-in serves: `docker exec <node>
 * iptables-save` prints the workspace's iptables-save dump (default/web, 2 endpoints) and
 * records the call; anything else fails as a missing tool would.
 */
function fakeDocker(dir: string, rules: string, calls: string): void {
  const script = [
    '#!/bin/sh',
    `echo "$*" >> '${calls}'`,
    'if [ "$1" = exec ]; then shift; [ "$1" = -i ] && shift; shift;',
    `  if [ "$*" = iptables-save ]; then cat '${rules}'; exit 0; fi; fi`,
    'echo "fake docker: $*: not available" >&2; exit 127',
  ].join('\n');
  writeFileSync(join(dir, 'docker'), `${script}\n`);
  chmodSync(join(dir, 'docker'), 0o755);
}

const cancelWatchdog = watchdog(Number(process.env['PODPATH_UI_TIMEOUT_MS'] ?? 240_000), () =>
  console.error('service ui: watchdog expired; killing code-server and the browser'),
);

function workbench(): Page {
  assert.ok(page, 'the workbench did not open (see the first failure)');
  return page;
}

/** Opens a manifest, clicks its "explain this Service" CodeLens; the pick that opens. */
async function explainFromLens(
  p: Page,
  manifest: string,
): Promise<{ input: Locator; rows: Locator }> {
  await openFile(p, manifest);
  const lens = p
    .locator('.monaco-editor .codelens-decoration a')
    .filter({ hasText: 'Podpath: explain this Service' })
    .first();
  await lens.waitFor({ state: 'visible', timeout: 30_000 });
  await lens.click();
  const input = p.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  return { input, rows: p.locator('.quick-input-widget .monaco-list-row') };
}

describe(
  'explain this Service from its CodeLens (code-server + Chromium)',
  { timeout: 240_000 },
  () => {
    before(async () => {
      mkdirSync(shots, { recursive: true });
      mkdirSync(logDir, { recursive: true });
      assert.ok(existsSync(vsix), `${vsix} is missing: run npm run package first`);
      const certs = await makeCertificates();
      calico = new KubeApiStandIn({ certs, tokens: { t: 'admin' } });
      for (const o of kindCalicoObjects()) calico.upsert(o);
      await calico.start();
      const kubeconfig = join(certs.dir, 'kind.yaml');
      writeFileSync(
        kubeconfig,
        standInKubeconfig(calico, certs, { token: 't', context: 'kind-ks-cloud' }),
      );
      const bin = ensureCodeServer(repoRoot);
      scratch = makeScratch('ui-service');
      const standInBin = join(scratch.dir, 'bin');
      mkdirSync(standInBin, { recursive: true });
      fakeDocker(
        standInBin,
        join(workspace, 'rules', 'web-iptables-save.txt'),
        dockerCalls(scratch),
      );
      wb = await openWorkbench({
        bin,
        scratch,
        vsix,
        workspace,
        logFile: join(logDir, 'code-server-service.log'),
        env: {
          KUBECONFIG: kubeconfig,
          PATH: `${standInBin}${delimiter}${process.env['PATH'] ?? ''}`,
          // The extension host keeps this environment (not a login shell's) with VSCODE_CLI=1.
          VSCODE_CLI: '1',
        },
      });
      const p = wb.page;
      // Ready when the extension has registered its activity-bar item.
      await p
        .locator('.activitybar')
        .getByRole('tab', { name: /^Podpath/ })
        .first()
        .waitFor({ state: 'visible', timeout: 90_000 });
      page = p;
    });

    after(async () => {
      await closeWorkbench(wb, scratch);
      await calico?.stop();
      cancelWatchdog();
    });

    test('the CodeLens, a rules file from the pick, and the flowchart with 3 endpoints at 33.3%', async () => {
      const p = workbench();
      try {
        // The pick offers the workspace's rules files (and Browse…); typing narrows it.
        const { input, rows } = await explainFromLens(p, 'manifests/echoserver.yaml');
        await rows.filter({ hasText: 'Browse…' }).first().waitFor({ state: 'visible' });
        await input.fill('echoserver-iptables');
        await rows
          .filter({ hasText: 'echoserver-iptables-nat.txt' })
          .first()
          .waitFor({ state: 'visible', timeout: 15_000 });
        await p.screenshot({ path: join(shots, 'rules-pick.png') });
        await p.keyboard.press('Enter');

        const frame = panelFrame(p);
        await frame
          .getByText('Service default/echoserver · port 8877/TCP')
          .first()
          .waitFor({ state: 'visible', timeout: 30_000 });
        const svg = frame
          .locator('svg[id^="mermaid"], .mermaid svg, svg[aria-roledescription]')
          .first();
        await svg.waitFor({ state: 'visible', timeout: 30_000 });
        assert.equal(await svg.getAttribute('aria-roledescription'), 'flowchart-v2');
        const body = await frame.locator('body').innerText();
        const shares = body.match(/Endpoint 192\.168\.0\.3[345]:8877: 33\.3% of new connections/g);
        assert.equal(shares?.length, 3, `three endpoints at 33.3% expected in:\n${body}`);
        assert.match(body, /kube-proxy iptables rules from echoserver-iptables-nat\.txt/);
        // The diagram names the cluster IP and each endpoint.
        const diagram = (await svg.textContent()) ?? '';
        for (const ip of ['10.106.23.233', '192.168.0.33', '192.168.0.34', '192.168.0.35'])
          assert.ok(
            diagram.includes(`${ip}:8877`),
            `the flowchart does not show ${ip}: ${diagram}`,
          );
        assert.equal((diagram.match(/33\.3% · DNAT/g) ?? []).length, 3, diagram);
        assert.ok(
          (await p.locator('.editor-group-container').count()) >= 2,
          'the panel did not open beside the Service manifest',
        );
        await new Promise((r) => setTimeout(r, 500)); // Mermaid's layout settles
        await p.screenshot({ path: join(shots, 'service-explained.png') });
        await svg.screenshot({ path: join(shots, 'service-flowchart.png') });
      } catch (err) {
        await p.screenshot({ path: join(shots, 'failed-service.png') }).catch(() => undefined);
        throw err;
      }
    });
    test('with kind-ks-cloud connected, the pick reads iptables-save on a node through its container', async () => {
      const p = workbench();
      try {
        const item = p.locator('.activitybar').getByRole('tab', { name: /^Podpath/ });
        await item.click();
        const view = await showView(p, 'Clusters');
        const context = view
          .locator('.monaco-list-row')
          .filter({ hasText: 'kind-ks-cloud' })
          .first();
        await context.waitFor({ state: 'visible', timeout: 30_000 });
        if ((await context.getAttribute('aria-expanded')) === 'false') await context.click();
        const network = view
          .locator('.monaco-list-row')
          .filter({ hasText: /^Network/ })
          .first();
        await network.waitFor({ state: 'visible', timeout: 30_000 });
        // The network detection has settled (the row names kube-proxy's mode).
        await view
          .locator('.monaco-list-row')
          .filter({ hasText: /kube-proxy/ })
          .first()
          .waitFor({ state: 'visible', timeout: 30_000 });

        const { input, rows } = await explainFromLens(p, 'manifests/service.yaml');
        await rows
          .filter({ hasText: 'Read the rules from node ks-cloud-control-plane of kind-ks-cloud' })
          .first()
          .waitFor({ state: 'visible', timeout: 15_000 });
        // Keyboard only: narrow to the worker and take it.
        await input.fill('node ks-cloud-worker');
        await rows
          .filter({ hasText: 'Read the rules from node ks-cloud-worker of kind-ks-cloud' })
          .first()
          .waitFor({ state: 'visible' });
        await p.screenshot({ path: join(shots, 'node-pick.png') });
        await p.keyboard.press('Enter');

        const frame = panelFrame(p);
        await frame
          .getByText('kube-proxy iptables rules from iptables-save on node ks-cloud-worker')
          .first()
          .waitFor({ state: 'visible', timeout: 30_000 });
        const body = await frame.locator('body').innerText();
        assert.match(body, /Service default\/web · port/);
        assert.match(body, /Endpoint 10\.244\.1\.5:80: 50% of new connections/);
        assert.match(body, /Endpoint 10\.244\.2\.7:80: 50% of new connections/);
        const svg = frame
          .locator('svg[id^="mermaid"], .mermaid svg, svg[aria-roledescription]')
          .first();
        await svg.waitFor({ state: 'visible' });
        assert.ok(scratch);
        const calls = readFileSync(dockerCalls(scratch), 'utf8');
        assert.match(calls, /^exec ks-cloud-worker iptables-save$/m);
        await new Promise((r) => setTimeout(r, 500));
        await p.screenshot({ path: join(shots, 'service-from-node.png') });
      } catch (err) {
        await p.screenshot({ path: join(shots, 'failed-service-node.png') }).catch(() => undefined);
        throw err;
      }
    });
  },
);
