#!/usr/bin/env node
// Installs and builds what is missing on a fresh clone: npm packages, the release
// addon, the compiled module and the OpenChoreo stand-in. `npm start` and `npm run bench`
// call it, and `npm test` runs it first (`pretest`); with everything in place it does nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function run(label, cmd, args) {
  console.log(`[${label}] ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[${label}] '${cmd} ${args.join(' ')}' failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

/** Whether every package of package.json (dev ones too: tests, demo, bench) is installed. */
function installed() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  return names.every(name => existsSync(join(root, 'node_modules', name, 'package.json')));
}

export function ensureBuilt(label) {
  if (!installed()) run(label, 'npm', ['ci']);
  if (!existsSync(join(root, 'openchoreo-incremental.linux-x64-gnu.node'))) run(label, 'npm', ['run', 'build:addon']);
  if (!existsSync(join(root, 'dist', 'index.js'))) run(label, 'npm', ['run', 'build:js']);
  if (!existsSync(join(root, 'target', 'release', 'mock-openchoreo'))) {
    run(label, 'cargo', ['build', '--release', '-p', 'mock-openchoreo']);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureBuilt('setup');
