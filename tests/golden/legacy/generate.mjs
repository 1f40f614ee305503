#!/usr/bin/env node
// Regenerates the legacy goldens: the entities the legacy OpenChoreo catalog module
// (openchoreo/backstage-plugins, plugins/catalog-backend-module-openchoreo) emits, produced
// by RUNNING its OpenChoreoEntityProvider against the stand-in server (mock-openchoreo).
//
//   node tests/golden/legacy/generate.mjs [case...]      (no case: all of them)
//
// Per case: <case>/input/*.json is the installation (one file per list, as the stand-in
// serves it), <case>/expected.json the legacy module's full mutation. See README.md.
// Needs: the legacy git mirror, the npm registry (first run), cargo. Writes scratch files
// under $LEGACY_SCRATCH (/tmp/oc-legacy), never inside the project except the case folders.

import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const MIRROR = process.env.LEGACY_MIRROR ?? '/work/.mirror/openchoreo+backstage-plugins/repo';
// The pinned legacy commit (the mirror's HEAD when these goldens were made).
const COMMIT = process.env.LEGACY_COMMIT ?? '6ccea2a436ac7a37c2d68792108664c99a1d1171';
const SCRATCH = process.env.LEGACY_SCRATCH ?? '/tmp/oc-legacy';
let MOCK_BIN; // set by main() from buildMock()
let MOCK_COMMIT;

// The legacy folders the provider's code lives in (the catalog module and its workspace deps).
const LEGACY_DIRS = [
  'plugins/catalog-backend-module-openchoreo',
  'plugins/openchoreo-common',
  'packages/openchoreo-auth',
  'packages/openchoreo-client-node',
];
const PROVIDER_TS = 'plugins/catalog-backend-module-openchoreo/src/provider/OpenChoreoEntityProvider.ts';

// Every list the legacy full run reads (OpenChoreoEntityProvider.runNew), by scope.
const NAMESPACED_LISTS = [
  'projects', 'components', 'workloads', 'environments',
  'observabilityalertsnotificationchannels', 'dataplanes', 'workflowplanes',
  'observabilityplanes', 'deploymentpipelines', 'componenttypes', 'traits',
  'resourcetypes', 'projecttypes', 'resources', 'workflows',
];
const CLUSTER_LISTS = [
  'clustercomponenttypes', 'clusterresourcetypes', 'clusterprojecttypes', 'clustertraits',
  'clusterworkflows', 'clusterdataplanes', 'clusterobservabilityplanes', 'clusterworkflowplanes',
];
// Lists whose items the legacy asks `/schema` of.
const SCHEMA_LISTS = new Set(['componenttypes', 'resourcetypes', 'clustercomponenttypes', 'clusterresourcetypes']);
// The legacy's UrlReader here: a custom-template URL is read from <case>/input/templates/<basename>.
const TEMPLATE_URL_BASE = 'https://templates.example.invalid/';

// Small synthetic installations (the flags of mock-openchoreo), and the hand-written edge case.
const SMALL = ['--namespaces', '2', '--projects', '2', '--components', '2'];
const CASES = {
  'seed-1': { mockArgs: [...SMALL, '--endpoints', '2', '--dependencies', '1', '--schema-share', '0.5', '--seed', '1'] },
  'seed-2': { mockArgs: [...SMALL, '--endpoints', '3', '--dependencies', '2', '--schema-share', '0.34', '--seed', '2'] },
  'seed-3': { mockArgs: [...SMALL, '--endpoints', '1', '--dependencies', '1', '--schema-share', '1', '--seed', '3'] },
  edge: { fromInput: true },
};

const log = (...a) => console.error('[legacy-golden]', ...a);

// ---------------------------------------------------------------- legacy bundle

/** Exports the pinned legacy folders, installs the bundle's npm deps, bundles the provider. */
function prepareLegacyBundle() {
  const dir = path.join(SCRATCH, COMMIT.slice(0, 12));
  const bundle = path.join(dir, 'bundle.cjs');
  const pkgText = fs.readFileSync(path.join(HERE, 'package.json'), 'utf8');
  const stamp = crypto.createHash('sha256').update(pkgText + COMMIT).digest('hex');
  const stampFile = path.join(dir, '.stamp');
  if (fs.existsSync(bundle) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
    return dir;
  }
  log(`exporting legacy ${COMMIT} from ${MIRROR} into ${dir}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  const tar = path.join(dir, 'legacy.tar');
  execFileSync('git', ['-C', MIRROR, 'archive', '-o', tar, COMMIT, ...LEGACY_DIRS], { stdio: 'inherit' });
  execFileSync('tar', ['-xf', tar, '-C', path.join(dir, 'src')], { stdio: 'inherit' });
  fs.rmSync(tar);

  log('installing the bundle\'s npm packages (npm registry)');
  fs.writeFileSync(path.join(dir, 'package.json'), pkgText);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });

  // The workspace packages, by the names their own package.json files give them.
  const aliases = {};
  for (const d of LEGACY_DIRS.slice(1)) {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'src', d, 'package.json'), 'utf8'));
    aliases[pkg.name] = path.join(dir, 'src', d, pkg.main ?? 'src/index.ts');
  }
  log('bundling OpenChoreoEntityProvider with esbuild; workspace aliases:', Object.keys(aliases).join(', '));
  const req = createRequire(path.join(dir, 'package.json'));
  const esbuild = req('esbuild');
  const deps = new Set(Object.keys(JSON.parse(pkgText).dependencies));
  return esbuild
    .build({
      stdin: {
        contents: `export { OpenChoreoEntityProvider } from ${JSON.stringify(path.join(dir, 'src', PROVIDER_TS))};`,
        resolveDir: dir,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: bundle,
      logLevel: 'warning',
      plugins: [{
        name: 'legacy-workspace',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, a => {
            if (aliases[a.path]) return { path: aliases[a.path] };
            return { path: a.path, external: true };
          });
        },
      }],
    })
    .then(() => {
      // Type-only imports vanish from the output; what is left must be installed.
      const text = fs.readFileSync(bundle, 'utf8');
      const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map(m => m[1])
        .filter(p => !p.startsWith('node:') && !isBuiltin(p));
      const missing = required.filter(p => !deps.has(pkgName(p)));
      if (missing.length) {
        throw new Error(`the legacy bundle requires ${missing.join(', ')} at run time: add them to tests/golden/legacy/package.json`);
      }
      fs.writeFileSync(stampFile, stamp);
      return dir;
    });
}

function isBuiltin(p) {
  return builtinModules.includes(p.split('/')[0]);
}
function pkgName(p) {
  const parts = p.split('/');
  return p.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

// ---------------------------------------------------------------- stand-in server

/**
 * Builds mock-openchoreo from the project's committed HEAD (exported under the scratch dir,
 * so another helper's edits in progress cannot break or change the run); returns the binary
 * and the commit it was built from. MOCK_FROM=worktree builds the working tree instead;
 * MOCK_OPENCHOREO_BIN uses a ready binary.
 */
function buildMock() {
  if (process.env.MOCK_OPENCHOREO_BIN) return { bin: process.env.MOCK_OPENCHOREO_BIN, commit: 'prebuilt' };
  if (process.env.MOCK_FROM === 'worktree') {
    log('cargo build --release -p mock-openchoreo (working tree)');
    execFileSync('cargo', ['build', '--release', '-p', 'mock-openchoreo'], { cwd: ROOT, stdio: 'inherit' });
    return { bin: path.join(ROOT, 'target/release/mock-openchoreo'), commit: 'worktree' };
  }
  const commit = execFileSync('git', ['-C', ROOT, 'log', '-1', '--format=%H', '--', 'mock-openchoreo'], { encoding: 'utf8' }).trim();
  const head = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const src = path.join(SCRATCH, 'mock-src');
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  const tar = path.join(SCRATCH, 'mock-src.tar');
  execFileSync('git', ['-C', ROOT, 'archive', '-o', tar, head]);
  execFileSync('tar', ['-xf', tar, '-C', src]);
  fs.rmSync(tar);
  const target = path.join(SCRATCH, 'mock-target');
  log(`cargo build --release -p mock-openchoreo (committed HEAD ${head.slice(0, 12)}, target ${target})`);
  execFileSync('cargo', ['build', '--release', '-p', 'mock-openchoreo'], {
    cwd: src, stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: target },
  });
  return { bin: path.join(target, 'release/mock-openchoreo'), commit };
}

/** Starts mock-openchoreo; resolves { url, stop } once it prints its ready line. */
function startMock(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(MOCK_BIN, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.on('error', reject);
    child.on('exit', code => reject(new Error(`mock-openchoreo exited (${code}) before ready: ${out}`)));
    child.stdout.on('data', d => {
      out += d;
      const m = out.match(/http:\/\/[^\s)]+/);
      if (m) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({
          url: m[0].replace(/\/$/, ''),
          stop: () => new Promise(r => { child.removeAllListeners('exit'); child.on('exit', r); child.kill('SIGTERM'); }),
        });
      }
    });
  });
}

async function getJson(url) {
  const res = await fetch(url);
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body };
}

/** Every item of a cursor-paged list, or null when the list is not served (404). */
async function listAll(url) {
  const items = [];
  let cursor;
  do {
    const u = new URL(url);
    u.searchParams.set('limit', '100');
    if (cursor) u.searchParams.set('cursor', cursor);
    const { status, body } = await getJson(u);
    if (status === 404) return null;
    if (status !== 200) throw new Error(`GET ${u.pathname}${u.search}: ${status} ${JSON.stringify(body)}`);
    items.push(...body.items);
    cursor = body.pagination?.nextCursor;
  } while (cursor);
  return items;
}

/** Dumps every list the legacy reads, and the /schema answers, as the input files. */
async function dumpInstallation(base) {
  const lists = {};
  const namespaces = await listAll(`${base}/api/v1/namespaces`);
  lists.namespaces = namespaces;
  for (const plural of NAMESPACED_LISTS) {
    let all = [];
    let served = false;
    for (const ns of namespaces) {
      const items = await listAll(`${base}/api/v1/namespaces/${encodeURIComponent(ns.metadata.name)}/${plural}`);
      if (items === null) continue;
      served = true;
      all.push(...items.map(it => withNamespace(it, ns.metadata.name)));
    }
    if (served) lists[plural] = all;
  }
  for (const plural of CLUSTER_LISTS) {
    const items = await listAll(`${base}/api/v1/${plural}`);
    if (items !== null) lists[plural] = items;
  }
  const schemas = {};
  for (const [plural, items] of Object.entries(lists)) {
    if (!SCHEMA_LISTS.has(plural)) continue;
    for (const it of items) {
      const p = schemaPath(plural, it);
      const { status, body } = await getJson(base + p);
      if (status === 200) schemas[p] = body;
    }
  }
  return { lists, schemas };
}

function withNamespace(item, ns) {
  if (item?.metadata?.namespace) return item;
  return { ...item, metadata: { ...item.metadata, namespace: ns } };
}

function schemaPath(plural, item) {
  const name = encodeURIComponent(item.metadata.name);
  return CLUSTER_LISTS.includes(plural)
    ? `/api/v1/${plural}/${name}/schema`
    : `/api/v1/namespaces/${encodeURIComponent(item.metadata.namespace)}/${plural}/${name}/schema`;
}

// ---------------------------------------------------------------- loading a case's input

function readInput(caseDir) {
  const inputDir = path.join(caseDir, 'input');
  const lists = {};
  for (const plural of ['namespaces', ...NAMESPACED_LISTS, ...CLUSTER_LISTS]) {
    const f = path.join(inputDir, `${plural}.json`);
    if (fs.existsSync(f)) lists[plural] = JSON.parse(fs.readFileSync(f, 'utf8'));
  }
  const sf = path.join(inputDir, 'schemas.json');
  const schemas = fs.existsSync(sf) ? JSON.parse(fs.readFileSync(sf, 'utf8')) : {};
  return { lists, schemas };
}

async function send(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/**
 * Loads the input into an empty stand-in through its admin API, item by item. What the
 * stand-in refuses (a list or schema route it does not have) is reported and served by
 * the overlay instead, so the legacy still sees the whole input.
 */
async function loadInstallation(base, { lists, schemas }) {
  const overlay = new Set();
  for (const ns of lists.namespaces ?? []) {
    const r = await send('PUT', `${base}/admin/namespaces/${encodeURIComponent(ns.metadata.name)}`, ns);
    if (r.status >= 300) throw new Error(`PUT namespace ${ns.metadata.name}: ${r.status} ${r.text}`);
  }
  for (const plural of NAMESPACED_LISTS) {
    for (const it of lists[plural] ?? []) {
      if (overlay.has(plural)) break;
      const ns = it.metadata?.namespace;
      const r = await send('PUT', `${base}/admin/namespaces/${encodeURIComponent(ns)}/${plural}/${encodeURIComponent(it.metadata.name)}`, it);
      if (r.status >= 300) { log(`stand-in refused ${plural} ${ns}/${it.metadata.name}: ${r.status} ${r.text}; the overlay serves ${plural}`); overlay.add(plural); }
    }
  }
  for (const plural of CLUSTER_LISTS) {
    for (const it of lists[plural] ?? []) {
      if (overlay.has(plural)) break;
      const r = await send('PUT', `${base}/admin/${plural}/${encodeURIComponent(it.metadata.name)}`, it);
      if (r.status >= 300) { log(`stand-in refused ${plural} ${it.metadata.name}: ${r.status} ${r.text}; the overlay serves ${plural}`); overlay.add(plural); }
    }
  }
  const overlaySchemas = {};
  for (const [p, body] of Object.entries(schemas)) {
    const r = await send('PUT', `${base}/admin/schemas${p}`, body);
    if (r.status >= 300) overlaySchemas[p] = body;
  }
  if (Object.keys(overlaySchemas).length) log(`the overlay serves ${Object.keys(overlaySchemas).length} /schema answers`);
  return { overlay, overlaySchemas };
}

/**
 * A proxy in front of the stand-in that serves, from the input files, the lists and
 * /schema answers the stand-in could not take (paged like the stand-in: sorted by name,
 * limit default 20, clamp 1..100, `?project=` / `?component=` filters).
 */
function startOverlay(target, lists, { overlay, overlaySchemas }) {
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    const m = u.pathname.match(/^\/api\/v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)$/);
    if (req.method === 'GET' && m && overlay.has(m[2])) {
      const ns = m[1] && decodeURIComponent(m[1]);
      let items = (lists[m[2]] ?? []).filter(it => !ns || it.metadata?.namespace === ns);
      const project = u.searchParams.get('project');
      const component = u.searchParams.get('component');
      if (m[2] === 'components' && project) items = items.filter(it => it.spec?.owner?.projectName === project);
      if (m[2] === 'workloads' && component) items = items.filter(it => it.spec?.owner?.componentName === component);
      items = [...items].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
      const limit = Math.min(100, Math.max(1, Number(u.searchParams.get('limit') ?? 20) || 20));
      const from = Number(u.searchParams.get('cursor') ?? 0);
      const page = items.slice(from, from + limit);
      const pagination = from + limit < items.length ? { nextCursor: String(from + limit) } : {};
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ items: page, pagination }));
    }
    const upstream = await fetch(target + req.url, { method: req.method, headers: { authorization: req.headers.authorization ?? '' } });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (upstream.status === 404 && overlaySchemas[u.pathname] !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(overlaySchemas[u.pathname]));
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise(r => server.close(r)),
  })));
}

// ---------------------------------------------------------------- the legacy run

/** Runs the legacy provider's scheduled task once; returns its one `full` mutation and its log. */
async function runLegacy(bundleDir, baseUrl, caseDir) {
  const req = createRequire(path.join(bundleDir, 'package.json'));
  const { OpenChoreoEntityProvider } = req('./bundle.cjs');
  const { ConfigReader } = req('@backstage/config');
  const logLines = [];
  const logger = {
    child: () => logger,
    debug: () => {},
    info: () => {},
    warn: (msg, meta) => logLines.push({ level: 'warn', message: String(msg), ...(meta ? { meta } : {}) }),
    error: (msg, meta) => logLines.push({ level: 'error', message: String(msg), ...(meta ? { meta } : {}) }),
  };
  // What module.ts gives the constructor: a task runner (scheduler.createScheduledTaskRunner),
  // the logger, the root config, a token service (none: no credentials, no token), events
  // (none: poll-only), catalogService and auth (only used by the event path), a UrlReader.
  let task;
  const taskRunner = { run: async t => { task = t; } };
  const urlReader = {
    readUrl: async url => {
      const file = url.startsWith(TEMPLATE_URL_BASE)
        ? path.join(caseDir, 'input', 'templates', path.basename(new URL(url).pathname))
        : null;
      if (!file || !fs.existsSync(file)) {
        const e = new Error(`NotFoundError: ${url} not found`);
        e.name = 'NotFoundError';
        throw e;
      }
      const buf = fs.readFileSync(file);
      return { buffer: async () => buf, etag: undefined };
    },
  };
  const config = new ConfigReader({ openchoreo: { baseUrl } });
  const provider = new OpenChoreoEntityProvider(taskRunner, logger, config, undefined, undefined, undefined, undefined, urlReader);
  const mutations = [];
  await provider.connect({
    applyMutation: async m => { mutations.push(m); },
    refresh: async () => {},
  });
  if (!task) throw new Error('the legacy provider scheduled no task');
  await task.fn(new AbortController().signal);
  if (mutations.length !== 1 || mutations[0].type !== 'full') {
    throw new Error(`the legacy run applied ${mutations.length} mutation(s) (${mutations.map(m => m.type)}), not one full one; log: ${JSON.stringify(logLines)}`);
  }
  const clean = s => s.split(baseUrl).join('<baseUrl>');
  return { mutation: mutations[0], log: logLines.map(l => ({ ...l, message: clean(l.message) })) };
}

function entityRef(e) {
  return `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();
}

// ---------------------------------------------------------------- cases

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

async function runCase(name, spec, bundleDir) {
  const caseDir = path.join(HERE, name);
  const started = Date.now();
  let mock;
  let overlay;
  let source;
  let overlaid = [];
  try {
    if (spec.fromInput) {
      const input = readInput(caseDir);
      mock = await startMock(['--namespaces', '0']);
      const refused = await loadInstallation(mock.url, input);
      overlay = await startOverlay(mock.url, input.lists, refused);
      overlaid = [...refused.overlay, ...Object.keys(refused.overlaySchemas).map(p => `schema ${p}`)];
      source = { loadedFrom: `tests/golden/legacy/${name}/input` };
    } else {
      mock = await startMock(spec.mockArgs);
      const { lists, schemas } = await dumpInstallation(mock.url);
      const inputDir = path.join(caseDir, 'input');
      fs.rmSync(inputDir, { recursive: true, force: true });
      for (const [plural, items] of Object.entries(lists)) writeJson(path.join(inputDir, `${plural}.json`), items);
      writeJson(path.join(inputDir, 'schemas.json'), schemas);
      source = { mockArgs: spec.mockArgs };
    }
    const baseUrl = (overlay ?? mock).url;
    const { mutation, log: legacyLog } = await runLegacy(bundleDir, baseUrl, caseDir);
    const keys = new Set(mutation.entities.map(d => d.locationKey));
    if (keys.size > 1) throw new Error(`several location keys: ${[...keys]}`);
    const entities = mutation.entities.map(d => d.entity)
      .sort((a, b) => (entityRef(a) < entityRef(b) ? -1 : entityRef(a) > entityRef(b) ? 1 : 0));
    writeJson(path.join(caseDir, 'expected.json'), {
      legacyCommit: COMMIT,
      mockCommit: MOCK_COMMIT,
      source,
      servedByOverlay: overlaid,
      locationKey: [...keys][0] ?? 'provider:OpenChoreoEntityProvider',
      legacyLog,
      entities,
    });
    const kinds = {};
    for (const e of entities) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    log(`${name}: ${entities.length} entities ${JSON.stringify(kinds)}, ${legacyLog.length} warnings/errors, ${Date.now() - started} ms`);
  } finally {
    await overlay?.stop();
    await mock?.stop();
  }
}

async function main() {
  const wanted = process.argv.slice(2);
  for (const c of wanted) if (!CASES[c]) throw new Error(`unknown case ${c}; cases: ${Object.keys(CASES).join(', ')}`);
  const names = wanted.length ? wanted : Object.keys(CASES);
  const bundleDir = await prepareLegacyBundle();
  ({ bin: MOCK_BIN, commit: MOCK_COMMIT } = buildMock());
  for (const name of names) await runCase(name, CASES[name], bundleDir);
}

main().catch(e => { console.error(e); process.exit(1); });
