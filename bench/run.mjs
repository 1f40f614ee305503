#!/usr/bin/env node
// `npm run bench`: one full ingestion cycle per contender and installation size against
// the OpenChoreo stand-in, each contender in its own Node process. See bench/README.md.
//
// Environment (all optional):
//   BENCH_SIZES           comma list of size names (default "10k,100k"; also "tiny")
//   BENCH_CONTENDERS      comma list (default: all; floor,addon-sqlite,addon-pg,
//                         backstage-sqlite,backstage-pg,legacy)
//   BENCH_RUN_CAP_SECONDS cap per run (default 240)
//   BENCH_BUDGET_SECONDS  whole benchmark, builds included (default 840 = 14 min)
//   OC_BENCH_POSTGRES     PostgreSQL server URL (default postgres://postgres@127.0.0.1:5432;
//                         falls back to OC_TEST_POSTGRES_URL's server)
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedEntities, minRequests, startMock } from './lib/mock.mjs';
import { growthTable, memorySvg, mib, resultsTable, targetsTable } from './lib/report.mjs';
import { verifyEquivalence } from './lib/verify.mjs';
import { machineInfo } from './lib/machine.mjs';
import { postgresServer, postgresUrl } from './lib/postgres.mjs';
import { ensureBuilt } from '../scripts/ensure-built.mjs';

const START = Date.now();
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const resultsDir = join(here, 'results');
const require = createRequire(import.meta.url);

const BUDGET_MS = Number(process.env.BENCH_BUDGET_SECONDS ?? 840) * 1000;
const RUN_CAP_MS = Number(process.env.BENCH_RUN_CAP_SECONDS ?? 240) * 1000;
const SETUP_CAP_MS = 90_000;
const DEADLINE = START + BUDGET_MS;
const CHUNK = 100;

const ALL_SIZES = {
  tiny: { name: 'tiny', namespaces: 2, projects: 5, components: 10 },
  '10k': { name: '10k', namespaces: 10, projects: 20, components: 50 },
  '100k': { name: '100k', namespaces: 20, projects: 50, components: 100 },
  // `npm run bench:scale` (bench/scale.mjs): the same shape at 100k and 1M, so that the
  // two differ only in the size of each namespace's lists.
  '100k-wide': { name: '100k-wide', namespaces: 10, projects: 100, components: 100 },
  '1m': { name: '1m', namespaces: 10, projects: 100, components: 1000 },
};
/** Output files: bench/results/<name>.md, .json, -memory.svg (latest.* for `npm run bench`). */
const OUTPUT = process.env.BENCH_OUTPUT ?? 'latest';
const SHAPE = { endpoints: 2, schemaShare: 0.5, dependencies: 1 };
const CONTENDERS = [
  { name: 'floor', label: 'floor: same requests, answers discarded', kind: 'floor' },
  { name: 'addon-sqlite', label: 'this module (Rust addon), SQLite', kind: 'addon', db: 'sqlite' },
  { name: 'addon-pg', label: 'this module (Rust addon), PostgreSQL', kind: 'addon', db: 'pg' },
  { name: 'backstage-sqlite', label: "Backstage's incremental engine, SQLite", kind: 'backstage', db: 'sqlite' },
  { name: 'backstage-pg', label: "Backstage's incremental engine, PostgreSQL", kind: 'backstage', db: 'pg' },
  { name: 'legacy', label: 'legacy-shaped full refresh', kind: 'legacy' },
];

const sizes = (process.env.BENCH_SIZES ?? '10k,100k').split(',').map(s => {
  const size = ALL_SIZES[s.trim()];
  if (!size) throw new Error(`unknown size ${s} (${Object.keys(ALL_SIZES).join(', ')})`);
  return { ...size, ...SHAPE };
});
const wanted = new Set((process.env.BENCH_CONTENDERS ?? CONTENDERS.map(c => c.name).join(',')).split(',').map(s => s.trim()));
const contenders = CONTENDERS.filter(c => wanted.has(c.name));

const log = msg => console.log(`[bench ${((Date.now() - START) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------
// Prerequisites
// ---------------------------------------------------------------------------------------

// On a fresh clone: npm ci, the addon, the module and the stand-in, as `npm test` does.
ensureBuilt('bench');
const mockBin = join(root, 'target', 'release', 'mock-openchoreo');

const pgServer = postgresServer();
const pgUrl = db => postgresUrl(pgServer, db);

async function pgAdmin(sql) {
  const { Client } = require('pg');
  const client = new Client({ ...pgServer, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

let pgAvailable = false;
if (contenders.some(c => c.db === 'pg')) {
  try {
    await pgAdmin('SELECT 1');
    pgAvailable = true;
  } catch (e) {
    log(`PostgreSQL at ${pgServer.host}:${pgServer.port} is not reachable (${e.message}); the PostgreSQL runs are skipped`);
  }
}

// ---------------------------------------------------------------------------------------
// One run: a contender in its own process, against the running stand-in
// ---------------------------------------------------------------------------------------

const tmpRoot = mkdtempSync(join(os.tmpdir(), 'oc-bench-'));
let dbSeq = 0;

async function prepareDatabase(contender, size) {
  const id = `oc_bench_${process.pid}_${size.name}_${++dbSeq}`;
  if (contender.db === 'sqlite') {
    const dir = join(tmpRoot, id);
    mkdirSync(dir, { recursive: true });
    const cleanup = async () => rmSync(dir, { recursive: true, force: true });
    if (contender.kind === 'addon') return { options: { databaseUrl: `sqlite://${join(dir, 'state.sqlite')}` }, cleanup };
    return { options: { backendDatabase: { client: 'better-sqlite3', connection: { directory: dir } } }, cleanup };
  }
  if (contender.db === 'pg') {
    // A fresh database per run; Backstage creates `<prefix>catalog` itself.
    const database = contender.kind === 'addon' ? id : `${id}_catalog`;
    const cleanup = async () => {
      try {
        await pgAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      } catch (e) {
        log(`could not drop database ${database}: ${e.message}`);
      }
    };
    if (contender.kind === 'addon') {
      await pgAdmin(`CREATE DATABASE "${database}"`);
      // The transport of the Backstage contenders' `pg` client (no TLS unless configured);
      // sqlx would otherwise negotiate TLS (`sslmode=prefer`) on loopback.
      return { options: { databaseUrl: `${pgUrl(database)}?sslmode=disable` }, cleanup };
    }
    const connection = { host: pgServer.host, port: pgServer.port, user: pgServer.user };
    if (pgServer.password) connection.password = pgServer.password;
    return { options: { backendDatabase: { client: 'pg', connection, prefix: `${id}_` } }, cleanup };
  }
  return { options: {}, cleanup: async () => {} };
}

/**
 * The engine's state after a completed cycle: the size of its tables with their indexes
 * (SQLite: the file with its WAL, and per table from `dbstat`; PostgreSQL: the
 * `oc_ingest_*` tables' `pg_total_relation_size`, without the ~7.5 MB every database
 * starts with), and the rows still staged (none, after a cycle).
 */
async function stateSize(contender, options) {
  const staged = 'SELECT (SELECT count(*) FROM oc_ingest_stage_workloads) + (SELECT count(*) FROM oc_ingest_stage_projects) AS n';
  try {
    if (contender.db === 'sqlite') {
      const file = new URL(options.databaseUrl.replace(/^sqlite:\/\//, 'file://')).pathname;
      const size = f => (existsSync(f) ? statSync(f).size : 0);
      const Database = require('better-sqlite3');
      const db = new Database(file, { readonly: true });
      try {
        let stateTables;
        try {
          const rows = db.prepare("SELECT name, SUM(pgsize) AS b FROM dbstat WHERE name LIKE 'oc_ingest_%' GROUP BY name").all();
          stateTables = Object.fromEntries(rows.map(r => [r.name, Number(r.b)]));
        } catch {
          // a build of SQLite without dbstat
        }
        return { stateBytes: size(file) + size(`${file}-wal`), stateTables, stagedRows: Number(db.prepare(staged).get().n) };
      } finally {
        db.close();
      }
    }
    const { Client } = require('pg');
    const database = new URL(options.databaseUrl).pathname.slice(1);
    const client = new Client({ ...pgServer, database, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      const tables = await client.query(
        "SELECT relname, pg_total_relation_size(oid) AS b FROM pg_class WHERE relname LIKE 'oc\\_ingest\\_%' AND relkind = 'r'",
      );
      const stateTables = Object.fromEntries(tables.rows.map(r => [r.relname, Number(r.b)]));
      return {
        stateBytes: Object.values(stateTables).reduce((a, b) => a + b, 0),
        stateTables,
        stagedRows: Number((await client.query(staged)).rows[0].n),
      };
    } finally {
      await client.end();
    }
  } catch (e) {
    log(`could not measure the state database: ${e.message}`);
    return {};
  }
}

function runChild(options, capMs) {
  return new Promise(resolve => {
    const child = fork(join(here, 'child.mjs'), [JSON.stringify(options)], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    let stderr = '';
    child.stderr.on('data', d => {
      stderr += d;
      if (stderr.length > 20000) stderr = stderr.slice(-20000);
    });
    const state = { samples: [], added: 0, result: undefined, error: undefined, ready: false, startedAt: 0 };
    let timer = setTimeout(() => finish('setup-timeout'), SETUP_CAP_MS);
    let done = false;
    function finish(status) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (status !== 'ok' && child.exitCode === null) child.kill('SIGKILL');
      const elapsed = state.startedAt ? performance.now() - state.startedAt : 0;
      resolve({ status, ...state, elapsedMs: elapsed, stderr });
    }
    child.on('message', m => {
      if (m.type === 'ready') {
        state.ready = true;
        state.rssBefore = m.rssBefore;
        state.startedAt = performance.now();
        clearTimeout(timer);
        timer = setTimeout(() => finish('timeout'), capMs);
      } else if (m.type === 'progress') {
        state.samples.push(...m.samples);
        state.added = m.added;
      } else if (m.type === 'result') {
        state.result = m;
        state.added = m.added;
        // The result is final; the child tears down on its own (bounded).
        clearTimeout(timer);
        timer = setTimeout(() => finish('ok'), 30_000);
      } else if (m.type === 'error') {
        state.error = m.message;
      }
    });
    child.on('exit', code => {
      if (state.result) finish('ok');
      else finish(state.error || code !== 0 ? 'error' : 'error');
    });
  });
}

async function runOne(contender, size, mock, summary, capMs) {
  const base = {
    name: contender.name,
    label: contender.label,
    kind: contender.kind,
    db: contender.db,
    size: size.name,
    components: summary.components,
    expected: expectedEntities(summary),
    minRequests: minRequests(summary, CHUNK),
    capMs,
  };
  if (contender.db === 'pg' && !pgAvailable) return { ...base, status: 'skipped', note: 'no PostgreSQL', samples: [] };
  const db = await prepareDatabase(contender, size);
  try {
    await mock.resetStats();
    const mockCpu0 = mock.cpuSeconds();
    const load = os.loadavg()[0];
    const run = await runChild(
      { kind: contender.kind, baseUrl: mock.url, chunkSize: CHUNK, providerName: 'OpenChoreoEntityProvider', ...db.options },
      capMs,
    );
    const stats = await mock.stats();
    const mockCpuS = mock.cpuSeconds() - mockCpu0;
    const r = run.result;
    const out = {
      ...base,
      status: run.status,
      loadAvgBefore: load,
      requests: stats.requests,
      requestsByList: stats.byList,
      itemsScanned: stats.itemsScanned,
      mockCpuS,
      samples: run.samples,
      rssBefore: run.rssBefore,
      added: run.added,
    };
    if (run.status === 'ok' && r) {
      Object.assign(out, {
        wallMs: r.wallMs,
        cpuS: r.cpuUserS + r.cpuSysS,
        cpuUserS: r.cpuUserS,
        cpuSysS: r.cpuSysS,
        removed: r.removed,
        mutations: r.mutations,
        fullMutations: r.fullMutations,
        peakRssHwm: r.peakRssHwm,
        info: r.info,
      });
      out.entities = contender.kind === 'floor' ? out.expected : r.added;
      if (contender.kind !== 'floor' && r.added !== out.expected) {
        out.status = 'wrong-count';
        out.note = `added ${r.added}, expected ${out.expected}`;
      }
    } else {
      out.wallMs = run.elapsedMs;
      if (run.status === 'timeout') out.note = `capped at ${Math.round(capMs / 1000)} s`;
      if (run.status !== 'timeout') out.note = (run.error ?? run.stderr ?? '').split('\n').slice(0, 3).join(' ').slice(0, 300);
      out.errorDetail = run.error ?? run.stderr;
    }
    if (contender.kind === 'addon' && run.status === 'ok') Object.assign(out, await stateSize(contender, db.options));
    const sampledPeak = out.samples.length ? Math.max(...out.samples.map(([, b]) => b)) : undefined;
    out.peakRssSampled = sampledPeak;
    out.peakRss = Math.max(out.peakRssHwm ?? 0, sampledPeak ?? 0) || undefined;
    return out;
  } finally {
    await db.cleanup();
  }
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

const machine = {
  ...machineInfo(),
  free: sh('free', ['-g']),
  rustc: sh('rustc', ['--version']),
  commit: sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
  addonBuiltAt: (() => {
    try {
      return statSync(join(root, 'openchoreo-incremental.linux-x64-gnu.node')).mtime.toISOString();
    } catch {
      return undefined;
    }
  })(),
};
log(`${machine.cpuModel}, ${machine.nproc} cores, node ${machine.node}, ${machine.rustc}`);

let equivalence;
try {
  log('checking that every contender produces the same entities (small installation, page size 7)');
  equivalence = await verifyEquivalence({ root, mockBin });
  log(`equivalence: ${equivalence.ok ? 'identical' : 'DIFFERENT'} (${equivalence.summary})`);
} catch (e) {
  equivalence = { ok: false, summary: `check failed: ${e.message}` };
  log(`equivalence check failed: ${e.stack ?? e}`);
}

const runs = [];
const plan = sizes.flatMap(size => contenders.map(contender => ({ size, contender })));
let planIndex = 0;
for (const size of sizes) {
  log(`starting the stand-in: ${size.namespaces} namespaces x ${size.projects} projects x ${size.components} components`);
  const mock = await startMock(mockBin, size);
  try {
    const summary = await mock.summary();
    log(
      `${summary.components} components, ${summary.projects} projects, ${summary.endpointsWithSchema} APIs: ` +
        `${expectedEntities(summary)} entities, ${minRequests(summary, CHUNK)} requests at least`,
    );
    for (const contender of contenders) {
      planIndex += 1;
      const remainingAfter = plan.length - planIndex;
      const budgetLeft = DEADLINE - Date.now() - remainingAfter * 20_000 - 15_000;
      const capMs = Math.min(RUN_CAP_MS, budgetLeft);
      if (capMs < Math.min(15_000, RUN_CAP_MS)) {
        log(`${contender.name} @ ${size.name}: skipped (the time budget is spent)`);
        runs.push({
          name: contender.name, label: contender.label, kind: contender.kind, db: contender.db, size: size.name,
          components: summary.components, expected: expectedEntities(summary), minRequests: minRequests(summary, CHUNK),
          status: 'skipped', note: 'time budget', samples: [],
        });
        continue;
      }
      log(`${contender.name} @ ${size.name} (cap ${Math.round(capMs / 1000)} s) ...`);
      const r = await runOne(contender, size, mock, summary, capMs);
      runs.push(r);
      const count = r.kind === 'floor' ? r.expected : r.added;
      const rate = r.wallMs ? (count / r.wallMs) * 1000 : 0;
      log(
        `${contender.name} @ ${size.name}: ${r.status}` +
          (r.wallMs ? `, ${(r.wallMs / 1000).toFixed(2)} s, ${count} entities (${Math.round(rate)}/s)` : '') +
          (r.requests !== undefined ? `, ${r.requests} requests` : '') +
          (r.cpuS !== undefined ? `, CPU ${r.cpuS.toFixed(2)} s` : '') +
          (r.peakRss ? `, peak RSS ${mib(r.peakRss).toFixed(1)} MiB` : '') +
          (r.note ? ` — ${r.note}` : ''),
      );
    }
  } finally {
    await mock.stop();
  }
}
rmSync(tmpRoot, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------
// Derived figures, targets, outputs
// ---------------------------------------------------------------------------------------

const find = (name, size) => runs.find(r => r.name === name && r.size === size);
for (const r of runs) {
  if (!r.wallMs || r.status === 'skipped') continue;
  // A capped run would have needed more than its cap for the whole installation: its
  // full-cycle rate is below expected / cap (an upper bound, shown as "< n").
  const count = r.kind === 'floor' || r.status === 'timeout' ? r.expected : r.added;
  r.entitiesPerSecond = (count / r.wallMs) * 1000;
  r.rateIsUpperBound = r.status === 'timeout';
}
for (const r of runs) {
  const floor = find('floor', r.size);
  const bs = find(r.db === 'pg' ? 'backstage-pg' : 'backstage-sqlite', r.size);
  if (r.entitiesPerSecond !== undefined && floor?.status === 'ok') r.vsFloor = r.entitiesPerSecond / floor.entitiesPerSecond;
  // Against a capped run of Backstage's engine the ratio is a lower bound.
  const comparable = r.status === 'ok' || r === bs;
  if (comparable && r.entitiesPerSecond !== undefined && bs?.entitiesPerSecond && (bs.status === 'ok' || bs.status === 'timeout')) {
    r.vsBackstage = r.entitiesPerSecond / bs.entitiesPerSecond;
    r.vsBackstageLowerBound = bs.status === 'timeout';
  }
}

const [smallSize, largeSize] = [sizes[0]?.name, sizes[sizes.length - 1]?.name];
const growth = contenders
  .map(c => {
    if (sizes.length < 2) return undefined;
    const small = find(c.name, smallSize);
    const large = find(c.name, largeSize);
    if (!small?.peakRss || !large?.peakRss) return undefined;
    return { name: c.name, label: c.label, small: small.peakRss, large: large.peakRss, growth: large.peakRss - small.peakRss, largeStatus: large.status };
  })
  .filter(Boolean);

const targets = [];
const f2 = v => (v === undefined ? '–' : v.toFixed(2));
for (const db of ['sqlite', 'pg']) {
  const name = `addon-${db}`;
  const dbLabel = db === 'pg' ? 'PostgreSQL' : 'SQLite';
  const mine = sizes.map(s => find(name, s.name)).filter(Boolean);
  if (mine.length === 0 || mine.every(r => r.status === 'skipped')) continue;
  const okRuns = mine.filter(r => r.status === 'ok');
  const all = pred => (okRuns.length === mine.length ? okRuns.every(pred) : false);
  targets.push({
    name: `this module (${dbLabel}): throughput >= 0.8x the floor`,
    measured: mine.map(r => `${r.size}: ${r.rateIsUpperBound ? '< ' : ''}${f2(r.vsFloor)}x${r.status === 'ok' ? '' : ` (${r.status})`}`).join(', '),
    pass: all(r => r.vsFloor !== undefined && r.vsFloor >= 0.8),
  });
  // Where even the floor is not 3x Backstage's engine, no ingester can be.
  const ceiling = mine
    .map(r => ({ size: r.size, floor: find('floor', r.size), bs: find(`backstage-${db}`, r.size) }))
    .filter(x => x.floor?.entitiesPerSecond && x.bs?.status === 'ok')
    .map(x => ({ size: x.size, ratio: x.floor.entitiesPerSecond / x.bs.entitiesPerSecond }))
    .filter(x => x.ratio < 3);
  targets.push({
    name: `this module (${dbLabel}): throughput >= 3x Backstage's engine (${dbLabel})`,
    measured:
      mine.map(r => `${r.size}: ${r.vsBackstageLowerBound ? '>= ' : ''}${f2(r.vsBackstage)}x`).join(', ') +
      ceiling.map(c => `; at ${c.size} even the floor is only ${c.ratio.toFixed(2)}x`).join(''),
    pass: all(r => r.vsBackstage !== undefined && r.vsBackstage >= 3),
  });
  const g = growth.find(x => x.name === name);
  if (g) {
    targets.push({
      name: `this module (${dbLabel}): peak RSS growth ${smallSize} -> ${largeSize} <= 16 MiB`,
      measured: `${mib(g.growth).toFixed(1)} MiB (${mib(g.small).toFixed(1)} -> ${mib(g.large).toFixed(1)})`,
      pass: g.largeStatus === 'ok' && mib(g.growth) <= 16,
    });
  }
  targets.push({
    name: `this module (${dbLabel}): API requests within 5% of the minimum`,
    measured: mine.map(r => `${r.size}: ${r.requests ?? '–'} / ${r.minRequests}`).join(', '),
    pass: all(r => r.requests !== undefined && r.requests <= r.minRequests * 1.05),
  });
  // The scale run: no superlinear step, and a state database that does not keep what the
  // cycle staged.
  const small = find(name, '100k-wide');
  const large = find(name, '1m');
  if (small && large) {
    const rate = small.entitiesPerSecond && large.entitiesPerSecond ? large.entitiesPerSecond / small.entitiesPerSecond : undefined;
    targets.push({
      name: `this module (${dbLabel}): entities/s at 1m >= 0.9x the rate at 100k-wide`,
      measured: `${f2(rate)}x`,
      pass: small.status === 'ok' && large.status === 'ok' && rate >= 0.9,
    });
  }
  if (mine.some(r => r.stateBytes !== undefined)) {
    targets.push({
      name: `this module (${dbLabel}): state database <= 300 bytes per entity after a cycle, nothing staged`,
      measured: mine
        .map(r => `${r.size}: ${r.stateBytes ? Math.round(r.stateBytes / r.added) : '–'} B, ${r.stagedRows ?? '–'} staged`)
        .join(', '),
      pass: all(r => r.stateBytes !== undefined && r.stateBytes / r.added <= 300 && r.stagedRows === 0),
    });
  }
}

const panels = sizes.map(s => ({
  title: `${s.name === 'tiny' ? 'tiny' : s.name} components`,
  series: contenders
    .map(c => find(c.name, s.name))
    .filter(r => r && r.samples?.length)
    .map(r => ({ name: r.name, samples: r.samples, timedOut: r.status === 'timeout' })),
}));
const svg = memorySvg(panels, 'RSS of each contender during one full cycle (own process, sampled every 100 ms)');

const SVG = OUTPUT === 'latest' ? 'memory.svg' : `${OUTPUT}-memory.svg`;
const stated = runs.filter(r => r.stateBytes !== undefined);
const stateLines = stated.length
  ? `\n## State database after the cycle\n\n| contender | installation | state database | entities | bytes per entity | rows left staged | largest tables |\n|---|---|---:|---:|---:|---:|---|\n${stated
      .map(r => {
        const top = Object.entries(r.stateTables ?? {})
          .sort(([, a], [, b]) => b - a)
          .slice(0, 3)
          .map(([t, b]) => `${t} ${mib(b).toFixed(1)} MiB`)
          .join(', ');
        return `| ${r.label} | ${r.size} | ${mib(r.stateBytes).toFixed(1)} MiB | ${r.added} | ${Math.round(r.stateBytes / r.added)} | ${r.stagedRows} | ${top || '–'} |`;
      })
      .join('\n')}\n`
  : '';
const sizeLines = sizes
  .map(s => `- ${s.name}: ${s.namespaces} namespaces x ${s.projects} projects x ${s.components} components; ${s.endpoints} endpoints per workload, schema share ${s.schemaShare}, ${s.dependencies} dependency; every platform kind at the stand-in's default counts (per namespace 3 environments, 4 component types, 5 resources, ...; 20 cluster-scoped items), each list walked by every contender`)
  .join('\n');
const md = `# OpenChoreo ingestion benchmark

${machine.date} — ${machine.cpuModel}; nproc ${machine.nproc}; node ${machine.node}; ${machine.rustc ?? 'rustc unknown'}; commit ${machine.commit ?? '?'} (plus the working tree; addon built ${machine.addonBuiltAt ?? '?'}); load average at start ${machine.loadAvgAtStart.map(v => v.toFixed(2)).join(' ')}

\`\`\`
$ free -g
${machine.free ?? '(free not available)'}
\`\`\`

One full cycle per contender, each in its own Node process, against the OpenChoreo stand-in on loopback;
page size ${CHUNK}; mutations go to a counting connection (no catalog processing); no pause between bursts.
Wall time and CPU (user+sys of the child, all threads) cover the cycle only, not process start-up
(backend start, migrations, engine open). Peak RSS is the kernel's high-water mark (VmHWM, reset when
the cycle starts), RSS at start is the process before the cycle. API requests come from the stand-in's
/admin/stats (reset before each run); the minimum is the sum over lists of ceil(items / ${CHUNK}).
Entities/s of the floor is the installation's entity count over the floor's wall time.
Runs are capped at ${Math.round(RUN_CAP_MS / 1000)} s (a capped run shows the entities reached and an upper bound on its rate).

${sizeLines}

Entity equivalence (the JavaScript providers vs the Rust engine, small installation, page size 7; Domains, Systems, Components and APIs compared whole, the platform kinds and Templates by ref): ${equivalence.ok ? 'identical' : `**DIFFERENT** — ${equivalence.summary}`}${equivalence.ok ? ` (${equivalence.summary})` : ''}

## Results

${resultsTable(runs)}

## Peak RSS growth from ${smallSize} to ${largeSize}

${growth.length ? growthTable(growth) : '(needs both sizes)'}

## Targets

${targetsTable(targets)}

RSS over time: [${SVG}](${SVG}). Raw figures: [${OUTPUT}.json](${OUTPUT}.json).
${stateLines}`;

mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, `${OUTPUT}.md`), md);
writeFileSync(join(resultsDir, SVG), svg);
writeFileSync(
  join(resultsDir, `${OUTPUT}.json`),
  JSON.stringify({ machine, chunkSize: CHUNK, sizes, equivalence, runs, growth, targets }, null, 1),
);

console.log('\n' + md);
for (const t of targets) console.log(`${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.measured}`);
log(`done; wrote bench/results/${OUTPUT}.md, ${OUTPUT}.json, ${SVG}`);
