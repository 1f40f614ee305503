#!/usr/bin/env node
// `npm run e2e:app`: this package inside a Backstage app made the way users make one.
// It packs this package, creates an app with @backstage/create-app from the registry,
// installs the tarball into packages/backend, adds the one `backend.add(...)` line, runs
// the app's backend (headless) on PostgreSQL against the OpenChoreo stand-in, and checks
// what a user would: every kind arrives, the management routes take a static
// external-access token and refuse calls without it, the engine's tables live in the
// catalog plugin's database, and the app resolves one copy of each Backstage core
// package. Everything runs on Node E2E_NODE (default 22) from the npm registry. Nothing is
// cached between runs but the Node binary and yarn's package cache: CI runs it from
// scratch. Every wait has a deadline; any failed check exits non-zero.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, root } from './ensure-built.mjs';
import { nodeDir, nodeEnv } from './with-node.mjs';
import { compare, expectedEntities } from './e2e/expected.mjs';
import { coreVersions } from './e2e/yarn-why.mjs';

// What varies, as data.
const CREATE_APP = '@backstage/create-app@0.9.2';
/** Only a bootstrap: the app's own .yarnrc.yml `yarnPath` picks the yarn it pins. */
const YARN_BOOTSTRAP = '@yarnpkg/cli-dist@4';
const NODE_MAJOR = process.env.E2E_NODE ?? '22';
const PROVIDER = 'OpenChoreoEntityProvider';
/** everyKind.test.ts's small installation: 2 namespaces x 3 projects x 4 components, every platform kind. */
const STAND_IN_ARGS = ['--namespaces', '2', '--projects', '3', '--components', '4', '--templates', 'local'];
const PG_URL = new URL(process.env.OC_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
/** Backstage's packages that must resolve to one version in the app: ours plus the backend's core. */
const PKG = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const CORE_PACKAGES = [
  ...new Set([
    ...Object.keys(PKG.dependencies).filter(d => d.startsWith('@backstage/')),
    '@backstage/backend-defaults',
    '@backstage/plugin-catalog-backend',
  ]),
].sort();
/**
 * Template lines taken out of packages/backend/src/index.ts. create-app cannot fetch its
 * yarn.lock seed here (GitHub is unreachable), so yarn resolves each caret range anew:
 * on 2026-12-03 that gave backend-defaults 0.18.0 next to a plugin-signals-backend whose
 * start-up calls httpRouter.addWebSocketHandler, which 0.18 lacks, and Backstage then
 * fails the whole start-up (the catalog never processes). Signals have nothing to do
 * with this module.
 */
/**
 * Packages whose service refs and extension points this package must share with the
 * package that provides them: the version it resolves must be that one's.
 */
const SAME_AS = {
  '@backstage/backend-plugin-api': '@backstage/backend-defaults',
  '@backstage/plugin-catalog-node': '@backstage/plugin-catalog-backend',
};
const TEMPLATE_LINES_DROPPED = ["backend.add(import('@backstage/plugin-signals-backend'));"];
const MINUTE = 60_000;
const LIMITS = {
  total: Number(process.env.E2E_TIMEOUT_MIN ?? 50) * MINUTE,
  createApp: 5 * MINUTE,
  install: 30 * MINUTE,
  add: 10 * MINUTE,
  backendUp: 5 * MINUTE,
  cycle: 5 * MINUTE,
  entities: 3 * MINUTE,
};

const id = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const work = mkdtempSync(join(tmpdir(), 'oc-e2e-app-'));
/** For working on this script only: E2E_APP=<an app kept by E2E_KEEP=1> skips creating and installing it. */
const reuse = process.env.E2E_APP;
const app = reuse ?? join(work, 'app');
const dbPrefix = `oc_e2e_${id}_`;
const token = randomBytes(24).toString('hex');
const logDir = join(root, 'target', 'e2e-app');
const timings = [];
const children = [];
let phase = 'start';
let failed = false;
/** A line of the backend's log that says its start-up failed (Backstage keeps serving some routes). */
let startupFailure;

const log = msg => console.log(`[e2e:app] ${msg}`);
const secs = ms => `${(ms / 1000).toFixed(1)} s`;

async function step(name, fn) {
  phase = name;
  log(`-- ${name}`);
  const t = Date.now();
  try {
    return await fn();
  } finally {
    timings.push([name, Date.now() - t]);
  }
}

function fail(msg) {
  throw new Error(msg);
}

// PATH: that Node first (npx, yarn and the backend run on it), then a `yarn` shim.
const toolsBin = join(work, 'bin');
let env = { ...process.env };

function run(cmd, args, { cwd = app, timeout, input } = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd, env, timeout, stdio: [input === undefined ? 'ignore' : 'pipe', 'inherit', 'inherit'], input });
  if (r.error?.code === 'ETIMEDOUT' || r.signal) fail(`'${cmd} ${args.join(' ')}' did not finish within ${secs(timeout)} (${r.signal ?? r.error.code})`);
  if (r.status !== 0) fail(`'${cmd} ${args.join(' ')}' failed (exit ${r.status})`);
}

function capture(cmd, args, { cwd = app, timeout = MINUTE } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, timeout, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.signal) fail(`'${cmd} ${args.join(' ')}': ${r.error?.message ?? r.signal}`);
  return r;
}

function psql(database, sql) {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  const r = capture('psql', [url.toString(), '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { cwd: root, timeout: 30_000 });
  if (r.status !== 0) fail(`psql ${database}: ${r.stderr.trim()}`);
  return r.stdout.trim().split('\n').filter(Boolean);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts a long-running process in its own process group, its output to `logFile`. */
function startProcess(name, cmd, args, { cwd, logFile, onLine }) {
  const out = createWriteStream(logFile);
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push({ name, child });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', chunk => {
      out.write(chunk);
      onLine?.(chunk.toString());
    });
  }
  child.on('exit', (code, signal) => {
    out.end();
    if (!child.stopping) log(`${name} exited (${code ?? signal})`);
  });
  return child;
}

async function stopProcess({ name, child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stopping = true;
  const exited = new Promise(resolve => child.once('exit', resolve));
  const group = sig => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  group('SIGTERM');
  const timer = setTimeout(() => group('SIGKILL'), 10_000);
  await Promise.race([exited, new Promise(r => setTimeout(r, 15_000))]);
  clearTimeout(timer);
  log(`stopped ${name}`);
}

async function waitFor(what, timeoutMs, probe, intervalMs = 1000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (startupFailure) fail(`the backend's start-up failed: ${startupFailure}`);
    for (const { name, child } of children) {
      if (child.exitCode !== null || child.signalCode !== null) fail(`${name} exited while waiting for ${what}`);
    }
    await new Promise(r => setTimeout(r, intervalMs));
  }
  fail(`${what}: not within ${secs(timeoutMs)}${last ? ` (last error: ${last.message})` : ''}`);
}

async function http(method, url, { auth } = {}) {
  const headers = auth ? { authorization: `Bearer ${auth}` } : {};
  const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

async function main() {
  const total = Date.now();

  const tarball = await step('pack this package', () => {
    ensureBuilt('e2e:app');
    const packDir = join(work, 'pack');
    mkdirSync(packDir);
    const r = capture('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: root, timeout: 5 * MINUTE });
    if (r.status !== 0) fail(`npm pack failed: ${r.stderr}`);
    const [{ filename, files }] = JSON.parse(r.stdout);
    log(`${filename}: ${files.length} files`);
    return join(packDir, filename);
  });

  await step(`Node ${NODE_MAJOR} and a yarn bootstrap`, () => {
    const node = nodeDir(NODE_MAJOR);
    mkdirSync(toolsBin, { recursive: true });
    const r = capture('npm', ['pack', YARN_BOOTSTRAP, '--json', '--pack-destination', work], { cwd: work, timeout: 5 * MINUTE });
    if (r.status !== 0) fail(`npm pack ${YARN_BOOTSTRAP} failed: ${r.stderr}`);
    const [{ filename, version }] = JSON.parse(r.stdout);
    run('tar', ['xzf', join(work, filename), '-C', work], { cwd: work, timeout: MINUTE });
    writeFileSync(join(toolsBin, 'yarn'), `#!/bin/sh\nexec node ${JSON.stringify(join(work, 'package', 'bin', 'yarn.js'))} "$@"\n`);
    chmodSync(join(toolsBin, 'yarn'), 0o755);
    // The app's yarn.lock is created here (create-app's seed comes from GitHub, which
    // is unreachable): let yarn write it even on CI, where it defaults to --immutable.
    env = {
      ...nodeEnv(NODE_MAJOR),
      PATH: `${node.bin}:${toolsBin}:${process.env.PATH}`,
      YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
    };
    log(`Node ${node.version}, yarn bootstrap ${version}`);
  });

  if (!reuse) await step(`create the app (npx ${CREATE_APP})`, () => {
    // The app name comes from BACKSTAGE_APP_NAME (create-app's non-interactive input). It
    // cannot fetch its yarn.lock seed from GitHub here: it warns and goes on.
    env.BACKSTAGE_APP_NAME = 'oc-e2e-app';
    run('npx', ['-y', CREATE_APP, '--path', app, '--skip-install'], { cwd: work, timeout: LIMITS.createApp });
  });

  if (!reuse) await step('yarn install (the whole app)', () => run('yarn', ['install'], { timeout: LIMITS.install }));

  await step('install this package into packages/backend', () => {
    run('yarn', ['workspace', 'backend', 'add', `${PKG.name}@file:${tarball}`], { timeout: LIMITS.add });
    const index = join(app, 'packages', 'backend', 'src', 'index.ts');
    let src = readFileSync(index, 'utf8');
    for (const drop of TEMPLATE_LINES_DROPPED) src = src.replace(`${drop}\n`, '');
    const anchor = "backend.add(import('@backstage/plugin-catalog-backend'));";
    const line = `backend.add(import('${PKG.name}'));`;
    if (!src.includes(anchor)) fail(`packages/backend/src/index.ts has no '${anchor}' line to add ours after`);
    writeFileSync(index, src.includes(line) ? src : src.replace(anchor, `${anchor}\n${line}`));
  });

  const versions = await step('one copy of each Backstage core package (yarn why)', () =>
    coreVersions(CORE_PACKAGES, pkg => capture('yarn', ['why', pkg, '--json'], { timeout: 3 * MINUTE })),
  );

  const standIn = await step('start the OpenChoreo stand-in', async () => {
    const bin = join(root, 'target', 'release', 'mock-openchoreo');
    let url;
    startProcess('the stand-in', bin, ['--port', '0', ...STAND_IN_ARGS], {
      cwd: root,
      logFile: join(work, 'stand-in.log'),
      onLine: line => {
        url ??= line.match(/listening on (http:\/\/\S+)/)?.[1];
      },
    });
    return waitFor('the stand-in listening', 30_000, async () => url, 100);
  });

  const port = await freePort();
  const backendUrl = `http://127.0.0.1:${port}`;
  const backendLog = join(work, 'backend.log');
  await step('write app-config.e2e.yaml, start the backend', async () => {
    const pg = {
      host: PG_URL.hostname,
      port: Number(PG_URL.port || 5432),
      user: decodeURIComponent(PG_URL.username || 'postgres'),
      ...(PG_URL.password ? { password: '${E2E_PG_PASSWORD}' } : {}),
    };
    // JSON is YAML. Secrets stay in the environment, out of the file and the log.
    const config = {
      backend: {
        baseUrl: `http://localhost:${port}`,
        listen: { port },
        // Each plugin gets a database of its own, `<prefix><pluginId>` (Backstage's
        // default division); the prefix makes them this run's alone.
        database: { client: 'pg', prefix: dbPrefix, connection: pg },
        auth: {
          externalAccess: [
            {
              type: 'static',
              options: { token: '${E2E_EXTERNAL_TOKEN}', subject: 'e2e-ingestion-admin' },
              accessRestrictions: [{ plugin: 'catalog' }],
            },
          ],
        },
        reading: { allow: [{ host: new URL(standIn).host }] },
      },
      openchoreo: {
        baseUrl: standIn,
        incremental: { burstLength: 2, burstInterval: 3, restLength: 30, chunkSize: 20, consistencyCheck: false },
      },
    };
    writeFileSync(join(app, 'app-config.e2e.yaml'), `# written by scripts/e2e-app.mjs\n${JSON.stringify(config, null, 2)}\n`);
    env.E2E_EXTERNAL_TOKEN = token;
    if (PG_URL.password) env.E2E_PG_PASSWORD = decodeURIComponent(PG_URL.password);
    startProcess(
      'the backend',
      'yarn',
      ['workspace', 'backend', 'start', '--config', join(app, 'app-config.yaml'), '--config', join(app, 'app-config.e2e.yaml')],
      {
        cwd: app,
        logFile: backendLog,
        onLine: text => {
          // eslint-disable-next-line no-control-regex
          const m = text.replace(/\x1b\[[0-9;]*m/g, '').match(/Backend startup failed[^\n]*(\n[^\n]*)?/);
          if (m) startupFailure ??= m[0].trim();
        },
      },
    );
    await waitFor('the backend answering /api/catalog/incremental/health', LIMITS.backendUp, async () => {
      const r = await http('GET', `${backendUrl}/api/catalog/incremental/health`);
      return r.status === 200 ? r : undefined;
    }, 2000);
  });

  const base = `${backendUrl}/api/catalog/incremental/providers/${PROVIDER}`;
  await step('management routes: static token yes, no token no', async () => {
    const problems = [];
    const expect = async (what, method, url, auth, ok) => {
      const r = await http(method, url, { auth });
      const pass = ok(r.status);
      log(`${pass ? 'ok  ' : 'FAIL'} ${method} ${url.slice(backendUrl.length)} ${what}: ${r.status}`);
      if (!pass) problems.push(`${method} ${url} ${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      return r;
    };
    const refused = s => s === 401 || s === 403;
    const okay = s => s >= 200 && s < 300;
    await expect('without a token', 'GET', `${base}/status`, undefined, refused);
    await expect('with a wrong token', 'GET', `${base}/status`, `x${token}`, refused);
    await expect('without a token', 'POST', `${base}/refresh`, undefined, refused);
    await expect('without a token', 'GET', `${backendUrl}/api/catalog/incremental/providers`, undefined, refused);
    await expect('with the static token', 'GET', `${backendUrl}/api/catalog/incremental/providers`, token, okay);
    const status = await expect('with the static token', 'GET', `${base}/status`, token, okay);
    if (okay(status.status) && typeof status.body !== 'object') problems.push(`status is not JSON: ${status.body}`);
    await expect('with the static token', 'POST', `${base}/refresh`, token, okay);
    if (problems.length) fail(problems.join('\n'));
  });

  await step('a completed ingestion cycle', () =>
    waitFor('a completed cycle', LIMITS.cycle, async () => {
      const { status, body } = await http('GET', `${base}/status`, { auth: token });
      if (status !== 200) fail(`status: ${status}`);
      if (body.lastCompletedCycle) {
        log(`cycle complete: ${JSON.stringify(body.lastCompletedCycle)}`);
        return body;
      }
      await http('POST', `${base}/refresh`, { auth: token });
      return undefined;
    }, 2000),
  );

  await step('entities of every kind in the catalog', async () => {
    const want = await expectedEntities(standIn);
    const totalWanted = want.refs.size + [...want.apis.values()].reduce((a, b) => a + b, 0);
    const ours = e => {
      const a = e.metadata.annotations ?? {};
      const loc = a['backstage.io/managed-by-location'] ?? '';
      // Custom templates are read from the stand-in's URL; everything else is the provider's.
      return loc === `provider:${PROVIDER}` || loc.startsWith(`url:${standIn}/`);
    };
    let all = [];
    const list = async () => {
      const out = [];
      let cursor;
      for (let page = 0; page < 100; page++) {
        const q = cursor ? `cursor=${encodeURIComponent(cursor)}` : 'limit=500';
        const r = await http('GET', `${backendUrl}/api/catalog/entities/by-query?${q}`, { auth: token });
        if (r.status !== 200) fail(`catalog query: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
        out.push(...r.body.items);
        cursor = r.body.pageInfo?.nextCursor;
        if (!cursor) break;
      }
      return out;
    };
    await waitFor(`${totalWanted} OpenChoreo entities in the catalog`, LIMITS.entities, async () => {
      all = await list();
      return all.filter(ours).length >= totalWanted ? true : undefined;
    }, 3000).catch(e => log(e.message));
    const mine = all.filter(ours);
    const { problems, byKind } = compare(want, mine);
    log(`kind                                      stand-in  catalog`);
    for (const [kind, { want: w, got }] of [...byKind].sort()) {
      log(`${w === got ? '  ' : '! '}${kind.padEnd(40)} ${String(w).padStart(8)} ${String(got).padStart(8)}`);
    }
    log(`${byKind.size} kinds, ${mine.length} OpenChoreo entities; the app's own (examples): ${all.length - mine.length}`);
    if (byKind.size !== 25) problems.push(`expected 25 kinds, saw ${byKind.size}`);
    if (problems.length) fail(problems.join('\n'));
  });

  await step("the engine's tables in the catalog plugin's database", () => {
    const catalogDb = `${dbPrefix}catalog`;
    const tables = psql(catalogDb, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1");
    const engine = tables.filter(t => t.startsWith('oc_ingest_'));
    log(`${catalogDb}: ${engine.length} oc_ingest_* tables (${engine.join(', ')}), catalog's final_entities: ${tables.includes('final_entities')}`);
    if (!engine.length) fail(`no oc_ingest_* table in ${catalogDb}`);
    if (!tables.includes('final_entities')) fail(`${catalogDb} is not the catalog plugin's database (no final_entities)`);
    const elsewhere = psql('postgres', `SELECT datname FROM pg_database WHERE datname LIKE '${dbPrefix}%' AND datname <> '${catalogDb}' ORDER BY 1`).filter(
      db => psql(db, "SELECT 1 FROM pg_tables WHERE tablename LIKE 'oc\\_ingest\\_%' LIMIT 1").length,
    );
    if (elsewhere.length) fail(`oc_ingest_* tables also in ${elsewhere.join(', ')}`);
  });

  // Last, so that the runtime checks above report even while two copies are resolved.
  // The app's own template may resolve two versions of a package among its plugins (on
  // 2026-12-03 its auth backend still had catalog-node 2.2.5 beside the catalog's 3.0.0:
  // reported, not this package's doing). This package must add no version the app does
  // not resolve anyway, and where the version decides whether plugins meet at all (the
  // service refs and extension points it uses), it must resolve the very version of the
  // package that provides them: the catalog's catalog-node, backend-defaults'
  // backend-plugin-api.
  await step('report: Backstage core packages', () => {
    const problems = [];
    for (const [pkg, v] of Object.entries(versions)) {
      const list = Object.entries(v).map(([ver, by]) => `${ver} (${by.slice(0, 4).join(', ')}${by.length > 4 ? ', ...' : ''})`);
      const resolvedBy = dependent => Object.entries(v).filter(([, by]) => by.includes(dependent)).map(([ver]) => ver);
      const ours = resolvedBy(PKG.name);
      const theirs = Object.entries(v).filter(([, by]) => by.some(d => d !== PKG.name)).map(([ver]) => ver);
      const added = theirs.length ? ours.filter(ver => !theirs.includes(ver)) : [];
      const anchor = SAME_AS[pkg];
      const apart = anchor ? ours.filter(ver => !resolvedBy(anchor).includes(ver)) : [];
      if (added.length) problems.push(`${pkg}: this package adds ${added.join(', ')} beside the app's ${theirs.join(', ')}`);
      if (apart.length) problems.push(`${pkg}: this package has ${apart.join(', ')}, ${anchor} has ${resolvedBy(anchor).join(', ') || 'none'}`);
      const verdict = added.length || apart.length ? 'FAIL' : Object.keys(v).length === 1 ? 'ok  ' : "ok (the app's own pair)";
      log(`${verdict} ${pkg}: ${list.join('; ') || 'not resolved'}`);
    }
    if (problems.length) fail(`Backstage packages this package resolves apart from the app: ${problems.join('; ')}`);
  });

  log(`passed in ${secs(Date.now() - total)}`);
}

async function cleanup() {
  phase = 'cleanup';
  for (const c of [...children].reverse()) await stopProcess(c);
  try {
    for (const db of psql('postgres', `SELECT datname FROM pg_database WHERE datname LIKE '${dbPrefix}%'`)) {
      psql('postgres', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    }
    log(`dropped the ${dbPrefix}* databases`);
  } catch (e) {
    log(`could not drop the ${dbPrefix}* databases: ${e.message}`);
  }
  if (failed) {
    mkdirSync(logDir, { recursive: true });
    for (const f of ['backend.log', 'stand-in.log']) {
      try {
        copyFileSync(join(work, f), join(logDir, f));
      } catch {
        // not started
      }
    }
    log(`logs kept in ${logDir}`);
  }
  if (process.env.E2E_KEEP) log(`app kept in ${app}`);
  else rmSync(work, { recursive: true, force: true });
}

function printTimings() {
  log('timings:');
  for (const [name, ms] of timings) log(`  ${secs(ms).padStart(9)}  ${name}`);
}

const watchdog = setTimeout(async () => {
  failed = true;
  console.error(`[e2e:app] FAILED: the whole run exceeded ${secs(LIMITS.total)} (in: ${phase})`);
  await cleanup();
  printTimings();
  process.exit(1);
}, LIMITS.total);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    failed = true;
    await cleanup();
    process.exit(130);
  });
}

try {
  await main();
} catch (e) {
  failed = true;
  console.error(`[e2e:app] FAILED in '${phase}':\n${e.message}`);
  if (!e.message.includes('more than one version')) console.error(e.stack?.split('\n').slice(1, 4).join('\n'));
}
clearTimeout(watchdog);
await cleanup();
printTimings();
process.exit(failed ? 1 : 0);
