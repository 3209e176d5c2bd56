// Lint keeps the rings honest: core is pure (no vscode, no I/O), platform never
// imports vscode. See docs/architecture.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const noVscode = { name: 'vscode', message: 'Only src/ui and src/extension.ts may import vscode.' };
const ioModules = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'child_process',
  'node:child_process',
  'net',
  'node:net',
  'http',
  'node:http',
  'https',
  'node:https',
  'os',
  'node:os',
  'readline',
  'node:readline',
].map((name) => ({ name, message: 'src/core is pure: do I/O in src/platform.' }));
// A clock or randomness in core makes its output depend on when and where it runs.
const impureModules = ['perf_hooks', 'node:perf_hooks', 'crypto', 'node:crypto'].map((name) => ({
  name,
  message: 'src/core has no clock and no randomness: pass times and ids in.',
}));
// The webview runs in the browser and talks to the extension only through src/protocol.ts.
const webviewRings = {
  regex: '(^|/)src/(platform|ui)(/|$)',
  message: 'webview/ may not import src/platform or src/ui: share types through src/protocol.ts.',
};
const toolkitOnlyInUi = {
  group: ['@vscode/webview-ui-toolkit', '@vscode/webview-ui-toolkit/*'],
  message: 'Only webview/ui/ may use the webview UI toolkit.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'out/**',
      'test/fixtures/**',
      '.scratch/**',
      'test-results/**',
      '.vscode-test/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode, ...ioModules, ...impureModules],
          patterns: [
            {
              group: ['**/platform/**', '**/ui/**'],
              message: 'core may not depend on outer rings.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/core is pure: no process access.' },
        { name: 'Buffer', message: 'src/core uses Uint8Array, not Buffer.' },
        { name: 'setTimeout', message: 'src/core has no clock.' },
        { name: 'performance', message: 'src/core has no clock: pass time in.' },
        { name: 'crypto', message: 'src/core has no randomness: pass ids in.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          // `new Date()` is now, and a Date from parts reads the machine's time zone.
          selector: "NewExpression[callee.name='Date']",
          message: 'src/core has no clock or time zone: no `new Date`; pass times in as numbers.',
        },
        {
          selector: "CallExpression[callee.name='Date']",
          message: 'src/core has no clock: `Date()` is now; pass time in.',
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'src/core has no clock: pass time in.' },
      ],
    },
  },
  {
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [{ group: ['**/ui/**'], message: 'platform may not depend on ui.' }],
        },
      ],
    },
  },
  {
    files: ['webview/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', { patterns: [webviewRings] }] },
  },
  {
    // The toolkit is deprecated upstream: keep the swap to @vscode-elements a one-folder change.
    // (This object's rule options replace the one above, so it repeats webviewRings.)
    files: ['webview/**/*.ts'],
    ignores: ['webview/ui/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [webviewRings, toolkitOnlyInUi] }],
    },
  },
);
