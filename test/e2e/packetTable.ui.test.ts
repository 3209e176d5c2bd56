// The panel's packet table in Debian's Chromium, on a bare page with the built webview
// (dist/webview.js) and a stand-in host that answers like PanelHost over a 1,000,000-packet
// hop: the first page comes with the view, Next / a page jump / the filter box ask the
// host, and selecting a packet lists it at every hop. No code-server needed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath } from '../../scripts/e2e/workbench';

const ROOT = join(__dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist', 'webview.js');

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
});

/** The host's side, in the page: answers queryPackets / followPacket / selectPacket. */
const HOST = String.raw`
window.posted = [];
const TOTAL = 1000000;
const row = (i) => ({ time: '00:00:' + String(i % 60).padStart(2, '0') + '.000000', source: '10.244.0.5',
  destination: '10.244.1.4', protocol: 'ICMP', ttl: 64, length: 98, encapsulation: '',
  info: 'echo request, id 7, seq ' + i });
const view = { kind: 'analysis', title: 'Big', subtitle: '', diagram: null, missingHop: null,
  findings: [], notes: [], hops: [0, 1].map((h) => ({ name: 'hop' + h, packetCount: TOTAL, seen: true,
  summary: '', rows: Array.from({ length: 500 }, (_, i) => row(i)), truncated: true, issues: [] })) };
const reply = (m) => window.postMessage(m, '*');
window.acquireVsCodeApi = () => ({
  getState: () => undefined, setState: () => undefined,
  postMessage: (m) => {
    window.posted.push(m);
    if (m.type === 'ready') reply({ type: 'show', view });
    if (m.type === 'queryPackets') {
      const q = m.query;
      const matching = q.filter ? TOTAL / 2 : TOTAL;
      const indices = [];
      for (let i = q.offset; i < Math.min(matching, q.offset + q.count); i++) indices.push(q.filter ? i * 2 : i);
      reply({ type: 'packetPage', requestId: m.requestId, hop: m.hop, error: null,
        page: { matching, offset: q.offset, rows: indices.map(row), indices, filterError: null } });
    }
    if (m.type === 'followPacket') {
      reply({ type: 'followedPacket', requestId: m.requestId, hop: m.hop, index: m.index,
        hops: [0, 1].map((h) => ({ hop: 'hop' + h, index: m.index, row: row(m.index), ttl: 64 - h,
          outer: h ? 'VXLAN VNI 1, 172.18.0.5 → 172.18.0.6 UDP 8472' : '', macs: 'aa → bb', nat: '' })) });
    }
    if (m.type === 'selectPacket') {
      reply({ type: 'packetLayers', requestId: m.requestId, layers: [], error: null });
    }
  } });
`;

test('the packet table pages, filters and follows through the host', async (t) => {
  if (!existsSync(BUNDLE) || !existsSync(chromiumPath)) {
    t.skip('needs dist/webview.js (node esbuild.mjs) and Chromium');
    return;
  }
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ content: HOST });
  await page.addScriptTag({ content: readFileSync(BUNDLE, 'utf8') });
  const rows = page.locator('table.pp-grid tbody tr');
  await rows.first().waitFor({ timeout: 30_000 });
  assert.equal(await rows.count(), 500);
  assert.match(await page.locator('body').innerText(), /rows 1–500 of 1,000,000/);

  await page.getByTitle('Next page').click();
  await page.getByText('rows 501–1,000 of 1,000,000').waitFor();
  assert.match(await rows.first().innerText(), /seq 500/);

  const jump = page.getByLabel('Go to page');
  await jump.fill('1500');
  await jump.press('Enter');
  await page.getByText('rows 749,501–750,000 of 1,000,000').waitFor();

  await page.getByLabel('Filter packets').fill('10.244.1.4');
  await page.getByLabel('Filter packets').press('Enter');
  await page.getByText('(filtered from 1,000,000)').waitFor();
  const queries = (await page.evaluate('window.posted')) as {
    type: string;
    query?: { filter: string };
  }[];
  assert.ok(queries.some((m) => m.type === 'queryPackets' && m.query?.filter === '10.244.1.4'));

  await rows.nth(2).click();
  await page.getByText('This packet at every hop').waitFor();
  const followed = await page
    .locator('section[aria-label="This packet at every hop"] li')
    .allInnerTexts();
  assert.equal(followed.length, 2);
  assert.match(followed[1]!, /hop1 · #5 · TTL 63 .* VXLAN VNI 1/);
  // The followed packet in the other hop: a click there shows that hop, marked.
  await page.locator('section[aria-label="This packet at every hop"] li').nth(1).click();
  await page.locator('table.pp-grid tbody tr.pp-selected').waitFor();
  assert.match(await page.locator('table.pp-grid tbody tr.pp-selected').innerText(), /seq 4/);
});
