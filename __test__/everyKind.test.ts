// Every kind end to end: the stand-in with every platform kind (its small installation,
// custom templates served by itself), the real catalog with Backstage's scaffolder entity
// model (kind Template), this module and the real addon. What the catalog must hold is
// read from the stand-in's own lists, never from our engine.
import request from 'supertest';
import scaffolderEntityModel from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import { MockOpenChoreo, type ApiItem } from './support/mock';
import platformKinds from '../tests/fixtures/platform-kinds.json';
import {
  catalogEntities,
  entityRef,
  openChoreoConfig,
  startCatalog,
  waitFor,
  type CatalogEntity,
  type TestCatalog,
} from './support/backend';

const PROVIDER = 'OpenChoreoEntityProvider';
const base = `/api/catalog/incremental/providers/${PROVIDER}`;
const CLUSTER = 'openchoreo-cluster';

/**
 * The Backstage kind each platform list becomes, and the name prefix of the scaffolder
 * Template a type list also makes (the legacy module's mapping, legacy-provider.md 0.3);
 * shared with the benchmark and the real-app end-to-end check (scripts/e2e/expected.mjs).
 */
const PLATFORM: Record<string, { kind: string; template?: string }> = Object.fromEntries(
  platformKinds.lists.map(({ plural, kind, template }) => [plural, { kind, template }]),
);
/** Lists that make no entity of their own (workloads become their component's APIs). */
const BASIC = new Set(['projects', 'components', 'workloads']);

const ref = (kind: string, ns: string, name: string) => `${kind}:${ns}/${name}`.toLowerCase();

/** A reference the stand-in writes as a bare name or as `{kind?, name}`. */
function named(value: unknown): { kind?: string; name: string } | undefined {
  if (typeof value === 'string' && value) return { name: value };
  if (value && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string') {
    return value as { kind?: string; name: string };
  }
  return undefined;
}

interface Relation {
  source: string;
  type: string;
  target: string;
  inverse: string;
}

/** What the stand-in's data says the catalog must hold. */
interface Expected {
  /** Every entity ref except APIs, with its kind. */
  refs: Map<string, string>;
  /** APIs per namespace (the stand-in's endpoints with a schema). */
  apis: Map<string, number>;
  /** Relations the processors derive from the items' references. */
  relations: Relation[];
  /** Templates of types that name their own template URL. */
  customTemplates: string[];
}

async function expected(mock: MockOpenChoreo): Promise<Expected> {
  const kinds = await mock.kinds();
  // A kind the stand-in serves that this table does not know fails here, not silently.
  expect(kinds.map(k => k.plural).filter(p => !BASIC.has(p) && !PLATFORM[p])).toEqual([]);
  const out: Expected = { refs: new Map(), apis: new Map(), relations: [], customTemplates: [] };
  const add = (kind: string, ns: string, name: string) => out.refs.set(ref(kind, ns, name), kind);
  const relate = (source: string, type: string, target: string, inverse: string) =>
    out.relations.push({ source, type, target: target.toLowerCase(), inverse });

  const addPlatform = (plural: string, ns: string, items: ApiItem[]) => {
    const { kind, template } = PLATFORM[plural];
    for (const item of items) {
      add(kind, ns, item.metadata.name);
      if (template) add('Template', ns, `${template}${item.metadata.name}`);
      if (template && item.metadata.annotations?.['scaffolder.openchoreo.dev/backstage-template-url']) {
        out.customTemplates.push(ref('Template', ns, `${template}${item.metadata.name}`));
      }
    }
  };

  const summary = await mock.summary();
  const namespaces = await mock.listAll('namespaces');
  for (const { metadata } of namespaces) {
    const ns = metadata.name;
    add('Domain', 'default', ns);
    out.apis.set(ns, summary.byNamespace[ns].endpointsWithSchema);
    for (const { plural } of kinds.filter(k => k.scope === 'namespace' && !BASIC.has(k.plural))) {
      addPlatform(plural, ns, await mock.listAll(`namespaces/${ns}/${plural}`));
    }
    for (const p of await mock.listAll(`namespaces/${ns}/projects`)) {
      add('System', ns, p.metadata.name);
      const pipeline = named(p.spec?.deploymentPipelineRef);
      if (pipeline) {
        relate(ref('System', ns, p.metadata.name), 'usesPipeline', ref('DeploymentPipeline', ns, pipeline.name), 'pipelineUsedBy');
      }
    }
    for (const c of await mock.listAll(`namespaces/${ns}/components`)) {
      add('Component', ns, c.metadata.name);
      const type = named(c.spec?.componentType);
      if (type) {
        // `deployment/service` names the type `service`. Like the legacy processor, only
        // these four workload types are stripped: `proxy/x` stays a (dangling) `proxy/x`.
        const name = /^(?:deployment|statefulset|cronjob|job)\/(.+)$/.exec(type.name)?.[1] ?? type.name;
        const target = type.kind === 'ClusterComponentType' ? ref(type.kind, CLUSTER, name) : ref('ComponentType', ns, name);
        relate(ref('Component', ns, c.metadata.name), 'instanceOf', target, 'hasInstance');
      }
    }
    for (const e of await mock.listAll(`namespaces/${ns}/environments`)) {
      const plane = named(e.spec?.dataPlaneRef);
      if (plane) {
        const target = plane.kind === 'ClusterDataPlane' ? ref('ClusterDataplane', CLUSTER, plane.name) : ref('Dataplane', ns, plane.name);
        relate(ref('Environment', ns, e.metadata.name), 'hostedOn', target, 'hosts');
      }
    }
    for (const ch of await mock.listAll(`namespaces/${ns}/observabilityalertsnotificationchannels`)) {
      const env = named(ch.spec?.environment);
      if (env) {
        relate(ref('ObservabilityAlertsNotificationChannel', ns, ch.metadata.name), 'notifiedBy', ref('Environment', ns, env.name), 'notifies');
      }
    }
    for (const dp of await mock.listAll(`namespaces/${ns}/deploymentpipelines`)) {
      const envs = new Set<string>();
      for (const path of (dp.spec?.promotionPaths ?? []) as Array<Record<string, unknown>>) {
        const source = named(path.sourceEnvironmentRef);
        if (source) envs.add(source.name);
        for (const t of (path.targetEnvironmentRefs ?? []) as unknown[]) {
          const target = named(t);
          if (target) envs.add(target.name);
        }
      }
      for (const env of envs) {
        relate(ref('DeploymentPipeline', ns, dp.metadata.name), 'deploysTo', ref('Environment', ns, env), 'deployedBy');
      }
    }
  }
  for (const { plural } of kinds.filter(k => k.scope === 'cluster' && k.plural !== 'namespaces')) {
    addPlatform(plural, CLUSTER, await mock.listAll(plural));
  }
  return out;
}

describe('every kind the legacy module gives the catalog', () => {
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;
  let want: Expected;
  let entities: CatalogEntity[];

  beforeAll(async () => {
    // The stand-in's small installation (2 namespaces x 3 projects x 4 components) with
    // every platform kind at its default count.
    mock = await MockOpenChoreo.start(['--namespaces', '2', '--projects', '3', '--components', '4'], { everyKind: true });
    want = await expected(mock);
    const { host } = new URL(mock.url);
    catalog = await startCatalog({
      // The custom templates are read through Backstage's own UrlReader from the stand-in.
      config: { ...openChoreoConfig(mock.url, { chunkSize: 20 }), backend: { reading: { allow: [{ host }] } } },
      features: [scaffolderEntityModel],
    });
    // The test scheduler runs the task once at start-up: trigger bursts until a cycle has
    // completed, then wait for the catalog to stitch what it was given.
    await waitFor('a completed cycle', async () => {
      const status = (await request(catalog.server).get(`${base}/status`)).body;
      if (status.lastCompletedCycle) return status;
      await request(catalog.server).post(`${base}/refresh`);
      return undefined;
    });
    const total = want.refs.size + [...want.apis.values()].reduce((a, b) => a + b, 0);
    // Past the deadline the assertions below say which entities are missing.
    entities = await waitFor(
      `${total} entities in the catalog`,
      async () => {
        const list = await catalogEntities(catalog.server);
        return list.length >= total ? list : undefined;
      },
      { timeoutMs: 30000 },
    ).catch(() => catalogEntities(catalog.server));
  }, 180000);

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
  });

  it('derives expectations for all 25 Backstage kinds from the stand-in', () => {
    const kinds = new Set([...want.refs.values(), 'API']);
    expect(kinds.size).toBe(25);
    expect(want.customTemplates.length).toBeGreaterThan(0);
  });

  it('holds exactly the entities of every kind the stand-in serves', () => {
    const got = entities.filter(e => e.kind !== 'API').map(entityRef).sort();
    expect(got).toEqual([...want.refs.keys()].sort());
    const apis = new Map<string, number>();
    for (const e of entities.filter(e => e.kind === 'API')) {
      apis.set(e.metadata.namespace!, (apis.get(e.metadata.namespace!) ?? 0) + 1);
    }
    expect(apis).toEqual(want.apis);
  });

  it('processed every entity without errors', () => {
    const withErrors = entities
      .filter(e => (e.status?.items ?? []).some(i => i.level === 'error'))
      .map(e => `${entityRef(e)}: ${e.status!.items!.map(i => i.message).join('; ')}`);
    expect(withErrors).toEqual([]);
  });

  it('completed the custom templates from the URL their types name', () => {
    const byRef = new Map(entities.map(e => [entityRef(e), e]));
    for (const r of want.customTemplates) {
      const t = byRef.get(r)!;
      expect(t.metadata.title).toMatch(/\(authored\)$/);
      expect(t.metadata.annotations?.['openchoreo.io/ctd-generated']).toBe('false');
      expect(t.metadata.annotations?.['backstage.io/managed-by-location']).toMatch(/^url:http:\/\/127\.0\.0\.1:\d+\/templates\//);
    }
  });

  it('has the relations the OpenChoreo processors derive, both ways', () => {
    const byRef = new Map(entities.map(e => [entityRef(e), e]));
    const has = (source: string, type: string, target: string) =>
      (byRef.get(source)?.relations ?? []).some(r => r.type === type && r.targetRef === target);
    const missing: string[] = [];
    for (const { source, type, target, inverse } of want.relations) {
      if (!has(source, type, target)) missing.push(`${source} ${type} ${target}`);
      if (byRef.has(target) && !has(target, inverse, source)) missing.push(`${target} ${inverse} ${source}`);
    }
    expect(missing).toEqual([]);
    // Each rule was exercised, and mostly between entities that exist.
    const types = new Set(want.relations.map(r => r.type));
    expect([...types].sort()).toEqual(['deploysTo', 'hostedOn', 'instanceOf', 'notifiedBy', 'usesPipeline']);
    for (const type of types) {
      expect(want.relations.some(r => r.type === type && byRef.has(r.target))).toBe(true);
    }
  });
});
