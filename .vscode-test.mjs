// @vscode/test-cli configuration (`npm run test:vscode`): runs the compiled extension suite
// (out/test/integration/suite, built by scripts/e2e/buildIntegration.mjs) in VS Code desktop,
// downloaded by @vscode/test-electron — so it needs the internet. Offline machines run the same
// suite in code-server instead (`npm run test:workbench`). Two labels: the oldest VS Code that
// engines.vscode allows, and the current stable release. One only: `npx vscode-test -l stable`.
import { defineConfig } from '@vscode/test-cli';

const common = {
  files: 'out/test/integration/suite/**/*.test.js',
  workspaceFolder: 'test/fixtures/workspace',
  mocha: { ui: 'tdd', timeout: 30_000, color: true },
  // Only Podpath: no other installed extension can interfere.
  // As root (CI containers) Electron refuses to start without --no-sandbox. A headless Linux
  // machine also needs a display: run under `xvfb-run -a npm run test:vscode`.
  launchArgs: [
    '--disable-extensions',
    '--disable-workspace-trust',
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ],
};

export default defineConfig([
  { ...common, label: 'min', version: '1.90.0' },
  { ...common, label: 'stable', version: 'stable' },
]);
