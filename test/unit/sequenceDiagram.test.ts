import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CNI_MODES, buildDatapathPlan, defaultPlanInput } from '../../src/core/datapath/plans';
import { parseHopName } from '../../src/core/datapath/hopName';
import { buildSequenceDiagram, escapeMermaidText } from '../../src/core/diagram/sequenceDiagram';
import type { DatapathPlan } from '../../src/core/datapath/types';
import type { HopReport } from '../../src/core/hops/types';

const flannel = (): DatapathPlan => buildDatapathPlan(defaultPlanInput('flannel-vxlan'));

/** A report as correlation gives it for the Flannel VXLAN lab, with hops from `lost` on unseen. */
function report(plan: DatapathPlan, lost: number | null, ttlAt3 = 63) {
  const hops: HopReport[] = plan.hops.map((h, i) => {
    const seen = lost === null || i + 1 < lost;
    const encap = seen && h.encapsulation !== null;
    return {
      name: h.name,
      packets: seen ? 6 : 0,
      seen,
      match: seen ? 'packet' : null,
      probesSeen: seen ? 3 : 0,
      lengthsDerived: false,
      ttl: seen ? (i === 2 ? ttlAt3 : h.expectedTtl) : null,
      innerLength: seen ? 84 : null,
      outerLength: encap ? 134 : null,
      overheadBytes: encap ? 50 : null,
      encapsulation: encap ? { type: 'vxlan', vni: 1, dstPort: 8472 } : null,
      timeOffsetMs: seen ? i * 0.01 : null,
      srcMac: null,
      dstMac: null,
      src: seen ? '10.244.0.5' : null,
      dst: seen ? '10.244.1.4' : null,
    };
  });
  const missing = hops.find((h) => !h.seen)?.name ?? null;
  return { hops, firstMissingHop: missing, matchedBy: 'packet' as const, findings: [] };
}

const lines = (text: string) => text.trimEnd().split('\n');

test('a plan gives one participant per location and one message per transition', () => {
  assert.deepEqual(lines(buildSequenceDiagram({ plan: flannel() })), [
    'sequenceDiagram',
    '    title Flannel VXLAN, cross-node',
    '    participant P1 as podA 10.244.0.5',
    '    participant P2 as nodeA',
    '    participant P3 as nodeB',
    '    participant P4 as podB 10.244.1.4',
    '    Note over P1: 01 eth0 · ICMP echo request, TTL 64',
    '    P1->>P2: 02 cni0 · bridged',
    '    P2->>P2: 03 flannel.1 · routed TTL 64→63',
    '    P2->>P2: 04 eth0 · VXLAN encap +50 B, UDP 8472, VNI 1',
    '    P2->>P3: 05 eth0 · wire, outer 172.18.0.5 → 172.18.0.6',
    '    P3->>P3: 06 flannel.1 · decap, inner TTL 63',
    '    P3->>P3: 07 cni0 · routed TTL 63→62',
    '    P3->>P4: 08 eth0 · delivered to podB',
  ]);
  const same = buildSequenceDiagram({
    plan: buildDatapathPlan(defaultPlanInput('calico-bgp', { sameNode: true })),
  });
  assert.deepEqual(lines(same).slice(2), [
    '    participant P1 as podA 192.168.49.66',
    '    participant P2 as nodeA',
    '    participant P3 as podB 192.168.49.67',
    '    Note over P1: 01 eth0 · ICMP echo request, TTL 64',
    '    P1->>P2: 02 cali1f5c8e2a9b3 · veth',
    '    P2->>P2: 03 cali5e9b0d3a7c2 · routed TTL 64→63',
    '    P2->>P3: 04 eth0 · delivered to podB',
  ]);
});

test('a report labels arrows with what was observed', () => {
  const plan = flannel();
  const text = buildSequenceDiagram({ plan, report: report(plan, null) });
  const body = lines(text);
  assert.ok(body.includes('    Note over P1: 01 eth0 · sent, TTL 64, seen 3/3'));
  assert.ok(body.includes('    P2->>P2: 03 flannel.1 · routed, TTL 64→63, seen 3/3'));
  assert.ok(
    body.includes('    P2->>P2: 04 eth0 · VXLAN encap +50 B, UDP 8472, VNI 1, TTL 63, seen 3/3'),
  );
  assert.ok(body.includes('    P3->>P3: 06 flannel.1 · decap, TTL 63, seen 3/3'));
  assert.ok(body.includes('    P3->>P3: 07 cni0 · routed, TTL 63→62, seen 3/3'));
  assert.ok(!text.includes('-x'), 'nothing lost');
  assert.ok(!text.includes('rect'), 'nothing greyed');
});

test('the first missing hop gets a lost arrow and a note; later hops are dashed on a grey band', () => {
  const plan = flannel();
  const body = lines(buildSequenceDiagram({ plan, report: report(plan, 5) }));
  assert.deepEqual(body.slice(7), [
    '    P1->>P2: 02 cni0 · bridged, TTL 64, seen 3/3',
    '    P2->>P2: 03 flannel.1 · routed, TTL 64→63, seen 3/3',
    '    P2->>P2: 04 eth0 · VXLAN encap +50 B, UDP 8472, VNI 1, TTL 63, seen 3/3',
    '    P2-xP3: 05 eth0 · not seen (planned#58; wire, outer 172.18.0.5 → 172.18.0.6)',
    '    Note over P3: not seen at 05-nodeB-eth0',
    '    rect rgba(128, 128, 128, 0.15)',
    '      P3--xP3: 06 flannel.1 · not reached',
    '      P3--xP3: 07 cni0 · not reached',
    '      P3--xP4: 08 eth0 · not reached',
    '    end',
  ]);
  // Missing at the very first hop: no arrow into it, everything after is greyed.
  const first = lines(buildSequenceDiagram({ plan, report: report(plan, 1) }));
  assert.equal(first[6], '    Note over P1: not seen at 01-podA-eth0');
  assert.equal(first[7], '    rect rgba(128, 128, 128, 0.15)');
  assert.equal(first.filter((l) => l.includes('--x')).length, 7);
  // Missing at the last hop: lost arrow, no band.
  const last = buildSequenceDiagram({ plan, report: report(plan, 8) });
  assert.match(last, /P3-xP4: 08 eth0 · not seen/);
  assert.ok(!last.includes('rect'));
});

test('differences from the plan are called out on the arrow', () => {
  const plan = flannel();
  const text = buildSequenceDiagram({ plan, report: report(plan, null, 64) });
  assert.match(text, /P2->>P2: 03 flannel\.1 · routed, TTL 64, expected TTL 63, seen 3\/3/);
});

test('without a plan, locations come from the hop names', () => {
  const plan = flannel();
  const r = report(plan, 5);
  const body = lines(buildSequenceDiagram({ report: r }));
  assert.deepEqual(body.slice(1, 5), [
    '    participant P1 as podA',
    '    participant P2 as nodeA',
    '    participant P3 as nodeB',
    '    participant P4 as podB',
  ]);
  assert.ok(body.includes('    P2-xP3: 05 eth0 · not seen'));
  const names = lines(
    buildSequenceDiagram({ hopNames: ['01-podA-eth0', '02-nodeA-vxlan.calico', '03-podB-eth0'] }),
  );
  assert.deepEqual(names, [
    'sequenceDiagram',
    '    participant P1 as podA',
    '    participant P2 as nodeA',
    '    participant P3 as podB',
    '    Note over P1: 01 eth0',
    '    P1->>P2: 02 vxlan.calico',
    '    P2->>P3: 03 eth0',
  ]);
  assert.deepEqual(lines(buildSequenceDiagram({ hopNames: [] })), ['sequenceDiagram']);
});

test('parseHopName', () => {
  assert.deepEqual(parseHopName('03-nodeA-vxlan.calico'), {
    index: 3,
    location: { kind: 'node', name: 'nodeA' },
    interface: 'vxlan.calico',
  });
  assert.deepEqual(parseHopName('04-podB-eth0'), {
    index: 4,
    location: { kind: 'pod', name: 'podB' },
    interface: 'eth0',
  });
  assert.deepEqual(parseHopName('05-underlay-br-spk'), {
    index: 5,
    location: { kind: 'underlay', name: 'underlay' },
    interface: 'br-spk',
  });
  assert.deepEqual(parseHopName('nodeB-flannel.1'), {
    location: { kind: 'node', name: 'nodeB' },
    interface: 'flannel.1',
  });
  for (const odd of ['capture', '01-podA', '', 'end']) {
    assert.deepEqual(
      parseHopName(odd),
      { location: { kind: 'node', name: odd }, interface: '' },
      odd,
    );
  }
});

test('escapeMermaidText neutralises syntax, markup, directives and line breaks', () => {
  assert.equal(escapeMermaidText('a;b'), 'a#59;b');
  assert.equal(escapeMermaidText('x\nparticipant evil'), 'x participant evil');
  assert.equal(escapeMermaidText('a\r\n\u2028b\u0085c'), 'a b c');
  assert.equal(
    escapeMermaidText('<img src=x onerror=alert(1)>'),
    '#lt;img src=x onerror=alert(1)#gt;',
  );
  assert.equal(escapeMermaidText('%%{init}%%'), '#37;#37;#123;init#125;#37;#37;');
  assert.equal(
    escapeMermaidText('#59;'),
    '#35;59#59;',
    'an entity in the input is shown, not decoded',
  );
  assert.equal(escapeMermaidText('a -->> b ->> c'), 'a --#gt;#gt; b -#gt;#gt; c');
  assert.equal(
    escapeMermaidText('"q" \'s\' `b` $$m$$ a&b a:b'),
    '#quot;q#quot; #39;s#39; #96;b#96; #36;#36;m#36;#36; a#amp;b a#58;b',
  );
  assert.equal(escapeMermaidText('nodé🙂 → 節点'), 'nodé🙂 → 節点');
  assert.equal(
    escapeMermaidText('ab\u202Ecd\u200B'),
    'abcd',
    'bidi and zero-width characters dropped',
  );
  assert.equal(escapeMermaidText('end'), 'end');
  const long = escapeMermaidText('🙂'.repeat(200));
  assert.equal(Array.from(long).length, 80);
  assert.ok(long.endsWith('…'));
  assert.equal(Array.from(escapeMermaidText('x'.repeat(200), 120)).length, 120);
});

test('hostile names cannot add statements, comments, directives or markup', () => {
  const hostile = [
    '01-a;b-eth0',
    '02-x\nparticipant evil-eth0',
    '03-<img src=x onerror=alert(1)>-eth0',
    '%%{init: {"securityLevel":"loose"}}%%',
    'end',
    'Note over',
    '07-nodé🙂-eth0',
    '08-<script>alert(1)</script>-eth0',
    '09-a->>b: injected-eth0',
    '10-x%%comment-eth0',
    '11-' + 'y'.repeat(300) + '-eth0',
  ];
  const title = 'lab\n%%{init: {"theme":"dark"}}%%\n<b>bold</b>; end';
  const text = buildSequenceDiagram({ hopNames: hostile, title });
  const body = lines(text);
  // Exactly: header, title, one participant per name, the first note, one message per transition.
  assert.equal(body.length, 1 + 1 + hostile.length + 1 + (hostile.length - 1));
  assert.equal(body[0], 'sequenceDiagram');
  assert.equal(
    body[1],
    '    title lab #37;#37;#123;init#58; #123;#quot;theme#quot;#58;#quot;dark#quot;#125;#125;#37;#37; #lt;b#gt;bold#lt;/b#gt;#59; end',
  );
  const participants = body.filter((l) => l.startsWith('    participant '));
  assert.deepEqual(
    participants.map((l) => l.split(' as ')[0]),
    hostile.map((_, i) => `    participant P${i + 1}`),
  );
  assert.equal(participants[1], '    participant P2 as x participant evil');
  assert.equal(participants[2], '    participant P3 as #lt;img src=x onerror=alert(1)#gt;');
  assert.equal(participants[4], '    participant P5 as end');
  const messages = body.filter((l) => /^ {4}P\d+->>P\d+: /.test(l));
  assert.equal(messages.length, hostile.length - 1);
  for (const l of body.slice(1)) {
    // Every line is one of our statements, and what follows its keyword carries no syntax.
    assert.match(l, /^ {4}(title |participant P\d+ as |Note over P\d+: |P\d+->>P\d+: )/, l);
    const free = l.replace(/^ {4}(title |participant P\d+ as |Note over P\d+: |P\d+->>P\d+: )/, '');
    // Entity codes are Mermaid's escape; what is left must be plain text.
    const plain = free.replace(/#(?:\d+|[a-z]+);/g, '');
    assert.ok(!/[<>;%"'`:{}#\n\r]/.test(plain), `no raw syntax in: ${l}`);
  }
  assert.ok(
    body.every((l) => Array.from(l).length < 220),
    'long names are cut',
  );
  assert.ok(text.includes(`${'y'.repeat(60)}`) && text.includes('y…'), 'cut with an ellipsis');
});

test('captures named differently from the plan line up by position', () => {
  const plan = flannel();
  const r = report(plan, 5);
  const renamed = {
    ...r,
    hops: r.hops.map((h, i) => ({ ...h, name: `capture${i + 1}` })),
    firstMissingHop: 'capture5',
  };
  const body = lines(buildSequenceDiagram({ plan, report: renamed }));
  assert.ok(
    body.includes(
      '    P2-xP3: 05 eth0 · not seen (planned#58; wire, outer 172.18.0.5 → 172.18.0.6)',
    ),
  );
  assert.ok(body.includes('    P2->>P2: 03 flannel.1 · routed, TTL 64→63, seen 3/3'));
});

test('plan labels stay short and never repeat the interface their hop tag names', () => {
  for (const { mode } of CNI_MODES) {
    for (const options of [{}, { sameNode: true }, { crossSubnet: true }]) {
      const plan = buildDatapathPlan(defaultPlanInput(mode, options));
      const messages = buildSequenceDiagram({ plan })
        .split('\n')
        .map((l) => /^\s+(?:Note over P\d|P\d-[->x]+P\d): (\d\d (\S+) · .*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null);
      assert.equal(messages.length, plan.hops.length, `${mode} ${JSON.stringify(options)}`);
      for (const [, text, iface] of messages) {
        assert.ok(text!.length <= 48, `${mode}: ${text} (${text!.length})`);
        assert.ok(!text!.endsWith(`(${iface})`) && !text!.endsWith(`→ ${iface}`), text);
      }
    }
  }
});
