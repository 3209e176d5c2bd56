// Adds up test-results/counts/*.json from every stage and prints the closing line
// `N passed, N failed[, N skipped]`. Exits 1 if anything failed or nothing ran.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const dir = 'test-results/counts';
const files = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of files) {
  const c = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
  const parts = [`${c.passed} passed`, `${c.failed} failed`];
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  console.log(`  ${c.stage.padEnd(22)} ${parts.join(', ')}`);
  for (const r of c.skipReasons ?? []) console.log(`    skipped: ${r}`);
}
if (passed + failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
