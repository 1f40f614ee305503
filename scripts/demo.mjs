#!/usr/bin/env node
// `npm start`: the demo. On a fresh clone it installs and builds what is missing, starts
// the OpenChoreo stand-in with a synthetic installation, then a Backstage backend on
// port 7007 that ingests it in bursts. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt, root } from './ensure-built.mjs';

ensureBuilt('demo');
const mockBin = join(root, 'target', 'release', 'mock-openchoreo');

// 3 namespaces x 10 projects x 40 components: 1,200 components, 1,200 APIs, 30 systems,
// and every platform kind at the stand-in's default counts (environments, planes, types,
// their Templates, ...). The stand-in serves the custom templates some component types
// name itself (`--templates local`), so the demo needs no network. Every edit through its
// /admin API is POSTed as a change event to the backend's events HTTP ingress
// (`--notify-url`), so the edit shows in the catalog within seconds.
const size = (process.env.DEMO_SIZE ?? '3,10,40').split(',');
const children = [];
const stop = code => {
  for (const c of children) c.kill('SIGTERM');
  process.exit(code);
};
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const mock = spawn(
  mockBin,
  ['--port', '0', '--namespaces', size[0], '--projects', size[1], '--components', size[2], '--endpoints', '2', '--schema-share', '0.5', '--dependencies', '1', '--templates', 'local',
   '--notify-url', 'http://127.0.0.1:7007/api/events/http/openchoreo'],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
children.push(mock);
mock.on('exit', code => {
  console.error(`[demo] the OpenChoreo stand-in exited (${code})`);
  stop(1);
});

const url = await new Promise((resolve, reject) => {
  let buffer = '';
  const timer = setTimeout(() => reject(new Error('the stand-in did not start within 30 s')), 30_000);
  mock.stdout.on('data', chunk => {
    buffer += chunk;
    process.stdout.write(`[openchoreo] ${chunk}`);
    const m = buffer.match(/listening on (http:\/\/\S+)/);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
});

console.log(`[demo] OpenChoreo stand-in at ${url}; starting Backstage on http://localhost:7007`);
console.log(`[demo] try:  curl -s localhost:7007/api/catalog/incremental/providers/OpenChoreoEntityProvider/status`);
console.log(`[demo] edits through ${url}/admin reach the catalog as change events (README, "Change events")`);
const backend = spawn(process.execPath, ['dev/backend.mjs', '--config', 'dev/app-config.yaml'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    OPENCHOREO_API_URL: url,
    // Backstage's UrlReader reads the custom templates from the stand-in's host only.
    OPENCHOREO_TEMPLATES_HOST: new URL(url).host,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
  },
});
children.push(backend);
backend.on('exit', code => stop(code ?? 1));
