#!/usr/bin/env node
// `npm run bench:events`: how long an OpenChoreo edit takes to reach the catalog as a
// change event while cycles run. See bench/README.md ("Change event latency").
//
// 1. Starts the stand-in with the bench's installation (100k by default) and
//    `--notify-url` pointing at the backend's events HTTP ingress.
// 2. Starts a Backstage backend (bench/events-backend.mjs, its own process): the events
//    plugin, this module, and a recording stand-in for the catalog. Cycles run back to
//    back (restLength 0, one burst per cycle).
// 3. Once the first cycle is handing pages over, streams edits through the stand-in's
//    admin API (`PUT /admin/namespaces/<ns>/components/<name>`, each writing
//    `latency edit #<seq>` into the component's description), RATE a second for SECONDS.
// 4. Per edit: from sending the PUT to the first `applyMutation` carrying the component
//    with that sequence number (or a later one). After the stream, waits for the events
//    to settle and for the cycle that was running to complete, then checks that each
//    edited component's last hand-over carries its last sequence number (lost edits) and
//    that no hand-over went back to an older copy.
//
// Environment (all optional):
//   LATENCY_SIZE     tiny | 10k | 100k (default 100k)
//   LATENCY_RATE     edits per second (default 50)
//   LATENCY_SECONDS  length of the stream (default 60)
//   LATENCY_TARGETS  distinct components edited, round robin (default 1000)
//   LATENCY_DB       pg | sqlite: the engine's state database (default pg when reachable)
//   LATENCY_EVENT_BUS  events.useEventBus of the backend (default never; auto, always)
//   OC_BENCH_POSTGRES  PostgreSQL server URL (default postgres://postgres@127.0.0.1:5432)
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../scripts/ensure-built.mjs';
import { startMock } from './lib/mock.mjs';
import { machineInfo } from './lib/machine.mjs';
import { postgresServer, postgresUrl } from './lib/postgres.mjs';
import { nowMs } from './lib/recording.mjs';

const START = Date.now();
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(import.meta.url);

const SIZES = {
  tiny: { name: 'tiny', namespaces: 2, projects: 5, components: 10 },
  '10k': { name: '10k', namespaces: 10, projects: 20, components: 50 },
  '100k': { name: '100k', namespaces: 20, projects: 50, components: 100 },
};
const SHAPE = { endpoints: 2, schemaShare: 0.5, dependencies: 1 };
const size = SIZES[process.env.LATENCY_SIZE ?? '100k'];
if (!size) throw new Error(`LATENCY_SIZE: one of ${Object.keys(SIZES).join(', ')}`);
const RATE = Number(process.env.LATENCY_RATE ?? 50);
const SECONDS = Number(process.env.LATENCY_SECONDS ?? 60);
const TARGETS = Number(process.env.LATENCY_TARGETS ?? 1000);
const EVENT_BUS = process.env.LATENCY_EVENT_BUS ?? 'never';
const PROVIDER = 'OpenChoreoEntityProvider';
/** A mutation this small is an event's (a component and its APIs); a page carries ~100. */
const EVENT_MUTATION_MAX = 10;
const TARGET_P99_MS = 1000;
/** After the stream: how long the events and the running cycle may take to finish. */
const SETTLE_CAP_MS = 300_000;

const log = msg => console.log(`[bench:events ${((Date.now() - START) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const sleep = ms => new Promise(r => setTimeout(r, ms));

ensureBuilt('bench:events');
const mockBin = join(root, 'target', 'release', 'mock-openchoreo');

// ---------------------------------------------------------------------------------------
// State database: a fresh PostgreSQL database (as a portal runs it) or a SQLite file
// ---------------------------------------------------------------------------------------

const pg = postgresServer();
async function pgAdmin(sql) {
  const { Client } = require('pg');
  const client = new Client({ ...pg, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

const tmp = mkdtempSync(join(os.tmpdir(), 'oc-bench-events-'));
async function stateDatabase() {
  let want = process.env.LATENCY_DB;
  if (!want) {
    try {
      await pgAdmin('SELECT 1');
      want = 'pg';
    } catch (e) {
      log(`PostgreSQL at ${pg.host}:${pg.port} is not reachable (${e.message}): the state goes to a SQLite file`);
      want = 'sqlite';
    }
  }
  if (want === 'sqlite') {
    return { kind: 'sqlite', url: `sqlite://${join(tmp, 'state.sqlite')}`, cleanup: async () => {} };
  }
  const name = `oc_bench_events_${process.pid}`;
  await pgAdmin(`CREATE DATABASE "${name}"`);
  return {
    kind: 'pg',
    url: `${postgresUrl(pg, name)}?sslmode=disable`,
    cleanup: () => pgAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(e => log(`could not drop ${name}: ${e.message}`)),
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------
// The backend process
// ---------------------------------------------------------------------------------------

function startBackend({ port, mockUrl, stateUrl }) {
  const config = {
    backend: {
      baseUrl: `http://127.0.0.1:${port}`,
      listen: { host: '127.0.0.1', port },
      // The status route is read without a token (as in the demo; never in a deployment).
      auth: { dangerouslyDisableDefaultAuthPolicy: true },
      database: { client: 'better-sqlite3', connection: ':memory:' },
      reading: { allow: [{ host: new URL(mockUrl).host }] },
    },
    // The events bus (`auto` by default) forwards every published event to the events
    // plugin's store for other backend instances, after the local subscribers have it; one
    // instance here, so off by default (LATENCY_EVENT_BUS=auto measures with it).
    events: { http: { topics: ['openchoreo'] }, useEventBus: EVENT_BUS },
    openchoreo: {
      baseUrl: mockUrl,
      incremental: {
        // One burst walks a whole cycle; the next cycle starts a second after (no rest).
        burstLength: 3600,
        burstInterval: 1,
        restLength: 0,
        chunkSize: 100,
        backoff: [1],
        // It would compare with a catalog this recording stand-in does not have.
        consistencyCheck: false,
        database: { url: stateUrl },
      },
    },
  };
  const configPath = join(tmp, 'app-config.json'); // JSON is YAML
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const logPath = join(tmp, 'backend.log');
  const out = openSync(logPath, 'a');
  const child = fork(join(here, 'events-backend.mjs'), ['--config', configPath], {
    cwd: root,
    stdio: ['ignore', out, out, 'ipc'],
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  const waiting = new Map();
  let exited;
  const exit = new Promise(resolve => child.once('exit', code => resolve((exited = code ?? 'signal'))));
  child.on('message', m => {
    const w = waiting.get(m.type);
    if (w) {
      waiting.delete(m.type);
      w(m);
    }
  });
  const next = (type, capMs) =>
    Promise.race([
      new Promise(resolve => waiting.set(type, resolve)),
      exit.then(code => Promise.reject(new Error(`the backend exited (${code}); its log: ${logPath}`))),
      sleep(capMs).then(() => Promise.reject(new Error(`no '${type}' from the backend within ${capMs / 1000} s; its log: ${logPath}`))),
    ]);
  const base = `http://127.0.0.1:${port}`;
  return {
    logPath,
    ready: next('ready', 120_000),
    watch: refs => child.send({ type: 'watch', refs }),
    report: async (full = false) => {
      const p = next('report', 60_000);
      child.send({ type: 'report', full });
      return p;
    },
    async status() {
      const res = await fetch(`${base}/api/catalog/incremental/providers/${PROVIDER}`);
      if (!res.ok) throw new Error(`provider status: HTTP ${res.status}`);
      return res.json();
    },
    async stop() {
      if (exited !== undefined) return;
      child.send({ type: 'stop' });
      await Promise.race([exit, sleep(20_000)]);
      if (exited === undefined) child.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

/** Targets spread over every namespace and, within one, over its whole list. */
async function chooseTargets(mock, n) {
  const namespaces = await mock.admin('/admin/namespaces');
  const names = {};
  for (const ns of namespaces) names[ns] = await mock.admin(`/admin/namespaces/${encodeURIComponent(ns)}/components`);
  const out = [];
  const perNs = Math.ceil(n / namespaces.length);
  for (let i = 0; i < perNs && out.length < n; i++) {
    for (const ns of namespaces) {
      const list = names[ns];
      const want = Math.min(perNs, list.length);
      if (i >= want || out.length >= n) continue;
      const name = list[Math.floor((i * list.length) / want)];
      out.push({ ns, name, ref: `component:${ns}/${name}`.toLowerCase() });
    }
  }
  // The items as they are now (each edit PUTs a copy with a new description).
  for (let i = 0; i < out.length; i += 16) {
    await Promise.all(
      out.slice(i, i + 16).map(async t => {
        t.item = await mock.admin(`/admin/namespaces/${encodeURIComponent(t.ns)}/components/${encodeURIComponent(t.name)}`);
      }),
    );
  }
  return out;
}

async function main() {
  const machine = machineInfo();
  log(`${machine.cpuModel}, ${machine.nproc} cores, load ${machine.loadAvgAtStart.map(l => l.toFixed(2)).join(' ')}`);

  const port = await freePort();
  const mock = await startMock(mockBin, {
    ...size,
    ...SHAPE,
    // The custom templates some component types name are served by the stand-in itself
    // (as in the demo): no network.
    args: ['--templates', 'local', '--notify-url', `http://127.0.0.1:${port}/api/events/http/openchoreo`],
  });
  const db = await stateDatabase();
  let backend;
  let finished = false;
  try {
    const summary = await mock.summary();
    log(`stand-in (${size.name}): ${summary.components} components; state database: ${db.kind}`);
    const targets = await chooseTargets(mock, Math.min(TARGETS, summary.components));
    log(`${targets.length} components to edit, ${RATE}/s for ${SECONDS} s`);

    backend = startBackend({ port, mockUrl: mock.url, stateUrl: db.url });
    await backend.ready;
    backend.watch(targets.map(t => t.ref));
    log(`backend up on port ${port} (log: ${backend.logPath})`);

    // The stream starts once the first cycle hands pages over.
    for (let i = 0; ; i++) {
      const r = await backend.report();
      if (r.mutations > 0) break;
      if (i > 600) throw new Error('no cycle started within 60 s');
      await sleep(100);
    }

    // Status samples every second: which cycle runs, what the events did.
    const samples = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const s = await backend.status();
          samples.push({
            at: Date.now(),
            cycle: s.cycle,
            action: s.currentAction,
            phase: s.progress?.phase,
            lastCompletedCycle: s.lastCompletedCycle,
            events: s.events,
            load1: os.loadavg()[0],
          });
        } catch (e) {
          samples.push({ at: Date.now(), error: e.message });
        }
        await sleep(1000);
      }
    })();

    const first = await backend.status();
    log(`cycle ${first.cycle} is running (${first.currentAction}, ${first.progress?.phase}); streaming edits`);
    const total = Math.round(RATE * SECONDS);
    const edits = [];
    const lastSeq = new Map();
    const inflight = [];
    const streamStart = nowMs();
    const loadDuringStream = [];
    for (let k = 0; k < total; k++) {
      const due = streamStart + (k * 1000) / RATE;
      const wait = due - nowMs();
      if (wait > 0) await sleep(wait);
      const t = targets[k % targets.length];
      const item = structuredClone(t.item);
      item.metadata.annotations = { ...(item.metadata.annotations ?? {}), 'openchoreo.dev/description': `latency edit #${k}` };
      const edit = { seq: k, ref: t.ref, due, sentAt: nowMs() };
      edits.push(edit);
      lastSeq.set(t.ref, k);
      inflight.push(
        fetch(`${mock.url}/admin/namespaces/${encodeURIComponent(t.ns)}/components/${encodeURIComponent(t.name)}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(item),
        }).then(
          async res => {
            await res.arrayBuffer();
            edit.answeredAt = nowMs();
            edit.status = res.status;
          },
          e => {
            edit.error = e.message;
          },
        ),
      );
      if (k % RATE === 0) loadDuringStream.push(os.loadavg()[0]);
      if (k > 0 && k % (RATE * 10) === 0) log(`${k} edits sent`);
    }
    await Promise.all(inflight);
    const streamEnd = nowMs();
    const failedPuts = edits.filter(e => e.status !== 200);
    log(`${edits.length} edits in ${((streamEnd - streamStart) / 1000).toFixed(1)} s (${failedPuts.length} PUTs failed)`);

    // Settle: every event applied, and the cycle running at the end of the stream complete.
    const endStatus = await backend.status();
    // The cycle in progress, or (resting) the last one: `cycle` is the current cycle's number.
    const runningCycle = endStatus.cycle;
    log(`stream over: cycle ${endStatus.cycle} ${endStatus.currentAction}; events ${JSON.stringify(endStatus.events)}`);
    const settleStart = Date.now();
    let settled;
    for (let quiet = 0; ; ) {
      const s = await backend.status();
      const idle = s.events.queued === 0 && s.events.inFlight === 0;
      const cycleDone = (s.lastCompletedCycle?.cycle ?? 0) >= runningCycle;
      quiet = idle && cycleDone ? quiet + 1 : 0;
      if (quiet >= 3) {
        settled = s;
        break;
      }
      if (Date.now() - settleStart > SETTLE_CAP_MS) throw new Error(`not settled within ${SETTLE_CAP_MS / 1000} s: ${JSON.stringify(s.events)}`);
      await sleep(500);
    }
    sampling = false;
    await sampler;
    const report = await backend.report(true);
    log(`settled ${((Date.now() - settleStart) / 1000).toFixed(1)} s after the stream; cycle ${runningCycle} complete`);

    // Per edit: the first hand-over of its component carrying its sequence number or later.
    const handovers = new Map(report.handovers);
    const removals = new Map(report.removals);
    const latencies = [];
    const byEvent = [];
    const byPage = [];
    const missing = [];
    for (const e of edits) {
      const h = (handovers.get(e.ref) ?? []).find(([, seq]) => seq !== null && seq >= e.seq);
      if (!h) {
        missing.push(e.seq);
        continue;
      }
      e.handedAt = h[0];
      e.viaEvent = h[2] <= EVENT_MUTATION_MAX;
      const ms = h[0] - e.sentAt;
      latencies.push(ms);
      (e.viaEvent ? byEvent : byPage).push(ms);
    }
    // Final state: the last hand-over of each edited component carries its last edit.
    const lost = [];
    let staleHandovers = 0;
    const staleExamples = [];
    for (const [ref, seq] of lastSeq) {
      const list = handovers.get(ref) ?? [];
      const last = list[list.length - 1];
      if (!last || last[1] !== seq || (removals.has(ref) && removals.get(ref) >= last[0])) lost.push({ ref, want: seq, got: last?.[1] ?? null });
      // Going back: a hand-over older than one already handed over (null = never edited).
      let high = -1;
      for (const [at, s] of list) {
        if (at < streamStart) continue;
        const v = s ?? -1;
        if (v < high) {
          staleHandovers += 1;
          // The ref's hand-overs since the stream started: [ms after its start, seq, size].
          if (staleExamples.length < 10) {
            staleExamples.push({ ref, at: at - streamStart, handovers: list.filter(([t]) => t >= streamStart).map(([t, q, n]) => [Math.round(t - streamStart), q, n]) });
          }
        }
        high = Math.max(high, v);
      }
    }
    const all = stats(latencies);
    const cycles = samples.filter(s => s.lastCompletedCycle).map(s => s.lastCompletedCycle);
    const cyclesDuring = [...new Map(cycles.map(c => [c.cycle, c])).values()].filter(c => c.finishedAt >= streamStart);
    const result = {
      machine,
      command: 'npm run bench:events',
      settings: { size: size.name, ...SHAPE, rate: RATE, seconds: SECONDS, targets: targets.length, stateDatabase: db.kind },
      installation: { components: summary.components, entities: settled.lastCompletedCycle?.entities },
      setup: {
        catalog: 'recording stand-in (bench/lib/recording.mjs): records the time of each applyMutation; no catalog processing',
        events: "Backstage's events plugin HTTP ingress (POST /api/events/http/openchoreo), posted by the stand-in for each /admin edit",
        eventBus: EVENT_BUS,
        schedule: 'one burst per cycle, cycles back to back (restLength 0, burstInterval 1 s), chunkSize 100',
      },
      edits: edits.length,
      failedPuts: failedPuts.length,
      putMs: stats(edits.filter(e => e.answeredAt).map(e => e.answeredAt - e.sentAt)),
      scheduleLagMs: stats(edits.map(e => e.sentAt - e.due)),
      latencyMs: all,
      viaEvent: stats(byEvent),
      viaPage: stats(byPage),
      neverHandedOver: missing.length,
      lostEdits: lost.length,
      lostExamples: lost.slice(0, 10),
      // Transient unless the ref is also among the lost: a later hand-over restored it.
      staleHandovers,
      staleExamples,
      wrongfulRemovals: report.removed,
      // Edits change no refs: the catalog holds what a full cycle over the source yields.
      catalogEntities: report.present,
      sourceEntities: settled.lastCompletedCycle?.entities,
      ownedEntities: settled.ownedEntities,
      events: settled.events,
      cycleRunningAtStreamEnd: runningCycle,
      cyclesCompletedDuringRun: cyclesDuring.map(c => ({ cycle: c.cycle, durationMs: c.durationMillis, pages: c.pages })),
      loadAvgDuringStream: loadDuringStream,
      loadAvgAtEnd: os.loadavg(),
      statusSamples: samples,
    };
    const catalogOk = report.present === settled.lastCompletedCycle?.entities && report.present === settled.ownedEntities;
    result.pass =
      all.p99 !== undefined && all.p99 < TARGET_P99_MS && lost.length === 0 && missing.length === 0 && report.removed === 0 && catalogOk;

    const f = v => (v === undefined ? '–' : v.toFixed(0));
    const row = (label, s) => `| ${label} | ${s.count} | ${f(s.p50)} | ${f(s.p90)} | ${f(s.p99)} | ${f(s.max)} |`;
    const avg = a => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
    const table = [
      `Change event latency, ${size.name} installation (${summary.components.toLocaleString('en-US')} components, ` +
        `${(settled.lastCompletedCycle?.entities ?? 0).toLocaleString('en-US')} entities), ` +
        `${RATE} edits/s for ${SECONDS} s over ${targets.length} components, state in ${db.kind === 'pg' ? 'PostgreSQL' : 'SQLite'}, events bus ${EVENT_BUS}, ` +
        `${machine.nproc} cores (${machine.cpuModel}), load average ${avg(loadDuringStream).toFixed(2)} during the stream`,
      '',
      '| edit → applyMutation (ms) | count | p50 | p90 | p99 | max |',
      '|---|---:|---:|---:|---:|---:|',
      row('all edits', all),
      row(`handed over by an event (≤ ${EVENT_MUTATION_MAX} entities)`, result.viaEvent),
      row('handed over by a cycle page first', result.viaPage),
      row('admin PUT answered', result.putMs),
      '',
      `lost edits: ${lost.length}; never handed over: ${missing.length}; stale hand-overs: ${staleHandovers}; removals: ${report.removed}; ` +
        `catalog ${report.present.toLocaleString('en-US')} entities (a full cycle over the source: ` +
        `${(settled.lastCompletedCycle?.entities ?? 0).toLocaleString('en-US')}, owned ${settled.ownedEntities.toLocaleString('en-US')}); ` +
        `events received ${settled.events.received}, applied ${settled.events.applied}, coalesced ${settled.events.coalesced}, ` +
        `failed ${settled.events.failed}, retries ${settled.events.retries}; cycles completed during the run: ${cyclesDuring.length} ` +
        `(${cyclesDuring.map(c => `${(c.durationMillis / 1000).toFixed(1)} s`).join(', ')})`,
      `target p99 < ${TARGET_P99_MS} ms with 0 lost: ${result.pass ? 'PASS' : 'MISS'}`,
    ].join('\n');
    console.log(`\n${table}\n`);
    const dir = join(here, 'results');
    mkdirSync(dir, { recursive: true });
    const out = join(dir, `events-latency-${size.name}-${db.kind}.json`);
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, `events-latency-${size.name}-${db.kind}.md`), `${table}\n`);
    log(`wrote ${out}`);
    finished = true;
    return result.pass ? 0 : 1;
  } finally {
    await backend?.stop();
    await mock.stop();
    await db.cleanup();
    if (finished) rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp} (the backend's log and config)`);
  }
}

main().then(
  code => process.exit(code),
  e => {
    console.error(`[bench:events] ${e?.stack ?? e}`);
    process.exit(1);
  },
);
