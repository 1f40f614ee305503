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

  // The engine's owned-refs table starts empty on a switch: an entity that the legacy
  // provider emitted but that is already gone from OpenChoreo at switch time is not known
  // to the engine, so no cycle removes it (it needs an adoption step in the engine).
  it.todo('removes entities the legacy provider owned that no longer exist in OpenChoreo at switch time');
});
