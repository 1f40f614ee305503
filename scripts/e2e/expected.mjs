// What the catalog must hold after a cycle over the stand-in, read from the stand-in's own
// lists (never from our engine): the same derivation as __test__/everyKind.test.ts, which
// also checks relations and templates in depth; here refs and kinds are enough.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../ensure-built.mjs';

const PLATFORM = Object.fromEntries(
  JSON.parse(readFileSync(join(root, 'tests', 'fixtures', 'platform-kinds.json'), 'utf8')).lists.map(l => [l.plural, l]),
);
/** Lists that make no entity of their own (workloads become their component's APIs). */
const BASIC = new Set(['projects', 'components', 'workloads']);
const CLUSTER = 'openchoreo-cluster';

export const entityRef = e => `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Every item of an `/api/v1` list, all pages. */
async function listAll(base, list) {
  const items = [];
  let cursor;
  for (let page = 0; page < 1000; page++) {
    const body = await getJson(`${base}/api/v1/${list}${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...body.items);
    cursor = body.pagination?.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`GET /api/v1/${list}: more than 1000 pages`);
}

/**
 * `{ refs: Map<ref, kind>, apis: Map<namespace, count> }`: every entity except APIs by
 * ref, and the APIs per namespace (the stand-in's endpoints with a schema).
 */
export async function expectedEntities(standIn) {
  const kinds = await getJson(`${standIn}/admin/kinds`);
  const unknown = kinds.map(k => k.plural).filter(p => p !== 'namespaces' && !BASIC.has(p) && !PLATFORM[p]);
  if (unknown.length) throw new Error(`the stand-in serves lists platform-kinds.json does not map: ${unknown.join(', ')}`);
  const refs = new Map();
  const apis = new Map();
  const add = (kind, ns, name) => refs.set(`${kind}:${ns}/${name}`.toLowerCase(), kind);
  const addPlatform = (plural, ns, items) => {
    const { kind, template } = PLATFORM[plural];
    for (const item of items) {
      add(kind, ns, item.metadata.name);
      if (template) add('Template', ns, `${template}${item.metadata.name}`);
    }
  };
  const summary = await getJson(`${standIn}/admin/summary`);
  for (const { metadata } of await listAll(standIn, 'namespaces')) {
    const ns = metadata.name;
    add('Domain', 'default', ns);
    apis.set(ns, summary.byNamespace[ns].endpointsWithSchema);
    for (const { plural } of kinds.filter(k => k.scope === 'namespace' && !BASIC.has(k.plural))) {
      addPlatform(plural, ns, await listAll(standIn, `namespaces/${ns}/${plural}`));
    }
    for (const p of await listAll(standIn, `namespaces/${ns}/projects`)) add('System', ns, p.metadata.name);
    for (const c of await listAll(standIn, `namespaces/${ns}/components`)) add('Component', ns, c.metadata.name);
  }
  for (const { plural } of kinds.filter(k => k.scope === 'cluster' && k.plural !== 'namespaces')) {
    addPlatform(plural, CLUSTER, await listAll(standIn, plural));
  }
  return { refs, apis };
}

/**
 * Compares the catalog's entities (those the app's own file locations did not bring)
 * with the expectation: `{ problems: string[], byKind: Map<kind, {want, got}> }`.
 */
export function compare(want, entities) {
  const problems = [];
  const byKind = new Map();
  const count = (kind, field) => {
    const row = byKind.get(kind) ?? { want: 0, got: 0 };
    row[field]++;
    byKind.set(kind, row);
  };
  for (const kind of want.refs.values()) count(kind, 'want');
  for (const n of want.apis.values()) for (let i = 0; i < n; i++) count('API', 'want');
  const got = new Set();
  const apis = new Map();
  for (const e of entities) {
    count(e.kind, 'got');
    if (e.kind === 'API') apis.set(e.metadata.namespace, (apis.get(e.metadata.namespace) ?? 0) + 1);
    else got.add(entityRef(e));
    const errors = (e.status?.items ?? []).filter(i => i.level === 'error');
    if (errors.length) problems.push(`${entityRef(e)} has processing errors: ${errors.map(i => i.message).join('; ')}`);
  }
  const missing = [...want.refs.keys()].filter(r => !got.has(r));
  const extra = [...got].filter(r => !want.refs.has(r));
  if (missing.length) problems.push(`${missing.length} entities missing: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}`);
  if (extra.length) problems.push(`${extra.length} unexpected entities: ${extra.slice(0, 20).join(', ')}${extra.length > 20 ? ', ...' : ''}`);
  for (const [ns, n] of want.apis) {
    if ((apis.get(ns) ?? 0) !== n) problems.push(`namespace ${ns}: ${apis.get(ns) ?? 0} APIs, expected ${n}`);
  }
  for (const ns of apis.keys()) if (!want.apis.has(ns)) problems.push(`APIs in unexpected namespace ${ns}`);
  return { problems, byKind };
}
