/**
 * The Service flowcharts, rendered by the mermaid the webview bundles in a real
 * browser: every fixture's Services parse and render, and names taken from the
 * rules cannot inject markup.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { explainServices } from '../../src/core/kubeproxy/explainService';
import { buildServiceDiagram } from '../../src/core/kubeproxy/serviceDiagram';

const CHROMIUM = '/usr/bin/chromium';
const MERMAID = join(__dirname, '..', '..', 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');
const noBrowser = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM}`;
const FIX = join(__dirname, '..', 'fixtures', 'kubeproxy');

interface Rendered {
  injected: number;
  text: string;
  error: string | null;
}

function diagrams(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const file of [
    '01_TestOverallIPTablesRules_recent.restore.txt',
    'nft-overall-v1.33.json',
    'ipvs-node.txt',
    'seed001-externalip.txt',
  ])
    for (const s of explainServices(readFileSync(join(FIX, file), 'utf8')).services)
      out.push({
        name: `${file} ${s.namespace}/${s.name}:${s.port}`,
        text: buildServiceDiagram(s),
      });
  const hostile = explainServices(
    [
      '*nat',
      '-A KUBE-SERVICES -d 10.0.0.1/32 -p tcp -m comment --comment "a/b<img src=x onerror=alert(1)>:p cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA',
      '-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-BBBBBBBBBBBBBBBB',
      '-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -j DNAT --to-destination 10.1.1.1:80',
      'COMMIT',
    ].join('\n'),
  ).services;
  for (const s of hostile) out.push({ name: 'hostile names', text: buildServiceDiagram(s) });
  return out;
}

let browser: Browser | undefined;
let page: Page | undefined;

before(async () => {
  if (noBrowser) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage();
  await page.setContent('<!doctype html><html><body><div id="out"></div></body></html>');
  await page.addScriptTag({ content: readFileSync(MERMAID, 'utf8') });
});

after(async () => {
  await browser?.close();
});

test('every Service flowchart renders, without injected markup', { skip: noBrowser }, async () => {
  const cases = diagrams();
  assert.ok(cases.length >= 15);
  for (const [i, c] of cases.entries()) {
    const r = await page!.evaluate(
      async ({ text, i }): Promise<Rendered> => {
        const g = globalThis as unknown as {
          mermaid: {
            initialize: (o: object) => void;
            render: (id: string, t: string) => Promise<{ svg: string }>;
          };
          document: {
            getElementById: (id: string) => {
              innerHTML: string;
              textContent: string | null;
              querySelectorAll: (s: string) => { length: number };
            } | null;
          };
        };
        // As the webview draws them (webview/diagram.ts): SVG text labels, no HTML.
        g.mermaid.initialize({
          startOnLoad: false,
          securityLevel: 'strict',
          htmlLabels: false,
          flowchart: { htmlLabels: false },
        });
        try {
          const { svg } = await g.mermaid.render(`s${i}`, text);
          const out = g.document.getElementById('out')!;
          out.innerHTML = svg;
          return {
            injected: out.querySelectorAll('img, script, [onerror], [onload]').length,
            text: out.textContent ?? '',
            error: null,
          };
        } catch (e) {
          return { injected: 0, text: '', error: String(e) };
        }
      },
      { text: c.text, i },
    );
    assert.equal(r.error, null, `${c.name}\n${c.text}`);
    assert.equal(r.injected, 0, c.name);
    assert.match(r.text, /DNAT|dropped|rejected|no rule|cannot/, c.name);
    // What the panel shows is what the label says: no entity codes left undecoded.
    assert.doesNotMatch(
      r.text.replace(/^[^]*?:root\{[^}]*\}/, ''),
      /&#\d+;|&(quot|lt|gt|amp);/,
      c.name,
    );
  }
});
