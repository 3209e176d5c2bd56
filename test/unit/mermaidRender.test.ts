/**
 * The diagrams our core writes, rendered by the same mermaid the webview bundles,
 * in a real browser: every plan parses to the expected participants and messages,
 * and hostile hop names neither break the diagram nor inject markup.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { CNI_MODES, buildDatapathPlan, defaultPlanInput } from '../../src/core/datapath/plans';
import { buildSequenceDiagram } from '../../src/core/diagram/sequenceDiagram';
import type { HopReport } from '../../src/core/hops/types';

const CHROMIUM = '/usr/bin/chromium';
const MERMAID = join(__dirname, '..', '..', 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');
const noBrowser = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM}`;

const HOSTILE = [
  '01-a;b-eth0',
  '02-x\nparticipant evil-eth0',
  '03-<img src=x onerror=alert(1)>-eth0',
  '%%{init: {"securityLevel":"loose"}}%%',
  'end',
  'Note over',
  '07-nodé🙂\u202e-eth0',
  '08-<script>alert(1)</script>-eth0',
  '09-a->>b: injected-eth0',
  '10-`x`$$\\alpha$$#59;-eth0',
  '',
  '\n\n',
  'x'.repeat(500),
];

interface Case {
  name: string;
  text: string;
  participants: number;
  messages: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const { mode } of CNI_MODES) {
    for (const sameNode of [false, true]) {
      const plan = buildDatapathPlan(defaultPlanInput(mode, { sameNode }));
      out.push({
        name: plan.title,
        text: buildSequenceDiagram({ plan }),
        participants: new Set(plan.hops.map((h) => h.location.name)).size,
        messages: plan.hops.length,
      });
    }
  }
  const plan = buildDatapathPlan(defaultPlanInput('flannel-vxlan'));
  const hops: HopReport[] = plan.hops.map((h, i) => ({
    name: h.name,
    packets: i >= 4 ? 0 : 6,
    seen: i < 4,
    match: i < 4 ? 'packet' : null,
    probesSeen: i < 4 ? 3 : 0,
    lengthsDerived: false,
    ttl: i < 4 ? h.expectedTtl : null,
    innerLength: null,
    outerLength: null,
    overheadBytes: h.encapsulation && i < 4 ? 50 : null,
    encapsulation: h.encapsulation && i < 4 ? { type: 'vxlan', vni: 1, dstPort: 8472 } : null,
    timeOffsetMs: null,
    srcMac: null,
    dstMac: null,
    src: null,
    dst: null,
  }));
  out.push({
    name: 'Flannel VXLAN with hop 5 missing',
    text: buildSequenceDiagram({
      plan,
      report: { hops, firstMissingHop: '05-nodeB-eth0', matchedBy: 'packet', findings: [] },
    }),
    participants: 4,
    messages: 9,
  });
  out.push({
    name: 'hostile hop names and title',
    text: buildSequenceDiagram({ hopNames: HOSTILE, title: 'x\n%%{init}%% <b>t</b>; end' }),
    participants: HOSTILE.length,
    messages: HOSTILE.length,
  });
  return out;
}

let browser: Browser | undefined;
let page: Page | undefined;
const alerts: string[] = [];

before(async () => {
  if (noBrowser) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  page = await browser.newPage();
  page.on('dialog', (d) => {
    alerts.push(d.message());
    void d.dismiss();
  });
  await page.setContent('<!doctype html><html><body><div id="out"></div></body></html>');
  await page.addScriptTag({ content: readFileSync(MERMAID, 'utf8') });
  await page.evaluate(() =>
    (globalThis as unknown as BrowserGlobals).mermaid.initialize({
      startOnLoad: false,
      securityLevel: 'strict',
    }),
  );
});

after(async () => {
  await browser?.close();
});

for (const [i, c] of cases().entries()) {
  test(`mermaid renders: ${c.name}`, { skip: noBrowser }, async () => {
    const r = await page!.evaluate(
      async ({ text, i }) => {
        // Runs in the page: reach the DOM through globalThis (the test compiles for Node).
        const g = globalThis as unknown as BrowserGlobals;
        const m = g.mermaid;
        const d = await m.mermaidAPI.getDiagramFromText(text);
        const actors = [...d.db.getActors().values()].length;
        const messages = d.db.getMessages().filter((x) => x.from && x.to).length;
        const { svg } = await m.render(`d${i}`, text);
        const out = g.document.getElementById('out')!;
        out.innerHTML = svg;
        const injected = out.querySelectorAll('img, script, [onerror], [onload]').length;
        return { actors, messages, injected, text: out.textContent ?? '' };
      },
      { text: c.text, i },
    );
    assert.equal(r.actors, c.participants, 'participants');
    assert.equal(r.messages, c.messages, 'messages');
    assert.equal(r.injected, 0, 'injected elements');
    if (c.name.startsWith('hostile')) assert.ok(r.text.includes('<img src=x onerror=alert(1)>'));
    assert.deepEqual(alerts, []);
  });
}

interface BrowserGlobals {
  mermaid: MermaidGlobal;
  document: {
    getElementById(id: string): {
      innerHTML: string;
      textContent: string | null;
      querySelectorAll(selector: string): { length: number };
    } | null;
  };
}

interface MermaidGlobal {
  initialize(config: object): void;
  mermaidAPI: {
    getDiagramFromText(text: string): Promise<{
      db: {
        getActors(): Map<string, unknown>;
        getMessages(): { from?: string; to?: string }[];
      };
    }>;
  };
  render(id: string, text: string): Promise<{ svg: string }>;
}
