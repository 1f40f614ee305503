#!/usr/bin/env node
// The demo (`npm start`) as a check: starts it with a small installation, waits for a
// completed cycle and entities of all 25 kinds in its catalog (the demo's
// entity-facets), then stops it. `.ci/run` runs it under Node 22 and 24
// (`node scripts/with-node.mjs 24 -- node scripts/demo-smoke.mjs`); the demo's backend
// runs on the Node that runs this script. Every wait has a deadline.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from './ensure-built.mjs';

const SIZE = '2,3,4'; // namespaces, projects per namespace, components per project
const KINDS = 25;
const DEADLINE_MS = 5 * 60_000;
const base = 'http://127.0.0.1:7007/api/catalog';
const log = msg => console.log(`[demo-smoke] ${msg}`);

const started = Date.now();
const demo = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs')], {
  cwd: root,
  detached: true,
  env: { ...process.env, DEMO_SIZE: SIZE },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
for (const s of [demo.stdout, demo.stderr]) s.on('data', d => (output = (output + d).slice(-20_000)));
let exited = false;
demo.on('exit', () => (exited = true));

async function json(path) {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

let result;
try {
  while (!result) {
    if (exited) throw new Error('the demo exited');
    if (Date.now() - started > DEADLINE_MS) throw new Error(`no complete catalog within ${DEADLINE_MS / 1000} s`);
    await new Promise(r => setTimeout(r, 2000));
    try {
      const status = await json('/incremental/providers/OpenChoreoEntityProvider/status');
      if (!status.lastCompletedCycle) continue;
      const facets = (await json('/entity-facets?facet=kind')).facets.kind;
      if (facets.length >= KINDS) result = facets;
    } catch {
      // not up yet
    }
  }
  const total = result.reduce((a, f) => a + f.count, 0);
  log(`Node ${process.versions.node}: a cycle completed, ${total} entities of ${result.length} kinds, ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (e) {
  console.error(`[demo-smoke] FAILED on Node ${process.versions.node}: ${e.message}\n--- the demo's last output ---\n${output}`);
  process.exitCode = 1;
} finally {
  try {
    process.kill(-demo.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const gone = new Promise(r => (exited ? r() : demo.once('exit', r)));
  const timer = setTimeout(() => {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 10_000);
  await gone;
  clearTimeout(timer);
}
