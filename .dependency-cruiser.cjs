// dependency-cruiser: no import cycles in the extension, the CLI or the webview. The rings
// (core pure, platform without vscode, webview apart) are eslint's job (eslint.config.mjs);
// this file only forbids cycles, which eslint cannot see across files cheaply.
// Run: npx depcruise src webview --config .dependency-cruiser.cjs (part of `npm run lint`).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle makes load order matter and the rings meaningless; move the shared part down.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|out)/' },
    // `import type` counts too: a type cycle is still two modules that cannot be read apart.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};
