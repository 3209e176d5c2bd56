// UI test of the Clusters view in a real workbench: the packaged extension in an isolated
// code-server, Debian's Chromium through playwright-core, and two API stand-ins (test/support)
// serving recorded objects — a k3s node running Flannel VXLAN and the two-node kind cluster
// running Calico — named by the KUBECONFIG the workbench starts with (two files, merged). A
// person opens Clusters, expands a context, Nodes, a node (its pods appear), reads the Network
// row and selects it: the panel draws the datapath with the cluster's real node. Screenshots:
// test-results/screenshots-clusters/*.png.
// Run: npm run test:ui (packages first), under flock /tmp/pp-workbench.lock.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { OpenWorkbench, Scratch } from '../../scripts/e2e/workbench';
import { expand, panelFrame, row, showView, until } from '../../scripts/e2e/ui';
import {
  closeWorkbench,
  ensureCodeServer,
  makeScratch,
  openWorkbench,
  watchdog,
} from '../../scripts/e2e/workbench';
import { KubeApiStandIn, makeCertificates, standInKubeconfig } from '../support/kubeApiStandIn';
import { k3sFlannelObjects, kindCalicoObjects } from '../support/kubeFixtures';

const repoRoot = resolve(process.env['PODPATH_REPO_ROOT'] ?? join(__dirname, '..', '..'));
const workspace = join(repoRoot, 'test', 'fixtures', 'workspace');
// Not test-results/screenshots: podpath.ui.test.ts empties that folder when it starts.
const shots = join(repoRoot, 'test-results', 'screenshots-clusters');
const logDir = join(repoRoot, 'test-results', 'ui');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
const vsix = join(repoRoot, `podpath-${manifest.version}.vsix`);

let scratch: Scratch | undefined;
let wb: OpenWorkbench | undefined;
let page: Page | undefined;
let flannel: KubeApiStandIn | undefined;
let calico: KubeApiStandIn | undefined;

const cancelWatchdog = watchdog(Number(process.env['PODPATH_UI_TIMEOUT_MS'] ?? 300_000), () =>
  console.error('clusters ui: watchdog expired; killing code-server and the browser'),
);

describe(
  'Clusters view against the API stand-in (code-server + Chromium)',
  { timeout: 300_000 },
  () => {
    before(async () => {
      mkdirSync(shots, { recursive: true });
      mkdirSync(logDir, { recursive: true });
      assert.ok(existsSync(vsix), `${vsix} is missing: run npm run package first`);
      const certs = await makeCertificates();
      flannel = new KubeApiStandIn({ certs, tokens: { t: 'admin' } });
      for (const o of k3sFlannelObjects()) flannel.upsert(o);
      await flannel.start();
      calico = new KubeApiStandIn({ certs, tokens: { t: 'admin' } });
      for (const o of kindCalicoObjects()) calico.upsert(o);
      await calico.start();
      const a = join(certs.dir, 'k3s.yaml');
      const b = join(certs.dir, 'kind.yaml');
      writeFileSync(a, standInKubeconfig(flannel, certs, { token: 't', context: 'k3s-flannel' }));
      writeFileSync(b, standInKubeconfig(calico, certs, { token: 't', context: 'kind-ks-cloud' }));
      const bin = ensureCodeServer(repoRoot);
      scratch = makeScratch('ui-clusters');
      wb = await openWorkbench({
        bin,
        scratch,
        vsix,
        workspace,
        logFile: join(logDir, 'code-server-clusters.log'),
        env: { KUBECONFIG: `${a}:${b}` },
      });
      page = wb.page;
    });

    after(async () => {
      await closeWorkbench(wb, scratch);
      await flannel?.stop();
      await calico?.stop();
      cancelWatchdog();
    });

    test('Clusters → context → Nodes → node → pods, the Network row and its datapath', async () => {
      assert.ok(page);
      const p = page;
      try {
        const item = p.locator('.activitybar').getByRole('tab', { name: /^Podpath/ });
        await item.waitFor({ state: 'visible', timeout: 90_000 });
        await item.click();
        // Room for the tree: the other views of the container are collapsed.
        const view = await showView(p, 'Clusters', ['Captures', 'Datapaths', 'Labs']);
        await row(view, 'kind-ks-cloud').waitFor({ state: 'visible' });
        await expand(row(view, 'k3s-flannel'));
        await until('the context to say connected', 15_000, async () =>
          /connected/.test((await row(view, 'k3s-flannel').textContent()) ?? '') ? true : undefined,
        );
        await expand(row(view, /^Nodes/));
        const node = row(view, 'primary-node');
        await node.waitFor({ state: 'visible' });
        assert.match(
          (await node.textContent()) ?? '',
          /Ready · 172\.17\.0\.2 · 10\.42\.0\.0\/24 · k3s/,
        );
        await expand(node);
        await row(view, /kube-system\/coredns-/).waitFor({ state: 'visible', timeout: 15_000 });
        const network = row(view, /^Network/);
        await until('the Network row to name the mode', 15_000, async () =>
          /flannel · flannel-vxlan · kube-proxy iptables/.test((await network.textContent()) ?? '')
            ? true
            : undefined,
        );
        // The second cluster too, at the same time.
        await expand(row(view, 'kind-ks-cloud'));
        await until('the second context to connect', 15_000, async () =>
          /connected/.test((await row(view, 'kind-ks-cloud').textContent()) ?? '')
            ? true
            : undefined,
        );
        await p.locator('.part.sidebar').screenshot({ path: join(shots, 'clusters-tree.png') });

        await network.click();
        const frame = panelFrame(p);
        const svg = frame
          .locator('svg[id^="mermaid"], .mermaid svg, svg[aria-roledescription]')
          .first();
        await until('the datapath diagram naming primary-node', 60_000, async () =>
          ((await svg.textContent({ timeout: 1_000 })) ?? '').includes('primary-node')
            ? true
            : undefined,
        );
        await p.screenshot({ path: join(shots, 'clusters-network-datapath.png') });
      } catch (err) {
        await p.screenshot({ path: join(shots, 'failed-clusters.png') }).catch(() => undefined);
        throw err;
      }
    });
  },
);
