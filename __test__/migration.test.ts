// Switching from the legacy full-refresh provider to this module, on a catalog database
// that survives the restart (SQLite files in a temporary directory).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { IngestionEngine, type TickReport } from '../js/src/native';
import { MockOpenChoreo } from './support/mock';
import {
  entityRef,
  openChoreoConfig,
  providerEntities,
  startCatalog,
  waitFor,
  type CatalogEntity,
} from './support/backend';

const PROVIDER = 'OpenChoreoEntityProvider';
const LOCATION_KEY = `provider:${PROVIDER}`;
const ERA = 'test.openchoreo.io/era';

/** What the legacy provider emitted: the same entities (the engine's translation matches it). */
async function legacyEntities(baseUrl: string): Promise<CatalogEntity[]> {
  const engine = await IngestionEngine.open({ baseUrl, databaseUrl: 'sqlite::memory:' });
  const out: CatalogEntity[] = [];
  try {
    let report: TickReport | undefined;
    for (let i = 0; i < 50 && !report?.cycleCompleted; i++) {
      report = await engine.tick(async json => {
        for (const a of JSON.parse(json).added) out.push(a.entity);
      });
      if (report.action === 'failed') throw new Error(report.error ?? 'burst failed');
    }
  } finally {
    await engine.close();
  }
  // Mark the legacy copies, to see the new module's versions replace them.
  return out.map(e => ({
    ...e,
    metadata: { ...e.metadata, annotations: { ...e.metadata.annotations, [ERA]: 'legacy' } },
  }));
}

/** A stand-in for the legacy provider: one `full` mutation under the same provider name. */
function legacyModule(entities: CatalogEntity[]) {
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: 'legacy-openchoreo',
    register(env) {
      env.registerInit({
        deps: { catalog: catalogProcessingExtensionPoint },
        async init({ catalog }) {
          catalog.addEntityProvider({
            getProviderName: () => PROVIDER,
            connect: async connection => {
              await connection.applyMutation({
                type: 'full',
                entities: entities.map(entity => ({ entity: entity as never, locationKey: LOCATION_KEY })),
              });
            },
          });
        },
      });
    },
  });
}

describe('switching from the legacy provider', () => {
  let mock: MockOpenChoreo;
  let dir: string;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '2', '--projects', '2', '--components', '3']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-migration-'));
  });

  afterAll(async () => {
    await mock?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every entity, without conflicts, and owns them afterwards', async () => {
    const database = { client: 'better-sqlite3', connection: { directory: dir } };
    const legacy = await legacyEntities(mock.url);
    const legacyRefs = legacy.map(e => entityRef(e as CatalogEntity)).sort();
    expect(legacyRefs.length).toBeGreaterThan(10);

    // 1. The legacy provider fills the catalog.
    const before = await startCatalog({
      config: { backend: { database } },
      withModule: false,
      features: [legacyModule(legacy) as never],
    });
    try {
      await waitFor('the legacy entities', async () => {
        const list = await providerEntities(before.server);
        return list.length === legacy.length ? list : undefined;
      });
    } finally {
      await before.stop();
    }

    // 2. The same catalog database, this module instead.
    const after = await startCatalog({ config: { backend: { database }, ...openChoreoConfig(mock.url) } });
    try {
      const taken = await waitFor('the new module to take every entity over', async () => {
        const list = await providerEntities(after.server);
        return list.length === legacy.length && list.every(e => !e.metadata.annotations?.[ERA]) ? list : undefined;
      });
      expect(taken.map(entityRef).sort()).toEqual(legacyRefs);
      for (const e of taken) {
        expect(e.metadata.annotations?.['backstage.io/managed-by-location']).toBe(LOCATION_KEY);
        expect((e.status?.items ?? []).filter(i => i.level === 'error')).toEqual([]);
      }

      // The engine's state lives in its own SQLite file next to the catalog's.
      expect(fs.existsSync(path.join(dir, 'catalog.sqlite'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'openchoreo-incremental.sqlite'))).toBe(true);

      // And it owns them: a component deleted in OpenChoreo now leaves the catalog.
      const [ns] = await mock.namespaces();
      const [victim] = await mock.names(ns, 'components');
      await mock.deleteComponent(ns, victim);
      const victimRef = `component:${ns}/${victim}`.toLowerCase();
      await waitFor('the deleted component to leave the catalog', async () => {
        await request(after.server).post(`/api/catalog/incremental/providers/${PROVIDER}/refresh`).expect(200);
        const list = await providerEntities(after.server);
        return list.some(e => entityRef(e) === victimRef) ? undefined : true;
      });
    } finally {
      await after.stop();
    }
  });

  // The engine's owned-refs table starts empty on a switch: before its first cycle the
  // module adopts the catalog's entities under the provider's location key, so an entity
  // the legacy provider emitted that is already gone from OpenChoreo is removed too.
  it('removes entities the legacy provider owned that no longer exist in OpenChoreo at switch time', async () => {
    // A catalog of its own (the first case left its database behind in `dir`).
    const database = { client: 'better-sqlite3', connection: { directory: fs.mkdtempSync(path.join(dir, 'adopt-')) } };
    const legacy = await legacyEntities(mock.url);

    // A component is deleted from OpenChoreo while the legacy provider is still in place:
    // its entities stay in the catalog until someone removes them.
    const [ns] = await mock.namespaces();
    const components = await mock.names(ns, 'components');
    const gone = components[components.length - 1];
    await mock.deleteComponent(ns, gone);
    const currentRefs = (await legacyEntities(mock.url)).map(entityRef).sort();
    const vanishedRefs = legacy.map(entityRef).filter(r => !currentRefs.includes(r));
    expect(vanishedRefs).toContain(`component:${ns}/${gone}`.toLowerCase());

    // Entities of a kind this module never emits (every kind the legacy provider emits is
    // adopted), under the same location key: they must survive the switch.
    const foreign: CatalogEntity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: {
        name: 'legacy-platform-team',
        namespace: 'default',
        annotations: {
          'backstage.io/managed-by-location': LOCATION_KEY,
          'backstage.io/managed-by-origin-location': LOCATION_KEY,
          [ERA]: 'legacy',
        },
      },
      spec: { type: 'team', children: [] },
    };
    const foreignRef = entityRef(foreign);

    // 1. The legacy provider fills the catalog, the vanished component included.
    const before = await startCatalog({
      config: { backend: { database } },
      withModule: false,
      features: [legacyModule([...legacy, foreign]) as never],
    });
    try {
      const list = await waitFor('the legacy entities', async () => {
        const list = await providerEntities(before.server);
        return list.length === legacy.length + 1 ? list : undefined;
      });
      expect(list.map(entityRef)).toEqual(expect.arrayContaining([...vanishedRefs, foreignRef]));
    } finally {
      await before.stop();
    }

    // 2. The same catalog database, this module instead.
    const after = await startCatalog({ config: { backend: { database }, ...openChoreoConfig(mock.url) } });
    try {
      const base = `/api/catalog/incremental/providers/${PROVIDER}`;
      const status = await waitFor('the first cycle to complete', async () => {
        const res = await request(after.server).get(`${base}/status`).expect(200);
        if (res.body.lastCompletedCycle) return res.body;
        await request(after.server).post(`${base}/refresh`).expect(200);
        return undefined;
      });
      expect(status.lastCompletedCycle.cycle).toBe(1);
      expect(status.lastCompletedCycle.removed).toBe(vanishedRefs.length);
      expect(status.rejectedRemoval).toBeNull();
      expect(status.ownedEntities).toBe(currentRefs.length);

      // The catalog processes the new versions in the background.
      const expected = [...currentRefs, foreignRef].sort();
      const isLegacy = (e: CatalogEntity) => e.metadata.annotations?.[ERA] === 'legacy';
      const list = await waitFor('the catalog to show the new versions', async () => {
        const list = await providerEntities(after.server);
        const done =
          list.length === expected.length && list.every(e => isLegacy(e) === (entityRef(e) === foreignRef));
        return done ? list : undefined;
      });
      const refs = list.map(entityRef).sort();
      expect(refs).toEqual(expected);
      for (const r of vanishedRefs) expect(refs).not.toContain(r);
      // The foreign entity is still the legacy provider's copy; the others are this module's.
      expect(list.filter(isLegacy).map(entityRef)).toEqual([foreignRef]);
      for (const e of list) {
        expect(e.metadata.annotations?.['backstage.io/managed-by-location']).toBe(LOCATION_KEY);
        expect((e.status?.items ?? []).filter(i => i.level === 'error')).toEqual([]);
      }
    } finally {
      await after.stop();
    }
  });
});
