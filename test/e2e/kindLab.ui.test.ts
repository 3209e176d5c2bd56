// UI test of "Podpath: Create lab cluster…" in a real workbench (issue 9): the packaged
// extension in an isolated code-server, Debian's Chromium through playwright-core, and the
// kind / docker / kubectl stand-ins (test/support/kindStandins) first on the workbench's PATH,
// each call taking a moment so the progress can be seen. A person runs the command from the
// palette with the keyboard, picks Flannel VXLAN and kube-proxy iptables in the quick picks,
// watches the progress steps, gets the kind config and manifests written into the workspace
// (the kind config opens), the "Trace pod A → pod B" offer, and the new cluster in the Labs
// view. Screenshots: test-results/[<stage>/]screenshots-kindlab/*.png.
// Run: npm run test:ui (packages first), under flock /tmp/pp-workbench.lock.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { OpenWorkbench, Scratch } from '../../scripts/e2e/workbench';
import { until, showView } from '../../scripts/e2e/ui';
import {
  closeWorkbench,
  ensureCodeServer,
  makeScratch,
  openWorkbench,
  watchdog,
} from '../../scripts/e2e/workbench';

const repoRoot = resolve(process.env['PODPATH_REPO_ROOT'] ?? join(__dirname, '..', '..'));
const stage = process.env['PODPATH_STAGE'];
// Not test-results/screenshots: podpath.ui.test.ts empties that folder when it starts.
const shots = join(repoRoot, 'test-results', ...(stage ? [stage] : []), 'screenshots-kindlab');
const logDir = join(repoRoot, 'test-results', stage ?? 'ui');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
};
const vsix = join(repoRoot, `podpath-${manifest.version}.vsix`);
const standins = join(repoRoot, 'test', 'support', 'kindStandins');
/** The name Podpath gives a Flannel VXLAN lab cluster (core/kindlab/labClusters.ts). */
const NAME = 'podpath-flannel-vxlan';
const OFFER = 'Trace pod A → pod B';

let scratch: Scratch | undefined;
let wb: OpenWorkbench | undefined;
let page: Page | undefined;
/** A fresh workspace folder per run: the lab's files land in <it>/.podpath/kind/<name>. */
let workspace = '';
/** One line per stand-in call: the tool and its argv joined by \x1f. */
let calls = '';

const cancelWatchdog = watchdog(Number(process.env['PODPATH_UI_TIMEOUT_MS'] ?? 300_000), () =>
  console.error('kind lab ui: watchdog expired; killing code-server and the browser'),
);

/** Picks `label` in the open quick pick by typing it and pressing Enter, as a person would. */
async function choose(p: Page, title: RegExp, label: string): Promise<void> {
  const widget = p.locator('.quick-input-widget');
  await until(`the quick pick "${String(title)}"`, 20_000, async () =>
    title.test((await widget.locator('.quick-input-title').textContent()) ?? '') ? true : undefined,
  );
  await p.keyboard.type(label);
  const first = widget.locator('.monaco-list-row').first();
  await until(`"${label}" to be the first row`, 10_000, async () =>
    ((await first.getAttribute('aria-label')) ?? (await first.textContent()) ?? '').startsWith(
      label,
    )
      ? true
      : undefined,
  );
  await p.keyboard.press('Enter');
}

describe(
  'Create lab cluster… against the kind stand-ins (code-server + Chromium)',
  { timeout: 300_000 },
  () => {
    before(async () => {
      mkdirSync(shots, { recursive: true });
      mkdirSync(logDir, { recursive: true });
      assert.ok(existsSync(vsix), `${vsix} is missing: run npm run package first`);
      const bin = ensureCodeServer(repoRoot);
      scratch = makeScratch('ui-kindlab');
      workspace = join(scratch.dir, 'workspace');
      mkdirSync(workspace, { recursive: true });
      const state = join(scratch.dir, 'standin-state');
      mkdirSync(state, { recursive: true });
      calls = join(state, 'calls.log');
      // Flannel needs the host's CNI bridge plugin copied into the nodes; this machine has
      // none, so the person's setting points at a folder that has one (the docker stand-in
      // only records the copy).
      const cniBin = join(scratch.dir, 'cni-bin');
      mkdirSync(cniBin, { recursive: true });
      for (const plugin of ['bridge', 'portmap', 'host-local']) {
        writeFileSync(join(cniBin, plugin), '#!/bin/sh\nexit 0\n');
        chmodSync(join(cniBin, plugin), 0o755);
      }
      const settingsFile = join(scratch.userDataDir, 'User', 'settings.json');
      const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
      settings['podpath.kindLab.cniBinDir'] = cniBin;
      writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
      wb = await openWorkbench({
        bin,
        scratch,
        vsix,
        workspace,
        logFile: join(logDir, 'code-server-kindlab.log'),
        env: {
          PATH: `${standins}${delimiter}${process.env['PATH'] ?? ''}`,
          // The VS Code server otherwise gives the extension host the PATH of a login shell
          // (/etc/profile resets it), as for a server not started from a terminal; with
          // VSCODE_CLI=1 it keeps this environment, as when started from one.
          VSCODE_CLI: '1',
          PP_STANDIN_STATE: state,
          PP_STANDIN_LOG: calls,
          PP_STANDIN_PAUSE: '0.4',
        },
      });
      page = wb.page;
    });

    after(async () => {
      await closeWorkbench(wb, scratch);
      cancelWatchdog();
    });

    test('palette → Flannel VXLAN, iptables → progress → files → Trace offer → Labs view', async () => {
      assert.ok(page);
      const p = page;
      try {
        // The extension is ready once its activity-bar item is there.
        const activity = p.locator('.activitybar').getByRole('tab', { name: /^Podpath/ });
        await activity.waitFor({ state: 'visible', timeout: 90_000 });
        // Every progress text the notifications show, recorded as the DOM changes: the
        // stand-ins answer in 0.4 s, faster than a poll would reliably see each step.
        // (A script string: this file is compiled without the DOM library.)
        await p.evaluate(`(() => {
          const seen = [];
          window.ppSeen = seen;
          new MutationObserver(() => {
            for (const el of document.querySelectorAll('.notifications-toasts .notification-list-item')) {
              const text = el.innerText.replace(/\\s+/g, ' ').trim();
              if (text && !seen.includes(text)) seen.push(text);
            }
          }).observe(document.body, { subtree: true, childList: true, characterData: true });
        })()`);

        // The command palette, with the keyboard only.
        const input = p.locator('.quick-input-widget input.input');
        await p.keyboard.press('F1');
        await input.waitFor({ state: 'visible' });
        await p.keyboard.type('Podpath: Create lab cluster');
        const row = p
          .locator('.quick-input-widget .monaco-list-row')
          .filter({ hasText: 'Podpath: Create lab cluster…' })
          .first();
        await row.waitFor({ state: 'visible', timeout: 20_000 });
        await until('the command to be the first row', 10_000, async () =>
          /Create lab cluster/.test(
            (await p.locator('.quick-input-widget .monaco-list-row').first().textContent()) ?? '',
          )
            ? true
            : undefined,
        );
        await p.keyboard.press('Enter');
        await choose(p, /lab cluster with which CNI/, 'Flannel VXLAN');
        await choose(p, /kube-proxy in which mode/, 'iptables');

        // Progress: the notification names the cluster and counts the steps.
        const progress = p
          .locator('.notifications-toasts .notification-list-item')
          .filter({ hasText: `creating lab cluster ${NAME}` })
          .first();
        await progress.waitFor({ state: 'visible', timeout: 20_000 });
        await until('a step past the first', 30_000, async () =>
          /\b[2-9]\/\d+ /.test((await progress.textContent()) ?? '') ? true : undefined,
        );
        await p.screenshot({ path: join(shots, 'kindlab-progress.png') });

        // The offer at the end.
        const offer = p
          .locator('.notifications-toasts .notification-list-item')
          .filter({ hasText: `lab cluster ${NAME} is ready` })
          .first();
        await offer.waitFor({ state: 'visible', timeout: 90_000 });
        const button = offer.locator('.monaco-button', { hasText: OFFER });
        await button.waitFor({ state: 'visible' });
        const offerText = (await offer.textContent()) ?? '';
        assert.match(offerText, /context kind-podpath-flannel-vxlan/);
        assert.match(
          offerText,
          /captures at every hop of the Flannel VXLAN datapath while pod-a pings pod-b/,
        );
        await p.screenshot({ path: join(shots, 'kindlab-trace-offer.png') });

        const seen = (await p.evaluate('window.ppSeen')) as string[];
        const steps = [
          ...new Set(seen.flatMap((t) => [...t.matchAll(/\b(\d+)\/(\d+) /g)].map((m) => m[1]))),
        ];
        assert.ok(steps.length >= 3, `progress steps seen: ${seen.join(' | ')}`);

        // The files, written into the workspace, and the kind config open in an editor.
        const dir = join(workspace, '.podpath', 'kind', NAME);
        for (const file of ['kind-config.yaml', 'cni.yaml', 'probe-pods.yaml']) {
          assert.ok(existsSync(join(dir, file)), `${file} was not written into ${dir}`);
        }
        const config = readFileSync(join(dir, 'kind-config.yaml'), 'utf8');
        assert.match(config, /podpath\.dev\/lab-mode: flannel-vxlan/);
        assert.match(config, /kubeProxyMode: iptables/);
        assert.match(readFileSync(join(dir, 'cni.yaml'), 'utf8'), /"Type": "vxlan"/);
        await p
          .locator('.tabs-container .tab', { hasText: 'kind-config.yaml' })
          .first()
          .waitFor({ state: 'visible' });
        // What ran: kind first, then the Flannel manifest applied to the new context.
        const argv = readFileSync(calls, 'utf8').split('\n').filter(Boolean);
        assert.equal(argv[0]?.split('\x1f').slice(0, 3).join(' '), 'kind create cluster');
        assert.ok(
          argv.some(
            (l) => l.includes(`kind-${NAME}`) && l.includes('apply') && l.endsWith('cni.yaml'),
          ),
          argv.join('\n'),
        );

        // The Labs view lists the new lab cluster under "Lab clusters on kind".
        await activity.click();
        const view = await showView(p, 'Labs', ['Captures', 'Datapaths', 'Clusters']);
        const group = view.locator('.monaco-list-row', { hasText: 'Lab clusters on kind' });
        await group.first().waitFor({ state: 'visible' });
        if ((await group.first().getAttribute('aria-expanded')) === 'false') {
          await group.first().click();
        }
        const lab = view.locator('.monaco-list-row', { hasText: NAME }).first();
        await lab.waitFor({ state: 'visible', timeout: 20_000 });
        await until('the group to count one cluster', 10_000, async () =>
          /Lab clusters on kind\s*1/.test((await group.first().textContent()) ?? '')
            ? true
            : undefined,
        );
        await p.screenshot({ path: join(shots, 'kindlab-labs-view.png') });
      } catch (err) {
        await p.screenshot({ path: join(shots, 'failed-kindlab.png') }).catch(() => undefined);
        throw err;
      }
    });
  },
);
