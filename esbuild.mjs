// Bundles the extension host code, the CLI and the webview. `--watch` rebuilds on change.
import { build, context } from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
// `node esbuild.mjs webview cli` builds only dist/webview.js and dist/cli.js.
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info' };

const targets = [
  {
    ...common,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    // The Clusters view's cluster access, a bundle of its own that the extension loads on
    // first use: client-node is two thirds of the code and nothing else needs it at activation.
    ...common,
    entryPoints: ['src/platform/kube/kubeExplorer.ts'],
    outfile: 'dist/kube.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    ...common,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
].filter(
  (t) =>
    existsSync(t.entryPoints[0]) &&
    (only.length === 0 || only.some((name) => t.outfile === `dist/${name}.js`)),
);

if (watch) {
  for (const t of targets) await (await context(t)).watch();
} else {
  await Promise.all(targets.map((t) => build(t)));
}
