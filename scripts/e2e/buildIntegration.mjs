// Compiles the extension's Mocha suite for the extension host: test/integration/index.ts and
// every test/integration/suite/**/*.test.ts become CommonJS files under out/test/integration/
// (same relative paths). `vscode` stays external (the host provides it); mocha is bundled into
// index.js only, so suites must use Mocha's globals (suite/test) — importing 'mocha' at run
// time would load a second, unconnected Mocha, so it is rejected here.
// Usage: node scripts/e2e/buildIntegration.mjs [repoRoot]
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const srcDir = join(root, 'test', 'integration');
const outDir = join(root, 'out', 'test', 'integration');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const suites = findTests(join(srcDir, 'suite'));
if (suites.length === 0) {
  console.error(`buildIntegration: no *.test.ts under ${join(srcDir, 'suite')}`);
  process.exit(1);
}

const noRuntimeMocha = {
  name: 'no-runtime-mocha',
  setup(b) {
    b.onResolve({ filter: /^mocha$/ }, () => ({
      errors: [{ text: "suite files use Mocha's globals (suite, test); do not import 'mocha'" }],
    }));
  },
};

// Node 18 keeps the bundle loadable by older desktop VS Code builds (Electron) as well.
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  sourcemap: 'inline',
  external: ['vscode'],
  logLevel: 'warning',
  // Mocha's parallel mode (unused here) resolves worker files at run time.
  logOverride: { 'require-resolve-not-external': 'silent' },
};

rmSync(outDir, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: [join(srcDir, 'index.ts')],
  outfile: join(outDir, 'index.js'),
});
await build({
  ...common,
  entryPoints: suites,
  outbase: srcDir,
  outdir: outDir,
  plugins: [noRuntimeMocha],
});
console.log(`buildIntegration: index.js + ${suites.length} suite file(s) -> ${outDir}`);
