// Checks that every command package.json contributes is registered by the extension, and
// that every registered command is contributed: the ids must appear as string keys in the
// command tables under src/ui/commands/. The in-host suite checks the same against
// vscode.commands.getCommands() in a running workbench.
// Usage: node scripts/checkCommands.mjs  (exit 1 on a mismatch)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributed = new Set((manifest.contributes?.commands ?? []).map((c) => c.command));

const dir = join(root, 'src', 'ui', 'commands');
const registered = new Set();
for (const name of readdirSync(dir)) {
  if (!name.endsWith('.ts')) continue;
  const text = readFileSync(join(dir, name), 'utf8');
  // Command tables are object literals keyed by the id: 'podpath.noun.verb': { what, run }
  for (const m of text.matchAll(/'(podpath\.[\w.]+)':\s*\{/g)) registered.add(m[1]);
}

const problems = [];
for (const id of contributed)
  if (!registered.has(id)) problems.push(`${id} is in package.json but not registered`);
for (const id of registered)
  if (!contributed.has(id)) problems.push(`${id} is registered but not in package.json`);
for (const c of manifest.contributes?.commands ?? []) {
  if (c.category !== 'Podpath') problems.push(`${c.command} has no "Podpath" category`);
  if (!/^podpath\.[a-z][a-zA-Z]*\.[a-zA-Z]+$/.test(c.command))
    problems.push(`${c.command} is not podpath.<noun>.<verb>`);
}
if (problems.length > 0) {
  for (const p of problems) console.error(`checkCommands: ${p}`);
  process.exit(1);
}
console.log(`checkCommands: ${contributed.size} commands contributed and registered`);
