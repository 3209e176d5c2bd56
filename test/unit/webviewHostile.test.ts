/**
 * Hostile input, tested where it is shown: the BUILT panel bundle (dist/webview.js, rebuilt
 * with `node esbuild.mjs webview` when a webview source is newer) runs in Debian's Chromium
 * on a page with a stand-in for VS Code's webview API and no CSP, so nothing but the
 * panel's own code stands between a message and the DOM. Titles, hop names, findings, notes,
 * packet rows, layer fields and diagram sources carrying markup, event handlers,
 * `javascript:` links, Mermaid init directives and `click` callbacks go through the real
 * message protocol (`show`, `selectPacket` → `packetLayers`); the test clicks what a person
 * would click, then checks that nothing ran (a window flag, no dialog) and nothing was
 * injected (no element or attribute that can act, SVG included), while the hostile text is
 * still shown as text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { buildDatapathPlan, defaultPlanInput } from '../../src/core/datapath/plans';
import { buildSequenceDiagram } from '../../src/core/diagram/sequenceDiagram';
import { kindTopologyDiagram } from '../../src/core/manifests/kindTopology';
import type { LayerDetail, PacketRow } from '../../src/core/packets/packetSummary';
import type { FromWebview, HopView, PanelView, ToWebview } from '../../src/protocol';

const CHROMIUM = '/usr/bin/chromium';
const repoRoot = join(__dirname, '..', '..');
const bundle = join(repoRoot, 'dist', 'webview.js');
const noBrowser = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM}`;
const ORIGIN = 'http://podpath-webview.test';

// Every payload that could run sets window.__pwned and opens a dialog.
const act = (tag: string): string => `window.__pwned='${tag}';alert('${tag}')`;
const IMG = `<img src=x onerror="${act('img')}">`;
const SCRIPT = `<script>${act('script')}</script>`;
const SVG = `"><svg onload="${act('svg')}"><circle r=9 /></svg>`;
const LINK = `<a href="javascript:${act('link')}">open</a>`;
const INIT = `%%{init: {"securityLevel":"loose","startOnLoad":true}}%%`;
const HOSTILE = [IMG, SCRIPT, SVG, LINK, INIT, `javascript:${act('bare')}`, 'click A call pwn()'];

const hopNames = [
  `01-podA-${IMG}`,
  `02-nodeA-${SCRIPT}`,
  `03-${SVG}-eth0`,
  `04-nodeB-${INIT}\nclick nodeB call pwn()`,
  `05-podB-${LINK}`,
];

function row(i: number): PacketRow {
  const h = (n: number): string => HOSTILE[(i + n) % HOSTILE.length] ?? '';
  return {
    time: h(0),
    source: h(1),
    destination: h(2),
    protocol: h(3),
    ttl: 64,
    length: 98,
    frameLength: 98,
    ipLength: 84,
    encapsulation: h(4),
    info: h(5),
  };
}

function hop(name: string, i: number): HopView {
  return {
    name,
    packetCount: 3,
    seen: i < 3,
    summary: HOSTILE[i % HOSTILE.length] ?? '',
    rows: [row(i), row(i + 1), row(i + 2)],
    truncated: false,
    issues: [HOSTILE[(i + 3) % HOSTILE.length] ?? ''],
  };
}

/** The panel as the host sends it for an analysis: the diagram written by core. */
const analysis: PanelView = {
  kind: 'analysis',
  title: IMG,
  subtitle: SVG,
  diagram: buildSequenceDiagram({ hopNames, title: `${INIT}\n${SCRIPT}` }),
  missingHop: hopNames[3] ?? null,
  findings: [SCRIPT, `javascript:${act('finding')}`, INIT],
  notes: [LINK, 'click A call pwn()', IMG],
  hops: hopNames.map(hop),
};

/** Diagram sources the host would never write, in case the escaping in core ever slips. */
const rawDiagrams = [
  `${INIT}
sequenceDiagram
  participant A as ${IMG}
  participant B as ${SVG}
  A->>B: ${SCRIPT}
  Note over A,B: ${LINK}
  link A: Evil @ javascript:${act('actorLink')}
  links B: {"Evil": "javascript:${act('actorLinks')}"}`,
  `${INIT}
flowchart LR
  A["${IMG.replaceAll('"', "'")}"] --> B["<a href='javascript:${act('label')}'>b</a>"]
  click A call pwn()
  click B href "javascript:${act('href')}"`,
  // CSS from the diagram's text must not fetch anything (a request is a leak).
  `%%{init: {"themeCSS": "svg { background: url(${ORIGIN}/leak-themecss) } .node rect { fill: url(${ORIGIN}/leak-fill) }"}}%%
flowchart LR
  A --> B`,
  `%%{init: {"themeCSS": "@import '${ORIGIN}/leak-import.css'; svg { background: \\\\75 rl(${ORIGIN}/leak-escaped) }"}}%%
sequenceDiagram
  A->>B: hi`,
];

const layers: LayerDetail[] = [
  {
    kind: 'ipv4',
    title: IMG,
    fields: HOSTILE.map((value, i) => ({ name: HOSTILE[(i + 1) % HOSTILE.length] ?? '', value })),
  },
];

let browser: Browser | undefined;
let page: Page | undefined;
const dialogs: string[] = [];
/** Requests other than the page and the bundle: an injected image, stylesheet or link. */
const strayRequests: string[] = [];
const pageErrors: string[] = [];

/** Newest modification time under a folder (for "is the bundle older than its sources"). */
function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

before(async () => {
  if (noBrowser) return;
  const sources = Math.max(
    newest(join(repoRoot, 'webview')),
    newest(join(repoRoot, 'src', 'protocol.ts')),
    newest(join(repoRoot, 'src', 'core', 'packets', 'packetSummary.ts')),
  );
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    const built = spawnSync(process.execPath, ['esbuild.mjs', 'webview'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, `node esbuild.mjs webview failed:\n${built.stderr}`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // A page like the panel's shell, without its CSP: only the panel's own code protects it.
  const shell = `<!doctype html><html><head><meta charset="utf-8"></head><body>
<div id="app"></div>
<script id="pp-stub">
  window.__posted = [];
  window.__state = undefined;
  window.pwn = () => { window.__pwned = 'pwn()'; };
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => window.__state,
    setState: (s) => { window.__state = s; },
  });
</script>
<script id="pp-bundle" src="${ORIGIN}/webview.js"></script>
</body></html>`;
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = route.request().url();
    if (url === `${ORIGIN}/`) {
      return route.fulfill({ contentType: 'text/html', body: shell });
    }
    if (url === `${ORIGIN}/webview.js`) {
      return route.fulfill({ contentType: 'text/javascript', body: readFileSync(bundle, 'utf8') });
    }
    // Anything else (an injected <img src=x>, a link) is a request the panel should not make.
    strayRequests.push(url);
    return route.fulfill({ status: 404, body: '' });
  });
  await page.goto(`${ORIGIN}/`);
  await waitPosted((m) => m.type === 'ready', 'ready');
});

after(async () => {
  await browser?.close();
});

function thePage(): Page {
  assert.ok(page, 'the browser did not start');
  return page;
}

async function posted(): Promise<FromWebview[]> {
  return thePage().evaluate('window.__posted') as Promise<FromWebview[]>;
}

async function waitPosted(match: (m: FromWebview) => boolean, what: string): Promise<FromWebview> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = (await posted()).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`the panel never posted ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Posts a host message the way VS Code delivers it: a MessageEvent on the window. */
async function send(message: ToWebview): Promise<void> {
  await thePage().evaluate(
    `window.__posted.length = 0; window.postMessage(${JSON.stringify(message)}, '*')`,
  );
}

async function showAndWait(view: PanelView): Promise<Extract<FromWebview, { type: 'rendered' }>> {
  await send({ type: 'show', view });
  return (await waitPosted((m) => m.type === 'rendered', 'rendered')) as Extract<
    FromWebview,
    { type: 'rendered' }
  >;
}

interface Inspection {
  pwned: unknown;
  /** Elements that can run code or load something, as `tag` or `tag[attr=value]`. */
  active: string[];
  /** SVG elements outside the diagram container. */
  strayedSvg: number;
  scripts: string[];
}

// Runs in the page: walks the document and every shadow root.
const INSPECT = `(() => {
  const out = { pwned: window.__pwned, active: [], strayedSvg: 0, scripts: [] };
  const ACTIVE_TAGS = new Set(['img', 'image', 'iframe', 'object', 'embed', 'frame', 'base',
    'animate', 'set', 'animatetransform', 'animatemotion', 'audio', 'video', 'form', 'meta', 'link']);
  const URL_ATTRS = new Set(['href', 'xlink:href', 'src', 'action', 'formaction', 'data']);
  const visit = (root) => {
    for (const node of root.querySelectorAll('*')) {
      const tag = node.tagName.toLowerCase();
      if (tag === 'script') out.scripts.push(node.id || '(no id)');
      if (ACTIVE_TAGS.has(tag) && !(tag === 'meta' && node.getAttribute('charset'))) {
        out.active.push(tag);
      }
      for (const attr of node.attributes) {
        const name = attr.name.toLowerCase();
        if (name.startsWith('on')) out.active.push(tag + '[' + name + ']');
        if (URL_ATTRS.has(name) && /^\\s*(javascript|data|vbscript):/i.test(attr.value)) {
          out.active.push(tag + '[' + name + '=' + attr.value.slice(0, 30) + ']');
        }
      }
      if (tag === 'svg' && !node.closest('.pp-diagram') && root === document) out.strayedSvg++;
      if (node.shadowRoot) visit(node.shadowRoot);
    }
  };
  visit(document);
  return out;
})()`;

async function inspect(): Promise<Inspection> {
  return thePage().evaluate(INSPECT) as Promise<Inspection>;
}

function assertClean(r: Inspection, where: string): void {
  assert.equal(r.pwned, undefined, `${where}: a payload ran (window.__pwned = ${String(r.pwned)})`);
  assert.deepEqual(dialogs, [], `${where}: a dialog opened`);
  assert.deepEqual(r.active, [], `${where}: elements or attributes that can act were injected`);
  assert.equal(r.strayedSvg, 0, `${where}: SVG outside the diagram`);
  assert.deepEqual(r.scripts, ['pp-stub', 'pp-bundle'], `${where}: scripts in the page`);
  assert.deepEqual(strayRequests, [], `${where}: the page fetched something`);
}

/** Clicks every element a person could click in the panel (links, tabs, rows, diagram parts). */
async function clickEverything(): Promise<void> {
  const p = thePage();
  const targets = p.locator(
    '.pp-diagram a, .pp-diagram .actor, .pp-diagram text, .pp-diagram .node, a, button[data-hop]',
  );
  const n = Math.min(await targets.count(), 40);
  for (let i = 0; i < n; i++) {
    await targets
      .nth(i)
      .click({ timeout: 200, force: true, noWaitAfter: true })
      .catch(() => undefined);
  }
  await p.waitForTimeout(200);
}

test(
  'hostile analysis: nothing runs, nothing is injected, the text is shown as text',
  {
    skip: noBrowser,
  },
  async () => {
    const rendered = await showAndWait(analysis);
    // Core's escaping keeps the diagram drawable whatever the hop names say.
    assert.equal(rendered.diagram, 'ok', rendered.error ?? '');
    assert.equal(rendered.participants.length, new Set(hopNames.map((n) => n.split('-')[1])).size);
    assertClean(await inspect(), 'after show');

    const p = thePage();
    assert.equal(await p.locator('h1').textContent(), IMG, 'the title is shown as text');
    const items = await p.locator('li').allTextContents();
    for (const text of [...analysis.findings, ...analysis.notes]) {
      assert.ok(items.includes(text), `not shown as text: ${text}`);
    }
    const hopTexts = await p.locator('button[data-hop]').allTextContents();
    for (const name of hopNames) {
      assert.ok(
        hopTexts.some((t) => t.includes(name)),
        `hop ${JSON.stringify(name)} is not shown as text`,
      );
    }
    const cells = await p.locator('td').allTextContents();
    for (const text of HOSTILE) assert.ok(cells.includes(text), `row text missing: ${text}`);

    // Select another hop and a packet; answer with hostile layers as the host would.
    await p.locator('button[data-hop="2"]').click();
    await p.locator('tr[data-key]').first().click();
    const select = await waitPosted((m) => m.type === 'selectPacket', 'selectPacket');
    assert.ok(select.type === 'selectPacket');
    assert.equal(select.hop, 2);
    await send({ type: 'packetLayers', requestId: select.requestId, layers, error: null });
    await p.waitForFunction(
      `document.body.textContent.includes(${JSON.stringify(layers[0]?.fields[0]?.name ?? '')})`,
    );
    await send({ type: 'packetLayers', requestId: select.requestId + 1, layers, error: SVG });
    assertClean(await inspect(), 'after the packet layers');

    await clickEverything();
    assertClean(await inspect(), 'after clicking everything');
    assert.deepEqual(pageErrors, []);
  },
);

for (const [i, diagram] of rawDiagrams.entries()) {
  test(
    `a hostile diagram source (${['sequence, links', 'flowchart, click', 'themeCSS url()', 'themeCSS @import'][i]}) cannot act`,
    {
      skip: noBrowser,
    },
    async () => {
      // Each source on its own: what an earlier one did is its own test's failure.
      strayRequests.length = 0;
      dialogs.length = 0;
      const rendered = await showAndWait({
        ...analysis,
        title: `raw diagram ${i}`,
        diagram,
        hops: [],
      });
      // Drawn or refused, either way the page stays inert.
      assert.ok(rendered.diagram === 'ok' || rendered.diagram === 'failed');
      assertClean(await inspect(), `raw diagram ${i}`);
      await clickEverything();
      assertClean(await inspect(), `raw diagram ${i} after clicks`);
      const svg = await thePage().locator('.pp-diagram svg').count();
      if (rendered.diagram === 'ok') assert.equal(svg, 1);
      // A source mermaid refuses is shown as text.
      else assert.equal(await thePage().locator('.pp-diagram pre').textContent(), diagram);
    },
  );
}

test('a message that is not in the protocol is ignored', { skip: noBrowser }, async () => {
  await thePage().evaluate(
    `window.postMessage({ type: 'html', html: ${JSON.stringify(IMG)} }, '*');` +
      `window.postMessage(${JSON.stringify(IMG)}, '*');`,
  );
  await thePage().waitForTimeout(200);
  assertClean(await inspect(), 'after unknown messages');
  assert.equal(
    await thePage().locator('h1').textContent(),
    `raw diagram ${rawDiagrams.length - 1}`,
  );
});

test(
  'the allowlist keeps our own diagrams whole: a datapath plan and the kind topology',
  {
    skip: noBrowser,
  },
  async () => {
    const plan = buildDatapathPlan(defaultPlanInput('flannel-vxlan'));
    const datapath = await showAndWait({
      ...analysis,
      title: plan.title,
      diagram: buildSequenceDiagram({ plan }),
      hops: [],
    });
    assert.equal(datapath.diagram, 'ok', datapath.error ?? '');
    assert.deepEqual(datapath.participants, [
      'podA 10.244.0.5',
      'nodeA',
      'nodeB',
      'podB 10.244.1.4',
    ]);
    const arrows = await thePage().locator('.pp-diagram svg [marker-end]').count();
    assert.ok(arrows >= plan.hops.length - 1, `${arrows} arrows for ${plan.hops.length} hops`);

    const topology = await showAndWait({
      ...analysis,
      title: 'kind',
      diagram: kindTopologyDiagram({
        kind: 'kindCluster',
        range: { startLine: 0, endLine: 5 },
        name: 'lab',
        nodes: [{ role: 'control-plane' }, { role: 'worker' }],
        disableDefaultCNI: true,
        podSubnet: '10.244.0.0/16',
        serviceSubnet: null,
      }),
      hops: [],
    });
    assert.equal(topology.diagram, 'ok', topology.error ?? '');
    // Text labels (no HTML): each <br/> line of a node is a line of its own.
    const lines = await thePage().locator('.pp-diagram svg text tspan').allTextContents();
    for (const want of [
      'lab-control-plane',
      'lab-worker',
      '/24 of 10.244.0.0/16)',
      'services 10.96.0.0/12',
      'worker',
    ]) {
      assert.ok(
        lines.some((l) => l.trim() === want),
        `${want} is not a label line: ${JSON.stringify(lines)}`,
      );
    }
    assert.equal(await thePage().locator('.pp-diagram foreignObject').count(), 0);
    assertClean(await inspect(), 'our own diagrams');
  },
);

test(
  'a hop’s capture file: hostile names stay text; Reveal and Open in Wireshark by keyboard post only the hop index',
  { skip: noBrowser },
  async () => {
    const p = thePage();
    const withFiles: PanelView = {
      ...analysis,
      title: 'capture files',
      hops: analysis.hops.map((h, i) => ({
        ...h,
        capture: { path: `/storage/traces/t/${hopNames[i] ?? ''}.pcap`, wireshark: i !== 1 },
      })),
    };
    await showAndWait(withFiles);
    const bar = p.locator('.pp-hop-file');
    await bar.waitFor({ state: 'visible' });
    assert.match((await bar.textContent()) ?? '', /Capture 01-podA-<img src=x onerror=/);
    const reveal = bar.getByRole('button', { name: /^Reveal/ });
    await reveal.focus();
    await p.keyboard.press('Enter');
    assert.deepEqual(await waitPosted((m) => m.type === 'captureFile', 'captureFile'), {
      type: 'captureFile',
      hop: 0,
      action: 'reveal',
    });
    // Tab moves from Reveal to Open in Wireshark; Space presses it.
    await p.evaluate('window.__posted.length = 0');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Space');
    assert.deepEqual(await waitPosted((m) => m.type === 'captureFile', 'captureFile'), {
      type: 'captureFile',
      hop: 0,
      action: 'wireshark',
    });
    // The second hop has no Wireshark (not installed): only Reveal, for hop index 1.
    await p.locator('.pp-hops [data-hop="1"]').click();
    await bar.getByRole('button', { name: /^Reveal/ }).waitFor();
    assert.equal(await bar.getByRole('button', { name: /Wireshark/ }).count(), 0);
    await p.evaluate('window.__posted.length = 0');
    await bar.getByRole('button', { name: /^Reveal/ }).click();
    assert.deepEqual(await waitPosted((m) => m.type === 'captureFile', 'captureFile'), {
      type: 'captureFile',
      hop: 1,
      action: 'reveal',
    });
    // A view without files shows no bar.
    await showAndWait({ ...analysis, title: 'no files' });
    assert.equal(await bar.isVisible(), false);
    assertClean(await inspect(), 'capture file names');
  },
);
