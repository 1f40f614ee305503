#!/usr/bin/env node
// One whole ingestion cycle through one addon file, with nothing but Node (no npm
// packages): `scripts/cross-build.mjs` runs it under the Node of each Linux target (musl,
// arm64 under qemu) to prove a cross-built addon works there, not just that it exists.
//
// On Linux the engine reaches the OpenChoreo stand-in over HTTPS through a TLS front this
// script serves (so rustls/ring, compiled for the target, does a real handshake and
// verifies the certificate, trusted through SSL_CERT_FILE) and keeps its state in a SQLite file
// (the bundled SQLite, compiled for the target). The entities are counted against the
// stand-in's own summary.
//
// Usage: node scripts/addon-smoke.cjs <addon.node> <stand-in> <cert.pem> <key.pem>
// <stand-in>: the URL of a running mock-openchoreo, or the path of its binary to start
// (with the small installation the jest addon suite uses).
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { spawn } = require('node:child_process');

const PLATFORM_LISTS = [
  'environments', 'observabilityalertsnotificationchannels', 'dataplanes', 'workflowplanes', 'observabilityplanes',
  'deploymentpipelines', 'componenttypes', 'traits', 'resourcetypes', 'projecttypes', 'resources', 'workflows',
  'clustercomponenttypes', 'clusterresourcetypes', 'clusterprojecttypes', 'clustertraits', 'clusterworkflows',
  'clusterdataplanes', 'clusterobservabilityplanes', 'clusterworkflowplanes',
];

/** Starts `bin` (mock-openchoreo) on a free port: its URL and the child. */
async function startStandIn(bin) {
  const args = ['--port', '0', '--namespaces', '2', '--projects', '2', '--components', '3'];
  const child = spawn(bin, [...args, ...PLATFORM_LISTS.flatMap(l => [`--${l}`, '0'])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', d => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('error', reject);
    child.once('exit', code => reject(new Error(`${bin} exited (${code}) before listening`)));
  });
  child.stdout.resume();
  return { url, child };
}

let spawned = null;

async function main() {
  const [addonFile, standIn, certFile, keyFile] = process.argv.slice(2);
  if (!keyFile) throw new Error('usage: addon-smoke.cjs <addon.node> <stand-in URL or binary> <cert.pem> <key.pem>');
  const started = Date.now();
  spawned = /^https?:/.test(standIn) ? null : await startStandIn(standIn);
  const mockUrl = spawned ? spawned.url : standIn;
  const addon = require(path.resolve(addonFile));

  // The certificate is trusted through SSL_CERT_FILE, which the verifier reads on Linux
  // only (macOS and Windows ask the system's store): elsewhere the engine talks HTTP.
  const viaTls = process.platform === 'linux';
  const upstream = new URL(mockUrl);
  const front = tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, socket => {
    const up = net.connect(Number(upstream.port), upstream.hostname);
    socket.pipe(up).pipe(socket);
    socket.on('error', () => up.destroy());
    up.on('error', () => socket.destroy());
  });
  await new Promise(resolve => front.listen(0, '127.0.0.1', resolve));
  // Read by the engine's certificate verifier (Rust sees Node's process.env: setenv).
  process.env.SSL_CERT_FILE = path.resolve(certFile);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'addon-smoke-'));
  const options = {
    baseUrl: viaTls ? `https://127.0.0.1:${front.address().port}` : mockUrl,
    databaseUrl: `sqlite://${path.join(dir, 'state.db')}`,
    burstLengthSeconds: 60,
    restLengthMinutes: 0,
  };
  const kinds = {};
  let engine = await addon.IngestionEngine.open(options);
  let report;
  for (let i = 0; i < 500 && !report?.cycleCompleted; i++) {
    report = await engine.tick(async json => {
      for (const a of JSON.parse(json).added) kinds[a.entity.kind] = (kinds[a.entity.kind] ?? 0) + 1;
    });
    if (report.error) throw new Error(`tick failed: ${report.error}`);
  }
  if (!report?.cycleCompleted) throw new Error('no cycle completed in 500 ticks');
  await engine.close();

  // The state survived in the SQLite file: a new engine on it sees the completed cycle.
  engine = await addon.IngestionEngine.open(options);
  const last = (await engine.status()).lastCompletedCycle;
  await engine.close();
  front.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const s = await (await fetch(`${mockUrl}/admin/summary`)).json();
  spawned?.child.kill();
  const expected = { Domain: s.namespaces, System: s.projects, Component: s.components, API: s.endpointsWithSchema };
  const entities = Object.values(kinds).reduce((a, b) => a + b, 0);
  const problems = [];
  if (JSON.stringify(sortKeys(kinds)) !== JSON.stringify(sortKeys(expected))) {
    problems.push(`entities per kind ${JSON.stringify(kinds)}, the stand-in holds ${JSON.stringify(expected)}`);
  }
  if (last?.entities !== entities) problems.push(`reopened state shows ${last?.entities} entities, the cycle emitted ${entities}`);
  const result = {
    ok: problems.length === 0,
    arch: process.arch,
    libc: process.platform !== 'linux' ? process.platform : process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl',
    https: viaTls,
    node: process.version,
    entities,
    kinds,
    seconds: (Date.now() - started) / 1000,
    problems,
  };
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

function sortKeys(o) {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

main().catch(e => {
  spawned?.child.kill();
  console.error(`addon-smoke: ${e?.code ? `${e.code}: ` : ''}${e?.message ?? e}`);
  process.exit(1);
});
