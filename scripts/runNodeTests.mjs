// Runs Node's test runner over every *.test.ts under the given folders (TypeScript
// through tsx), shows the spec output, and records pass/fail/skip counts (with skip
// reasons) in test-results/counts/<stage>.json for scripts/summarize.mjs.
// Usage: node scripts/runNodeTests.mjs <stage> <dir>... [-- extra node args]
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [stage, ...rest] = process.argv.slice(2);
if (!stage || rest.length === 0) {
  console.error('usage: node scripts/runNodeTests.mjs <stage> <dir>...');
  process.exit(2);
}
const dirs = rest;

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = dirs.flatMap(findTests);
mkdirSync('test-results/counts', { recursive: true });
const tapFile = `test-results/${stage}.tap`;
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=1',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  ...files,
];
const child = spawn(process.execPath, args, { stdio: 'inherit' });
child.on('close', (code) => {
  const tap = readFileSync(tapFile, 'utf8');
  const num = (label) =>
    Number(
      /^# (\w+) (\d+)$/m.test(tap)
        ? (tap.match(new RegExp(`^# ${label} (\\d+)$`, 'm'))?.[1] ?? 0)
        : 0,
    );
  const skipped = num('skipped') + num('todo');
  const counts = { stage, passed: num('pass'), failed: num('fail') + num('cancelled'), skipped };
  const reasons = [...tap.matchAll(/^\s*ok \d+ - (.*) # SKIP ?(.*)$/gm)].map(
    (m) => `${m[1]}: ${m[2] || 'no reason given'}`,
  );
  counts.skipReasons = reasons;
  if (files.length === 0) counts.failed += 0;
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // the runner itself failed
  writeFileSync(`test-results/counts/${stage}.json`, JSON.stringify(counts, null, 2));
  for (const r of reasons) console.log(`skipped: ${r}`);
  console.log(
    `${stage}: ${counts.passed} passed, ${counts.failed} failed${skipped ? `, ${skipped} skipped` : ''}`,
  );
  process.exit(code ?? 1);
});
