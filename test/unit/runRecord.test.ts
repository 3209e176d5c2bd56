// Run records (what a lab run owns) as data: no root, no machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeCleanup,
  emptyCleanupReport,
  linkCreatedBy,
  mergeCleanupReports,
  parseProcStat,
  parseRunRecord,
} from '../../src/core/labs/runRecord';

const good = {
  version: 1,
  runId: 'flannel-vxlan-mx4e-a1b2c3',
  lab: 'flannel-vxlan',
  short: 'fv',
  owner: { pid: 4242, startTime: 98765 },
  startedAt: '2026-12-01T08:00:00.000Z',
  namespaces: [{ name: 'pp-fv-ul', inode: 4026532301 }, { name: 'pp-fv-nodeA' }],
  links: [{ name: 'eth0', namespace: 'pp-fv-nodeA' }, { name: 'pp-fv-probe' }],
  processes: [
    { pid: 4300, startTime: 98800, argv: ['ip', 'netns', 'exec', 'pp-fv-nodeA', 'bird'] },
  ],
  files: ['/run/pp-lab/pp-fv-nodeA.bird.conf'],
};

test('a well-formed record reads back as it was written', () => {
  assert.deepEqual(parseRunRecord(JSON.stringify(good), '/run/pp-lab'), good);
});

test('a record that could make clean-up delete what is not a lab is refused with the reason', () => {
  const bad = (patch: Record<string, unknown>): string | object =>
    parseRunRecord(JSON.stringify({ ...good, ...patch }), '/run/pp-lab');
  assert.match(String(bad({ namespaces: [{ name: 'default' }] })), /bad namespace/);
  assert.match(String(bad({ links: [{ name: 'eth0' }] })), /bad root link "eth0"/);
  assert.match(String(bad({ links: [{ name: 'x', namespace: 'init' }] })), /bad link namespace/);
  assert.match(String(bad({ files: ['/etc/passwd'] })), /bad file/);
  assert.match(String(bad({ files: ['/run/pp-lab/../../etc/passwd'] })), /bad file/);
  assert.match(String(bad({ owner: { pid: 0, startTime: 1 } })), /bad owner/);
  assert.match(String(bad({ version: 2 })), /unknown version 2/);
  assert.match(String(bad({ runId: '../x' })), /bad runId/);
  assert.match(String(parseRunRecord('{', '/run/pp-lab')), /not JSON/);
  assert.match(String(parseRunRecord('[]', '/run/pp-lab')), /not an object/);
});

test('linkCreatedBy finds the link of `ip [-n NS] link add NAME …` only', () => {
  assert.deepEqual(
    linkCreatedBy(['ip', '-n', 'pp-fv-ul', 'link', 'add', 'br-pp', 'type', 'bridge']),
    {
      name: 'br-pp',
      namespace: 'pp-fv-ul',
    },
  );
  assert.deepEqual(linkCreatedBy(['ip', 'link', 'add', 'pp-x', 'type', 'bridge']), {
    name: 'pp-x',
  });
  assert.equal(linkCreatedBy(['ip', '-n', 'pp-fv-ul', 'link', 'set', 'lo', 'up']), undefined);
  assert.equal(linkCreatedBy(['ip', 'netns', 'add', 'pp-fv-ul']), undefined);
  assert.equal(linkCreatedBy(['bridge', 'link', 'add', 'x']), undefined);
  assert.equal(linkCreatedBy(['ip', 'link', 'add']), undefined);
});

test('parseProcStat reads state and start time past a command with spaces and parentheses', () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[0] = 'S';
  fields[19] = '123456';
  assert.deepEqual(parseProcStat(`77 (my (odd) cmd) ${fields.join(' ')}`), {
    state: 'S',
    startTime: 123456,
  });
  fields[0] = 'Z';
  assert.equal(parseProcStat(`77 (z) ${fields.join(' ')}`)?.state, 'Z');
  assert.equal(parseProcStat('garbage'), undefined);
  assert.equal(parseProcStat('1 (x) S 1 2'), undefined);
});

test('describeCleanup names what was removed and each thing left alone', () => {
  const none = emptyCleanupReport();
  none.leftAlone.push('namespace pp-foo: no Podpath run recorded it');
  assert.deepEqual(describeCleanup(none), [
    'Nothing to remove: no dead Podpath run left anything.',
    'Left alone: namespace pp-foo: no Podpath run recorded it',
  ]);
  const some = mergeCleanupReports(none, {
    runs: ['r1'],
    namespaces: ['pp-fv-ul', 'pp-fv-nodeA'],
    links: [],
    processes: [4300],
    files: ['/run/pp-lab/pp-fv-nodeA.ctl'],
    leftAlone: ['run r2 (calico-bgp) is alive (pid 9): pp-cb-ul'],
  });
  assert.deepEqual(describeCleanup(some), [
    'Removed 1 dead run: 2 namespaces, 0 links, 1 process, 1 file.',
    '  runs: r1',
    '  namespaces: pp-fv-ul, pp-fv-nodeA',
    '  processes: 4300',
    '  files: /run/pp-lab/pp-fv-nodeA.ctl',
    'Left alone: namespace pp-foo: no Podpath run recorded it',
    'Left alone: run r2 (calico-bgp) is alive (pid 9): pp-cb-ul',
  ]);
});
