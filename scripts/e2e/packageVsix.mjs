// `npm run package`: a production bundle (esbuild, minified, no source maps) packed into
// podpath-<version>.vsix by vsce without node_modules (everything is bundled). It builds in a
// staging folder (out/vsix/) rather than in dist/, so a development build running at the same
// time in this tree can neither be clobbered nor end up in the package. A stale .vsix is
// removed first, so a failed build never leaves an old package for the UI test to install.
// The package's file list is checked against what the extension needs at run time.
// Usage: node scripts/e2e/packageVsix.mjs [repoRoot]
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const stage = join(root, 'out', 'vsix');
const { name, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = join(root, `${name}-${version}.vsix`);
const vsce = join(root, 'node_modules', '.bin', 'vsce');
// What the extension needs at run time; source maps are not.
const allowed =
  /^(dist\/.+\.(js|css)|media\/.+|package\.json|README\.md|CHANGELOG\.md|LICENSE(\.md|\.txt)?)$/i;
// The build sees the whole checkout (linked) but its own dist/; the package's files are copied.
const skip = new Set(['dist', 'out', '.git', 'test-results', '.scratch', '.vscode-test']);
const sources = readdirSync(root).filter((file) => !skip.has(file) && !file.endsWith('.vsix'));
const packaged = ['package.json', '.vscodeignore', 'README.md', 'CHANGELOG.md', 'media'];
packaged.push(...readdirSync(root).filter((file) => /^LICENSE(\.md|\.txt)?$/i.test(file)));

function run(command, args, capture = false) {
  const result = spawnSync(command, args, {
    cwd: stage,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
  });
  if (result.status !== 0) {
    console.error(`package: ${command} ${args.join(' ')} failed (exit ${result.status})`);
    process.exit(1);
  }
  return result.stdout ?? '';
}

for (const file of readdirSync(root)) {
  if (file.endsWith('.vsix')) rmSync(join(root, file));
}
if (!existsSync(join(root, 'src', 'extension.ts'))) {
  console.error('package: there is no src/extension.ts to bundle');
  process.exit(1);
}
// Links a failed run may have left are removed one by one first, never walked into.
if (existsSync(stage)) {
  for (const file of readdirSync(stage)) {
    if (lstatSync(join(stage, file)).isSymbolicLink()) unlinkSync(join(stage, file));
  }
}
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const file of sources) {
  symlinkSync(join(root, file), join(stage, file));
}
// esbuild.mjs resolves its entry points and writes dist/ relative to the working directory.
run(process.execPath, [join(root, 'esbuild.mjs'), '--production']);
for (const file of sources) unlinkSync(join(stage, file));
for (const file of packaged) {
  if (existsSync(join(root, file)))
    cpSync(join(root, file), join(stage, file), { recursive: true });
}
run(vsce, [
  'package',
  '--no-dependencies',
  '--allow-missing-repository',
  '--skip-license',
  '--out',
  vsix,
]);

const files = run(vsce, ['ls', '--no-dependencies'], true)
  .split('\n')
  .map((line) => line.trim())
  .filter(Boolean);
const unexpected = files.filter((file) => !allowed.test(file));
if (unexpected.length > 0) {
  rmSync(vsix);
  console.error(
    `package: unexpected files in the .vsix (fix .vscodeignore): ${unexpected.join(', ')}`,
  );
  process.exit(1);
}
const kib = (statSync(vsix).size / 1024).toFixed(1);
console.log(`package: ${vsix} (${kib} KiB, ${files.length} files: ${files.join(', ')})`);
