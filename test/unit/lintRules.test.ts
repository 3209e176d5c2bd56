// The house rules that lint enforces fire on code that breaks them: eslint's ring rules
// (core has no clock or randomness, webview/ stays out of src/platform and src/ui) over small
// files fed through the repo's own eslint.config.mjs, and dependency-cruiser's cycle rule over
// a two-file cycle in a temporary folder with the repo's .dependency-cruiser.cjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';

const repoRoot = resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: repoRoot });

/** The rule ids and messages eslint reports for `code` as if it lived at `path`. */
async function lint(path: string, code: string): Promise<{ rule: string; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, path) });
  assert.ok(result, 'eslint returned no result');
  return result.messages.map((m) => ({ rule: m.ruleId ?? 'parse', message: m.message }));
}

async function assertFlags(path: string, code: string, rule: string, message: RegExp) {
  const found = await lint(path, code);
  assert.ok(
    found.some((f) => f.rule === rule && message.test(f.message)),
    `expected ${rule} /${message.source}/ for ${path}:\n${code}\ngot ${JSON.stringify(found)}`,
  );
}

test('core may not import a clock or randomness', async () => {
  const file = 'src/core/packets/lintProbe.ts';
  await assertFlags(
    file,
    "import { performance } from 'node:perf_hooks';\nexport const t = performance.now();\n",
    'no-restricted-imports',
    /no clock/,
  );
  await assertFlags(
    file,
    "import { randomUUID } from 'crypto';\nexport const id = randomUUID();\n",
    'no-restricted-imports',
    /no randomness/,
  );
  await assertFlags(
    file,
    'export const t = performance.now();\n',
    'no-restricted-globals',
    /clock/,
  );
  await assertFlags(
    file,
    'export const id = crypto.randomUUID();\n',
    'no-restricted-globals',
    /randomness/,
  );
});

test('core may not use new Date or Date()', async () => {
  const file = 'src/core/hops/lintProbe.ts';
  await assertFlags(file, 'export const now = new Date();\n', 'no-restricted-syntax', /new Date/);
  await assertFlags(
    file,
    'export const d = new Date(2020, 0, 1);\n',
    'no-restricted-syntax',
    /time zone/,
  );
  await assertFlags(file, 'export const s = Date();\n', 'no-restricted-syntax', /Date\(\)/);
  // A pure computation over a given time is fine.
  assert.deepEqual(
    await lint(file, 'export const t = Date.UTC(2020, 0, 1) + 1;\n'),
    [],
    'Date.UTC is not a clock',
  );
  // The rules are core's: platform may read the clock.
  assert.deepEqual(await lint('src/platform/lintProbe.ts', 'export const now = new Date();\n'), []);
});

test('webview may not import src/platform or src/ui', async () => {
  await assertFlags(
    'webview/lintProbe.ts',
    "import { runTool } from '../src/platform/exec/runner';\nexport const r = runTool;\n",
    'no-restricted-imports',
    /webview\/ may not import src\/platform or src\/ui/,
  );
  await assertFlags(
    'webview/lintProbe.ts',
    "import type { Services } from '../src/ui/services';\nexport type S = Services;\n",
    'no-restricted-imports',
    /may not import src\/platform or src\/ui/,
  );
  // webview/ui/ (the toolkit folder) is covered too.
  await assertFlags(
    'webview/ui/lintProbe.ts',
    "import { runTool } from '../../src/platform/exec/runner';\nexport const r = runTool;\n",
    'no-restricted-imports',
    /may not import src\/platform/,
  );
  // The toolkit rule still holds outside webview/ui/ next to the new one.
  await assertFlags(
    'webview/lintProbe.ts',
    "import { provideVSCodeDesignSystem } from '@vscode/webview-ui-toolkit';\nexport const p = provideVSCodeDesignSystem;\n",
    'no-restricted-imports',
    /Only webview\/ui\//,
  );
  // The protocol, core types and webview's own ui/ folder are allowed.
  assert.deepEqual(
    await lint(
      'webview/lintProbe.ts',
      "import type { PanelView } from '../src/protocol';\nimport type { PacketRow } from '../src/core/packets/packetSummary';\nexport type V = PanelView | PacketRow;\n",
    ),
    [],
  );
});

// (The repo itself is cruised by scripts/test.sh and `npm run lint`.)
test('dependency-cruiser finds an import cycle, type-only edges included', () => {
  const depcruise = join(repoRoot, 'node_modules', '.bin', 'depcruise');
  const config = join(repoRoot, '.dependency-cruiser.cjs');
  const dir = mkdtempSync(join(tmpdir(), 'pp-cycle-'));
  try {
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b';\nexport const a = () => b();\n");
    writeFileSync(
      join(dir, 'b.ts'),
      "import type { A } from './c';\nexport const b = (): A => 1;\n",
    );
    writeFileSync(
      join(dir, 'c.ts'),
      "import { a } from './a';\nexport type A = ReturnType<typeof a>;\n",
    );
    const cycle = spawnSync(depcruise, [dir, '--config', config], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.notEqual(cycle.status, 0, cycle.stdout);
    assert.match(cycle.stdout, /no-circular/);
    assert.match(cycle.stdout, /a\.ts →.*b\.ts →.*c\.ts →.*a\.ts/s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
